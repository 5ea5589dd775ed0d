"""Cells and rows both text renderers of `pyimgsize diff` share (table and markdown): which
rows to show, how a total, a version or a layer's instruction reads in a cell."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pyimgsize.render.common import short_created_by
from pyimgsize.report import CATEGORIES, Delta, DiffReport, LayerDelta, PackageDelta
from pyimgsize.units import format_bytes

TOTAL_LABELS: Final[tuple[tuple[str, str, str], ...]] = (
    ("bytes", "visible", "final filesystem view"),
    ("layer_bytes", "shipped", "all layers, uncompressed"),
    ("compressed_bytes", "compressed", "layer blobs, what a pull transfers"),
    ("python_bytes", "Python", "site-packages and owned files"),
    ("bytecode_bytes", "bytecode", ".pyc/.pyo, stdlib included"),
    ("cache_bytes", "cache", "pip/uv/poetry caches, stray wheels"),
    ("dead_bytes", "dead", "shipped but deleted or overwritten"),
)
MATCH_LABELS: Final = {
    "shared": "shared",
    "instruction": "instruction",
    "position": "position",
    "only-a": "only in A",
    "only-b": "only in B",
}
CREATED_BY_WIDTH = 45


def signed(n: int) -> str:
    return format_bytes(n, signed=True)


def percent_cell(delta: Delta) -> str:
    """ "+11.2%", "-3.0%", "0.0%"; "-" when A is 0 (no percentage)."""
    if delta.a == 0:
        return "-"
    value = delta.delta / delta.a * 100
    return f"{value:+.1f}%" if delta.delta else "0.0%"


def total_rows(report: DiffReport) -> list[list[str]]:
    """[label, A, B, delta, %] per total, in `TOTAL_LABELS` order (compressed sizes only when
    both images have them)."""
    rows = []
    for field, label, _note in TOTAL_LABELS:
        d: Delta | None = getattr(report.totals, field)
        if d is None:
            continue
        rows.append([label, format_bytes(d.a), format_bytes(d.b), signed(d.delta), percent_cell(d)])
    return rows


def category_rows(report: DiffReport) -> list[list[str]]:
    return [
        [c.category, format_bytes(c.a), format_bytes(c.b), signed(c.delta)]
        for c in report.categories
    ]


def version_cell(p: PackageDelta) -> str:
    """ "2.2.0", "2.1.0 -> 2.2.0", "-" (unknown)."""
    if p.status == "added":
        return p.version_b or "-"
    if p.status == "removed":
        return p.version_a or "-"
    if p.version_a != p.version_b:
        return f"{p.version_a or '?'} -> {p.version_b or '?'}"
    return p.version_b or "-"


def size_cell(value: int | None) -> str:
    return "-" if value is None else format_bytes(value)


def category_cells(categories: dict[str, int]) -> list[str]:
    """Signed per-category deltas in `CATEGORIES` order; a zero delta is an empty cell."""
    return [signed(categories[c]) if categories.get(c, 0) else "" for c in CATEGORIES]


def shown_packages(report: DiffReport, show_all: bool) -> tuple[list[PackageDelta], int]:
    """The distributions to list (report order) and how many unchanged ones are hidden."""
    if show_all:
        return list(report.packages), 0
    shown = [p for p in report.packages if p.status != "same"]
    return shown, len(report.packages) - len(shown)


def package_counts(report: DiffReport, *, show_all: bool = False) -> str:
    """ "1 added, 2 changed, 3 unchanged (hidden; --all lists them)"; only non-zero parts."""
    counts = dict.fromkeys(("added", "removed", "changed", "same"), 0)
    for p in report.packages:
        counts[p.status] += 1
    words = {"added": "added", "removed": "removed", "changed": "changed", "same": "unchanged"}
    parts = [f"{n} {words[s]}" for s, n in counts.items() if n]
    text = ", ".join(parts) if parts else "none"
    if counts["same"] and not show_all:
        text += " (hidden; --all lists them)"
    return text


@dataclass(frozen=True, slots=True)
class LayerLine:
    """A layer row to show, or (`row is None`) the collapsed line for `collapsed` shared
    layers of `collapsed_bytes` stored bytes each side."""

    row: LayerDelta | None
    collapsed: int = 0
    collapsed_bytes: int = 0


def _quiet_shared(row: LayerDelta) -> bool:
    return row.match == "shared" and not any(row.categories.values())


def layer_lines(report: DiffReport, show_all: bool) -> list[LayerLine]:
    """Rows to show: with `show_all` every row; else the shared layers whose Python bytes are
    attributed the same in both images become one line, where the first of them was."""
    if show_all:
        return [LayerLine(row) for row in report.layers]
    quiet = [row for row in report.layers if _quiet_shared(row)]
    lines: list[LayerLine] = []
    for row in report.layers:
        if not _quiet_shared(row):
            lines.append(LayerLine(row))
        elif row is quiet[0]:
            lines.append(LayerLine(None, len(quiet), sum(r.b_bytes for r in quiet)))
    return lines


def collapsed_text(line: LayerLine) -> str:
    noun = "layer" if line.collapsed == 1 else "layers"
    return f"{line.collapsed} shared {noun}, {format_bytes(line.collapsed_bytes)}, unchanged"


def index_cell(index: int | None) -> str:
    return "-" if index is None else str(index)


def created_by_cell(row: LayerDelta, width: int = CREATED_BY_WIDTH) -> list[tuple[str, str]]:
    """The row's instructions as (prefix, instruction) lines: B's alone when both sides have
    the same one (or only B has the layer), A's alone when only A has it, else A's and B's
    prefixed "A: " and "B: "."""
    a = short_created_by(row.created_by_a, width) if row.a_index is not None else None
    b = short_created_by(row.created_by_b, width) if row.b_index is not None else None
    if a is None:
        return [("", b or "")]
    if b is None or row.created_by_a == row.created_by_b:
        return [("", a)]
    return [("A: ", a), ("B: ", b)]


def layer_counts(report: DiffReport) -> tuple[int, int]:
    """How many layers A and B have (every layer appears in exactly one row)."""
    a = sum(1 for row in report.layers if row.a_index is not None)
    b = sum(1 for row in report.layers if row.b_index is not None)
    return a, b
