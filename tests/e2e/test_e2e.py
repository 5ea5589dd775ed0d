"""End to end on real builds: every number pyimgsize reports, against truth measured inside.

Each Dockerfile.test variant is a real offline build (pip, pip --no-compile, uv, uv with
UV_COMPILE_BYTECODE, a uv cache hardlinked into the venv, deletions in later layers, Debian's
pip with --user and --break-system-packages, a venv copied from a builder stage and compiled in
the final one, a wheelhouse left behind). For each, e2e/truth.py runs inside a container of the
image and measures, by design.md §3, every distribution, site-packages directory, cache and
stray wheel; pyimgsize's JSON report, through the engine and through a `docker save` archive of
the same image, must equal it exactly. Layer attribution and dead bytes are checked against what
the Dockerfile did, with layer indices read from the image config's history.
"""

from __future__ import annotations

import copy
import zipfile
from typing import Any

import pytest

from .harness import E2E, SOURCES, Json, e2e_build, pyimgsize_json, untagged

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

VARIANTS: tuple[str, ...] = e2e_build.VARIANTS
CATEGORIES = ("bytecode", "source", "native", "metadata", "data")
DEAD_CATEGORIES = (*CATEGORIES, "cache", "other")
REQ_NATIVE = ("numpy", "pandas", "python-dateutil", "tzdata")
REQ_PURE = ("attrs", "certifi", "idna", "packaging")
REQUIREMENTS = REQ_NATIVE + REQ_PURE
VENV_SITE = "/opt/venv/lib/python3.11/site-packages"
DEBIAN_SITE = "/usr/lib/python3/dist-packages"

# A substring of the instruction that wrote each variant's requirements (Dockerfile.test).
INSTALL_STEP = {
    "pip-wheelhouse": "/opt/venv/bin/pip install --no-index",
    "pip": "/opt/venv/bin/pip install --no-index",
    "pip-pycache-deleted": "/opt/venv/bin/pip install --no-index",
    "pip-nocompile": "/opt/venv/bin/pip install --no-compile",
    "uv": "uv pip install --no-cache",
    "uv-bytecode": "uv pip install --no-cache",
    "uv-cache": "uv pip install --python",
    "uv-cache-deleted": "uv pip install --python",
    "pip-system": "-r /wheels/requirements-native.txt",
    "venv-copied": "COPY dir:",
    "venv-staged": "COPY dir:",
    "pip-cache": "--find-links http://127.0.0.1:8000/",
    "pip-cache-fixed": "--find-links http://127.0.0.1:8000/",
    "wheels-left": "pip wheel --no-cache-dir",
    "wheels-fixed": "pip wheel --no-cache-dir",
    "chown-later": "chown -R 1000:1000 /opt/venv",
    "chown-fixed": "pip wheel --no-cache-dir",
    "rm-later": "pip wheel --no-cache-dir",
}
WHEELS_STEP = "in /wheels/"
# The `advise` twins install only the pure-Python requirements, and keep the wheelhouse.
SMALL_VARIANTS = (
    "pip-cache",
    "pip-cache-fixed",
    "wheels-left",
    "wheels-fixed",
    "chown-later",
    "chown-fixed",
    "rm-later",
)
# Variants whose image has no later layer deleting /wheels.
WHEELHOUSE_VISIBLE = ("pip-wheelhouse", *SMALL_VARIANTS)
WITHOUT_WHEELHOUSE = ("venv-copied", "venv-staged")
# rm-later unpacks this wheel in one layer and deletes it in the next.
UNPACKED_WHEEL = "certifi-2026.10.18-py3-none-any.whl"


# The registry and containerd-store round trips read the installers' variants; the advise twins
# add no transport case, only build and read time.
TRANSPORT_VARIANTS = tuple(v for v in VARIANTS if v not in (*SMALL_VARIANTS, "venv-staged"))


def requirements(variant: str) -> tuple[str, ...]:
    return REQ_PURE if variant in SMALL_VARIANTS else REQUIREMENTS


