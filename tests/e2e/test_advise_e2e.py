"""`advise` on real builds: every exact saving proven by the same build with the fix applied.

Dockerfile.test holds twins: a wasteful build and the same build with one fix (pip and pip
--no-compile, uv with and without UV_COMPILE_BYTECODE, a uv cache kept or deleted later and
--no-cache, pip's HTTP cache and --no-cache-dir, wheels left and deleted in the same RUN,
`chown -R` in a later layer and in the same RUN, files removed by a later layer and never
written, a COPY'd wheelhouse and a venv copied from a build stage). For each twin, the saving
`advise` predicts on the wasteful image for the suggestions that fix addresses must equal,
layer by layer and to the byte, the shipped bytes of that layer minus the fixed build's
(measured from the `docker save` tars, not by pyimgsize), apart from metadata the installer
writes differently, which the test computes from the in-container truth and names. Heuristic
suggestions are checked against that truth (e2e/truth.py), and on every variant the
suggestions that claim dead bytes add up to the image's dead bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pyimgsize.check.table import DEAD_SUGGESTIONS

from .harness import E2E, Json, e2e_build, pyimgsize_json

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

VENV_SITE = "/opt/venv/lib/python3.11/site-packages"
INSTALLER_DISTS = ("pip", "setuptools", "wheel")
# the suggestions whose bytes a later layer deleted or stored again (and the visible caches)
DEAD_IDS = DEAD_SUGGESTIONS


@dataclass(frozen=True)
class Twin:
    """A wasteful build, the same build with one fix, and the suggestions that fix applies."""

    waste: str
    fixed: str
    fixes: tuple[tuple[str, str], ...]  # (suggestion id, fix kind)
    # waste layer (an instruction substring) -> fixed layer (substring) or None; the other
    # layers pair by position
    align: tuple[tuple[str, str | None], ...] = ()
    # pip lists each .pyc it compiled in RECORD: --no-compile also shortens RECORD
    record_pyc_rows: bool = False

    @property
    def name(self) -> str:
        return f"{self.waste}->{self.fixed}"


TWINS = (
    Twin("pip", "pip-nocompile", (("bytecode", "no-compile"),), record_pyc_rows=True),
    Twin("uv-bytecode", "uv", (("bytecode", "no-compile"),)),
    Twin("uv-cache", "uv", (("uv-cache", "uv-no-cache"),)),
    Twin("uv-cache-deleted", "uv", (("uv-cache", "uv-no-cache"),)),
    Twin("pip-cache", "pip-cache-fixed", (("pip-cache", "pip-no-cache-dir"),)),
    Twin("wheels-left", "wheels-fixed", (("stray-wheels", "delete-in-same-run"),)),
    Twin("chown-later", "chown-fixed", (("rewritten-unchanged", "same-layer-attributes"),)),
    Twin("rm-later", "wheels-fixed", (("deleted-later", "delete-in-same-run"),)),
    Twin(
        "pip-nocompile",
        "venv-staged",
        (("stray-wheels", "multi-stage"), ("deleted-later", "multi-stage")),
        align=(
            ("in /wheels/", None),
            ("pip install --no-compile", "COPY dir:"),
            ("rm -rf /wheels", None),
        ),
    ),
    # deleting the wheelhouse in a later layer ships every byte all the same
    Twin("pip-wheelhouse", "pip", ()),
)


def _alignment(e2e: E2E, twin: Twin) -> dict[int, int | None]:
    waste = e2e.layer_bytes(twin.waste)
    fixed = e2e.layer_bytes(twin.fixed)
    explicit = {
        e2e.layer_index(twin.waste, w): (None if f is None else e2e.layer_index(twin.fixed, f))
        for w, f in twin.align
    }
    return {
        i: explicit[i] if i in explicit else (i if i < len(fixed) else None)
        for i in range(len(waste))
    }


def _measured(e2e: E2E, twin: Twin) -> dict[int, int]:
    """Shipped bytes of each waste layer minus its fixed counterpart's (0 when it has none)."""
    waste = e2e.layer_bytes(twin.waste)
    fixed = e2e.layer_bytes(twin.fixed)
    align = _alignment(e2e, twin)
    unpaired = set(range(len(fixed))) - {j for j in align.values() if j is not None}
    assert all(fixed[j] == 0 for j in unpaired), f"{twin.name}: fixed layers {unpaired} store bytes"
    return {i: waste[i] - (0 if j is None else fixed[j]) for i, j in align.items()}


