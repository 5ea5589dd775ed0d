"""Find the chosen image in a blob store: `docker save`'s manifest.json or an OCI index.json.

- `manifest.json` (docker save, legacy and 25+): `[{Config, RepoTags, Layers}]`, layer order =
  `rootfs.diff_ids` order. Used first for docker-archive inputs.
- `index.json` (OCI image layout): descriptors, possibly nested indexes; attestation manifests
  (`vnd.docker.reference.type: attestation-manifest`, platform unknown/unknown) are skipped;
  a platform whose blobs are absent is not an error unless it is the one chosen.
Layers map to history entries by moby's rule: each history entry without `empty_layer: true`
takes the next diff_id; a mismatch never fails.
"""

from __future__ import annotations

import hashlib
import json
import platform as _platform
from dataclasses import dataclass, field
from typing import Any

from pyimgsize.errors import (
    AmbiguousImage,
    CorruptLayer,
    FormatError,
    MissingBlob,
    UnsupportedMediaType,
)
from pyimgsize.findings import Finding
from pyimgsize.layers.cache import LayerCache, LayerKey, blob_digest
from pyimgsize.report import SourceKind
from pyimgsize.sources.base import LoadedImage, LoadedLayer, ProgressCallback
from pyimgsize.sources.store import BlobStore

INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
LAYER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    }
)
MAX_LAYERS = 1000
"""Layers an image may have (moby's layer store: `maxLayerDepth = 125`): a manifest listing
10,000 layers is refused, not read for minutes into a report of an image nobody can run."""
MAX_DESCRIPTORS = 100_000
"""Manifests an OCI layout's indexes may list in all (a real one lists a few dozen)."""
EMPTY_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"


def host_platform() -> str:
    machine = _platform.machine().lower()
    arch = {
        "x86_64": "amd64",
        "amd64": "amd64",
        "aarch64": "arm64",
        "arm64": "arm64",
        "armv7l": "arm",
        "ppc64le": "ppc64le",
        "s390x": "s390x",
        "riscv64": "riscv64",
        "i386": "386",
        "i686": "386",
    }.get(machine, machine)
    return f"linux/{arch}"


def _platform_matches(have: str | None, want: str) -> bool:
    if have is None:
        return True
    h = have.split("/")
    w = want.split("/")
    if h[:2] != w[:2]:
        return False
    if len(w) > 2 and len(h) > 2:
        return h[2] == w[2]
    return True


def config_platform(config: Any) -> str | None:
    """`os/arch[/variant]` of an image config; None when it does not say."""
    if not isinstance(config, dict) or not config.get("os") or not config.get("architecture"):
        return None
    out = f"{config['os']}/{config['architecture']}"
    return f"{out}/{config['variant']}" if config.get("variant") else out


def _descriptor_platform(desc: dict[str, Any]) -> str | None:
    p = desc.get("platform")
    if not isinstance(p, dict) or not p.get("os") or not p.get("architecture"):
        return None
    out = f"{p['os']}/{p['architecture']}"
    return f"{out}/{p['variant']}" if p.get("variant") else out


def _object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one: optional parts of a document
    (annotations, platform, rootfs, config) of the wrong type are absent."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _texts(value: Any) -> list[str]:
    """The strings of a JSON list (RepoTags, Env); anything else is no list at all."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _blob_path(digest: Any) -> str:
    if not isinstance(digest, str):
        raise FormatError(f"malformed digest {digest!r}")
    alg, _, hex_ = digest.partition(":")
    if not alg or not hex_ or "/" in digest or ".." in digest:
        raise FormatError(f"malformed digest {digest!r}")
    return f"blobs/{alg}/{hex_}"


@dataclass
class Candidate:
    names: list[str]  # every name `--image` may match
    config_path: str
    layer_paths: list[str]
    platform: str | None = None
    layer_sizes: list[int | None] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # the image's names as `docker images` shows them


def familiar(name: str) -> str:
    """A reference as the docker CLI shows it: `docker.io/library/x:1` -> `x:1`."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _candidates_from_manifest_json(store: BlobStore, manifest: Any) -> list[Candidate]:
    if not isinstance(manifest, list):
        raise FormatError(f"{store.what}: manifest.json is not a list")
    out: list[Candidate] = []
    for entry in manifest:
        if not isinstance(entry, dict) or "Config" not in entry or "Layers" not in entry:
            raise FormatError(f"{store.what}: manifest.json entry without Config/Layers")
        config, layers = entry["Config"], entry["Layers"]
        if not isinstance(config, str) or not isinstance(layers, list):
            raise FormatError(f"{store.what}: manifest.json entry with a malformed Config/Layers")
        if not all(isinstance(p, str) for p in layers):
            raise FormatError(f"{store.what}: manifest.json entry with a malformed Layers list")
        tags = _texts(entry.get("RepoTags"))
        out.append(
            Candidate(
                names=list(tags),
                config_path=config,
                layer_paths=list(layers),
                tags=[familiar(t) for t in tags],
            )
        )
    return out


