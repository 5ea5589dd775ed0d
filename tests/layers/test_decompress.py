"""DecompressStream: gzip and zstd inflated a few blocks ahead in a helper thread; every
byte read exactly as the compressed stream holds it, every failure one CorruptLayer, and the
helper gone once the stream ends, fails or is dropped."""

from __future__ import annotations

import functools
import gc
import gzip
import hashlib
import io
import random
import threading
import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import zstandard

from pyimgsize.errors import CorruptLayer, SourceError
from pyimgsize.layers import stream as stream_module
from pyimgsize.layers.stream import INFLATE_BLOCK, DecompressStream, FileStream

WHAT = "layer 2 (sha256:0123456789ab)"


@functools.cache
def _payload(size: int, seed: int = 7) -> bytes:
    """Compressible but not trivial: a few MiB inflate in several blocks."""
    rng = random.Random(seed)
    words = [bytes(rng.getrandbits(8) for _ in range(rng.randint(3, 12))) for _ in range(300)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words)
    return bytes(out[:size])


@pytest.fixture(params=["zlib-ng", "zlib"])
def inflater(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both inflaters: zlib-ng (installed with pyimgsize) and the standard library's."""
    if request.param == "zlib":
        monkeypatch.setattr(stream_module, "_inflater", lambda: zlib)
    else:
        assert stream_module._inflater().__name__ == "zlib_ng.zlib_ng"
    return str(request.param)


def _open(blob: bytes, kind: str = "gzip", *, hashed: bool = True) -> DecompressStream:
    return DecompressStream(FileStream(io.BytesIO(blob)), kind, WHAT, hashed=hashed)


def _read_all(s: DecompressStream) -> bytes:
    parts = []
    while chunk := s.read(100_000):
        parts.append(chunk)
    return b"".join(parts)


def _inflate_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "pyimgsize-inflate")


def _wait_for_threads(count: int) -> int:
    for _ in range(500):
        if _inflate_threads() <= count:
            break
        time.sleep(0.01)
    return _inflate_threads()


def test_multi_member_gzip_with_zero_padding(inflater: str) -> None:
    raw = _payload(3 * INFLATE_BLOCK + 12_345)
    cut = len(raw) // 3
    blob = gzip.compress(raw[:cut], mtime=0) + gzip.compress(raw[cut:], mtime=0) + bytes(1000)
    s = _open(blob)
    assert _read_all(s) == raw
    assert s.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert s.compressed_consumed == len(blob)
    assert s.read(10) == b""  # and stays at the end


def test_reads_and_skips_across_blocks(inflater: str) -> None:
    raw = _payload(4 * INFLATE_BLOCK)
    s = _open(gzip.compress(raw, mtime=0))
    pos = 0
    rng = random.Random(3)
    while pos < len(raw):
        n = rng.choice([1, 511, 512, 4096, INFLATE_BLOCK - 7, INFLATE_BLOCK + 9])
        if rng.random() < 0.5:
            got = s.read(n)
            assert got == raw[pos : pos + n]
            pos += len(got)
        else:
            done = s.skip(n)
            assert done == min(n, len(raw) - pos)
            pos += done
    assert s.read(1) == b""
    assert s.skip(5) == 0
    assert s.digest == "sha256:" + hashlib.sha256(raw).hexdigest()  # skipped bytes too


