"""`diff.diff_reports`: exact deltas, rows and causes (as data) on hand-built reports and on
generated images read through the real pipeline. Wording is tested in
tests/render/test_diff_words.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import tests.diff_images as img
from pyimgsize.api import inspect
from pyimgsize.diff import diff_reports
from pyimgsize.report import (
    CATEGORIES,
    Delta,
    DiffCause,
    DiffReport,
    InspectReport,
)
from tests.diff_images import write_pair
from tests.diff_samples import (
    MB,
    SITE,
    VENV,
    added_removed_pair,
    bytecode_pair,
    cache_pair,
    dead_wheelhouse_pair,
    hardlinked_cache_pair,
    identical_pair,
    layers_pair,
    moved_pair,
    rebased_pair,
    upgrade_pair,
)

ZERO = dict.fromkeys(CATEGORIES, 0)


def check_causes(diff: DiffReport) -> None:
    """Causes partition the shipped delta exactly, largest (absolute) first, none zero."""
    assert sum(c.bytes for c in diff.causes) == diff.totals.layer_bytes.delta
    sizes = [abs(c.bytes) for c in diff.causes]
    assert sizes == sorted(sizes, reverse=True)
    assert all(c.bytes for c in diff.causes)


def only(**changes: int) -> dict[str, int]:
    return {**ZERO, **changes}


def rows(diff: DiffReport) -> list[tuple[int | None, int | None, str, int]]:
    return [(x.a_index, x.b_index, x.match, x.delta) for x in diff.layers]


def totals(diff: DiffReport) -> dict[str, tuple[int, int, int, float | None]]:
    return {
        name: (d.a, d.b, d.delta, d.percent)
        for name, raw in diff.totals.model_dump().items()
        if raw is not None  # compressed_bytes, unless both images know theirs
        for d in [Delta.model_validate(raw)]
    }


def kinds(diff: DiffReport) -> list[tuple[str, int]]:
    return [(c.kind, c.bytes) for c in diff.causes]


def shares(cause: DiffCause) -> list[tuple[str, int]]:
    return [(p.name, p.bytes) for p in cause.packages]


def where(cause: DiffCause) -> tuple[str, int, int] | None:
    """The cause's layer as (side, index, bytes)."""
    return None if cause.layer is None else (cause.layer.side, cause.layer.index, cause.layer.bytes)


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
    (cause,) = diff.causes
    assert (cause.kind, cause.bytes, cause.hint) == ("bytecode", 46_800_000, "uv-compile-bytecode")
    assert shares(cause) == [("pandas", 31_200_000), ("numpy", 15_600_000)]
    assert {p.installer for p in cause.packages} == {"uv"}


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
    (cause,) = diff.causes
    assert (cause.kind, cause.bytes, cause.hint) == ("bytecode", -46_800_000, "uv-compile-bytecode")
    assert shares(cause) == [("pandas", -31_200_000), ("numpy", -15_600_000)]


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
    (cause,) = diff.causes
    assert (cause.kind, cause.bytes, cause.cache_bytes) == ("caches", 12_300_000, 12_300_000)
    assert [p.model_dump() for p in cause.paths] == [
        {"path": "/root/.cache/pip", "kind": "pip", "change": "added", "bytes": 12_300_000}
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
    versions, bytecode = diff.causes
    assert (versions.kind, versions.bytes, versions.besides_bytecode) == (
        "versions",
        4_000_000,
        True,
    )
    assert [(p.name, p.version_a, p.version_b, p.bytes) for p in versions.packages] == [
        ("pandas", "2.1.0", "2.2.0", 4_000_000)
    ]
    assert versions.category is not None
    assert (versions.category.category, versions.category.only) == ("data", True)
    # pandas already had bytecode in A: no switch flipped, so no hint.
    assert (bytecode.kind, bytecode.bytes, bytecode.hint) == ("bytecode", 1_500_000, None)
    assert shares(bytecode) == [("pandas", 1_500_000)]


def test_base_image_changed_shares_no_layer() -> None:
    diff = diff_reports(*rebased_pair())
    assert totals(diff)["bytes"] == (106_500_000, 56_500_000, -50_000_000, -46.95)
    assert totals(diff)["python_bytes"] == (26_500_000, 26_500_000, 0, 0.0)
    assert [p.status for p in diff.packages] == ["same"]
    # The base layers' ADD instructions differ only in their content hash.
    assert rows(diff) == [(0, 0, "instruction", -50_000_000), (1, 1, "instruction", 0)]
    assert "shared" not in {x.match for x in diff.layers}
    (cause,) = diff.causes
    assert (cause.kind, cause.bytes, cause.hint, cause.layer) == (
        "outside",
        -50_000_000,
        "no-layer-shared",
        None,
    )


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
    dead, outside = diff.causes
    assert (dead.kind, dead.bytes, where(dead)) == ("dead", 12_300_000, ("b", 3, 12_300_000))
    assert dead.category is not None
    assert (dead.category.category, dead.category.bytes) == ("cache", 12_300_000)
    assert (outside.kind, outside.bytes, where(outside)) == (
        "outside",
        5_000_020,
        ("b", 1, 5_000_000),
    )
    assert outside.layer is not None
    assert outside.layer.created_by == "/bin/sh -c apt-get install -y libpq5"
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
    assert all(d[2] == 0 for d in totals(diff).values())
    assert totals(diff)["bytes"] == (106_540_000, 106_540_000, 0, 0.0)
    assert [c.delta for c in diff.categories] == [0, 0, 0, 0, 0]
    assert [(p.name, p.status, p.delta) for p in diff.packages] == [
        ("numpy", "same", 0),
        ("six", "same", 0),
    ]
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "shared", 0)]
    assert diff.causes == []


