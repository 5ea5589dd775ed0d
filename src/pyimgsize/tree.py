"""The file-level picture of an image: one record per visible inode and per dead inode.

The wire report (`InspectReport`) has no per-file list; the HTML treemap needs one. A
`FileTree` is a partition of the image's bytes: every visible inode appears once (under its
first path in sorted order, with the owner that claims it first: a distribution, else its
site-packages directory, else a cache, else nothing), and every dead inode appears once under
the layer that stored it. So the visible records add up to `image.bytes`, and all records to
`image.layer_bytes`.

`grouped()` keeps the largest files as they are and folds the rest, per directory and per
(owner, category, layer, dead), into one record that counts them: a 40,000-file image stays a
file of a few hundred kilobytes while every total is unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pyimgsize.fs.merge import File, Inode

TREE_CATEGORIES: tuple[str, ...] = (
    "bytecode",
    "source",
    "native",
    "metadata",
    "data",
    "cache",
    "dead",
    "other",
)
"""Colour categories: the Python categories of design.md §3 for Python files, `cache` for
caches and stray wheels, `dead` for bytes no container sees, `other` for everything else."""

OwnerKind = Literal["dist", "site", "cache"]


@dataclass(frozen=True, slots=True)
class Owner:
    """Who a file belongs to: a distribution (`name`, `version`, its site-packages `path`), a
    site-packages directory's unowned files (`path`), or a cache / stray wheel (`path`, `name`
    = the cache kind)."""

    kind: OwnerKind
    path: str
    name: str = ""
    version: str | None = None


@dataclass(frozen=True, slots=True)
class TreeFile:
    """One visible or dead inode, or a group of `count` small ones in directory `dir`.

    `dir` and `name` are relative to the image root (no leading slash); a group has name "".
    `owner` indexes `FileTree.owners` (-1: none). `category` is one of `TREE_CATEGORIES`;
    a dead record's is `dead`, and `layer` is the layer that stored it."""

    dir: str
    name: str
    bytes: int
    category: str
    layer: int
    owner: int = -1
    dead: bool = False
    count: int = 1


@dataclass
class FileTree:
    owners: list[Owner] = field(default_factory=list)
    files: list[TreeFile] = field(default_factory=list)

    def visible_bytes(self) -> int:
        return sum(f.bytes for f in self.files if not f.dead)

    def stored_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def grouped(self, max_files: int = 12_000) -> FileTree:
        """The same bytes in at most `max_files` individual records plus one group per
        (directory, owner, category, layer, dead) for the rest (the smallest files)."""
        if len(self.files) <= max_files:
            return FileTree(list(self.owners), list(self.files))
        ordered = sorted(self.files, key=lambda f: (-f.bytes, f.dir, f.name))
        kept = ordered[:max_files]
        groups: dict[tuple[str, int, str, int, bool], list[TreeFile]] = defaultdict(list)
        for f in ordered[max_files:]:
            groups[(f.dir, f.owner, f.category, f.layer, f.dead)].append(f)
        for (directory, owner, cat, layer, dead), members in groups.items():
            if len(members) == 1:
                kept.append(members[0])
                continue
            kept.append(
                TreeFile(
                    dir=directory,
                    name="",
                    bytes=sum(m.bytes for m in members),
                    category=cat,
                    layer=layer,
                    owner=owner,
                    dead=dead,
                    count=sum(m.count for m in members),
                )
            )
        kept.sort(key=lambda f: (f.dead, f.dir, f.name, f.layer))
        return FileTree(list(self.owners), kept)

    def to_data(self) -> dict[str, Any]:
        """A compact JSON-ready form: directories and owners as tables, files as rows
        `[dir_index, name, bytes, category_index, layer, owner_index, dead, count]`."""
        dirs: dict[str, int] = {}
        rows: list[list[Any]] = []
        cats = {c: i for i, c in enumerate(TREE_CATEGORIES)}
        for f in self.files:
            d = dirs.setdefault(f.dir, len(dirs))
            rows.append(
                [d, f.name, f.bytes, cats[f.category], f.layer, f.owner, int(f.dead), f.count]
            )
        return {
            "categories": list(TREE_CATEGORIES),
            "dirs": list(dirs),
            "owners": [[o.kind, o.path, o.name, o.version] for o in self.owners],
            "files": rows,
        }


def split_path(path: str) -> tuple[str, str]:
    directory, _, name = path.rpartition("/")
    return directory, name


class TreeBuilder:
    """Collects records; owners are interned so each is stored once."""

    def __init__(self) -> None:
        self._owners: dict[Owner, int] = {}
        self._files: list[TreeFile] = []

    def owner(self, owner: Owner | None) -> int:
        if owner is None:
            return -1
        return self._owners.setdefault(owner, len(self._owners))

    def add(
        self,
        path: str,
        size: int,
        category: str,
        layer: int,
        owner: Owner | None = None,
        *,
        dead: bool = False,
    ) -> None:
        directory, name = split_path(path)
        self._files.append(
            TreeFile(directory, name, size, category, layer, self.owner(owner), dead)
        )

    def extend(self, files: Iterable[TreeFile]) -> None:
        self._files.extend(files)

    def build(self) -> FileTree:
        owners: Sequence[Owner] = sorted(self._owners, key=self._owners.__getitem__)
        return FileTree(list(owners), sorted(self._files, key=lambda f: (f.dead, f.dir, f.name)))


def build_tree(
    files: Mapping[str, File],
    inodes_by_layer: Sequence[Sequence[Inode]],
    *,
    sites: Iterable[str],
    dists: Iterable[tuple[Owner, Iterable[str]]],
    caches: Iterable[tuple[Owner, str]],
    category: Callable[[str], str],
) -> FileTree:
    """The file tree of a merged filesystem.

    `files`: every visible regular file by path (relative to the root); `inodes_by_layer`:
    what each layer stored (an inode with no visible link is dead); `sites`: the
    site-packages directories; `dists`: distributions with the paths they own; `caches`:
    caches with their path (a cache owns its path and everything below it; a stray wheel is
    a cache of one file). The first claim on an inode wins, in this
    order: distributions, site-packages (unowned), caches, nothing; the record carries the
    path through which it was claimed. `category` gives a Python file's category.
    """
    claims: dict[int, tuple[str, Owner | None, str]] = {}

    def claim(path: str, owner: Owner | None, cat: str) -> None:
        f = files.get(path)
        if f is not None:
            claims.setdefault(id(f.inode), (path, owner, cat))

    for owner, paths in dists:
        for p in sorted(paths):
            claim(p, owner, category(p))
    ordered = sorted(files)
    site_list = sorted(sites, key=len, reverse=True)
    if site_list:
        site_owner = {s: Owner("site", f"/{s}") for s in site_list}
        for p in ordered:
            for s in site_list:
                if p.startswith(f"{s}/"):
                    claim(p, site_owner[s], category(p))
                    break
    cache_list = list(caches)
    if cache_list:
        for p in ordered:
            for owner, top in cache_list:
                if p == top or p.startswith(f"{top}/"):
                    claim(p, owner, "cache")
                    break
    for p in ordered:
        claim(p, None, "other")

    builder = TreeBuilder()
    for path, claimant, cat in claims.values():
        inode = files[path].inode
        builder.add(path, inode.size, cat, inode.layer, claimant)
    for index, stored in enumerate(inodes_by_layer):
        for inode in stored:
            if inode.links == 0:
                builder.add(inode.dead_path or "?", inode.size, "dead", index, dead=True)
    return builder.build()
