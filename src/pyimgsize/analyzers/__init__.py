"""From a loaded image to the report: merge the layers, attribute every byte."""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from pyimgsize.analyzers.caches import (
    configured_cache_dirs,
    dead_cache_prefixes,
    find_caches,
    looks_like_cache_path,
)
from pyimgsize.analyzers.categories import (
    category,
    in_site_packages,
    is_bytecode,
    pyc_source,
    pyc_tag,
)
from pyimgsize.analyzers.python import (
    FileIndex,
    PycIndex,
    find_site_packages,
    interpreter_tags,
    read_distributions,
    unique_inodes,
)
from pyimgsize.findings import Finding
from pyimgsize.fs.merge import File, Inode, MergedFS, merge
from pyimgsize.report import (
    BytecodeBucket,
    BytecodeHealth,
    Cache,
    Categories,
    DeadCategories,
    ImageInfo,
    InspectReport,
    Layer,
    Package,
    Problem,
    SitePackages,
    Totals,
)
from pyimgsize.sources.base import LoadedImage

__all__ = ["analyze"]

_SITE_KIND_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(^|/)\.local/lib/python[^/]+/site-packages$"), "user"),
    (re.compile(r"^usr/lib/python3/dist-packages$"), "system"),
    (re.compile(r"^usr/lib(64)?/python[^/]+/(site|dist)-packages$"), "system"),
    (re.compile(r"^usr/local/lib(64)?/python[^/]+/(site|dist)-packages$"), "local"),
)


def _site_kind(site: str, index: FileIndex, pythonpath: set[str]) -> str:
    prefix = site.split("/lib/python", maxsplit=1)[0] if "/lib/python" in site else None
    if prefix is not None:
        if f"{prefix}/pyvenv.cfg" in index.files:
            return "venv"
        if f"{prefix}/conda-meta/history" in index.files or any(
            d == f"{prefix}/conda-meta" for d in index.dirs
        ):
            return "conda"
    for pattern, kind in _SITE_KIND_RULES:
        if pattern.search(site):
            return kind
    if site in pythonpath:
        return "pythonpath"
    return "other"


_category = functools.lru_cache(maxsize=1 << 17)(category)
"""`category` memoised: site-packages, distributions and layers ask about the same paths."""


