"""Terminal output for `pyimgsize diff` (the default format).

Sections, always in this order: the two images, the explanation (its first line leads with
the dominant cause), totals (A, B, delta, % of A), Python categories, distributions that
changed (sorted by absolute delta; unchanged ones only with `--all`), aligned layers (shared
layers collapsed into one line unless `--all`). Sizes use `format_bytes` (decimal units).
"""

from __future__ import annotations

from pyimgsize.render.common import make_table, short_id, site_packages_labels
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


def render_diff_table(report: DiffReport, *, show_all: bool = False) -> str:
    lines = [_image_line("A", report.a), _image_line("B", report.b), ""]
    words = explanation(report)
    if words:
        lines.append(words[0])
        lines += [f"  {text}" for text in words[1:]]
        lines.append("")

    lines += [
        "Totals",
        make_table(["", "A", "B", "delta", "%"], total_rows(report), right=(1, 2, 3, 4)),
        "",
        "Python bytes by category",
        make_table(["category", "A", "B", "delta"], category_rows(report), right=(1, 2, 3)),
        "",
    ]

    packages, _hidden = shown_packages(report, show_all)
    lines.append(f"Distributions: {package_counts(report, show_all=show_all)}")
    if packages:
        labels = site_packages_labels(p.site_packages for p in packages)
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
        headers = ["name", "version", "status", "A", "B", "delta", *CATEGORIES, "site-packages"]
        lines.append(make_table(headers, rows, right=tuple(range(3, 6 + len(CATEGORIES)))))
    else:
        lines.append("  no distribution changed")
    lines.append("")

    count_a, count_b = layer_counts(report)
    lines.append(f"Layers (A {count_a}, B {count_b}; aligned by diff_id, instruction, position)")
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
    headers = ["A", "B", "match", "A bytes", "B bytes", "delta", *CATEGORIES, "created by"]
    lines.append(make_table(headers, rows, right=(0, 1, *range(3, 6 + len(CATEGORIES)))))
    return "\n".join(lines)
