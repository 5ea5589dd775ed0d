"""The engine's layer storage read in place (sources/storage.py): the same numbers as its
export, taken only when every check passes."""

from __future__ import annotations

import base64
import gzip
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from conftest import expected_read_via, register_test_image, unique_tag
from fixtures import (
    Dir,
    File,
    Hardlink,
    Image,
    Layer,
    Opaque,
    Symlink,
    Whiteout,
    dist,
    write_docker_archive,
)
from fixtures.image import chain_ids as fixture_chain_ids
from pyimgsize.analyzers import CONTENT_WANTED
from pyimgsize.api import inspect
from pyimgsize.layers.reader import read_layer
from pyimgsize.layers.stream import FileStream
from pyimgsize.report import InspectReport
from pyimgsize.sources.storage import (
    Mismatch,
    StorageLayer,
    StorageUnusable,
    chain_ids,
    plan,
    read_storage_layer,
)

SITE = "opt/venv/lib/python3.11/site-packages"


def tar_split(tar: bytes) -> tuple[bytes, dict[str, bytes]]:
    """A tar-split record of `tar` as the engine writes it (gzipped JSON lines: raw segments
    and file entries), and the file contents a diff directory would hold."""
    lines: list[dict[str, Any]] = []
    files: dict[str, bytes] = {}
    pos = 0
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        for m in tf.getmembers():
            lines.append({"type": 2, "payload": base64.b64encode(tar[pos : m.offset_data])})
            size = m.size if m.isreg() else 0
            lines.append({"type": 1, "name": m.name, "size": size, "payload": None})
            if size:
                files[m.name] = tar[m.offset_data : m.offset_data + size]
            pos = m.offset_data + size
    lines.append({"type": 2, "payload": base64.b64encode(tar[pos:])})
    text = b"".join(
        json.dumps({k: v.decode() if isinstance(v, bytes) else v for k, v in line.items()}).encode()
        + b"\n"
        for line in lines
    )
    return gzip.compress(text), files


def storage_layer(tmp_path: Path, layer: Layer) -> StorageLayer:
    record, files = tar_split(layer.tar)
    split = tmp_path / "tar-split.json.gz"
    split.write_bytes(record)
    diff = tmp_path / "diff"
    for name, data in files.items():
        path = diff / name.lstrip("./")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return StorageLayer(layer.diff_id, split, diff)


LAYER = Layer(
    [
        Dir("usr"),
        File("usr/bin/python3.11", size=70_000),
        Symlink("usr/bin/python", "python3.11"),
        Hardlink("usr/bin/py", "usr/bin/python3.11"),
        *dist(SITE, "attrs", "23.2.0", {"attrs/__init__.py": 3000}),
        File(f"{SITE}/{'long' * 40}/x.py", size=10),  # a pax path record
        Whiteout("etc/gone"),
        Opaque("var/cache"),
    ]
)


def test_a_layer_read_from_its_record_is_the_layer_read_from_its_tar(tmp_path: Path) -> None:
    layer = storage_layer(tmp_path, LAYER)
    from_tar = read_layer(FileStream(io.BytesIO(LAYER.tar)), "layer", wants=CONTENT_WANTED)
    assert read_storage_layer(layer, "layer", CONTENT_WANTED, None) == from_tar
    assert any(e.data for e in from_tar.entries)  # metadata contents came from the diff dir


def test_a_diff_dir_that_disagrees_with_the_record_is_a_mismatch(tmp_path: Path) -> None:
    layer = storage_layer(tmp_path, LAYER)
    (record,) = layer.diff_dir.rglob("RECORD")
    record.write_bytes(record.read_bytes() + b"x")
    with pytest.raises(Mismatch):
        read_storage_layer(layer, "layer", CONTENT_WANTED, None)


def test_a_damaged_record_is_a_mismatch(tmp_path: Path) -> None:
    layer = storage_layer(tmp_path, LAYER)
    layer.split.write_bytes(layer.split.read_bytes()[:-20])
    with pytest.raises(Mismatch):
        read_storage_layer(layer, "layer", CONTENT_WANTED, None)


