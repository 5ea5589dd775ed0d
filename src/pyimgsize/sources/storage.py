"""The engine's own layer storage, read in place: the same layer tars as its export, without
the export.

`GET /images/{id}/get` makes the engine reassemble every layer tar and push it through a socket
(seconds for a large image, whatever changed). A local Docker Engine with the overlay2 driver
keeps, per layer, the files themselves (`overlay2/<cache-id>/diff`) and the layer tar's exact
headers (`image/overlay2/layerdb/sha256/<chain-id>/tar-split.json.gz`, the record the engine
reassembles its export from). Reading those gives the export's tar byte for byte where it
matters: every header, pax record and whiteout marker comes from the tar-split record, and the
only contents read (the analyzers' metadata files) come from the layer's diff directory, each
checked against the size the record gives. No other file is opened or even `lstat`ed.

This path is taken only when the engine is local and every piece checks out: the driver is
overlay2, the storage under the engine's `DockerRootDir` is readable, every layer's recorded
diff_id is the image's, the layer directories are exactly the image's `GraphDriver` directories,
and the image config's bytes hash to the image ID. Anything else (a remote engine, another
driver, a rootless engine's storage out of reach, a containerd image store, a damaged record)
falls back to the export; the report says which was read (`image.read_via`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyimgsize.errors import PyImgSizeError
from pyimgsize.layers.content import ContentSelector
from pyimgsize.layers.reader import LayerData, read_layer
from pyimgsize.paths import normalize
from pyimgsize.sources.base import ProgressCallback

# `PYIMGSIZE_ENGINE_STORAGE=0` always reads the export
ENV_SWITCH = "PYIMGSIZE_ENGINE_STORAGE"
_SPLIT_LIMIT = 1 << 30  # a tar-split record larger than this (decompressed) is not trusted


class StorageUnusable(Exception):
    """The engine's storage cannot stand in for its export (the reason, for --debug)."""


def storage_enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def chain_ids(diff_ids: list[str]) -> list[str]:
    """The layer store's chain IDs: the first is the first diff_id, each next one the sha256 of
    `<previous chain id> <diff_id>` (image-spec config.md)."""
    out: list[str] = []
    for d in diff_ids:
        if not out:
            out.append(d)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {d}".encode()).hexdigest())
    return out


@dataclass
class StorageLayer:
    diff_id: str
    split: Path  # tar-split.json.gz
    diff_dir: Path  # the layer's files


@dataclass
class StoragePlan:
    config_raw: bytes
    layers: list[StorageLayer]


def is_local(api: Any) -> bool:
    base = str(getattr(api, "base_url", ""))
    return base.startswith("http+docker://localhost") or base.startswith(
        "http+docker://localunixsocket"
    )


def plan(api: Any, info: dict[str, Any]) -> StoragePlan:
    """Where the image's layers are in the engine's storage; StorageUnusable when it cannot
    stand in for the export."""
    if not is_local(api):
        raise StorageUnusable("the engine is not on a local unix socket")
    driver = info.get("GraphDriver") or {}
    if driver.get("Name") != "overlay2":
        raise StorageUnusable(f"graph driver {driver.get('Name')!r} is not overlay2")
    data = driver.get("Data") or {}
    dirs = [d for d in str(data.get("LowerDir") or "").split(":") if d]
    if data.get("UpperDir"):
        dirs.insert(0, str(data["UpperDir"]))
    diff_ids = [str(d) for d in ((info.get("RootFS") or {}).get("Layers") or [])]
    if not diff_ids:
        raise StorageUnusable("the image lists no layers")
    engine = api.info()
    root = Path(str(engine.get("DockerRootDir") or ""))
    if engine.get("Driver") != "overlay2" or not root.is_absolute():
        raise StorageUnusable("the engine's storage driver is not overlay2")
    layerdb = root / "image" / "overlay2" / "layerdb" / "sha256"
    overlay = root / "overlay2"
    image_id = str(info.get("Id") or "")
    alg, _, hex_ = image_id.partition(":")
    if alg != "sha256" or len(hex_) != 64:
        raise StorageUnusable(f"image ID {image_id!r} is not a sha256 digest")
    config_path = root / "image" / "overlay2" / "imagedb" / "content" / "sha256" / hex_
    try:
        config_raw = config_path.read_bytes()
        layers: list[StorageLayer] = []
        for diff_id, chain in zip(diff_ids, chain_ids(diff_ids), strict=True):
            entry = layerdb / chain.removeprefix("sha256:")
            if (entry / "diff").read_text().strip() != diff_id:
                raise StorageUnusable(f"layer {chain[:19]} records another diff_id")
            cache_id = (entry / "cache-id").read_text().strip()
            if not cache_id or "/" in cache_id or cache_id.startswith("."):
                raise StorageUnusable(f"layer {chain[:19]} has a malformed cache-id")
            split = entry / "tar-split.json.gz"
            if not os.access(split, os.R_OK):
                raise StorageUnusable(f"layer {chain[:19]} has no readable tar-split record")
            layers.append(StorageLayer(diff_id, split, overlay / cache_id / "diff"))
    except OSError as exc:
        raise StorageUnusable(f"cannot read the engine's storage: {exc}") from exc
    if "sha256:" + hashlib.sha256(config_raw).hexdigest() != image_id:
        raise StorageUnusable("the stored image config does not hash to the image ID")
    if sorted(str(layer.diff_dir) for layer in layers) != sorted(dirs):
        raise StorageUnusable("the layer directories are not the image's GraphDriver directories")
    return StoragePlan(config_raw, layers)


