"""The containerd image store's content store, read in place: the very blobs the engine's export
streams, without the export.

A Docker Engine with the containerd image store (dockerd 26+ with the `containerd-snapshotter`
feature, the default of fresh installs) keeps every image as containerd content: the image's
`Id` is the digest of its target (an image index or a manifest), and the target, manifests,
configs and compressed layer blobs are files named by their digests under
`<containerd root>/io.containerd.content.v1.content/blobs/sha256/`. Its export
(`GET /images/{id}/get`) copies those blobs into an archive; reading them where they are gives
the same bytes, so the same numbers, by construction.

The Engine API does not say where containerd keeps its content, so the candidates are:
`PYIMGSIZE_CONTAINERD_ROOT` when set (then only it); the `--root` (or config file `root`) of each
running containerd process, the one serving the engine's `--containerd` socket first; dockerd's
own supervised containerd (`<DockerRootDir>/containerd/daemon`); `/var/lib/containerd`. A
candidate is taken only if it holds the image's target blob and that blob hashes to the image
ID: content addressing makes a wrong candidate impossible to accept.

Every blob read is checked: JSON documents (target, manifests, config) against their digests;
a plain tar layer blob against its digest (hashed on a second thread while its headers are
read); a compressed layer blob by its size (the manifest's) and its decompressed content
against the config's diff_id (`load_candidate` does that). The manifest is chosen as the
engine's export chooses it (the engine's own platform, `--platform` when given) and its config's
diff_ids must be the engine's `RootFS.Layers`. Anything else (a remote engine, an unreadable
store, a missing blob, a platform whose content is absent, a mismatch) makes the engine source
read the export instead (`image.read_via` says which).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyimgsize.errors import MissingBlob, PyImgSizeError
from pyimgsize.layers.cache import blob_digest
from pyimgsize.layers.content import ContentSelector
from pyimgsize.layers.reader import LayerData
from pyimgsize.layers.sniff import sniff
from pyimgsize.sources.base import ProgressCallback
from pyimgsize.sources.resolve import (
    Candidate,
    _candidates_from_index,
    _platform_matches,
    config_platform,
    familiar,
    host_platform,
)
from pyimgsize.sources.storage import StorageUnusable, is_local
from pyimgsize.sources.store import DirStore

ENV_ROOT = "PYIMGSIZE_CONTAINERD_ROOT"
CONTENT_DIR = "io.containerd.content.v1.content"
DEFAULT_ROOT = "/var/lib/containerd"
DEFAULT_ADDRESS = "/run/containerd/containerd.sock"
_SNAPSHOTTER = ["driver-type", "io.containerd.snapshotter.v1"]
_HASH_BLOCK = 4 << 20


class _Mismatch(PyImgSizeError):
    """The content store disagrees with a digest or the engine: read the export instead."""


# --- where containerd keeps its content ---------------------------------------------------------


def _cmdline(pid: str) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode("utf-8", "surrogateescape") for a in raw.split(b"\0") if a]


def _flag(args: list[str], *names: str) -> str | None:
    """The value of the last `--name value` / `--name=value` / `-name value` among `args`."""
    found: str | None = None
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                found = args[i + 1]
            elif arg.startswith(name + "="):
                found = arg[len(name) + 1 :]
    return found


def _processes(name: str) -> Iterator[list[str]]:
    """The command lines of the running processes called `name`."""
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return
    for pid in pids:
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if comm == name:
            args = _cmdline(pid)
            if args:
                yield args


def _config(path: str | None) -> dict[str, Any]:
    import tomllib

    try:
        with open(path or "/etc/containerd/config.toml", "rb") as fh:
            return tomllib.load(fh)
    except (OSError, ValueError):
        return {}


def _containerd_processes() -> list[tuple[str, str]]:
    """(root, socket address) of each running containerd, from its flags or config file."""
    out: list[tuple[str, str]] = []
    for args in _processes("containerd"):
        config = _config(_flag(args, "--config", "-c"))
        grpc = config.get("grpc")
        root = _flag(args, "--root") or str(config.get("root") or DEFAULT_ROOT)
        address = _flag(args, "--address", "-a") or str(
            (grpc.get("address") if isinstance(grpc, dict) else None) or DEFAULT_ADDRESS
        )
        out.append((root, address))
    return out


def _engine_sockets() -> set[str]:
    """The containerd sockets the running dockerd processes were told to use (`--containerd`)."""
    return {
        address.removeprefix("unix://")
        for args in _processes("dockerd")
        if (address := _flag(args, "--containerd"))
    }


def containerd_roots(docker_root: str | None) -> list[Path]:
    """Where the engine's containerd may keep its content, most likely first (module doc)."""
    override = os.environ.get(ENV_ROOT)
    if override:
        return [Path(override)]
    wanted = _engine_sockets()
    running = _containerd_processes()
    roots = [root for root, address in running if address in wanted]
    roots += [root for root, address in running if address not in wanted]
    if docker_root:
        roots.append(str(Path(docker_root) / "containerd" / "daemon"))
    roots.append(DEFAULT_ROOT)
    out: list[Path] = []
    for root in roots:
        path = Path(root)
        if path.is_absolute() and path not in out:
            out.append(path)
    return out


# --- the store ----------------------------------------------------------------------------------


def _sha256(fd: int, size: int, out: list[str], stop: threading.Event) -> None:
    h = hashlib.sha256()
    offset = 0
    while offset < size and not stop.is_set():
        block = os.pread(fd, min(_HASH_BLOCK, size - offset), offset)
        if not block:
            break
        h.update(block)
        offset += len(block)
    out.append("sha256:" + h.hexdigest())


