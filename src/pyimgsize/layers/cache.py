"""A per-layer result cache: a layer read once is not parsed (nor, from a registry, downloaded)
again.

What is kept is exactly what `read_layer` returns for one blob (`LayerData`: every entry's
path, kind, stored size and link, the contents of the metadata files the reader was asked to
keep, the tar size, the compression and the layer's problems), so a cached layer gives the
numbers a fresh read gives. An entry's key names everything that result depends on:

- the cache format (`FORMAT`) and the pyimgsize version (a new release re-reads every layer);
- the layer's `diff_id` and the blob it was read from: its digest where the store names blobs
  by content (`blobs/sha256/<hex>`), and its size;
- the set of metadata files whose contents were kept (`wants`, a fingerprint string).

Storage: one file per entry under `<dir>/v<FORMAT>/<2 hex>/<sha256 of the key>`, written to a
temporary file in the same directory and renamed into place, so concurrent runs never see half
an entry. A file starts with a magic line, the format, its full key and the sha256 of its
payload: a damaged, truncated or foreign file is never trusted (it reads as a miss and is
rewritten by the next fresh read). Entries are evicted least recently used first (a hit
refreshes the file's mtime) once the directory exceeds its size cap.

The directory is `$XDG_CACHE_HOME/pyimgsize` (default `~/.cache/pyimgsize`); `PYIMGSIZE_CACHE_DIR`
overrides it and `PYIMGSIZE_CACHE_MAX_MB` sets the cap (default 2048).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import struct
import tempfile
import time
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

from pyimgsize import __version__
from pyimgsize.findings import Finding
from pyimgsize.layers.content import ContentSelector
from pyimgsize.layers.reader import Entries, Kind, LayerData

FORMAT = 3  # 2: the columns of `reader.Entries` (directories stored once); 3: names too
MAGIC = b"pyimgsize layer cache\n"
DEFAULT_MAX_BYTES = 2048 << 20
_HEADER = struct.Struct("<II")  # format, key length
_PAYLOAD = struct.Struct("<Q32s")  # payload length, sha256 of the payload
_COUNTS = struct.Struct("<QIIIII")  # tar bytes, entries, directories, names, links, captured
_TMP_PREFIX = ".tmp-"
_STALE_TMP_SECONDS = 3600
_BLOB_DIGEST = re.compile(r"(?:^|/)blobs/(sha256|sha512)/([0-9a-f]{64,128})$")
_KIND_BY_VALUE = {int(k): k for k in Kind}
_LINKED = (int(Kind.SYMLINK), int(Kind.HARDLINK))
_COMPRESSIONS = ("tar", "gzip", "zstd")


def default_dir() -> Path:
    override = os.environ.get("PYIMGSIZE_CACHE_DIR")
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "pyimgsize"


def default_max_bytes() -> int:
    raw = os.environ.get("PYIMGSIZE_CACHE_MAX_MB")
    if raw:
        try:
            return max(0, int(raw)) << 20
        except ValueError:
            pass
    return DEFAULT_MAX_BYTES


def wants_fingerprint(wants: ContentSelector) -> str:
    """The part of a cache key that says which metadata files' contents a summary kept."""
    return ";".join(f"{f.name}@{f.within or ''}" for f in wants.files)


def blob_digest(path: str) -> str | None:
    """The digest a store's blob path names (`blobs/sha256/<hex>`), when it names one."""
    m = _BLOB_DIGEST.search(path)
    return f"{m.group(1)}:{m.group(2)}" if m else None


@dataclass(frozen=True)
class LayerKey:
    """Everything a layer's summary depends on (see the module docstring)."""

    diff_id: str
    blob_digest: str | None
    blob_size: int | None
    wants: str

    def text(self) -> str:
        return "\n".join(
            [
                f"format {FORMAT}",
                f"pyimgsize {__version__}",
                f"diff_id {self.diff_id}",
                f"blob {self.blob_digest or '-'} {self.blob_size}",
                f"wants {self.wants}",
            ]
        )


@dataclass(frozen=True)
class CacheInfo:
    """What `pyimgsize cache info` shows."""

    directory: str
    format: int
    entries: int
    bytes: int
    max_bytes: int
    other_formats: int  # entries of other cache formats (kept until `cache clear`)