def test_chain_ids_are_the_image_specs() -> None:
    diff_ids = [layer.diff_id for layer in (LAYER, Layer([File("a", size=1)]), Layer([]))]
    assert chain_ids(diff_ids) == fixture_chain_ids(diff_ids)


class _Api:
    def __init__(self, base_url: str, driver: str = "overlay2") -> None:
        self.base_url = base_url
        self._driver = driver

    def info(self) -> dict[str, Any]:
        return {"Driver": self._driver, "DockerRootDir": "/var/lib/docker"}


@pytest.mark.parametrize(
    ("api", "driver"),
    [
        (_Api("http://build-host:2375"), "overlay2"),  # a remote engine
        (_Api("http+docker://localhost"), "btrfs"),  # another graph driver
        (_Api("http+docker://localhost", driver="vfs"), "overlay2"),
    ],
)
def test_storage_is_not_used_where_it_cannot_stand_in_for_the_export(
    api: _Api, driver: str
) -> None:
    info = {
        "Id": "sha256:" + "a" * 64,
        "GraphDriver": {"Name": driver, "Data": {"UpperDir": "/x/diff"}},
        "RootFS": {"Layers": ["sha256:" + "b" * 64]},
    }
    with pytest.raises(StorageUnusable):
        plan(api, info)


# --- against the real engine ---------------------------------------------------------------


def _without_read_via(report: InspectReport) -> dict[str, Any]:
    dump = report.model_dump()
    dump["image"].pop("read_via")
    return dump


def _both_ways(monkeypatch: pytest.MonkeyPatch, ref: str) -> InspectReport:
    direct = inspect(ref, cache=False)
    with monkeypatch.context() as m:
        m.setenv("PYIMGSIZE_ENGINE_STORAGE", "0")
        export = inspect(ref, cache=False)
    assert direct.image.read_via == expected_read_via(docker.from_env())
    assert export.image.read_via == "export"
    assert _without_read_via(direct) == _without_read_via(export)
    cached_fill = inspect(ref)
    cached = inspect(ref)
    assert direct == cached_fill == cached
    return direct


@pytest.mark.engine
def test_a_loaded_image_from_storage_equals_its_export(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = register_test_image(unique_tag("storage-load"))
    image = Image(
        tag,
        [
            LAYER,
            Layer([Whiteout("usr/bin/py"), File("usr/bin/python3.11", size=5)]),
            Layer([Opaque(SITE), *dist(SITE, "idna", "3.6", {"idna/core.py": 900})]),
        ],
    )
    archive = tmp_path / "image.tar"
    write_docker_archive(archive, image)
    engine.images.load(archive.read_bytes())
    report = _both_ways(monkeypatch, f"docker:{tag}")
    assert report == _replace_source(inspect(f"docker-archive:{archive}", cache=False), report)


def _replace_source(archive: InspectReport, engine: InspectReport) -> InspectReport:
    image = archive.image.model_copy(
        update={
            "ref": engine.image.ref,
            "source": "docker",
            "read_via": engine.image.read_via,
            "tags": engine.image.tags,
        }
    )
    return archive.model_copy(update={"image": image})


BUILD = """\
FROM {base}
RUN mkdir -p /opt/a/b && head -c 5000 /dev/zero > /opt/a/b/f && ln /opt/a/b/f /opt/a/link \\
 && head -c 300 /dev/zero > /opt/a/gone
RUN rm /opt/a/gone && head -c 7 /dev/zero > /opt/a/b/f && rm -rf /opt/a/b && mkdir /opt/a/b
"""


@pytest.mark.engine
def test_a_built_image_from_storage_equals_its_export(
    busybox_base: str, docker_build: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real overlay2 whiteouts (0/0 character devices in the diff dirs, `.wh.` entries in the
    layer tars), an opaque directory and hardlinks, written by the engine itself."""
    image_id = docker_build(BUILD.format(base=busybox_base), {}, name="storage-build")
    report = _both_ways(monkeypatch, f"docker:{image_id}")
    # /opt/a/gone is dead; /opt/a/b/f's 5000 bytes stay visible through /opt/a/link (overlay's
    # copy-up of f breaks the hardlink, and b is then deleted and made again, opaque)
    assert report.totals.dead_bytes == 300
    assert report.layers[-1].bytes == 0
