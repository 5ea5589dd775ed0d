"""The file tree of an analysed image, for the HTML treemap (`pyimgsize.tree`).

Not part of `PIPELINE`: only `--format html` asks for it (`api.inspect_with_tree`), after the
pipeline has run, so the other formats pay nothing. It reads what the analyzers found: the
distributions and the paths they own, the site-packages directories, the caches and stray
wheels; every visible file and every dead inode of the merged filesystem becomes one record.
"""

from __future__ import annotations

from pyimgsize.analyzers.context import Context
from pyimgsize.paths import cached_category
from pyimgsize.tree import FileTree, Owner, build_tree


def file_tree(ctx: Context) -> FileTree:
    """Every visible inode once (claimed by a distribution, else its site-packages directory,
    else a cache, else nobody) and every dead inode under the layer that stored it."""
    return build_tree(
        ctx.index.files,
        ctx.fs.inodes_by_layer,
        sites=ctx.sites,
        dists=[
            (Owner("dist", f"/{d.site}", d.name, d.version), d.paths) for d in ctx.distributions
        ],
        caches=[(Owner("cache", c.path, c.kind), c.path.lstrip("/")) for c in ctx.caches],
        category=cached_category,
    )
