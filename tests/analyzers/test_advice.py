"""Exact numbers for every suggestion id on generated images (design.md §8).

Each expectation is computed from the entries the test wrote. The invariants hold for every
image: a suggestion's `saves_bytes` is the sum of its `layers`, the suggestions together never
claim more than the image ships, and their dead-byte claims add up to the image's dead bytes.
"""

from __future__ import annotations

import typing
from pathlib import Path

from fixtures import File, Hardlink, Image, Layer, Whiteout, dist
from fixtures.python import pyc_path
from pyimgsize.analyzers.advice import EVIDENCE_CAP, written_by
from pyimgsize.report import InspectReport, Suggestion, SuggestionId
from tests.analyzers.test_caches import uv_install_hardlinked, walk_order
from tests.pyimages import PYTHON311, files_of, inspect_image, size

VENV = "opt/venv"
VENV_SITE = f"{VENV}/lib/python3.11/site-packages"
LOCAL_SITE = "usr/local/lib/python3.11/site-packages"
USER_SITE = "root/.local/lib/python3.11/site-packages"


def by_id(report: InspectReport) -> dict[tuple[str, str], Suggestion]:
    out: dict[tuple[str, str], Suggestion] = {}
    for s in report.suggestions:
        key = (s.id, s.fix.kind)
        assert key not in out, f"{key} twice"
        out[key] = s
    return out


def check_invariants(report: InspectReport) -> None:
    total = 0
    for s in report.suggestions:
        assert s.saves_bytes == sum(s.layers.values()) > 0
        assert all(v > 0 for v in s.layers.values())
        assert len(s.evidence) == min(s.files, EVIDENCE_CAP)
        sizes = [e.bytes for e in s.evidence]
        assert sizes == sorted(sizes, reverse=True)
        total += s.saves_bytes
    assert total <= report.image.layer_bytes
    savings = [s.saves_bytes for s in report.suggestions]
    assert savings == sorted(savings, reverse=True)


def test_image_without_python_gets_deleted_later_and_rewritten_unchanged(tmp_path: Path) -> None:
    image = Image(
        layers=[
            Layer([File("etc/os-release", size=1000)], created_by="ADD rootfs.tar /"),
            Layer(
                [File("app/data.bin", size=5000), File("app/conf", size=300)],
                created_by="/bin/sh -c fetch-data",
            ),
            Layer([File("app/conf", size=300)], created_by="/bin/sh -c chown -R app /app"),
            Layer([Whiteout("app/data.bin")], created_by="/bin/sh -c rm /app/data.bin"),
        ]
    )
    r = inspect_image(tmp_path, image)
    assert not r.python_found
    got = by_id(r)
    assert set(got) == {
        ("deleted-later", "delete-in-same-run"),
        ("rewritten-unchanged", "same-layer-attributes"),
    }
    deleted = got[("deleted-later", "delete-in-same-run")]
    assert deleted.layers == {"1": 5000}
    assert deleted.confidence == "exact"
    assert [(e.path, e.bytes, e.layer) for e in deleted.evidence] == [("/app/data.bin", 5000, 1)]
    rewritten = got[("rewritten-unchanged", "same-layer-attributes")]
    # the fix (ownership where the file is written) drops the later copy
    assert rewritten.layers == {"2": 300}
    assert rewritten.fix.changed_by == [2]
    assert sum(s.saves_bytes for s in r.suggestions) == r.totals.dead_bytes == 5300
    check_invariants(r)


def test_nothing_to_suggest(tmp_path: Path) -> None:
    r = inspect_image(tmp_path, Image(layers=[Layer(PYTHON311, created_by="ADD x /")]))
    assert r.suggestions == []


