"""Exact numbers for installer caches, stray wheels and dead bytes by category (design.md §3).

A cache's `bytes` counts every inode below it once; `exclusive_bytes` only the inodes with no
link outside it; `totals.cache_bytes` every cache and stray wheel together, each inode once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from fixtures import Dir, Entry, File, Hardlink, Image, Layer, Symlink, Whiteout, dist
from fixtures.python import pyc_path
from pyimgsize.report import InspectReport
from tests.pyimages import (
    PYTHON311,
    ZERO,
    add,
    cache,
    cats,
    dead,
    files_of,
    inspect_image,
    norm,
    package,
    site_packages,
    size,
)

UV_CACHE = "root/.cache/uv"


def walk_order(entries: list[Entry]) -> list[Entry]:
    """Entries in Docker's lexical walk order."""
    return sorted(entries, key=lambda e: e.path.split("/"))


def uv_install_hardlinked(
    site: str, archive_id: str = "Xy1Z2abc"
) -> tuple[list[Entry], list[File], list[File], list[File]]:
    """A `uv pip install attrs` layer in hardlink mode, cache at /root/.cache/uv.

    Returns (layer entries, the distribution's files, the cache-only files, the linked files).
    The lexically first path of each linked inode holds the data (as Docker writes a layer);
    RECORD and INSTALLER are written, not linked (uv `wheel.rs`).
    """
    attrs = dist(
        site,
        "attrs",
        "23.2.0",
        {"attrs/__init__.py": 3000, "attrs/_make.py": 90_000, "attrs/py.typed": 0},
        installer="uv",
        pyc=False,
    )
    archive = f"{UV_CACHE}/archive-v0/{archive_id}"
    linked: list[File] = []
    entries: list[Entry] = []
    for f in attrs:
        rel = f.path.removeprefix(f"{site}/")
        if rel.endswith(("/RECORD", "/INSTALLER")):
            entries.append(f)
            continue
        linked.append(f)
        first, second = sorted([f.path, f"{archive}/{rel}"], key=lambda p: p.split("/"))
        entries.append(File(first, size=f.size) if f.data is None else File(first, data=f.data))
        entries.append(Hardlink(second, first))
    cache_only = [
        File(f"{archive}/attrs-23.2.0.dist-info/RECORD", size=900),
        File(f"{UV_CACHE}/.gitignore", size=1),
        File(f"{UV_CACHE}/CACHEDIR.TAG", size=43),
        File(f"{UV_CACHE}/interpreter-v4/a1b2/c3d4.msgpack", size=1500),
        File(f"{UV_CACHE}/simple-v18/pypi/attrs.rkyv", size=5200),
        File(f"{UV_CACHE}/wheels-v5/pypi/attrs/attrs-23.2.0-py3-none-any.msgpack", size=333),
    ]
    link = Symlink(
        f"{UV_CACHE}/wheels-v5/pypi/attrs/attrs-23.2.0-py3-none-any",
        f"../../../archive-v0/{archive_id}",
    )
    return walk_order([*entries, *cache_only, link]), attrs, cache_only, linked


@pytest.mark.parametrize(
    "venv",
    [
        "opt/venv",  # sorts before root/: the venv paths hold the data
        "venv",  # sorts after root/: the cache paths hold the data
    ],
)
def test_uv_cache_hardlinked_into_a_venv_in_the_same_layer(tmp_path: Path, venv: str) -> None:
    site = f"{venv}/lib/python3.11/site-packages"
    entries, attrs, cache_only, linked = uv_install_hardlinked(site)
    image = Image(
        layers=[
            Layer(PYTHON311, created_by="base"),
            Layer(
                [File(f"{venv}/pyvenv.cfg", size=100), Symlink(f"{venv}/lib64", "lib")],
                created_by="uv venv",
            ),
            Layer(entries, created_by="uv pip install attrs"),
        ]
    )
    r = inspect_image(tmp_path, image)
    pkg = package(r, "attrs")
    # the distribution owns the linked bytes
    assert pkg.bytes == size(attrs)
    assert pkg.files == len(attrs)
    assert pkg.categories.model_dump() == cats(attrs)
    assert pkg.layers == {"2": size(attrs)}
    assert site_packages(r, site).unowned_bytes == 0

    c = cache(r, UV_CACHE)
    assert c.kind == "uv"
    assert c.bytes == size(linked) + size(cache_only)
    assert c.files == len(linked) + len(cache_only)
    # deleting the cache in the same layer would save only what is not linked into the venv
    assert c.exclusive_bytes == size(cache_only) == 900 + 1 + 43 + 1500 + 5200 + 333
    assert [x.path for x in r.caches] == [norm(UV_CACHE)]

    assert r.totals.cache_bytes == c.bytes
    assert r.totals.python_bytes == size(attrs)
    assert r.layers[2].python_bytes == size(attrs)
    assert r.layers[2].bytes == size(attrs) + size(cache_only)  # each inode once
    assert r.image.bytes == size(PYTHON311) + 100 + size(attrs) + size(cache_only)
    assert r.totals.dead_bytes == 0


