"""Hostile images: names that climb out of the root, absolute names, symlink loops and chains
through `..`, RECORD rows pointing outside the image, hardlinks to nothing, absurd sizes.

pyimgsize must not crash, not hang, not touch the host filesystem (nothing is ever extracted,
no path of the image is ever opened on the host), and must report problems. Every inspect here
runs under an alarm and an audit hook that fails the test on any write and on any read outside
the test's own directory and Python's own files.
"""

from __future__ import annotations

import io
import json
import tarfile
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
    dist,
    write_docker_archive,
)
from fixtures.tarwriter import END_OF_ARCHIVE, REGTYPE, TarWriter, header_block
from pyimgsize.api import inspect
from pyimgsize.errors import CorruptLayer, MissingBlob
from pyimgsize.report import InspectReport
from tests.guards import watched
from tests.layerimages import (
    check_invariants,
    merged,
    numbers,
    problems,
    symlinks,
    visible_files,
)

SITE = "usr/lib/python3.11/site-packages"

# --- guards: no hang, no host filesystem access (tests/guards.py) ------------------------------


def guarded_inspect(tmp_path: Path, ref: str) -> InspectReport:
    with watched(tmp_path):
        report = inspect(ref)
    check_invariants(report)
    return report


def _inspect(tmp_path: Path, image: Image) -> InspectReport:
    path = tmp_path / "hostile.tar"
    write_docker_archive(path, image)
    return guarded_inspect(tmp_path, f"docker-archive:{path}")


# --- names out of the root ----------------------------------------------------------------------


def test_dot_dot_and_absolute_names_stay_inside_the_image(tmp_path: Path) -> None:
    layers = [
        Layer([File("etc/passwd", 50)]),
        Layer(
            [
                File("../../../../tmp/pyimgsize-pwned", 11),
                File("/etc/cron.d/pyimgsize-pwned", 13),
                File("usr/../../../../etc/passwd", 60),  # climbs, then replaces etc/passwd
                Hardlink("usr/bin/escape", "../../../../etc/passwd"),
                Hardlink("usr/bin/abs", "/etc/passwd"),
                File("../../../../etc/.wh.shadow", 0),  # a whiteout climbing out
            ],
            auto_dirs=False,
        ),
    ]
    report = _inspect(tmp_path, Image("hostile/names:1", layers))
    assert numbers(report) == [(50, 50), (11 + 13 + 60, 0)]
    assert report.image.bytes == 84
    assert not Path("/tmp/pyimgsize-pwned").exists()
    assert not Path("/etc/cron.d/pyimgsize-pwned").exists()
    assert visible_files(merged(*layers)) == {
        "tmp/pyimgsize-pwned": 11,
        "etc/cron.d/pyimgsize-pwned": 13,
        "etc/passwd": 60,
        "usr/bin/escape": 60,
        "usr/bin/abs": 60,
    }
    unsafe = {(p.path, p.layer) for p in report.problems if p.kind == "unsafe-path"}
    assert unsafe == {
        ("/tmp/pyimgsize-pwned", 1),
        ("/etc/cron.d/pyimgsize-pwned", 1),
        ("/etc/passwd", 1),
        ("/etc/.wh.shadow", 1),
    }
    hardlinks = {(p.path, p.layer) for p in report.problems if p.kind == "hardlink"}
    assert hardlinks == {("/usr/bin/escape", 1), ("/usr/bin/abs", 1)}


# --- symlinks -----------------------------------------------------------------------------------


def _symlink_maze() -> list[Layer]:
    chain = [Symlink(f"chain/c{i}", f"c{i + 1}") for i in range(60)]
    return [
        Layer(
            [
                Symlink("loop/a", "b"),
                Symlink("loop/b", "a"),
                Symlink("loop/self", "self"),
                Symlink("loop/abs", "/loop/abs"),
                Symlink("up/x", "../../../../../.."),
                Symlink("up/y", "../x/../../etc"),
                Symlink("up/z", "../../../../etc"),
                Symlink("up/root", "/"),
                *chain,
                Dir("chain/c60"),
                File("etc/hosts", 7),
            ]
        ),
        # below a lower layer's looping / escaping symlinks, without directory entries
        Layer(
            [
                File("loop/a/x", 5),
                File("up/x/etc/shadow", 7),
                File("chain/c0/deep", 9),
                File("up/root/etc/hosts", 3),
            ],
            auto_dirs=False,
        ),
        # a loop created and used in the same layer
        Layer(
            [Symlink("z/l1", "l2"), Symlink("z/l2", "l1"), File("z/l1/f", 4)],
            auto_dirs=False,
        ),
    ]


