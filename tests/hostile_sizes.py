"""Hostile sizes and shapes, generated streamed (never a whole layer in memory), and a way to
measure what reading them costs: wall time and peak RSS of a real `pyimgsize` process.

Each case writes an OCI image layout directory (layer blobs gzip-compressed, or plain where
the trick is in the outer archive) plus `manifest.json`, so the same directory is also read as
a `docker save` archive once tarred (`as_docker_archive`).

    python -m tests.hostile_sizes [CASE ...]     # prints a table of the bounds measured

The cases (issue 14): a gzip layer that expands 1000x, a tar header declaring a 1 TB file, 100,000
nested directories, a 1 MB file name in a PAX record, 1,000,000 whiteouts, a manifest with 10,000
layers, a 100 MB RECORD; each beside its "same image without the trick" baseline.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fixtures.tarwriter import DIRTYPE, REGTYPE, XHDTYPE, header_block, pad, pax_records

SITE = "usr/lib/python3.11/site-packages"
END = b"\0" * 1024
MB = 1 << 20

Members = Iterator[bytes]
"""A layer tar as a stream of byte pieces."""


# --- layer tars, streamed -------------------------------------------------------------------------


def regular(name: str, size: int, fill: bytes = b"\0") -> Members:
    """A regular file of `size` bytes of `fill`, without holding it (1 MB pieces)."""
    records = pax_records({"path": name}) if len(name.encode()) > 100 else b""
    if records:
        yield header_block(name=b"PaxHeaders.0/long", typeflag=XHDTYPE, size=len(records))
        yield records + pad(len(records))
    yield header_block(name=name.encode()[:100], typeflag=REGTYPE, size=size)
    piece = fill * MB
    left = size
    while left > 0:
        yield piece[: min(left, MB)]
        left -= MB
    yield pad(size)


def declared(name: str, size: int) -> Members:
    """A header declaring `size` bytes (in a PAX `size` record past 8 GiB) and then no data at
    all: the archive just ends."""
    records = pax_records({"size": str(size)})
    yield header_block(name=b"PaxHeaders.0/big", typeflag=XHDTYPE, size=len(records))
    yield records + pad(len(records))
    yield header_block(name=name.encode(), typeflag=REGTYPE, size=0)


def directory(name: str) -> Members:
    records = pax_records({"path": name}) if len(name.encode()) > 100 else b""
    if records:
        yield header_block(name=b"PaxHeaders.0/dir", typeflag=XHDTYPE, size=len(records))
        yield records + pad(len(records))
    yield header_block(name=name.encode()[:100], typeflag=DIRTYPE)


def whiteouts(count: int, parent: str = "gone") -> Members:
    """`count` whiteouts of paths no lower layer has (`gone/.wh.<i>`)."""
    for i in range(count):
        yield header_block(name=f"{parent}/.wh.{i}".encode(), typeflag=REGTYPE, mode=0o600)


def files(count: int, parent: str = "many", size: int = 0) -> Members:
    """`count` small regular files (the baseline of `whiteouts`)."""
    data = b"x" * size
    for i in range(count):
        yield header_block(name=f"{parent}/{i}".encode(), typeflag=REGTYPE, size=size)
        if size:
            yield data + pad(size)


def record_dist(record_bytes: int, name: str = "big") -> Members:
    """A distribution whose RECORD is `record_bytes` long (rows naming files that do not exist,
    generated, not held)."""
    info = f"{SITE}/{name}-1.0.dist-info"
    yield from directory(info)
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
    yield header_block(name=f"{info}/METADATA".encode(), typeflag=REGTYPE, size=len(metadata))
    yield metadata + pad(len(metadata))
    yield header_block(name=f"{info}/RECORD".encode(), typeflag=REGTYPE, size=record_bytes)
    row = f"{name}/module_{{:012d}}.py,sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,100\n"
    written = 0
    i = 0
    chunk: list[bytes] = []
    chunk_size = 0
    while written < record_bytes:
        line = row.format(i).encode()[: record_bytes - written]
        chunk.append(line)
        chunk_size += len(line)
        written += len(line)
        i += 1
        if chunk_size >= MB:
            yield b"".join(chunk)
            chunk, chunk_size = [], 0
    yield b"".join(chunk)
    yield pad(record_bytes)


def tar(*parts: Members) -> Members:
    for part in parts:
        yield from part
    yield END


# --- an OCI layout (and a docker save archive) from streamed layers ------------------------------


@dataclass
class _Blob:
    digest: str
    size: int
    diff_id: str


def _write_blob(root: Path, pieces: Iterable[bytes], compress: bool, level: int) -> _Blob:
    """Stream a layer into `blobs/sha256/`, hashing both forms on the way."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    tmp = blobs / "incoming"
    raw_hash = hashlib.sha256()
    with tmp.open("wb") as fh:
        hashed = _Hashing(fh)
        sink: BinaryIO = gzip.GzipFile(fileobj=hashed, mode="wb", compresslevel=level, mtime=0)  # type: ignore[assignment]
        if not compress:
            sink = hashed  # type: ignore[assignment]
        for piece in pieces:
            raw_hash.update(piece)
            sink.write(piece)
        if compress:
            sink.close()
    digest = "sha256:" + hashed.hash.hexdigest()
    tmp.rename(blobs / digest.removeprefix("sha256:"))
    return _Blob(digest, hashed.size, "sha256:" + raw_hash.hexdigest())


class _Hashing:
    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()


