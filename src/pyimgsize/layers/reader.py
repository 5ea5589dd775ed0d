"""Read one layer blob (plain tar, gzip or zstd, sniffed) into a light per-layer summary.

Only headers are kept, plus the contents of the small metadata files the caller asks for
(`wants`, a `ContentSelector` built from what the analyzers declare: RECORD, METADATA,
installed-files.txt, dpkg `.list` files, ...). Everything else is skipped (by seeking where the
input allows).
"""

from __future__ import annotations

import os
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
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
from pyimgsize.layers.tar import (
    BLOCK,
    DIRECTORY,
    HARDLINK,
    SYMLINK,
    TarMember,
    finish_member,
    iter_tar,
    next_member,
)
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


_KINDS = tuple(Kind)


class Entries:
    """A layer's entries, column by column (a million-path layer would otherwise hold a
    million objects): entry `i` is the name `names[i]` in the directory `dirs[parents[i]]`
    (each directory path stored once), of kind `kinds[i]`, `sizes[i]` stored bytes, with its
    link target in `links` and captured contents in `data` when it has any.

    A name that repeats (`__init__.py`, `METADATA`, a module name in every copy of a package)
    is one string however many entries hold it: the merged tree keys its children by these
    very strings, so a million paths cost their distinct names once.

    Iterating gives `Entry` objects (made on the fly), for code that wants one at a time."""

    __slots__ = (
        "_dir_ids",
        "_names_seen",
        "data",
        "dirs",
        "kinds",
        "links",
        "names",
        "parents",
        "sizes",
    )

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self.dirs: list[str] = [""]
        self._dir_ids: dict[str, int] = {"": 0}
        self.parents = array("I")
        self.names: list[str] = []
        self.kinds = bytearray()
        self.sizes = array("q")
        self.links: dict[int, str] = {}
        self.data: dict[int, bytes] = {}
        self._names_seen: dict[str, str] = {}  # while entries are added: each name's one string
        for e in entries:
            self.add(e.path, e.kind, e.size, e.link, e.data)

    def dir_id(self, path: str) -> int:
        """The id of a directory path (added when new)."""
        got = self._dir_ids.get(path)
        if got is None:
            got = self._dir_ids[path] = len(self.dirs)
            self.dirs.append(path)
        return got

    def reindex_dirs(self) -> None:
        """Rebuild the directory lookup after `dirs` was replaced (a decoded cache entry)."""
        self._dir_ids = {d: i for i, d in enumerate(self.dirs)}

    def done(self) -> None:
        """Adding is over: drop the bookkeeping that only adding needs (a later `add` still
        works; its names are then shared among themselves only)."""
        self._names_seen = {}

    def add(
        self,
        path: str,
        kind: Kind,
        size: int = 0,
        link: str | None = None,
        data: bytes | None = None,
    ) -> None:
        parent, _, name = path.rpartition("/")
        self.add_in(self.dir_id(parent), name, kind, size, link, data)

    def add_in(
        self,
        parent: int,
        name: str,
        kind: int,
        size: int = 0,
        link: str | None = None,
        data: bytes | None = None,
    ) -> None:
        i = len(self.names)
        self.parents.append(parent)
        self.names.append(self._names_seen.setdefault(name, name))
        self.kinds.append(kind)
        self.sizes.append(size)
        if link is not None:
            self.links[i] = link
        if data is not None:
            self.data[i] = data

    def path(self, i: int) -> str:
        parent = self.dirs[self.parents[i]]
        name = self.names[i]
        return f"{parent}/{name}" if parent else name

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> Entry:
        if i < 0:
            i += len(self.names)
        return Entry(
            self.path(i), _KINDS[self.kinds[i]], self.sizes[i], self.links.get(i), self.data.get(i)
        )

    def __iter__(self) -> Iterator[Entry]:
        for i in range(len(self.names)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Entries):
            return list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Entries({list(self)!r})"