def test_a_gzip_bomb_is_inflated_a_block_at_a_time(inflater: str) -> None:
    blob = gzip.compress(bytes(64 * INFLATE_BLOCK), compresslevel=9, mtime=0)
    s = _open(blob)
    assert s.skip(64 * INFLATE_BLOCK) == 64 * INFLATE_BLOCK
    assert s.read(1) == b""
    assert s.digest == "sha256:" + hashlib.sha256(bytes(64 * INFLATE_BLOCK)).hexdigest()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b[:-1], id="trailer-cut"),
        pytest.param(lambda b: b[:-6] + bytes([b[-6] ^ 0xFF]) + b[-5:], id="crc"),
        pytest.param(lambda b: b[:-2] + bytes([b[-2] ^ 0xFF]) + b[-1:], id="length"),
        pytest.param(lambda b: b + b"garbage", id="trailing-garbage"),
        pytest.param(lambda b: b + b"\x1f", id="trailing-half-header"),
    ],
)
def test_damaged_gzip_is_one_corrupt_layer_error(inflater: str, damage: Any) -> None:
    blob = damage(gzip.compress(_payload(2 * INFLATE_BLOCK), mtime=0))
    s = _open(blob)
    with pytest.raises(CorruptLayer, match=r"^layer 2 \(sha256:0123456789ab\): gzip data is"):
        _read_all(s)
    with pytest.raises(CorruptLayer):  # and again: never an end that looks complete
        s.read(1)
    with pytest.raises(RuntimeError):
        assert s.digest is None  # no digest of an incomplete stream


def test_zstd_frames_are_read_across() -> None:
    raw = _payload(2 * INFLATE_BLOCK + 99)
    cctx = zstandard.ZstdCompressor(write_checksum=True)
    blob = cctx.compress(raw[:1000]) + cctx.compress(raw[1000:])
    s = _open(blob, "zstd")
    assert _read_all(s) == raw
    assert s.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert s.compressed_consumed == len(blob)


def test_unhashed_stream_has_no_digest() -> None:
    s = _open(gzip.compress(b"abc", mtime=0), hashed=False)
    assert _read_all(s) == b"abc"
    assert s.digest is None


def test_digest_is_refused_before_the_end() -> None:
    s = _open(gzip.compress(_payload(3 * INFLATE_BLOCK), mtime=0))
    s.read(10)
    with pytest.raises(RuntimeError, match="before the end"):
        assert s.digest is not None


class _Breaking:
    """A transport that delivers `good` bytes, then fails as a cut connection does."""

    def __init__(self, data: bytes, good: int) -> None:
        self._data = data
        self._good = good
        self._pos = 0

    def read(self, n: int) -> bytes:
        if self._pos >= self._good:
            raise SourceError("blob x: the connection broke off")
        out = self._data[self._pos : min(self._pos + n, self._good)]
        self._pos += len(out)
        return out

    def skip(self, n: int) -> int:
        return len(self.read(n))


def test_input_failure_is_raised_in_the_reader() -> None:
    blob = gzip.compress(_payload(3 * INFLATE_BLOCK), mtime=0)
    s = DecompressStream(_Breaking(blob, len(blob) // 2), "gzip", WHAT, hashed=True)
    with pytest.raises(CorruptLayer, match=r"gzip data is corrupt or truncated .*broke off") as e:
        _read_all(s)
    assert isinstance(e.value.__cause__, SourceError)


def _endless_gzip() -> Iterator[bytes]:
    member = gzip.compress(_payload(INFLATE_BLOCK), mtime=0)
    while True:
        yield member


class _Endless:
    def __init__(self) -> None:
        self._members = _endless_gzip()
        self.reads = 0

    def read(self, n: int) -> bytes:
        self.reads += 1
        return next(self._members)

    def skip(self, n: int) -> int:  # pragma: no cover - DecompressStream only reads
        raise AssertionError


def test_a_dropped_stream_stops_its_thread() -> None:
    before = _wait_for_threads(0)
    source = _Endless()
    s = DecompressStream(source, "gzip", WHAT, hashed=True)
    assert len(s.read(5000)) == 5000
    assert _inflate_threads() == before + 1
    del s
    gc.collect()
    assert _wait_for_threads(before) == before
    reads = source.reads
    time.sleep(0.05)
    assert source.reads == reads  # nothing inflated ahead any more


def test_a_finished_stream_leaves_no_thread() -> None:
    before = _wait_for_threads(0)
    s = _open(gzip.compress(_payload(2 * INFLATE_BLOCK), mtime=0))
    _read_all(s)
    assert _wait_for_threads(before) == before