def _applied(advice: Json, twin: Twin) -> list[Json]:
    return [s for s in advice["suggestions"] if (s["id"], s["fix"]["kind"]) in twin.fixes]


def _record_pyc_row_bytes(e2e: E2E, twin: Twin, names: list[str]) -> int:
    """RECORD bytes --no-compile does not write (the rows naming .pyc), from the truth; and
    proof that they are the whole RECORD difference of those distributions."""
    waste = {
        d["name"]: d for d in e2e.truth(twin.waste)["packages"] if d["site_packages"] == VENV_SITE
    }
    fixed = {
        d["name"]: d for d in e2e.truth(twin.fixed)["packages"] if d["site_packages"] == VENV_SITE
    }
    rows = 0
    for name in names:
        delta = waste[name]["metadata_files"]["RECORD"] - fixed[name]["metadata_files"]["RECORD"]
        assert delta == waste[name]["record_pyc_row_bytes"] > 0, name
        assert fixed[name]["record_pyc_rows"] == 0, name
        rows += delta
    return rows


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.name)
def test_exact_savings_equal_the_fixed_build(e2e: E2E, twin: Twin) -> None:
    """Predicted saving per layer == shipped bytes of the wasteful layer minus the fixed one."""
    advice = e2e.advice(twin.waste)
    applied = _applied(advice, twin)
    assert {(s["id"], s["fix"]["kind"]) for s in applied} == set(twin.fixes), (
        f"{twin.name}: expected suggestions {twin.fixes}, advise gave "
        f"{[(s['id'], s['fix']['kind']) for s in advice['suggestions']]}"
    )
    assert all(s["confidence"] == "exact" for s in applied)
    measured = _measured(e2e, twin)
    if twin.record_pyc_rows:
        (bytecode,) = applied
        layer = e2e.layer_index(twin.waste, "/opt/venv/bin/pip install")
        names = [n for n in bytecode["packages"] if n not in INSTALLER_DISTS]
        measured[layer] -= _record_pyc_row_bytes(e2e, twin, names)
    predicted = dict.fromkeys(measured, 0)
    for s in applied:
        for index, size in s["layers"].items():
            predicted[int(index)] += size
    assert predicted == measured, f"{twin.name}: predicted {predicted}, measured {measured}"
    for s in applied:
        assert s["saves_bytes"] == sum(s["layers"].values())
    # the fixed build no longer gets the suggestion
    fixed = {(s["id"], s["fix"]["kind"]) for s in e2e.advice(twin.fixed)["suggestions"]}
    assert not fixed & set(twin.fixes), f"{twin.fixed} still gets {fixed & set(twin.fixes)}"


def test_a_hardlinked_uv_cache_saves_only_its_exclusive_bytes(e2e: E2E) -> None:
    """The misleading case: the cache is large, deleting it saves what only it holds."""
    (cache,) = [c for c in e2e.truth("uv-cache")["caches"] if c["kind"] == "uv"]
    (uv_cache,) = [s for s in e2e.advice("uv-cache")["suggestions"] if s["id"] == "uv-cache"]
    assert uv_cache["saves_bytes"] == cache["exclusive_bytes"] < cache["bytes"] // 50
    assert uv_cache["fix"]["linked_bytes"] == cache["bytes"] - cache["exclusive_bytes"]
    assert uv_cache["fix"]["installer"] == "uv"


@pytest.mark.parametrize("variant", e2e_build.VARIANTS)
def test_savings_add_up_and_dead_bytes_are_all_claimed(e2e: E2E, variant: str) -> None:
    """No byte is claimed twice: the total is the sum, and the suggestions about caches, stray
    wheels, rewritten and deleted files claim every dead byte of the image once, plus the
    visible caches' exclusive bytes and the visible stray wheels (from the truth)."""
    advice = e2e.advice(variant)
    report = e2e.report(variant, "docker")
    suggestions = advice["suggestions"]
    total = sum(s["saves_bytes"] for s in suggestions)
    assert advice["totals"]["saves_bytes"] == total
    exact = sum(s["saves_bytes"] for s in suggestions if s["confidence"] == "exact")
    assert advice["totals"]["exact_bytes"] == exact
    assert advice["totals"]["heuristic_bytes"] == total - exact
    assert total <= report["image"]["layer_bytes"]
    claimed = sum(s["saves_bytes"] for s in suggestions if s["id"] in DEAD_IDS)
    visible = sum(c["exclusive_bytes"] for c in e2e.truth(variant)["caches"])
    assert claimed - visible == report["totals"]["dead_bytes"], variant
    assert report["suggestions"] == suggestions, "inspect and advise disagree"


