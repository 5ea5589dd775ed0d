"""Small helpers every part of the comparison shares."""

from __future__ import annotations

from collections.abc import Iterable

from pyimgsize.report import CATEGORIES, Categories, Delta, Layer


def delta(a: int, b: int) -> Delta:
    """B - A, with the percentage of A (None when A is 0)."""
    percent = None if a == 0 else round((b - a) / a * 100, 2)
    return Delta(a=a, b=b, delta=b - a, percent=percent)


def category_values(categories: Categories | None) -> dict[str, int]:
    """Bytes per Python category (`CATEGORIES` order); all zero for a missing side."""
    if categories is None:
        return dict.fromkeys(CATEGORIES, 0)
    return {name: int(getattr(categories, name)) for name in CATEGORIES}


def category_sums(layers: Iterable[Layer]) -> dict[str, int]:
    """Bytes per Python category over `layers`."""
    sums = dict.fromkeys(CATEGORIES, 0)
    for layer in layers:
        for name, value in category_values(layer.categories).items():
            sums[name] += value
    return sums