def _rich_image() -> tuple[Image, dict[str, list[File]]]:
    """One image with something for every id but the uv cache (tested on its own)."""
    numpy = dist(
        VENV_SITE,
        "numpy",
        "2.0.0",
        {
            "numpy/__init__.py": 4000,
            "numpy/core.so": 90_000,
            "numpy/tests/test_core.py": 7000,
            "numpy/core/include/numpy/arrayobject.h": 1200,
            "numpy/random/lib/libnpyrandom.a": 3000,
        },
        installer="pip",
    )
    pip = dist(VENV_SITE, "pip", "24.0", {"pip/__init__.py": 2000}, installer="pip")
    foreign = [File(f"{VENV_SITE}/numpy/__pycache__/__init__.cpython-312.pyc", size=2222)]
    cache = [
        File("root/.cache/pip/http-v2/a/b/c/abc.body", size=60_000),
        File("root/.cache/pip/http-v2/a/b/c/abc", size=700),
        File("root/.cache/pypoetry/cache/repositories/pypi/x.json", size=4_000),
    ]
    wheelhouse = [File("wheels/numpy-2.0.0-cp311-none-any.whl", size=70_000)]
    dup_local = dist(LOCAL_SITE, "attrs", "23.1.0", {"attr/__init__.py": 500}, pyc=False)
    dup_user = dist(USER_SITE, "attrs", "23.2.0", {"attr/__init__.py": 600}, pyc=False)
    toolchain = [
        File("usr/bin/gcc-12", size=1_000_000),
        File("usr/include/python3.11/Python.h", size=3_000),
        File(
            "var/lib/dpkg/info/gcc-12.list",
            data=b"/.\n/usr\n/usr/bin\n/usr/bin/gcc-12\n",
        ),
        File(
            "var/lib/dpkg/info/libpython3.11-dev:amd64.list",
            data=b"/usr/include/python3.11/Python.h\n",
        ),
        File("var/lib/dpkg/info/gcc-12-base:amd64.list", data=b"/usr/share/doc/gcc-12-base\n"),
    ]
    layers = [
        Layer([*PYTHON311, *toolchain], created_by="ADD rootfs.tar /"),
        Layer(wheelhouse, created_by="/bin/sh -c #(nop) COPY dir:abc in /wheels"),
        Layer(
            walk_order([File(f"{VENV}/pyvenv.cfg", size=100), *numpy, *pip, *foreign, *cache]),
            created_by="/bin/sh -c python3 -m venv /opt/venv && pip install numpy",
        ),
        Layer(walk_order([*dup_local, *dup_user]), created_by="/bin/sh -c pip install attrs"),
        Layer([Whiteout("wheels")], created_by="/bin/sh -c rm -rf /wheels"),
    ]
    parts = {
        "numpy": numpy,
        "pip": pip,
        "foreign": foreign,
        "cache": cache,
        "wheelhouse": wheelhouse,
        "dup_local": dup_local,
        "toolchain": toolchain,
    }
    return Image(layers=layers), parts