@pytest.mark.parametrize("venv", ["opt/venv", "venv"])
def test_deleting_a_hardlinked_uv_cache_later_kills_only_its_exclusive_bytes(
    tmp_path: Path, venv: str
) -> None:
    site = f"{venv}/lib/python3.11/site-packages"
    entries, attrs, cache_only, _linked = uv_install_hardlinked(site)
    image = Image(
        layers=[
            Layer([*PYTHON311, File(f"{venv}/pyvenv.cfg", size=100)]),
            Layer(entries, created_by="uv pip install attrs"),
            Layer([Whiteout(UV_CACHE)], created_by="rm -rf /root/.cache/uv"),
        ]
    )
    r = inspect_image(tmp_path, image)
    assert r.caches == []
    assert r.totals.cache_bytes == 0
    assert package(r, "attrs").bytes == size(attrs)
    assert r.layers[1].dead_bytes == size(cache_only)
    assert r.layers[1].dead_categories.model_dump() == dead(cache=size(cache_only))
    assert r.layers[1].python_bytes == size(attrs)
    assert r.totals.dead_bytes == size(cache_only)


def test_uv_cache_copied_not_linked_is_all_exclusive(tmp_path: Path) -> None:
    site = "opt/venv/lib/python3.11/site-packages"
    attrs = dist(site, "attrs", "23.2.0", {"attrs/__init__.py": 3000}, installer="uv")
    copies = [
        File(f"{UV_CACHE}/archive-v0/abc/attrs/__init__.py", size=3000),
        File(f"{UV_CACHE}/wheels-v5/pypi/attrs/attrs-23.2.0-py3-none-any.msgpack", size=10),
    ]
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *attrs, *copies])]))
    c = cache(r, UV_CACHE)
    assert (c.bytes, c.exclusive_bytes, c.files) == (3010, 3010, 2)
    assert r.totals.cache_bytes == 3010
    assert r.totals.python_bytes == size(attrs)


# --- caches found by configuration or layout ------------------------------------------------


def test_uv_cache_from_uv_cache_dir_in_the_image_env(tmp_path: Path) -> None:
    files = [
        File("opt/uv-cache/archive-v0/q1/six.py", size=34_000),
        File("opt/uv-cache/sdists-v9/.git", size=0),
    ]
    image = Image(env=["UV_CACHE_DIR=/opt/uv-cache/"], layers=[Layer([*PYTHON311, *files])])
    r = inspect_image(tmp_path, image)
    c = cache(r, "opt/uv-cache")
    assert (c.kind, c.bytes, c.exclusive_bytes, c.files) == ("uv", 34_000, 34_000, 2)
    assert r.totals.cache_bytes == 34_000


def test_uv_cache_found_by_its_buckets_anywhere(tmp_path: Path) -> None:
    files = [
        File("build/.uvc/archive-v0/q1/six.py", size=34_000),
        File("build/.uvc/wheels-v5/pypi/six/six-1.16.0-py2.py3-none-any.msgpack", size=50),
        # a uv venv carries a CACHEDIR.TAG too: not a cache by itself
        File("app/.venv/CACHEDIR.TAG", size=43),
        File("app/.venv/pyvenv.cfg", size=80),
        # a single bucket-like name is not enough
        File("data/archive-v0/x", size=7),
    ]
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *files])]))
    assert [(c.path, c.kind) for c in r.caches] == [(norm("build/.uvc"), "uv")]
    c = r.caches[0]
    assert (c.bytes, c.exclusive_bytes, c.files) == (34_050, 34_050, 2)
    assert r.totals.cache_bytes == 34_050