def test_symlink_loops_and_chains_through_dot_dot(tmp_path: Path) -> None:
    env = [
        "PYTHONPATH=/loop/a:/loop/self:/up/x:/up/y:/chain/c0:/loop/abs",
        "PIP_CACHE_DIR=/loop/self",
        "UV_CACHE_DIR=/up/y",
        "XDG_CACHE_HOME=/loop/b",
        "POETRY_CACHE_DIR=/chain/c1",
    ]
    image = Image("hostile/symlinks:1", _symlink_maze(), env=env)
    report = _inspect(tmp_path, image)
    assert numbers(report) == [(7, 0), (5 + 7 + 9 + 3, 0), (4, 0)]
    assert report.image.bytes == 35
    literal = sorted((p.path, p.layer) for p in report.problems if p.kind == "symlink-parent")
    assert literal == [
        ("/chain/c0", 1),
        ("/loop/a", 1),
        ("/up/root", 1),
        ("/up/x", 1),
        ("/z/l1", 2),
    ]
    fs = merged(*_symlink_maze())
    assert visible_files(fs) == {
        "etc/hosts": 7,
        "loop/a/x": 5,
        "up/x/etc/shadow": 7,
        "chain/c0/deep": 9,
        "up/root/etc/hosts": 3,
        "z/l1/f": 4,
    }
    assert fs.resolve("loop/self", follow_last=True) is None
    assert fs.resolve("loop/abs/x") is None
    assert fs.resolve("chain/c1/x") is None  # 59 hops: more than a runtime follows
    assert fs.resolve("up/z/hosts") == "etc/hosts"  # `..` never leaves the root
    assert fs.resolve("up/y/hosts") is None  # /x does not exist
    assert report.caches == []
    assert report.site_packages == []


def test_symlinks_to_host_paths_are_never_followed_outside(tmp_path: Path) -> None:
    files = dist(SITE, "evil", "1.0", {"evil/__init__.py": 100})
    layers = [
        Layer(
            [
                *files,
                Symlink(f"{SITE}/evil/hostpw", "/etc/passwd"),
                Symlink(f"{SITE}/evil/hostdir", "/etc"),
                Symlink(f"{SITE}/loopy", "loopy"),
                Symlink("opt/root", "/"),
            ]
        ),
    ]
    report = _inspect(tmp_path, Image("hostile/hostlinks:1", layers))
    dist_bytes = sum(f.size for f in files)
    assert numbers(report) == [(dist_bytes, 0)]
    (package,) = report.packages
    assert (package.name, package.bytes) == ("evil", dist_bytes)
    assert report.site_packages[0].bytes == dist_bytes


# --- RECORD pointing outside the image ----------------------------------------------------------


def _evil_record_image() -> tuple[Image, int]:
    files = dist(
        SITE,
        "evil",
        "1.0",
        {"evil/__init__.py": 100},
        extra_record_rows=[
            "../../../../../../etc/passwd,,",
            "/etc/shadow,,",
            "/abs/thing,,",
            "../../../../../../../../../../../root/.ssh/id_rsa,,",
            "../../../bin/evil-script,,",
        ],
    )
    layers = [
        Layer([File("etc/passwd", 50), File("usr/bin/python3.11", 20)]),
        Layer(files),
    ]
    return Image("hostile/record:1", layers), sum(f.size for f in files)


