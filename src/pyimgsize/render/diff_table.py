"""Terminal output for `pyimgsize diff` (the default format).

Sections, always in this order: the two images, the explanation (its first line leads with
the dominant cause), totals (A, B, delta, % of A), Python categories, distributions that
changed (sorted by absolute delta; unchanged ones only with `--all`), aligned layers (shared
layers collapsed into one line unless `--all`). Sizes use `format_bytes` (decimal units).
Given a `width` (a terminal's), prose wraps and every table fits it (`common.fit_table`).
"""

from __future__ import annotations

from pyimgsize.render.common import (
    Column,
    fit_table,
    short_id,
    site_packages_labels,
    wrap_lines,
)
from pyimgsize.render.diff_cells import (
    MATCH_LABELS,
    category_cells,
    category_rows,
    collapsed_text,
    created_by_cell,
    index_cell,
    layer_counts,
    layer_lines,
    package_counts,
    shown_packages,
    signed,
    size_cell,
    total_rows,
    version_cell,
)
from pyimgsize.render.diff_words import explanation
from pyimgsize.report import CATEGORIES, DiffReport, ImageRef
from pyimgsize.units import format_bytes

__all__ = ["render_diff_table"]


def _image_line(label: str, image: ImageRef) -> str:
    return (
        f"{label}  {image.ref}  ({image.source} · id {short_id(image.id)}): "
        f"{format_bytes(image.bytes)} visible, {format_bytes(image.layer_bytes)} shipped"
    )


# Which category columns a narrow terminal loses first (lower first), as in inspect's tables.
_CATEGORY_DROP = {"metadata": 2, "data": 3, "source": 4, "native": 6, "bytecode": 7}


def _category_columns() -> list[Column]:
    return [Column(c, right=True, drop=_CATEGORY_DROP[c]) for c in CATEGORIES]


def _sizes(*headers: str) -> list[Column]:
    return [Column(h, right=True) for h in headers]


def render_diff_table(
    report: DiffReport, *, show_all: bool = False, width: int | None = None
) -> str:
    """The diff as terminal text; `width` fits it to a terminal (None: full width)."""
    lines = [
        wrap_lines(_image_line("A", report.a), width, "   "),
        wrap_lines(_image_line("B", report.b), width, "   "),
        "",
    ]
    words = explanation(report)
    if words:
        lines.append(wrap_lines(words[0], width, "  "))
        lines += [wrap_lines(f"  {text}", width, "  ") for text in words[1:]]
        lines.append("")

    lines += [
        "Totals",
        fit_table([Column(""), *_sizes("A", "B", "delta", "%")], total_rows(report), width),
        "",
        "Python bytes by category",
        fit_table([Column("category"), *_sizes("A", "B", "delta")], category_rows(report), width),
        "",
    ]

    packages, _hidden = shown_packages(report, show_all)
    lines.append(wrap_lines(f"Distributions: {package_counts(report, show_all=show_all)}", width))
    if packages:
        labels = site_packages_labels(p.site_packages for p in packages)
        single = len(set(labels.values())) == 1
        rows = [
            [
                p.name,
                version_cell(p),
                p.status,
                size_cell(p.a),
                size_cell(p.b),
                signed(p.delta),
                *category_cells(p.categories),
                labels[p.site_packages],
            ]
            for p in packages
        ]
        columns = [
            Column("name", shrink="cut", soft=18, hard=10),
            Column("version", shrink="cut", soft=14, hard=6),
            Column("status", shrink="cut", soft=7, hard=4, drop=5),
            Column("A", right=True, drop=4),
            Column("B", right=True),
            Column("delta", right=True),
            *_category_columns(),
            Column("site-packages", shrink="path", soft=24, hard=12, drop=0 if single else 8),
        ]
        lines.append(fit_table(columns, rows, width))
    else:
        lines.append("  no distribution changed")
    lines.append("")

    count_a, count_b = layer_counts(report)
    lines.append(
        wrap_lines(
            f"Layers (A {count_a}, B {count_b}; aligned by diff_id, instruction, position)", width
        )
    )
    rows = []
    for line in layer_lines(report, show_all):
        if line.row is None:
            blanks = [""] * len(CATEGORIES)
            rows.append(["=", "=", "shared", "", "", "0 B", *blanks, collapsed_text(line)])
            continue
        row = line.row
        rows.append(
            [
                index_cell(row.a_index),
                index_cell(row.b_index),
                MATCH_LABELS[row.match],
                format_bytes(row.a_bytes) if row.a_index is not None else "-",
                format_bytes(row.b_bytes) if row.b_index is not None else "-",
                signed(row.delta),
                *category_cells(row.categories),
                "\n".join(prefix + text for prefix, text in created_by_cell(row)),
            ]
        )
    columns = [
        Column("A", right=True),
        Column("B", right=True),
        Column("match", shrink="cut", soft=11, hard=6),
        Column("A bytes", right=True, drop=4),
        Column("B bytes", right=True, drop=5),
        Column("delta", right=True),
        *_category_columns(),
        Column("created by", shrink="cut", soft=30, hard=12),
    ]
    lines.append(fit_table(columns, rows, width))
    return "\n".join(lines)