class LayerCache:
    """Get and put `LayerData` by `LayerKey`. Every failure to read is a miss; every failure to
    write is ignored (a cache must never fail a run)."""

    def __init__(self, directory: Path | None = None, max_bytes: int | None = None) -> None:
        self.directory = directory if directory is not None else default_dir()
        self.max_bytes = max_bytes if max_bytes is not None else default_max_bytes()
        self._root = self.directory / f"v{FORMAT}"
        self.hits = 0
        self.misses = 0

    def _path(self, key: LayerKey) -> tuple[Path, bytes]:
        text = key.text().encode("utf-8", "surrogateescape")
        name = hashlib.sha256(text).hexdigest()
        return self._root / name[:2] / name, text

    # --- reading ---------------------------------------------------------------------------

    def get(self, key: LayerKey) -> LayerData | None:
        path, text = self._path(key)
        try:
            raw = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        data = _decode(raw, text)
        if data is None:
            self.misses += 1
            return None
        self.hits += 1
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used goes first
        return data

    # --- writing ---------------------------------------------------------------------------

    def put(self, key: LayerKey, data: LayerData) -> None:
        if self.max_bytes <= 0:
            return
        path, text = self._path(key)
        blob = _encode(data, text)
        if blob is None or len(blob) > self.max_bytes:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
            try:
                try:
                    view = memoryview(blob)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
                os.replace(tmp, path)
            except BaseException:
                _unlink(Path(tmp))
                raise
        except OSError:
            return
        self._evict()

    def _files(self) -> list[tuple[float, int, Path]]:
        out: list[tuple[float, int, Path]] = []
        now = time.time()
        try:
            subdirs = list(self._root.iterdir())
        except OSError:
            return out
        for sub in subdirs:
            try:
                names = list(os.scandir(sub))
            except OSError:
                continue
            for e in names:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if e.name.startswith(_TMP_PREFIX):
                    # a writer that died mid-write; a live one renames within seconds
                    if now - st.st_mtime > _STALE_TMP_SECONDS:
                        _unlink(Path(e.path))
                    continue
                out.append((st.st_mtime, st.st_size, Path(e.path)))
        return out

    def _evict(self) -> None:
        files = self._files()
        total = sum(size for _, size, _ in files)
        if total <= self.max_bytes:
            return
        for _, size, path in sorted(files, key=lambda f: f[0]):
            _unlink(path)
            total -= size
            if total <= self.max_bytes:
                break

    # --- cache info / clear ----------------------------------------------------------------

    def info(self) -> CacheInfo:
        files = self._files()
        other = 0
        try:
            for d in self.directory.iterdir():
                if d.is_dir() and d.name.startswith("v") and d != self._root:
                    other += sum(len(files_) for _, _, files_ in os.walk(d))
        except OSError:
            pass
        return CacheInfo(
            directory=str(self.directory),
            format=FORMAT,
            entries=len(files),
            bytes=sum(size for _, size, _ in files),
            max_bytes=self.max_bytes,
            other_formats=other,
        )

    def clear(self) -> int:
        """Remove every entry of every format; returns how many files were removed."""
        removed = 0
        try:
            tops = [d for d in self.directory.iterdir() if d.name.startswith("v") and d.is_dir()]
        except OSError:
            return 0
        for top in tops:
            for parent, dirs, names in os.walk(top, topdown=False):
                for name in names:
                    if _unlink(Path(parent) / name):
                        removed += 1
                for d in dirs:
                    with contextlib.suppress(OSError):
                        (Path(parent) / d).rmdir()
            with contextlib.suppress(OSError):
                top.rmdir()
        return removed


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:
        return False


# --- the file format ---------------------------------------------------------------------------
#
# MAGIC | format u32, key length u32 | key | payload length u64, sha256(payload) | payload
# payload = zlib(counts: tar bytes u64, entries u32, directories u32, distinct names u32,
#                links u32, captured u32 | kinds (1 byte each) | sizes (i64 each) | parents (u32
#                each) | name ids (u32 each) | linked entry indexes (u32 each) | captured entry
#                indexes (u32 each) | captured lengths (i64 each) | meta JSON length u32 | meta
#                JSON | directories NUL-joined (length u64) | distinct names NUL-joined (length
#                u64) | links NUL-joined | captured contents)
# meta JSON: compression, compressed bytes, diff digest, problems.
# (the columns of `reader.Entries`, as they are, but each distinct name stored once: decoding
# then makes one string per distinct name, as the reader does, not one per entry)


def _joined(items: list[str]) -> bytes | None:
    """NUL-joined, or None when an item holds a NUL itself (possible in a pax record)."""
    text = "\0".join(items)
    if text.count("\0") != max(0, len(items) - 1):
        return None
    return text.encode("utf-8", "surrogateescape")


def _encode(data: LayerData, key: bytes) -> bytes | None:
    entries = data.entries
    n = len(entries)
    linked = array("I", (i for i, k in enumerate(entries.kinds) if k in _LINKED))
    if len(linked) != len(entries.links) or any(i not in entries.links for i in linked):
        return None  # not a shape the reader makes: do not cache what cannot round-trip
    links = [entries.links[i] for i in linked]
    captured_at = array("I", sorted(entries.data))
    captured = [entries.data[i] for i in captured_at]
    captured_len = array("q", (len(c) for c in captured))
    dirs_raw = _joined(entries.dirs)
    name_ids: dict[str, int] = {}
    names = array("I", [name_ids.setdefault(name, len(name_ids)) for name in entries.names])
    names_raw = _joined(list(name_ids))
    links_raw = _joined(links)
    if dirs_raw is None or names_raw is None or links_raw is None:
        return None
    meta = json.dumps(
        {
            "compression": data.compression,
            "compressed_bytes": data.compressed_bytes,
            "diff_digest": data.diff_digest,
            "problems": [
                [f.code, f.kind, f.path, f.layer, None if f.facts is None else dict(f.facts)]
                for f in data.problems
            ],
        }
    ).encode("utf-8", "surrogateescape")
    payload = b"".join(
        [
            _COUNTS.pack(
                data.tar_bytes, n, len(entries.dirs), len(name_ids), len(links), len(captured)
            ),
            bytes(entries.kinds),
            entries.sizes.tobytes(),
            entries.parents.tobytes(),
            names.tobytes(),
            linked.tobytes(),
            captured_at.tobytes(),
            captured_len.tobytes(),
            struct.pack("<I", len(meta)),
            meta,
            struct.pack("<Q", len(dirs_raw)),
            dirs_raw,
            struct.pack("<Q", len(names_raw)),
            names_raw,
            links_raw,
            *captured,
        ]
    )
    packed = zlib.compress(payload, 1)
    return b"".join(
        [
            MAGIC,
            _HEADER.pack(FORMAT, len(key)),
            key,
            _PAYLOAD.pack(len(packed), hashlib.sha256(packed).digest()),
            packed,
        ]
    )