cases = pytest.mark.parametrize(
    ("variant", "source"), [(v, s) for v in VARIANTS for s in SOURCES], ids=str
)


def _key(dist: Json) -> tuple[str, str]:
    return (dist["site_packages"], dist["name"])


def _mismatches(expected: dict[Any, Json], got: dict[Any, Json]) -> list[str]:
    lines: list[str] = []
    for key in sorted(set(expected) | set(got), key=str):
        if key not in got:
            lines.append(f"{key}: missing from the report (truth: {expected[key]})")
        elif key not in expected:
            lines.append(f"{key}: not in the truth (report: {got[key]})")
        else:
            for field in expected[key]:
                if expected[key][field] != got[key].get(field):
                    lines.append(
                        f"{key} {field}: expected {expected[key][field]}, got {got[key].get(field)}"
                    )
    return lines


def _assert_same(what: str, expected: dict[Any, Json], got: dict[Any, Json]) -> None:
    lines = _mismatches(expected, got)
    assert not lines, f"{what}: {len(lines)} mismatch(es)\n" + "\n".join(lines)


def _nonzero(layers: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in layers.items() if v}


def _is_dpkg(dist: Json) -> bool:
    return bool(dist["ownership"] == "dpkg")


# --- the numbers, against the truth ----------------------------------------------------------


@cases
def test_distributions_equal_truth(e2e: E2E, variant: str, source: str) -> None:
    """Every distribution: version, installer, bytes, files and every category, exactly."""
    truth = e2e.truth(variant)
    report = e2e.report(variant, source)
    expected = {
        _key(d): {
            "version": d["version"],
            "bytes": d["bytes"],
            "files": d["files"],
            "categories": d["categories"],
            # Debian-packaged dists have no INSTALLER: see test_debian_packaged_installer.
            **({} if _is_dpkg(d) else {"installer": d["installer"]}),
        }
        for d in truth["packages"]
    }
    got = {_key(p): p for p in report["packages"]}
    _assert_same(f"{variant} via {source}: distributions", expected, got)
    names = {d["name"] for d in truth["packages"] if d["site_packages"] != DEBIAN_SITE}
    assert set(requirements(variant)) <= names, f"{variant}: requirements missing from the truth"


@cases
def test_site_packages_equal_truth(e2e: E2E, variant: str, source: str) -> None:
    truth = e2e.truth(variant)
    report = e2e.report(variant, source)
    expected = {
        s["path"]: {
            "bytes": s["bytes"],
            "files": s["files"],
            "unowned_bytes": s["unowned_bytes"],
            "categories": s["categories"],
        }
        for s in truth["site_packages"]
    }
    got = {s["path"]: s for s in report["site_packages"]}
    _assert_same(f"{variant} via {source}: site-packages", expected, got)


@cases
def test_caches_and_wheels_equal_truth(e2e: E2E, variant: str, source: str) -> None:
    truth = e2e.truth(variant)
    report = e2e.report(variant, source)
    expected = {
        c["path"]: {"kind": c["kind"], "bytes": c["bytes"], "exclusive_bytes": c["exclusive_bytes"]}
        for c in truth["caches"]
    }
    got = {c["path"]: c for c in report["caches"]}
    _assert_same(f"{variant} via {source}: caches", expected, got)


@cases
def test_totals_equal_truth(e2e: E2E, variant: str, source: str) -> None:
    truth = e2e.truth(variant)["totals"]
    totals = e2e.report(variant, source)["totals"]
    for field in ("python_bytes", "bytecode_bytes", "cache_bytes"):
        assert totals[field] == truth[field], (
            f"{variant} via {source}: totals.{field} expected {truth[field]}, got {totals[field]}"
        )


# --- layers: attribution and dead bytes, against what the Dockerfile did ---------------------