def analyze(loaded: LoadedImage) -> InspectReport:
    fs = merge([layer.data for layer in loaded.layers])
    index = FileIndex.build(fs)
    env = loaded.env
    problems: list[Finding] = list(loaded.problems) + fs.problems

    sites = find_site_packages(fs, index, env)
    pycs = PycIndex(index)
    dists = read_distributions(fs, index, sites, pycs=pycs, problems=problems)

    # --- ownership ---------------------------------------------------------------------------
    owners: dict[str, int] = defaultdict(int)
    for d in dists:
        for p in d.paths:
            owners[p] += 1
    shared = sorted(p for p, n in owners.items() if n > 1)
    if shared:
        problems.append(
            Finding(
                f"{len(shared)} file(s) are listed by more than one distribution (counted in "
                f"each), e.g. /{shared[0]}",
                "record",
                shared[0],
            )
        )
    owned_inodes = {id(index.files[p].inode) for p in owners}

    # --- site-packages ----------------------------------------------------------------------
    pythonpath_real = {
        s for s in sites if s.rpartition("/")[2] not in ("site-packages", "dist-packages")
    }
    python_inodes: dict[int, tuple[Inode, str]] = {}
    site_models: list[SitePackages] = []
    site_files: dict[str, list[str]] = {}
    for site in sites:
        paths = [p for p, n in fs.walk(site) if isinstance(n, File)]
        site_files[site] = paths
        inodes = unique_inodes(paths, index)
        cats: Counter[str] = Counter()
        unowned = 0
        for key, (inode, path) in inodes.items():
            cats[_category(path)] += inode.size
            if key not in owned_inodes:
                unowned += inode.size
            python_inodes.setdefault(key, (inode, path))
        site_models.append(
            SitePackages(
                path=f"/{site}",
                bytes=cats.total(),
                unowned_bytes=unowned,
                categories=Categories(**cats),
                kind=_site_kind(site, index, pythonpath_real),
                files=len(inodes),
            )
        )

    # --- distributions -----------------------------------------------------------------------
    packages: list[Package] = []
    for d in dists:
        inodes = unique_inodes(d.paths, index)
        cats = Counter()
        per_layer: dict[int, int] = defaultdict(int)
        per_layer_cats: dict[int, Counter[str]] = defaultdict(Counter)
        for key, (inode, path) in inodes.items():
            cat = _category(path)
            cats[cat] += inode.size
            per_layer[inode.layer] += inode.size
            per_layer_cats[inode.layer][cat] += inode.size
            python_inodes.setdefault(key, (inode, path))
        packages.append(
            Package(
                name=d.name,
                version=d.version,
                installer=d.installer,
                site_packages=f"/{d.site}",
                bytes=cats.total(),
                files=len(inodes),
                categories=Categories(**cats),
                layers={str(k): v for k, v in sorted(per_layer.items())},
                metadata_path=f"/{d.metadata_path}",
                ownership=d.ownership,
                layer_categories={
                    str(k): Categories(**v) for k, v in sorted(per_layer_cats.items())
                },
            )
        )

    # --- caches and stray wheels -------------------------------------------------------------
    found = find_caches(fs, index, env, owners)
    caches: list[Cache] = []
    cache_inodes: dict[int, Inode] = {}
    for c in found:
        inodes = unique_inodes(c.paths, index)
        total = 0
        exclusive = 0
        prefix = f"{c.path}/"
        for key, (inode, _p) in inodes.items():
            total += inode.size
            cache_inodes[key] = inode
            links = index.inode_paths[key]
            if c.kind == "wheel":
                inside = all(lp == c.path for lp in links)
            else:
                inside = all(lp.startswith(prefix) for lp in links)
            if inside:
                exclusive += inode.size
        caches.append(
            Cache(
                path=f"/{c.path}",
                kind=c.kind,
                bytes=total,
                exclusive_bytes=exclusive,
                files=len(inodes),
            )
        )

    # --- layers ------------------------------------------------------------------------------
    dead_paths = [
        inode.dead_path
        for stored in fs.inodes_by_layer
        for inode in stored
        if inode.links == 0 and inode.dead_path
    ]
    cache_prefixes = tuple(f"{c.path}/" for c in found if c.kind != "wheel")
    cache_prefixes += dead_cache_prefixes(dead_paths, fs)
    env_cache_prefixes = tuple(f"{d}/" for d, _kind in configured_cache_dirs(env))
    site_prefixes = tuple(f"{s}/" for s in sites)
    layer_python: dict[int, Counter[str]] = defaultdict(Counter)
    for _key, (inode, path) in python_inodes.items():
        layer_python[inode.layer][_category(path)] += inode.size
    layers: list[Layer] = []
    visible_bytes = 0
    visible_files = 0
    dead_total = 0
    layer_total = 0
    for i, (loaded_layer, stored) in enumerate(zip(loaded.layers, fs.inodes_by_layer, strict=True)):
        dead: Counter[str] = Counter()
        size = 0
        for inode in stored:
            size += inode.size
            if inode.links > 0:
                visible_bytes += inode.size
                visible_files += 1
                continue
            path = inode.dead_path or ""
            dead[_dead_category(path, cache_prefixes, env_cache_prefixes, site_prefixes)] += (
                inode.size
            )
        pcats = layer_python.get(i, Counter())
        dead_bytes = dead.total()
        dead_total += dead_bytes
        layer_total += size
        layers.append(
            Layer(
                index=i,
                diff_id=loaded_layer.diff_id,
                created_by=loaded_layer.created_by,
                comment=loaded_layer.comment,
                bytes=size,
                dead_bytes=dead_bytes,
                compressed_bytes=loaded_layer.data.compressed_bytes,
                python_bytes=pcats.total(),
                categories=Categories(**pcats),
                dead_categories=DeadCategories(**dead),
                files=len(stored),
                tar_bytes=loaded_layer.data.tar_bytes,
            )
        )

    # --- totals ------------------------------------------------------------------------------
    bytecode_inodes = {id(f.inode): f.inode for p, f in index.files.items() if is_bytecode(p)}
    totals = Totals(
        python_bytes=sum(inode.size for inode, _p in python_inodes.values()),
        bytecode_bytes=sum(i.size for i in bytecode_inodes.values()),
        cache_bytes=sum(i.size for i in cache_inodes.values()),
        dead_bytes=dead_total,
    )

    health = _bytecode_health(
        index, fs, sites=sites, site_files=site_files, pycs=pycs, problems=problems
    )

    compressed = [layer.data.compressed_bytes for layer in loaded.layers]
    image = ImageInfo(
        ref=loaded.ref,
        source=loaded.source,
        id=loaded.id,
        platform=loaded.platform,
        bytes=visible_bytes,
        layer_bytes=layer_total,
        compressed_bytes=(
            sum(c for c in compressed if c is not None)
            if compressed and all(c is not None for c in compressed)
            else None
        ),
        files=visible_files,
        tags=sorted(loaded.tags),
    )
    if not sites and not dists:
        problems.append(
            Finding("no Python site-packages or distributions found in this image", "no-python")
        )

    return InspectReport(
        image=image,
        layers=layers,
        site_packages=sorted(site_models, key=lambda s: (-s.bytes, s.path)),
        packages=sorted(packages, key=lambda p: (-p.bytes, p.name.lower(), p.site_packages)),
        caches=sorted(caches, key=lambda c: (-c.bytes, c.path)),
        totals=totals,
        problems=[
            Problem(
                message=f.message,
                path=f"/{f.path}" if f.path else None,
                layer=f.layer,
                kind=f.kind,
            )
            for f in problems
        ],
        bytecode=health,
        python_found=bool(sites or dists),
    )


