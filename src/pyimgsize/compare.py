"""Compare two inspect reports: totals, categories, distributions and layers (design.md §4).

`diff_reports(a, b)` is pure: two `InspectReport`s in, one `DiffReport` out. Every percentage
is relative to A (`null` when A is 0).

**Distribution identity.** A distribution is its PEP 503 normalised name plus the
site-packages directory it is installed in. Pairs are made in three passes, each only among
what earlier passes left unpaired:

1. same normalised name, same site-packages, same version;
2. same normalised name, same site-packages (an upgrade or downgrade), when that pair is
   unambiguous (exactly one candidate on each side);
3. same normalised name anywhere, when exactly one candidate is left on each side: the
   distribution moved (say from `/usr/local/...` to `/opt/venv/...`). It is reported under
   B's site-packages with status `changed`; A's directory is named in the explanation.

Anything left is `added` (only in B) or `removed` (only in A). A pair is `same` when version,
site-packages and every category's bytes are equal, else `changed`.

**Layer alignment** (never by index alone; see container-diff#239 for what pairing by index
does): first identical `diff_id` (`shared`; a diff_id that occurs several times pairs its
k-th occurrence in A with its k-th in B), then identical `created_by` (`instruction`), then
`created_by` equal once whitespace is collapsed and the classic builder's content hashes are
blanked (also `instruction`: `COPY file:<sha256> in /app` names its content, so it changes
whenever the copied files do, yet it is the same Dockerfile step), then by
position among the rest (`position`): the pairs found so far that are in the same order in
both images cut both layer lists into gaps, and inside each gap the unpaired layers are
paired first with first; what remains is `only-a` or `only-b`. Rows are listed in B's layer
order, a layer only in A right after the B layer it follows.

**Explanation.** The change is split into causes that add up to the shipped (layer) bytes
delta: distributions added, removed, bytecode of distributions in both images, version
changes and same-version changes (without bytecode), site-packages files no distribution
owns, caches and stray wheels, everything outside Python, and dead bytes. The causes are
data (`Cause`); `explain()` words them, the largest first.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal, get_args

from pyimgsize.names import normalize_name
from pyimgsize.report import (
    CATEGORIES,
    DEAD_CATEGORIES,
    Categories,
    CategoryDelta,
    Delta,
    DiffReport,
    DiffTotals,
    InspectReport,
    Layer,
    LayerDelta,
    Package,
    PackageDelta,
)
from pyimgsize.units import format_bytes

__all__ = [
    "Cause",
    "diff_reports",
    "explain",
    "find_causes",
    "layer_alignment",
    "normalize_name",
    "pair_packages",
]

_CONTENT_HASH = re.compile(r"\b(?:file|dir|multi):[0-9a-f]{64}\b")
_WHITESPACE = re.compile(r"\s+")
_SHELL = re.compile(r"^/bin/(?:ba)?sh -c (?:#\(nop\)\s*)?")
_BUILDKIT = re.compile(r"\s*# buildkit\s*$")
_LONG_DIGEST = re.compile(r"\b((?:file|dir|multi|sha256):)([0-9a-f]{12})[0-9a-f]{20,}\b")

Match = Literal["shared", "instruction", "position", "only-a", "only-b"]


def _delta(a: int, b: int) -> Delta:
    percent = None if a == 0 else round((b - a) / a * 100, 2)
    return Delta(a=a, b=b, delta=b - a, percent=percent)


def _category_values(categories: Categories) -> dict[str, int]:
    return {name: int(getattr(categories, name)) for name in CATEGORIES}


def _category_sums(layers: Iterable[Layer]) -> dict[str, int]:
    sums = dict.fromkeys(CATEGORIES, 0)
    for layer in layers:
        for name, value in _category_values(layer.categories).items():
            sums[name] += value
    return sums


# --- distributions --------------------------------------------------------------------------


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


def _package_delta(pair: PackagePair) -> PackageDelta:
    a, b = pair.a, pair.b
    cats_a = _category_values(a.categories) if a else dict.fromkeys(CATEGORIES, 0)
    cats_b = _category_values(b.categories) if b else dict.fromkeys(CATEGORIES, 0)
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
    )


def _package_sort_key(p: PackageDelta) -> tuple[int, str, str]:
    return (-abs(p.delta), normalize_name(p.name), p.site_packages)


# --- layers ---------------------------------------------------------------------------------


def _instruction_key(created_by: str | None) -> str | None:
    """`created_by` as compared for `instruction` matches; None never matches."""
    if not created_by:
        return None
    text = _BUILDKIT.sub("", created_by)
    text = _CONTENT_HASH.sub("<content>", text)
    text = _WHITESPACE.sub(" ", text).strip()
    text = _SHELL.sub("", text)
    return text or None


def _match_by(
    a_layers: Sequence[Layer],
    b_layers: Sequence[Layer],
    free_a: set[int],
    free_b: set[int],
    *,
    key: Callable[[Layer], str | None],
) -> list[tuple[int, int]]:
    """Pair free layers (removing them from `free_*`) whose `key` is equal and not None; a
    key that occurs several times pairs its k-th free occurrence in A with its k-th in B."""
    queues: dict[str, list[int]] = defaultdict(list)
    for layer in b_layers:
        kb = key(layer)
        if layer.index in free_b and kb is not None:
            queues[kb].append(layer.index)
    pairs: list[tuple[int, int]] = []
    for layer in a_layers:
        ka = key(layer)
        if layer.index not in free_a or ka is None or not queues.get(ka):
            continue
        bi = queues[ka].pop(0)
        pairs.append((layer.index, bi))
        free_a.discard(layer.index)
        free_b.discard(bi)
    return pairs


def _increasing_anchors(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of pairs increasing in both A and B index (ties: earliest)."""
    ordered = sorted(pairs)
    if not ordered:
        return []
    best_len = [1] * len(ordered)
    prev = [-1] * len(ordered)
    for i, (_, bi) in enumerate(ordered):
        for j in range(i):
            if ordered[j][1] < bi and best_len[j] + 1 > best_len[i]:
                best_len[i] = best_len[j] + 1
                prev[i] = j
    end = max(range(len(ordered)), key=lambda i: (best_len[i], -i))
    chain: list[tuple[int, int]] = []
    while end != -1:
        chain.append(ordered[end])
        end = prev[end]
    chain.reverse()
    return chain