def test_every_id_with_its_exact_bytes(tmp_path: Path) -> None:
    image, parts = _rich_image()
    r = inspect_image(tmp_path, image)
    got = by_id(r)
    numpy = parts["numpy"]

    def numpy_size(pred: typing.Callable[[str], bool]) -> int:
        return size(files_of(numpy, lambda f: pred(f.path)))

    expected = {
        ("pip-cache", "pip-no-cache-dir"): {"2": 60_700},
        ("poetry-cache", "poetry-no-cache"): {"2": 4_000},
        ("stray-wheels", "multi-stage"): {"1": 70_000},
        ("foreign-bytecode", "drop-foreign-bytecode"): {"2": 2222},
        ("bytecode", "no-compile"): {"2": numpy_size(lambda p: p.endswith(".pyc"))},
        ("installer-in-venv", "venv-without-installer"): {"2": size(parts["pip"])},
        ("tests-in-site-packages", "drop-tests"): {
            "2": numpy_size(lambda p: "/tests/" in p and p.endswith(".py"))
        },
        ("headers-and-static-libs", "drop-headers"): {
            "2": numpy_size(lambda p: p.endswith((".h", ".a")))
        },
        # the user site wins: the /usr/local copy is never imported
        ("duplicate-distribution", "single-environment"): {"3": size(parts["dup_local"])},
        # gcc-12 and a -dev package; gcc-12-base is a runtime library's base, not a compiler
        ("build-toolchain", "purge-build-toolchain"): {"0": 1_003_000},
    }
    assert {k: s.layers for k, s in got.items()} == expected
    exact = {k for k, s in got.items() if s.confidence == "exact"}
    assert {k[0] for k in exact} == {
        "pip-cache",
        "poetry-cache",
        "stray-wheels",
        "foreign-bytecode",
        "bytecode",
    }
    assert got[("pip-cache", "pip-no-cache-dir")].fix.installer == "pip"
    assert got[("poetry-cache", "poetry-no-cache")].fix.installer == "poetry"
    assert got[("pip-cache", "pip-no-cache-dir")].fix.paths == ["/root/.cache/pip"]
    assert got[("bytecode", "no-compile")].fix.installer == "pip"
    assert got[("bytecode", "no-compile")].tradeoff == "first-import-compiles"
    assert got[("bytecode", "no-compile")].packages == ["numpy"]
    assert got[("installer-in-venv", "venv-without-installer")].packages == ["pip"]
    assert got[("build-toolchain", "purge-build-toolchain")].packages == [
        "gcc-12",
        "libpython3.11-dev",
    ]
    wheels = got[("stray-wheels", "multi-stage")]
    assert wheels.fix.written_by == "copy"
    assert wheels.fix.changed_by == [4]  # the later rm, which saves nothing shipped
    assert r.totals.dead_bytes == 70_000
    check_invariants(r)


def test_a_hardlinked_uv_cache_saves_only_its_exclusive_bytes(tmp_path: Path) -> None:
    entries, _attrs, cache_only, linked = uv_install_hardlinked(VENV_SITE)
    image = Image(
        layers=[
            Layer([*PYTHON311, File(f"{VENV}/pyvenv.cfg", size=100)], created_by="ADD x /"),
            Layer(entries, created_by="/bin/sh -c uv pip install attrs"),
        ]
    )
    r = inspect_image(tmp_path, image)
    (uv,) = [s for s in r.suggestions if s.id == "uv-cache"]
    assert uv.layers == {"1": size(cache_only)}
    assert uv.fix.linked_bytes == size(linked)
    assert uv.fix.installer == "uv"
    check_invariants(r)


def test_a_cache_deleted_later_is_claimed_where_it_was_written(tmp_path: Path) -> None:
    entries, _attrs, cache_only, _linked = uv_install_hardlinked(VENV_SITE)
    image = Image(
        layers=[
            Layer([*PYTHON311, File(f"{VENV}/pyvenv.cfg", size=100)], created_by="ADD x /"),
            Layer(entries, created_by="/bin/sh -c uv pip install attrs"),
            Layer([Whiteout("root/.cache/uv")], created_by="/bin/sh -c rm -rf /root/.cache/uv"),
        ]
    )
    r = inspect_image(tmp_path, image)
    assert [(s.id, s.layers) for s in r.suggestions] == [("uv-cache", {"1": size(cache_only)})]
    assert r.suggestions[0].saves_bytes == r.totals.dead_bytes


def test_uv_compiled_bytecode_includes_what_no_distribution_owns(tmp_path: Path) -> None:
    """UV_COMPILE_BYTECODE compiles the whole site-packages, `_virtualenv.py` included."""
    attrs = dist(VENV_SITE, "attrs", "23.2.0", {"attr/__init__.py": 3000}, installer="uv")
    stray = [
        File(f"{VENV_SITE}/_virtualenv.py", size=400),
        File(f"{VENV_SITE}/__pycache__/_virtualenv.cpython-311.pyc", size=321),
    ]
    image = Image(
        layers=[
            Layer([*PYTHON311, File(f"{VENV}/pyvenv.cfg", size=100)], created_by="ADD x /"),
            Layer(walk_order([*attrs, *stray]), created_by="/bin/sh -c uv pip install attrs"),
        ]
    )
    r = inspect_image(tmp_path, image)
    (bc,) = [s for s in r.suggestions if s.id == "bytecode"]
    pycs = size(files_of(attrs, lambda f: f.path.endswith(".pyc")))
    assert bc.layers == {"1": pycs + 321}
    assert bc.fix.installer == "uv"


