"""A strict, streaming tar reader.

Python's `tarfile` treats a bad header in mid-archive as the end of the archive, which would turn
a corrupt layer into a smaller one. This reader accepts a tar only when it reaches the
end-of-archive marker with every header checksum valid and every declared data byte present
(design.md §2); anything else raises `CorruptLayer` naming the archive.

Supported: POSIX ustar and pax (`x` records: path, linkpath, size, GNU sparse 0.0/0.1/1.0; `g`
records are checked and ignored, as Go's archive/tar does), GNU (`L`/`K` long names, old-style
`S` sparse with extension headers), v7 headers (a directory is a NUL-typed name ending in `/`),
base-256 numbers. Header-only types (links, directories, devices, FIFOs) carry no data, as in
Go's and Python's readers.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from pyimgsize.errors import CorruptLayer
from pyimgsize.layers.stream import BoundedStream, ByteStream

BLOCK = 512

REGULAR = "0"
HARDLINK = "1"
SYMLINK = "2"
CHARDEV = "3"
BLOCKDEV = "4"
DIRECTORY = "5"
FIFO = "6"
CONTIGUOUS = "7"
GNU_SPARSE = "S"

_HEADER_ONLY = frozenset({HARDLINK, SYMLINK, CHARDEV, BLOCKDEV, DIRECTORY, FIFO})
_META_TYPES = frozenset({"x", "g", "L", "K", "X"})
_SKIP_TYPES = frozenset({"V", "M", "N", "D"})  # volume labels, multivolume, old long names, dumpdir
_MAX_META = 16 << 20


def _unsigned_sum(block: bytes) -> int:
    """The POSIX checksum of a 512-byte header: its unsigned byte sum with the checksum field
    read as eight spaces (two exact adler-32 halves, less the field's own bytes)."""
    return (
        (zlib.adler32(block[:256]) & 0xFFFF)
        + (zlib.adler32(block[256:]) & 0xFFFF)
        + 254  # - 2 (the two adler-32 starting ones) + 8 * 32 (the spaces)
        - sum(block[148:156])
    )


def header_checksum_ok(block: bytes) -> bool:
    """POSIX: the unsigned sum of the header with the checksum field read as spaces. Some old
    tars summed signed bytes; that form is checked only when the usual one fails."""
    try:
        stored = _num(block[148:156])
    except ValueError:
        return False
    if stored == _unsigned_sum(block):
        return True
    signed = sum(b - 256 if b > 127 else b for b in block[:148]) + 8 * 32
    signed += sum(b - 256 if b > 127 else b for b in block[156:512])
    return stored == signed


def _num(field_: bytes) -> int:
    if field_ and field_[0] & 0x80:
        # base-256 (GNU/star): big-endian two's complement in the remaining bits
        value = field_[0] & 0x3F
        for b in field_[1:]:
            value = (value << 8) | b
        if field_[0] & 0x40:
            value -= 1 << (len(field_) * 8 - 2)
        return value
    text = field_.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _str(field_: bytes) -> str:
    return field_.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


class TarMember:
    """One archive member. `size` is the apparent size, `stored` the data bytes in the archive.

    `data` (the member's bytes, a `BoundedStream`) is made when first asked for: a consumer
    that only wants headers costs one skip per member, not a stream object."""

    __slots__ = (
        "_data",
        "_length",
        "_pad",
        "_parent",
        "linkname",
        "mode",
        "name",
        "pax",
        "size",
        "sparse",
        "stored",
        "type",
    )

    def __init__(
        self,
        name: str,
        type: str,
        size: int,
        stored: int,
        linkname: str,
        mode: int,
        parent: ByteStream,
        length: int,
        data: BoundedStream | None = None,
        sparse: list[tuple[int, int]] | None = None,
        pax: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.size = size
        self.stored = stored
        self.linkname = linkname
        self.mode = mode
        self._parent = parent
        self._length = length  # the data bytes that follow the header(s)
        self._pad = 0  # then the padding to the next block
        self._data = data
        self.sparse = sparse
        self.pax: dict[str, str] = {} if pax is None else pax

    @property
    def data(self) -> BoundedStream:
        if self._data is None:
            self._data = BoundedStream(self._parent, self._length)
        return self._data

    @property
    def is_file(self) -> bool:
        return self.type not in _HEADER_ONLY

    def read_all(self, limit: int) -> bytes | None:
        """The data when at most `limit` bytes (else None); call before anything skips it."""
        if self.stored > limit or self.sparse is not None:
            return None
        data = self.data.read(self.stored)
        return data


def _parse_pax(raw: bytes, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    sparse_pairs: list[str] = []
    while pos < len(raw):
        if raw[pos] == 0:
            break
        sp = raw.find(b" ", pos)
        if sp < 0:
            raise CorruptLayer(f"{what}: malformed pax record")
        try:
            length = int(raw[pos:sp])
        except ValueError:
            raise CorruptLayer(f"{what}: malformed pax record length") from None
        if length <= 0 or pos + length > len(raw):
            raise CorruptLayer(f"{what}: malformed pax record length")
        record = raw[sp + 1 : pos + length - 1]
        key, eq, value = record.partition(b"=")
        if not eq:
            raise CorruptLayer(f"{what}: malformed pax record")
        k = key.decode("utf-8", "surrogateescape")
        v = value.decode("utf-8", "surrogateescape")
        if k in ("GNU.sparse.offset", "GNU.sparse.numbytes"):
            sparse_pairs.append(v)  # sparse 0.0: repeated keys, in order
        else:
            out[k] = v
        pos += length
    if sparse_pairs:
        out["GNU.sparse.map"] = ",".join(sparse_pairs)
    return out


def _read_exact(stream: ByteStream, n: int, what: str, context: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise CorruptLayer(f"{what}: truncated ({context})")
    return data


def _pad(n: int) -> int:
    return (-n) % BLOCK


_ZERO_BLOCK = bytes(BLOCK)
_TYPEFLAG = (REGULAR, *(chr(i) for i in range(1, 256)))  # typeflag byte -> str (NUL: regular)
_HEADER_ONLY_BYTES = frozenset(ord(t) for t in _HEADER_ONLY)
_META_BYTES = frozenset(ord(t) for t in _META_TYPES)
_SPARSE_KEYS = ("GNU.sparse.major", "GNU.sparse.map", "GNU.sparse.size")


def iter_tar(stream: ByteStream, what: str) -> Iterator[TarMember]:
    """Yield every member; data not read by the consumer is skipped when it resumes.

    Raises CorruptLayer for a truncated archive, a bad checksum, or a missing end-of-archive
    marker. `what` names the archive (a layer, a blob) in error messages.
    """
    while (member := next_member(stream, what)) is not None:
        yield member
        finish_member(stream, member, what)


def next_member(stream: ByteStream, what: str) -> TarMember | None:
    """The member whose header(s) start at the stream's position (its extension records
    applied), or None at the end-of-archive marker. Its data follows: read what is wanted of
    it, then `finish_member`."""
    # One pass per header with as few calls as the checks allow: this loop runs once per path
    # of an image (a million for the largest), so the common header (octal numbers, no
    # extension records, data not wanted) is read inline, and rarer forms go through helpers.
    read = stream.read
    skip = stream.skip
    adler32 = zlib.adler32
    pending_pax: dict[str, str] = {}
    long_name: str | None = None
    long_link: str | None = None
    while True:
        block = read(BLOCK)
        if len(block) != BLOCK:
            if not block:
                raise CorruptLayer(f"{what}: truncated (no end-of-archive marker)")
            raise CorruptLayer(f"{what}: truncated (partial header)")
        if block == _ZERO_BLOCK:
            # End-of-archive marker: two zero blocks; a lone one at EOF is tolerated (GNU tar
            # warns and accepts). A zero block followed by anything but zeros is a damaged
            # header, not the end (Go's archive/tar: ErrHeader): stopping there would turn a
            # corrupt layer into a smaller one. What follows the marker (blocking-factor
            # padding) is ignored.
            if read(BLOCK).strip(b"\0"):
                raise CorruptLayer(f"{what}: zero block in mid-archive (damaged tar header)")
            return None
        # the checksum (unsigned form inline; `header_checksum_ok` has the rest)
        field_ = block[148:156]
        stored_sum = -1
        if field_[0] < 0x80:
            text = field_.split(b"\0", 1)[0].strip()
            try:
                stored_sum = int(text, 8) if text else 0
            except ValueError:
                stored_sum = -1
        if stored_sum != (
            (adler32(block[:256]) & 0xFFFF) + (adler32(block[256:]) & 0xFFFF) + 254 - sum(field_)
        ) and not header_checksum_ok(block):
            raise CorruptLayer(f"{what}: bad tar header checksum")
        flag = block[156]
        typeflag = _TYPEFLAG[flag]
        try:
            size = _num(block[124:136])
            mode = _num(block[100:108])
        except ValueError:
            raise CorruptLayer(f"{what}: malformed number in tar header") from None
        end = block.find(b"\0", 0, 100)
        name = block[: end if end >= 0 else 100].decode("utf-8", "surrogateescape")
        # (the prefix and link name fields are empty in most headers: test the first byte
        # before slicing and decoding them)
        if block[345] and block[257:262] == b"ustar" and block[257:265] != b"ustar  \0":
            prefix = _str(block[345:500])
            if prefix:
                name = prefix + "/" + name
        linkname = _str(block[157:257]) if block[157] else ""
        # Global (`g`) records are read but, as in Go's archive/tar that Docker and containerd
        # unpack layers with, never applied to later members: a global `size` or `path` would
        # make this reader see other files than the runtime does.
        pax = pending_pax
        if pax and "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise CorruptLayer(f"{what}: malformed pax size") from None
        if size < 0:
            raise CorruptLayer(f"{what}: negative size in tar header")

        if flag in _META_BYTES:
            if size > _MAX_META:
                raise CorruptLayer(f"{what}: oversized {typeflag!r} extension record")
            raw = _read_exact(stream, size, what, "extension record")
            if skip(_pad(size)) != _pad(size):
                raise CorruptLayer(f"{what}: truncated (extension record padding)")
            if typeflag in ("x", "X"):
                pending_pax = {**pending_pax, **_parse_pax(raw, what)}
            elif typeflag == "g":
                _parse_pax(raw, what)  # well-formed, then ignored (see below)
            elif typeflag == "L":
                long_name = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            else:
                long_link = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            continue

        if long_name is not None:
            name = long_name
            long_name = None
        if long_link is not None:
            linkname = long_link
            long_link = None
        header_only = flag in _HEADER_ONLY_BYTES
        stored = 0 if header_only else size
        pad = 0 if header_only else (-size) % BLOCK
        if pax:
            if "path" in pax:
                name = pax["path"]
            if "linkpath" in pax:
                linkname = pax["linkpath"]
            pending_pax = {}

        kind = typeflag if typeflag != CONTIGUOUS else REGULAR
        if not flag and name.endswith("/"):
            # pre-POSIX: a directory is a regular file (typeflag NUL) named with a trailing
            # slash (Go's archive/tar and Python's tarfile read it so); its data, if any, is
            # still skipped
            kind = DIRECTORY

        if (
            typeflag == GNU_SPARSE
            or typeflag in _SKIP_TYPES
            or (pax and any(k in pax for k in _SPARSE_KEYS))
        ):
            member = _special_member(stream, what, block, typeflag, name, linkname, mode, size, pax)
            if member is None:  # a type skipped whole (volume labels, ...)
                continue
        else:
            member = TarMember(name, kind, stored, stored, linkname, mode, stream, stored, pax=pax)
        member._pad = pad
        return member


def finish_member(stream: ByteStream, member: TarMember, what: str) -> None:
    """Skip what is left of a member's data, and its padding."""
    data = member._data
    length = member._length
    pad = member._pad
    if data is None:
        got = stream.skip(length + pad)
        if got < length:
            raise CorruptLayer(f"{what}: truncated in the data of {member.name!r}")
    else:
        if data.drain():
            raise CorruptLayer(f"{what}: truncated in the data of {member.name!r}")
        got = length + (stream.skip(pad) if pad else 0)
    if got != length + pad:
        raise CorruptLayer(f"{what}: truncated (padding after {member.name!r})")


def _special_member(
    stream: ByteStream,
    what: str,
    block: bytes,
    typeflag: str,
    name: str,
    linkname: str,
    mode: int,
    size: int,
    pax: dict[str, str],
) -> TarMember | None:
    """A sparse member (old GNU or pax), or None for a type that is skipped whole (its data
    and padding consumed here)."""
    stored = 0 if typeflag in _HEADER_ONLY else size
    apparent = stored
    sparse: list[tuple[int, int]] | None = None
    if typeflag == GNU_SPARSE:
        sparse = _gnu_sparse_map(block, stream, what)
        try:
            apparent = _num(block[483:495])
        except ValueError:
            raise CorruptLayer(f"{what}: malformed GNU sparse header") from None
        stored = size
    data = BoundedStream(stream, stored)
    length = stored
    if any(k in pax for k in _SPARSE_KEYS):
        sparse, apparent = _pax_sparse(pax, data, what)
        if "GNU.sparse.name" in pax:
            name = pax["GNU.sparse.name"]
        stored = data.remaining
    if typeflag in _SKIP_TYPES:
        data.drain()
        if data.remaining:
            raise CorruptLayer(f"{what}: truncated (member data)")
        if stream.skip(_pad(size)) != _pad(size):
            raise CorruptLayer(f"{what}: truncated (padding)")
        return None
    kind = typeflag if typeflag != CONTIGUOUS else REGULAR
    if not block[156] and name.endswith("/"):
        kind = DIRECTORY  # pre-POSIX directory (see iter_tar)
    return TarMember(
        name,
        kind,
        apparent,
        stored if sparse is not None else apparent,
        linkname,
        mode,
        stream,
        length,
        data=data,
        sparse=sparse,
        pax=pax,
    )


def _gnu_sparse_map(block: bytes, stream: ByteStream, what: str) -> list[tuple[int, int]]:
    """Old GNU sparse: 4 entries in the header, then 21 per extension block while isextended."""
    out: list[tuple[int, int]] = []

    def entries(raw: bytes, count: int) -> None:
        for i in range(count):
            off = raw[i * 24 : i * 24 + 12]
            num = raw[i * 24 + 12 : i * 24 + 24]
            if off.strip(b"\0") == b"" and num.strip(b"\0") == b"":
                continue
            try:
                out.append((_num(off), _num(num)))
            except ValueError:
                raise CorruptLayer(f"{what}: malformed GNU sparse map") from None

    entries(block[386:482], 4)
    extended = block[482]
    while extended:
        ext = _read_exact(stream, BLOCK, what, "GNU sparse extension header")
        entries(ext[0:504], 21)
        extended = ext[504]
    return out


def _pax_sparse(
    pax: dict[str, str], data: BoundedStream, what: str
) -> tuple[list[tuple[int, int]], int]:
    """PAX sparse formats 0.0/0.1 (map in headers) and 1.0 (map at the start of the data)."""
    try:
        realsize = int(pax.get("GNU.sparse.realsize", pax.get("GNU.sparse.size", "0")))
        if pax.get("GNU.sparse.major") == "1":
            # map: decimal numbers, one per line, at the start of the data, padded to a block
            consumed = 0
            buf = b""
            numbers: list[int] = []
            needed: int | None = None
            while needed is None or len(numbers) < needed:
                while b"\n" not in buf:
                    chunk = data.read(BLOCK)
                    if not chunk:
                        raise CorruptLayer(f"{what}: truncated PAX sparse map")
                    consumed += len(chunk)
                    buf += chunk
                line, _, buf = buf.partition(b"\n")
                value = int(line)
                if needed is None:
                    needed = 1 + 2 * value
                numbers.append(value)
            pairs = numbers[1:]
            return [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)], realsize
        flat = [int(x) for x in pax.get("GNU.sparse.map", "").split(",") if x]
        return [(flat[i], flat[i + 1]) for i in range(0, len(flat) - 1, 2)], realsize
    except ValueError:
        raise CorruptLayer(f"{what}: malformed PAX sparse map") from None
