"""Compare two inspect reports (design.md §4): the `diff` stage of the pipeline.

`diff_reports(a, b)` is pure: two `InspectReport`s in, one `DiffReport` out. Every percentage
is relative to A (`null` when A is 0). The parts: `packages` pairs distributions, `layers`
aligns layers, `causes` splits the shipped bytes delta into causes. The verdict is data;
`pyimgsize.render` words it (the report's `explanation` is filled there).
"""

from __future__ import annotations

from pyimgsize.diff.causes import find_causes
from pyimgsize.diff.common import category_sums, delta
from pyimgsize.diff.layers import LayerPair, layer_alignment, layer_delta
from pyimgsize.diff.packages import PackagePair, package_delta, package_sort_key, pair_packages
from pyimgsize.report import CATEGORIES, CategoryDelta, DiffReport, DiffTotals, InspectReport

__all__ = [
    "LayerPair",
    "PackagePair",
    "diff_reports",
    "find_causes",
    "layer_alignment",
    "pair_packages",
]


def diff_reports(a: InspectReport, b: InspectReport) -> DiffReport:
    """Compare report A (the baseline) with report B (the candidate)."""
    totals = DiffTotals(
        bytes=delta(a.image.bytes, b.image.bytes),
        layer_bytes=delta(a.image.layer_bytes, b.image.layer_bytes),
        python_bytes=delta(a.totals.python_bytes, b.totals.python_bytes),
        bytecode_bytes=delta(a.totals.bytecode_bytes, b.totals.bytecode_bytes),
        cache_bytes=delta(a.totals.cache_bytes, b.totals.cache_bytes),
        dead_bytes=delta(a.totals.dead_bytes, b.totals.dead_bytes),
        compressed_bytes=(
            delta(a.image.compressed_bytes, b.image.compressed_bytes)
            if a.image.compressed_bytes is not None and b.image.compressed_bytes is not None
            else None
        ),
    )
    cats_a = category_sums(a.layers)
    cats_b = category_sums(b.layers)
    categories = [
        CategoryDelta(
            category=name, a=cats_a[name], b=cats_b[name], delta=cats_b[name] - cats_a[name]
        )
        for name in CATEGORIES
    ]
    pairs = pair_packages(a.packages, b.packages)
    packages = sorted((package_delta(p) for p in pairs), key=package_sort_key)
    aligned = layer_alignment(a.layers, b.layers)
    return DiffReport(
        a=a.image.as_ref(),
        b=b.image.as_ref(),
        totals=totals,
        categories=categories,
        packages=packages,
        layers=[layer_delta(row) for row in aligned],
        causes=find_causes(a, b, pairs, aligned),
    )