class ContentStore(DirStore):
    """A containerd content store as a BlobStore (`blobs/<alg>/<hex>`, an OCI layout's naming),
    every blob checked against its digest; `index.json` is the engine image's target alone."""

    INDEX = "index.json"

    def __init__(self, root: Path, target: str, wants: ContentSelector) -> None:
        super().__init__(root / CONTENT_DIR, wants)
        self.what = f"containerd content store {root}"
        self._index = {"manifests": [{"digest": target}]}
        self._verified: dict[str, bytes] = {}
        self.blob_sizes: dict[str, int] = {}  # layer blob sizes the chosen manifest declares

    def has(self, path: str) -> bool:
        return path == self.INDEX or super().has(path)

    def raw(self, path: str) -> bytes | None:
        if path in self._verified:
            return self._verified[path]
        data = super().raw(path)
        if data is None:
            return None
        digest = blob_digest(path)
        if digest is None or not digest.startswith("sha256:"):
            raise _Mismatch(f"{self.what}: {path} is not a sha256 blob")
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise _Mismatch(f"{self.what}: {path} does not hash to its digest")
        self._verified[path] = data
        return data

    def json(self, path: str) -> Any | None:
        if path == self.INDEX:
            return self._index
        doc = super().json(path)
        layers = doc.get("layers") if isinstance(doc, dict) else None
        for layer in layers if isinstance(layers, list) else []:
            media = layer.get("mediaType") if isinstance(layer, dict) else None
            if isinstance(media, str) and ("nondistributable" in media or "foreign" in media):
                # the export leaves such blobs out: only it can say what that gives
                raise _Mismatch(f"{self.what}: {path} has a non-distributable layer")
        return doc

    def layer(self, path: str, what: str, progress: ProgressCallback | None) -> LayerData:
        try:
            fd = os.open(self._path(path), os.O_RDONLY)
        except FileNotFoundError:
            raise MissingBlob(f"{self.what}: blob {path} is missing ({what})") from None
        except OSError as exc:
            raise _Mismatch(f"{self.what}: cannot read {path}: {exc.strerror}") from exc
        try:
            size = os.fstat(fd).st_size
            declared = self.blob_sizes.get(path)
            if declared is not None and size != declared:
                raise _Mismatch(f"{what}: blob {path} is not the size its manifest declares")
            # A plain tar's blob digest is its diff_id, but its contents are skipped, not read:
            # hash it on another thread meanwhile. A compressed blob is read whole, and its
            # decompressed digest checked against the diff_id by the caller.
            hashed: list[str] = []
            hasher: threading.Thread | None = None
            stop = threading.Event()
            if sniff(os.pread(fd, 512, 0)) == "tar":
                hasher = threading.Thread(
                    target=_sha256, args=(fd, size, hashed, stop), name="pyimgsize-hash"
                )
                hasher.start()
            try:
                data = self._read(fd, size, what, progress)
            except BaseException:
                stop.set()  # a failed read (or Ctrl-C) does not wait for the hash
                raise
            finally:
                if hasher is not None:
                    hasher.join()
            if hasher is not None and hashed != [blob_digest(path)]:
                raise _Mismatch(f"{what}: blob {path} does not hash to its digest")
            return data
        finally:
            os.close(fd)


# --- the image --------------------------------------------------------------------------------


def content_plan(
    api: Any, info: dict[str, Any], wants: ContentSelector, platform: str | None
) -> tuple[ContentStore, Candidate]:
    """The engine image's blobs in its containerd content store, and the manifest to read;
    StorageUnusable (or another error) when they cannot stand in for the export."""
    if not is_local(api):
        raise StorageUnusable("the engine is not on a local unix socket")
    engine = api.info()
    if not any(pair[:2] == _SNAPSHOTTER for pair in engine.get("DriverStatus") or []):
        raise StorageUnusable("the engine does not use the containerd image store")
    image_id = str(info.get("Id") or "")
    alg, _, hex_ = image_id.partition(":")
    if alg != "sha256" or len(hex_) != 64 or not all(c in "0123456789abcdef" for c in hex_):
        raise StorageUnusable(f"image ID {image_id!r} is not a sha256 digest")
    target = f"blobs/sha256/{hex_}"
    store: ContentStore | None = None
    for root in containerd_roots(str(engine.get("DockerRootDir") or "") or None):
        candidate_store = ContentStore(root, image_id, wants)
        try:
            if candidate_store.raw(target) is not None:
                store = candidate_store
                break
        except PyImgSizeError:
            continue  # unreadable, or another image under that name: not this engine's store
    if store is None:
        raise StorageUnusable("no readable containerd content store holds the image")
    candidates, missing = _candidates_from_index(store, store.json(ContentStore.INDEX))
    want = platform or host_platform()
    if any(_platform_matches(plat, want) for _, plat in missing):
        raise StorageUnusable(f"a {want} manifest of the image is not in the content store")
    for c in candidates:
        if c.platform is None:
            c.platform = config_platform(store.json(c.config_path))
    matching = [c for c in candidates if _platform_matches(c.platform, want)]
    if len(matching) != 1:
        raise StorageUnusable(f"the image has {len(matching)} {want} manifests, not one")
    (chosen,) = matching
    config = store.json(chosen.config_path)
    rootfs = config.get("rootfs") if isinstance(config, dict) else None
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if diff_ids != list((info.get("RootFS") or {}).get("Layers") or []):
        raise StorageUnusable("the chosen manifest's layers are not the engine's")
    store.blob_sizes = {
        path: size
        for path, size in zip(chosen.layer_paths, chosen.layer_sizes, strict=False)
        if size is not None
    }
    tags = [str(t) for t in info.get("RepoTags") or []]
    chosen.names = list(tags)
    chosen.tags = [familiar(t) for t in tags]
    return store, chosen


Mismatch = _Mismatch
