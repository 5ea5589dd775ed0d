"""Per layer: stored bytes, the Python bytes it contributed, and its dead bytes by category
(design.md §2, §3); the image's visible and stored totals.

A layer's bytes are the inodes its tar stored; its Python bytes, the part of the Python union
whose visible copy it wrote; its dead bytes, the inodes it stored that no visible path reaches
at the end, by the category of the path they were last seen at: `cache` for pip/uv/poetry
caches (found, configured, or recognised by their layout among the dead paths) and wheels, the
file category inside site-packages and for bytecode anywhere, `metadata`, else `other`.
"""

from __future__ import annotations

from collections import Counter

from pyimgsize.analyzers.caches import looks_like_cache_path
from pyimgsize.analyzers.context import Context
from pyimgsize.paths import category, in_site_packages, is_bytecode
from pyimgsize.report import Categories, DeadCategories, ImageInfo, Layer


def dead_category(
    path: str, cache_prefixes: tuple[str, ...], site_prefixes: tuple[str, ...]
) -> str:
    """The dead-bytes category of a file last seen at `path`."""
    if path.endswith(".whl") or looks_like_cache_path(path) or path.startswith(cache_prefixes):
        return "cache"
    if in_site_packages(path) or path.startswith(site_prefixes) or is_bytecode(path):
        return category(path)
    cat = category(path)
    return cat if cat == "metadata" else "other"


class LayersAnalyzer:
    """Reads `python`, `dead_cache_prefixes`, `sites`; sets `layers` and `image`."""

    metadata = ()

    def run(self, ctx: Context) -> None:
        loaded = ctx.loaded
        site_prefixes = tuple(f"{s}/" for s in ctx.sites)
        layer_python = ctx.python.by_layer()
        visible_bytes = visible_files = layer_total = 0
        for i, (loaded_layer, stored) in enumerate(
            zip(loaded.layers, ctx.fs.inodes_by_layer, strict=True)
        ):
            dead: Counter[str] = Counter()
            size = 0
            for inode in stored:
                size += inode.size
                if inode.links > 0:
                    visible_bytes += inode.size
                    visible_files += 1
                    continue
                path = inode.dead_path or ""
                dead[dead_category(path, ctx.dead_cache_prefixes, site_prefixes)] += inode.size
            pcats = layer_python.get(i, Counter())
            layer_total += size
            ctx.layers.append(
                Layer(
                    index=i,
                    diff_id=loaded_layer.diff_id,
                    created_by=loaded_layer.created_by,
                    comment=loaded_layer.comment,
                    bytes=size,
                    dead_bytes=dead.total(),
                    compressed_bytes=loaded_layer.data.compressed_bytes,
                    python_bytes=pcats.total(),
                    categories=Categories(**pcats),
                    dead_categories=DeadCategories(**dead),
                    files=len(stored),
                    tar_bytes=loaded_layer.data.tar_bytes,
                )
            )
        compressed = [layer.data.compressed_bytes for layer in loaded.layers]
        ctx.image = ImageInfo(
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
            read_via=loaded.read_via,
        )
