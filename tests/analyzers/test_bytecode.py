"""Bytecode health (design.md §3, an insight, not a category) and `totals.bytecode_bytes`.

- a `.pyc` compiled for an interpreter the image does not have;
- a `__pycache__` `.pyc` without its source (never importable);
- a `.py` without a matching `.pyc` in a site-packages that otherwise ships bytecode;
- an image without Python at all.
"""

from __future__ import annotations

from pathlib import Path

from fixtures import File, Hardlink, Image, Layer, Symlink, Whiteout, dist
from fixtures.python import pyc_path
from tests.pyimages import PYTHON311, inspect_image, messages, package, size

SITE = "usr/local/lib/python3.11/site-packages"


def test_interpreters_come_from_stdlib_directories_and_executables(tmp_path: Path) -> None:
    files = [
        File("usr/lib/python3.9/os.py", size=10),  # a stdlib
        File("opt/py/bin/python3.12", size=10),  # an executable
        File("usr/lib/python3.10/README", size=10),  # neither: no os.py
    ]
    r = inspect_image(tmp_path, Image(layers=[Layer(files)]))
    assert r.bytecode.interpreters == ["cpython-312", "cpython-39"]


def test_pyc_for_an_interpreter_the_image_lacks(tmp_path: Path) -> None:
    pkg = dist(SITE, "pkg", "1.0", {"pkg/__init__.py": 1000, "pkg/a.py": 3000}, pyc_size=500)
    foreign = [
        File(pyc_path(f"{SITE}/pkg/__init__.py", "cpython-312"), size=610),
        File(pyc_path(f"{SITE}/pkg/a.py", "cpython-312"), size=620),
        File(f"{SITE}/pkg/__pycache__/a.pypy39.opt-1.pyc", size=630),
    ]
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *pkg, *foreign])]))
    assert r.bytecode.interpreters == ["cpython-311"]
    assert (r.bytecode.foreign_tag.files, r.bytecode.foreign_tag.bytes) == (3, 1860)
    assert (r.bytecode.without_source.files, r.bytecode.without_source.bytes) == (0, 0)
    assert (r.bytecode.source_without_pyc.files, r.bytecode.source_without_pyc.bytes) == (0, 0)
    found = [m for m in messages(r) if "interpreter the image does not have" in m]
    assert len(found) == 1
    assert found[0].startswith("3 .pyc file(s) (1860 bytes)")
    assert "cpython-311" in found[0]
    # still the distribution's bytecode: compiled from its listed sources
    assert package(r, "pkg").categories.bytecode == 1000 + 1860
    assert r.totals.bytecode_bytes == 1000 + 1860


def test_no_foreign_tag_when_the_image_has_no_known_interpreter(tmp_path: Path) -> None:
    pkg = dist(SITE, "pkg", "1.0", {"pkg/__init__.py": 1000}, python_tag="cpython-312")
    r = inspect_image(tmp_path, Image(layers=[Layer(pkg)]))
    assert r.bytecode.interpreters == []
    assert r.bytecode.foreign_tag.files == 0


def test_pycache_pyc_without_source(tmp_path: Path) -> None:
    pkg = dist(SITE, "pkg", "1.0", {"pkg/__init__.py": 1000, "pkg/gone.py": 2000})
    gone = pyc_path(f"{SITE}/pkg/gone.py")
    orphan_size = size(pkg, lambda f: f.path == gone)
    extra = [
        File(f"{SITE}/__pycache__/stray.cpython-311.opt-2.pyc", size=333),
        # a sourceless legacy pyc beside where its source would be is importable: not an orphan
        File(f"{SITE}/legacy.pyc", size=444),
    ]
    image = Image(
        layers=[
            Layer([*PYTHON311, *pkg, *extra]),
            Layer([Whiteout(f"{SITE}/pkg/gone.py")], created_by="strip sources"),
        ]
    )
    r = inspect_image(tmp_path, image)
    assert (r.bytecode.without_source.files, r.bytecode.without_source.bytes) == (
        2,
        orphan_size + 333,
    )
    found = [m for m in messages(r) if "have no source" in m]
    assert found == [
        f"2 __pycache__ .pyc file(s) ({orphan_size + 333} bytes) have no source "
        "and can never be imported"
    ]
    # the pyc of a listed source stays the distribution's, even with the source gone
    assert package(r, "pkg").bytes == size(pkg) - 2000
    assert r.totals.bytecode_bytes == size(pkg, lambda f: f.path.endswith(".pyc")) + 333 + 444
    assert r.layers[0].dead_categories.source == 2000


