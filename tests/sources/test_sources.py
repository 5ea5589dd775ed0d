"""Every source gives the same report: docker save archives (legacy and Docker 25+, plain or
gzipped, read from a file or a pipe), OCI layouts (directory or tar), the engine's export; with
none/gzip/zstd layer blobs, repeated layers, several images, several platforms, attestations
and missing blobs (design.md §1, §6; image-and-python-facts §1, §2, §4, §13).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
import requests.exceptions

from fixtures import (
    Device,
    Dir,
    File,
    Hardlink,
    Image,
    Layer,
    Opaque,
    Sparse,
    Symlink,
    Whiteout,
    dist,
    write_docker_archive,
    write_oci_layout,
)
from pyimgsize.api import inspect
from pyimgsize.errors import (
    AmbiguousImage,
    CorruptLayer,
    FormatError,
    ImageNotFound,
    MissingBlob,
    SourceError,
    UnsupportedMediaType,
    UsageError,
)
from pyimgsize.report import InspectReport
from pyimgsize.sources import SourceKindOption, parse_ref
from tests.layerimages import check_invariants, numbers, problems

Compression = Literal["none", "gzip", "zstd"]

# --- the reference image ----------------------------------------------------------------------

SITE = "opt/venv/lib/python3.11/site-packages"
LONG = "usr/share/" + "deeply_nested_directory_name/" * 4 + "file.txt"
FOO = dist(
    SITE,
    "foo",
    "1.0",
    {"foo/__init__.py": 1000, "foo/_speedups.cpython-311-x86_64-linux-gnu.so": 20000},
    pyc_size=400,
)
FOO_BYTES = sum(f.size for f in FOO)
PYVENV_CFG = b"home = /usr/bin\nversion = 3.11.9\n"


def reference_image(name: str = "acme/app:1.0") -> Image:
    """Every layer rule at once: whiteouts, an opaque dir, hardlinks, a `./`-prefixed GNU
    layer, long names, two identical empty layers, sparse data, history with an empty entry."""
    layers = [
        Layer(
            [
                File("usr/bin/python3.11", 5000),
                File("usr/lib/python3.11/os.py", 700),
                File("etc/passwd", 50),
                File("usr/share/doc/pkg/README", 3000),
                File(LONG, 222),
                Device("dev/null", 1, 3),
            ],
            created_by="ADD rootfs.tar /",
        ),
        Layer(
            [
                Dir("opt/venv/lib"),
                Symlink("opt/venv/lib64", "lib"),
                File("opt/venv/pyvenv.cfg", data=PYVENV_CFG),
                *FOO,
                File("opt/venv/bin/tool", 300),
                Hardlink("opt/venv/bin/tool-alias", "opt/venv/bin/tool"),
            ],
            created_by="RUN python3.11 -m venv /opt/venv && pip install foo",
        ),
        Layer([], auto_dirs=False, created_by="RUN rm -rf /nothing"),
        Layer(
            [
                Whiteout("usr/share/doc"),
                Opaque("opt/venv/bin"),
                File("opt/venv/bin/tool", 310),
                File("etc/passwd", 60),
                Hardlink("usr/bin/python3", "usr/bin/python3.11"),
                Whiteout(LONG),
            ],
            tar_format="gnu",
            prefix="./",
            created_by="RUN cleanup",
        ),
        Layer([], auto_dirs=False),  # the same (empty) diff as layer 2
        Layer([Sparse("var/lib/app.db", 1 << 20, ((0, 4096), (65536, 512)))], created_by="COPY"),
    ]
    history: list[dict[str, Any]] = [
        {"created_by": "ADD rootfs.tar /"},
        {"created_by": "ENV PATH=/opt/venv/bin:$PATH", "empty_layer": True},
        {"created_by": layers[1].created_by},
        {"created_by": "RUN rm -rf /nothing"},
        {"created_by": "RUN cleanup"},
        {"comment": "no created_by"},
        {"created_by": "COPY app.db /var/lib/"},
    ]
    return Image(name, layers, history=history, env=["PATH=/opt/venv/bin:/usr/bin"])


LAYER_BYTES = [
    5000 + 700 + 50 + 3000 + 222,
    FOO_BYTES + len(PYVENV_CFG) + 300,
    0,
    310 + 60,
    0,
    4096 + 512,
]
DEAD = [3000 + 50 + 222, 300, 0, 0, 0, 0]


def check_reference(report: InspectReport) -> None:
    check_invariants(report)
    assert numbers(report) == list(zip(LAYER_BYTES, DEAD, strict=True))
    assert report.image.layer_bytes == sum(LAYER_BYTES)
    assert report.image.bytes == sum(LAYER_BYTES) - sum(DEAD)
    assert [layer.created_by for layer in report.layers] == [
        "ADD rootfs.tar /",
        "RUN python3.11 -m venv /opt/venv && pip install foo",
        "RUN rm -rf /nothing",
        "RUN cleanup",
        None,
        "COPY app.db /var/lib/",
    ]
    assert report.layers[2].diff_id == report.layers[4].diff_id
    assert [(p.name, p.version, p.bytes) for p in report.packages] == [("foo", "1.0", FOO_BYTES)]
    assert [s.path for s in report.site_packages] == [f"/{SITE}"]
    assert report.image.platform == "linux/amd64"
    assert report.image.tags == ["acme/app:1.0"]
    assert problems(report) == []


def comparable(report: InspectReport, *, compressed: bool = True) -> dict[str, Any]:
    """The report as JSON, without what legitimately differs between sources."""
    data: dict[str, Any] = json.loads(report.model_dump_json())
    del data["image"]["ref"], data["image"]["source"], data["image"]["read_via"]
    if not compressed:
        del data["image"]["compressed_bytes"]
        for layer in data["layers"]:
            del layer["compressed_bytes"]
    return data


# --- a fake Docker engine, to run the engine source without one ---------------------------------


class _FakeAPI:
    base_url = "http+docker://localhost"

    def __init__(self, archive: bytes, image: Image, *, chunks: Iterator[bytes] | None) -> None:
        self.archive = archive
        self.image = image
        self.chunks = chunks
        self.requested: list[str] = []

    def inspect_image(self, name: str) -> dict[str, Any]:
        import docker.errors

        if name not in (self.image.name, self.image.id):
            raise docker.errors.NotFound(f"No such image: {name}")
        return {"Id": self.image.id, "RepoTags": [self.image.name]}

    def get_image(self, image: str, chunk_size: int | None = None) -> Iterator[bytes]:
        self.requested.append(image)
        if self.chunks is not None:
            return self.chunks
        step = 65_537
        return iter([self.archive[i : i + step] for i in range(0, len(self.archive), step)])


class FakeClient:
    def __init__(self, archive: bytes, image: Image, chunks: Iterator[bytes] | None = None):
        self.api = _FakeAPI(archive, image, chunks=chunks)
        self.closed = False

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeClient]:
    """Install a fake engine serving `docker save`-format exports of one image."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/fake-docker.sock")

    def install(
        tmp_path: Path,
        image: Image,
        *,
        layout: Literal["legacy", "oci"] = "legacy",
        chunks: Iterator[bytes] | None = None,
    ) -> FakeClient:
        path = tmp_path / "engine-export.tar"
        write_docker_archive(path, image, layout=layout)
        client = FakeClient(path.read_bytes(), image, chunks)
        monkeypatch.setattr("pyimgsize.sources.engine.client_from_env", lambda *_a: client)
        return client

    return install


