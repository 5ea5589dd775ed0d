"""`api.diff`: two references (images or saved reports) in, the diff verdict as data out.
Expected numbers come from the fixture entries (tests/diff_images.py)."""

from __future__ import annotations

from pathlib import Path

import tests.diff_images as img
from pyimgsize import api
from pyimgsize.render import OutputFormat, render_inspect
from tests.diff_images import write_pair


def test_diff_reads_both_sides_and_returns_causes(tmp_path: Path) -> None:
    ref_a, ref_b = write_pair(tmp_path, "bytecode")
    sides: set[str] = set()

    def progress(side: str, _what: str, done: int) -> None:
        assert done >= 0
        sides.add(side)

    diff = api.diff(ref_a, ref_b, progress=progress)
    pyc = img.size_of(img.pandas(pyc=True), img.is_pyc)
    assert (diff.a.source, diff.b.source) == ("docker-archive", "oci")
    assert diff.totals.bytes.delta == pyc
    assert [(c.kind, c.bytes, c.hint) for c in diff.causes] == [
        ("bytecode", pyc, "uv-compile-bytecode")
    ]
    assert diff.explanation == []  # words are made by pyimgsize.render
    assert sides == {"A", "B"}


def test_diff_against_a_saved_report(tmp_path: Path) -> None:
    ref_a, ref_b = write_pair(tmp_path, "cache")
    saved = tmp_path / "a.json"
    saved.write_text(render_inspect(api.inspect(ref_a), OutputFormat.JSON), encoding="utf-8")
    diff = api.diff(str(saved), ref_b)
    cache = img.size_of(img.CACHE_FILES)
    assert (diff.a.source, diff.b.source) == ("report", "oci")
    assert [(c.kind, c.bytes) for c in diff.causes] == [("caches", cache)]
    assert sum(c.bytes for c in diff.causes) == diff.totals.layer_bytes.delta
