"""`compare.diff_reports`: exact deltas, pairing, alignment and wording, on hand-built reports
and on generated images read through the real pipeline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import tests.diff_images as img
from pyimgsize.api import inspect
from pyimgsize.compare import (
    diff_reports,
    find_causes,
    layer_alignment,
    normalize_name,
    pair_packages,
)
from pyimgsize.report import (
    CATEGORIES,
    DeadCategories,
    Delta,
    DiffReport,
    InspectReport,
    Layer,
    Package,
)
from tests.diff_images import write_pair
from tests.diff_samples import (
    BASE,
    MB,
    SITE,
    VENV,
    bytecode_pair,
    cache,
    cache_pair,
    cats,
    identical_pair,
    install_layer,
    layer,
    layers_pair,
    moved_pair,
    pkg,
    rebased_pair,
    report,
    upgrade_pair,
)

ZERO = dict.fromkeys(CATEGORIES, 0)


def only(**changes: int) -> dict[str, int]:
    return {**ZERO, **changes}


def rows(diff: DiffReport) -> list[tuple[int | None, int | None, str, int]]:
    return [(x.a_index, x.b_index, x.match, x.delta) for x in diff.layers]


def totals(diff: DiffReport) -> dict[str, tuple[int, int, int, float | None]]:
    return {
        name: (d.a, d.b, d.delta, d.percent)
        for name, d in diff.totals.model_dump().items()
        for d in [Delta.model_validate(d)]
    }


# --- the scenario pairs ---------------------------------------------------------------------


def test_bytecode_added() -> None:
    diff = diff_reports(*bytecode_pair())
    assert diff.a.ref == "app:uv"
    assert diff.b.ref == "app:uv-compiled"
    assert totals(diff) == {
        "bytes": (140_040_000, 186_840_000, 46_800_000, 33.42),
        "layer_bytes": (140_040_000, 186_840_000, 46_800_000, 33.42),
        "python_bytes": (60_040_000, 106_840_000, 46_800_000, 77.95),
        "bytecode_bytes": (0, 46_800_000, 46_800_000, None),
        "cache_bytes": (0, 0, 0, None),
        "dead_bytes": (0, 0, 0, None),
    }
    assert [(c.category, c.a, c.b, c.delta) for c in diff.categories] == [
        ("bytecode", 0, 46_800_000, 46_800_000),
        ("source", 30_030_000, 30_030_000, 0),
        ("native", 25_000_000, 25_000_000, 0),
        ("metadata", 1_010_000, 1_010_000, 0),
        ("data", 4_000_000, 4_000_000, 0),
    ]
    assert [(p.name, p.status, p.a, p.b, p.delta, p.categories) for p in diff.packages] == [
        ("pandas", "changed", 33_500_000, 64_700_000, 31_200_000, only(bytecode=31_200_000)),
        ("numpy", "changed", 26_500_000, 42_100_000, 15_600_000, only(bytecode=15_600_000)),
        ("six", "same", 40_000, 40_000, 0, ZERO),
    ]
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "instruction", 46_800_000)]
    assert diff.layers[1].categories == only(bytecode=46_800_000)
    assert diff.explanation == [
        "B is +46.8 MB (+33.4%): bytecode +46.8 MB across 2 distributions "
        "(UV_COMPILE_BYTECODE?), largest pandas +31.2 MB",
        "Layers: A has 2, B has 2; 1 shared, 1 paired by instruction",
    ]


def test_bytecode_removed_is_the_mirror_image() -> None:
    a, b = bytecode_pair()
    diff = diff_reports(b, a)
    assert diff.totals.bytecode_bytes.delta == -46_800_000
    assert diff.totals.bytecode_bytes.percent == -100.0
    assert diff.totals.bytes.percent == -25.05
    assert [(p.name, p.delta) for p in diff.packages] == [
        ("pandas", -31_200_000),
        ("numpy", -15_600_000),
        ("six", 0),
    ]
    assert diff.explanation[0] == (
        "B is -46.8 MB (-25.0%): bytecode -46.8 MB across 2 distributions "
        "(UV_COMPILE_BYTECODE off?), largest pandas -31.2 MB"
    )


def test_cache_added() -> None:
    diff = diff_reports(*cache_pair())
    assert totals(diff)["cache_bytes"] == (0, 12_300_000, 12_300_000, None)
    assert totals(diff)["bytes"] == (113_540_000, 125_840_000, 12_300_000, 10.83)
    assert totals(diff)["python_bytes"] == (33_540_000, 33_540_000, 0, 0.0)
    assert [c.delta for c in diff.categories] == [0, 0, 0, 0, 0]
    assert [p.status for p in diff.packages] == ["same", "same"]
    # Different instructions (--no-cache-dir): paired by position, not by index.
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "position", 12_300_000)]
    assert diff.layers[1].created_by_a == "/bin/sh -c pip install --no-cache-dir pandas six"
    assert diff.layers[1].created_by_b == "/bin/sh -c pip install pandas six"
    assert diff.layers[1].categories == ZERO
    assert diff.explanation == [
        "B is +12.3 MB (+10.8%): caches and stray wheels +12.3 MB: "
        "pip cache /root/.cache/pip added +12.3 MB",
        "Layers: A has 2, B has 2; 1 shared, 1 paired by position",
    ]


def test_distribution_upgraded() -> None:
    diff = diff_reports(*upgrade_pair())
    assert totals(diff)["bytes"] == (151_000_000, 156_500_000, 5_500_000, 3.64)
    assert totals(diff)["bytecode_bytes"] == (11_000_000, 12_500_000, 1_500_000, 13.64)
    pandas, numpy = diff.packages
    assert (pandas.name, pandas.status, pandas.version_a, pandas.version_b) == (
        "pandas",
        "changed",
        "2.1.0",
        "2.2.0",
    )
    assert (pandas.a, pandas.b, pandas.delta) == (39_500_000, 45_000_000, 5_500_000)
    assert pandas.categories == only(bytecode=1_500_000, data=4_000_000)
    assert (numpy.status, numpy.delta, numpy.version_a, numpy.version_b) == (
        "same",
        0,
        "1.26.4",
        "1.26.4",
    )
    assert diff.explanation == [
        "B is +5.5 MB (+3.6%): 1 distribution changed version +4.0 MB besides bytecode, "
        "all data (pandas 2.1.0 -> 2.2.0 +4.0 MB)",
        "Bytecode +1.5 MB across 1 distribution, largest pandas +1.5 MB",
        "Layers: A has 2, B has 2; 1 shared, 1 paired by instruction",
    ]


def test_base_image_changed_shares_no_layer() -> None:
    diff = diff_reports(*rebased_pair())
    assert totals(diff)["bytes"] == (106_500_000, 56_500_000, -50_000_000, -46.95)
    assert totals(diff)["python_bytes"] == (26_500_000, 26_500_000, 0, 0.0)
    assert [p.status for p in diff.packages] == ["same"]
    # The base layers' ADD instructions differ only in their content hash.
    assert rows(diff) == [(0, 0, "instruction", -50_000_000), (1, 1, "instruction", 0)]
    assert "shared" not in {x.match for x in diff.layers}
    assert diff.explanation == [
        "B is -50.0 MB (-46.9%): outside Python -50.0 MB "
        "(no layer is shared: a different base image?)",
        "Layers: A has 2, B has 2; 2 paired by instruction",
    ]


def test_different_layer_counts_align_by_instruction_not_index() -> None:
    a, b = layers_pair()
    diff = diff_reports(a, b)
    assert rows(diff) == [
        (0, 0, "shared", 0),
        (None, 1, "only-b", 5_000_000),
        (1, 2, "instruction", 20),
        (2, 3, "instruction", 12_300_000),
        (None, 4, "only-b", 0),
    ]
    only_b = diff.layers[1]
    assert (only_b.a_bytes, only_b.b_bytes, only_b.created_by_a) == (0, 5_000_000, None)
    assert only_b.created_by_b == "/bin/sh -c apt-get install -y libpq5"
    assert totals(diff)["bytes"] == (80_040_100, 85_040_120, 5_000_020, 6.25)
    assert totals(diff)["layer_bytes"] == (80_040_100, 97_340_120, 17_300_020, 21.61)
    assert totals(diff)["dead_bytes"] == (0, 12_300_000, 12_300_000, None)
    assert diff.explanation == [
        "B is +5.0 MB (+6.2%), +17.3 MB shipped (+21.6%): dead bytes +12.3 MB (written by "
        "a layer, deleted or overwritten by a later one: shipped, never visible), largest "
        "B layer 3 `pip install -r /app/requirements.txt` +12.3 MB, mostly cache +12.3 MB",
        "Outside Python +5.0 MB, largest B layer 1 `apt-get install -y libpq5` +5.0 MB",
        "Layers: A has 3, B has 5; 1 shared, 2 paired by instruction, 2 only in B",
    ]
    # And the other way round: the same pairs, as only-a rows in A's order.
    back = diff_reports(b, a)
    assert rows(back) == [
        (0, 0, "shared", 0),
        (1, None, "only-a", -5_000_000),
        (2, 1, "instruction", -20),
        (3, 2, "instruction", -12_300_000),
        (4, None, "only-a", 0),
    ]


def test_identical_images() -> None:
    diff = diff_reports(*identical_pair())
    assert diff.a.ref == "app:latest"
    assert diff.b.ref == "app.tar"
    assert all(d.delta == 0 for d in diff.totals.model_dump().values() for d in [Delta(**d)])
    assert totals(diff)["bytes"] == (106_540_000, 106_540_000, 0, 0.0)
    assert [c.delta for c in diff.categories] == [0, 0, 0, 0, 0]
    assert [(p.name, p.status, p.delta) for p in diff.packages] == [
        ("numpy", "same", 0),
        ("six", "same", 0),
    ]
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "shared", 0)]
    assert diff.explanation == [
        "A and B are the same image (same image ID)",
        "Layers: A has 2, B has 2; 2 shared",
    ]


def test_identical_content_under_a_different_id() -> None:
    a, b = identical_pair()
    b.image.id = "sha256:other"
    diff = diff_reports(a, b)
    assert diff.explanation[0] == (
        "B has the same visible size as A (106.5 MB): no total or category differs, "
        "nor any distribution"
    )


def test_moved_site_packages_pairs_by_name() -> None:
    diff = diff_reports(*moved_pair())
    assert [(p.name, p.status, p.delta, p.site_packages) for p in diff.packages] == [
        ("numpy", "changed", 0, VENV),
        ("six", "changed", 0, VENV),
    ]
    assert diff.packages[0].categories == ZERO
    assert diff.explanation == [
        "B has the same visible size as A (106.5 MB): no total or category differs",
        f"2 distributions moved: {SITE} -> {VENV}",
        "Layers: A has 2, B has 2; 1 shared, 1 paired by instruction",
    ]


PAIRS = [
    bytecode_pair,
    cache_pair,
    upgrade_pair,
    rebased_pair,
    layers_pair,
    identical_pair,
    moved_pair,
]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda f: f.__name__)
def test_causes_add_up_to_the_shipped_delta(
    pair: Callable[[], tuple[InspectReport, InspectReport]],
) -> None:
    a, b = pair()
    diff = diff_reports(a, b)
    pairs = pair_packages(a.packages, b.packages)
    causes = find_causes(a, b, pairs, layer_alignment(a.layers, b.layers))
    assert sum(c.bytes for c in causes) == diff.totals.layer_bytes.delta
    assert [abs(c.bytes) for c in causes] == sorted((abs(c.bytes) for c in causes), reverse=True)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda f: f.__name__)
def test_layer_and_category_deltas_add_up(
    pair: Callable[[], tuple[InspectReport, InspectReport]],
) -> None:
    diff = diff_reports(*pair())
    assert sum(x.delta for x in diff.layers) == diff.totals.layer_bytes.delta
    for c in diff.categories:
        assert sum(x.categories[c.category] for x in diff.layers) == c.delta
        assert sum(p.categories[c.category] for p in diff.packages) == c.delta


# --- distributions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "normal"),
    [("Foo_Bar", "foo-bar"), ("foo.bar", "foo-bar"), ("FOO--_.bar", "foo-bar"), ("six", "six")],
)
def test_normalize_name(name: str, normal: str) -> None:
    assert normalize_name(name) == normal


def _two(pa: list[Package], pb: list[Package]) -> DiffReport:
    """A and B: the same base layer plus one install layer holding exactly their packages."""
    la = [BASE, install_layer(1, "sha256:a1", "RUN pip install -r requirements.txt", pa)]
    lb = [BASE, install_layer(1, "sha256:b1", "RUN pip install -r requirements.txt", pb)]
    return diff_reports(report("a", la, pa), report("b", lb, pb))


def test_pairing_uses_normalised_names() -> None:
    diff = _two(
        [pkg("PyYAML", "6.0", cats(source=100))], [pkg("pyyaml", "6.0.1", cats(source=150))]
    )
    assert [(p.name, p.status, p.delta, p.version_a, p.version_b) for p in diff.packages] == [
        ("pyyaml", "changed", 50, "6.0", "6.0.1")
    ]


def test_added_and_removed_sorted_by_absolute_delta_then_name() -> None:
    diff = _two(
        [pkg("old", "1", cats(source=300)), pkg("keep", "1", cats(source=10))],
        [
            pkg("keep", "1", cats(source=10)),
            pkg("new-b", "2", cats(source=300)),
            pkg("new-a", "2", cats(native=300)),
            pkg("big", "3", cats(data=1000)),
        ],
    )
    assert [(p.name, p.status, p.a, p.b, p.delta) for p in diff.packages] == [
        ("big", "added", None, 1000, 1000),
        ("new-a", "added", None, 300, 300),
        ("new-b", "added", None, 300, 300),
        ("old", "removed", 300, None, -300),
        ("keep", "same", 10, 10, 0),
    ]
    assert diff.packages[3].categories == only(source=-300)
    assert diff.packages[3].version_a == "1"
    assert diff.packages[3].version_b is None
    assert diff.explanation[0] == (
        "B is +1.3 kB (+0.0%): 3 new distributions +1.6 kB (big 3 +1.0 kB, new-a 2 +300 B, "
        "new-b 2 +300 B)"
    )
    assert diff.explanation[1] == "1 distribution removed -300 B (old 1 -300 B)"


def test_same_name_in_two_site_packages_pairs_by_path() -> None:
    diff = _two(
        [
            pkg("pip", "23.0", cats(source=100), site=SITE),
            pkg("pip", "24.0", cats(source=200), site=VENV),
        ],
        [
            pkg("pip", "23.0", cats(source=100), site=SITE),
            pkg("pip", "24.2", cats(source=260), site=VENV),
        ],
    )
    assert [(p.site_packages, p.status, p.delta, p.version_b) for p in diff.packages] == [
        (VENV, "changed", 60, "24.2"),
        (SITE, "same", 0, "23.0"),
    ]


def test_ambiguous_move_is_not_paired() -> None:
    other = "/srv/app/lib/python3.11/site-packages"
    diff = _two(
        [
            pkg("foo", "1", cats(source=100), site=SITE),
            pkg("foo", "1", cats(source=100), site=VENV),
        ],
        [pkg("foo", "1", cats(source=100), site=other)],
    )
    assert sorted((p.site_packages, p.status) for p in diff.packages) == [
        (VENV, "removed"),
        (other, "added"),
        (SITE, "removed"),
    ]


def test_same_version_content_change_is_changed() -> None:
    diff = _two(
        [pkg("foo", "1", cats(source=100, data=50))], [pkg("foo", "1", cats(source=100, data=80))]
    )
    (foo,) = diff.packages
    assert (foo.status, foo.delta, foo.categories) == ("changed", 30, only(data=30))
    assert diff.explanation[0] == (
        "B is +30 B (+0.0%): 1 distribution changed without a version change +30 B, all data "
        "(foo +30 B)"
    )


def test_percent_is_null_when_a_is_zero() -> None:
    diff = _two([], [pkg("foo", "1", cats(source=100))])
    assert diff.totals.python_bytes.percent is None
    assert diff.totals.bytecode_bytes.percent is None
    assert diff.totals.bytes.percent == 0.0  # 100 / 80_000_000, rounded to two decimals
    assert Delta(a=0, b=0, delta=0).percent is None


# --- layer alignment ------------------------------------------------------------------------


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


def test_report_roundtrip_through_json() -> None:
    diff = diff_reports(*upgrade_pair())
    again = DiffReport.model_validate_json(diff.model_dump_json())
    assert again == diff
    dumped = diff.model_dump()
    assert set(dumped) >= {"schema_version", "a", "b", "totals", "categories", "packages", "layers"}
    assert set(dumped["a"]) == {"ref", "source", "id", "bytes", "layer_bytes"}


def test_inputs_are_not_modified() -> None:
    a, b = bytecode_pair()
    before = (a.model_dump_json(), b.model_dump_json())
    diff_reports(a, b)
    assert (a.model_dump_json(), b.model_dump_json()) == before
    assert isinstance(a, InspectReport)


# --- generated images through the real pipeline ------------------------------------------------
# A is written as a docker save archive, B as an OCI layout; expected numbers come from the
# fixture entries (tests/diff_images.py), never from pyimgsize.


def _diff_images(tmp_path: Path, name: str) -> DiffReport:
    ref_a, ref_b = write_pair(tmp_path, name)
    return diff_reports(inspect(ref_a), inspect(ref_b))


def test_images_bytecode_added(tmp_path: Path) -> None:
    diff = _diff_images(tmp_path, "bytecode")
    pyc = img.size_of(img.pandas(pyc=True), img.is_pyc)
    assert pyc == 1_600 + 3_600  # 100 + size // 2 for __init__.py (3 kB) and core.py (7 kB)
    python_a = img.size_of(img.pandas() + img.six())
    assert totals(diff) == {
        "bytes": (img.BASE_BYTES + python_a, img.BASE_BYTES + python_a + pyc, pyc, 2.86),
        "layer_bytes": (img.BASE_BYTES + python_a, img.BASE_BYTES + python_a + pyc, pyc, 2.86),
        "python_bytes": (python_a, python_a + pyc, pyc, 16.36),
        "bytecode_bytes": (0, pyc, pyc, None),
        "cache_bytes": (0, 0, 0, None),
        "dead_bytes": (0, 0, 0, None),
    }
    assert [(p.name, p.status, p.delta, p.categories) for p in diff.packages] == [
        ("pandas", "changed", 5_200, only(bytecode=5_200)),
        ("six", "same", 0, ZERO),
    ]
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "instruction", 5_200)]
    assert diff.a.source == "docker-archive"
    assert diff.b.source == "oci"
    assert diff.explanation[0] == (
        "B is +5.2 kB (+2.9%): bytecode +5.2 kB across 1 distribution (UV_COMPILE_BYTECODE?), "
        "largest pandas +5.2 kB"
    )


def test_images_cache_added(tmp_path: Path) -> None:
    diff = _diff_images(tmp_path, "cache")
    cache = img.size_of(img.CACHE_FILES)
    assert cache == 15_000
    assert totals(diff)["cache_bytes"] == (0, cache, cache, None)
    assert diff.totals.bytes.delta == cache
    assert diff.totals.python_bytes.delta == 0
    assert [(p.name, p.status) for p in diff.packages] == [("pandas", "same"), ("six", "same")]
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "position", cache)]
    assert diff.explanation[0] == (
        "B is +15.0 kB (+8.0%): caches and stray wheels +15.0 kB: "
        "pip cache /root/.cache/pip added +15.0 kB"
    )


def test_images_distribution_upgraded(tmp_path: Path) -> None:
    diff = _diff_images(tmp_path, "upgrade")
    old = img.pandas(installer="pip", pyc=True)
    new = img.pandas("2.2.0", core=9_000, installer="pip", pyc=True)
    metadata = img.size_of(new, img.is_metadata) - img.size_of(old, img.is_metadata)
    pandas, six = diff.packages
    assert (pandas.name, pandas.status, pandas.version_a, pandas.version_b) == (
        "pandas",
        "changed",
        "2.1.0",
        "2.2.0",
    )
    assert (pandas.a, pandas.b) == (img.size_of(old), img.size_of(new))
    assert pandas.categories == only(bytecode=1_000, source=2_000, metadata=metadata)
    assert pandas.delta == 3_000 + metadata
    assert (six.name, six.status, six.delta) == ("six", "same", 0)
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "instruction", 3_000 + metadata)]
    assert diff.totals.bytecode_bytes.delta == 1_000


def test_images_base_changed_shares_no_layer(tmp_path: Path) -> None:
    diff = _diff_images(tmp_path, "rebased")
    assert rows(diff) == [(0, 0, "instruction", -60_000), (1, 1, "instruction", -1_000)]
    assert totals(diff)["bytes"][2] == -61_000
    assert totals(diff)["python_bytes"][2] == 0
    assert [p.status for p in diff.packages] == ["same", "same"]
    assert diff.explanation[0] == (
        "B is -61.0 kB (-27.5%): outside Python -61.0 kB "
        "(no layer is shared: a different base image?)"
    )


def test_images_different_layer_counts(tmp_path: Path) -> None:
    diff = _diff_images(tmp_path, "layers")
    cache = img.size_of(img.CACHE_FILES)
    assert rows(diff) == [
        (0, 0, "shared", 0),
        (None, 1, "only-b", 5_000),
        (1, 2, "instruction", 20),
        (2, 3, "instruction", cache),
        (None, 4, "only-b", 0),
    ]
    assert totals(diff)["bytes"][2] == 5_020
    assert totals(diff)["layer_bytes"][2] == 5_020 + cache
    assert totals(diff)["dead_bytes"] == (0, cache, cache, None)
    assert totals(diff)["cache_bytes"] == (0, 0, 0, None)
    assert diff.explanation[:2] == [
        "B is +5.0 kB (+3.3%), +20.0 kB shipped (+13.2%): dead bytes +15.0 kB (written by a "
        "layer, deleted or overwritten by a later one: shipped, never visible), largest B layer "
        "3 `pip install -r /app/requirements.txt` +15.0 kB, mostly cache +15.0 kB",
        "Outside Python +5.0 kB, largest B layer 1 `apt-get install -y libpq5` +5.0 kB",
    ]


def test_images_identical(tmp_path: Path) -> None:
    diff = _diff_images(tmp_path, "identical")
    assert diff.a.id == diff.b.id
    assert all(delta == 0 for _a, _b, delta, _pct in totals(diff).values())
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "shared", 0)]
    assert [p.status for p in diff.packages] == ["same", "same"]
    assert diff.explanation == [
        "A and B are the same image (same image ID)",
        "Layers: A has 2, B has 2; 2 shared",
    ]


def test_hardlinked_cache_counts_only_its_exclusive_bytes() -> None:
    # B deletes a uv cache that was partly hardlinked into the venv: 100 MB of cache bytes go,
    # only the 300 kB nothing else links are freed from view, and they stay shipped as dead bytes.
    pa = [pkg("numpy", "1", cats(native=99_700_000), site=VENV, installer="uv")]
    install = layer(1, "i", "RUN uv pip install numpy", 100 * MB, python=cats(native=99_700_000))
    a = report("a", [BASE, install], pa, caches=[])
    a.caches = [cache("/root/.cache/uv", "uv", 100 * MB, exclusive=300_000)]
    a.totals.cache_bytes = 100 * MB
    dead = DeadCategories(cache=300_000)
    install_b = install.model_copy(update={"dead_bytes": 300_000, "dead_categories": dead})
    b = report("b", [BASE, install_b, layer(2, "rm", "RUN rm -rf /root/.cache/uv", 0)], pa)
    diff = diff_reports(a, b)
    assert totals(diff)["cache_bytes"] == (100 * MB, 0, -100 * MB, -100.0)
    assert totals(diff)["bytes"][2] == -300_000
    assert totals(diff)["layer_bytes"][2] == 0
    assert diff.explanation == [
        "B is -300.0 kB (-0.2%), 0 B shipped (+0.0%): caches and stray wheels -300.0 kB "
        "(of -100.0 MB cache bytes; the rest are hardlinks that other files keep): "
        "uv cache /root/.cache/uv removed -100.0 MB",
        "Dead bytes +300.0 kB (written by a layer, deleted or overwritten by a later one: "
        "shipped, never visible), largest B layer 1 `RUN uv pip install numpy` +300.0 kB, "
        "mostly cache +300.0 kB",
        "Layers: A has 2, B has 3; 2 shared, 1 only in B",
    ]
    causes = find_causes(
        a, b, pair_packages(a.packages, b.packages), layer_alignment(a.layers, b.layers)
    )
    assert sum(c.bytes for c in causes) == 0


def test_dead_bytes_name_the_layer_that_held_them() -> None:
    # A's wheelhouse layer held 30 MB of dead bytes; B's layer at that position holds none.
    wheels = DeadCategories(cache=30 * MB)
    a = report(
        "a",
        [
            BASE,
            layer(1, "w", "COPY multi:" + "e" * 64 + " in /wheels/", 30 * MB, dead=wheels),
            layer(2, "rm", "RUN rm -rf /wheels", 0),
        ],
        [],
    )
    b = report("b", [BASE, layer(1, "v", "COPY dir:" + "f" * 64 + " in /opt/venv", 0)], [])
    diff = diff_reports(a, b)
    assert diff.explanation[0] == (
        "B has the same visible size as A (80.0 MB), -30.0 MB shipped (-27.3%): dead bytes "
        "-30.0 MB (written by a layer, deleted or overwritten by a later one: shipped, never "
        "visible), largest A layer 1 `COPY multi:eeeeeeeeeeee… in /wheels/` -30.0 MB, "
        "mostly cache -30.0 MB"
    )
