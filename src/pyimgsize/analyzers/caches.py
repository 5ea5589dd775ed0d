"""pip / uv / poetry caches and stray wheel files (design.md §3).

A cache is found by location (`*/.cache/pip`, `*/.cache/uv`, `*/.cache/pypoetry`, the image's
`PIP_CACHE_DIR`, `UV_CACHE_DIR`, `POETRY_CACHE_DIR`, `XDG_CACHE_HOME`) or by its layout (uv's
versioned buckets such as `archive-v0` and `wheels-v5`, pip's `http-v2`): never by `CACHEDIR.TAG`,
which uv venvs carry too. Poetry's `virtualenvs/` (its default venv location, inside its cache
dir) is not part of the poetry cache. A stray wheel is a `*.whl` outside every cache that
neither an OS package (dpkg `.list`, e.g. Debian's /usr/share/python-wheels) nor a
distribution's RECORD (e.g. virtualenv's seed wheels) owns, and that is not CPython's own
`ensurepip/_bundled`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Container, Iterable, Mapping
from itertools import compress, repeat

from pyimgsize.analyzers.context import Context, FoundCache
from pyimgsize.fs.index import DPKG_LISTS, FileIndex, InodeSet, dead_inodes
from pyimgsize.fs.merge import Dir, MergedFS
from pyimgsize.paths import normalize
from pyimgsize.report import Cache, CacheKind

_LOCATIONS: dict[str, CacheKind] = {"pip": "pip", "uv": "uv", "pypoetry": "poetry"}
_ENV_VARS: tuple[tuple[str, CacheKind], ...] = (
    ("PIP_CACHE_DIR", "pip"),
    ("UV_CACHE_DIR", "uv"),
    ("POETRY_CACHE_DIR", "poetry"),
)
_CONVENTIONAL = re.compile(r"(^|/)\.cache/(" + "|".join(_LOCATIONS) + r")(/|$)")
_UV_BUCKET = re.compile(
    r"^(archive|wheels|sdists|simple|built-wheels|interpreter|flat-index|git|builds|"
    r"environments|python|binaries|osv)-v\d+$"
)
_UV_CORE = re.compile(r"^(archive|wheels|sdists|simple|built-wheels)-v\d+$")


def kind_by_layout(names: Collection[str]) -> CacheKind | None:
    """The kind of cache a directory with these children is, by its layout (or None)."""
    uv_buckets = [n for n in names if "-v" in n and _UV_BUCKET.match(n)]
    if len(uv_buckets) >= 2 and any(_UV_CORE.match(n) for n in uv_buckets):
        return "uv"
    if "http-v2" in names or ("http" in names and ("wheels" in names or "selfcheck" in names)):
        return "pip"
    return None


def configured_cache_dirs(env: Mapping[str, str]) -> list[tuple[str, CacheKind]]:
    """The cache directories the image's environment names (root-relative), with their kind:
    `PIP_CACHE_DIR`, `UV_CACHE_DIR`, `POETRY_CACHE_DIR`, and the tools' dirs under
    `XDG_CACHE_HOME`."""
    out: list[tuple[str, CacheKind]] = []
    for var, kind in _ENV_VARS:
        path, _ = normalize(env.get(var, "").strip())
        if path:
            out.append((path, kind))
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    if xdg:
        base, _ = normalize(xdg)
        out.extend((f"{base}/{tool}" if base else tool, kind) for tool, kind in _LOCATIONS.items())
    return out


def looks_like_cache_path(path: str) -> bool:
    """A path under a conventional pip/uv/poetry cache location (`*/.cache/pip/...`)."""
    return bool(_CONVENTIONAL.search(path))


def find_caches(
    fs: MergedFS,
    index: FileIndex,
    env: Mapping[str, str],
    owned: Container[str],
) -> list[FoundCache]:
    candidates: dict[str, CacheKind] = {}
    for d in index.dirs:
        parent, _, base = d.rpartition("/")
        if parent.rpartition("/")[2] == ".cache" and base in _LOCATIONS:
            candidates[d] = _LOCATIONS[base]
    for configured, kind in configured_cache_dirs(env):
        hit = fs.lookup(configured, follow_last=True)
        if hit is not None and isinstance(hit[1], Dir):
            candidates.setdefault(hit[0], kind)
    for d, node in index.dirs.items():
        if d in candidates:
            continue
        kind_ = kind_by_layout(node.children.keys())
        if kind_ is not None:
            candidates[d] = kind_

    # a cache inside another cache is part of it
    chosen: list[FoundCache] = []
    for path in sorted(candidates):
        if any(path.startswith(f"{c.path}/") for c in chosen):
            continue
        cache = FoundCache(path, candidates[path])
        cache.paths = index.files_below(path)
        if cache.kind == "poetry":
            # poetry's default virtualenvs live in its cache dir; a venv is not a cache to drop
            venvs = f"{path}/virtualenvs/"
            cache.paths = [p for p in cache.paths if not p.startswith(venvs)]
        chosen.append(cache)

    prefixes = tuple(f"{c.path}/" for c in chosen)
    files = index.files
    for path in sorted(compress(files, map(str.endswith, files, repeat(".whl")))):
        if path.startswith(prefixes):
            continue
        if "/ensurepip/_bundled/" in f"/{path}":
            continue
        if path in owned:
            continue
        if path in index.dpkg.owner:
            continue
        chosen.append(FoundCache(path, "wheel", [path]))
    return chosen


def dead_cache_dirs(dead_paths: Iterable[str], fs: MergedFS) -> dict[str, CacheKind]:
    """`<dir>/` -> kind of every cache recognisable by its layout among deleted or shadowed
    files.

    A cache created and removed in later layers (`uv pip install --cache-dir /build/uv ...`
    then `rm -rf /build/uv`) is no longer in the final view; its layout is read from the paths
    of the bytes it left behind, together with whatever of the directory is still visible.
    """
    children: dict[str, set[str]] = defaultdict(set)
    for path in dead_paths:
        parts = path.split("/")
        parent = parts[0]
        for part in parts[1:]:
            children[parent].add(part)
            parent = f"{parent}/{part}"
    out: dict[str, CacheKind] = {}
    for d, names in children.items():
        hit = fs.lookup(d)
        visible = hit[1].children.keys() if hit is not None and isinstance(hit[1], Dir) else ()
        kind = kind_by_layout(names.union(visible))
        if kind is not None:
            out[f"{d}/"] = kind
    return dict(sorted(out.items()))


def dead_cache_prefixes(dead_paths: Iterable[str], fs: MergedFS) -> tuple[str, ...]:
    """`<dir>/` of every cache recognisable by its layout among deleted or shadowed files."""
    return tuple(dead_cache_dirs(dead_paths, fs))


def _exclusive_bytes(found: FoundCache, inodes: InodeSet, index: FileIndex) -> int:
    """Bytes of the inodes with no link outside the cache: what deleting it would save."""
    prefix = f"{found.path}/"
    exclusive = 0
    for inode, path in inodes.items():
        links = index.paths_of(inode, path)
        if found.kind == "wheel":
            inside = all(link == found.path for link in links)
        else:
            inside = all(link.startswith(prefix) for link in links)
        if inside:
            exclusive += inode.size
    return exclusive


class CachesAnalyzer:
    """Reads `owner`; sets `caches`, `cache_inodes` and `dead_cache_prefixes`."""

    metadata = (DPKG_LISTS,)  # a wheel that an OS package lists is not a stray wheel

    def run(self, ctx: Context) -> None:
        found = find_caches(ctx.fs, ctx.index, ctx.env, ctx.owner)
        ctx.cache_files = found
        sets: list[InodeSet] = []
        for c in found:
            inodes = InodeSet.of(c.paths, ctx.index)
            sets.append(inodes)
            ctx.caches.append(
                Cache(
                    path=f"/{c.path}",
                    kind=c.kind,
                    bytes=inodes.bytes,
                    exclusive_bytes=_exclusive_bytes(c, inodes, ctx.index),
                    files=len(inodes),
                )
            )
        ctx.cache_inodes = InodeSet.union(sets)
        dead_paths = [inode.dead_path for inode in dead_inodes(ctx.fs) if inode.dead_path]
        kinds: dict[str, CacheKind] = {f"{c.path}/": c.kind for c in found if c.kind != "wheel"}
        for prefix, kind in dead_cache_dirs(dead_paths, ctx.fs).items():
            kinds.setdefault(prefix, kind)
        for d, kind in configured_cache_dirs(ctx.env):
            kinds.setdefault(f"{d}/", kind)
        ctx.dead_cache_kinds = kinds
        ctx.dead_cache_prefixes = tuple(kinds)