def test_source_without_pyc_in_a_site_that_ships_bytecode(tmp_path: Path) -> None:
    other_site = "opt/venv/lib/python3.11/site-packages"
    compiled = dist(SITE, "compiled", "1.0", {"compiled/__init__.py": 1000})
    half = dist(SITE, "half", "1.0", {"half/__init__.py": 200, "half/b.py": 300}, pyc=False)
    half_pyc = File(pyc_path(f"{SITE}/half/__init__.py"), size=150)
    # compiled for another interpreter only: still compiled at first import here
    foreign_only = File(f"{SITE}/half/__pycache__/c.cpython-312.pyc", size=170)
    c_source = File(f"{SITE}/half/c.py", size=400)
    # no bytecode anywhere in this site-packages: not reported
    plain = dist(other_site, "plain", "1.0", {"plain/__init__.py": 5000}, pyc=False)
    image = Image(
        layers=[Layer([*PYTHON311, *compiled, *half, half_pyc, foreign_only, c_source, *plain])]
    )
    r = inspect_image(tmp_path, image)
    missing = r.bytecode.source_without_pyc
    assert (missing.files, missing.bytes) == (2, 300 + 400)
    found = [m for m in messages(r) if "have no .pyc" in m]
    assert len(found) == 1
    assert found[0].startswith("2 .py file(s)")
    assert r.bytecode.foreign_tag.files == 1


def test_bytecode_bytes_count_every_pyc_and_pyo_once(tmp_path: Path) -> None:
    stdlib = [
        File("usr/local/lib/python3.11/__pycache__/os.cpython-311.pyc", size=3000),
        File("usr/local/lib/python3.11/__pycache__/os.cpython-311.opt-1.pyc", size=2900),
        File("usr/local/lib/python3.11/old.pyo", size=100),
        File("app/main.pyc", size=70),
    ]
    link = Hardlink("app/copy.pyc", "app/main.pyc")
    pkg = dist(SITE, "pkg", "1.0", {"pkg/__init__.py": 1000}, pyc_size=555)
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *stdlib, link, *pkg])]))
    assert r.totals.bytecode_bytes == 3000 + 2900 + 100 + 70 + 555
    # outside site-packages and no distribution's: not Python bytes
    assert r.totals.python_bytes == size(pkg)
    assert r.layers[0].categories.bytecode == 555


def test_image_without_python(tmp_path: Path) -> None:
    files = [File("bin/busybox", size=1_000_000), File("etc/passwd", size=60)]
    r = inspect_image(tmp_path, Image(layers=[Layer(files)]))
    assert r.python_found is False
    assert r.site_packages == []
    assert r.packages == []
    assert r.caches == []
    assert r.totals.model_dump() == {
        "python_bytes": 0,
        "bytecode_bytes": 0,
        "cache_bytes": 0,
        "dead_bytes": 0,
    }
    assert r.image.bytes == 1_000_060
    assert [(p.code, p.kind, p.path) for p in r.problems] == [("no-python", "no-python", None)]
    assert r.layers[0].python_bytes == 0


def test_bytecode_health_by_source_name_tag_and_symlinked_source(tmp_path: Path) -> None:
    """Each pyc is judged by its own source name and tag: a source reached through a symlink
    is there; a source with one usable pyc among foreign ones is compiled; a name that gives
    no source (`odd.name.<tag>.pyc`) is never an orphan."""
    cache = f"{SITE}/m/__pycache__"
    files = [
        *PYTHON311,
        File(f"{SITE}/m/real.py", size=10),
        Symlink(f"{SITE}/m/link.py", "real.py"),
        File(f"{cache}/link.cpython-311.pyc", size=20),  # its source is a symlink: not orphan
        File(f"{cache}/real.cpython-311.pyc", size=25),
        File(f"{SITE}/m/both.py", size=30),
        File(f"{cache}/both.cpython-312.pyc", size=40),  # foreign
        File(f"{cache}/both.cpython-311.opt-1.pyc", size=50),  # usable: both.py is compiled
        File(f"{SITE}/m/only.py", size=60),
        File(f"{cache}/only.cpython-312.pyc", size=70),  # foreign only: only.py is not
        File(f"{cache}/odd.name.cpython-311.pyc", size=80),  # no source name; tag "name"
        File(f"{cache}/gone.cpython-311.pyc", size=90),  # orphan
    ]
    r = inspect_image(tmp_path, Image(layers=[Layer(files)]))
    health = r.bytecode
    assert (health.foreign_tag.files, health.foreign_tag.bytes) == (3, 40 + 70 + 80)
    assert (health.without_source.files, health.without_source.bytes) == (1, 90)
    assert (health.source_without_pyc.files, health.source_without_pyc.bytes) == (1, 60)
