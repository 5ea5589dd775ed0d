"""Markdown for `inspect`, fit for a pull-request comment (GitHub-flavoured).

A heading naming the image, one summary line (visible / shipped / dead / Python / bytecode /
cache), the top distributions and the layers as tables, then collapsible `<details>` sections
for site-packages, caches and stray wheels, bytecode health and problems. Tables use
tabulate's "pipe" format: GitHub-flavoured tables that keep the alignment colons, so sizes
are right-aligned. Every text cell is escaped; paths and instructions are code spans.
"""

from __future__ import annotations

from pyimgsize.render.advice_words import ROW_HEADERS
from pyimgsize.render.advice_words import rows as suggestion_rows
from pyimgsize.render.common import (
    ELLIPSIS,
    bytes_or_dash,
    count,
    dead_cell,
    dead_legend,
    installer_cell,
    layer_instruction,
    make_table,
    md_code,
    md_escape,
    more_packages_line,
    percent,
    short_id,
    site_packages_labels,
    source_label,
    top_packages,
)
from pyimgsize.render.options import SortKey
from pyimgsize.render.problems import problem_text
from pyimgsize.render.table import (
    CREATED_BY_WIDTH,
    MAX_PROBLEMS,
    NO_PYTHON,
    SUGGESTIONS_TOP,
    bytecode_health_rows,
)
from pyimgsize.report import CATEGORIES, Categories, InspectReport
from pyimgsize.units import format_bytes

_FMT = "pipe"


def _category_cells(categories: Categories) -> list[str]:
    return [format_bytes(int(getattr(categories, c))) for c in CATEGORIES]


