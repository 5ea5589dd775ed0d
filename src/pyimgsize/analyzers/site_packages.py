"""Site-packages directories: where they are, what kind, and their bytes (design.md §3).

- found: every `site-packages`/`dist-packages` directory of the final view (walked without
  following symlinks, so `lib64 -> lib` is reported once, under its real path); a symlink of
  that name to a directory with another name makes its target one; directories named by the
  image's `PYTHONPATH` that hold `*.dist-info`/`*.egg-info`.
- bytes: all regular files below it, each inode once, whoever owns them; `unowned_bytes`: the
  part no distribution owns.
- kind: venv (a `pyvenv.cfg` beside its `lib/`), conda, user, system, local, pythonpath, other.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import islice
from operator import attrgetter, le

from pyimgsize.analyzers.context import Context
from pyimgsize.fs.index import FileIndex, InodeSet
from pyimgsize.fs.merge import Dir, Inode, MergedFS
from pyimgsize.paths import normalize
from pyimgsize.report import Categories, SitePackages

SITE_NAMES = frozenset({"site-packages", "dist-packages"})

_SITE_KIND_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(^|/)\.local/lib/python[^/]+/site-packages$"), "user"),
    (re.compile(r"^usr/lib/python3/dist-packages$"), "system"),
    (re.compile(r"^usr/lib(64)?/python[^/]+/(site|dist)-packages$"), "system"),
    (re.compile(r"^usr/local/lib(64)?/python[^/]+/(site|dist)-packages$"), "local"),
)


def find_site_packages(fs: MergedFS, index: FileIndex, env: dict[str, str]) -> list[str]:
    """Real paths of the site-packages directories, sorted."""
    sites = [d for d in index.dirs if d.rpartition("/")[2] in SITE_NAMES]
    seen = set(sites)
    for link in index.symlinks:
        if link.rpartition("/")[2] not in SITE_NAMES:
            continue
        hit = fs.lookup(link, follow_last=True)
        if hit is not None and isinstance(hit[1], Dir) and hit[0] not in seen:
            sites.append(hit[0])
            seen.add(hit[0])
    for entry in env.get("PYTHONPATH", "").split(":"):
        if not entry.strip():
            continue
        norm, _ = normalize(entry.strip())
        hit = fs.lookup(norm, follow_last=True)
        if hit is None:
            continue
        real, node = hit
        if not isinstance(node, Dir) or real in seen:
            continue
        if any(n.endswith((".dist-info", ".egg-info")) for n in node.children):
            sites.append(real)
            seen.add(real)
    return sorted(sites)


def _site_kind(site: str, index: FileIndex, pythonpath: set[str]) -> str:
    prefix = site.split("/lib/python", maxsplit=1)[0] if "/lib/python" in site else None
    if prefix is not None:
        if f"{prefix}/pyvenv.cfg" in index.files:
            return "venv"
        if f"{prefix}/conda-meta/history" in index.files or f"{prefix}/conda-meta" in index.dirs:
            return "conda"
    for pattern, kind in _SITE_KIND_RULES:
        if pattern.search(site):
            return kind
    if site in pythonpath:
        return "pythonpath"
    return "other"


def _unowned_bytes(
    site: str, inodes: InodeSet, total: int, ctx: Context, owned_linked: set[Inode]
) -> int:
    """Bytes of the site's inodes (`total` in all) that no distribution owns.

    When no file is hard-linked, no path is owned twice and each distribution's paths are
    sorted (as `InodeSet.of` keeps them), the owned bytes below the site are the runs of the
    distributions' paths that start with `<site>/` (found by bisection), not a lookup per
    file; otherwise, a lookup per file."""
    owned_once = sum(map(len, (d.paths for d in ctx.distributions))) == len(ctx.owner)
    dist_sets = ctx.distribution_inodes
    if not (owned_once and inodes.one_path_each() and all(map(_in_order, dist_sets))):
        return inodes.bytes_outside(ctx.owner, owned_linked)
    start, end = f"{site}/", f"{site}0"  # "0" follows "/": every path below sorts in between
    owned = 0
    for d in dist_sets:
        paths = d.paths
        lo = bisect_left(paths, start)
        hi = bisect_left(paths, end, lo)
        if lo < hi:
            below = d.inodes[lo:hi]
            owned += sum(
                map(_SIZE, below if d.one_path_each() else [i for i in below if i.links == 1])
            )
    return total - owned


def _in_order(s: InodeSet) -> bool:
    paths = s.paths
    return all(map(le, paths, islice(paths, 1, None)))


_SIZE = attrgetter("size")


class SitePackagesAnalyzer:
    """Reads `sites`, `owner`, `distribution_inodes`; sets `site_files`, `site_packages` and
    `python` (the union of the site-packages directories and the distributions' files)."""

    metadata = ()

    def run(self, ctx: Context) -> None:
        index = ctx.index
        # every owned path is one of a distribution's: of its inodes, the hard-linked ones
        owned_linked: set[Inode] = {
            inode
            for d in ctx.distribution_inodes
            if not d.one_path_each()  # asked once: the union below asks again
            for inode in d.inodes
            if inode.links != 1
        }
        pythonpath = {s for s in ctx.sites if s.rpartition("/")[2] not in SITE_NAMES}
        site_inodes: list[InodeSet] = []
        for site in ctx.sites:
            paths = index.files_below(site)
            ctx.site_files[site] = paths
            # distinct, in walk order: nearly sorted already, so sorting them is cheap
            inodes = InodeSet.of(sorted(paths), index, distinct_sorted=True)
            site_inodes.append(inodes)
            cats = inodes.by_category()
            ctx.site_packages.append(
                SitePackages(
                    path=f"/{site}",
                    bytes=cats.total(),
                    unowned_bytes=_unowned_bytes(site, inodes, cats.total(), ctx, owned_linked),
                    categories=Categories(**cats),
                    kind=_site_kind(site, index, pythonpath),
                    files=len(inodes),
                )
            )
        ctx.python = InodeSet.union_below(
            list(zip(ctx.sites, site_inodes, strict=True)), ctx.distribution_inodes
        )