def _expected_package_layers(e2e: E2E, variant: str, dist: Json) -> dict[str, int]:
    name, size = dist["name"], dist["bytes"]
    if dist["site_packages"] == DEBIAN_SITE:
        return _nonzero({"0": size})
    if variant == "pip-system":
        step = INSTALL_STEP[variant] if name in REQ_NATIVE else "pip install --user"
        return _nonzero({str(e2e.layer_index(variant, step)): size})
    if variant == "venv-copied":
        copied = e2e.layer_index(variant, INSTALL_STEP[variant])
        compiled = e2e.layer_index(variant, "compileall")
        # The builder installed the requirements with --no-compile; ensurepip's pip and
        # setuptools came with their bytecode.
        moved = dist["categories"]["bytecode"] if name in REQUIREMENTS else 0
        return _nonzero({str(copied): size - moved, str(compiled): moved})
    return _nonzero({str(e2e.layer_index(variant, INSTALL_STEP[variant])): size})


@cases
def test_package_layers(e2e: E2E, variant: str, source: str) -> None:
    """Bytes per layer of every distribution: the layer that wrote each visible file."""
    report = e2e.report(variant, source)
    expected = {
        _key(d): {"layers": _expected_package_layers(e2e, variant, d)}
        for d in e2e.truth(variant)["packages"]
    }
    got = {_key(p): {"layers": _nonzero(p["layers"])} for p in report["packages"]}
    _assert_same(f"{variant} via {source}: package layers", expected, got)


@cases
def test_layers_are_the_images(e2e: E2E, variant: str, source: str) -> None:
    report = e2e.report(variant, source)
    assert [layer["diff_id"] for layer in report["layers"]] == e2e.diff_ids(variant)
    assert [layer["index"] for layer in report["layers"]] == list(range(len(report["layers"])))


def _expected_dead(e2e: E2E, variant: str) -> dict[int, dict[str, int]]:
    """Dead bytes per layer index and category, from the truth of the image before the delete."""
    dead: dict[int, dict[str, int]] = {}
    if variant not in WHEELHOUSE_VISIBLE + WITHOUT_WHEELHOUSE:
        wheels = e2e.truth("pip-wheelhouse")["trees"]["/wheels"]
        dead[e2e.layer_index(variant, WHEELS_STEP)] = {
            "cache": wheels["wheel_bytes"],
            "other": wheels["bytes"] - wheels["wheel_bytes"],
        }
    if variant == "pip-pycache-deleted":
        pycache = e2e.truth("pip")["trees"]["/opt/venv"]["pycache_bytes"]
        dead[e2e.layer_index(variant, INSTALL_STEP[variant])] = {"bytecode": pycache}
    if variant == "uv-cache-deleted":
        (cache,) = [c for c in e2e.truth("uv-cache")["caches"] if c["path"] == "/root/.cache/uv"]
        dead[e2e.layer_index(variant, INSTALL_STEP[variant])] = {"cache": cache["exclusive_bytes"]}
    if variant == "chown-later":
        # every file the install stored is stored again by chown: the first copies are dead
        trees = e2e.truth("wheels-fixed")["trees"]
        site, venv = trees[VENV_SITE], trees["/opt/venv"]
        dead[e2e.layer_index(variant, INSTALL_STEP["wheels-fixed"])] = {
            **site["categories"],
            "other": venv["bytes"] - site["bytes"],
        }
    if variant == "rm-later":
        dead[e2e.layer_index(variant, "zipfile -e")] = _unpacked_wheel_dead()
    return dead


def _unpacked_wheel_dead() -> dict[str, int]:
    """Dead bytes of a wheel unpacked outside site-packages, by category, from the wheel."""
    dead: dict[str, int] = dict.fromkeys(("metadata", "bytecode", "other"), 0)
    with zipfile.ZipFile(e2e_build.WHEELS_DIR / "pkgs" / UNPACKED_WHEEL) as whl:
        for info in whl.infolist():
            if info.is_dir():
                continue
            top = info.filename.split("/", 1)[0]
            if top.endswith(".dist-info"):
                dead["metadata"] += info.file_size
            elif info.filename.endswith((".pyc", ".pyo")):
                dead["bytecode"] += info.file_size
            else:
                dead["other"] += info.file_size
    return dead