def _through_fifo(tmp_path: Path, data: bytes, ref_prefix: str) -> InspectReport:
    """Inspect `data` written into a FIFO by another thread (a pipe: nothing can seek)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("wb") as fh:
            for i in range(0, len(data), 10_000):
                fh.write(data[i : i + 10_000])

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        return inspect(f"{ref_prefix}{fifo}")
    finally:
        writer.join(timeout=10)


# --- the same image through every source --------------------------------------------------------


def test_reference_image_exact_numbers(tmp_path: Path) -> None:
    path = tmp_path / "ref.tar"
    write_docker_archive(path, reference_image())
    check_reference(inspect(f"docker-archive:{path}"))


def test_same_report_through_every_source(
    tmp_path: Path, fake_engine: Callable[..., FakeClient]
) -> None:
    image = reference_image()
    refs: dict[str, str] = {}
    for layout in ("legacy", "oci"):
        for gz in (False, True):
            path = tmp_path / f"save-{layout}{'-gz' if gz else ''}.tar"
            write_docker_archive(path, image, layout=layout, outer_gzip=gz)
            refs[path.name] = f"docker-archive:{path}"
            refs[path.name + " (bare)"] = str(path)
    nested = tmp_path / "save-containerd.tar"
    write_docker_archive(nested, image, layout="oci", nested_index=True, attestations=True)
    refs["containerd-style docker-archive"] = f"docker-archive:{nested}"
    refs["containerd-style read as oci"] = f"oci:{nested}"
    refs["docker 25 read as oci"] = f"oci:{tmp_path / 'save-oci.tar'}"
    for as_tar in (False, True):
        path = tmp_path / f"layout{'.tar' if as_tar else ''}"
        write_oci_layout(path, image, as_tar=as_tar, attestations=True)
        refs[f"oci layout {'tar' if as_tar else 'dir'}"] = f"oci:{path}"
        refs[f"oci layout {'tar' if as_tar else 'dir'} (bare)"] = str(path)

    reports = {label: inspect(ref) for label, ref in refs.items()}
    reports["pipe"] = _through_fifo(
        tmp_path, (tmp_path / "save-legacy.tar").read_bytes(), "docker-archive:"
    )
    client = fake_engine(tmp_path, image)
    reports["engine"] = inspect("docker:acme/app:1.0")
    assert client.api.requested == [image.id]

    expected = comparable(reports["save-legacy.tar"])
    for label, report in reports.items():
        check_reference(report)
        assert comparable(report) == expected, label
        assert report.image.id == image.id, label
    assert reports["engine"].image.source == "docker"
    assert reports["pipe"].image.source == "docker-archive"
    assert reports["oci layout dir"].image.source == "oci"
    assert reports["oci layout tar (bare)"].image.source == "oci"
    assert reports["save-legacy.tar (bare)"].image.source == "docker-archive"
    assert reports["oci layout dir"].image.ref == f"oci:{tmp_path / 'layout'}"


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_compressed_layers_through_every_source(tmp_path: Path, compression: Compression) -> None:
    image = reference_image()
    infos = {
        "legacy": write_docker_archive(
            tmp_path / "legacy.tar", image, layout="legacy", compression=compression
        ),
        "containerd": write_docker_archive(
            tmp_path / "containerd.tar.gz",
            image,
            layout="oci",
            compression=compression,
            outer_gzip=True,
        ),
        "oci dir": write_oci_layout(tmp_path / "layout", image, compression=compression),
        "oci tar": write_oci_layout(
            tmp_path / "layout.tar", image, compression=compression, as_tar=True
        ),
    }
    plain_path = tmp_path / "plain.tar"
    write_docker_archive(plain_path, image)
    plain = inspect(str(plain_path))
    assert [layer.compressed_bytes for layer in plain.layers] == [None] * 6
    assert plain.image.compressed_bytes is None

    for label, info in infos.items():
        report = inspect(str(info.path))
        check_reference(report)
        blob_sizes = [layer.size for layer in info.image.layers]
        assert blob_sizes != [layer.uncompressed_size for layer in info.image.layers]
        assert [layer.compressed_bytes for layer in report.layers] == blob_sizes, label
        assert report.image.compressed_bytes == sum(blob_sizes), label
        assert [layer.tar_bytes for layer in report.layers] == [
            layer.uncompressed_size for layer in info.image.layers
        ]
        assert comparable(report, compressed=False) == comparable(plain, compressed=False), label


def test_mixed_compression_in_one_image(tmp_path: Path) -> None:
    # one uncompressed layer in a compressed image: the image total is unknown (null)
    image = Image("mixed:1", [Layer([File("a", 100)]), Layer([File("b", 200)])])
    info = write_oci_layout(tmp_path / "layout", image, compression="gzip")
    blob = tmp_path / "layout" / info.image.layers[1].path
    blob.write_bytes(gzip.decompress(blob.read_bytes()))  # same digest path, now plain
    report = inspect(f"oci:{tmp_path / 'layout'}")
    assert [layer.compressed_bytes for layer in report.layers] == [info.image.layers[0].size, None]
    assert report.image.compressed_bytes is None
    assert numbers(report) == [(100, 0), (200, 0)]


# --- repeated layers ----------------------------------------------------------------------------


def test_legacy_archive_repeated_layer_is_a_symlink_entry(tmp_path: Path) -> None:
    same = [File("opt/data/blob", 1000), File("opt/data/small", 10)]
    image = Image(
        "rep:1",
        [
            Layer(same, created_by="COPY data /opt/data"),
            Layer([File("etc/x", 5)]),
            Layer(same, created_by="COPY data /opt/data again"),
        ],
    )
    path = tmp_path / "rep.tar"
    info = write_docker_archive(path, image)
    layers = info.image.layers
    assert layers[0].diff_id == layers[2].diff_id
    with tarfile.open(path) as tar:
        repeated = tar.getmember(layers[2].path)
        assert repeated.issym()
        assert repeated.linkname == f"../{layers[0].path}"
    for ref in (f"docker-archive:{path}", str(path)):
        report = inspect(ref)
        # the third layer stores the same bytes again and shadows the first's files
        assert numbers(report) == [(1010, 1010), (5, 0), (1010, 0)]
        assert report.image.bytes == 1015
    # through the streaming reader (gzipped archive) too
    gz = tmp_path / "rep.tar.gz"
    write_docker_archive(gz, image, outer_gzip=True)
    assert numbers(inspect(str(gz))) == [(1010, 1010), (5, 0), (1010, 0)]


def test_docker25_repeated_layer_names_one_blob_twice(tmp_path: Path) -> None:
    same = [File("x", 64)]
    image = Image("rep:2", [Layer(same), Layer([Whiteout("x")]), Layer(same)])
    path = tmp_path / "rep25.tar"
    write_docker_archive(path, image, layout="oci")
    with tarfile.open(path) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["Layers"][0] == manifest[0]["Layers"][2]
    assert numbers(inspect(str(path))) == [(64, 64), (0, 0), (64, 0)]


# --- several images -----------------------------------------------------------------------------


def _two_images() -> list[Image]:
    base = Layer([File("usr/bin/busybox", 900)])
    return [
        Image("acme/a:1", [base, Layer([File("a", 10)])]),
        Image("acme/b:2", [base, Layer([File("b", 20)])]),
    ]


@pytest.mark.parametrize("layout", ["legacy", "oci"])
def test_multi_image_archive_needs_image(tmp_path: Path, layout: Literal["legacy", "oci"]) -> None:
    path = tmp_path / "multi.tar"
    info = write_docker_archive(path, _two_images(), layout=layout)
    with pytest.raises(AmbiguousImage) as exc:
        inspect(str(path))
    message = str(exc.value)
    assert "holds 2 images" in message
    assert "--image" in message
    assert "acme/a:1" in message
    assert "acme/b:2" in message
    assert exc.value.exit_code == 2

    for selector, expected in [
        ("acme/b:2", 20),
        ("acme/a:1", 10),
        ("docker.io/acme/a:1", 10),
        (info.images[1].id, 20),
        (info.images[1].id.removeprefix("sha256:")[:12], 20),
    ]:
        report = inspect(str(path), image=selector)
        assert numbers(report) == [(900, 0), (expected, 0)], selector
    assert inspect(str(path), image="acme/b:2").image.tags == ["acme/b:2"]

    with pytest.raises(AmbiguousImage, match=r"no image named 'acme/c' \(it holds: acme/a:1; "):
        inspect(str(path), image="acme/c")


def test_multi_image_oci_layout(tmp_path: Path) -> None:
    path = tmp_path / "layout"
    write_oci_layout(path, _two_images())
    with pytest.raises(AmbiguousImage, match="holds 2 images"):
        inspect(f"oci:{path}")
    report = inspect(f"oci:{path}", image="acme/b:2")
    assert report.image.tags == ["acme/b:2"]
    assert numbers(report) == [(900, 0), (20, 0)]
    # the OCI ref name (just the tag) selects too
    assert numbers(inspect(f"oci:{path}", image="1")) == [(900, 0), (10, 0)]


def test_one_image_under_two_names_is_one_image(tmp_path: Path) -> None:
    a = Image("acme/a:1", [Layer([File("x", 7)])])
    same_config = Image("acme/a:latest", a.layers)
    path = tmp_path / "twice.tar"
    write_docker_archive(path, [a, same_config])
    report = inspect(str(path))
    assert report.image.tags == ["acme/a:1", "acme/a:latest"]
    assert numbers(report) == [(7, 0)]


def test_image_with_library_name(tmp_path: Path) -> None:
    path = tmp_path / "layout"
    write_oci_layout(path, Image("python:3.11-slim", [Layer([File("x", 1)])]))
    report = inspect(f"oci:{path}")
    assert report.image.tags == ["python:3.11-slim"]
    assert numbers(inspect(f"oci:{path}", image="python:3.11-slim")) == [(1, 0)]
    assert numbers(inspect(f"oci:{path}", image="docker.io/library/python:3.11-slim")) == [(1, 0)]


# --- several platforms --------------------------------------------------------------------------


def _platform_images() -> list[Image]:
    return [
        Image("acme/mp:1", [Layer([File("amd", 10)])], architecture="amd64"),
        Image("acme/mp:1", [Layer([File("arm64", 20)])], architecture="arm64", variant="v8"),
        Image("acme/mp:1", [Layer([File("armv7", 30)])], architecture="arm", variant="v7"),
    ]


@pytest.fixture
def host_amd64(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pyimgsize.sources.resolve.host_platform", lambda: "linux/amd64")


@pytest.mark.usefixtures("host_amd64")
@pytest.mark.parametrize("as_tar", [False, True])
def test_multi_platform_index(tmp_path: Path, as_tar: bool) -> None:
    path = tmp_path / ("mp.tar" if as_tar else "mp")
    write_oci_layout(path, platforms=_platform_images(), attestations=True, as_tar=as_tar)
    # default: the host's platform; attestation manifests (unknown/unknown) never count
    report = inspect(f"oci:{path}")
    assert (report.image.platform, numbers(report)) == ("linux/amd64", [(10, 0)])
    assert report.image.tags == ["acme/mp:1"]
    for platform, expected in [
        ("linux/amd64", 10),
        ("linux/arm64", 20),
        ("linux/arm64/v8", 20),
        ("linux/arm/v7", 30),
        ("linux/arm", 30),
    ]:
        assert numbers(inspect(f"oci:{path}", platform=platform)) == [(expected, 0)], platform
    with pytest.raises(AmbiguousImage, match="no image for platform linux/s390x") as exc:
        inspect(f"oci:{path}", platform="linux/s390x")
    assert "acme/mp:1 [linux/arm64/v8]" in str(exc.value)
    with pytest.raises(AmbiguousImage, match="no image for platform linux/arm64/v9"):
        inspect(f"oci:{path}", platform="linux/arm64/v9")


def test_default_platform_follows_the_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mp"
    write_oci_layout(path, platforms=_platform_images())
    monkeypatch.setattr("pyimgsize.sources.resolve.host_platform", lambda: "linux/arm64")
    report = inspect(f"oci:{path}")
    assert (report.image.platform, numbers(report)) == ("linux/arm64/v8", [(20, 0)])
    monkeypatch.setattr("pyimgsize.sources.resolve.host_platform", lambda: "linux/riscv64")
    with pytest.raises(AmbiguousImage, match="holds 3 images; choose one"):
        inspect(f"oci:{path}")


@pytest.mark.usefixtures("host_amd64")
def test_missing_blobs_of_other_platforms_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "mp"
    info = write_oci_layout(
        path, platforms=_platform_images(), attestations=True, omit_platforms=["linux/arm"]
    )
    assert len(info.missing_blobs) > 0
    for digest in info.missing_blobs:
        assert not (path / "blobs" / "sha256" / digest.removeprefix("sha256:")).exists()
    assert numbers(inspect(f"oci:{path}")) == [(10, 0)]
    assert numbers(inspect(f"oci:{path}", platform="linux/arm64")) == [(20, 0)]
    with pytest.raises(MissingBlob, match="the linux/arm image manifest blobs/sha256/"):
        inspect(f"oci:{path}", platform="linux/arm")


@pytest.mark.usefixtures("host_amd64")
def test_only_one_platform_present(tmp_path: Path) -> None:
    # a containerd export of a single-platform pull: the index lists all, blobs for one
    path = tmp_path / "mp"
    write_oci_layout(
        path, platforms=_platform_images(), omit_platforms=["linux/amd64", "linux/arm"]
    )
    report = inspect(f"oci:{path}")
    assert (report.image.platform, numbers(report)) == ("linux/arm64/v8", [(20, 0)])


def test_missing_layer_blob_of_the_chosen_image(tmp_path: Path) -> None:
    image = Image("x:1", [Layer([File("a", 1)]), Layer([File("b", 2)])])
    path = tmp_path / "layout"
    info = write_oci_layout(path, image, omit_blobs=[info_digest(image, 1)])
    assert info.missing_blobs == (info_digest(image, 1),)
    with pytest.raises(MissingBlob, match=r"blob blobs/sha256/[0-9a-f]{64} is missing \(layer 1 "):
        inspect(f"oci:{path}")


def info_digest(image: Image, index: int) -> str:
    # uncompressed OCI layout blobs are named by their diff_id
    return image.layers[index].diff_id


def test_all_manifests_missing(tmp_path: Path) -> None:
    path = tmp_path / "mp"
    write_oci_layout(path, platforms=_platform_images()[:2], omit_platforms=["linux"])
    with pytest.raises(MissingBlob, match="manifest blobs missing: blobs/sha256/"):
        inspect(f"oci:{path}")


# --- history --------------------------------------------------------------------------------------


def _history_image(history: list[dict[str, Any]]) -> Image:
    layers = [Layer([File("a", 1)]), Layer([File("b", 2)]), Layer([File("c", 3)])]
    return Image("h:1", layers, history=history)


@pytest.mark.parametrize(
    ("history", "created_by", "mismatch"),
    [
        pytest.param(
            [
                {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
                {"created_by": '/bin/sh -c #(nop)  CMD ["sh"]', "empty_layer": True},
                {"created_by": "/bin/sh -c #(nop) COPY file:def in /b "},
                {"created_by": "ENV X=1", "empty_layer": True},
                {"created_by": "RUN /bin/sh -c make # buildkit"},
            ],
            [
                "/bin/sh -c #(nop) ADD file:abc in / ",
                "/bin/sh -c #(nop) COPY file:def in /b ",
                "RUN /bin/sh -c make # buildkit",
            ],
            False,
            id="empty_layer entries skipped, #(nop) is not empty",
        ),
        pytest.param(
            [{"comment": "Imported from -"}, {"created_by": "COPY b"}, {}],
            [None, "COPY b", None],
            False,
            id="missing created_by",
        ),
        pytest.param(
            [{"created_by": "one"}],
            ["one", None, None],
            True,
            id="fewer entries than layers",
        ),
        pytest.param(
            [{"created_by": str(i)} for i in range(5)],
            ["0", "1", "2"],
            True,
            id="more entries than layers",
        ),
        pytest.param(
            [{"created_by": "a", "empty_layer": True}, {"created_by": "b", "empty_layer": True}],
            [None, None, None],
            True,
            id="only empty entries",
        ),
        pytest.param([], [None, None, None], False, id="no history"),
    ],
)
def test_history_maps_to_layers_by_moby_rule(
    tmp_path: Path,
    history: list[dict[str, Any]],
    created_by: list[str | None],
    mismatch: bool,
) -> None:
    path = tmp_path / "h.tar"
    write_docker_archive(path, _history_image(history))
    report = inspect(str(path))
    assert [layer.created_by for layer in report.layers] == created_by
    assert numbers(report) == [(1, 0), (2, 0), (3, 0)]
    history_problems = [p for p in report.problems if p.kind == "history"]
    if mismatch:
        (problem,) = history_problems
        assert problem.code == "history-mismatch"
        assert problem.facts["layers"] == 3
    else:
        assert history_problems == []


def test_history_mapping_is_the_same_in_oci_layouts(tmp_path: Path) -> None:
    image = _history_image([{"created_by": "x", "empty_layer": True}, {"created_by": "y"}])
    write_oci_layout(tmp_path / "layout", image)
    write_docker_archive(tmp_path / "a.tar", image)
    a = inspect(str(tmp_path / "a.tar"))
    b = inspect(str(tmp_path / "layout"))
    assert [layer.created_by for layer in b.layers] == ["y", None, None]
    assert comparable(a) == comparable(b)


# --- references ---------------------------------------------------------------------------------


def test_parse_ref(tmp_path: Path) -> None:
    existing = tmp_path / "image.tar"
    existing.write_bytes(b"")
    assert parse_ref(f"docker:{existing}") == (SourceKindOption.DOCKER, str(existing))
    assert parse_ref("docker:oci:x") == (SourceKindOption.DOCKER, "oci:x")
    assert parse_ref("docker-archive:x.tar") == (SourceKindOption.DOCKER_ARCHIVE, "x.tar")
    assert parse_ref("oci:/some/layout") == (SourceKindOption.OCI, "/some/layout")
    assert parse_ref(str(existing)) == (SourceKindOption.PATH, str(existing))
    assert parse_ref(str(tmp_path)) == (SourceKindOption.PATH, str(tmp_path))
    assert parse_ref("python:3.11-slim") == (SourceKindOption.DOCKER, "python:3.11-slim")
    assert parse_ref("ghcr.io/acme/app@sha256:" + "a" * 64)[0] is SourceKindOption.DOCKER
    # what no engine reference can be is a path, even when it does not exist
    for path in ("/nonexistent/image.tar", "./image.tar", "../image.tar", "~/image.tar"):
        assert parse_ref(path) == (SourceKindOption.PATH, path)
    assert parse_ref("registry:python:3.12") == (SourceKindOption.REGISTRY, "python:3.12")
    for bad in ("", "docker:", "oci:", "docker-archive:", "registry:"):
        with pytest.raises(UsageError):
            parse_ref(bad)


def test_every_source_kind_is_handled(tmp_path: Path) -> None:
    from pyimgsize.sources import EngineSource, FileSource, RegistrySource, open_source

    path = tmp_path / "a.tar"
    write_docker_archive(path, Image("k:1", [Layer([File("a", 1)])]))
    kinds = {
        SourceKindOption.DOCKER: ("docker:k:1", EngineSource),
        SourceKindOption.DOCKER_ARCHIVE: (f"docker-archive:{path}", FileSource),
        SourceKindOption.OCI: (f"oci:{path}", FileSource),
        SourceKindOption.PATH: (str(path), FileSource),
        SourceKindOption.REGISTRY: ("registry:ghcr.io/acme/app:1", RegistrySource),
    }
    assert set(kinds) == set(SourceKindOption)
    for kind, (ref, cls) in kinds.items():
        assert parse_ref(ref)[0] is kind
        assert isinstance(open_source(ref), cls)


# --- the engine source ----------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["legacy", "oci"])
def test_engine_source_streams_the_export(
    tmp_path: Path, fake_engine: Callable[..., FakeClient], layout: Literal["legacy", "oci"]
) -> None:
    image = reference_image()
    fake_engine(tmp_path, image, layout=layout)
    report = inspect("acme/app:1.0")  # a bare name is an engine reference
    check_reference(report)
    assert (report.image.source, report.image.ref) == ("docker", "acme/app:1.0")


def test_engine_missing_image(tmp_path: Path, fake_engine: Callable[..., FakeClient]) -> None:
    fake_engine(tmp_path, reference_image())
    with pytest.raises(ImageNotFound, match=r"no image 'acme/other:2' in the Docker engine"):
        inspect("docker:acme/other:2")


def test_engine_export_breaking_off(tmp_path: Path, fake_engine: Callable[..., FakeClient]) -> None:
    image = reference_image()
    path = tmp_path / "x.tar"
    write_docker_archive(path, image)
    data = path.read_bytes()

    def broken() -> Iterator[bytes]:
        yield data[:20_000]
        raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")

    client = fake_engine(tmp_path, image, chunks=broken())
    with pytest.raises(SourceError, match=r"export of acme/app:1\.0 broke off"):
        inspect("docker:acme/app:1.0")
    assert client.closed  # on an error too


def test_engine_export_ending_early(tmp_path: Path, fake_engine: Callable[..., FakeClient]) -> None:
    image = reference_image()
    path = tmp_path / "x.tar"
    write_docker_archive(path, image)
    data = path.read_bytes()
    fake_engine(tmp_path, image, chunks=iter([data[: len(data) // 2]]))
    with pytest.raises(CorruptLayer, match=r"^engine export of acme/app:1\.0: truncated"):
        inspect("docker:acme/app:1.0")


# --- malformed layouts ----------------------------------------------------------------------------


def _layout(tmp_path: Path) -> tuple[Path, dict[str, Any], Path]:
    """An OCI layout directory, its image manifest and the manifest's path."""
    path = tmp_path / "layout"
    write_oci_layout(path, Image("m:1", [Layer([File("a", 1)]), Layer([File("b", 2)])]))
    index = json.loads((path / "index.json").read_text())
    digest = index["manifests"][0]["digest"].removeprefix("sha256:")
    manifest_path = path / "blobs" / "sha256" / digest
    return path, json.loads(manifest_path.read_text()), manifest_path


