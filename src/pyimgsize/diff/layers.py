"""Align the layers of A and B (design.md §4), never by index alone.

See container-diff#239 for what pairing by index does. First identical `diff_id` (`shared`;
a diff_id that occurs several times pairs its k-th occurrence in A with its k-th in B), then
identical `created_by` (`instruction`), then `created_by` equal once whitespace is collapsed
and the classic builder's content hashes are blanked (also `instruction`: `COPY
file:<sha256> in /app` names its content, so it changes whenever the copied files do, yet it
is the same Dockerfile step), then by position among the rest (`position`): the pairs found
so far that are in the same order in both images cut both layer lists into gaps, and inside
each gap the unpaired layers are paired first with first; what remains is `only-a` or
`only-b`. Rows are listed in B's layer order, a layer only in A right after the B layer it
follows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from pyimgsize.diff.common import category_values
from pyimgsize.report import CATEGORIES, Layer, LayerDelta

__all__ = ["LayerPair", "Match", "layer_alignment", "layer_delta"]

_CONTENT_HASH = re.compile(r"\b(?:file|dir|multi):[0-9a-f]{64}\b")
_WHITESPACE = re.compile(r"\s+")
_SHELL = re.compile(r"^/bin/(?:ba)?sh -c (?:#\(nop\)\s*)?")
_BUILDKIT = re.compile(r"\s*# buildkit\s*$")

Match = Literal["shared", "instruction", "position", "only-a", "only-b"]


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
    """One aligned row: A's layer, B's layer (None on the side that lacks it), how matched."""

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


def layer_delta(pair: LayerPair) -> LayerDelta:
    """The wire row of one aligned pair: sizes, per-category deltas, how it matched."""
    a, b = pair.a, pair.b
    cats_a = category_values(a.categories if a else None)
    cats_b = category_values(b.categories if b else None)
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