@cases
def test_dead_bytes(e2e: E2E, variant: str, source: str) -> None:
    """Deleted wheelhouse, deleted __pycache__, deleted uv cache: dead bytes by layer and kind."""
    report = e2e.report(variant, source)
    dead = _expected_dead(e2e, variant)
    expected = {
        layer["index"]: {
            "dead_bytes": sum(dead.get(layer["index"], {}).values()),
            "dead_categories": {c: dead.get(layer["index"], {}).get(c, 0) for c in DEAD_CATEGORIES},
        }
        for layer in report["layers"]
    }
    got = {layer["index"]: layer for layer in report["layers"]}
    _assert_same(f"{variant} via {source}: dead bytes", expected, got)
    total = sum(sum(d.values()) for d in dead.values())
    assert report["totals"]["dead_bytes"] == total
    image = report["image"]
    assert image["layer_bytes"] - image["bytes"] == total


@pytest.mark.parametrize("variant", VARIANTS)
def test_engine_and_archive_agree(e2e: E2E, variant: str) -> None:
    """The same image through every transport: the engine's layer storage read in place, its
    export, a `docker save` archive, and that archive again from the per-layer cache: the same
    report, apart from the reference and how it was read."""
    engine = e2e.report(variant, "docker")
    assert engine["image"]["read_via"] == "layer-storage"  # CI runs as root: storage readable
    export = e2e.report(variant, "docker-export")
    assert export["image"]["read_via"] == "export"
    archive = e2e.report(variant, "docker-archive")
    cached = e2e.report(variant, "docker-archive-cached")
    assert cached == archive, f"{variant}: the cached report is not the fresh one"
    for other in (export, archive):
        for field in ("layers", "site_packages", "packages", "caches", "totals", "problems"):
            assert engine[field] == other[field], f"{variant}: {field} differ between sources"
        for field in ("bytes", "layer_bytes", "files", "id", "platform", "compressed_bytes"):
            assert engine["image"][field] == other["image"][field]


def _same_numbers(classic: Json, got: Json) -> list[int | None]:
    """`got` reports what the classic engine reports, apart from compressed sizes (the 20.10
    engine stores layers unpacked: it has none); returns `got`'s per-layer compressed sizes."""
    classic, got = copy.deepcopy(classic), copy.deepcopy(got)  # the cached reports stay intact
    for field in ("site_packages", "packages", "caches", "totals"):
        assert classic[field] == got[field], f"{field} differ"
    for field in ("id", "bytes", "layer_bytes", "files", "platform"):
        assert classic["image"][field] == got["image"][field], field
    compressed: list[int | None] = [layer.pop("compressed_bytes") for layer in got["layers"]]
    for layer in classic["layers"]:
        assert layer.pop("compressed_bytes") is None
    assert classic["layers"] == got["layers"]
    return compressed


@pytest.mark.parametrize("variant", TRANSPORT_VARIANTS)
def test_registry_and_engine_agree(e2e: E2E, e2e_registry: str, variant: str) -> None:
    """The image pushed to a registry and read back without a daemon: the engine's numbers,
    plus the compressed size of every layer blob as the registry's manifest declares it."""
    registry = e2e.registry_report(variant, e2e_registry)
    assert registry["image"]["source"] == "registry"
    compressed = _same_numbers(e2e.report(variant, "docker"), registry)
    assert all(isinstance(c, int) and c > 0 for c in compressed)
    assert registry["image"]["compressed_bytes"] == sum(c or 0 for c in compressed)
    assert registry["image"]["compressed_bytes"] < registry["image"]["layer_bytes"]


