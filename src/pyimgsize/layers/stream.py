"""Byte streams: one small interface (read / skip) over files, HTTP chunk iterators and
decompressors, so that every source feeds the same tar reader.

`skip` seeks where the underlying file is seekable and reads-and-discards otherwise; a layer's
file contents are never held in memory.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import queue
import threading
import weakref
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
        return skip_by_reading(self, n)


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
    """A region of a regular file read with `os.pread`; skips are arithmetic, so skipped file
    contents are never read (nor mapped, nor cached for us).

    Small reads (tar headers) are served from a read-ahead window: one `pread` brings the
    headers of many small members at once. After a long skip (a large member's data) the
    window shrinks to what was asked for, so large files do not cost a read-ahead each."""

    READ_AHEAD = 64 << 10
    _NEAR = 32 << 10  # a skip longer than this leaves the window: read only what is asked

    __slots__ = ("_buf", "_buf_at", "_fd", "_near", "end", "position", "start")

    def __init__(self, fd: int, start: int, end: int) -> None:
        self._fd = fd
        self.start = start
        self.position = start
        self.end = end
        self._buf = b""
        self._buf_at = start  # file offset of _buf[0]
        self._near = True  # the last skip stayed close: read ahead on the next miss

    def peek(self, n: int) -> bytes:
        return os.pread(self._fd, max(0, min(n, self.end - self.position)), self.position)

    def read(self, n: int) -> bytes:
        pos = self.position
        off = pos - self._buf_at
        buf = self._buf
        if off >= 0 and off + n <= len(buf):
            self.position = pos + n
            return buf[off : off + n]
        want = max(0, min(n, self.end - pos))
        if want < self.READ_AHEAD and self._near:
            buf = os.pread(self._fd, min(self.READ_AHEAD, self.end - pos), pos)
            self._buf, self._buf_at = buf, pos
            out = buf[:want]
        else:
            out = os.pread(self._fd, want, pos)
        self._near = True
        self.position = pos + len(out)
        return out

    def skip(self, n: int) -> int:
        p = self.position
        e = min(p + n, self.end)
        self.position = e
        if e - p > self._NEAR:
            self._near = False
        return e - p

    @property
    def consumed(self) -> int:
        return self.position - self.start

    @property
    def fd(self) -> int:
        return self._fd

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
    """Present a ByteStream as a file object for zstandard, counting bytes consumed."""

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


INFLATE_BLOCK = 1 << 20
"""Decompressed bytes produced per call into zlib / zstd (and hashed at once): large, so
that each call does milliseconds of work with the GIL released, not microseconds."""
_AHEAD = 4  # blocks decompressed ahead of the reader (bounds memory: ~_AHEAD * INFLATE_BLOCK)
_END = object()  # the producer's last queue item after a complete stream


@functools.cache
def _inflater() -> Any:
    """The zlib-compatible module that inflates gzip: zlib-ng's (a dependency: the same
    format and checks, about 30% less CPU per byte than zlib here), or the standard
    library's where zlib-ng is not installed."""
    try:
        from zlib_ng import zlib_ng
    except ImportError:  # pragma: no cover - installed with pyimgsize
        return zlib
    return zlib_ng


def _gzip_blocks(source: _ReadAdapter) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream, in blocks of at most INFLATE_BLOCK.

    Several members follow each other as one stream (RFC 1952 2.2, as `gzip` reads them);
    zero bytes after a member are padding, as Python's `gzip` allows. zlib checks each
    member's CRC-32 and length trailer (wbits 31: gzip wrapper)."""
    inflater = _inflater()
    d = inflater.decompressobj(31)
    pending = b""
    while True:
        if d.eof:
            rest = d.unused_data.lstrip(b"\0")
            while not rest:
                more = source.read(CHUNK)
                if not more:
                    return
                rest = more.lstrip(b"\0")
            d = inflater.decompressobj(31)  # the next member (a wrong header fails in zlib)
            pending = rest
        if not pending:
            pending = source.read(CHUNK)
            if not pending:
                # all input consumed: what zlib still holds, then the member must be complete
                tail = d.flush()
                if tail:
                    yield tail
                if not d.eof:
                    raise EOFError("the stream ended before the end of the gzip member")
                continue
        out = d.decompress(pending, INFLATE_BLOCK)
        pending = d.unconsumed_tail
        if out:
            yield out


def _zstd_blocks(source: _ReadAdapter) -> Iterator[bytes]:
    """The decompressed bytes of a zstd stream (all its frames), in blocks."""
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(
        cast(BinaryIO, source), read_size=CHUNK, read_across_frames=True
    )
    while block := reader.read(INFLATE_BLOCK):
        yield block


class _Pipe:
    """The queue between a decompressing thread and the reader. `close` (the reader went
    away) stops the producer: it drains the queue so that a blocked `put` returns, and the
    producer checks `stop` after every put."""

    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue(maxsize=_AHEAD)
        self.stop = threading.Event()

    def put(self, item: object) -> bool:
        self.queue.put(item)
        return not self.stop.is_set()

    def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self.queue.get_nowait()