def pip_cache(root: str) -> list[File]:
    return [
        File(f"{root}/http-v2/a/b/c/d/e/0123456789abcdef.body", size=250_000),
        File(f"{root}/http-v2/a/b/c/d/e/0123456789abcdef", size=1200),
        File(f"{root}/selfcheck/1a2b.json", size=200),
        # a wheel inside a cache belongs to the cache
        File(f"{root}/wheels/ab/cd/ef/pkg-1.0-py3-none-any.whl", size=40_000),
    ]


def test_pip_cache_in_home(tmp_path: Path) -> None:
    files = pip_cache("root/.cache/pip")
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *files])]))
    assert [(c.path, c.kind) for c in r.caches] == [("/root/.cache/pip", "pip")]
    c = r.caches[0]
    assert (c.bytes, c.exclusive_bytes, c.files) == (size(files), size(files), 4)
    assert r.totals.cache_bytes == size(files)
    assert r.totals.python_bytes == 0


@pytest.mark.parametrize(
    ("env", "root"),
    [
        ("PIP_CACHE_DIR=/var/cache/pip-custom", "var/cache/pip-custom"),
        ("XDG_CACHE_HOME=/xdg", "xdg/pip"),
    ],
)
def test_pip_cache_from_the_image_env(tmp_path: Path, env: str, root: str) -> None:
    files = [File(f"{root}/selfcheck/1a2b.json", size=200), File(f"{root}/x/y", size=5)]
    image = Image(env=[env], layers=[Layer([*PYTHON311, *files])])
    r = inspect_image(tmp_path, image)
    assert [(c.path, c.kind, c.bytes) for c in r.caches] == [(norm(root), "pip", 205)]


def test_pip_cache_found_by_layout(tmp_path: Path) -> None:
    files = pip_cache("srv/pipcache")
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *files])]))
    assert [(c.path, c.kind, c.bytes) for c in r.caches] == [("/srv/pipcache", "pip", size(files))]


def test_poetry_cache(tmp_path: Path) -> None:
    root = "root/.cache/pypoetry"
    files = [
        File(f"{root}/artifacts/1a/2b/3c/requests-2.31.0-py3-none-any.whl", size=62_000),
        File(f"{root}/cache/repositories/PyPI/_http/a/b/c", size=9000),
    ]
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *files])]))
    assert [(c.path, c.kind) for c in r.caches] == [(norm(root), "poetry")]
    c = r.caches[0]
    assert (c.bytes, c.exclusive_bytes, c.files) == (71_000, 71_000, 2)
    assert r.totals.cache_bytes == 71_000


def test_poetry_virtualenvs_are_python_not_cache(tmp_path: Path) -> None:
    root = "root/.cache/pypoetry"
    site = f"{root}/virtualenvs/app-x1y2-py3.11/lib/python3.11/site-packages"
    cache_files = [File(f"{root}/cache/repositories/PyPI/_http/a/b/c", size=9000)]
    entries = dist(site, "six", "1.16.0", {"six.py": 3000}, installer="pip")
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *cache_files, *entries])]))
    assert [(c.path, c.kind, c.bytes, c.files) for c in r.caches] == [
        (norm(root), "poetry", 9000, 1)
    ]
    assert r.totals.cache_bytes == 9000
    assert [(p.name, p.site_packages, p.bytes) for p in r.packages] == [
        ("six", norm(site), size(entries))
    ]


def test_caches_are_sorted_by_bytes_then_path(tmp_path: Path) -> None:
    files = [
        File("root/.cache/pip/x", size=10),
        File("home/a/.cache/uv/x", size=10),
        File("home/b/.cache/pypoetry/x", size=500),
        File("tmp/zz-1.0-py3-none-any.whl", size=10),
    ]
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *files])]))
    assert [(c.path, c.kind) for c in r.caches] == [
        ("/home/b/.cache/pypoetry", "poetry"),
        ("/home/a/.cache/uv", "uv"),
        ("/root/.cache/pip", "pip"),
        ("/tmp/zz-1.0-py3-none-any.whl", "wheel"),
    ]
    assert r.totals.cache_bytes == 530


# --- stray wheels ---------------------------------------------------------------------------