def test_record_rows_outside_the_image(tmp_path: Path) -> None:
    image, dist_bytes = _evil_record_image()
    report = _inspect(tmp_path, image)
    assert numbers(report) == [(70, 0), (dist_bytes, 0)]
    (package,) = report.packages
    # rows resolve inside the image as a kernel would (`/..` is `/`): the image's own
    # 50-byte /etc/passwd, never the host's; absent files are reported, never looked up
    assert package.bytes == dist_bytes + 50
    record = [p for p in report.problems if p.kind == "record"]
    assert [(p.code, p.facts, p.path) for p in record] == [
        (
            "listed-outside-root",
            {
                "name": "evil",
                "count": 2,
                "example": "../../../../../../../../../../../root/.ssh/id_rsa",
                "listing": "RECORD",
            },
            f"/{SITE}/evil-1.0.dist-info",
        ),
        (
            "listed-missing",
            {"name": "evil", "count": 4, "listing": "RECORD"},
            f"/{SITE}/evil-1.0.dist-info",
        ),
    ]


def test_record_row_climbing_out_of_the_root_is_a_problem(tmp_path: Path) -> None:
    image, _ = _evil_record_image()
    report = _inspect(tmp_path, image)
    assert any(p.code == "listed-outside-root" for p in report.problems if p.kind == "record")


# --- hardlinks ----------------------------------------------------------------------------------


def test_hardlinks_to_nothing_to_directories_and_symlinks(tmp_path: Path) -> None:
    layers = [
        Layer([File("data/real", 100), Dir("data/dir"), Symlink("data/sym", "real")]),
        Layer(
            [
                Hardlink("h/missing", "nope/nothing"),
                Hardlink("h/dir", "data/dir"),
                Hardlink("h/sym", "data/sym"),
                Hardlink("h/self", "h/self"),
                Hardlink("h/forward", "h/later"),
                File("h/later", 3),
            ]
        ),
    ]
    report = _inspect(tmp_path, Image("hostile/hardlinks:1", layers))
    assert numbers(report) == [(100, 0), (3, 0)]
    broken = sorted(p.path or "" for p in report.problems if p.kind == "hardlink")
    assert broken == ["/h/dir", "/h/forward", "/h/missing", "/h/self"]
    # a hard link to a symlink is that symlink
    assert symlinks(merged(*layers))["h/sym"] == "real"


# --- absurd sizes and shapes ----------------------------------------------------------------------


def _archive_with_raw_layer(tmp_path: Path, raw: bytes) -> Path:
    path = tmp_path / "raw.tar"
    write_docker_archive(path, Image("hostile/raw:1", [Layer(raw=raw)]))
    return path


@pytest.mark.parametrize("typeflag", [b"x", b"L", b"K", b"g"])
def test_oversized_extension_record_is_refused(tmp_path: Path, typeflag: bytes) -> None:
    raw = header_block(name=b"././@LongLink", typeflag=typeflag, size=1 << 32) + END_OF_ARCHIVE
    with pytest.raises(CorruptLayer, match="oversized"):
        guarded_inspect(tmp_path, str(_archive_with_raw_layer(tmp_path, raw)))


def test_huge_declared_size_without_data(tmp_path: Path) -> None:
    raw = header_block(name=b"big", typeflag=REGTYPE, size=(1 << 33) - 1) + END_OF_ARCHIVE
    with pytest.raises(CorruptLayer, match="truncated in the data of 'big'"):
        guarded_inspect(tmp_path, str(_archive_with_raw_layer(tmp_path, raw)))


def test_huge_metadata_file_is_not_read_into_memory(tmp_path: Path) -> None:
    # a RECORD claiming 8 GiB - 1: never read whole; the layer is truncated, so it is corrupt
    name = f"{SITE}/evil-1.0.dist-info/RECORD".encode()
    raw = header_block(name=name, typeflag=REGTYPE, size=(8 << 30) - 1) + b"x" * 4096
    with pytest.raises(CorruptLayer, match="truncated"):
        guarded_inspect(tmp_path, str(_archive_with_raw_layer(tmp_path, raw)))


def test_endless_gnu_sparse_extension_chain(tmp_path: Path) -> None:
    block = bytearray(
        header_block(
            name=b"sparse", typeflag=b"S", size=0, sparse=((0, 512),), isextended=True, realsize=1
        )
    )
    extension = bytearray(512)
    extension[504] = 1  # "another extension block follows", forever
    raw = bytes(block) + bytes(extension) * 50
    with pytest.raises(CorruptLayer, match="truncated"):
        guarded_inspect(tmp_path, str(_archive_with_raw_layer(tmp_path, raw)))