def test_a_hardlinked_pyc_is_claimed_through_its_first_path_an_installer_compiled(
    tmp_path: Path,
) -> None:
    """One inode, two pyc paths: the first (sorted) is a distribution's no installer wrote,
    the second a pip-installed one's: the bytecode suggestion claims the inode once, by
    the second path."""
    a = dist(LOCAL_SITE, "a", "1.0", {"a/__init__.py": 100}, installer=None, pyc_size=777)
    b = dist(LOCAL_SITE, "b", "1.0", {"b/__init__.py": 100, "b/m.py": 50}, pyc_size=333)
    linked = pyc_path(f"{LOCAL_SITE}/b/__init__.py")
    b = [f for f in b if f.path != linked]
    image = Image(
        layers=[
            Layer(
                [*PYTHON311, *a, *b, Hardlink(linked, pyc_path(f"{LOCAL_SITE}/a/__init__.py"))],
                created_by="/bin/sh -c pip install b",
            )
        ]
    )
    r = inspect_image(tmp_path, image)
    (bc,) = [s for s in r.suggestions if s.id == "bytecode"]
    assert (bc.files, bc.saves_bytes, bc.packages) == (2, 777 + 333, ["b"])
    assert [(e.path, e.bytes) for e in bc.evidence] == [
        (f"/{linked}", 777),
        (f"/{pyc_path(f'{LOCAL_SITE}/b/m.py')}", 333),
    ]


def test_every_id_is_known() -> None:
    ids = typing.get_args(SuggestionId)
    assert len(ids) == len(set(ids)) == 13


def test_written_by_reads_every_builder() -> None:
    assert written_by("/bin/sh -c #(nop) COPY dir:abc in /x", 3) == "copy"
    assert written_by("/bin/sh -c #(nop)  ENV A=1", 3) == "other"
    assert written_by("/bin/sh -c pip install x", 3) == "run"
    assert written_by("|1 A=b /bin/sh -c pip install x", 3) == "run"
    assert written_by("RUN /bin/sh -c pip install x # buildkit", 3) == "run"
    assert written_by("COPY /src /app # buildkit", 3) == "copy"
    assert written_by(None, 0) == "base"
    assert written_by("", 2) == "other"


def test_a_claim_adds_files_in_bulk_as_it_adds_them_one_by_one() -> None:
    """`_Claim.add_all` (the bytecode claim's bulk path) gives the same bytes by layer, file
    count and evidence as `add` file by file: ties on size go by path, then the order added."""
    from pyimgsize.analyzers.advice import _Claim, _top_evidence
    from pyimgsize.fs.merge import Inode

    rows = [(i % 7 * 100, f"p/{i % 23:02d}", i % 3) for i in range(300)]
    earlier = [(600, "p/00", 5), (50, "a", 1)]
    one, bulk = _Claim(), _Claim()
    for claim in (one, bulk):
        for nbytes, path, layer in earlier:
            claim.add(nbytes, path, layer)
    for nbytes, path, layer in rows:
        one.add(nbytes, path, layer)
    bulk.add_all([Inode(r[0], r[2], None) for r in rows], [r[1] for r in rows])
    assert bulk.files == one.files == 302
    assert bulk.layers == one.layers
    assert _top_evidence(bulk.evidence) == _top_evidence(one.evidence)
    assert len(_top_evidence(one.evidence)) == EVIDENCE_CAP