# --- one layer: its tar-split record and its diff directory -------------------------------


class _Mismatch(PyImgSizeError):
    """The storage disagrees with itself: read the export instead."""


def _pieces(split: Path) -> tuple[list[bytes | tuple[str, int]], int]:
    """The tar as the record describes it: raw header bytes (segments) and (name, size) file
    contents, in order; and the tar's total size."""
    try:
        with gzip.open(split, "rb") as fh:
            return _parse_split(fh, split)
    except (OSError, EOFError, zlib.error) as exc:
        raise _Mismatch(f"{split}: unreadable tar-split record ({exc})") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise _Mismatch(f"{split}: malformed tar-split record ({exc})") from exc


def _parse_split(lines: Iterable[bytes], split: Path) -> tuple[list[bytes | tuple[str, int]], int]:
    pieces: list[bytes | tuple[str, int]] = []
    total = 0
    pending: list[bytes] = []
    loads = json.loads
    b64 = base64.b64decode
    seen = 0
    for line in lines:
        seen += len(line)
        if seen > _SPLIT_LIMIT:
            raise _Mismatch(f"{split}: tar-split record too large")
        if not line.strip():
            continue
        e = loads(line)
        kind = e["type"]
        if kind == 2:  # a segment: raw tar bytes (headers, pax records, padding)
            seg = b64(e["payload"])
            pending.append(seg)
            total += len(seg)
        elif kind == 1:  # a file entry: its contents are in the diff directory
            size = int(e.get("size") or 0)
            if size <= 0:
                continue
            if pending:
                pieces.append(b"".join(pending))
                pending = []
            name = e.get("name") or ""
            if e.get("name_raw"):
                name = b64(e["name_raw"]).decode("utf-8", "surrogateescape")
            pieces.append((str(name), size))
            total += size
        else:
            raise _Mismatch(f"{split}: unknown tar-split entry type {kind!r}")
    if pending:
        pieces.append(b"".join(pending))
    return pieces, total


class SplitStream:
    """The layer tar, read from its tar-split record; a file's contents are read from the diff
    directory only when the reader asks for them (skips are arithmetic)."""

    def __init__(self, pieces: list[bytes | tuple[str, int]], diff_dir: Path) -> None:
        self._pieces = pieces
        self._diff = diff_dir
        self._i = 0  # current piece
        self._off = 0  # offset inside it
        self.position = 0

    def _content(self, name: str, size: int, offset: int, n: int) -> bytes:
        path, _ = normalize(name)
        try:
            fd = os.open(self._diff / path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            raise _Mismatch(f"{self._diff}/{path}: not readable ({exc.strerror})") from exc
        try:
            if os.fstat(fd).st_size != size:
                raise _Mismatch(f"{self._diff}/{path}: not the size its layer tar records")
            out = os.pread(fd, n, offset)
        finally:
            os.close(fd)
        if len(out) != n:
            raise _Mismatch(f"{self._diff}/{path}: shorter than its layer tar records")
        return out

    def read(self, n: int) -> bytes:
        parts: list[bytes] = []
        pieces = self._pieces
        while n > 0 and self._i < len(pieces):
            piece = pieces[self._i]
            if isinstance(piece, bytes):
                chunk = piece[self._off : self._off + n]
                size = len(piece)
            else:
                name, size = piece
                take = min(n, size - self._off)
                chunk = self._content(name, size, self._off, take)
            parts.append(chunk)
            n -= len(chunk)
            self._off += len(chunk)
            self.position += len(chunk)
            if self._off >= size:
                self._i += 1
                self._off = 0
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def skip(self, n: int) -> int:
        done = 0
        pieces = self._pieces
        while n > 0 and self._i < len(pieces):
            piece = pieces[self._i]
            size = len(piece) if isinstance(piece, bytes) else piece[1]
            step = min(n, size - self._off)
            self._off += step
            done += step
            n -= step
            if self._off >= size:
                self._i += 1
                self._off = 0
        self.position += done
        return done


def read_storage_layer(
    layer: StorageLayer, what: str, wants: ContentSelector, progress: ProgressCallback | None
) -> LayerData:
    pieces, total = _pieces(layer.split)
    stream = SplitStream(pieces, layer.diff_dir)
    tick = None if progress is None else (lambda n: progress(what, n))
    data = read_layer(stream, what, wants=wants, blob_size=total, progress=tick)
    if data.tar_bytes != total:
        raise _Mismatch(f"{what}: the tar-split record's size is not the tar's")
    return data


class StorageStore:
    """The BlobStore `load_candidate` reads: the image config and each layer, by chain ID."""

    CONFIG = "config.json"

    def __init__(self, plan_: StoragePlan, what: str, wants: ContentSelector) -> None:
        self.what = what
        self._wants = wants
        self._plan = plan_
        self._layers = {f"layer/{i}": layer for i, layer in enumerate(plan_.layers)}

    @property
    def layer_paths(self) -> list[str]:
        return list(self._layers)

    def has(self, path: str) -> bool:
        return path == self.CONFIG or path in self._layers

    def raw(self, path: str) -> bytes | None:
        return self._plan.config_raw if path == self.CONFIG else None

    def json(self, path: str) -> Any | None:
        raw = self.raw(path)
        return None if raw is None else json.loads(raw)

    def size(self, path: str) -> int | None:
        return None  # a layer's tar size is known once its record is read

    def layer(self, path: str, what: str, progress: ProgressCallback | None) -> LayerData:
        return read_storage_layer(self._layers[path], what, self._wants, progress)


Mismatch = _Mismatch
