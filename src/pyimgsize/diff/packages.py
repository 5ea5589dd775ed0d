"""Pair the distributions of A and B (design.md §4).

**Distribution identity.** A distribution is its PEP 503 normalised name plus the
site-packages directory it is installed in. Pairs are made in three passes, each only among
what earlier passes left unpaired:

1. same normalised name, same site-packages, same version;
2. same normalised name, same site-packages (an upgrade or downgrade), when that pair is
   unambiguous (exactly one candidate on each side);
3. same normalised name anywhere, when exactly one candidate is left on each side: the
   distribution moved (say from `/usr/local/...` to `/opt/venv/...`). It is reported under
   B's site-packages with status `changed` and A's directory in `moved_from`.

Anything left is `added` (only in B) or `removed` (only in A). A pair is `same` when version,
site-packages and every category's bytes are equal, else `changed`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pyimgsize.diff.common import category_values
from pyimgsize.names import normalize_name
from pyimgsize.report import CATEGORIES, Package, PackageDelta

__all__ = ["PackagePair", "package_delta", "package_sort_key", "pair_packages"]


@dataclass(frozen=True, slots=True)
class PackagePair:
    """One distribution across A and B; `a` or `b` is None when it exists only in the other."""

    a: Package | None
    b: Package | None

    @property
    def key(self) -> str:
        pkg = self.b if self.b is not None else self.a
        assert pkg is not None
        return normalize_name(pkg.name)

    @property
    def moved(self) -> bool:
        return (
            self.a is not None
            and self.b is not None
            and self.a.site_packages != self.b.site_packages
        )


def _pair_unique(
    left_a: list[Package],
    left_b: list[Package],
    key: tuple[str, ...],
    *,
    unique_only: bool,
) -> tuple[list[PackagePair], list[Package], list[Package]]:
    """Pair packages with equal `key` (attribute names; `name` is normalised). With
    `unique_only`, a key pairs only when it has exactly one candidate on each side; without,
    the k-th candidate in A pairs with the k-th in B (candidates keep their input order)."""

    def k(p: Package) -> tuple[str, ...]:
        return tuple(
            normalize_name(p.name) if attr == "name" else str(getattr(p, attr)) for attr in key
        )

    by_a: dict[tuple[str, ...], list[Package]] = defaultdict(list)
    by_b: dict[tuple[str, ...], list[Package]] = defaultdict(list)
    for p in left_a:
        by_a[k(p)].append(p)
    for p in left_b:
        by_b[k(p)].append(p)
    pairs: list[PackagePair] = []
    used: set[int] = set()
    for kk, as_ in by_a.items():
        bs = by_b.get(kk, [])
        if not bs or (unique_only and (len(as_) != 1 or len(bs) != 1)):
            continue
        for pa, pb in zip(as_, bs, strict=False):
            pairs.append(PackagePair(pa, pb))
            used.add(id(pa))
            used.add(id(pb))
    rest_a = [p for p in left_a if id(p) not in used]
    rest_b = [p for p in left_b if id(p) not in used]
    return pairs, rest_a, rest_b


def pair_packages(a: Sequence[Package], b: Sequence[Package]) -> list[PackagePair]:
    """Pair the distributions of A and B (see the module docstring for the three passes)."""
    pairs1, rest_a, rest_b = _pair_unique(
        list(a), list(b), ("name", "site_packages", "version"), unique_only=False
    )
    pairs2, rest_a, rest_b = _pair_unique(
        rest_a, rest_b, ("name", "site_packages"), unique_only=True
    )
    pairs3, rest_a, rest_b = _pair_unique(rest_a, rest_b, ("name",), unique_only=True)
    return [
        *pairs1,
        *pairs2,
        *pairs3,
        *(PackagePair(p, None) for p in rest_a),
        *(PackagePair(None, p) for p in rest_b),
    ]


def package_delta(pair: PackagePair) -> PackageDelta:
    """The wire row of one pair: sizes, per-category deltas, status."""
    a, b = pair.a, pair.b
    cats_a = category_values(a.categories if a else None)
    cats_b = category_values(b.categories if b else None)
    status: Literal["added", "removed", "changed", "same"]
    if a is None:
        status = "added"
    elif b is None:
        status = "removed"
    elif (
        a.version == b.version
        and a.site_packages == b.site_packages
        and a.bytes == b.bytes
        and cats_a == cats_b
    ):
        status = "same"
    else:
        status = "changed"
    shown = b if b is not None else a
    assert shown is not None
    return PackageDelta(
        name=shown.name,
        site_packages=shown.site_packages,
        a=a.bytes if a else None,
        b=b.bytes if b else None,
        delta=(b.bytes if b else 0) - (a.bytes if a else 0),
        status=status,
        categories={name: cats_b[name] - cats_a[name] for name in CATEGORIES},
        version_a=a.version if a else None,
        version_b=b.version if b else None,
        moved_from=a.site_packages if a is not None and pair.moved else None,
    )


def package_sort_key(p: PackageDelta) -> tuple[int, str, str]:
    """Report order: largest absolute delta first, then name, then site-packages."""
    return (-abs(p.delta), normalize_name(p.name), p.site_packages)
