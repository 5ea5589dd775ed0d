"""The per-layer result cache: exact round trips, keys, damage, eviction, concurrency, the CLI."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from fixtures import (
    Dir,
    File,
    Hardlink,
    Image,
    Layer,
    Symlink,
    Whiteout,
    write_docker_archive,
    write_oci_layout,
)
from pyimgsize.api import inspect
from pyimgsize.cli.app import main
from pyimgsize.findings import Finding
from pyimgsize.layers.cache import FORMAT, LayerCache, LayerKey, blob_digest
from pyimgsize.layers.reader import Entry, Kind, LayerData

KEY = LayerKey("sha256:" + "ab" * 32, None, 12345, "wants-1")


def sample() -> LayerData:
    return LayerData(
        entries=[
            Entry("usr", Kind.DIR),
            Entry("usr/bin/python3", Kind.FILE, size=4000),
            Entry("usr/bin/python", Kind.SYMLINK, link="python3"),
            Entry("usr/bin/empty-link", Kind.SYMLINK, link=""),
            Entry("usr/bin/py", Kind.HARDLINK, link="usr/bin/python3"),
            Entry("dev/null", Kind.OTHER),
            Entry("gone", Kind.WHITEOUT),
            Entry("opt", Kind.OPAQUE),
            Entry("x/y.dist-info/RECORD", Kind.FILE, size=5, data=b"a,b,c"),
            Entry("x/y.dist-info/INSTALLER", Kind.FILE, size=0, data=b""),
            Entry("caf\udce9/\u00e9t\u00e9", Kind.FILE, size=2**40),
        ],
        tar_bytes=10240,
        compressed_bytes=999,
        compression="gzip",
        problems=[
            Finding(
                "name-outside-root",
                "unsafe-path",
                "a/b",
                None,
                {"name": "../a/b", "read_as": "a/b"},
            ),
            Finding("bare-whiteout", "whiteout"),
            Finding("more-outside-root", "unsafe-path", None, 3, {"count": 7}),
        ],
        diff_digest="sha256:" + "cd" * 32,
    )


def test_round_trip_is_exact(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    assert cache.get(KEY) is None
    cache.put(KEY, sample())
    assert cache.get(KEY) == sample()
    assert (cache.hits, cache.misses) == (1, 1)


def test_a_decoded_entry_shares_repeated_names(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    layer = LayerData(
        [Entry(f"d{i}/__init__.py", Kind.FILE, size=i) for i in range(3)],
        tar_bytes=10240,
        compressed_bytes=None,
        compression="tar",
    )
    cache.put(KEY, layer)
    got = cache.get(KEY)
    assert got == layer
    names = [n for n in got.entries.names if n == "__init__.py"]
    assert len(names) == 3
    assert all(n is names[0] for n in names)


def test_every_key_part_separates_entries(tmp_path: Path) -> None:
    cache = LayerCache(tmp_path)
    cache.put(KEY, sample())
    for other in (
        LayerKey("sha256:" + "ef" * 32, None, 12345, "wants-1"),
        LayerKey(KEY.diff_id, "sha256:" + "00" * 32, 12345, "wants-1"),
        LayerKey(KEY.diff_id, None, 12346, "wants-1"),
        LayerKey(KEY.diff_id, None, 12345, "wants-2"),
    ):
        assert cache.get(other) is None


def _entry_file(cache: LayerCache) -> Path:
    (path,) = [p for p in (cache.directory / f"v{FORMAT}").rglob("*") if p.is_file()]
    return path


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]),  # one flipped bit in the payload
        lambda raw: b"not a cache file",  # foreign
        lambda raw: b"",  # empty
        lambda raw: raw.replace(b"wants-1", b"wants-9"),  # a file that belongs to another key
        lambda raw: raw[:40] + bytes([raw[40] ^ 0xFF]) + raw[41:],  # a damaged header
    ],
)
def test_a_damaged_or_foreign_entry_is_a_miss_and_is_rewritten(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    cache = LayerCache(tmp_path)
    cache.put(KEY, sample())
    path = _entry_file(cache)
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get(KEY) is None
    cache.put(KEY, sample())  # what a fresh read does next
    assert cache.get(KEY) == sample()


def test_lru_eviction_keeps_the_cap(tmp_path: Path) -> None:
    big = LayerData(
        [Entry(f"f{i:06d}-{os.urandom(8).hex()}", Kind.FILE, size=i) for i in range(3000)],
        1,
        None,
        "tar",
    )
    probe = LayerCache(tmp_path / "probe")
    probe.put(KEY, big)
    one = probe.info().bytes
    cache = LayerCache(tmp_path / "c", max_bytes=int(one * 2.5))
    keys = [LayerKey(f"sha256:{i:064x}", None, 1, "w") for i in range(3)]
    cache.put(keys[0], big)
    cache.put(keys[1], big)
    past = os.stat(cache._path(keys[1])[0]).st_mtime - 100
    os.utime(cache._path(keys[0])[0], (past, past))
    os.utime(cache._path(keys[1])[0], (past + 1, past + 1))
    assert cache.get(keys[0]) is not None  # a hit makes it the most recently used
    cache.put(keys[2], big)
    assert cache.info().entries == 2
    assert cache.info().bytes <= cache.max_bytes
    assert cache.get(keys[1]) is None  # the least recently used went
    assert cache.get(keys[0]) is not None
    assert cache.get(keys[2]) is not None


def test_concurrent_writers_never_leave_a_torn_entry(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            c = LayerCache(tmp_path)
            for _ in range(20):
                c.put(KEY, sample())
                got = c.get(KEY)
                assert got is None or got == sample()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert LayerCache(tmp_path).get(KEY) == sample()
    assert LayerCache(tmp_path).info().entries == 1  # no temporary files left behind


def test_blob_digest_only_from_content_addressed_paths() -> None:
    assert blob_digest("blobs/sha256/" + "a" * 64) == "sha256:" + "a" * 64
    assert blob_digest("abc/layer.tar") is None
    assert blob_digest("blobs/sha256/xyz") is None


def _image() -> Image:
    site = "usr/lib/python3.11/site-packages"
    return Image(
        "test/cache:1",
        [
            Layer(
                [
                    Dir("usr"),
                    File("usr/bin/python3.11", size=3000),
                    Symlink("usr/bin/py", "python3.11"),
                ]
            ),
            Layer(
                [
                    File(f"{site}/x/__init__.py", size=100),
                    File(f"{site}/x-1.0.dist-info/METADATA", data=b"Name: x\nVersion: 1.0\n"),
                    File(
                        f"{site}/x-1.0.dist-info/RECORD",
                        data=b"x/__init__.py,,100\nx-1.0.dist-info/METADATA,,\n",
                    ),
                    Hardlink("usr/bin/python", "usr/bin/python3.11"),
                ]
            ),
            Layer([Whiteout("usr/bin/py")]),
        ],
    )


@pytest.mark.parametrize("layout", ["legacy", "oci", "oci-layout"])
def test_cached_inspect_equals_fresh_and_reads_no_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    monkeypatch.setenv("PYIMGSIZE_CACHE_DIR", str(tmp_path / "cache"))
    if layout == "oci-layout":
        path = tmp_path / "layout"
        write_oci_layout(path, _image())
        ref = f"oci:{path}"
    else:
        path = tmp_path / "image.tar"
        write_docker_archive(path, _image(), layout=layout)
        ref = f"docker-archive:{path}"
    fresh = inspect(ref, cache=False)
    assert LayerCache().info().entries == 0  # --no-cache writes nothing either
    filled = inspect(ref)
    assert LayerCache().info().entries == 3

    from pyimgsize.sources import store

    def no_reading(*args: object, **kwargs: object) -> LayerData:
        raise AssertionError("a cached layer was read again")

    monkeypatch.setattr(store, "read_layer", no_reading)
    cached = inspect(ref)
    assert fresh == filled == cached


def test_cache_info_and_clear_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYIMGSIZE_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "image.tar"
    write_docker_archive(path, _image())
    assert main(["inspect", f"docker-archive:{path}", "--format", "json", "--no-cache"]) == 0
    assert main(["cache", "info"]) == 0
    assert "layers:    0" in capsys.readouterr().out
    assert main(["inspect", f"docker-archive:{path}", "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["cache", "info"]) == 0
    assert "layers:    3" in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert "removed 3 cached layer file(s)" in capsys.readouterr().out
    assert LayerCache().info().entries == 0


def test_a_store_that_fetches_ahead_is_asked_only_for_uncached_layers(tmp_path: Path) -> None:
    """The interface a registry-like source uses: `prefetch(paths, progress)` before reading."""
    from pyimgsize.analyzers import CONTENT_WANTED
    from pyimgsize.layers.cache import wants_fingerprint
    from pyimgsize.sources.resolve import choose, load_candidate
    from pyimgsize.sources.store import DirStore

    asked: list[list[str]] = []

    class Ahead(DirStore):
        def prefetch(self, paths: list[str], progress: object) -> None:
            asked.append(list(paths))

    old, new = _image(), _image()
    new = Image(new.name, [*new.layers[:-1], Layer([Whiteout("usr/bin/python")])])
    for name, image in (("old", old), ("new", new)):
        write_oci_layout(tmp_path / name, image)
    cache = LayerCache(tmp_path / "cache")
    wants = wants_fingerprint(CONTENT_WANTED)

    def load(name: str) -> list[str]:
        store = Ahead(tmp_path / name, CONTENT_WANTED)
        candidate = choose(store, prefer="oci", image=None, platform=None)
        load_candidate(
            store, candidate, ref=name, source="oci", progress=None, cache=cache, wants=wants
        )
        return candidate.layer_paths

    old_paths = load("old")
    new_paths = load("new")
    assert asked == [old_paths, [new_paths[-1]]]  # the rebuilt top layer only