@dataclass(frozen=True, slots=True)
class LayerPair:
    a: Layer | None
    b: Layer | None
    match: Match


def layer_alignment(a_layers: Sequence[Layer], b_layers: Sequence[Layer]) -> list[LayerPair]:
    """Align the layers of A and B (see the module docstring); rows in B's layer order."""
    a_by = {layer.index: layer for layer in a_layers}
    b_by = {layer.index: layer for layer in b_layers}
    a_sorted = sorted(a_layers, key=lambda layer: layer.index)
    b_sorted = sorted(b_layers, key=lambda layer: layer.index)
    free_a = set(a_by)
    free_b = set(b_by)

    shared = _match_by(a_sorted, b_sorted, free_a, free_b, key=lambda layer: layer.diff_id or None)
    instruction = _match_by(
        a_sorted, b_sorted, free_a, free_b, key=lambda layer: layer.created_by or None
    )
    instruction += _match_by(
        a_sorted, b_sorted, free_a, free_b, key=lambda layer: _instruction_key(layer.created_by)
    )
    kinds: dict[tuple[int, int], Match] = {p: "shared" for p in shared}
    kinds.update({p: "instruction" for p in instruction})

    # Gaps between anchors (pairs in the same order in both images); pair inside each gap.
    anchors = _increasing_anchors([*shared, *instruction])
    bounds = [(-1, -1), *anchors, (max(a_by, default=0) + 1, max(b_by, default=0) + 1)]
    for (lo_a, lo_b), (hi_a, hi_b) in pairwise(bounds):
        gap_a = [i for i in sorted(free_a) if lo_a < i < hi_a]
        gap_b = [i for i in sorted(free_b) if lo_b < i < hi_b]
        for ai, bi in zip(gap_a, gap_b, strict=False):
            kinds[(ai, bi)] = "position"
            free_a.discard(ai)
            free_b.discard(bi)

    # Order: B's layers in order; a layer only in A follows the row of the closest A layer
    # before it that has a row placed by B (or comes first).
    rows_by_b: dict[int, LayerPair] = {}
    a_partner: dict[int, int] = {}
    for (ai, bi), kind in kinds.items():
        rows_by_b[bi] = LayerPair(a_by[ai], b_by[bi], kind)
        a_partner[ai] = bi
    for bi in free_b:
        rows_by_b[bi] = LayerPair(None, b_by[bi], "only-b")

    after: dict[int, list[LayerPair]] = defaultdict(list)  # B index (-1: start) -> only-a rows
    for ai in sorted(free_a):
        anchor_b = -1
        for earlier in range(ai - 1, -1, -1):
            if earlier in a_partner:
                anchor_b = a_partner[earlier]
                break
        after[anchor_b].append(LayerPair(a_by[ai], None, "only-a"))

    rows: list[LayerPair] = list(after.get(-1, []))
    for bi in sorted(rows_by_b):
        rows.append(rows_by_b[bi])
        rows.extend(after.get(bi, []))
    return rows