def details(summary: str, body: str) -> str:
    """A collapsible GitHub section; the blank lines let markdown inside `body` render."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def _summary(report: InspectReport) -> str:
    image, totals = report.image, report.totals
    dead_pct = percent(totals.dead_bytes, image.layer_bytes)
    dead = format_bytes(totals.dead_bytes) + (f" ({dead_pct} of shipped)" if dead_pct else "")
    line = " · ".join(
        [
            f"**visible** {format_bytes(image.bytes)}",
            f"**shipped** {format_bytes(image.layer_bytes)}",
            f"**dead** {dead}",
            f"**Python** {format_bytes(totals.python_bytes)}",
            f"**bytecode** {format_bytes(totals.bytecode_bytes)}",
            f"**cache** {format_bytes(totals.cache_bytes)}",
        ]
    )
    about = [
        md_escape(source_label(image.source, image.read_via)),
        f"id {md_code(short_id(image.id))}",
        md_escape(image.platform or "platform unknown"),
        f"{count(len(report.layers))} layers",
        f"{count(image.files)} files",
    ]
    if image.compressed_bytes is not None:
        about.append(f"compressed {format_bytes(image.compressed_bytes)}")
    return f"### pyimgsize: {md_code(image.ref)}\n\n{line}\n\n<sub>{' · '.join(about)}</sub>"


def _packages(report: InspectReport, top: int, sort: SortKey) -> str:
    total = len(report.packages)
    if total == 0:
        return "#### Distributions\n\nnone"
    shown, hidden, hidden_bytes = top_packages(report.packages, top, sort)
    scope = f"top {len(shown)} of {total}" if hidden else f"{total}"
    labels = site_packages_labels(p.site_packages for p in report.packages)
    headers = ["name", "version", "installer", "bytes", "files", *CATEGORIES, "site-packages"]
    rows = [
        [
            md_escape(p.name),
            md_escape(p.version or "-"),
            md_escape(installer_cell(p)),
            format_bytes(p.bytes),
            count(p.files),
            *_category_cells(p.categories),
            md_code(labels[p.site_packages]),
        ]
        for p in shown
    ]
    table = make_table(headers, rows, right=range(3, 5 + len(CATEGORIES)), tablefmt=_FMT)
    text = f"#### Distributions ({scope}, by {sort.value})\n\n{table}"
    if hidden:
        text += "\n\n" + more_packages_line(hidden, hidden_bytes)
    return text


def _layers(report: InspectReport) -> str:
    if not report.layers:
        return "#### Layers\n\nnone"
    with_compressed = any(layer.compressed_bytes is not None for layer in report.layers)
    headers = ["#", "created by", "bytes", "Python", "dead"]
    if with_compressed:
        headers.append("compressed")
    rows: list[list[str]] = []
    for layer in report.layers:
        row = [
            str(layer.index),
            md_code(layer_instruction(layer.created_by, layer.comment, CREATED_BY_WIDTH)),
            format_bytes(layer.bytes),
            format_bytes(layer.python_bytes),
            dead_cell(layer.dead_bytes, layer.dead_categories),
        ]
        if with_compressed:
            row.append(bytes_or_dash(layer.compressed_bytes))
        rows.append(row)
    right = [0, 2, 3, 4] + ([5] if with_compressed else [])
    table = make_table(headers, rows, right=right, tablefmt=_FMT)
    legend = dead_legend(report.layers)
    note = f"\n\n{md_escape(legend)}" if legend is not None else ""
    return f"#### Layers ({len(report.layers)})\n\n{table}{note}"


def _site_packages(report: InspectReport) -> str:
    summary = f"Site-packages ({len(report.site_packages)})"
    if not report.site_packages:
        return details(summary, "none")
    headers = ["path", "kind", "bytes", "unowned", *CATEGORIES]
    rows = [
        [
            md_code(sp.path),
            md_escape(sp.kind),
            format_bytes(sp.bytes),
            format_bytes(sp.unowned_bytes),
            *_category_cells(sp.categories),
        ]
        for sp in report.site_packages
    ]
    return details(summary, make_table(headers, rows, right=range(2, len(headers)), tablefmt=_FMT))


def _caches(report: InspectReport) -> str:
    summary = (
        f"Caches and stray wheels ({len(report.caches)}): {format_bytes(report.totals.cache_bytes)}"
    )
    if not report.caches:
        return details(summary, "none")
    rows = [
        [md_code(c.path), c.kind, format_bytes(c.bytes), format_bytes(c.exclusive_bytes)]
        for c in report.caches
    ]
    table = make_table(["path", "kind", "bytes", "exclusive"], rows, right=(2, 3), tablefmt=_FMT)
    return details(summary, table)


def _bytecode(report: InspectReport) -> str | None:
    rows = bytecode_health_rows(report.bytecode)
    if not rows:
        return None
    rows = [[md_escape(label), *rest] for label, *rest in rows]
    interpreters = ", ".join(md_code(i) for i in report.bytecode.interpreters) or "none found"
    table = make_table(["check", "files", "bytes"], rows, right=(1, 2), tablefmt=_FMT)
    return details("Bytecode health", f"Interpreters: {interpreters}\n\n{table}")


def _problems(report: InspectReport, limit: int) -> str | None:
    problems = report.problems
    if not problems:
        return None
    shown = problems if limit <= 0 else problems[:limit]
    rows = [
        [
            md_escape(problem_text(p)),
            md_code(p.path) if p.path else "-",
            "-" if p.layer is None else str(p.layer),
        ]
        for p in shown
    ]
    body = make_table(["message", "path", "layer"], rows, right=(2,), tablefmt=_FMT)
    if len(shown) < len(problems):
        body += f"\n\n{ELLIPSIS} and {len(problems) - len(shown)} more"
    return details(f"Problems ({len(problems)})", body)


def _suggestions(report: InspectReport) -> str:
    shown = report.suggestions[:SUGGESTIONS_TOP]
    cells = [[*r[:3], md_code(r[3]), md_escape(r[4]), r[5]] for r in suggestion_rows(shown)]
    table = make_table(ROW_HEADERS, cells, right=(0, 1), tablefmt="pipe")
    total = format_bytes(sum(s.saves_bytes for s in report.suggestions))
    scope = (
        f" (top {len(shown)} of {len(report.suggestions)})"
        if len(shown) < len(report.suggestions)
        else ""
    )
    head = f"#### Suggestions{scope}: {total} together"
    return f"{head}\n\n{table}\n\n<sub>`pyimgsize advise` words each fix.</sub>"


def render_inspect_markdown(
    report: InspectReport,
    *,
    top: int = 20,
    sort: SortKey = SortKey.BYTES,
    max_problems: int = MAX_PROBLEMS,
) -> str:
    """The inspect report as GitHub-flavoured markdown (see the module docstring).

    `top` limits the distributions listed (`<= 0`: all), `sort` orders them; `max_problems`
    caps the problem list (`<= 0`: all), ending with "… and N more".
    """
    sections: list[str | None] = [_summary(report)]
    if report.python_found:
        sections.append(_packages(report, top, sort))
    else:
        sections.append(f"**{NO_PYTHON}**")
    sections.append(_layers(report))
    if report.suggestions:
        sections.append(_suggestions(report))
    if report.python_found:
        sections.append(_site_packages(report))
    if report.python_found or report.caches:
        sections.append(_caches(report))
    sections += [_bytecode(report), _problems(report, max_problems)]
    return "\n\n".join(s for s in sections if s is not None)