@pytest.mark.parametrize("variant", TRANSPORT_VARIANTS)
@pytest.mark.parametrize("source", ["docker", "docker-archive"])
def test_containerd_store_engine_agrees(
    e2e: E2E, e2e_registry: str, dockerd26: str, variant: str, source: str
) -> None:
    """Pulled into dockerd 26 with the containerd image store, read through that engine and
    its `docker save`: the classic engine's numbers, and the registry's compressed sizes (the
    containerd store keeps the pulled blobs compressed)."""
    registry = e2e.registry_report(variant, e2e_registry)
    got = e2e.containerd_report(variant, source, e2e_registry, dockerd26)
    compressed = _same_numbers(e2e.report(variant, "docker"), got)
    assert compressed == [layer["compressed_bytes"] for layer in registry["layers"]]
    assert got["image"]["compressed_bytes"] == registry["image"]["compressed_bytes"]


@pytest.mark.parametrize("variant", TRANSPORT_VARIANTS)
def test_containerd_store_content_read_in_place_is_its_export(
    e2e: E2E, e2e_registry: str, dockerd26: str, variant: str
) -> None:
    """dockerd 26 (containerd image store, run as root here): the image read from the engine's
    content store in place, fresh and through the per-layer cache, is what its export gives."""
    direct = untagged(e2e.containerd_report(variant, "docker", e2e_registry, dockerd26))
    export = untagged(e2e.containerd_report(variant, "docker-export", e2e_registry, dockerd26))
    cached = untagged(e2e.containerd_report(variant, "docker-cached", e2e_registry, dockerd26))
    assert cached == direct, f"{variant}: the cached report is not the fresh one"
    assert direct["image"].pop("read_via") == "content-store"
    assert export["image"].pop("read_via") == "export"
    assert direct == export


# --- the scenarios' own facts, so the images keep testing what they claim -------------------


def _dists(truth: Json, site: str) -> dict[str, Json]:
    return {d["name"]: d for d in truth["packages"] if d["site_packages"] == site}


def test_scenarios_are_what_they_claim(e2e: E2E) -> None:
    pip = _dists(e2e.truth("pip"), VENV_SITE)
    nocompile = _dists(e2e.truth("pip-nocompile"), VENV_SITE)
    uv = _dists(e2e.truth("uv"), VENV_SITE)
    uv_bytecode = _dists(e2e.truth("uv-bytecode"), VENV_SITE)
    for name in REQUIREMENTS:
        assert pip[name]["installer"] == "pip"
        assert uv[name]["installer"] == "uv"
        assert pip[name]["categories"]["bytecode"] > 0
        # pip lists the .pyc it compiled in RECORD, with no size; uv never lists bytecode.
        assert pip[name]["record_pyc_rows"] > 0
        assert pip[name]["record_pyc_rows_with_size"] == 0
        assert uv_bytecode[name]["record_pyc_rows"] == 0
        assert nocompile[name]["categories"]["bytecode"] == 0
        assert uv[name]["categories"]["bytecode"] == 0
        # UV_COMPILE_BYTECODE compiles the same sources pip does; neither lists size in RECORD.
        assert uv_bytecode[name]["categories"]["bytecode"] == pip[name]["categories"]["bytecode"]
    # The uv cache is hardlinked into the venv: only a small part of it is its own.
    (cache,) = e2e.truth("uv-cache")["caches"]
    assert cache["kind"] == "uv"
    assert 0 < cache["exclusive_bytes"] < cache["bytes"] // 50
    assert e2e.truth("uv-cache-deleted")["caches"] == []
    # The wheelhouse is visible only where it was not deleted.
    wheels = [c for c in e2e.truth("pip-wheelhouse")["caches"] if c["kind"] == "wheel"]
    assert len(wheels) == len(REQUIREMENTS)
    assert e2e.truth("pip")["caches"] == []
    # pip --user and --break-system-packages.
    system = e2e.truth("pip-system")
    user_site = "/root/.local/lib/python3.11/site-packages"
    assert set(_dists(system, user_site)) == set(REQ_PURE)
    assert set(_dists(system, "/usr/local/lib/python3.11/dist-packages")) == set(REQ_NATIVE)


