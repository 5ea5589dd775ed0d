"""Why B differs from A, as data: causes that add up to exactly the shipped bytes delta.

The shipped (`layer_bytes`) delta is split into: distributions added, removed, bytecode of
distributions in both images, version changes and same-version changes (without bytecode),
site-packages files no distribution owns, caches and stray wheels (only what caches alone
hold), everything else outside Python, and dead bytes. Each cause carries the facts behind
it (distributions, cache paths, the layer holding most of it, the category that changed
most, a hint at the switch behind it); `pyimgsize.render.diff_words` words them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, get_args

from pyimgsize.diff.layers import LayerPair
from pyimgsize.diff.packages import PackagePair
from pyimgsize.names import normalize_name
from pyimgsize.report import (
    CATEGORIES,
    DEAD_CATEGORIES,
    CauseCategory,
    CauseHint,
    CauseKind,
    CauseLayer,
    CausePackage,
    CausePath,
    DiffCause,
    InspectReport,
    Layer,
    Package,
)

__all__ = ["find_causes"]


def _nonbytecode(p: Package) -> int:
    return p.bytes - p.categories.bytecode


def _share(
    pa: Package | None, pb: Package | None, nbytes: int, *, installer: bool = False
) -> CausePackage:
    shown = pb if pb is not None else pa
    assert shown is not None
    return CausePackage(
        name=shown.name,
        site_packages=shown.site_packages,
        version_a=pa.version if pa else None,
        version_b=pb.version if pb else None,
        bytes=nbytes,
        installer=shown.installer if installer else None,
    )


def _by_size(packages: Iterable[CausePackage]) -> list[CausePackage]:
    return sorted(packages, key=lambda p: (-abs(p.bytes), normalize_name(p.name), p.site_packages))


def _top_category(sums: dict[str, int]) -> CauseCategory | None:
    """The category of largest absolute change (ties by name); None when none changed."""
    changed = sorted(((n, v) for n, v in sums.items() if v), key=lambda i: (-abs(i[1]), i[0]))
    if not changed:
        return None
    name, n = changed[0]
    return CauseCategory(category=name, bytes=n, only=len(changed) == 1)


def _mostly(pairs: Sequence[tuple[Package, Package]]) -> CauseCategory | None:
    """The category (bytecode aside) that changed most across `pairs`."""
    return _top_category(
        {
            name: sum(
                int(getattr(pb.categories, name)) - int(getattr(pa.categories, name))
                for pa, pb in pairs
            )
            for name in CATEGORIES
            if name != "bytecode"
        }
    )


def _bytecode_hint(both: Sequence[tuple[Package, Package]], growing: bool) -> CauseHint | None:
    """A guess at the switch behind a bytecode change: given when at least half of the
    distributions whose bytecode changed went from none to some (or from some to none);
    uv's UV_COMPILE_BYTECODE when uv installed at least half of those, else pip's
    --no-compile."""
    changed = [(pa, pb) for pa, pb in both if pa.categories.bytecode != pb.categories.bytecode]
    if growing:
        flipped = [pb for pa, pb in changed if pa.categories.bytecode == 0]
    else:
        flipped = [pb for pa, pb in changed if pb.categories.bytecode == 0]
    if not flipped or len(flipped) * 2 < len(changed):
        return None
    by_uv = sum(1 for p in flipped if (p.installer or "").strip() == "uv") * 2 >= len(flipped)
    return "uv-compile-bytecode" if by_uv else "no-compile"


def _nonbytecode_cause(
    kind: Literal["versions", "rebuilt"],
    pairs: Sequence[tuple[Package, Package]],
    *,
    besides_bytecode: bool = False,
) -> DiffCause:
    """What `pairs` changed besides bytecode, with the category that changed most."""
    shares = [_share(pa, pb, _nonbytecode(pb) - _nonbytecode(pa)) for pa, pb in pairs]
    return DiffCause(
        kind=kind,
        bytes=sum(p.bytes for p in shares),
        packages=_by_size(shares),
        category=_mostly(pairs),
        besides_bytecode=besides_bytecode,
    )


def _distribution_causes(pairs: Sequence[PackagePair]) -> list[DiffCause]:
    added = [p.b for p in pairs if p.a is None and p.b is not None]
    removed = [p.a for p in pairs if p.b is None and p.a is not None]
    both = [(p.a, p.b) for p in pairs if p.a is not None and p.b is not None]
    causes: list[DiffCause] = []

    if added:
        shares = _by_size(_share(None, p, p.bytes) for p in added)
        causes.append(DiffCause(kind="added", bytes=sum(p.bytes for p in added), packages=shares))
    if removed:
        shares = _by_size(_share(p, None, -p.bytes) for p in removed)
        causes.append(
            DiffCause(kind="removed", bytes=-sum(p.bytes for p in removed), packages=shares)
        )

    # Bytecode of the distributions in both images.
    bytecode = [
        _share(pa, pb, pb.categories.bytecode - pa.categories.bytecode, installer=True)
        for pa, pb in both
        if pb.categories.bytecode != pa.categories.bytecode
    ]
    if bytecode:
        total = sum(p.bytes for p in bytecode)
        causes.append(
            DiffCause(
                kind="bytecode",
                bytes=total,
                packages=_by_size(bytecode),
                hint=_bytecode_hint(both, growing=total > 0) if total else None,
            )
        )

    # Everything but bytecode of the distributions in both images: with a version change...
    versioned = [(pa, pb) for pa, pb in both if pa.version != pb.version]
    if versioned:
        besides = any(pa.categories.bytecode != pb.categories.bytecode for pa, pb in versioned)
        causes.append(_nonbytecode_cause("versions", versioned, besides_bytecode=besides))

    # ... and without one (a different build or wheel, files added or deleted in place).
    same_version = [
        (pa, pb)
        for pa, pb in both
        if pa.version == pb.version and _nonbytecode(pb) != _nonbytecode(pa)
    ]
    if same_version:
        causes.append(_nonbytecode_cause("rebuilt", same_version))
    return causes


def _cache_cause(a: InspectReport, b: InspectReport) -> DiffCause | None:
    """Caches and stray wheels. The cause's bytes are the change in what only caches hold
    (their `exclusive_bytes`): a cache file hardlinked into a venv is the distribution's too,
    and deleting the cache does not free it."""
    delta = b.totals.cache_bytes - a.totals.cache_bytes
    exclusive = sum(c.exclusive_bytes for c in b.caches) - sum(c.exclusive_bytes for c in a.caches)
    if not delta and not exclusive:
        return None
    ca = {(c.kind, c.path): c.bytes for c in a.caches}
    cb = {(c.kind, c.path): c.bytes for c in b.caches}
    paths: list[CausePath] = []
    for key in sorted(set(ca) | set(cb)):
        kind, path = key
        if key not in ca:
            paths.append(CausePath(path=path, kind=kind, change="added", bytes=cb[key]))
        elif key not in cb:
            paths.append(CausePath(path=path, kind=kind, change="removed", bytes=-ca[key]))
        elif ca[key] != cb[key]:
            paths.append(CausePath(path=path, kind=kind, change="changed", bytes=cb[key] - ca[key]))
    return DiffCause(kind="caches", bytes=exclusive, paths=paths, cache_bytes=delta)


def _cause_layer(layer: Layer, side: Literal["a", "b"], nbytes: int) -> CauseLayer:
    return CauseLayer(
        side=side,
        index=layer.index,
        created_by=layer.created_by,
        comment=layer.comment,
        bytes=nbytes,
    )


def _largest_layer(
    rows: Sequence[LayerPair], value: dict[int, tuple[int, int]]
) -> CauseLayer | None:
    """The row whose (A value, B value) changed most (ties: A's side first, then lower
    index), named on the side that holds more of it (B's on a tie); None when none changed."""
    best: tuple[tuple[int, str, int], CauseLayer] | None = None
    for i, row in enumerate(rows):
        va, vb = value[i]
        if vb == va:
            continue
        if row.b is not None and (row.a is None or vb >= va):
            named = _cause_layer(row.b, "b", vb - va)
        else:
            assert row.a is not None
            named = _cause_layer(row.a, "a", vb - va)
        rank = (-abs(vb - va), named.side, named.index)
        if best is None or rank < best[0]:
            best = (rank, named)
    return best[1] if best is not None else None


def _outside_cause(
    a: InspectReport, b: InspectReport, layers: Sequence[LayerPair], outside: int
) -> DiffCause:
    shared = [row for row in layers if row.match == "shared"]
    base_shared = any(row.a is not None and row.a.index == 0 for row in shared)
    if a.layers and b.layers and not shared:
        return DiffCause(kind="outside", bytes=outside, hint="no-layer-shared")
    if a.layers and b.layers and not base_shared:
        return DiffCause(kind="outside", bytes=outside, hint="first-layer-differs")

    def visible_outside(layer: Layer | None) -> int:
        # Visible bytes outside Python that the layer wrote (caches included).
        return (layer.bytes - layer.dead_bytes - layer.python_bytes) if layer else 0

    values = {i: (visible_outside(row.a), visible_outside(row.b)) for i, row in enumerate(layers)}
    return DiffCause(kind="outside", bytes=outside, layer=_largest_layer(layers, values))


def _dead_cause(
    a: InspectReport, b: InspectReport, layers: Sequence[LayerPair]
) -> DiffCause | None:
    delta = b.totals.dead_bytes - a.totals.dead_bytes
    if not delta:
        return None
    values = {
        i: (row.a.dead_bytes if row.a else 0, row.b.dead_bytes if row.b else 0)
        for i, row in enumerate(layers)
    }
    by_category = {
        name: sum(int(getattr(x.dead_categories, name)) for x in b.layers)
        - sum(int(getattr(x.dead_categories, name)) for x in a.layers)
        for name in DEAD_CATEGORIES
    }
    return DiffCause(
        kind="dead",
        bytes=delta,
        layer=_largest_layer(layers, values),
        category=_top_category(by_category),
    )


def find_causes(
    a: InspectReport,
    b: InspectReport,
    pairs: Sequence[PackagePair],
    layers: Sequence[LayerPair],
) -> list[DiffCause]:
    """The causes of the change from A to B, largest (absolute) first; zero ones omitted.

    They partition the shipped bytes delta: distributions (added, removed, bytecode, version
    changes, same-version changes) + unowned site-packages files + caches + outside Python
    (the visible delta's rest) + dead bytes.
    """
    causes = _distribution_causes(pairs)
    python_delta = b.totals.python_bytes - a.totals.python_bytes
    package_delta = sum(p.bytes for p in b.packages) - sum(p.bytes for p in a.packages)
    unowned = python_delta - package_delta
    if unowned:
        causes.append(DiffCause(kind="unowned", bytes=unowned))
    cache = _cache_cause(a, b)
    if cache is not None:
        causes.append(cache)
    cache_only = cache.bytes if cache is not None else 0
    outside = (b.image.bytes - a.image.bytes) - python_delta - cache_only
    if outside:
        causes.append(_outside_cause(a, b, layers, outside))
    dead = _dead_cause(a, b, layers)
    if dead is not None:
        causes.append(dead)
    order = {kind: i for i, kind in enumerate(get_args(CauseKind))}
    return sorted(causes, key=lambda c: (-abs(c.bytes), order[c.kind]))