def _put_json(root: Path, doc: object) -> tuple[str, int]:
    data = json.dumps(doc, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (root / "blobs" / "sha256" / digest.removeprefix("sha256:")).write_bytes(data)
    return digest, len(data)


def write_layout(
    root: Path,
    layers: list[Callable[[], Members]],
    *,
    compress: bool = True,
    level: int = 1,
    repeat: int = 1,
) -> Path:
    """An OCI image layout at `root` whose layers are the generated tars (gzip `level`),
    `repeat` times over (the same blobs listed again: a manifest with many layers from a few
    blobs)."""
    root.mkdir(parents=True)
    blobs = [_write_blob(root, make(), compress, level) for make in layers] * repeat
    media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [b.diff_id for b in blobs]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(blobs))],
    }
    config_digest, config_size = _put_json(root, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [{"mediaType": media, "digest": b.digest, "size": b.size} for b in blobs],
    }
    manifest_digest, manifest_size = _put_json(root, manifest)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": manifest_size,
                "annotations": {"org.opencontainers.image.ref.name": "hostile"},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    docker = [
        {
            "Config": "blobs/sha256/" + config_digest.removeprefix("sha256:"),
            "RepoTags": ["hostile:1"],
            "Layers": ["blobs/sha256/" + b.digest.removeprefix("sha256:") for b in blobs],
        }
    ]
    (root / "manifest.json").write_text(json.dumps(docker))
    return root


def as_docker_archive(layout: Path, path: Path) -> Path:
    """The layout directory as one `docker save` (Docker 25+) archive, streamed by tarfile."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as out:
        for item in sorted(layout.rglob("*")):
            out.add(item, arcname=str(item.relative_to(layout)), recursive=False)
    return path


# --- the cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    """Writes the input below the given directory; returns what to inspect."""
    baseline: Callable[[Path], Path]
    """The same image without the trick."""
    expect: str
    """"report" (exit 0) or the words the one-line error must contain (exit 3)."""


def _small(root: Path) -> Path:
    return write_layout(root / "base", [lambda: tar(regular("etc/hostname", 10))])


CASES = [
    Case(
        "gzip-bomb-1000x",
        lambda r: write_layout(r / "bomb", [lambda: tar(regular("zeros", 1000 * MB))], level=9),
        _small,
        "report",
    ),
    Case(
        "declared-1TB",
        lambda r: write_layout(r / "tb", [lambda: declared("big", 1 << 40)]),
        _small,
        "truncated",
    ),
    Case(
        "nested-100000-dirs",
        lambda r: write_layout(
            r / "deep", [lambda: tar(directory("/".join(["d"] * 100_000)), regular("f", 10))]
        ),
        _small,
        "PATH_MAX",
    ),
    Case(
        "nested-2047-dirs",  # the deepest PATH_MAX allows
        lambda r: write_layout(
            r / "deepest", [lambda: tar(directory("/".join(["d"] * 2047)), regular("f", 10))]
        ),
        _small,
        "report",
    ),
    Case(
        "pax-name-1MB",
        lambda r: write_layout(r / "longname", [lambda: tar(regular("n" * MB, 10))]),
        _small,
        "PATH_MAX",
    ),
    Case(
        "whiteouts-1000000",
        lambda r: write_layout(
            r / "wh", [lambda: tar(regular("a", 10)), lambda: tar(whiteouts(1_000_000))]
        ),
        lambda r: write_layout(
            r / "files", [lambda: tar(regular("a", 10)), lambda: tar(files(1_000_000))]
        ),
        "report",
    ),
    Case(
        "layers-10000",
        lambda r: write_layout(r / "layers", [lambda: tar(regular("a", 10))], repeat=10_000),
        _small,
        "more than pyimgsize reads (1000",
    ),
    Case(
        "record-100MB",
        lambda r: write_layout(r / "record", [lambda: tar(record_dist(100 * MB))]),
        lambda r: write_layout(r / "record-small", [lambda: tar(record_dist(10_000))]),
        "report",
    ),
]


@dataclass
class Measured:
    code: int
    seconds: float
    peak_rss: int  # bytes
    stdout: str
    stderr: str


def measure(ref: str, *, timeout: float = 600) -> Measured:
    """Run `pyimgsize inspect REF --format json` in a child process; its exit code, wall time and
    peak resident memory (from wait4: the child's own, not the whole process tree's).

    A child still running after `timeout` seconds is killed (and reported as exit -9)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pyimgsize", "inspect", ref, "--format", "json"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            proc.returncode,
            seconds,
            usage.ru_maxrss * 1024,  # kilobytes on Linux
            out.read().decode(),
            err.read().decode("utf-8", "replace"),
        )


def run_case(case: Case, root: Path, ref_kind: str = "oci") -> tuple[Measured, Measured]:
    """(the trick, the same image without it), each read through `ref_kind`."""
    results = []
    for build, name in ((case.build, "trick"), (case.baseline, "baseline")):
        where = root / name
        where.mkdir(parents=True, exist_ok=True)
        layout = build(where)
        ref = f"oci:{layout}"
        if ref_kind == "docker-archive":
            ref = f"docker-archive:{as_docker_archive(layout, where / 'image.tar')}"
        results.append(measure(ref))
    return results[0], results[1]


def main(names: list[str]) -> None:
    chosen = [c for c in CASES if not names or c.name in names]
    print(f"{'case':24} {'exit':>4} {'seconds':>8} {'peak RSS':>10} {'baseline':>10}  outcome")
    for case in chosen:
        with tempfile.TemporaryDirectory(prefix="pyimgsize-hostile-") as tmp:
            trick, base = run_case(case, Path(tmp))
        outcome = trick.stderr.strip() or "report"
        print(
            f"{case.name:24} {trick.code:>4} {trick.seconds:>8.1f} "
            f"{trick.peak_rss / MB:>8.0f}MB {base.peak_rss / MB:>8.0f}MB  {outcome[:90]}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