class _Bad(Exception):
    pass


def _decode(raw: bytes, key: bytes) -> LayerData | None:
    """The entry in `raw` when it is whole, of this format and for `key`; else None."""
    try:
        return _decode_checked(raw, key)
    except (_Bad, ValueError, struct.error, zlib.error, UnicodeError, KeyError, TypeError):
        return None


def _decode_checked(raw: bytes, key: bytes) -> LayerData:
    mv = memoryview(raw)
    pos = len(MAGIC)
    if raw[:pos] != MAGIC:
        raise _Bad
    fmt, key_len = _HEADER.unpack_from(mv, pos)
    pos += _HEADER.size
    if fmt != FORMAT or raw[pos : pos + key_len] != key:
        raise _Bad  # another format, or a file that belongs to another key
    pos += key_len
    length, digest = _PAYLOAD.unpack_from(mv, pos)
    pos += _PAYLOAD.size
    packed = raw[pos:]
    if len(packed) != length or hashlib.sha256(packed).digest() != digest:
        raise _Bad  # truncated or damaged
    payload = zlib.decompress(packed)
    p = memoryview(payload)
    tar_bytes, n, n_dirs, n_names, n_links, n_captured = _COUNTS.unpack_from(p, 0)
    at = _COUNTS.size

    def take(size: int) -> memoryview:
        nonlocal at
        if at + size > len(p):
            raise _Bad
        out = p[at : at + size]
        at += size
        return out

    def column(code: str, count: int) -> array[int]:
        out = array(code)
        out.frombytes(take(out.itemsize * count))
        return out

    kinds = bytearray(take(n))
    sizes = column("q", n)
    parents = column("I", n)
    name_ids = column("I", n)
    linked = column("I", n_links)
    captured_at = column("I", n_captured)
    captured_len = column("q", n_captured)
    (meta_len,) = struct.unpack("<I", take(4))
    meta = json.loads(bytes(take(meta_len)).decode("utf-8", "surrogateescape"))
    (dirs_len,) = struct.unpack("<Q", take(8))
    dirs = bytes(take(dirs_len)).decode("utf-8", "surrogateescape").split("\0")
    (names_len,) = struct.unpack("<Q", take(8))
    names_raw = bytes(take(names_len)).decode("utf-8", "surrogateescape")
    captured_total = sum(captured_len)
    links_end = len(p) - captured_total
    if links_end < at or any(x < 0 for x in captured_len):
        raise _Bad
    links_raw = bytes(p[at:links_end]).decode("utf-8", "surrogateescape")
    at = links_end
    distinct = names_raw.split("\0") if n_names else []
    links = links_raw.split("\0") if n_links else []
    if (
        len(distinct) != n_names
        or (n and max(name_ids) >= n_names)
        or len(dirs) != n_dirs
        or not dirs
        or dirs[0] != ""
        or len(set(dirs)) != n_dirs
        or len(links) != n_links
        or not set(kinds) <= _KIND_BY_VALUE.keys()
        or (n and max(parents) >= n_dirs)
        or list(linked) != [i for i, k in enumerate(kinds) if k in _LINKED]
    ):
        raise _Bad
    compression = meta["compression"]
    if compression not in _COMPRESSIONS:
        raise _Bad
    entries = Entries()
    entries.dirs = dirs
    entries.reindex_dirs()
    entries.parents = parents
    entries.names = [distinct[i] for i in name_ids]
    entries.kinds = kinds
    entries.sizes = sizes
    entries.links = dict(zip(linked, links, strict=True))
    for i, size in zip(captured_at, captured_len, strict=True):
        if i >= n or i in entries.data:
            raise _Bad
        entries.data[i] = bytes(take(size))
    problems = [
        Finding(code, kind, path, layer, facts)
        for code, kind, path, layer, facts in meta["problems"]
    ]
    compressed = meta["compressed_bytes"]
    digest_ = meta["diff_digest"]
    if not isinstance(tar_bytes, int) or (
        compressed is not None and not isinstance(compressed, int)
    ):
        raise _Bad
    return LayerData(
        entries,
        tar_bytes,
        compressed,
        compression,
        problems,
        None if digest_ is None else str(digest_),
    )