def _layer_delta(pair: LayerPair) -> LayerDelta:
    a, b = pair.a, pair.b
    cats_a = _category_values(a.categories) if a else dict.fromkeys(CATEGORIES, 0)
    cats_b = _category_values(b.categories) if b else dict.fromkeys(CATEGORIES, 0)
    a_bytes = a.bytes if a else 0
    b_bytes = b.bytes if b else 0
    return LayerDelta(
        a_index=a.index if a else None,
        b_index=b.index if b else None,
        match=pair.match,
        created_by_a=a.created_by if a else None,
        created_by_b=b.created_by if b else None,
        a_bytes=a_bytes,
        b_bytes=b_bytes,
        delta=b_bytes - a_bytes,
        categories={name: cats_b[name] - cats_a[name] for name in CATEGORIES},
    )


# --- explanation ----------------------------------------------------------------------------

CauseKind = Literal[
    "added",
    "removed",
    "bytecode",
    "versions",
    "rebuilt",
    "unowned",
    "caches",
    "outside",
    "dead",
]


@dataclass(frozen=True, slots=True)
class Cause:
    """One reason for the size change.

    `bytes` is its signed share of the shipped (layer) bytes delta; the causes of one diff add
    up to exactly that delta (the visible bytes delta plus the dead bytes delta). `items`
    names what it is made of (distributions, caches, layers), `text` says it in words.
    """

    kind: CauseKind
    bytes: int
    text: str
    items: tuple[str, ...] = ()


def _short_instruction(created_by: str | None, width: int = 50) -> str:
    """`created_by` for a sentence: no shell wrapper, digests cut to 12 digits, `width` max."""
    text = _BUILDKIT.sub("", created_by or "")
    text = _WHITESPACE.sub(" ", text).strip()
    text = _SHELL.sub("", text)
    text = _LONG_DIGEST.sub(r"\1\2…", text)
    if len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _largest(items: Iterable[tuple[str, int]], limit: int = 3) -> list[tuple[str, int]]:
    """The `limit` non-zero items of largest absolute size (ties by label)."""
    return sorted((i for i in items if i[1] != 0), key=lambda i: (-abs(i[1]), i[0]))[:limit]


