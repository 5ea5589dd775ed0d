"""Distributions: who owns which file, and each distribution's bytes (design.md §3).

Each `*.dist-info`/`*.egg-info` in a site-packages directory is read by its metadata format
(`pyimgsize.analyzers.ownership`); without a file list of its own, a Debian package's `.list`
may own it. A distribution owns every file inside its own metadata directory (listed or not),
every listed file that is a visible regular file (real path, through symlinked parents), and
the bytecode compiled from its listed `.py` files wherever and whenever it was written (uv never
lists it, pip lists it with no size). RECORD decides ownership, the final view decides size.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyimgsize.analyzers.context import Context
from pyimgsize.analyzers.ownership import FORMATS, Distribution, Ownership, listed_by_dpkg
from pyimgsize.analyzers.ownership import dpkg as dpkg_format
from pyimgsize.findings import Finding
from pyimgsize.fs.index import FileIndex, InodeSet
from pyimgsize.fs.merge import Dir
from pyimgsize.report import Categories, Package


def _name_from_dir(dirname: str) -> tuple[str, str | None]:
    stem = dirname.rsplit(".", 1)[0]
    name, _, rest = stem.partition("-")
    version = rest.split("-py")[0] if rest else None
    return name, version or None


def read_distributions(ctx: Context) -> list[Distribution]:
    """Every distribution of every site-packages directory, with the files it owns."""
    fs, index, problems = ctx.fs, ctx.index, ctx.problems
    canonical = index.canonical_paths()  # owned paths kept as the index's strings
    dists: list[Distribution] = []
    for site in ctx.sites:
        node = fs.lookup(site)
        if node is None or not isinstance(node[1], Dir):
            continue
        for child_name in sorted(node[1].children):
            child = node[1].children[child_name]
            fmt = next((f for f in FORMATS if f.claims(child_name, child)), None)
            if fmt is None:
                continue
            meta_path = f"{site}/{child_name}"
            listing = fmt.read(index, site, meta_path, problems)
            name, version = listing.name, listing.version
            if not name:
                name, dir_version = _name_from_dir(child_name)
                version = version or dir_version
            ownership: Ownership = listing.ownership
            listed = listing.files
            if listed is None:
                listed = listed_by_dpkg(index, site, meta_path)
                if listed is not None:
                    ownership = "dpkg"
                elif fmt.requires_file_list:
                    problems.append(
                        Finding(
                            "no-record",
                            "record",
                            meta_path,
                            facts={"name": name, "version": version},
                        )
                    )
            dist = Distribution(
                name=name,
                version=version,
                installer=listing.installer,
                site=site,
                metadata_path=meta_path,
                ownership=ownership,
            )
            # the distribution's own metadata directory (or single metadata file)
            owned: set[str] = set()
            if isinstance(child, Dir):
                owned.update(index.files_below(meta_path))
            elif meta_path in index.files:
                owned.add(meta_path)
            _own_listed(dist, owned, listed or [], index, canonical)
            dist.paths = sorted(owned)
            if listing.climbing:
                problems.append(
                    Finding(
                        "listed-outside-root",
                        "record",
                        meta_path,
                        facts={
                            "name": dist.name,
                            "count": len(listing.climbing),
                            "example": listing.climbing[0],
                            "listing": ownership,
                        },
                    )
                )
            if dist.missing:
                problems.append(
                    Finding(
                        "listed-missing",
                        "record",
                        meta_path,
                        facts={"name": dist.name, "count": dist.missing, "listing": ownership},
                    )
                )
            dists.append(dist)
    return dists


def _own_listed(
    dist: Distribution,
    paths: set[str],
    listed: list[str],
    index: FileIndex,
    canonical: Mapping[str, str],
) -> None:
    """Add to `paths` the listed files that are visible regular files, and the bytecode of
    listed `.py` files; count in `dist` the listed files that are gone. `canonical` is
    `index.canonical_paths()`."""
    pycs = index.pycs.by_source
    files = index.files
    # most rows name a visible file by its real path: those in bulk, the rest one by one
    found = [path for path in map(canonical.get, listed) if path is not None]
    paths.update(found)
    for source in [path for path in found if path.endswith(".py")]:
        compiled = pycs.get(source)
        if compiled:
            paths.update(compiled)
    if len(found) == len(listed):
        return
    for path in listed:
        if path in files:
            continue
        real = index.resolve_file(path)
        if real is not None:
            paths.add(real)
        elif index.is_dir(path):
            continue  # dpkg lists every directory; a directory holds no bytes
        else:
            dist.missing += 1
        if path.endswith(".py"):
            # pycs are indexed by real path: resolve the row (absolute rows may go through a
            # symlink such as a venv's lib64 -> lib), even when the source itself is gone
            compiled = pycs.get(real or index.real_path(path))
            if compiled:
                paths.update(compiled)


class DistributionsAnalyzer:
    """Sets `distributions`, `owner`, `distribution_inodes` and `packages`."""

    metadata = (*(m for f in FORMATS for m in f.metadata), *dpkg_format.metadata)

    def run(self, ctx: Context) -> None:
        dists = read_distributions(ctx)
        ctx.done_reading_contents()  # RECORDs read: not held while the tables below grow
        owner: dict[str, Distribution] = {}
        shared_paths: set[str] = set()
        for d in dists:
            mine = dict.fromkeys(d.paths, d)
            if owner.keys().isdisjoint(mine):
                owner.update(mine)
                continue
            for p in d.paths:
                # a distribution's paths are distinct: one owned already is another's too
                if owner.setdefault(p, d) is not d:
                    shared_paths.add(p)
        shared = sorted(shared_paths)
        if shared:
            ctx.problems.append(
                Finding(
                    "listed-twice",
                    "record",
                    shared[0],
                    facts={"count": len(shared), "example": f"/{shared[0]}"},
                )
            )
        ctx.distributions = dists
        ctx.owner = owner
        ctx.distribution_inodes = [
            InodeSet.of(d.paths, ctx.index, distinct_sorted=True) for d in dists
        ]
        ctx.packages = [
            _package(d, inodes) for d, inodes in zip(dists, ctx.distribution_inodes, strict=True)
        ]


def _package(d: Distribution, inodes: InodeSet) -> Package:
    cats, by_layer = inodes.by_category_and_layer()
    return Package(
        name=d.name,
        version=d.version,
        installer=d.installer,
        site_packages=f"/{d.site}",
        bytes=cats.total(),
        files=len(inodes),
        categories=Categories(**cats),
        layers={str(k): v.total() for k, v in sorted(by_layer.items())},
        metadata_path=f"/{d.metadata_path}",
        ownership=d.ownership,
        layer_categories={str(k): Categories(**v) for k, v in sorted(by_layer.items())},
    )