def _installed(truth: Json) -> list[Json]:
    """Distributions an installer wrote, other than a venv's own pip/setuptools/wheel."""
    return [
        d
        for d in truth["packages"]
        if d["installer"] is not None
        and not (d["site_packages"].startswith("/opt/venv/") and d["name"] in INSTALLER_DISTS)
    ]


def _heuristic(advice: Json, sid: str) -> Json | None:
    found = [s for s in advice["suggestions"] if s["id"] == sid]
    assert len(found) <= 1, f"{sid} appears {len(found)} times"
    if found:
        assert found[0]["confidence"] == "heuristic"
        assert found[0]["tradeoff"] is not None
    return found[0] if found else None


@pytest.mark.parametrize("variant", e2e_build.VARIANTS)
def test_heuristic_bytes_equal_truth(e2e: E2E, variant: str) -> None:
    """installer-in-venv, tests-in-site-packages, headers-and-static-libs against the truth."""
    truth = e2e.truth(variant)
    advice = e2e.advice(variant)
    expected = {
        "installer-in-venv": sum(
            d["bytes"]
            for d in truth["packages"]
            if d["site_packages"].startswith("/opt/venv/") and d["name"] in INSTALLER_DISTS
        ),
        "tests-in-site-packages": sum(d["tests_bytes"] for d in _installed(truth)),
        "headers-and-static-libs": sum(d["header_bytes"] for d in _installed(truth)),
        # no variant installs the same distribution twice where one interpreter sees both,
        # and the Debian base has no compiler or -dev package
        "duplicate-distribution": 0,
        "build-toolchain": 0,
    }
    got = {}
    for sid in expected:
        found = _heuristic(advice, sid)
        got[sid] = found["saves_bytes"] if found else 0
    assert got == expected, variant


@pytest.mark.parametrize("variant", ["uv-cache", "chown-later"])
def test_advise_cli_is_the_inspect_suggestions(e2e: E2E, variant: str) -> None:
    """`pyimgsize advise --format json` through the engine: the same suggestions as inspect."""
    advice = pyimgsize_json("advise", f"docker:{e2e.tags[variant]}")
    assert advice == e2e.advice(variant) | {"image": advice["image"]}
    assert advice["image"]["layer_bytes"] == e2e.report(variant, "docker")["image"]["layer_bytes"]


def test_nothing_to_suggest_says_so(e2e: E2E) -> None:
    """venv-staged: no cache, no dead byte; what is left are the heuristics."""
    ids = {s["id"] for s in e2e.advice("venv-staged")["suggestions"]}
    assert not ids & {"pip-cache", "uv-cache", "stray-wheels", "deleted-later", "bytecode"}


@pytest.mark.parametrize(("waste", "fixed"), [("pip", "pip-nocompile"), ("uv-bytecode", "uv")])
def test_check_max_bytecode_fix_is_what_the_fixed_build_removes(
    e2e: E2E, waste: str, fixed: str
) -> None:
    """check --max-bytecode on a real build: the fix it offers saves exactly the bytecode the
    fixed build no longer has; on the fixed build (only the standard library's and ensurepip's
    .pyc left) no install flag is offered, only raising the limit."""
    from pyimgsize.check import Budget, evaluate
    from pyimgsize.report import InspectReport

    def rule(variant: str) -> tuple[int, str, int | None]:
        report = InspectReport.model_validate(e2e.report(variant, "docker"))
        verdict = evaluate(report, Budget(max_bytecode=1))
        (result,) = [r for r in verdict.rules if r.rule == "max_bytecode"]
        assert result.status == "fail", variant
        assert result.fix is not None, variant
        return int(result.actual or 0), result.fix.kind, result.fix.bytes

    waste_actual, waste_kind, saves = rule(waste)
    fixed_actual, fixed_kind, _ = rule(fixed)
    assert (waste_kind, fixed_kind) == ("no-compile", "raise-limit")
    assert saves == waste_actual - fixed_actual > 0