def test_compressed_delta_when_both_sides_know_it() -> None:
    a, b = upgrade_pair()
    assert diff_reports(a, b).totals.compressed_bytes is None  # neither knows it
    a.image.compressed_bytes = 40 * MB
    assert diff_reports(a, b).totals.compressed_bytes is None  # only one side knows it
    b.image.compressed_bytes = 50 * MB
    assert totals(diff_reports(a, b))["compressed_bytes"] == (40 * MB, 50 * MB, 10 * MB, 25.0)


def test_identical_content_under_a_different_id() -> None:
    a, b = identical_pair()
    b.image.id = "sha256:other"
    diff = diff_reports(a, b)
    assert diff.a.id != diff.b.id
    assert diff.causes == []
    assert {p.status for p in diff.packages} == {"same"}


def test_moved_site_packages_pairs_by_name() -> None:
    diff = diff_reports(*moved_pair())
    assert [(p.name, p.status, p.delta, p.site_packages) for p in diff.packages] == [
        ("numpy", "changed", 0, VENV),
        ("six", "changed", 0, VENV),
    ]
    assert diff.packages[0].categories == ZERO
    assert [p.moved_from for p in diff.packages] == [SITE, SITE]
    assert diff.causes == []


PAIRS = [
    added_removed_pair,
    dead_wheelhouse_pair,
    hardlinked_cache_pair,
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
    check_causes(diff_reports(*pair()))
    a, b = pair()
    check_causes(diff_reports(b, a))


@pytest.mark.parametrize("pair", PAIRS, ids=lambda f: f.__name__)
def test_layer_and_category_deltas_add_up(
    pair: Callable[[], tuple[InspectReport, InspectReport]],
) -> None:
    diff = diff_reports(*pair())
    assert sum(x.delta for x in diff.layers) == diff.totals.layer_bytes.delta
    for c in diff.categories:
        assert sum(x.categories[c.category] for x in diff.layers) == c.delta
        assert sum(p.categories[c.category] for p in diff.packages) == c.delta


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
    (cause,) = diff.causes
    assert (cause.kind, cause.bytes, cause.hint) == ("bytecode", pyc, "uv-compile-bytecode")
    assert shares(cause) == [("pandas", pyc)]


def test_images_cache_added(tmp_path: Path) -> None:
    diff = _diff_images(tmp_path, "cache")
    cache = img.size_of(img.CACHE_FILES)
    assert cache == 15_000
    assert totals(diff)["cache_bytes"] == (0, cache, cache, None)
    assert diff.totals.bytes.delta == cache
    assert diff.totals.python_bytes.delta == 0
    assert [(p.name, p.status) for p in diff.packages] == [("pandas", "same"), ("six", "same")]
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "position", cache)]
    (cause,) = diff.causes
    assert (cause.kind, cause.bytes) == ("caches", cache)
    assert [(p.path, p.kind, p.change, p.bytes) for p in cause.paths] == [
        (img.PIP_CACHE, "pip", "added", cache)
    ]


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
    assert [(c.kind, c.bytes, c.hint) for c in diff.causes] == [
        ("outside", -61_000, "no-layer-shared")
    ]


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
    dead, outside = diff.causes
    assert (dead.kind, dead.bytes, where(dead)) == ("dead", cache, ("b", 3, cache))
    assert dead.layer is not None
    assert dead.layer.created_by == img.PIP_INSTALL
    assert dead.category is not None
    assert (dead.category.category, dead.category.bytes) == ("cache", cache)
    assert (outside.kind, outside.bytes, where(outside)) == ("outside", 5_020, ("b", 1, 5_000))


def test_images_identical(tmp_path: Path) -> None:
    diff = _diff_images(tmp_path, "identical")
    assert diff.a.id == diff.b.id
    assert all(delta == 0 for _a, _b, delta, _pct in totals(diff).values())
    assert rows(diff) == [(0, 0, "shared", 0), (1, 1, "shared", 0)]
    assert [p.status for p in diff.packages] == ["same", "same"]
    assert diff.causes == []


def test_hardlinked_cache_counts_only_its_exclusive_bytes() -> None:
    diff = diff_reports(*hardlinked_cache_pair())
    assert totals(diff)["cache_bytes"] == (100 * MB, 0, -100 * MB, -100.0)
    assert totals(diff)["bytes"][2] == -300_000
    assert totals(diff)["layer_bytes"][2] == 0
    caches, dead = diff.causes
    assert (caches.kind, caches.bytes, caches.cache_bytes) == ("caches", -300_000, -100 * MB)
    assert [(p.path, p.kind, p.change, p.bytes) for p in caches.paths] == [
        ("/root/.cache/uv", "uv", "removed", -100 * MB)
    ]
    assert (dead.kind, dead.bytes, where(dead)) == ("dead", 300_000, ("b", 1, 300_000))
    check_causes(diff)


def test_dead_bytes_name_the_layer_that_held_them() -> None:
    diff = diff_reports(*dead_wheelhouse_pair())
    (dead,) = diff.causes
    assert (dead.kind, dead.bytes, where(dead)) == ("dead", -30 * MB, ("a", 1, -30 * MB))
    assert dead.category is not None
    assert dead.category.model_dump() == {"category": "cache", "bytes": -30 * MB, "only": True}


@pytest.mark.parametrize("name", list(img.PAIRS))
def test_images_causes_add_up_to_the_shipped_delta(tmp_path: Path, name: str) -> None:
    ref_a, ref_b = write_pair(tmp_path, name)
    a, b = inspect(ref_a), inspect(ref_b)
    check_causes(diff_reports(a, b))
    check_causes(diff_reports(b, a))