Missing = tuple[str, str | None]  # (blob path, platform) of a manifest absent from a layout


def _candidates_from_index(store: BlobStore, index: Any) -> tuple[list[Candidate], list[Missing]]:
    """Image manifests reachable from index.json, and the missing manifest blobs.

    Names come from the descriptors' annotations (`io.containerd.image.name`, a full reference,
    and `org.opencontainers.image.ref.name`, often just the tag); the displayed tags are the
    containerd names in their familiar form, or the OCI ref names when there are none, so a
    layout and a `docker save` archive of one image show the same tags.
    """
    out: list[Candidate] = []
    missing: list[Missing] = []
    visited = 0

    def visit(
        doc: Any, names: list[str], tags: list[str], platform: str | None, depth: int
    ) -> None:
        if depth > 8:
            raise FormatError(f"{store.what}: image indexes nested too deep")
        if not isinstance(doc, dict):
            raise FormatError(f"{store.what}: index is not a JSON object")
        manifests = doc.get("manifests")
        if not isinstance(manifests, list):
            raise FormatError(f"{store.what}: index without a manifests list")
        nonlocal visited
        visited += len(manifests)
        if visited > MAX_DESCRIPTORS:
            # an index naming the same nested index many times over, at every level
            raise FormatError(
                f"{store.what}: image indexes list more than {MAX_DESCRIPTORS} manifests"
            )
        for desc in manifests:
            if not isinstance(desc, dict) or "digest" not in desc:
                continue
            ann = _object(desc.get("annotations"))
            if ann.get("vnd.docker.reference.type") == "attestation-manifest":
                continue
            plat = _descriptor_platform(desc) or platform
            if plat and plat.startswith("unknown/unknown"):
                continue
            desc_names = list(names)
            for key in ("io.containerd.image.name", "org.opencontainers.image.ref.name"):
                value = _text(ann.get(key))
                if value and value not in desc_names:
                    desc_names.append(value)
            full = _text(ann.get("io.containerd.image.name"))
            ref_name = _text(ann.get("org.opencontainers.image.ref.name"))
            desc_tags = list(tags)
            own = familiar(str(full)) if full else (str(ref_name) if ref_name else None)
            if own is not None and own not in desc_tags:
                desc_tags.append(own)
            media = desc.get("mediaType")
            if media is not None and not isinstance(media, str):
                raise FormatError(f"{store.what}: malformed mediaType {media!r} in an index")
            path = _blob_path(desc["digest"])
            if media is not None and media not in INDEX_TYPES and media not in MANIFEST_TYPES:
                continue  # unknown descriptors must not error (image-spec image-index.md)
            doc_child = store.json(path)
            if doc_child is None:
                missing.append((path, plat))
                continue
            if not isinstance(doc_child, dict):
                raise FormatError(f"{store.what}: {path} is not a JSON object")
            child_type = media or doc_child.get("mediaType")
            if child_type in INDEX_TYPES or (child_type is None and "manifests" in doc_child):
                visit(doc_child, desc_names, desc_tags, plat, depth + 1)
                continue
            cfg = doc_child.get("config")
            layers = doc_child.get("layers")
            if not isinstance(cfg, dict) or not isinstance(layers, list):
                raise FormatError(f"{store.what}: manifest {path} has no config or layers")
            for layer in layers:
                if not isinstance(layer, dict):
                    raise FormatError(f"{store.what}: manifest {path} has a malformed layer")
                lt = layer.get("mediaType")
                if lt is not None and (not isinstance(lt, str) or lt not in LAYER_TYPES):
                    raise UnsupportedMediaType(
                        f"{store.what}: unsupported layer media type {lt!r} in {path}"
                    )
            out.append(
                Candidate(
                    names=desc_names,
                    config_path=_blob_path(cfg.get("digest")),
                    layer_paths=[_blob_path(layer.get("digest")) for layer in layers],
                    platform=plat,
                    layer_sizes=[
                        int(layer["size"]) if isinstance(layer.get("size"), int) else None
                        for layer in layers
                    ],
                    tags=desc_tags,
                )
            )

    visit(index, [], [], None, 0)
    return out, missing


