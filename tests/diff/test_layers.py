"""`diff.layers`: layer alignment by diff_id, instruction, position; never by index alone."""

from __future__ import annotations

from pyimgsize.diff import diff_reports, layer_alignment
from pyimgsize.report import Layer
from tests.diff_samples import cats, layer, pkg, report


def L(index: int, diff_id: str, created_by: str | None = None, nbytes: int = 1) -> Layer:
    return layer(index, diff_id, created_by, nbytes)


def align(a: list[Layer], b: list[Layer]) -> list[tuple[int | None, int | None, str]]:
    return [
        (r.a.index if r.a else None, r.b.index if r.b else None, r.match)
        for r in layer_alignment(a, b)
    ]


def test_repeated_diff_ids_pair_in_order() -> None:
    a = [L(0, "e"), L(1, "x", "X"), L(2, "e")]
    b = [L(0, "e"), L(1, "e")]
    assert align(a, b) == [(0, 0, "shared"), (1, None, "only-a"), (2, 1, "shared")]


def test_instruction_after_content_hash_normalisation() -> None:
    copy = "/bin/sh -c #(nop) COPY file:{} in /app "
    a = [L(0, "a0", copy.format("1" * 64)), L(1, "a1", "RUN true")]
    b = [L(0, "b0", "RUN apt-get update"), L(1, "b1", copy.format("2" * 64))]
    # Not by index (0↔0), not by position: the COPY step pairs with the COPY step.
    assert align(a, b) == [
        (None, 0, "only-b"),
        (0, 1, "instruction"),
        (1, None, "only-a"),
    ]


def test_exact_instruction_wins_over_normalised_one() -> None:
    copy = "COPY file:{} in /app"
    a = [L(0, "a0", copy.format("1" * 64)), L(1, "a1", copy.format("2" * 64))]
    b = [L(0, "b0", copy.format("2" * 64))]
    assert align(a, b) == [(0, None, "only-a"), (1, 0, "instruction")]


def test_position_pairs_inside_gaps_between_anchors() -> None:
    a = [L(0, "base"), L(1, "x", "X"), L(2, "r", "RUN1"), L(3, "y", "Y")]
    b = [L(0, "base"), L(1, "r2", "RUN1"), L(2, "y2", "Y2")]
    # X sits before the RUN1 anchor, Y after it: X is only in A, Y pairs with Y2.
    assert align(a, b) == [
        (0, 0, "shared"),
        (1, None, "only-a"),
        (2, 1, "instruction"),
        (3, 2, "position"),
    ]


def test_crossing_pairs_are_listed_in_b_order() -> None:
    a = [L(0, "p", "P"), L(1, "q", "Q"), L(2, "z", "Z")]
    b = [L(0, "q", "Q"), L(1, "p", "P"), L(2, "w", "W")]
    assert align(a, b) == [(1, 0, "shared"), (0, 1, "shared"), (2, 2, "position")]


def test_no_created_by_falls_back_to_position() -> None:
    a = [L(0, "a0"), L(1, "a1"), L(2, "a2")]
    b = [L(0, "b0"), L(1, "b1")]
    assert align(a, b) == [(0, 0, "position"), (1, 1, "position"), (2, None, "only-a")]


def test_empty_images() -> None:
    assert align([], []) == []
    assert align([L(0, "a")], []) == [(0, None, "only-a")]
    assert align([], [L(0, "b")]) == [(None, 0, "only-b")]


def test_shared_layer_with_shifted_attribution_keeps_its_category_delta() -> None:
    # B's later layer deletes a file the shared layer wrote: same diff_id, fewer visible bytes.
    shared_a = layer(0, "s", "RUN pip install foo", 100, python=cats(source=100))
    shared_b = layer(0, "s", "RUN pip install foo", 100, python=cats(source=60))
    a = report("a", [shared_a], [pkg("foo", "1", cats(source=100), layer_index=0)])
    b = report(
        "b",
        [shared_b, layer(1, "rm", "RUN rm foo/big.py", 0)],
        [pkg("foo", "1", cats(source=60), layer_index=0)],
    )
    diff = diff_reports(a, b)
    assert [(x.match, x.delta, x.categories["source"]) for x in diff.layers] == [
        ("shared", 0, -40),
        ("only-b", 0, 0),
    ]