def test_very_deep_paths(tmp_path: Path) -> None:
    deep = "/".join(f"d{i}" for i in range(400))
    layers = [
        Layer([File(f"{deep}/leaf", 8)], tar_format="pax"),
        Layer([Whiteout("d0/d1")]),
    ]
    report = _inspect(tmp_path, Image("hostile/deep:1", layers))
    assert numbers(report) == [(8, 8), (0, 0)]


def test_many_whiteouts_of_nothing(tmp_path: Path) -> None:
    layer = Layer([Whiteout(f"gone/{i}") for i in range(3000)])
    report = _inspect(tmp_path, Image("hostile/whiteouts:1", [Layer([File("a", 1)]), layer]))
    assert numbers(report) == [(1, 0), (0, 0)]
    assert problems(report) == []


# --- hostile archives and layouts --------------------------------------------------------------


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


_ESCAPING_MANIFEST = json.dumps(
    [
        {
            "Config": "../../../../../../etc/passwd",
            "RepoTags": ["x:1"],
            "Layers": ["/etc/shadow", "../../../../../../etc/hostname"],
        }
    ]
).encode()


def test_manifest_paths_outside_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "escape.tar"
    path.write_bytes(_tar({"manifest.json": _ESCAPING_MANIFEST}))
    with pytest.raises(MissingBlob, match=r"image config \S*etc/passwd is missing"):
        guarded_inspect(tmp_path, f"docker-archive:{path}")


def test_manifest_paths_outside_a_layout_directory(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    layout.mkdir()
    (layout / "manifest.json").write_bytes(_ESCAPING_MANIFEST)
    with pytest.raises(MissingBlob, match=r"image config \S*etc/passwd is missing"):
        guarded_inspect(tmp_path, f"docker-archive:{layout}")


def test_outer_archive_member_names_out_of_the_root(tmp_path: Path) -> None:
    image = Image("hostile/outer:1", [Layer([File("a", 5)])])
    good = tmp_path / "good.tar"
    info = write_docker_archive(good, image)
    members: dict[str, bytes] = {}
    with tarfile.open(good) as tar:
        for m in tar.getmembers():
            if m.isfile():
                data = tar.extractfile(m)
                assert data is not None
                members[f"../../{m.name}" if "layer.tar" in m.name else m.name] = data.read()
    bad = tmp_path / "outer.tar"
    bad.write_bytes(_tar(members))
    assert info.image.layers[0].path in {name.removeprefix("../../") for name in members}
    report = guarded_inspect(tmp_path, f"docker-archive:{bad}")
    assert numbers(report) == [(5, 0)]


def test_pax_path_records_climbing_out(tmp_path: Path) -> None:
    tar = TarWriter("pax")
    tar.add("innocent", REGTYPE, data=b"x" * 9, records={"path": "../../../../etc/cron.d/x"})
    tar.add("other", b"2", linkname="/", records={"linkpath": "../../../../"})
    path = _archive_with_raw_layer(tmp_path, tar.close())
    report = guarded_inspect(tmp_path, str(path))
    assert numbers(report) == [(9, 0)]
    assert [(p.path, p.kind) for p in report.problems if p.kind == "unsafe-path"] == [
        ("/etc/cron.d/x", "unsafe-path")
    ]


@pytest.mark.parametrize(
    ("entry", "refused"),
    [
        (File("d/" * 2047 + "f", 3), False),  # 4095 bytes: the longest path Linux takes
        (File("d/" * 2047 + "ff", 3), True),
        (File("n" * 5000, 3), True),
        (Symlink("s", "t/" * 2500), True),
    ],
    ids=["4095-bytes", "4096-bytes", "long-name", "long-symlink-target"],
)
def test_names_longer_than_path_max(tmp_path: Path, entry: File | Symlink, refused: bool) -> None:
    image = Image("hostile/pathmax:1", [Layer([entry], auto_dirs=False)])
    if refused:
        with pytest.raises(CorruptLayer, match=r"longer than Linux's PATH_MAX \(4096\)"):
            _inspect(tmp_path, image)
    else:
        assert numbers(_inspect(tmp_path, image)) == [(3, 0)]