@dataclass(slots=True)
class LayerData:
    entries: Entries  # a list of `Entry` is accepted too (and stored as `Entries`)
    tar_bytes: int  # size of the uncompressed tar
    compressed_bytes: int | None  # blob size when the blob is compressed
    compression: str  # "tar", "gzip" or "zstd"
    problems: list[Finding] = field(default_factory=list)
    # sha256 of the uncompressed tar, where every byte was read anyway (compressed blobs)
    diff_digest: str | None = None
    released: bool = field(default=False, repr=False)  # `release_entries` was called

    def __post_init__(self) -> None:
        if not isinstance(self.entries, Entries):
            self.entries = Entries(self.entries)

    def release_entries(self) -> None:
        """Drop the entries (every other field stays): for a layer that has been merged, whose
        tree keeps what is still needed of them. Merging it again is an error, never an
        empty layer."""
        self.entries = Entries()
        self.released = True


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
    builder = _Builder(what, wants)
    if isinstance(direct, PositionalStream):
        _scan_positional(direct, what, builder, progress)
    else:
        add = builder.add
        for m in iter_tar(tar_stream, what):
            if direct is not None and progress is not None and builder.count % 4096 == 0:
                progress(direct.consumed)
            add(m)
    entries, problems, unsafe = builder.entries, builder.problems, builder.unsafe
    entries.done()
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


class _Builder:
    """A layer's entries and problems, member by member."""

    def __init__(self, what: str, wants: ContentSelector) -> None:
        self.what = what
        self.wants = wants
        self.entries = Entries()
        self.problems: list[Finding] = []
        self.unsafe = 0  # names pointing outside the root: the first few are listed, counted
        self.count = 0

    def add(self, m: TarMember) -> None:
        self.count += 1
        what, entries, problems = self.what, self.entries, self.problems
        path, escaped = normalize(m.name)
        if len(path) > _SHORT_ENOUGH or len(m.linkname) > _SHORT_ENOUGH:
            _check_lengths(path, m.linkname, what)
        if escaped and path:  # `/` or `../` alone name the root itself: nothing to report
            self.unsafe += 1
            if self.unsafe <= _UNSAFE_LISTED:
                problems.append(
                    Finding(
                        "name-outside-root",
                        "unsafe-path",
                        path,
                        facts={"name": m.name, "read_as": f"/{path}"},
                    )
                )
        if not path:
            return  # the root directory itself
        parent, _, base = path.rpartition("/")
        if not parent and base in _LAYER_ROOT_IGNORED:
            return
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_MARKER:
                entries.add(parent, Kind.OPAQUE)
            elif base.startswith(".wh..wh."):
                pass  # AUFS metadata such as .wh..wh.plnk: not filesystem content
            elif base == WHITEOUT_PREFIX:
                problems.append(Finding("bare-whiteout", "whiteout", path))
            else:
                entries.add_in(entries.dir_id(parent), base[len(WHITEOUT_PREFIX) :], Kind.WHITEOUT)
            return
        pid = entries.dir_id(parent)
        typeflag = m.type
        if typeflag == DIRECTORY:
            entries.add_in(pid, base, Kind.DIR)
        elif typeflag == SYMLINK:
            entries.add_in(pid, base, Kind.SYMLINK, link=m.linkname)
        elif typeflag == HARDLINK:
            target, link_escaped = normalize(m.linkname)
            if link_escaped:
                self.unsafe += 1
                if self.unsafe <= _UNSAFE_LISTED:
                    problems.append(
                        Finding(
                            "hardlink-outside-root",
                            "hardlink",
                            path,
                            facts={"link": m.linkname, "read_as": f"/{target}"},
                        )
                    )
            entries.add_in(pid, base, Kind.HARDLINK, link=target)
        elif typeflag in ("3", "4", "6"):
            entries.add_in(pid, base, Kind.OTHER)
        else:  # regular, contiguous, sparse, and unknown types (read as regular, per POSIX)
            data = None
            if self.wants(path):
                data = m.read_all(_META_LIMIT)
                if data is None and m.stored > _META_LIMIT:
                    problems.append(
                        Finding(
                            "metadata-too-large", "metadata", path, facts={"limit": _META_LIMIT}
                        )
                    )
            entries.add_in(pid, base, Kind.FILE, m.stored, data=data)


_READ_AHEAD = 64 << 10
_NEAR = 32 << 10
# typeflag bytes the fused scan reads: "0" regular, "1" hard link, "2" symlink, "5" directory
_FUSED_TYPES = {
    48: int(Kind.FILE),
    49: int(Kind.HARDLINK),
    50: int(Kind.SYMLINK),
    53: int(Kind.DIR),
}


def _unclean(name: str) -> bool:
    """Whether `normalize` would change more of `name` than trailing slashes."""
    return (
        name.startswith(("/", "./", "../"))
        or "//" in name
        or name in (".", "..")
        or (
            "/." in name  # a hidden name (`root/.cache`) is clean; `.` or `..` is not
            and ("/./" in name or "/../" in name or name.endswith(("/.", "/..")))
        )
    )


