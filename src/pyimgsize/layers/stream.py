"""Byte streams: one small interface (read / skip) over files, HTTP chunk iterators and
decompressors, so that every source feeds the same tar reader.

`skip` seeks where the underlying file is seekable and reads-and-discards otherwise; a layer's
file contents are never held in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, Protocol, cast

from pyimgsize.errors import CorruptLayer

CHUNK = 1 << 20


class ByteStream(Protocol):
    def read(self, n: int) -> bytes:
        """Up to n bytes; fewer only at the end of the stream."""
        ...

    def skip(self, n: int) -> int:
        """Skip n bytes; returns how many were skipped (fewer only at the end)."""
        ...


class FileStream:
    """A binary file object; seeks to skip when it can."""

    def __init__(self, fh: BinaryIO, *, seekable: bool | None = None) -> None:
        self._fh = fh
        self._seekable = fh.seekable() if seekable is None else seekable
        self.position = fh.tell() if self._seekable else 0
        self._size: int | None = None
        if self._seekable:
            here = fh.tell()
            self._size = fh.seek(0, io.SEEK_END)
            fh.seek(here)

    @property
    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int) -> None:
        self._fh.seek(offset)
        self.position = offset

    def read(self, n: int) -> bytes:
        out = self._fh.read(n)
        if len(out) < n and not self._seekable:
            # pipes return short reads; keep reading until n or EOF
            parts = [out]
            got = len(out)
            while got < n:
                more = self._fh.read(n - got)
                if not more:
                    break
                parts.append(more)
                got += len(more)
            out = b"".join(parts)
        self.position += len(out)
        return out

    def skip(self, n: int) -> int:
        if n <= 0:
            return 0
        if self._seekable and self._size is not None:
            step = min(n, max(0, self._size - self.position))
            self._fh.seek(step, io.SEEK_CUR)
            self.position += step
            return step
        return _skip_by_reading(self, n)


class IterStream:
    """Chunks from an iterator (the engine's HTTP export stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._it: Iterator[bytes] = iter(chunks)
        self._buf = b""
        self._pos = 0
        self.position = 0

    def _fill(self) -> bool:
        for chunk in self._it:
            if chunk:
                self._buf = self._buf[self._pos :] + chunk
                self._pos = 0
                return True
        return False

    def read(self, n: int) -> bytes:
        avail = len(self._buf) - self._pos
        if avail >= n:
            out = self._buf[self._pos : self._pos + n]
            self._pos += n
            self.position += n
            return out
        parts = [self._buf[self._pos :]]
        got = avail
        self._buf, self._pos = b"", 0
        while got < n:
            try:
                chunk = next(self._it)
            except StopIteration:
                break
            if not chunk:
                continue
            need = n - got
            if len(chunk) > need:
                parts.append(chunk[:need])
                self._buf, self._pos = chunk, need
                got = n
            else:
                parts.append(chunk)
                got += len(chunk)
        self.position += got
        return b"".join(parts)

    def skip(self, n: int) -> int:
        skipped = 0
        while skipped < n:
            avail = len(self._buf) - self._pos
            if avail == 0:
                if not self._fill():
                    break
                continue
            step = min(avail, n - skipped)
            self._pos += step
            skipped += step
        self.position += skipped
        return skipped


class PositionalStream:
    """A region of a regular file read with `os.pread`: one call per read, and skips are
    arithmetic, so skipped file contents are never read (nor mapped, nor cached for us)."""

    def __init__(self, fd: int, start: int, end: int) -> None:
        self._fd = fd
        self.start = start
        self.position = start
        self.end = end

    def peek(self, n: int) -> bytes:
        return os.pread(self._fd, max(0, min(n, self.end - self.position)), self.position)

    def read(self, n: int) -> bytes:
        out = os.pread(self._fd, max(0, min(n, self.end - self.position)), self.position)
        self.position += len(out)
        return out

    def skip(self, n: int) -> int:
        p = self.position
        e = min(p + n, self.end)
        self.position = e
        return e - p

    @property
    def consumed(self) -> int:
        return self.position - self.start

    def region(self, offset: int, size: int) -> PositionalStream:
        """Another stream over `size` bytes at absolute `offset` of the same file."""
        return PositionalStream(self._fd, offset, min(offset + size, self.end))


class BoundedStream:
    """The next `length` bytes of a parent stream (one tar member's data), with a look at its
    first bytes (`peek`) before deciding how to read it."""

    def __init__(self, parent: ByteStream, length: int) -> None:
        self._parent = parent
        self.remaining = length  # not yet consumed, peeked bytes included
        self.length = length
        self._head = b""

    @property
    def consumed(self) -> int:
        return self.length - self.remaining

    def peek(self, n: int) -> bytes:
        want = min(n, self.remaining) - len(self._head)
        if want > 0:
            self._head += self._parent.read(want)
        return self._head[:n]

    def read(self, n: int) -> bytes:
        n = min(n, self.remaining)
        if n <= 0:
            return b""
        if self._head:
            out = self._head[:n]
            self._head = self._head[n:]
            if len(out) < n:
                out += self._parent.read(n - len(out))
        else:
            out = self._parent.read(n)
        self.remaining -= len(out)
        return out

    def skip(self, n: int) -> int:
        n = min(n, self.remaining)
        if n <= 0:
            return 0
        done = 0
        if self._head:
            done = min(n, len(self._head))
            self._head = self._head[done:]
        if n > done:
            done += self._parent.skip(n - done)
        self.remaining -= done
        return done

    def drain(self) -> int:
        """Skip what is left; returns how many bytes were missing (0 when complete)."""
        self.skip(self.remaining)
        return self.remaining


class PeekStream:
    """A stream whose first bytes can be looked at before deciding how to read it."""

    def __init__(self, parent: ByteStream) -> None:
        self._parent = parent
        self._head = b""

    def peek(self, n: int) -> bytes:
        if len(self._head) < n:
            self._head += self._parent.read(n - len(self._head))
        return self._head[:n]

    def read(self, n: int) -> bytes:
        if self._head:
            out = self._head[:n]
            self._head = self._head[n:]
            if len(out) < n:
                out += self._parent.read(n - len(out))
            return out
        return self._parent.read(n)

    def skip(self, n: int) -> int:
        done = 0
        if self._head:
            done = min(n, len(self._head))
            self._head = self._head[done:]
        return done + self._parent.skip(n - done)


class _ReadAdapter(io.RawIOBase):
    """Present a ByteStream as a file object for gzip / zstandard, counting bytes consumed."""

    def __init__(self, stream: ByteStream) -> None:
        self._stream = stream
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._stream.read(len(b))
        n = len(data)
        b[:n] = data
        self.consumed += n
        return n

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while chunk := self._stream.read(CHUNK):
                parts.append(chunk)
            data = b"".join(parts)
        else:
            data = self._stream.read(n)
        self.consumed += len(data)
        return data


class DecompressStream:
    """gzip (possibly multi-member) or zstd (possibly multi-frame), decompressed on the fly.

    With `hashed`, the decompressed bytes are also hashed (`digest`): a layer's diff_id is the
    sha256 of its uncompressed tar, which catches damage the format itself cannot (zstd frames
    without a content checksum decode damaged data without complaint).
    """

    def __init__(self, parent: ByteStream, kind: str, what: str, *, hashed: bool = False) -> None:
        self._what = what
        self._hash = hashlib.sha256() if hashed else None
        self._adapter = _ReadAdapter(parent)
        self._reader: Any
        if kind == "gzip":
            self._reader = gzip.GzipFile(fileobj=self._adapter, mode="rb")
        elif kind == "zstd":
            import zstandard

            dctx = zstandard.ZstdDecompressor()
            self._reader = dctx.stream_reader(
                cast(BinaryIO, self._adapter), read_size=CHUNK, read_across_frames=True
            )
        else:  # pragma: no cover - callers pass a sniffed kind
            raise ValueError(kind)
        self.kind = kind

    @property
    def compressed_consumed(self) -> int:
        return self._adapter.consumed

    @property
    def digest(self) -> str | None:
        """`sha256:<hex>` of everything decompressed so far (when hashed)."""
        return None if self._hash is None else f"sha256:{self._hash.hexdigest()}"

    def read(self, n: int) -> bytes:
        parts: list[bytes] = []
        got = 0
        try:
            while got < n:
                chunk = self._reader.read(n - got)
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            raise CorruptLayer(
                f"{self._what}: {self.kind} data is corrupt or truncated ({exc})"
            ) from exc
        except Exception as exc:  # zstandard.ZstdError has no stable import path across versions
            raise CorruptLayer(
                f"{self._what}: {self.kind} data is corrupt or truncated ({exc})"
            ) from exc
        out = b"".join(parts) if len(parts) != 1 else parts[0]
        if self._hash is not None:
            self._hash.update(out)
        return out

    def skip(self, n: int) -> int:
        return _skip_by_reading(self, n)


def _skip_by_reading(stream: ByteStream, n: int) -> int:
    skipped = 0
    while skipped < n:
        chunk = stream.read(min(CHUNK, n - skipped))
        if not chunk:
            break
        skipped += len(chunk)
    return skipped
