"""The containerd image store's content store read in place (sources/content_store.py): the
export's very blobs, each verified, taken only when every check passes, else the export."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from conftest import remove_test_images, unique_tag
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
    write_oci_layout,
)
from pyimgsize.analyzers import CONTENT_WANTED
from pyimgsize.api import inspect
from pyimgsize.errors import PyImgSizeError
from pyimgsize.layers.cache import LayerCache
from pyimgsize.report import InspectReport
from pyimgsize.sources.content_store import (
    CONTENT_DIR,
    ENV_ROOT,
    ContentStore,
    Mismatch,
    _flag,
    containerd_roots,
)
from pyimgsize.sources.files import FileSource
from pyimgsize.sources.resolve import choose, load_candidate
from pyimgsize.sources.storage import ENV_SWITCH

SITE = "opt/venv/lib/python3.11/site-packages"
BASE = Layer(
    [
        Dir("usr"),
        File("usr/bin/python3.11", size=70_000),
        Symlink("usr/bin/python", "python3.11"),
        Hardlink("usr/bin/py", "usr/bin/python3.11"),
        *dist(SITE, "attrs", "23.2.0", {"attrs/__init__.py": 3000}),
        File(f"{SITE}/{'long' * 40}/x.py", size=10),  # a pax path record
        Opaque("var/cache"),
    ]
)
MIDDLE = Layer([Whiteout("usr/bin/py"), *dist(SITE, "idna", "3.6", {"idna/core.py": 900})])


# --- the store, on an OCI layout (the same `blobs/sha256/<hex>` naming) ------------------------


def _content_root(tmp_path: Path, image: Image, compression: Any) -> tuple[Path, Any]:
    """A directory laid out as a containerd root whose content store holds `image` (an OCI
    layout's blobs), and what was written (its manifest digest is the engine's image ID)."""
    root = tmp_path / "ctr-root"
    info = write_oci_layout(root / CONTENT_DIR, image, compression=compression).image
    return root, info


def _load(root: Path, info: Any) -> Any:
    store = ContentStore(root, str(info.manifest_digest), CONTENT_WANTED)
    candidate = choose(store, prefer="oci", image=None, platform=None)
    sizes = zip(candidate.layer_paths, candidate.layer_sizes, strict=True)
    store.blob_sizes = {path: size for path, size in sizes if size is not None}
    return load_candidate(store, candidate, ref="x", source="docker", progress=None)


def _blob(root: Path, digest: str) -> Path:
    return root / CONTENT_DIR / "blobs" / "sha256" / digest.removeprefix("sha256:")


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_the_store_reads_what_the_layout_reader_reads(tmp_path: Path, compression: Any) -> None:
    root, info = _content_root(tmp_path, Image("pyimgsize-test/cs:1", [BASE, MIDDLE]), compression)
    loaded = _load(root, info)
    oci = FileSource("x", root / CONTENT_DIR, "oci").load(wants=CONTENT_WANTED)
    assert loaded.id == oci.id == info.id
    assert loaded.layers == oci.layers


def test_a_document_that_does_not_hash_to_its_digest_is_a_mismatch(tmp_path: Path) -> None:
    root, info = _content_root(tmp_path, Image("pyimgsize-test/cs:1", [BASE]), "none")
    config = _blob(root, info.config_digest)
    config.write_bytes(config.read_bytes().replace(b'"amd64"', b'"arm64"'))
    with pytest.raises(Mismatch):
        _load(root, info)


def test_a_plain_tar_blob_with_other_contents_of_the_same_size_is_a_mismatch(
    tmp_path: Path,
) -> None:
    """A plain tar's contents are skipped, not read: only its hash can tell it from another
    tar of the same size (here the same file under another name)."""
    root, info = _content_root(
        tmp_path, Image("pyimgsize-test/cs:1", [Layer([File("a", 9)])]), "none"
    )
    other = Layer([File("b", data=File("a", 9).content)])
    (layer,) = info.layers
    blob = _blob(root, layer.digest)
    assert len(other.tar) == blob.stat().st_size
    blob.write_bytes(other.tar)
    with pytest.raises(Mismatch):
        _load(root, info)


def test_a_compressed_blob_that_is_not_its_layer_is_never_read_as_it(tmp_path: Path) -> None:
    root, info = _content_root(tmp_path, Image("pyimgsize-test/cs:1", [BASE]), "gzip")
    (layer,) = info.layers
    blob = _blob(root, layer.digest)
    blob.write_bytes(b"\0" * blob.stat().st_size)
    with pytest.raises(PyImgSizeError):
        _load(root, info)
    other = Layer([File("b", 5)])
    blob.write_bytes(gzip.compress(other.tar))
    with pytest.raises(Mismatch):  # not the size the manifest declares
        _load(root, info)


def test_roots_come_from_the_override_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_ROOT, "/somewhere/ctr")
    assert containerd_roots("/var/lib/docker") == [Path("/somewhere/ctr")]
    monkeypatch.delenv(ENV_ROOT)
    roots = containerd_roots("/var/lib/docker")
    assert Path("/var/lib/docker/containerd/daemon") in roots
    assert roots[-1] == Path("/var/lib/containerd")


def test_flags_are_read_in_every_spelling() -> None:
    args = ["containerd", "--root", "/a", "--address=/s.sock", "-c", "/c.toml"]
    assert _flag(args, "--root") == "/a"
    assert _flag(args, "--address", "-a") == "/s.sock"
    assert _flag(args, "--config", "-c") == "/c.toml"
    assert _flag(args, "--state") is None


# --- against dockerd 26 with the containerd image store ----------------------------------------


class D26:
    """dockerd 26, DOCKER_HOST pointing at it; images loaded here are removed after."""

    def __init__(self, host: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.host = host
        self.client = docker.DockerClient(base_url=host)
        self.tags: list[str] = []
        self._monkeypatch = monkeypatch
        monkeypatch.setenv("DOCKER_HOST", host)
        monkeypatch.delenv(ENV_ROOT, raising=False)
        monkeypatch.delenv(ENV_SWITCH, raising=False)

    def load(self, path: Path, tag: str) -> str:
        self.tags.append(tag)
        subprocess.run(
            ["docker", "load", "-q", "-i", str(path)],
            env={**os.environ, "DOCKER_HOST": self.host},
            check=True,
            capture_output=True,
        )
        return tag

    def attrs(self, tag: str) -> dict[str, Any]:
        return dict(self.client.api.inspect_image(tag))

    def content_root(self, tag: str) -> Path:
        """The containerd root holding `tag`'s content (scripts/start-dockerd26.sh's)."""
        for root in containerd_roots(self.client.info().get("DockerRootDir")):
            if _blob(root, self.attrs(tag)["Id"]).is_file():
                return root
        raise AssertionError(f"no containerd root holds {tag}")

    def export(self, ref: str, **kwargs: Any) -> InspectReport:
        with self._monkeypatch.context() as m:
            m.setenv(ENV_SWITCH, "0")
            return inspect(ref, cache=False, **kwargs)


@pytest.fixture
def d26(dockerd26: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[D26]:
    engine = D26(dockerd26, monkeypatch)
    try:
        yield engine
    finally:
        remove_test_images(engine.client, engine.tags)
        engine.client.close()


def _without_read_via(report: InspectReport) -> dict[str, Any]:
    dump = report.model_dump()
    dump["image"].pop("read_via")
    return dump


def _direct_is_export(d26: D26, ref: str) -> InspectReport:
    direct = inspect(ref, cache=False)
    export = d26.export(ref)
    assert direct.image.read_via == "content-store"
    assert export.image.read_via == "export"
    assert _without_read_via(direct) == _without_read_via(export)
    return direct


def _image(tag: str, top: Layer) -> Image:
    return Image(tag, [BASE, MIDDLE, top])


TOP = Layer([Opaque(SITE), *dist(SITE, "six", "1.16.0", {"six.py": 34_000})])


@pytest.mark.parametrize(
    "how",
    ["legacy archive (plain tar blobs)", "OCI archive (gzip blobs)", "multi-platform index"],
)
def test_a_loaded_image_from_the_content_store_equals_its_export(
    d26: D26, tmp_path: Path, how: str
) -> None:
    tag = unique_tag("content-store")
    archive = tmp_path / "image.tar"
    image = _image(tag, TOP)
    if how.startswith("legacy"):
        write_docker_archive(archive, image)
    elif how.startswith("OCI"):
        write_docker_archive(archive, image, layout="oci", compression="gzip")
    else:
        arm = Image(tag, [Layer([File("arm", size=10)])], architecture="arm64")
        write_oci_layout(
            archive, platforms=[image, arm], compression="gzip", attestations=True, as_tar=True
        )
    d26.load(archive, tag)
    report = _direct_is_export(d26, f"docker:{tag}")
    assert report.image.platform == "linux/amd64"
    assert [layer.diff_id for layer in report.layers] == image.diff_ids


def test_without_the_host_platform_s_content_the_export_is_read(d26: D26, tmp_path: Path) -> None:
    """An index whose linux/amd64 content is absent (only arm64 loaded): the engine shows the
    arm64 image, but its export has no manifest to write; the direct path must not make a
    report the export cannot give."""
    tag = unique_tag("content-store-arm")
    unique = tag.rpartition(":")[2]
    amd = Image(tag, [Layer([File(f"amd-{unique}", size=10)])])
    arm = Image(tag, [Layer([File(f"arm-{unique}", size=20)])], architecture="arm64")
    archive = tmp_path / "image.tar"
    write_oci_layout(
        archive,
        platforms=[amd, arm],
        compression="gzip",
        as_tar=True,
        omit_platforms=["linux/amd64"],
    )
    d26.load(archive, tag)
    assert d26.attrs(tag)["Architecture"] == "arm64"
    errors = []
    for read in (
        lambda: inspect(f"docker:{tag}", cache=False),
        lambda: d26.export(f"docker:{tag}"),
    ):
        with pytest.raises(PyImgSizeError) as caught:
            read()
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def _copy_image_blobs(src: Path, dst: Path, d26: D26, tag: str) -> list[str]:
    """Copy `tag`'s target, manifests, config and layer blobs from the content store at `src`
    to one at `dst`; the layer digests, base first."""
    layers: list[str] = []

    def copy(digest: str) -> bytes:
        target = _blob(dst, digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_blob(src, digest), target)
        return target.read_bytes()

    def visit(digest: str) -> None:
        doc = json.loads(copy(digest))
        for desc in doc.get("manifests") or []:
            if _blob(src, desc["digest"]).is_file():
                visit(desc["digest"])
        if "config" in doc:
            copy(doc["config"]["digest"])
            for layer in doc["layers"]:
                copy(layer["digest"])
                layers.append(layer["digest"])

    visit(d26.attrs(tag)["Id"])
    return layers


def test_a_store_without_a_blob_falls_back_to_the_export(
    d26: D26, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = unique_tag("content-store-gone")
    d26.load(_archive(tmp_path, tag, TOP), tag)
    scratch = tmp_path / "scratch"
    layers = _copy_image_blobs(d26.content_root(tag), scratch, d26, tag)
    monkeypatch.setenv(ENV_ROOT, str(scratch))
    assert inspect(f"docker:{tag}", cache=False).image.read_via == "content-store"
    _blob(scratch, layers[1]).unlink()
    missing = inspect(f"docker:{tag}", cache=False)
    assert missing.image.read_via == "export"
    assert _without_read_via(missing) == _without_read_via(d26.export(f"docker:{tag}"))
    monkeypatch.setenv(ENV_ROOT, str(tmp_path / "empty"))
    assert inspect(f"docker:{tag}", cache=False).image.read_via == "export"


def _archive(tmp_path: Path, tag: str, top: Layer) -> Path:
    path = tmp_path / f"{tag.rpartition(':')[2]}.tar"
    write_docker_archive(path, _image(tag, top))
    return path


def test_a_rebuilt_image_reads_only_its_new_blobs(
    d26: D26, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a rebuild that changed the top layer, the unchanged layers come from the per-layer
    cache without their blobs being opened: in a scratch copy of the store they are replaced by
    zeros of the same size, which a read would refuse (falling back to the export)."""
    first, second = unique_tag("content-store-v1"), unique_tag("content-store-v2")
    d26.load(_archive(tmp_path, first, TOP), first)
    rebuilt = Layer([Opaque(SITE), *dist(SITE, "six", "1.17.0", {"six.py": 35_000})])
    d26.load(_archive(tmp_path, second, rebuilt), second)
    scratch = tmp_path / "scratch"
    old = _copy_image_blobs(d26.content_root(first), scratch, d26, first)
    root = d26.content_root(second)
    monkeypatch.setenv(ENV_ROOT, str(scratch))
    monkeypatch.setenv("PYIMGSIZE_CACHE_DIR", str(tmp_path / "cache"))
    assert inspect(f"docker:{first}").image.read_via == "content-store"  # fills the cache
    new = _copy_image_blobs(root, scratch, d26, second)
    assert new[:2] == old[:2]
    assert new[2] != old[2]
    for digest in new[:2]:
        blob = _blob(scratch, digest)
        size = blob.stat().st_size
        blob.chmod(0o644)
        blob.write_bytes(b"\0" * size)
    cache = LayerCache(tmp_path / "cache")
    assert cache.info().entries == 3
    report = inspect(f"docker:{second}")
    assert report.image.read_via == "content-store"
    assert _without_read_via(report) == _without_read_via(d26.export(f"docker:{second}"))
    assert cache.info().entries == 4  # the new top layer, read and kept
    # without the cache the zeroed blobs are read, refused, and the export read instead
    assert inspect(f"docker:{second}", cache=False).image.read_via == "export"
