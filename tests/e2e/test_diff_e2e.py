"""`diff` of real Dockerfile.test variants, checked against the in-container ground truth.

For each pair, A is read through the engine and B through a `docker save` archive (mixed
sources), and every Python number of the diff is compared with the difference of the two
truths (e2e/truth.py, run inside containers of the images): Python, bytecode and cache totals,
and each distribution's delta and per-category deltas. Layer rows are checked against the image
configs (diff_ids and history), read without pyimgsize. One test runs the CLI against a saved
baseline report, as CI would.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pyimgsize.diff import diff_reports
from pyimgsize.report import CATEGORIES, DiffReport, InspectReport
from tests.e2e.harness import E2E, pyimgsize_json

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

Json = dict[str, Any]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _report(e2e: E2E, variant: str, source: str) -> InspectReport:
    return InspectReport.model_validate(e2e.report(variant, source))


def expected_packages(truth_a: Json, truth_b: Json) -> dict[tuple[str, str], Json]:
    """(normalised name, B's site-packages or A's) -> {a, b, delta, categories, status-ish},
    from the truths alone: same name and directory first, then a name unique on both sides."""
    left_a = list(truth_a["packages"])
    left_b = list(truth_b["packages"])
    pairs: list[tuple[Json | None, Json | None]] = []
    for pa in list(left_a):
        same = [
            pb
            for pb in left_b
            if _norm(pb["name"]) == _norm(pa["name"]) and pb["site_packages"] == pa["site_packages"]
        ]
        if len(same) == 1:
            pairs.append((pa, same[0]))
            left_a.remove(pa)
            left_b.remove(same[0])
    for pa in list(left_a):
        name = _norm(pa["name"])
        cand_a = [p for p in left_a if _norm(p["name"]) == name]
        cand_b = [p for p in left_b if _norm(p["name"]) == name]
        if len(cand_a) == 1 and len(cand_b) == 1:
            pairs.append((pa, cand_b[0]))
            left_a.remove(pa)
            left_b.remove(cand_b[0])
    pairs += [(p, None) for p in left_a] + [(None, p) for p in left_b]

    expected: dict[tuple[str, str], Json] = {}
    for pa, pb in pairs:
        shown = pb if pb is not None else pa
        assert shown is not None
        cats_a = pa["categories"] if pa else dict.fromkeys(CATEGORIES, 0)
        cats_b = pb["categories"] if pb else dict.fromkeys(CATEGORIES, 0)
        expected[(_norm(shown["name"]), shown["site_packages"])] = {
            "a": pa["bytes"] if pa else None,
            "b": pb["bytes"] if pb else None,
            "delta": (pb["bytes"] if pb else 0) - (pa["bytes"] if pa else 0),
            "categories": {c: cats_b[c] - cats_a[c] for c in CATEGORIES},
            "version_a": pa["version"] if pa else None,
            "version_b": pb["version"] if pb else None,
        }
    return expected


def check_against_truth(diff: DiffReport, truth_a: Json, truth_b: Json) -> None:
    for field in ("python_bytes", "bytecode_bytes", "cache_bytes"):
        delta = getattr(diff.totals, field)
        a, b = truth_a["totals"][field], truth_b["totals"][field]
        assert (delta.a, delta.b, delta.delta) == (a, b, b - a), field
    expected = expected_packages(truth_a, truth_b)
    got = {
        (_norm(p.name), p.site_packages): {
            "a": p.a,
            "b": p.b,
            "delta": p.delta,
            "categories": p.categories,
            "version_a": p.version_a,
            "version_b": p.version_b,
        }
        for p in diff.packages
    }
    assert got == expected
    # Sorted by absolute delta, then name.
    keys = [(-abs(p.delta), _norm(p.name)) for p in diff.packages]
    assert keys == sorted(keys)


def check_causes(diff: DiffReport) -> None:
    """The causes partition the shipped delta exactly, largest first."""
    assert sum(c.bytes for c in diff.causes) == diff.totals.layer_bytes.delta
    sizes = [abs(c.bytes) for c in diff.causes]
    assert sizes == sorted(sizes, reverse=True)
    assert all(c.bytes for c in diff.causes)


def check_layers(diff: DiffReport, e2e: E2E, variant_a: str, variant_b: str) -> None:
    """Shared rows are exactly the common diff_ids; instruction rows have equal history."""
    ids_a, ids_b = e2e.diff_ids(variant_a), e2e.diff_ids(variant_b)
    common = sum((Counter(ids_a) & Counter(ids_b)).values())
    shared = [row for row in diff.layers if row.match == "shared"]
    assert len(shared) == common
    for row in shared:
        assert row.a_index is not None
        assert row.b_index is not None
        assert ids_a[row.a_index] == ids_b[row.b_index]
        assert row.delta == 0
    assert sorted(r.a_index for r in diff.layers if r.a_index is not None) == list(
        range(len(ids_a))
    )
    assert sorted(r.b_index for r in diff.layers if r.b_index is not None) == list(
        range(len(ids_b))
    )
    for row in diff.layers:
        if row.match == "instruction":
            assert row.created_by_a == row.created_by_b


def _diff(e2e: E2E, variant_a: str, variant_b: str) -> DiffReport:
    diff = diff_reports(
        _report(e2e, variant_a, "docker"), _report(e2e, variant_b, "docker-archive")
    )
    check_against_truth(diff, e2e.truth(variant_a), e2e.truth(variant_b))
    check_layers(diff, e2e, variant_a, variant_b)
    check_causes(diff)
    return diff


def test_uv_compile_bytecode(e2e: E2E) -> None:
    diff = _diff(e2e, "uv", "uv-bytecode")
    truth_a, truth_b = e2e.truth("uv"), e2e.truth("uv-bytecode")
    gained = truth_b["totals"]["bytecode_bytes"] - truth_a["totals"]["bytecode_bytes"]
    assert gained > 0
    assert diff.totals.bytes.delta == gained  # nothing but bytecode changed
    (cause,) = diff.causes
    assert (cause.kind, cause.bytes, cause.hint) == ("bytecode", gained, "uv-compile-bytecode")
    assert {p.name for p in cause.packages} == {p.name for p in diff.packages if p.delta}
    assert {p.status for p in diff.packages if p.delta} == {"changed"}
    assert all(p.categories["bytecode"] == p.delta for p in diff.packages)


def test_pip_no_compile_vs_default(e2e: E2E) -> None:
    diff = _diff(e2e, "pip-nocompile", "pip")
    assert diff.totals.bytecode_bytes.delta > 0
    top = diff.causes[0]
    assert (top.kind, top.hint) == ("bytecode", "no-compile")
    assert top.bytes == sum(p.categories["bytecode"] for p in diff.packages)
    assert top.bytes > 0


def test_uv_cache_left_behind(e2e: E2E) -> None:
    diff = _diff(e2e, "uv", "uv-cache")
    assert diff.totals.cache_bytes.a == 0
    assert diff.totals.cache_bytes.b > 0
    (caches,) = [c for c in diff.causes if c.kind == "caches"]
    assert [(p.path, p.kind, p.change) for p in caches.paths] == [
        ("/root/.cache/uv", "uv", "added")
    ]
    assert caches.paths[0].bytes == diff.totals.cache_bytes.delta


def test_uv_cache_deleted_becomes_dead_bytes(e2e: E2E) -> None:
    diff = _diff(e2e, "uv-cache", "uv-cache-deleted")
    cache = e2e.truth("uv-cache")["caches"]
    exclusive = sum(c["exclusive_bytes"] for c in cache if c["path"] == "/root/.cache/uv")
    # Deleting the cache frees only what the venv does not hardlink; those bytes stay shipped.
    assert diff.totals.cache_bytes.delta == -e2e.truth("uv-cache")["totals"]["cache_bytes"]
    assert diff.totals.bytes.delta == -exclusive
    assert diff.totals.dead_bytes.delta == exclusive
    assert diff.totals.layer_bytes.delta == 0
    only_b = [row for row in diff.layers if row.match == "only-b"]
    assert len(only_b) == 1
    assert only_b[0].created_by_b is not None
    assert "rm -rf /root/.cache/uv" in only_b[0].created_by_b


def test_pip_venv_vs_copied_venv(e2e: E2E) -> None:
    _diff(e2e, "pip", "venv-copied")


def test_pip_venv_vs_system_installs(e2e: E2E) -> None:
    diff = _diff(e2e, "pip", "pip-system")
    moved = [
        p for p in diff.packages if p.status == "changed" and not p.site_packages.startswith("/opt")
    ]
    assert moved, "distributions that moved out of the venv pair by name"


def test_cli_against_a_saved_baseline(e2e: E2E, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(e2e.report("uv", "docker")), encoding="utf-8")
    data = pyimgsize_json("diff", str(baseline), f"docker:{e2e.tags['uv-bytecode']}")
    diff = DiffReport.model_validate(data)
    assert diff.a.source == "report"
    assert diff.b.source == "docker"
    check_against_truth(diff, e2e.truth("uv"), e2e.truth("uv-bytecode"))
    check_layers(diff, e2e, "uv", "uv-bytecode")
    check_causes(diff)
    assert diff.explanation[0].startswith("B is +")  # JSON carries the worded causes too
