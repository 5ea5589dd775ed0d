"""The analysis as a pipeline (analyzers/__init__.py): the analyzers declare the metadata files
they read, the sources keep exactly those, and the report is assembled from the context."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures import File, Image, Layer, dist, write_docker_archive
from pyimgsize.analyzers import (
    _STILL_WANTED,
    CONTENT_WANTED,
    PIPELINE,
    analyze,
    build_context,
    build_report,
)
from pyimgsize.analyzers.ownership import FORMATS
from pyimgsize.api import inspect
from pyimgsize.layers.content import ContentSelector, MetadataFile
from pyimgsize.sources import open_source

SITE = "usr/lib/python3.11/site-packages"


def _archive(tmp_path: Path) -> Path:
    foo = dist(SITE, "foo", "1.0", {"foo/__init__.py": 40, "foo/core.py": 300})
    path = tmp_path / "image.tar"
    write_docker_archive(path, Image("test/pipeline:1", [Layer(foo)]))
    return path


def test_every_analyzer_implements_the_protocol() -> None:
    for analyzer in PIPELINE:
        assert all(isinstance(m, MetadataFile) for m in analyzer.metadata)
        assert callable(analyzer.run)


def test_the_pipeline_keeps_the_files_every_format_reads() -> None:
    wanted = set(CONTENT_WANTED.files)
    for fmt in FORMATS:
        assert set(fmt.metadata) <= wanted
    for path in (
        f"{SITE}/foo-1.0.dist-info/RECORD",
        f"{SITE}/foo-1.0.dist-info/METADATA",
        f"{SITE}/foo-1.0.dist-info/INSTALLER",
        f"{SITE}/bar-2.0.egg-info/installed-files.txt",
        f"{SITE}/bar-2.0.egg-info/PKG-INFO",
        f"{SITE}/baz-3.0-py3.11.egg-info",
        "var/lib/dpkg/info/python3.list",
    ):
        assert CONTENT_WANTED(path), path
    for path in (f"{SITE}/foo/RECORD", f"{SITE}/foo/core.py", "opt/venv/pyvenv.cfg"):
        assert not CONTENT_WANTED(path), path


def test_what_the_reader_keeps_is_what_the_analysis_sees(tmp_path: Path) -> None:
    """The declarations drive the reader: without RECORD kept, the distribution is only its
    metadata directory (and says so), with it, it owns its files."""
    path = _archive(tmp_path)
    full = inspect(f"docker-archive:{path}")
    assert [(p.name, p.ownership) for p in full.packages] == [("foo", "RECORD")]

    without_record = ContentSelector(
        f for f in CONTENT_WANTED.files if f != MetadataFile("RECORD", within="*.dist-info")
    )
    loaded = open_source(f"docker-archive:{path}").load(wants=without_record)
    blind = analyze(loaded)
    assert [(p.name, p.ownership) for p in blind.packages] == [("foo", "none")]
    assert blind.packages[0].bytes < full.packages[0].bytes
    assert any(p.code == "record-unreadable" for p in blind.problems)
    # everything that does not read contents is the same
    assert blind.image == full.image
    assert blind.layers[0].bytes == full.layers[0].bytes


def test_contents_are_dropped_once_no_later_analyzer_reads_them(tmp_path: Path) -> None:
    """After each analyzer, the contents only it and those before it declared are dropped (a
    million-file image keeps tens of MB of RECORD files otherwise); the dpkg lists that the
    caches and advice analyzers read stay until they have run. The distributions analyzer
    drops the RECORDs itself, once read (before it builds its tables)."""
    record = f"{SITE}/foo-1.0.dist-info/RECORD"
    dpkg_list = "var/lib/dpkg/info/python3.list"
    foo = dist(SITE, "foo", "1.0", {"foo/__init__.py": 40})
    path = tmp_path / "image.tar"
    layer = Layer([*foo, File(dpkg_list, data=b"/usr/bin/python3\n")])
    write_docker_archive(path, Image("test/pipeline:2", [layer]))
    ctx = build_context(open_source(f"docker-archive:{path}").load(wants=CONTENT_WANTED))
    assert sorted(p for p, _ in ctx.fs.captured) == sorted(
        [f"{SITE}/foo-1.0.dist-info/{n}" for n in ("INSTALLER", "METADATA", "RECORD")] + [dpkg_list]
    )
    seen: dict[str, tuple[bool, bool]] = {}
    for analyzer, still_wanted in zip(PIPELINE, _STILL_WANTED, strict=True):
        ctx.contents_still_wanted = still_wanted
        analyzer.run(ctx)
        name = type(analyzer).__name__
        seen[name] = (ctx.index.data(record) is not None, ctx.index.data(dpkg_list) is not None)
        ctx.done_reading_contents()  # as run_pipeline does
        seen[f"after {name}"] = (
            ctx.index.data(record) is not None,
            ctx.index.data(dpkg_list) is not None,
        )
    assert seen["DistributionsAnalyzer"] == (False, True)
    assert seen["CachesAnalyzer"] == (False, True)
    assert seen["after CachesAnalyzer"] == (False, True)
    assert seen["AdviceAnalyzer"] == (False, True)
    assert seen["after AdviceAnalyzer"] == (False, False)
    assert ctx.fs.captured == []
    assert [(p.name, p.ownership) for p in build_report(ctx).packages] == [("foo", "RECORD")]


def test_a_loaded_image_is_analysed_once_and_a_second_time_is_an_error(tmp_path: Path) -> None:
    """The merge releases the layers' entries: analysing the same loaded image again fails
    loudly instead of reporting an empty image."""
    loaded = open_source(f"docker-archive:{_archive(tmp_path)}").load(wants=CONTENT_WANTED)
    assert [p.name for p in analyze(loaded).packages] == ["foo"]
    with pytest.raises(ValueError, match="merged and its entries released"):
        analyze(loaded)