def test_stray_wheels_and_the_wheels_that_are_not_stray(tmp_path: Path) -> None:
    site = "usr/local/lib/python3.11/site-packages"
    # virtualenv's seed wheels are listed in its RECORD: the distribution's files
    venv_pkg = dist(
        site,
        "virtualenv",
        "20.25.0",
        {
            "virtualenv/__init__.py": 1000,
            "virtualenv/seed/wheels/embed/pip-23.3.1-py3-none-any.whl": 2_100_000,
        },
    )
    debian_wheel = File("usr/share/python-wheels/pip-23.0.1-py3-none-any.whl", size=1_800_000)
    dpkg = File(
        "var/lib/dpkg/info/python3-pip-whl.list",
        data=(
            b"/.\n/usr\n/usr/share\n/usr/share/python-wheels\n"
            b"/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl\n"
        ),
    )
    bundled = File(
        "usr/local/lib/python3.11/ensurepip/_bundled/pip-23.2.1-py3-none-any.whl", size=2_000
    )
    in_cache = File("root/.cache/pip/wheels/ab/x-1.0-py3-none-any.whl", size=300)
    stray = [
        File("tmp/wheels/numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl", size=18_000_000),
        File("app/dist/app-0.1-py3-none-any.whl", size=4000),
    ]
    image = Image(
        layers=[
            Layer([*PYTHON311, debian_wheel, dpkg, bundled, *venv_pkg]),
            Layer([in_cache, *stray]),
        ]
    )
    r = inspect_image(tmp_path, image)
    wheels = [(c.path, c.bytes, c.exclusive_bytes, c.files) for c in r.caches if c.kind == "wheel"]
    assert wheels == [
        (norm(stray[0].path), 18_000_000, 18_000_000, 1),
        (norm(stray[1].path), 4000, 4000, 1),
    ]
    assert [c.path for c in r.caches if c.kind != "wheel"] == ["/root/.cache/pip"]
    assert r.totals.cache_bytes == 18_004_000 + 300
    assert package(r, "virtualenv").bytes == size(venv_pkg)


def test_hardlinked_stray_wheels_count_once_in_cache_bytes(tmp_path: Path) -> None:
    a = File("tmp/a/pkg-1.0-py3-none-any.whl", size=7000)
    b = Hardlink("wheels/pkg-1.0-py3-none-any.whl", a.path)
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, a, b])]))
    found = [(c.path, c.kind, c.bytes, c.exclusive_bytes) for c in r.caches]
    # each is linked outside itself: nothing exclusive; the inode counts once in the total
    assert found == [
        ("/tmp/a/pkg-1.0-py3-none-any.whl", "wheel", 7000, 0),
        ("/wheels/pkg-1.0-py3-none-any.whl", "wheel", 7000, 0),
    ]
    assert r.totals.cache_bytes == 7000


# --- dead bytes by category -------------------------------------------------------------------


def dead_report(
    tmp_path: Path,
    first: Sequence[Entry],
    later: Sequence[Entry],
    env: list[str] | None = None,
) -> InspectReport:
    image = Image(env=env or [], layers=[Layer([*PYTHON311, *first]), Layer(later)])
    return inspect_image(tmp_path, image)


def test_cache_deleted_in_a_later_layer_is_dead_cache(tmp_path: Path) -> None:
    pip = pip_cache("root/.cache/pip")
    r = dead_report(tmp_path, pip, [Whiteout("root/.cache")])
    assert r.layers[0].dead_categories.model_dump() == dead(cache=size(pip))
    assert r.layers[0].dead_bytes == size(pip)
    assert r.layers[1].dead_bytes == 0
    assert r.totals.dead_bytes == size(pip)
    assert r.totals.cache_bytes == 0
    assert r.caches == []


def test_cache_from_env_deleted_later_is_dead_cache(tmp_path: Path) -> None:
    files = [File("opt/uvc/archive-v0/q/six.py", size=34_000)]
    r = dead_report(tmp_path, files, [Whiteout("opt/uvc")], env=["UV_CACHE_DIR=/opt/uvc"])
    assert r.layers[0].dead_categories.model_dump() == dead(cache=34_000)


