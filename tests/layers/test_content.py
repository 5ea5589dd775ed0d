"""Which files' contents the layer reader keeps (layers/content.py): declarations by base name
and place, compiled into one selector."""

from __future__ import annotations

import pytest

from pyimgsize.layers.content import NO_CONTENT, ContentSelector, MetadataFile

SELECTOR = ContentSelector(
    [
        MetadataFile("RECORD", within="*.dist-info"),
        MetadataFile("PKG-INFO", within="*.egg-info"),
        MetadataFile("PKG-INFO", within="opt/legacy"),
        MetadataFile("*.egg-info"),
        MetadataFile("*.list", within="var/lib/dpkg/info"),
    ]
)


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("s/foo-1.0.dist-info/RECORD", True),
        ("foo-1.0.dist-info/RECORD", True),
        ("s/foo/RECORD", False),  # not in a dist-info
        ("s/foo-1.0.dist-info/sub/RECORD", False),  # the parent itself must match
        ("s/foo-1.0.egg-info/RECORD", False),  # RECORD was declared for dist-info only
        ("s/foo-1.0.egg-info/PKG-INFO", True),
        ("opt/legacy/PKG-INFO", True),  # an exact directory
        ("opt/legacy/x/PKG-INFO", False),
        ("anywhere/at/all/foo-1.0-py3.11.egg-info", True),
        ("foo.egg-info", True),
        ("var/lib/dpkg/info/python3.list", True),
        ("var/lib/dpkg/info/python3.md5sums", False),
        ("other/var/lib/dpkg/info/python3.list", False),
        ("opt/venv/pyvenv.cfg", False),
    ],
)
def test_selector(path: str, kept: bool) -> None:
    assert SELECTOR(path) is kept


def test_no_content_keeps_nothing() -> None:
    assert not NO_CONTENT("s/foo-1.0.dist-info/RECORD")
    assert NO_CONTENT.files == ()


def test_declarations_are_deduplicated_and_listed() -> None:
    twice = ContentSelector([MetadataFile("RECORD", "*.dist-info")] * 2)
    assert twice.files == (MetadataFile("RECORD", "*.dist-info"),)


@pytest.mark.parametrize(
    ("name", "within"),
    [("", None), ("*", None), ("RE*CORD", None), ("x?", None), ("RECORD", "*"), ("a", "/abs")],
)
def test_patterns_it_cannot_match_are_refused(name: str, within: str | None) -> None:
    with pytest.raises(ValueError, match="unsupported metadata file pattern"):
        MetadataFile(name, within)