def test_unsupported_layer_media_type(tmp_path: Path) -> None:
    path, manifest, manifest_path = _layout(tmp_path)
    manifest["layers"][1]["mediaType"] = "application/vnd.example.squashfs"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(UnsupportedMediaType, match=r"'application/vnd\.example\.squashfs'"):
        inspect(f"oci:{path}")


@pytest.mark.parametrize(
    "media_type",
    [
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        None,
    ],
)
def test_accepted_layer_media_types(tmp_path: Path, media_type: str | None) -> None:
    path, manifest, manifest_path = _layout(tmp_path)
    for layer in manifest["layers"]:
        if media_type is None:
            del layer["mediaType"]
        else:
            layer["mediaType"] = media_type  # a name never decides: blobs are sniffed
    manifest_path.write_text(json.dumps(manifest))
    assert numbers(inspect(f"oci:{path}")) == [(1, 0), (2, 0)]


def test_diff_ids_and_layers_disagree(tmp_path: Path) -> None:
    path, manifest, manifest_path = _layout(tmp_path)
    manifest["layers"] = manifest["layers"][:1]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(FormatError, match="lists 2 diff_ids but the manifest 1 layers"):
        inspect(f"oci:{path}")


def test_missing_config(tmp_path: Path) -> None:
    path, manifest, _ = _layout(tmp_path)
    (path / "blobs" / "sha256" / manifest["config"]["digest"].removeprefix("sha256:")).unlink()
    with pytest.raises(MissingBlob, match=r"image config blobs/sha256/[0-9a-f]{64} is missing"):
        inspect(f"oci:{path}")