def _name_matches(want: str, names: list[str], config_path: str) -> bool:
    w = want.removeprefix("docker.io/").removeprefix("library/")
    for n in names:
        short = n.removeprefix("docker.io/").removeprefix("library/")
        if want in (n, short) or w in (n, short) or (":" not in w and short == f"{w}:latest"):
            return True
    hex_ = config_path.rpartition("/")[2].removesuffix(".json")
    w_hex = want.removeprefix("sha256:")
    return len(w_hex) >= 6 and hex_.startswith(w_hex)


def _describe(c: Candidate) -> str:
    hex_ = c.config_path.rpartition("/")[2].removesuffix(".json")[:12]
    shown = c.tags or c.names
    label = ", ".join(shown) if shown else f"untagged {hex_}"
    return f"{label} [{c.platform}]" if c.platform else label


def choose(
    store: BlobStore,
    *,
    prefer: SourceKind,
    image: str | None,
    platform: str | None,
) -> Candidate:
    manifest = store.json("manifest.json") if prefer != "oci" else None
    index = store.json("index.json")
    missing: list[Missing] = []
    if manifest is not None:
        candidates = _candidates_from_manifest_json(store, manifest)
    elif index is not None:
        candidates, missing = _candidates_from_index(store, index)
    else:
        fallback = store.json("manifest.json") if prefer == "oci" else None
        if fallback is not None:
            candidates = _candidates_from_manifest_json(store, fallback)
        else:
            raise FormatError(
                f"{store.what}: not a docker save archive or OCI image layout "
                "(no manifest.json or index.json)"
            )

    # one image saved under several names appears once
    unique: dict[str, Candidate] = {}
    for c in candidates:
        if c.config_path in unique:
            kept = unique[c.config_path]
            kept.names.extend(n for n in c.names if n not in kept.names)
            kept.tags.extend(t for t in c.tags if t not in kept.tags)
        else:
            unique[c.config_path] = c
    pool = list(unique.values())
    if not pool:
        if missing:
            listing = ", ".join(f"{path} ({plat or 'unknown platform'})" for path, plat in missing)
            raise MissingBlob(f"{store.what}: manifest blobs missing: {listing}")
        raise FormatError(f"{store.what}: holds no image")

    if image is not None:
        pool = [c for c in pool if _name_matches(image, c.names, c.config_path)]
        if not pool:
            listing = "; ".join(_describe(c) for c in unique.values())
            raise AmbiguousImage(f"{store.what}: no image named {image!r} (it holds: {listing})")

    if len(pool) > 1 or platform is not None:
        for c in pool:
            if c.platform is None:
                c.platform = config_platform(store.json(c.config_path))
        want = platform or host_platform()
        matching = [c for c in pool if _platform_matches(c.platform, want)]
        if platform is not None and not matching:
            absent = [path for path, plat in missing if plat and _platform_matches(plat, platform)]
            if absent:
                raise MissingBlob(
                    f"{store.what}: the {platform} image manifest {absent[0]} is not in the "
                    "layout (an export lists platforms it holds no blobs for); pull that "
                    "platform before exporting, or choose another with --platform"
                )
            listing = "; ".join(_describe(c) for c in pool)
            raise AmbiguousImage(f"{store.what}: no image for platform {platform} ({listing})")
        if len(matching) == 1:
            pool = matching
        elif len(pool) > 1:
            listing = "; ".join(_describe(c) for c in (matching or pool))
            raise AmbiguousImage(
                f"{store.what} holds {len(pool)} images; choose one with --image NAME "
                f"(or --platform): {listing}"
            )
    return pool[0]


