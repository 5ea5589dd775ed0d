"""Terminal tables for `inspect` (the default output format).

Sections, always in this order: image summary, site-packages, top distributions, caches and
stray wheels, layers, bytecode health (only when something is off), problems (only when there
are any). Columns are in a fixed order and every size uses `format_bytes` (decimal units). Given a
`width` (a terminal's), every table fits it (`common.fit_table`): paths are elided in the middle,
instructions cut, problem text wrapped, and the least useful columns left out first.
The numbers follow design.md §2 and §3: "visible" is `image.bytes`, "shipped" is
`image.layer_bytes`, "dead" is what layers ship that a later layer deletes or hides.
"""

from __future__ import annotations

from pyimgsize.render.advice_words import ROW_COLUMNS
from pyimgsize.render.advice_words import rows as suggestion_rows
from pyimgsize.render.common import (
    ELLIPSIS,
    Column,
    bytes_or_dash,
    count,
    dead_cell,
    dead_legend,
    elide_middle,
    fit_lines,
    fit_table,
    installer_cell,
    layer_instruction,
    make_table,
    more_packages_line,
    or_dash,
    percent,
    short_id,
    site_packages_labels,
    source_label,
    top_packages,
    wrap_lines,
)
from pyimgsize.render.options import SortKey
from pyimgsize.render.problems import problem_text
from pyimgsize.report import CATEGORIES, BytecodeHealth, Categories, InspectReport
from pyimgsize.units import format_bytes

NO_PYTHON = "No Python found in this image"
"""The line shown instead of the Python sections when the image has no Python at all."""

CREATED_BY_WIDTH = 60
MAX_PROBLEMS = 20

_BYTECODE_CHECKS: tuple[tuple[str, str], ...] = (
    ("foreign_tag", ".pyc for an interpreter not in the image"),
    ("without_source", ".pyc without a source .py"),
    ("source_without_pyc", ".py without a .pyc (the image otherwise ships bytecode)"),
)


def _category_cells(categories: Categories) -> list[str]:
    return [format_bytes(int(getattr(categories, c))) for c in CATEGORIES]


# Which category columns a narrow terminal loses first (lower first): metadata and data say
# least about what to fix; bytecode and native say most.
_CATEGORY_DROP = {"metadata": 2, "data": 3, "source": 4, "native": 6, "bytecode": 7}


def _category_columns() -> list[Column]:
    return [Column(c, right=True, drop=_CATEGORY_DROP[c]) for c in CATEGORIES]


def _summary(report: InspectReport, width: int | None) -> str:
    image, totals = report.image, report.totals
    dead_note = percent(totals.dead_bytes, image.layer_bytes)
    rows: list[list[str]] = [
        ["visible", format_bytes(image.bytes), "final filesystem view"],
        ["shipped", format_bytes(image.layer_bytes), "all layers, uncompressed"],
        ["dead", format_bytes(totals.dead_bytes), f"{dead_note} of shipped" if dead_note else ""],
    ]
    if image.compressed_bytes is not None:
        rows.append(["compressed", format_bytes(image.compressed_bytes), "layer blobs"])
    rows += [
        ["Python", format_bytes(totals.python_bytes), "site-packages and owned files"],
        ["bytecode", format_bytes(totals.bytecode_bytes), ".pyc/.pyo, stdlib included"],
        ["cache", format_bytes(totals.cache_bytes), "pip/uv/poetry caches, stray wheels"],
        ["layers", count(len(report.layers)), ""],
        ["files", count(image.files), ""],
    ]
    body = make_table(["", "", ""], rows, right=(1,), tablefmt="plain")
    # "plain" with empty headers still emits a blank header line: drop it, indent the rest.
    lines = [line.rstrip() for line in body.splitlines() if line.strip()]
    source = source_label(image.source, image.read_via)
    about = f"  source {source} · id {short_id(image.id)} · platform {or_dash(image.platform)}"
    ref = image.ref if width is None else elide_middle(image.ref, max(width - 6, 8))
    return fit_lines("\n".join([f"Image {ref}", about, *("  " + line for line in lines)]), width)


def _site_packages(report: InspectReport, width: int | None) -> str:
    title = f"Site-packages ({len(report.site_packages)})"
    if not report.site_packages:
        return f"{title}: none"
    columns = [
        Column("path", shrink="path", soft=32, hard=16),
        Column("kind", shrink="cut", soft=6, hard=4, drop=5),
        Column("bytes", right=True),
        Column("unowned", right=True, drop=1),
        *_category_columns(),
    ]
    rows = [
        [
            sp.path,
            sp.kind,
            format_bytes(sp.bytes),
            format_bytes(sp.unowned_bytes),
            *_category_cells(sp.categories),
        ]
        for sp in report.site_packages
    ]
    return f"{title}\n" + fit_table(columns, rows, width)


def _packages(report: InspectReport, top: int, sort: SortKey, width: int | None) -> str:
    total = len(report.packages)
    if total == 0:
        return "Distributions: none"
    shown, hidden, hidden_bytes = top_packages(report.packages, top, sort)
    scope = f"top {len(shown)} of {total}" if hidden else f"{total}"
    title = f"Distributions ({scope}, by {sort.value})"
    labels = site_packages_labels(p.site_packages for p in report.packages)
    # one site-packages directory for all: its column repeats what the site-packages table says
    single = len(labels) == 1
    columns = [
        Column("name", shrink="cut", soft=18, hard=10),
        Column("version", shrink="cut", soft=10, hard=6),
        Column("installer", shrink="cut", soft=9, hard=4, drop=5),
        Column("bytes", right=True),
        Column("files", right=True, drop=1),
        *_category_columns(),
        Column("site-packages", shrink="path", soft=24, hard=12, drop=0 if single else 8),
    ]
    rows = [
        [
            p.name,
            or_dash(p.version),
            installer_cell(p),
            format_bytes(p.bytes),
            count(p.files),
            *_category_cells(p.categories),
            labels[p.site_packages],
        ]
        for p in shown
    ]
    text = f"{title}\n" + fit_table(columns, rows, width)
    if hidden:
        text += "\n" + more_packages_line(hidden, hidden_bytes)
    return text


