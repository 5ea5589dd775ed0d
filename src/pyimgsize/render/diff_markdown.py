"""Markdown for `pyimgsize diff`: a pull-request comment or CI job summary.

Summary first (heading with the visible delta, the explanation, the totals table); details in
collapsible `<details>` sections that GitHub and GitLab render closed: distributions, Python
categories, layers. Every piece of image-derived text (references, names, instructions) is
escaped or put in a code span, so a crafted `created_by` cannot inject markup.
"""

from __future__ import annotations

from pyimgsize.render.common import make_table, md_code, md_escape, short_id, site_packages_labels
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
    percent_cell,
    shown_packages,
    signed,
    size_cell,
    total_rows,
    version_cell,
)
from pyimgsize.render.diff_words import explanation
from pyimgsize.report import CATEGORIES, DiffReport, ImageRef
from pyimgsize.units import format_bytes

__all__ = ["render_diff_markdown"]


def _image_line(label: str, image: ImageRef) -> str:
    return (
        f"**{label}** {md_code(image.ref)} ({md_code(short_id(image.id))}): "
        f"{format_bytes(image.bytes)} visible, {format_bytes(image.layer_bytes)} shipped"
    )


def _details(summary: str, body: list[str]) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def render_diff_markdown(report: DiffReport, *, show_all: bool = False) -> str:
    visible = report.totals.bytes
    pct = percent_cell(visible)
    if visible.delta == 0:
        headline = "no change in visible size"
    else:
        headline = signed(visible.delta) + (f" ({pct})" if pct != "-" else "")
    lines = [
        f"### pyimgsize diff: {headline}",
        "",
        _image_line("A", report.a) + "  ",
        _image_line("B", report.b),
    ]
    words = explanation(report)
    if words:
        lines += ["", md_escape(words[0])]
        if len(words) > 1:
            lines.append("")
            lines += [f"- {md_escape(text)}" for text in words[1:]]
    lines += [
        "",
        make_table(
            ["", "A", "B", "delta", "%"],
            total_rows(report),
            right=(1, 2, 3, 4),
            tablefmt="pipe",
        ),
    ]

    packages, _hidden = shown_packages(report, show_all)
    body: list[str]
    if packages:
        labels = site_packages_labels(p.site_packages for p in packages)
        rows = [
            [
                md_escape(p.name),
                md_escape(version_cell(p)),
                p.status,
                size_cell(p.a),
                size_cell(p.b),
                signed(p.delta),
                *category_cells(p.categories),
                md_code(labels[p.site_packages]),
            ]
            for p in packages
        ]
        headers = ["name", "version", "status", "A", "B", "delta", *CATEGORIES, "site-packages"]
        body = [
            make_table(headers, rows, right=tuple(range(3, 6 + len(CATEGORIES))), tablefmt="pipe")
        ]
    else:
        body = ["No distribution changed."]
    summary = f"Distributions: {md_escape(package_counts(report, show_all=show_all))}"
    lines += _details(summary, body)

    lines += _details(
        "Python bytes by category",
        [
            make_table(
                ["category", "A", "B", "delta"],
                category_rows(report),
                right=(1, 2, 3),
                tablefmt="pipe",
            )
        ],
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
                "<br>".join(
                    prefix + md_code(text) for prefix, text in created_by_cell(row) if text
                ),
            ]
        )
    headers = ["A", "B", "match", "A bytes", "B bytes", "delta", *CATEGORIES, "created by"]
    count_a, count_b = layer_counts(report)
    lines += _details(
        f"Layers: A {count_a}, B {count_b}",
        [make_table(headers, rows, right=(0, 1, *range(3, 6 + len(CATEGORIES))), tablefmt="pipe")],
    )
    return "\n".join(lines)
