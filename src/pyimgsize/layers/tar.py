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
from dataclasses import dataclass, field

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


def _byte_sum(data: bytes) -> int:
    """The sum of `data`'s bytes, in C: adler-32's low half is 1 + that sum modulo 65521,
    exact for up to 256 bytes (256 * 255 < 65520); longer data is summed in such pieces."""
    total = 0
    for i in range(0, len(data), 256):
        total += (zlib.adler32(data[i : i + 256]) & 0xFFFF) - 1
    return total


def header_checksum_ok(block: bytes) -> bool:
    """POSIX: the unsigned sum of the header with the checksum field read as spaces. Some old
    tars summed signed bytes; that form is checked only when the usual one fails."""
    try:
        stored = _num(block[148:156])
    except ValueError:
        return False
    if stored == _byte_sum(block[:148]) + _byte_sum(block[156:512]) + 8 * 32:
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


@dataclass(slots=True)
class TarMember:
    """One archive member. `size` is the apparent size, `stored` the data bytes in the archive."""

    name: str
    type: str
    size: int
    stored: int
    linkname: str
    mode: int
    data: BoundedStream
    sparse: list[tuple[int, int]] | None = None
    pax: dict[str, str] = field(default_factory=dict)

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


def iter_tar(stream: ByteStream, what: str) -> Iterator[TarMember]:
    """Yield every member; data not read by the consumer is skipped when it resumes.

    Raises CorruptLayer for a truncated archive, a bad checksum, or a missing end-of-archive
    marker. `what` names the archive (a layer, a blob) in error messages.
    """
    pending_pax: dict[str, str] = {}
    long_name: str | None = None
    long_link: str | None = None
    while True:
        block = stream.read(BLOCK)
        if len(block) == 0:
            raise CorruptLayer(f"{what}: truncated (no end-of-archive marker)")
        if len(block) < BLOCK:
            raise CorruptLayer(f"{what}: truncated (partial header)")
        if block == bytes(BLOCK):
            # End-of-archive marker: two zero blocks; a lone one at EOF is tolerated (GNU tar
            # warns and accepts). A zero block followed by anything but zeros is a damaged
            # header, not the end (Go's archive/tar: ErrHeader): stopping there would turn a
            # corrupt layer into a smaller one. What follows the marker (blocking-factor
            # padding) is ignored.
            if stream.read(BLOCK).strip(b"\0"):
                raise CorruptLayer(f"{what}: zero block in mid-archive (damaged tar header)")
            return
        if not header_checksum_ok(block):
            raise CorruptLayer(f"{what}: bad tar header checksum")
        typeflag = chr(block[156]) if block[156] else REGULAR
        try:
            size = _num(block[124:136])
            mode = _num(block[100:108])
        except ValueError:
            raise CorruptLayer(f"{what}: malformed number in tar header") from None
        magic = block[257:265]
        name = _str(block[0:100])
        # (the prefix and link name fields are empty in most headers: test the first byte
        # before slicing and decoding them)
        if block[345] and magic[:5] == b"ustar" and magic != b"ustar  \0":
            prefix = _str(block[345:500])
            if prefix:
                name = prefix + "/" + name
        linkname = _str(block[157:257]) if block[157] else ""
        # Global (`g`) records are read but, as in Go's archive/tar that Docker and containerd
        # unpack layers with, never applied to later members: a global `size` or `path` would
        # make this reader see other files than the runtime does.
        pax = pending_pax
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError:
                raise CorruptLayer(f"{what}: malformed pax size") from None
        if size < 0:
            raise CorruptLayer(f"{what}: negative size in tar header")

        if typeflag in _META_TYPES:
            if size > _MAX_META:
                raise CorruptLayer(f"{what}: oversized {typeflag!r} extension record")
            raw = _read_exact(stream, size, what, "extension record")
            if stream.skip(_pad(size)) != _pad(size):
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
        if long_link is not None:
            linkname = long_link
        if "path" in pax:
            name = pax["path"]
        if "linkpath" in pax:
            linkname = pax["linkpath"]
        long_name = long_link = None
        pending_pax = {}

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
        if "GNU.sparse.major" in pax or "GNU.sparse.map" in pax or "GNU.sparse.size" in pax:
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
            continue

        kind = typeflag if typeflag != CONTIGUOUS else REGULAR
        if not block[156] and name.endswith("/"):
            # pre-POSIX: a directory is a regular file (typeflag NUL) named with a trailing
            # slash (Go's archive/tar and Python's tarfile read it so); its data, if any, is
            # still skipped
            kind = DIRECTORY
        member = TarMember(
            name=name,
            type=kind,
            size=apparent,
            stored=stored if sparse is not None else apparent,
            linkname=linkname,
            mode=mode,
            data=data,
            sparse=sparse,
            pax=pax,
        )
        yield member
        if data.drain():
            raise CorruptLayer(f"{what}: truncated in the data of {name!r}")
        pad = _pad(size if typeflag not in _HEADER_ONLY else 0)
        if pad and stream.skip(pad) != pad:
            raise CorruptLayer(f"{what}: truncated (padding after {name!r})")


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