def _dead_category(
    path: str,
    cache_prefixes: tuple[str, ...],
    env_prefixes: tuple[str, ...],
    site_prefixes: tuple[str, ...],
) -> str:
    if (
        path.endswith(".whl")
        or looks_like_cache_path(path)
        or path.startswith(cache_prefixes)
        or path.startswith(env_prefixes)
    ):
        return "cache"
    if in_site_packages(path) or path.startswith(site_prefixes) or is_bytecode(path):
        return category(path)
    cat = category(path)
    return cat if cat == "metadata" else "other"


def _has_usable_pyc(compiled: Iterable[str], tags: list[str]) -> bool:
    """Whether one of these pycs is one the image's interpreters can import.

    A legacy `<stem>.pyc`, or a `__pycache__` pyc for one of the image's interpreter tags (any
    tag when the image's interpreters are unknown): a source whose only pyc was compiled for
    another interpreter is compiled again at first import, in every container.
    """
    for pyc in compiled:
        tag = pyc_tag(pyc)
        if tag is None or not tags or tag in tags:
            return True
    return False


def _bytecode_health(
    index: FileIndex,
    fs: MergedFS,
    *,
    sites: list[str],
    site_files: dict[str, list[str]],
    pycs: PycIndex,
    problems: list[Finding],
) -> BytecodeHealth:
    tags = interpreter_tags(index, fs)
    foreign = BytecodeBucket()
    orphan = BytecodeBucket()
    missing = BytecodeBucket()
    foreign_example = orphan_example = missing_example = None
    seen: set[int] = set()
    for path, f in sorted(index.files.items()):
        if not is_bytecode(path) or id(f.inode) in seen:
            continue
        seen.add(id(f.inode))
        tag = pyc_tag(path)
        if tag is not None and tags and tag not in tags:
            foreign.files += 1
            foreign.bytes += f.inode.size
            foreign_example = foreign_example or path
        if tag is not None:
            src = pyc_source(path)
            if src is not None and src not in index.files and fs.lookup(src) is None:
                orphan.files += 1
                orphan.bytes += f.inode.size
                orphan_example = orphan_example or path
    for site in sites:
        files = site_files[site]
        if not any(is_bytecode(p) for p in files):
            continue
        for p in files:
            if p.endswith(".py") and not _has_usable_pyc(pycs.by_source.get(p, ()), tags):
                missing.files += 1
                missing.bytes += index.files[p].inode.size
                missing_example = missing_example or p
    if foreign.files:
        problems.append(
            Finding(
                f"{foreign.files} .pyc file(s) ({foreign.bytes} bytes) were compiled for an "
                f"interpreter the image does not have (image has: {', '.join(tags)})",
                "bytecode",
                foreign_example,
            )
        )
    if orphan.files:
        problems.append(
            Finding(
                f"{orphan.files} __pycache__ .pyc file(s) ({orphan.bytes} bytes) have no source "
                "and can never be imported",
                "bytecode",
                orphan_example,
            )
        )
    if missing.files:
        problems.append(
            Finding(
                f"{missing.files} .py file(s) in site-packages that otherwise ship bytecode have "
                "no .pyc (compiled at first import, in every container)",
                "bytecode",
                missing_example,
            )
        )
    return BytecodeHealth(
        interpreters=tags, foreign_tag=foreign, without_source=orphan, source_without_pyc=missing
    )
