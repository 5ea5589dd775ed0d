"""Blob stores: the members of a `docker save` archive or an OCI layout, by path.

Three ways in, one interface:
- `DirStore`: an OCI layout directory; blobs are files, opened and read on demand.
- `SeekableTarStore`: a plain tar file; one pass over the headers (seeking past data) indexes
  the members, then only the chosen image's layers are read, each by seeking to it.
- `StreamTarStore`: a stream that can only be read once (the engine's export, a gzipped
  archive, a pipe); outer entries are name-sorted, so layer blobs come before `manifest.json`
  and `index.json`: every blob that sniffs as a layer is summarised as it passes, keyed by its
  path, and ordered afterwards.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from pyimgsize.errors import CorruptLayer, FormatError, MissingBlob, PyImgSizeError
from pyimgsize.layers.content import ContentSelector
from pyimgsize.layers.reader import LayerData, read_layer
from pyimgsize.layers.sniff import sniff
from pyimgsize.layers.stream import ByteStream, FileStream, IterStream, PositionalStream
from pyimgsize.layers.tar import HARDLINK, REGULAR, SYMLINK, iter_tar
from pyimgsize.paths import normalize
from pyimgsize.sources.base import ProgressCallback

JSON_LIMIT = 16 << 20


class BlobStore(Protocol):
    """A source's members by path. Layers are summarised keeping the contents of the files the
    store was asked for (its `ContentSelector`) and nothing else."""

    what: str

    def has(self, path: str) -> bool: ...

    def json(self, path: str) -> Any | None:
        """The parsed JSON member at `path`; None when absent. FormatError when not JSON."""
        ...

    def raw(self, path: str) -> bytes | None: ...

    def layer(self, path: str, what: str, progress: ProgressCallback | None) -> LayerData: ...

    def size(self, path: str) -> int | None: ...


def _parse_json(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"{where} is not valid JSON ({exc})") from exc


def _looks_json(head: bytes) -> bool:
    return head.lstrip()[:1] in (b"{", b"[")


def _progress_adapter(progress: ProgressCallback | None, label: str, base: int = 0) -> Any:
    if progress is None:
        return None
    return lambda n: progress(label, base + n)


class DirStore:
    """An OCI image layout directory."""

    def __init__(self, root: Path, wants: ContentSelector) -> None:
        self.root = root
        self.what = str(root)
        self._wants = wants

    def _path(self, path: str) -> Path:
        norm, _ = normalize(path)
        return self.root / norm

    def has(self, path: str) -> bool:
        return self._path(path).is_file()

    def size(self, path: str) -> int | None:
        try:
            return self._path(path).stat().st_size
        except OSError:
            return None

    def raw(self, path: str) -> bytes | None:
        p = self._path(path)
        try:
            if p.stat().st_size > JSON_LIMIT:
                raise FormatError(f"{self.what}: {path} is too large for a JSON document")
            return p.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FormatError(f"{self.what}: cannot read {path}: {exc.strerror}") from exc

    def json(self, path: str) -> Any | None:
        raw = self.raw(path)
        return None if raw is None else _parse_json(raw, f"{self.what}: {path}")

    def layer(self, path: str, what: str, progress: ProgressCallback | None) -> LayerData:
        p = self._path(path)
        try:
            fh = p.open("rb")
        except FileNotFoundError:
            raise MissingBlob(f"{self.what}: blob {path} is missing ({what})") from None
        with fh:
            return self._read(fh.fileno(), os.fstat(fh.fileno()).st_size, what, progress)

    def _read(self, fd: int, size: int, what: str, progress: ProgressCallback | None) -> LayerData:
        """The layer blob open as `fd`, `size` bytes long, summarised."""
        return read_layer(
            PositionalStream(fd, 0, size),
            what,
            wants=self._wants,
            blob_size=size,
            progress=_progress_adapter(progress, what),
        )


@dataclass
class _Member:
    offset: int
    size: int
    type: str
    linkname: str
    data: bytes | None = None


class SeekableTarStore:
    """A plain (uncompressed) tar file on disk: index the headers, then read only what is
    needed, by position. File contents are skipped by offset arithmetic, never read."""

    def __init__(self, fh: BinaryIO, what: str, wants: ContentSelector) -> None:
        self.what = what
        self._wants = wants
        self._fh = fh  # the caller closes it after load()
        self._stream = PositionalStream(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
        self._members: dict[str, _Member] = {}
        for m in iter_tar(self._stream, what):
            path, _ = normalize(m.name)
            member = _Member(self._stream.position, m.stored, m.type, m.linkname)
            if m.type == REGULAR and m.stored <= JSON_LIMIT:
                head = m.data.read(min(m.stored, 64))
                if _looks_json(head):
                    member.data = head + m.data.read(m.stored - len(head))
            self._members[path] = member

    def _resolve(self, path: str) -> _Member | None:
        norm, _ = normalize(path)
        for _ in range(8):
            m = self._members.get(norm)
            if m is None or m.type not in (SYMLINK, HARDLINK):
                return m
            # docker save (legacy) writes a repeated layer as a relative symlink
            base = norm.rpartition("/")[0] if m.type == SYMLINK else ""
            norm, _ = normalize(f"{base}/{m.linkname}" if base else m.linkname)
        return None

    def has(self, path: str) -> bool:
        return self._resolve(path) is not None

    def size(self, path: str) -> int | None:
        m = self._resolve(path)
        return None if m is None else m.size

    def raw(self, path: str) -> bytes | None:
        m = self._resolve(path)
        if m is None:
            return None
        if m.data is None:
            if m.size > JSON_LIMIT:
                raise FormatError(f"{self.what}: {path} is too large for a JSON document")
            m.data = self._stream.region(m.offset, m.size).read(m.size)
        return m.data

    def json(self, path: str) -> Any | None:
        raw = self.raw(path)
        return None if raw is None else _parse_json(raw, f"{self.what}: {path}")

    def layer(self, path: str, what: str, progress: ProgressCallback | None) -> LayerData:
        m = self._resolve(path)
        if m is None:
            raise MissingBlob(f"{self.what}: blob {path} is missing ({what})")
        return read_layer(
            self._stream.region(m.offset, m.size),
            what,
            wants=self._wants,
            blob_size=m.size,
            progress=_progress_adapter(progress, what),
        )


class StreamTarStore:
    """An archive read once, front to back; every layer-like blob is summarised on the way."""

    def __init__(
        self,
        stream: ByteStream,
        what: str,
        wants: ContentSelector,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.what = what
        self._members: dict[str, _Member] = {}
        self._layers: dict[str, LayerData | PyImgSizeError] = {}
        # a stream that knows its position is read directly; others through a counter
        position: IterStream | FileStream | _Position = (
            stream if isinstance(stream, IterStream | FileStream) else _Position(stream)
        )
        for m in iter_tar(position, what):
            path, _ = normalize(m.name)
            member = _Member(0, m.stored, m.type, m.linkname)
            self._members[path] = member
            if m.type != REGULAR or m.stored == 0:
                continue
            head = m.data.peek(512)
            if _looks_json(head) and m.stored <= JSON_LIMIT:
                member.data = m.data.read(m.stored)
                continue
            if sniff(head) == "unknown":
                continue
            label = f"blob {path}"
            base = position.position
            try:
                self._layers[path] = read_layer(
                    m.data,
                    label,
                    wants=wants,
                    blob_size=m.stored,
                    progress=_progress_adapter(progress, "reading", base),
                )
            except CorruptLayer as exc:
                # Only fatal if this blob turns out to be a layer of the chosen image.
                self._layers[path] = exc
                m.data.drain()
            if progress is not None:
                progress("reading", position.position)

    def _resolve_path(self, path: str) -> str | None:
        norm, _ = normalize(path)
        for _ in range(8):
            m = self._members.get(norm)
            if m is None:
                return None
            if m.type not in (SYMLINK, HARDLINK):
                return norm
            base = norm.rpartition("/")[0] if m.type == SYMLINK else ""
            norm, _ = normalize(f"{base}/{m.linkname}" if base else m.linkname)
        return None

    def has(self, path: str) -> bool:
        return self._resolve_path(path) is not None

    def size(self, path: str) -> int | None:
        p = self._resolve_path(path)
        return None if p is None else self._members[p].size

    def raw(self, path: str) -> bytes | None:
        p = self._resolve_path(path)
        return None if p is None else self._members[p].data

    def json(self, path: str) -> Any | None:
        raw = self.raw(path)
        return None if raw is None else _parse_json(raw, f"{self.what}: {path}")

    def layer(self, path: str, what: str, progress: ProgressCallback | None) -> LayerData:
        p = self._resolve_path(path)
        if p is None:
            raise MissingBlob(f"{self.what}: blob {path} is missing ({what})")
        got = self._layers.get(p)
        if got is None:
            raise FormatError(f"{self.what}: {path} is not a tar, gzip or zstd layer ({what})")
        if isinstance(got, PyImgSizeError):
            raise CorruptLayer(f"{what}: {str(got).removeprefix(f'blob {p}: ')}") from got
        return got


class _Position:
    """Counts bytes consumed from an outer stream that does not, for progress."""

    def __init__(self, inner: ByteStream) -> None:
        self._inner = inner
        self.position = 0

    def read(self, n: int) -> bytes:
        out = self._inner.read(n)
        self.position += len(out)
        return out

    def skip(self, n: int) -> int:
        done = self._inner.skip(n)
        self.position += done
        return done
