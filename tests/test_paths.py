"""Path rules every stage uses (pyimgsize/paths.py): keys, joins, categories, bytecode names."""

from __future__ import annotations

import pytest

from pyimgsize.paths import (
    category,
    in_site_packages,
    is_bytecode,
    join,
    join_listed,
    normalize,
    pyc_source,
    pyc_tag,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("usr/bin/python3", ("usr/bin/python3", False)),
        ("usr/lib/", ("usr/lib", False)),
        ("./usr/lib/", ("usr/lib", False)),
        ("./", ("", False)),
        (".", ("", False)),
        ("", ("", False)),
        ("a//b///c", ("a/b/c", False)),
        ("a/./b/.", ("a/b", False)),
        ("a/b/../c", ("a/c", False)),
        ("a/..", ("", False)),
        ("..foo/.bar", ("..foo/.bar", False)),
        ("/etc/passwd", ("etc/passwd", True)),
        ("../../etc/passwd", ("etc/passwd", True)),
        ("a/../../etc/passwd", ("etc/passwd", True)),
        ("..", ("", True)),
    ],
)
def test_normalize(name: str, expected: tuple[str, bool]) -> None:
    assert normalize(name) == expected


@pytest.mark.parametrize(
    ("base", "rel", "expected"),
    [
        (
            "opt/venv/lib/python3.11/site-packages",
            "foo/__init__.py",
            "opt/venv/lib/python3.11/site-packages/foo/__init__.py",
        ),
        ("opt/venv/lib/python3.11/site-packages", "../../../bin/foo", "opt/venv/bin/foo"),
        ("opt/venv/lib/python3.11/site-packages", "/usr/bin/foo", "usr/bin/foo"),
        ("", "foo.py", "foo.py"),
    ],
)
def test_join_listed_inside_the_image(base: str, rel: str, expected: str) -> None:
    assert join_listed(base, rel) == (expected, False)


def test_join_listed_climbing_out_of_the_root_is_clamped_and_flagged() -> None:
    assert join_listed("usr/lib/site-packages", "../../../../etc/passwd") == ("etc/passwd", True)


def test_join() -> None:
    assert join("", "usr") == "usr"
    assert join("usr", "lib") == "usr/lib"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("s/foo-1.0.dist-info/RECORD", "metadata"),
        ("s/foo-1.0.dist-info/licenses/x.py", "metadata"),
        ("s/foo.egg-info/PKG-INFO", "metadata"),
        ("s/foo-1.0-py3.11.egg-info", "metadata"),
        ("s/foo/__pycache__/a.cpython-311.pyc", "bytecode"),
        ("s/foo/a.pyo", "bytecode"),
        ("s/foo/a.py", "source"),
        ("s/foo/a.pyi", "source"),
        ("s/foo/a.pyx", "source"),
        ("s/foo/a.pxd", "source"),
        ("s/foo/_a.cpython-311-x86_64-linux-gnu.so", "native"),
        ("s/numpy.libs/libopenblas.so.0", "native"),
        ("s/numpy.libs/README", "native"),
        ("s/foo/data.json", "data"),
        ("s/foo/libx.so.1.2", "native"),
        ("s/foo/also.txt", "data"),
    ],
)
def test_category_first_match_wins(path: str, expected: str) -> None:
    assert category(path) == expected


@pytest.mark.parametrize(
    ("pyc", "source", "tag"),
    [
        ("pkg/__pycache__/mod.cpython-311.pyc", "pkg/mod.py", "cpython-311"),
        ("pkg/__pycache__/mod.cpython-312.opt-1.pyc", "pkg/mod.py", "cpython-312"),
        ("__pycache__/mod.cpython-311.pyc", "mod.py", "cpython-311"),
        ("pkg/mod.pyc", "pkg/mod.py", None),
        ("mod.pyc", "mod.py", None),
        ("pkg/__pycache__/odd.pyc", None, None),
    ],
)
def test_bytecode_names(pyc: str, source: str | None, tag: str | None) -> None:
    assert is_bytecode(pyc)
    assert pyc_source(pyc) == source
    assert pyc_tag(pyc) == tag


def test_not_bytecode() -> None:
    assert not is_bytecode("pkg/mod.py")
    assert pyc_source("pkg/mod.py") is None


def test_in_site_packages() -> None:
    assert in_site_packages("usr/lib/python3/dist-packages/yaml/x.py")
    assert in_site_packages("opt/venv/lib/python3.11/site-packages")
    assert not in_site_packages("opt/my-site-packages-copy/x.py")