def _listing(items: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{label} {format_bytes(n, signed=True)}" for label, n in items)


def _label(p: Package) -> str:
    return f"{p.name} {p.version}" if p.version else p.name


def _nonbytecode(p: Package) -> int:
    return p.bytes - p.categories.bytecode


def _mostly(pairs: Sequence[tuple[Package, Package]]) -> str:
    """ ", all metadata" / ", mostly data +3.0 MB": the category (bytecode aside) that changed
    most across `pairs`; "" when none did."""
    sums = {
        name: sum(
            int(getattr(pb.categories, name)) - int(getattr(pa.categories, name))
            for pa, pb in pairs
        )
        for name in CATEGORIES
        if name != "bytecode"
    }
    top = _largest(sums.items(), limit=1)
    if not top:
        return ""
    name, n = top[0]
    if all(v == 0 for k, v in sums.items() if k != name):
        return f", all {name}"
    return f", mostly {name} {format_bytes(n, signed=True)}"


def _bytecode_hint(both: Sequence[tuple[Package, Package]], growing: bool) -> str:
    """A guess at the switch behind a bytecode change: shown when at least half of the
    distributions whose bytecode changed went from none to some (or from some to none)."""
    changed = [(pa, pb) for pa, pb in both if pa.categories.bytecode != pb.categories.bytecode]
    if growing:
        flipped = [pb for pa, pb in changed if pa.categories.bytecode == 0]
    else:
        flipped = [pb for pa, pb in changed if pb.categories.bytecode == 0]
    if not flipped or len(flipped) * 2 < len(changed):
        return ""
    by_uv = sum(1 for p in flipped if (p.installer or "").strip() == "uv") * 2 >= len(flipped)
    if growing:
        return " (UV_COMPILE_BYTECODE?)" if by_uv else " (A installed with --no-compile?)"
    return " (UV_COMPILE_BYTECODE off?)" if by_uv else " (--no-compile, or .pyc deleted?)"


def _layer_label(layer: Layer, side: str) -> str:
    name = _short_instruction(layer.created_by)
    return f"{side} layer {layer.index}" + (f" `{name}`" if name else "")


def _row_label(row: LayerPair, a_value: int, b_value: int) -> str:
    """Name the row's layer on the side that holds more of what is being explained (B's on a
    tie); a row present on one side only names that side's layer."""
    if row.b is not None and (row.a is None or b_value >= a_value):
        return _layer_label(row.b, "B")
    assert row.a is not None
    return _layer_label(row.a, "A")


def _distribution_causes(pairs: Sequence[PackagePair]) -> list[Cause]:
    added = [p.b for p in pairs if p.a is None and p.b is not None]
    removed = [p.a for p in pairs if p.b is None and p.a is not None]
    both = [(p.a, p.b) for p in pairs if p.a is not None and p.b is not None]
    causes: list[Cause] = []

    if added:
        total = sum(p.bytes for p in added)
        top = _largest((_label(p), p.bytes) for p in added)
        text = f"{_plural(len(added), 'new distribution')} {format_bytes(total, signed=True)}"
        causes.append(
            Cause(
                "added",
                total,
                text + (f" ({_listing(top)})" if top else ""),
                tuple(sorted(_label(p) for p in added)),
            )
        )
    if removed:
        total = -sum(p.bytes for p in removed)
        top = _largest((_label(p), -p.bytes) for p in removed)
        text = f"{_plural(len(removed), 'distribution')} removed {format_bytes(total, signed=True)}"
        causes.append(
            Cause(
                "removed",
                total,
                text + (f" ({_listing(top)})" if top else ""),
                tuple(sorted(_label(p) for p in removed)),
            )
        )

    # Bytecode of the distributions in both images.
    bytecode = [
        (pb.name, pb.categories.bytecode - pa.categories.bytecode)
        for pa, pb in both
        if pb.categories.bytecode != pa.categories.bytecode
    ]
    if bytecode:
        total = sum(d for _, d in bytecode)
        hint = _bytecode_hint(both, growing=total > 0) if total else ""
        text = (
            f"bytecode {format_bytes(total, signed=True)} across "
            f"{_plural(len(bytecode), 'distribution')}{hint}"
        )
        top = _largest(bytecode, limit=1)
        if top:
            text += f", largest {_listing(top)}"
        causes.append(Cause("bytecode", total, text, tuple(sorted(n for n, _ in bytecode))))

    # Everything but bytecode of the distributions in both images: with a version change...
    versioned = [(pa, pb) for pa, pb in both if pa.version != pb.version]
    if versioned:
        total = sum(_nonbytecode(pb) - _nonbytecode(pa) for pa, pb in versioned)
        with_bytecode = any(
            pa.categories.bytecode != pb.categories.bytecode for pa, pb in versioned
        )
        labels = [
            (f"{pb.name} {pa.version} -> {pb.version}", _nonbytecode(pb) - _nonbytecode(pa))
            for pa, pb in versioned
        ]
        top = _largest(labels) or sorted(labels)[:1]
        text = (
            f"{_plural(len(versioned), 'distribution')} changed version "
            f"{format_bytes(total, signed=True)}"
            + (" besides bytecode" if with_bytecode else "")
            + _mostly(versioned)
            + f" ({_listing(top)})"
        )
        causes.append(Cause("versions", total, text, tuple(sorted(lbl for lbl, _ in labels))))

    # ... and without one (a different build or wheel, files added or deleted in place).
    same_version = [
        (pa, pb)
        for pa, pb in both
        if pa.version == pb.version and _nonbytecode(pb) != _nonbytecode(pa)
    ]
    rebuilt = [(pb.name, _nonbytecode(pb) - _nonbytecode(pa)) for pa, pb in same_version]
    if rebuilt:
        total = sum(d for _, d in rebuilt)
        text = (
            f"{_plural(len(rebuilt), 'distribution')} changed without a version change "
            f"{format_bytes(total, signed=True)}{_mostly(same_version)} "
            f"({_listing(_largest(rebuilt))})"
        )
        causes.append(Cause("rebuilt", total, text, tuple(sorted(n for n, _ in rebuilt))))
    return causes


def _cache_cause(a: InspectReport, b: InspectReport) -> Cause | None:
    """Caches and stray wheels. The cause's bytes are the change in what only caches hold
    (their `exclusive_bytes`): a cache file hardlinked into a venv is the distribution's too,
    and deleting the cache does not free it."""
    delta = b.totals.cache_bytes - a.totals.cache_bytes
    exclusive = sum(c.exclusive_bytes for c in b.caches) - sum(c.exclusive_bytes for c in a.caches)
    if not delta and not exclusive:
        return None
    ca = {(c.kind, c.path): c.bytes for c in a.caches}
    cb = {(c.kind, c.path): c.bytes for c in b.caches}
    items: list[tuple[str, int]] = []
    for key in sorted(set(ca) | set(cb)):
        kind, path = key
        what = f"wheel {path}" if kind == "wheel" else f"{kind} cache {path}"
        if key not in ca:
            items.append((f"{what} added", cb[key]))
        elif key not in cb:
            items.append((f"{what} removed", -ca[key]))
        elif ca[key] != cb[key]:
            items.append((what, cb[key] - ca[key]))
    top = _largest(items)
    text = f"caches and stray wheels {format_bytes(exclusive, signed=True)}"
    if exclusive != delta:
        text += (
            f" (of {format_bytes(delta, signed=True)} cache bytes; the rest are hardlinks "
            "that other files keep)"
        )
    return Cause(
        "caches",
        exclusive,
        text + (f": {_listing(top)}" if top else ""),
        tuple(lbl for lbl, _ in items),
    )


def _outside_cause(
    a: InspectReport, b: InspectReport, layers: Sequence[LayerPair], outside: int
) -> Cause:
    shared = [row for row in layers if row.match == "shared"]
    base_shared = any(row.a is not None and row.a.index == 0 for row in shared)
    if a.layers and b.layers and not shared:
        where = " (no layer is shared: a different base image?)"
    elif a.layers and b.layers and not base_shared:
        where = " (the first layer differs: a different base image?)"
    else:
        per_layer: list[tuple[str, int]] = []
        for row in layers:
            # Visible bytes outside Python that the layer wrote (caches included).
            va = (row.a.bytes - row.a.dead_bytes - row.a.python_bytes) if row.a else 0
            vb = (row.b.bytes - row.b.dead_bytes - row.b.python_bytes) if row.b else 0
            per_layer.append((_row_label(row, va, vb), vb - va))
        top = _largest(per_layer, limit=1)
        where = f", largest {_listing(top)}" if top else ""
    return Cause("outside", outside, f"outside Python {format_bytes(outside, signed=True)}{where}")


def _dead_cause(a: InspectReport, b: InspectReport, layers: Sequence[LayerPair]) -> Cause | None:
    delta = b.totals.dead_bytes - a.totals.dead_bytes
    if not delta:
        return None
    per_layer = []
    for row in layers:
        da = row.a.dead_bytes if row.a else 0
        db = row.b.dead_bytes if row.b else 0
        per_layer.append((_row_label(row, da, db), db - da))
    by_category = [
        (
            name,
            sum(int(getattr(x.dead_categories, name)) for x in b.layers)
            - sum(int(getattr(x.dead_categories, name)) for x in a.layers),
        )
        for name in DEAD_CATEGORIES
    ]
    text = (
        f"dead bytes {format_bytes(delta, signed=True)} (written by a layer, deleted or "
        "overwritten by a later one: shipped, never visible)"
    )
    top_layer = _largest(per_layer, limit=1)
    if top_layer:
        text += f", largest {_listing(top_layer)}"
    top_category = _largest(by_category, limit=1)
    if top_category:
        name, n = top_category[0]
        text += f", mostly {name} {format_bytes(n, signed=True)}"
    return Cause("dead", delta, text, tuple(lbl for lbl, d in per_layer if d))


def find_causes(
    a: InspectReport,
    b: InspectReport,
    pairs: Sequence[PackagePair],
    layers: Sequence[LayerPair],
) -> list[Cause]:
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
        causes.append(
            Cause(
                "unowned",
                unowned,
                f"site-packages files no distribution owns {format_bytes(unowned, signed=True)}",
            )
        )
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


def _percent_text(d: Delta) -> str:
    return "" if d.a == 0 else f" ({d.delta / d.a * 100:+.1f}%)"


def explain(
    a: InspectReport,
    b: InspectReport,
    totals: DiffTotals,
    pairs: Sequence[PackagePair],
    layers: Sequence[LayerPair],
) -> list[str]:
    """The explanation in words: a headline led by the dominant cause, then the other causes
    (largest first), moved distributions, and how the layers aligned."""
    causes = find_causes(a, b, pairs, layers)
    visible, shipped = totals.bytes, totals.layer_bytes

    same_id = bool(a.image.id) and a.image.id == b.image.id
    if same_id:
        head = "A and B are the same image (same image ID)"
    elif visible.delta == 0:
        head = f"B has the same visible size as A ({format_bytes(visible.b)})"
    else:
        head = f"B is {format_bytes(visible.delta, signed=True)}{_percent_text(visible)}"
    if shipped.delta != visible.delta:
        head += f", {format_bytes(shipped.delta, signed=True)} shipped{_percent_text(shipped)}"
    changed = any(p.status != "same" for p in map(_package_delta, pairs))
    if causes:
        head += f": {causes[0].text}"
    elif not same_id:
        head += ": no total or category differs" + ("" if changed else ", nor any distribution")
    lines = [head]
    lines.extend(c.text[0].upper() + c.text[1:] for c in causes[1:])

    moved = sorted(
        {(p.a.site_packages, p.b.site_packages) for p in pairs if p.a and p.b and p.moved}
    )
    if moved:
        n = sum(1 for p in pairs if p.moved)
        where = "; ".join(f"{x} -> {y}" for x, y in moved)
        lines.append(f"{_plural(n, 'distribution')} moved: {where}")

    counts: dict[str, int] = defaultdict(int)
    for row in layers:
        counts[row.match] += 1
    parts = [
        f"{counts[m]} {words}"
        for m, words in (
            ("shared", "shared"),
            ("instruction", "paired by instruction"),
            ("position", "paired by position"),
            ("only-a", "only in A"),
            ("only-b", "only in B"),
        )
        if counts[m]
    ]
    if parts:
        lines.append(f"Layers: A has {len(a.layers)}, B has {len(b.layers)}; {', '.join(parts)}")
    return lines


# --- the diff -------------------------------------------------------------------------------


def diff_reports(a: InspectReport, b: InspectReport) -> DiffReport:
    """Compare report A (the baseline) with report B (the candidate)."""
    totals = DiffTotals(
        bytes=_delta(a.image.bytes, b.image.bytes),
        layer_bytes=_delta(a.image.layer_bytes, b.image.layer_bytes),
        python_bytes=_delta(a.totals.python_bytes, b.totals.python_bytes),
        bytecode_bytes=_delta(a.totals.bytecode_bytes, b.totals.bytecode_bytes),
        cache_bytes=_delta(a.totals.cache_bytes, b.totals.cache_bytes),
        dead_bytes=_delta(a.totals.dead_bytes, b.totals.dead_bytes),
    )
    cats_a = _category_sums(a.layers)
    cats_b = _category_sums(b.layers)
    categories = [
        CategoryDelta(
            category=name, a=cats_a[name], b=cats_b[name], delta=cats_b[name] - cats_a[name]
        )
        for name in CATEGORIES
    ]
    pairs = pair_packages(a.packages, b.packages)
    packages = sorted((_package_delta(p) for p in pairs), key=_package_sort_key)
    aligned = layer_alignment(a.layers, b.layers)
    return DiffReport(
        a=a.image.as_ref(),
        b=b.image.as_ref(),
        totals=totals,
        categories=categories,
        packages=packages,
        layers=[_layer_delta(row) for row in aligned],
        explanation=explain(a, b, totals, pairs, aligned),
    )