@pytest.mark.parametrize("digest", ["sha256:../../../etc/passwd", "sha256", "../x:y"])
def test_malformed_digest(tmp_path: Path, digest: str) -> None:
    path = tmp_path / "layout"
    write_oci_layout(path, Image("m:1", [Layer([File("a", 1)])]))
    index = json.loads((path / "index.json").read_text())
    index["manifests"][0]["digest"] = digest
    (path / "index.json").write_text(json.dumps(index))
    with pytest.raises(FormatError, match="malformed digest"):
        inspect(f"oci:{path}")


def test_index_json_not_json(tmp_path: Path) -> None:
    path = tmp_path / "layout"
    write_oci_layout(path, Image("m:1", [Layer([File("a", 1)])]))
    (path / "index.json").write_text("{not json")
    with pytest.raises(FormatError, match=r"index\.json is not valid JSON"):
        inspect(f"oci:{path}")


def test_directory_that_is_not_a_layout(tmp_path: Path) -> None:
    (tmp_path / "stuff").mkdir()
    with pytest.raises(FormatError, match="not an OCI image layout"):
        inspect(str(tmp_path / "stuff"))


def test_tar_that_is_not_an_image(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    (tmp_path / "plain.tar").write_bytes(buf.getvalue())
    with pytest.raises(FormatError, match=r"no manifest\.json or index\.json"):
        inspect(str(tmp_path / "plain.tar"))