def json_object(raw: bytes, what: str) -> dict[str, Any]:
    """`raw` read as a JSON object; a FormatError naming `what` when it is not one."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise FormatError(f"{what} is not JSON") from exc
    if not isinstance(doc, dict):
        raise FormatError(f"{what} is not a JSON object")
    return doc


def load_candidate(
    store: BlobStore,
    c: Candidate,
    *,
    ref: str,
    source: SourceKind,
    progress: ProgressCallback | None,
    cache: LayerCache | None = None,
    wants: str = "",
) -> LoadedImage:
    """The chosen image's config and layers. With a `cache`, a layer already summarised (same
    diff_id, same blob, same `wants` fingerprint: see `layers.cache`) is taken from it and not
    read; a fresh read is stored there once it has passed every check."""
    raw = store.raw(c.config_path)
    if raw is None:
        raise MissingBlob(f"{store.what}: image config {c.config_path} is missing")
    config = json_object(raw, f"{store.what}: image config {c.config_path}")
    image_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    diff_ids = _object(config.get("rootfs")).get("diff_ids")
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise FormatError(f"{store.what}: image config has no rootfs.diff_ids")
    if len(diff_ids) != len(c.layer_paths):
        raise FormatError(
            f"{store.what}: image config lists {len(diff_ids)} diff_ids but the manifest "
            f"{len(c.layer_paths)} layers"
        )
    if len(diff_ids) > MAX_LAYERS:
        raise FormatError(
            f"{store.what}: the image has {len(diff_ids)} layers, more than pyimgsize reads "
            f"({MAX_LAYERS}; the Docker engine itself refuses more than 125)"
        )
    history = [h for h in _list(config.get("history")) if isinstance(h, dict)]
    problems: list[Finding] = []
    created: list[tuple[str | None, str | None]] = []
    for h in history:
        if h.get("empty_layer"):
            continue
        created.append((_text(h.get("created_by")), _text(h.get("comment"))))
    if history and len(created) != len(diff_ids):
        problems.append(
            Finding(
                "history-mismatch",
                "history",
                facts={"entries": len(created), "layers": len(diff_ids)},
            )
        )
    keys = [
        LayerKey(str(diff_id), blob_digest(path), store.size(path), wants)
        if cache is not None
        else None
        for diff_id, path in zip(diff_ids, c.layer_paths, strict=True)
    ]
    found = [cache.get(key) if cache is not None and key is not None else None for key in keys]
    # a store that fetches layers ahead (a registry) is told which ones it still has to read
    prefetch = getattr(store, "prefetch", None)
    if cache is not None and callable(prefetch):
        prefetch([p for p, hit in zip(c.layer_paths, found, strict=True) if hit is None], progress)
    layers: list[LoadedLayer] = []
    for i, (diff_id, path) in enumerate(zip(diff_ids, c.layer_paths, strict=True)):
        what = f"layer {i} ({str(diff_id)[:19]})"
        key, cached = keys[i], found[i]
        if cached is not None:
            data = cached
            if progress is not None:
                progress(what, data.tar_bytes)  # read, as far as anyone waiting can tell
        else:
            data = store.layer(path, what, progress)
            if data.diff_digest is not None and data.diff_digest != diff_id:
                raise CorruptLayer(
                    f"{what}: its decompressed content is not its diff_id (sha256 "
                    f"{data.diff_digest.removeprefix('sha256:')[:12]}): the blob is corrupt"
                )
            if data.compressed_bytes is None and data.compression != "tar":
                data.compressed_bytes = store.size(path)
            if cache is not None and key is not None:
                cache.put(key, data)
        created_by, comment = created[i] if i < len(created) else (None, None)
        layers.append(LoadedLayer(str(diff_id), data, created_by, comment))
    return LoadedImage(
        ref=ref,
        source=source,
        id=image_id,
        config=config,
        layers=layers,
        tags=list(c.tags),
        problems=problems,
    )