def test_cache_found_by_layout_deleted_later_is_dead_cache(tmp_path: Path) -> None:
    files = [
        File("build/uvc/archive-v0/q1/six.py", size=34_000),
        File("build/uvc/wheels-v5/pypi/six/six.msgpack", size=50),
        File("build/other.txt", size=9),
    ]
    r = dead_report(tmp_path, files, [Whiteout("build")])
    assert r.layers[0].dead_categories.model_dump() == dead(cache=34_050, other=9)


def test_stray_wheel_deleted_later_is_dead_cache(tmp_path: Path) -> None:
    wheel = File("wheels/pkg-1.0-py3-none-any.whl", size=70_000)
    r = dead_report(tmp_path, [wheel], [Whiteout("wheels")])
    assert r.layers[0].dead_categories.model_dump() == dead(cache=70_000)
    assert r.caches == []


def test_pycache_deleted_later_is_dead_bytecode(tmp_path: Path) -> None:
    site = "usr/local/lib/python3.11/site-packages"
    pkg = dist(site, "pkg", "1.0", {"pkg/__init__.py": 1000, "pkg/mod.py": 2000})
    pycs = files_of(pkg, lambda f: f.path.endswith(".pyc"))
    stdlib_pyc = File("usr/local/lib/python3.11/__pycache__/os.cpython-311.pyc", size=800)
    later = [Whiteout(f"{site}/pkg/__pycache__"), Whiteout("usr/local/lib/python3.11/__pycache__")]
    r = dead_report(tmp_path, [*pkg, stdlib_pyc], later)
    assert r.layers[0].dead_categories.model_dump() == dead(bytecode=size(pycs) + 800)
    assert package(r, "pkg").bytes == size(pkg) - size(pycs)
    assert package(r, "pkg").categories.bytecode == 0
    assert r.totals.bytecode_bytes == 0


def test_dead_bytes_by_category_in_one_layer(tmp_path: Path) -> None:
    site = "opt/venv/lib/python3.11/site-packages"
    pkg = dist(
        site,
        "pkg",
        "1.0",
        {"pkg/__init__.py": 1000, "pkg/_c.so": 5000, "pkg/data.csv": 300},
        scripts={"bin/pkg": 40},
    )
    others = [File("var/cache/apt/archives/x.deb", size=90_000), File("etc/motd", size=12)]
    later: list[Entry] = [
        Whiteout(f"{site}/pkg"),
        Whiteout(f"{site}/pkg-1.0.dist-info"),
        Whiteout("var/cache/apt/archives"),
        File("etc/motd", size=20),
    ]
    r = dead_report(tmp_path, [*pkg, *others], later)
    in_site = files_of(pkg, lambda f: f.path.startswith(f"{site}/"))
    expected = add(dead(other=90_012), cats(in_site))
    assert r.layers[0].dead_categories.model_dump() == expected
    assert r.layers[0].dead_bytes == size(in_site) + 90_012
    # the script outside site-packages stays, owned by nothing now
    assert r.packages == []
    assert r.layers[1].dead_bytes == 0
    assert r.image.layer_bytes - r.image.bytes == r.totals.dead_bytes


def test_dead_and_live_pycs_of_one_distribution(tmp_path: Path) -> None:
    site = "usr/local/lib/python3.11/site-packages"
    pkg = dist(site, "pkg", "1.0", {"pkg/__init__.py": 1000}, record="uv", pyc=False)
    pyc = File(pyc_path(f"{site}/pkg/__init__.py"), size=700)
    image = Image(
        layers=[
            Layer([*PYTHON311, *pkg]),
            Layer([pyc]),
            Layer([File(pyc.path, size=650)]),
        ]
    )
    r = inspect_image(tmp_path, image)
    assert package(r, "pkg").layers == {"0": size(pkg), "2": 650}
    assert r.layers[1].dead_categories.model_dump() == dead(bytecode=700)
    assert r.layers[1].python_bytes == 0
    assert r.layers[2].categories.model_dump() == add(ZERO, {"bytecode": 650})


def test_unrelated_dir_entries_do_not_create_caches(tmp_path: Path) -> None:
    r = inspect_image(
        tmp_path, Image(layers=[Layer([*PYTHON311, Dir("root/.cache/pip"), Dir("x/.cache")])])
    )
    assert [(c.path, c.bytes, c.exclusive_bytes, c.files) for c in r.caches] == [
        ("/root/.cache/pip", 0, 0, 0)
    ]
    assert r.totals.cache_bytes == 0