def _scan_positional(
    stream: PositionalStream, what: str, builder: _Builder, progress: Progress | None
) -> None:
    """`iter_tar` + `_Builder.add` for a region of a file, fused for the common header.

    A plain regular file or directory header (clean name, octal numbers, no extension
    records, contents not wanted) is read here from a read-ahead window and becomes an entry
    without any per-member object; every other header (extension records, links, whiteouts,
    wanted contents, anything odd, the end of the archive, any error) is handed, at its
    position, to the general reader (`next_member`), which says exactly what it says for any
    other source. So the checks below only decide which path a header takes: the fast one
    accepts what the general one would read the same way."""
    fd, start, end = stream.fd, stream.start, stream.end
    entries = builder.entries
    wants_in = builder.wants.wants_in
    dir_ids = entries._dir_ids
    dir_id = entries.dir_id
    add_name = entries.names.append
    share = entries._names_seen.setdefault
    add_parent = entries.parents.append
    add_kind = entries.kinds.append
    add_size = entries.sizes.append
    adler32 = zlib.adler32
    pread = os.pread
    file_kind = int(Kind.FILE)
    links = entries.links
    modes_ok: set[bytes] = set()  # mode fields seen valid (a handful of distinct values)
    pos = stream.position
    buf = b""
    buf_at = pos
    last = pos
    next_report = builder.count  # a first report at once, then every 4096 members
    while True:
        while True:
            if builder.count >= next_report and progress is not None:
                progress(pos - start)
                next_report = builder.count + 4096
            off = pos - buf_at
            if off + BLOCK > len(buf):
                if end - pos < BLOCK:
                    break  # (the general reader says how the archive is truncated)
                size_ = _READ_AHEAD if pos - last < _NEAR else BLOCK
                buf = pread(fd, min(size_, end - pos), pos)
                buf_at, off = pos, 0
                if len(buf) < BLOCK:
                    break
            last = pos
            flag = buf[off + 156]
            if flag not in _FUSED_TYPES or buf[off + 345] or buf[off + 124] & 0x80:
                break  # not a plain file, directory or link: the general reader
            block = buf[off : off + BLOCK]
            field_ = block[148:156]
            text = field_.split(b"\0", 1)[0].strip()
            try:
                checksum = int(text, 8) if text and field_[0] < 0x80 else -1
                text = block[124:136].split(b"\0", 1)[0].strip()
                size = int(text, 8) if text else 0
            except ValueError:
                break
            if checksum != (
                (adler32(block[:256]) & 0xFFFF)
                + (adler32(block[256:]) & 0xFFFF)
                + 254
                - sum(field_)
            ):
                break
            mode = block[100:108]
            if mode not in modes_ok:
                if mode[0] & 0x80:
                    break
                text = mode.split(b"\0", 1)[0].strip()
                try:
                    int(text, 8) if text else 0
                except ValueError:
                    break
                if len(modes_ok) < 1024:
                    modes_ok.add(mode)
            nul = block.find(b"\0", 0, 100)
            name = block[: nul if nul >= 0 else 100].decode("utf-8", "surrogateescape")
            if not name or _unclean(name):
                break
            link = None
            if flag == 48:
                if name.endswith("/"):
                    break
                path = name
                step = BLOCK + size + (-size) % BLOCK
            else:
                path = name.rstrip("/")
                step = BLOCK  # directories and links carry no data
                if flag != 53:
                    if not block[157]:
                        break  # (an empty target: the general reader says what it is)
                    nul = block.find(b"\0", 157, 257)
                    link = block[157 : nul if nul >= 0 else 257].decode("utf-8", "surrogateescape")
                    # a hard link's target is a key like any name
                    if flag == 49 and (link.endswith("/") or _unclean(link)):
                        break
            parent, _, base = path.rpartition("/")
            if (
                not base
                or base.startswith(WHITEOUT_PREFIX)
                or (not parent and base in _LAYER_ROOT_IGNORED)
                or (flag == 48 and wants_in(parent, base))
                or step > end - pos
            ):
                break
            pid = dir_ids.get(parent)
            if pid is None:
                pid = dir_id(parent)
            add_parent(pid)
            add_name(share(base, base))
            if flag == 48:
                add_kind(file_kind)
                add_size(size)
            else:
                if link is not None:
                    links[len(entries.names) - 1] = link
                add_kind(_FUSED_TYPES[flag])
                add_size(0)
            builder.count += 1
            pos += step
        # the general reader, for the first header the fast path did not take
        stream.position = pos
        member = next_member(stream, what)
        if member is None:
            return
        builder.add(member)
        finish_member(stream, member, what)
        pos = stream.position


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