def _caches(report: InspectReport, width: int | None) -> str:
    title = f"Caches and stray wheels ({len(report.caches)})"
    if not report.caches:
        return f"{title}: none"
    rows = [
        [c.path, c.kind, format_bytes(c.bytes), format_bytes(c.exclusive_bytes)]
        for c in report.caches
    ]
    columns = [
        Column("path", shrink="path", soft=32, hard=12),
        Column("kind"),
        Column("bytes", right=True),
        Column("exclusive", right=True),
    ]
    return f"{title}\n" + fit_table(columns, rows, width)


def _layers(report: InspectReport, width: int | None) -> str:
    title = f"Layers ({len(report.layers)})"
    if not report.layers:
        return f"{title}: none"
    with_compressed = any(layer.compressed_bytes is not None for layer in report.layers)
    columns = [
        Column("#", right=True),
        Column("created by", shrink="cut", soft=32, hard=12),
        Column("bytes", right=True),
        Column("Python", right=True, drop=2),
        Column("dead", right=True, shrink="cut", soft=9, hard=7),
    ]
    if with_compressed:
        columns.append(Column("compressed", right=True, drop=1))
    rows: list[list[str]] = []
    for layer in report.layers:
        row = [
            str(layer.index),
            layer_instruction(layer.created_by, layer.comment, CREATED_BY_WIDTH),
            format_bytes(layer.bytes),
            format_bytes(layer.python_bytes),
            dead_cell(layer.dead_bytes, layer.dead_categories),
        ]
        if with_compressed:
            row.append(bytes_or_dash(layer.compressed_bytes))
        rows.append(row)
    text = f"{title}\n" + fit_table(columns, rows, width)
    legend = dead_legend(report.layers)
    if legend is not None:
        text += "\n" + wrap_lines(legend, width)
    return text


SUGGESTIONS_TOP = 5


def _suggestions(report: InspectReport, width: int | None) -> str:
    """The top suggestions (`pyimgsize advise` words their fixes) and the total of all."""
    shown = report.suggestions[:SUGGESTIONS_TOP]
    scope = f"top {len(shown)} of " if len(shown) < len(report.suggestions) else ""
    title = f"Suggestions ({scope}{len(report.suggestions)}; `pyimgsize advise` words each fix)"
    title = wrap_lines(title, width)
    table = fit_table(ROW_COLUMNS, suggestion_rows(shown), width)
    total = format_bytes(sum(s.saves_bytes for s in report.suggestions))
    return f"{title}\n{table}\n  together: {total}"


def bytecode_health_rows(health: BytecodeHealth) -> list[list[str]]:
    """(check, files, bytes) rows for the bytecode buckets that are non-zero."""
    rows: list[list[str]] = []
    for attr, label in _BYTECODE_CHECKS:
        bucket = getattr(health, attr)
        if bucket.files or bucket.bytes:
            rows.append([label, count(bucket.files), format_bytes(bucket.bytes)])
    return rows


def _bytecode(report: InspectReport, width: int | None) -> str | None:
    rows = bytecode_health_rows(report.bytecode)
    if not rows:
        return None
    interpreters = ", ".join(report.bytecode.interpreters) or "none found"
    columns = [
        Column("check", shrink="wrap", soft=30, hard=12),
        Column("files", right=True),
        Column("bytes", right=True),
    ]
    title = fit_lines(f"Bytecode health (interpreters: {interpreters})", width)
    return f"{title}\n{fit_table(columns, rows, width)}"


def _problems(report: InspectReport, limit: int, width: int | None) -> str | None:
    problems = report.problems
    if not problems:
        return None
    shown = problems if limit <= 0 else problems[:limit]
    rows = [
        [problem_text(p), or_dash(p.path), "-" if p.layer is None else str(p.layer)] for p in shown
    ]
    columns = [
        Column("message", shrink="wrap", soft=40, hard=16),
        Column("path", shrink="path", soft=24, hard=10),
        Column("layer"),
    ]
    text = f"Problems ({len(problems)})\n" + fit_table(columns, rows, width)
    if len(shown) < len(problems):
        text += f"\n{ELLIPSIS} and {len(problems) - len(shown)} more"
    return text


def render_inspect_table(
    report: InspectReport,
    *,
    top: int = 20,
    sort: SortKey = SortKey.BYTES,
    max_problems: int = MAX_PROBLEMS,
    width: int | None = None,
) -> str:
    """The inspect report as terminal tables (see the module docstring for the sections).

    `top` limits the distributions listed (`<= 0`: all), `sort` orders them; `max_problems`
    caps the problem list (`<= 0`: all), ending with "… and N more". `width` fits every line
    to a terminal that wide (None: full width, for pipes and files).
    """
    sections: list[str | None] = [_summary(report, width)]
    if report.python_found:
        sections += [_site_packages(report, width), _packages(report, top, sort, width)]
    else:
        sections.append(NO_PYTHON)
    if report.python_found or report.caches:
        sections.append(_caches(report, width))
    sections += [_layers(report, width)]
    if report.suggestions:
        sections.append(_suggestions(report, width))
    sections += [_bytecode(report, width), _problems(report, max_problems, width)]
    return "\n\n".join(s for s in sections if s is not None)
