"""The registry source: `registry:REF` read straight from an OCI / Docker registry, no daemon.

Manifest, config and layer blobs come over the registry HTTP API (OCI distribution spec,
https://github.com/opencontainers/distribution-spec/blob/main/spec.md); each layer blob is read
by the same layer reader as every other source while it streams, never held whole in memory or
written to disk. Up to `CONCURRENCY` blobs stream at once; their summaries are applied in
`rootfs.diff_ids` order afterwards, as for every source.

- References as `docker pull` reads them: `python:3.12-slim` is Docker Hub's
  `library/python:3.12-slim`, `host[:port]/name[:tag]`, `name@sha256:...`.
- Authentication: the docker config (`DOCKER_CONFIG`, `~/.docker/config.json`: `auths`,
  `credsStore`, `credHelpers`, resolved by the docker SDK's `docker.auth`), then whatever the
  registry's `WWW-Authenticate` challenge asks for: a Bearer token (anonymous, with a user name
  and password, or from an identity token) or Basic. `Authorization` goes to the registry host
  and its token realm only, never to a redirect target (blob CDNs reject it).
- HTTPS with the system CAs plus `/etc/docker/certs.d/HOST/*.crt` (and client `*.cert`/`*.key`
  pairs), as docker does. A loopback registry may answer plain HTTP; any other registry only
  with `--insecure-registry HOST` (then, as docker does, its certificate is not verified).
- 429 and 5xx answers, and connections that fail, are retried a bounded number of times with
  backoff (`Retry-After` honoured, capped); what still fails is one line naming the registry.
- Every blob is checked against its descriptor: its size and its sha256 digest; every
  compressed layer's uncompressed tar against its `rootfs.diff_ids` entry (in `load_candidate`).
  Both are needed, as `docker pull` checks both: the digest binds the bytes received to the
  manifest, the diff_id binds the content to the config, by which layers are named, compared
  across images (`diff`) and cached. They hash different bytes, each once; a layer is handed
  on (and cached) only after both checks passed.

Where the time goes (cold, a loopback registry): inflating and hashing every byte, and the
tar headers. Each layer is read in two threads: one reads the body, hashes it and inflates it
in 1 MiB blocks (`DecompressStream`: socket reads, zlib-ng / zstd and hashlib release the GIL),
the other hashes the inflated blocks and parses the tar, so both cores work even on one large
layer.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pyimgsize.errors import (
    CorruptLayer,
    FormatError,
    ImageNotFound,
    PyImgSizeError,
    SourceError,
    UnsupportedMediaType,
)
from pyimgsize.layers.cache import LayerCache, wants_fingerprint
from pyimgsize.layers.content import ContentSelector
from pyimgsize.layers.reader import LayerData, read_layer
from pyimgsize.layers.stream import skip_by_reading
from pyimgsize.sources.base import LoadedImage, ProgressCallback, unblock
from pyimgsize.sources.registry_client import (
    ATTEMPTS,
    BACKOFF,
    CONCURRENCY,
    MANIFEST_LIMIT,
    RegistryClient,
    first_line,
)
from pyimgsize.sources.registry_ref import DIGEST_RE, parse_reference
from pyimgsize.sources.resolve import (
    INDEX_TYPES,
    LAYER_TYPES,
    MANIFEST_TYPES,
    Candidate,
    _blob_path,
    _descriptor_platform,
    _platform_matches,
    host_platform,
    json_object,
    load_candidate,
)
from pyimgsize.sources.store import JSON_LIMIT

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
CHUNK = 1 << 20


# --- blobs ------------------------------------------------------------------------------------


class TransportBroke(SourceError):
    """The connection failed while a blob streamed (retried from the start of the blob)."""


class BlobStream:
    """A blob's HTTP body as a ByteStream, checked against its descriptor at the end: the
    byte count and the sha256 digest. Transport failures are remembered (`broke`) because the
    decompressor above it reports any read failure as corrupt data."""

    def __init__(
        self,
        response: Any,
        digest: str,
        size: int,
        what: str,
        count: Callable[[int], None],
        stop: threading.Event,
    ) -> None:
        self._response = response
        self._digest = digest
        self._size = size
        self._what = what
        self._hash = hashlib.sha256()
        self._count = count
        self.consumed = 0
        self.broke: TransportBroke | None = None
        self._buf = b""
        self._pos = 0
        self._stop = stop
        # set when the layer reader gave up: the inflating thread that reads this body
        # (layers.stream.DecompressStream) stops at its next block
        self.abandoned = False

    def _fill(self) -> bool:
        """The next CHUNK of the body, hashed as it arrives; False at the end. Called from the
        thread that inflates the blob (`layers.stream.DecompressStream`), or, for a plain tar
        blob, from the layer reader's."""
        import urllib3.exceptions as ue

        if self._stop.is_set() or self.abandoned:
            raise SourceError(f"{self._what}: download stopped")
        try:
            block = self._response.read(CHUNK)
        except (ue.HTTPError, OSError) as exc:
            self.broke = TransportBroke(
                f"{self._what}: the connection broke off after {self.consumed} of {self._size} "
                f"bytes ({first_line(exc)})"
            )
            raise self.broke from None
        if not block:
            return False
        self._hash.update(block)
        self.consumed += len(block)
        self._count(len(block))
        if self.consumed > self._size:
            raise CorruptLayer(
                f"{self._what}: the registry sent more than the {self._size} bytes its "
                "manifest declares"
            )
        self._buf = bytes(block)
        self._pos = 0
        return True

    def read(self, n: int) -> bytes:
        parts: list[bytes] = []
        while n > 0:
            if self._pos >= len(self._buf) and not self._fill():
                break
            part = self._buf[self._pos : self._pos + n]
            self._pos += len(part)
            n -= len(part)
            parts.append(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def skip(self, n: int) -> int:
        return skip_by_reading(self, n)

    def finish(self) -> None:
        """Read what the layer reader left (trailing padding) and check size and digest."""
        while self.read(CHUNK):
            pass
        if self.consumed < self._size:
            self.broke = TransportBroke(
                f"{self._what}: the connection broke off after {self.consumed} of "
                f"{self._size} bytes"
            )
            raise self.broke
        got = f"sha256:{self._hash.hexdigest()}"
        if got != self._digest:
            raise CorruptLayer(
                f"{self._what}: the blob's sha256 is not its digest (got {got[:19]}, "
                f"expected {self._digest[:19]}): the registry's copy is corrupt"
            )


class RegistryStore:
    """The chosen image's blobs in a registry, by blob path (`blobs/sha256/<hex>`), for the
    shared `load_candidate`. Layers are summarised ahead, CONCURRENCY at a time, once
    `prefetch` is called; `layer` hands out each result in the order asked."""

    def __init__(
        self,
        client: RegistryClient,
        descriptors: dict[str, dict[str, Any]],
        wants: ContentSelector,
    ) -> None:
        self.client = client
        self.what = f"registry {client.shown}"
        self._descriptors = descriptors  # blob path -> descriptor
        self._wants = wants
        self._raw: dict[str, bytes] = {}
        self._futures: dict[str, Future[LayerData]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._progress: ProgressCallback | None = None
        self._done = 0
        self._count_lock = threading.Lock()
        self._stop = threading.Event()
        self._reading: set[Any] = set()  # responses whose bodies are being read

    def has(self, path: str) -> bool:
        return path in self._descriptors

    def size(self, path: str) -> int | None:
        desc = self._descriptors.get(path)
        return int(desc["size"]) if desc is not None and isinstance(desc.get("size"), int) else None

    def raw(self, path: str) -> bytes | None:
        if path in self._raw:
            return self._raw[path]
        desc = self._descriptors.get(path)
        if desc is None:
            return None
        digest = str(desc["digest"])
        data = self.client.get_small(
            f"blobs/{digest}", accept=None, what=f"blob {digest[:19]}", limit=JSON_LIMIT
        )
        if f"sha256:{hashlib.sha256(data).hexdigest()}" != digest:
            raise CorruptLayer(
                f"{self.what}: blob {digest[:19]}'s sha256 is not its digest: the registry's "
                "copy is corrupt"
            )
        self._raw[path] = data
        return data

    def json(self, path: str) -> Any | None:
        raw = self.raw(path)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise FormatError(f"{self.what}: {path} is not valid JSON") from exc

    def _count(self, n: int) -> None:
        if self._progress is None:
            return
        with self._count_lock:
            self._done += n
            done = self._done
        self._progress("downloading", done)

    def prefetch(self, paths: list[str], progress: ProgressCallback | None) -> None:
        self._progress = progress
        workers = max(1, min(CONCURRENCY, len(paths)))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pyimgsize-blob")
        for i, path in enumerate(paths):
            if path not in self._futures:
                self._futures[path] = self._pool.submit(self._read_layer, path, f"layer {i}")

    def _read_layer(self, path: str, label: str) -> LayerData:
        desc = self._descriptors[path]
        digest = str(desc["digest"])
        size = int(desc["size"])
        what = f"{label} ({digest[:19]})"
        for attempt in range(ATTEMPTS):
            response = self.client.get(f"blobs/{digest}", what=f"blob {digest[:19]}")
            stream = BlobStream(response, digest, size, what, self._count, self._stop)
            complete = False
            self._reading.add(response)
            try:
                data = read_layer(stream, what, wants=self._wants, blob_size=size)
                stream.finish()
                complete = True
                return data
            except PyImgSizeError as exc:
                if stream.broke is None or self._stop.is_set():
                    raise
                if attempt + 1 == ATTEMPTS:
                    raise stream.broke from exc
                if self._stop.wait(BACKOFF * (2**attempt)):
                    raise
            finally:
                self._reading.discard(response)
                if not complete:
                    # the decompressing thread may still be reading this body: it stops at
                    # its next block, and a read in flight returns now
                    stream.abandoned = True
                    unblock(response)
                    response.close()  # a half-read body must not go back to the pool
                response.release_conn()
        raise AssertionError("unreachable")  # pragma: no cover

    def layer(self, path: str, what: str, progress: ProgressCallback | None) -> LayerData:
        future = self._futures.get(path)
        if future is None:
            self.prefetch([path], progress)
            future = self._futures[path]
        return future.result()

    def close(self) -> None:
        """Stop the downloads still running (after an error or an interrupt, within one
        block) and wait for their threads."""
        self._stop.set()
        for response in list(self._reading):
            unblock(response)  # a read waiting on a stalled server returns now
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()


# --- choosing the image -----------------------------------------------------------------------


def _manifest(client: RegistryClient, reference: str, what: str) -> tuple[dict[str, Any], str]:
    raw = client.get_small(f"manifests/{reference}", accept=ACCEPT, what=what, limit=MANIFEST_LIMIT)
    digest = f"sha256:{hashlib.sha256(raw).hexdigest()}"
    if reference.startswith("sha256:") and digest != reference:
        raise CorruptLayer(
            f"registry {client.shown}: manifest {reference[:19]}'s sha256 is not its digest"
        )
    return json_object(raw, f"registry {client.shown}: {what}"), digest


def _platforms(descs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The index's image entries with their platforms, attestations left out."""
    out: list[tuple[str, dict[str, Any]]] = []
    for desc in descs:
        if not isinstance(desc, dict) or "digest" not in desc:
            continue
        ann = desc.get("annotations") or {}
        if ann.get("vnd.docker.reference.type") == "attestation-manifest":
            continue
        plat = _descriptor_platform(desc)
        if plat is None or plat.startswith("unknown/"):
            continue
        media = desc.get("mediaType")
        if media is not None and media not in INDEX_TYPES and media not in MANIFEST_TYPES:
            continue
        out.append((plat, desc))
    return out


def choose_manifest(
    client: RegistryClient, platform: str | None
) -> tuple[dict[str, Any], str | None]:
    """The image manifest for the reference: through an index, the entry for `platform`
    (default: this machine's); returns (manifest, platform from the index)."""
    ref = client.ref
    doc, _ = _manifest(client, ref.reference, f"manifest {ref.familiar}")
    chosen: str | None = None
    for _depth in range(4):
        media = doc.get("mediaType")
        if media in INDEX_TYPES or (media is None and "manifests" in doc):
            entries = _platforms(doc.get("manifests") or [])
            want = platform or host_platform()
            matching = [(p, d) for p, d in entries if _platform_matches(p, want)]
            exact = [(p, d) for p, d in matching if p == want]
            picks = exact or matching
            if not picks:
                have = ", ".join(sorted({p for p, _ in entries})) or "none"
                raise ImageNotFound(
                    f"registry {client.shown}: {ref.familiar} has no image for platform {want} "
                    f"(it has: {have}); choose one with --platform"
                )
            chosen, desc = picks[0]
            digest = str(desc["digest"])
            doc, _ = _manifest(client, digest, f"manifest {digest[:19]} ({chosen})")
            continue
        if media is not None and media not in MANIFEST_TYPES:
            raise UnsupportedMediaType(
                f"registry {client.shown}: unsupported manifest media type {media!r} "
                f"({ref.familiar}; schema 1 manifests are not read)"
            )
        if not isinstance(doc.get("config"), dict) or not isinstance(doc.get("layers"), list):
            raise FormatError(
                f"registry {client.shown}: manifest of {ref.familiar} has no config or layers"
            )
        return doc, chosen
    raise FormatError(f"registry {client.shown}: image indexes nested too deep")


# --- the source -------------------------------------------------------------------------------


@dataclass
class RegistrySource:
    ref: str  # as the user wrote it (with the `registry:` prefix)
    name: str  # the docker reference
    platform: str | None = None
    insecure_registries: tuple[str, ...] = ()
    cache: LayerCache | None = None  # per-layer results: a cached layer is not downloaded

    def load(
        self, *, wants: ContentSelector, progress: ProgressCallback | None = None
    ) -> LoadedImage:
        parsed = parse_reference(self.name)
        insecure = (
            parsed.host in self.insecure_registries or parsed.api_host in self.insecure_registries
        )
        client = RegistryClient(parsed, insecure=insecure)
        manifest, plat = choose_manifest(client, self.platform)
        config_desc = manifest["config"]
        layers = manifest["layers"]
        descriptors: dict[str, dict[str, Any]] = {}
        for desc in [config_desc, *layers]:
            if not isinstance(desc, dict) or not isinstance(desc.get("digest"), str):
                raise FormatError(f"registry {client.shown}: a descriptor without a digest")
            if not DIGEST_RE.match(desc["digest"]) or not isinstance(desc.get("size"), int):
                raise FormatError(
                    f"registry {client.shown}: descriptor {str(desc.get('digest'))[:30]!r} "
                    "has no sha256 digest or size"
                )
            descriptors[_blob_path(desc["digest"])] = desc
        for layer in layers:
            media = layer.get("mediaType")
            if media is not None and media not in LAYER_TYPES:
                raise UnsupportedMediaType(
                    f"registry {client.shown}: unsupported layer media type {media!r}"
                )
        candidate = Candidate(
            names=[str(parsed)],
            config_path=_blob_path(config_desc["digest"]),
            layer_paths=[_blob_path(layer["digest"]) for layer in layers],
            platform=plat,
            layer_sizes=[int(layer["size"]) for layer in layers],
            tags=[parsed.familiar] if parsed.tag else [],
        )
        store = RegistryStore(client, descriptors, wants)
        try:
            config_raw = store.raw(candidate.config_path)  # fails early, before any layer
            if config_raw is not None and self.platform is not None and plat is None:
                _check_platform(config_raw, self.platform, client.shown, parsed.familiar)
            if self.cache is None:
                store.prefetch(candidate.layer_paths, progress)
            # with a cache, load_candidate prefetches only the layers it does not hold
            return load_candidate(
                store,
                candidate,
                ref=self.ref,
                source="registry",
                progress=progress,
                cache=self.cache,
                wants=wants_fingerprint(wants),
            )
        finally:
            store.close()


def _check_platform(raw: bytes, want: str, shown: str, name: str) -> None:
    try:
        cfg = json.loads(raw)
    except ValueError:
        return
    if not isinstance(cfg, dict) or not cfg.get("os") or not cfg.get("architecture"):
        return
    have = f"{cfg['os']}/{cfg['architecture']}" + (
        f"/{cfg['variant']}" if cfg.get("variant") else ""
    )
    if not _platform_matches(have, want):
        raise ImageNotFound(f"registry {shown}: {name} is a single {have} image, not {want}")
