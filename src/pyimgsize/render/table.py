"""Terminal tables for `inspect` (the default output format).

Sections, always in this order: image summary, site-packages, top distributions, caches and
stray wheels, layers, bytecode health (only when something is off), problems (only when there
are any). Columns are in a fixed order and every size uses `format_bytes` (decimal units).
The numbers follow design.md §2 and §3: "visible" is `image.bytes`, "shipped" is
`image.layer_bytes`, "dead" is what layers ship that a later layer deletes or hides.
"""

from __future__ import annotations

from pyimgsize.render.advice_words import ROW_HEADERS
from pyimgsize.render.advice_words import rows as suggestion_rows
from pyimgsize.render.common import (
    ELLIPSIS,
    bytes_or_dash,
    count,
    dead_cell,
    layer_instruction,
    make_table,
    more_packages_line,
    or_dash,
    percent,
    short_id,
    site_packages_labels,
    source_label,
    top_packages,
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


def _summary(report: InspectReport) -> str:
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
    return "\n".join([f"Image {image.ref}", about, *("  " + line for line in lines)])


def _site_packages(report: InspectReport) -> str:
    title = f"Site-packages ({len(report.site_packages)})"
    if not report.site_packages:
        return f"{title}: none"
    headers = ["path", "kind", "bytes", "unowned", *CATEGORIES]
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
    return f"{title}\n" + make_table(headers, rows, right=range(2, len(headers)))


def _packages(report: InspectReport, top: int, sort: SortKey) -> str:
    total = len(report.packages)
    if total == 0:
        return "Distributions: none"
    shown, hidden, hidden_bytes = top_packages(report.packages, top, sort)
    scope = f"top {len(shown)} of {total}" if hidden else f"{total}"
    title = f"Distributions ({scope}, by {sort.value})"
    labels = site_packages_labels(p.site_packages for p in report.packages)
    headers = ["name", "version", "installer", "bytes", "files", *CATEGORIES, "site-packages"]
    rows = [
        [
            p.name,
            or_dash(p.version),
            or_dash(p.installer),
            format_bytes(p.bytes),
            count(p.files),
            *_category_cells(p.categories),
            labels[p.site_packages],
        ]
        for p in shown
    ]
    text = f"{title}\n" + make_table(headers, rows, right=range(3, 5 + len(CATEGORIES)))
    if hidden:
        text += "\n" + more_packages_line(hidden, hidden_bytes)
    return text


def _caches(report: InspectReport) -> str:
    title = f"Caches and stray wheels ({len(report.caches)})"
    if not report.caches:
        return f"{title}: none"
    rows = [
        [c.path, c.kind, format_bytes(c.bytes), format_bytes(c.exclusive_bytes)]
        for c in report.caches
    ]
    return f"{title}\n" + make_table(["path", "kind", "bytes", "exclusive"], rows, right=(2, 3))


def _layers(report: InspectReport) -> str:
    title = f"Layers ({len(report.layers)})"
    if not report.layers:
        return f"{title}: none"
    with_compressed = any(layer.compressed_bytes is not None for layer in report.layers)
    headers = ["#", "created by", "bytes", "Python", "dead"]
    if with_compressed:
        headers.append("compressed")
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
    right = [0, 2, 3, 4] + ([5] if with_compressed else [])
    return f"{title}\n" + make_table(headers, rows, right=right)


SUGGESTIONS_TOP = 5


def _suggestions(report: InspectReport) -> str:
    """The top suggestions (`pyimgsize advise` words their fixes) and the total of all."""
    shown = report.suggestions[:SUGGESTIONS_TOP]
    scope = f"top {len(shown)} of " if len(shown) < len(report.suggestions) else ""
    title = f"Suggestions ({scope}{len(report.suggestions)}; `pyimgsize advise` words each fix)"
    table = make_table(ROW_HEADERS, suggestion_rows(shown), right=(0, 1))
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


def _bytecode(report: InspectReport) -> str | None:
    rows = bytecode_health_rows(report.bytecode)
    if not rows:
        return None
    interpreters = ", ".join(report.bytecode.interpreters) or "none found"
    table = make_table(["check", "files", "bytes"], rows, right=(1, 2))
    return f"Bytecode health (interpreters: {interpreters})\n{table}"


def _problems(report: InspectReport, limit: int) -> str | None:
    problems = report.problems
    if not problems:
        return None
    shown = problems if limit <= 0 else problems[:limit]
    rows = [
        [problem_text(p), or_dash(p.path), "-" if p.layer is None else str(p.layer)] for p in shown
    ]
    text = f"Problems ({len(problems)})\n" + make_table(["message", "path", "layer"], rows)
    if len(shown) < len(problems):
        text += f"\n{ELLIPSIS} and {len(problems) - len(shown)} more"
    return text


def render_inspect_table(
    report: InspectReport,
    *,
    top: int = 20,
    sort: SortKey = SortKey.BYTES,
    max_problems: int = MAX_PROBLEMS,
) -> str:
    """The inspect report as terminal tables (see the module docstring for the sections).

    `top` limits the distributions listed (`<= 0`: all), `sort` orders them; `max_problems`
    caps the problem list (`<= 0`: all), ending with "… and N more".
    """
    sections: list[str | None] = [_summary(report)]
    if report.python_found:
        sections += [_site_packages(report), _packages(report, top, sort)]
    else:
        sections.append(NO_PYTHON)
    if report.python_found or report.caches:
        sections.append(_caches(report))
    sections += [_layers(report)]
    if report.suggestions:
        sections.append(_suggestions(report))
    sections += [_bytecode(report), _problems(report, max_problems)]
    return "\n\n".join(s for s in sections if s is not None)