def _produce(blocks: Iterator[bytes], pipe: _Pipe) -> None:
    try:
        for block in blocks:
            if not pipe.put(block):
                return
        pipe.put(_END)
    except BaseException as exc:  # handed to the reader, raised there
        pipe.put(exc)


class DecompressStream:
    """gzip (possibly multi-member) or zstd (possibly multi-frame), decompressed on the fly.

    A helper thread reads the compressed input and decompresses it in INFLATE_BLOCK pieces,
    a few blocks ahead of the reader: reads, zlib and zstd release the GIL for large
    buffers, so on a machine with two cores that work overlaps the (pure Python) tar parsing
    above instead of alternating with it. The reader's `read` / `skip` are slicing and
    arithmetic on the current block. The input stream is read only by that thread once this
    object exists; the thread stops when the stream ends, fails (the failure is raised in
    the reader, as one CorruptLayer), or this object is dropped.

    With `hashed`, the decompressed bytes are also hashed as the reader takes each block
    (hashlib releases the GIL too; this balances the two threads' work): `digest`, once the
    stream has been read to its end. A layer's diff_id is the sha256 of its uncompressed
    tar, which catches damage the format itself cannot (zstd frames without a content
    checksum decode damaged data without complaint).
    """

    def __init__(self, parent: ByteStream, kind: str, what: str, *, hashed: bool = False) -> None:
        self._what = what
        self._hash = hashlib.sha256() if hashed else None
        self._adapter = _ReadAdapter(parent)
        if kind == "gzip":
            blocks = _gzip_blocks(self._adapter)
        elif kind == "zstd":
            blocks = _zstd_blocks(self._adapter)
        else:  # pragma: no cover - callers pass a sniffed kind
            raise ValueError(kind)
        self.kind = kind
        self._buf = b""
        self._pos = 0
        self._ended = False
        self._failure: CorruptLayer | None = None
        self._pipe = _Pipe()
        threading.Thread(
            target=_produce,
            args=(blocks, self._pipe),
            name="pyimgsize-inflate",
            daemon=True,
        ).start()
        weakref.finalize(self, self._pipe.close)

    @property
    def compressed_consumed(self) -> int:
        """Compressed bytes read (all of them once the stream has been read to its end)."""
        return self._adapter.consumed

    @property
    def digest(self) -> str | None:
        """`sha256:<hex>` of all the decompressed bytes (when hashed): only once the stream
        has been read to its end, when every byte has passed through the hash."""
        if self._hash is None:
            return None
        if not self._ended:
            raise RuntimeError(f"{self._what}: digest asked before the end of the stream")
        return f"sha256:{self._hash.hexdigest()}"

    def close(self) -> None:
        """Stop decompressing ahead (also done when this object is dropped)."""
        self._pipe.close()

    def _next(self) -> bool:
        """The next block into the buffer; False at the end of the stream."""
        if self._failure is not None:
            raise self._failure
        if self._ended:
            return False
        item = self._pipe.queue.get()
        if item is _END:
            self._ended = True
            self._buf, self._pos = b"", 0
            return False
        if isinstance(item, BaseException):
            self._pipe.close()
            if isinstance(item, CorruptLayer):
                self._failure = item
            elif isinstance(item, Exception):
                # zlib.error, EOFError, OSError, zstandard.ZstdError (no stable import path
                # across versions), or the input stream's own failure
                self._failure = CorruptLayer(
                    f"{self._what}: {self.kind} data is corrupt or truncated ({item})"
                )
                self._failure.__cause__ = item
            else:
                raise item
            raise self._failure
        assert isinstance(item, bytes)
        if self._hash is not None:
            self._hash.update(item)  # a large block: hashlib releases the GIL meanwhile
        self._buf, self._pos = item, 0
        return True

    def read(self, n: int) -> bytes:
        pos = self._pos
        end = pos + n
        if end <= len(self._buf):
            self._pos = end
            return self._buf[pos:end]
        parts: list[bytes] = []
        while n > 0:
            avail = len(self._buf) - self._pos
            if avail <= 0:
                if not self._next():
                    break
                continue
            step = min(avail, n)
            parts.append(self._buf[self._pos : self._pos + step])
            self._pos += step
            n -= step
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def skip(self, n: int) -> int:
        done = 0
        while done < n:
            avail = len(self._buf) - self._pos
            if avail <= 0:
                if not self._next():
                    break
                continue
            step = min(avail, n - done)
            self._pos += step
            done += step
        return done


def skip_by_reading(stream: ByteStream, n: int) -> int:
    """Skip `n` bytes of a stream that cannot seek, reading them in CHUNK pieces; the bytes
    skipped (fewer at the end of the stream)."""
    skipped = 0
    while skipped < n:
        chunk = stream.read(min(CHUNK, n - skipped))
        if not chunk:
            break
        skipped += len(chunk)
    return skipped
