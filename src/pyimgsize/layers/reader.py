"""Read one layer blob (plain tar, gzip or zstd, sniffed) into a light per-layer summary.

Only headers are kept, plus the contents of the small metadata files the caller asks for
(`wants`, a `ContentSelector` built from what the analyzers declare: RECORD, METADATA,
installed-files.txt, dpkg `.list` files, ...). Everything else is skipped (by seeking where the
input allows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import cast

from pyimgsize.errors import CorruptLayer, UnsupportedMediaType
from pyimgsize.findings import Finding
from pyimgsize.layers.content import ContentSelector
from pyimgsize.layers.sniff import sniff
from pyimgsize.layers.stream import (
    BoundedStream,
    ByteStream,
    DecompressStream,
    PeekStream,
    PositionalStream,
)
from pyimgsize.layers.tar import DIRECTORY, HARDLINK, SYMLINK, iter_tar
from pyimgsize.paths import normalize


class Kind(IntEnum):
    FILE = 0
    DIR = 1
    SYMLINK = 2
    HARDLINK = 3
    OTHER = 4  # devices, FIFOs
    WHITEOUT = 5  # path = the name it deletes
    OPAQUE = 6  # path = the directory whose lower contents it hides


@dataclass(slots=True)
class Entry:
    path: str
    kind: Kind
    size: int = 0  # stored data bytes (regular files only; sparse: the stored data)
    link: str | None = None  # symlink target (verbatim) or hardlink target (normalised)
    data: bytes | None = None  # contents of a captured metadata file


@dataclass(slots=True)
class LayerData:
    entries: list[Entry]
    tar_bytes: int  # size of the uncompressed tar
    compressed_bytes: int | None  # blob size when the blob is compressed
    compression: str  # "tar", "gzip" or "zstd"
    problems: list[Finding] = field(default_factory=list)
    # sha256 of the uncompressed tar, where every byte was read anyway (compressed blobs)
    diff_digest: str | None = None


WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_META_LIMIT = 32 << 20
_UNSAFE_LISTED = 20
# eStargz / zstd:chunked bookkeeping entries at the layer root (not filesystem content)
_LAYER_ROOT_IGNORED = frozenset(
    {"stargz.index.json", ".no.prefetch.landmark", ".prefetch.landmark"}
)


Progress = Callable[[int], None]


PATH_MAX = 4096
"""Linux's longest path (and, less its NUL, symlink target): a layer naming anything longer
cannot be unpacked by any runtime. Refusing it also bounds the cost of paths that are deep
(100,000 nested directories would cost time and memory quadratic in the depth)."""
_SHORT_ENOUGH = PATH_MAX // 4  # a str of this many characters is at most PATH_MAX UTF-8 bytes


def _check_lengths(path: str, link: str, what: str) -> None:
    for kind, name in (("name", path), ("link target", link)):
        size = len(name.encode("utf-8", "surrogateescape"))
        if size >= PATH_MAX:
            raise CorruptLayer(
                f"{what}: an entry's {kind} is {size} bytes long, longer than Linux's PATH_MAX "
                f"({PATH_MAX}); no runtime can unpack this layer ({name[:40]!r}...)"
            )


def read_layer(
    blob: ByteStream,
    what: str,
    *,
    wants: ContentSelector,
    blob_size: int | None = None,
    progress: Progress | None = None,
) -> LayerData:
    """Summarise one layer blob. `what` names it in errors ("layer 3 (sha256:ab12…)"); `wants`
    says which regular files' contents to keep (the rest is skipped)."""
    # A file region or an archive member can be peeked at and counts what it consumed; any
    # other stream goes through a PeekStream and a counting wrapper.
    mem = blob if isinstance(blob, PositionalStream | BoundedStream) else None
    source: ByteStream
    if mem is not None:
        head = mem.peek(512)
        source = mem
    else:
        peek = PeekStream(blob)
        head = peek.peek(512)
        source = peek
    kind = sniff(head)
    stream: ByteStream
    decompressor: DecompressStream | None = None
    if kind in ("gzip", "zstd"):
        decompressor = DecompressStream(source, kind, what, hashed=True)
        stream = decompressor
    elif kind == "tar":
        stream = source
    elif not head:
        raise CorruptLayer(f"{what}: empty blob (not even an end-of-archive marker)")
    else:
        raise UnsupportedMediaType(f"{what}: not a tar, gzip or zstd blob")

    direct = mem if decompressor is None else None
    counter = _Counting(stream, progress) if direct is None else None
    tar_stream: ByteStream = direct if direct is not None else cast(ByteStream, counter)
    entries: list[Entry] = []
    problems: list[Finding] = []
    unsafe = 0  # names pointing outside the root: the first few are listed, then counted
    for m in iter_tar(tar_stream, what):
        if direct is not None and progress is not None and len(entries) % 4096 == 0:
            progress(direct.consumed)
        path, escaped = normalize(m.name)
        if len(path) > _SHORT_ENOUGH or len(m.linkname) > _SHORT_ENOUGH:
            _check_lengths(path, m.linkname, what)
        if escaped and path:  # `/` or `../` alone name the root itself: nothing to report
            unsafe += 1
            if unsafe <= _UNSAFE_LISTED:
                problems.append(
                    Finding(
                        "name-outside-root",
                        "unsafe-path",
                        path,
                        facts={"name": m.name, "read_as": f"/{path}"},
                    )
                )
        if not path:
            continue  # the root directory itself
        parent, _, base = path.rpartition("/")
        if not parent and base in _LAYER_ROOT_IGNORED:
            continue
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_MARKER:
                entries.append(Entry(parent, Kind.OPAQUE))
            elif base.startswith(".wh..wh."):
                pass  # AUFS metadata such as .wh..wh.plnk: not filesystem content
            elif base == WHITEOUT_PREFIX:
                problems.append(Finding("bare-whiteout", "whiteout", path))
            else:
                target = base[len(WHITEOUT_PREFIX) :]
                entries.append(Entry(f"{parent}/{target}" if parent else target, Kind.WHITEOUT))
            continue
        if m.type == DIRECTORY:
            entries.append(Entry(path, Kind.DIR))
        elif m.type == SYMLINK:
            entries.append(Entry(path, Kind.SYMLINK, link=m.linkname))
        elif m.type == HARDLINK:
            target, link_escaped = normalize(m.linkname)
            if link_escaped:
                unsafe += 1
                if unsafe <= _UNSAFE_LISTED:
                    problems.append(
                        Finding(
                            "hardlink-outside-root",
                            "hardlink",
                            path,
                            facts={"link": m.linkname, "read_as": f"/{target}"},
                        )
                    )
            entries.append(Entry(path, Kind.HARDLINK, link=target))
        elif m.type in ("3", "4", "6"):
            entries.append(Entry(path, Kind.OTHER))
        else:  # regular, contiguous, sparse, and unknown types (read as regular, per POSIX)
            data = None
            if wants(path):
                data = m.read_all(_META_LIMIT)
                if data is None and m.stored > _META_LIMIT:
                    problems.append(
                        Finding(
                            "metadata-too-large", "metadata", path, facts={"limit": _META_LIMIT}
                        )
                    )
            entries.append(Entry(path, Kind.FILE, size=m.stored, data=data))
    # Anything after the end-of-archive marker (the second zero block, blocking padding) is
    # part of the tar too.
    if unsafe > _UNSAFE_LISTED:
        problems.append(
            Finding("more-outside-root", "unsafe-path", facts={"count": unsafe - _UNSAFE_LISTED})
        )
    if counter is not None:
        counter.drain_rest()
        tar_bytes = counter.count
    else:
        assert direct is not None
        while direct.skip(1 << 30):
            pass
        tar_bytes = direct.consumed
    compressed: int | None = None
    digest: str | None = None
    if decompressor is not None:
        compressed = blob_size if blob_size is not None else decompressor.compressed_consumed
        digest = decompressor.digest
    return LayerData(entries, tar_bytes, compressed, kind, problems, digest)


class _Counting:
    """Counts the bytes the tar reader consumes (the uncompressed tar size) and reports progress."""

    def __init__(self, inner: ByteStream, progress: Progress | None) -> None:
        self._inner = inner
        self.count = 0
        self._progress = progress
        self._next_report = 8 << 20

    def _advance(self, n: int) -> None:
        self.count += n
        if self._progress is not None and self.count >= self._next_report:
            self._progress(self.count)
            self._next_report = self.count + (8 << 20)

    def read(self, n: int) -> bytes:
        out = self._inner.read(n)
        self._advance(len(out))
        return out

    def skip(self, n: int) -> int:
        done = self._inner.skip(n)
        self._advance(done)
        return done

    def drain_rest(self) -> None:
        while self.skip(1 << 20):
            pass