# --- the question users ask: pip-compiled vs uv without bytecode -----------------------------

UV_ONLY_METADATA = {"uv_cache.json"}
REWRITTEN_METADATA = {"INSTALLER", "RECORD"}


def _truth_delta(pip: Json, uv: Json) -> dict[str, int]:
    return {c: pip["categories"][c] - uv["categories"][c] for c in CATEGORIES}


def test_pip_vs_uv_is_bytecode_plus_metadata(e2e: E2E) -> None:
    """Per distribution, pip minus uv (same requirements, same wheels) is the bytecode pip
    compiled, plus INSTALLER/RECORD rewritten and uv_cache.json, plus console scripts with
    another launcher text; the reports' breakdown must equal the truth's exactly."""
    truth_pip = _dists(e2e.truth("pip"), VENV_SITE)
    truth_uv = _dists(e2e.truth("uv"), VENV_SITE)
    report_pip = {p["name"]: p for p in e2e.report("pip", "docker")["packages"]}
    report_uv = {p["name"]: p for p in e2e.report("uv", "docker")["packages"]}
    diff = pyimgsize_json("diff", f"docker:{e2e.tags['uv']}", f"docker:{e2e.tags['pip']}")
    diff_packages = {(p["site_packages"], p["name"]): p for p in diff["packages"]}
    problems: list[str] = []
    for name in REQUIREMENTS:
        tp, tu = truth_pip[name], truth_uv[name]
        delta = _truth_delta(tp, tu)
        # What the truth says the difference is made of.
        assert delta["bytecode"] == tp["categories"]["bytecode"] > 0
        assert delta["source"] == delta["native"] == 0
        meta_p, meta_u = tp["metadata_files"], tu["metadata_files"]
        assert set(meta_u) - set(meta_p) == UV_ONLY_METADATA, name
        assert set(meta_p) <= set(meta_u), name
        changed = {f for f in meta_p if meta_p[f] != meta_u[f]}
        assert changed == REWRITTEN_METADATA, name
        assert (meta_p["INSTALLER"], meta_u["INSTALLER"]) == (len("pip\n"), len("uv"))
        assert delta["metadata"] == sum(meta_p[f] - meta_u[f] for f in changed) - sum(
            meta_u[f] for f in UV_ONLY_METADATA
        )
        scripts_p, scripts_u = tp["outside_files"], tu["outside_files"]
        assert set(scripts_p) == set(scripts_u), name
        assert delta["data"] == sum(scripts_p.values()) - sum(scripts_u.values())
        # What pyimgsize says, per report and through `pyimgsize diff`.
        rp, ru = report_pip[name], report_uv[name]
        got = {c: rp["categories"][c] - ru["categories"][c] for c in CATEGORIES}
        if got != delta:
            problems.append(f"{name}: reports give {got}, truth {delta}")
        if rp["bytes"] - ru["bytes"] != sum(delta.values()):
            problems.append(f"{name}: bytes delta {rp['bytes'] - ru['bytes']}")
        in_diff = diff_packages[(VENV_SITE, name)]
        if in_diff["categories"] != delta or in_diff["delta"] != sum(delta.values()):
            problems.append(f"{name}: diff gives {in_diff['categories']}, truth {delta}")
    assert not problems, "\n".join(problems)


# --- Debian-packaged distributions -----------------------------------------------------------


def test_debian_packaged_installer(e2e: E2E) -> None:
    truth = _dists(e2e.truth("pip"), DEBIAN_SITE)
    report = {p["name"]: p for p in e2e.report("pip", "docker")["packages"]}
    dpkg = [name for name, d in truth.items() if _is_dpkg(d)]
    assert dpkg == ["setuptools", "wheel"]
    for name in dpkg:
        assert truth[name]["installer"] is None
        assert report[name]["installer"] == truth[name]["installer"], name
