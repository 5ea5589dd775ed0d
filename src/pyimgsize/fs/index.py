"""Indexes over the merged filesystem's final view, and the one way its bytes are counted.

- `FileIndex`: every visible regular file (with its inode), directory and symlink, built in one
  walk; lookups of listed paths through symlinked parents.
- `PycIndex`: which bytecode files were compiled from which source (PEP 3147 names).
- `DpkgIndex`: which Debian package lists which path (`/var/lib/dpkg/info/<pkg>.list`).
- `InodeSet`: a set of files counted the way design.md §2 counts every scope: a file and its
  hardlinks (one inode) once, by category and by the layer that stored the bytes.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Collection, ItemsView, Iterable

from pyimgsize.fs.merge import Dir, File, Inode, MergedFS, Symlink
from pyimgsize.layers.content import MetadataFile
from pyimgsize.paths import cached_category, is_bytecode, normalize, pyc_source

DPKG_INFO = "var/lib/dpkg/info"
DPKG_LISTS = MetadataFile("*.list", within=DPKG_INFO)
"""The files `DpkgIndex` reads: whoever asks `FileIndex.dpkg` declares these."""


class FileIndex:
    """The final view's regular files and their inodes, directories and symlinks, in one walk."""

    def __init__(self, fs: MergedFS) -> None:
        self.fs = fs
        self.files: dict[str, File] = {}
        inode_paths: dict[int, list[str]] = defaultdict(list)
        self.dirs: dict[str, Dir] = {}  # path -> node: no lookup from the root again
        self.symlinks: list[str] = []
        for path, node in fs.walk():
            if isinstance(node, File):
                self.files[path] = node
                inode_paths[id(node.inode)].append(path)
            elif isinstance(node, Dir):
                self.dirs[path] = node
            elif isinstance(node, Symlink):
                self.symlinks.append(path)
        self.inode_paths: dict[int, list[str]] = dict(inode_paths)

    def data(self, path: str) -> bytes | None:
        """The kept contents of the visible file at `path` (a declared metadata file)."""
        f = self.files.get(path)
        return None if f is None else f.inode.data

    def resolve_file(self, path: str) -> str | None:
        """The real path of `path` when it is a visible regular file (through symlinked
        parents), else None."""
        if path in self.files:
            return path
        hit = self.fs.lookup(path)
        if hit is not None and isinstance(hit[1], File):
            return hit[0]
        return None

    def is_dir(self, path: str) -> bool:
        hit = self.fs.lookup(path, follow_last=True)
        return hit is not None and isinstance(hit[1], Dir)

    def real_path(self, path: str) -> str:
        """`path` with its parent directories resolved through symlinks (the last one kept)."""
        parent, _, base = path.rpartition("/")
        if not parent:
            return path
        real_parent = self.fs.resolve(parent, follow_last=True)
        if real_parent is None:
            return path
        return f"{real_parent}/{base}" if real_parent else base

    @functools.cached_property
    def dpkg(self) -> DpkgIndex:
        """Debian's file lists, read once on first use (most images never ask). Readers
        declare `DPKG_LISTS` so that the layer reader keeps them."""
        return DpkgIndex(self)

    @functools.cached_property
    def pycs(self) -> PycIndex:
        return PycIndex(self)


class DpkgIndex:
    """Which Debian package lists which path (`/var/lib/dpkg/info/<pkg>.list`)."""

    def __init__(self, index: FileIndex) -> None:
        self.owner: dict[str, str] = {}
        self.paths: dict[str, list[str]] = defaultdict(list)
        prefix = f"{DPKG_INFO}/"
        for path, f in index.files.items():
            if not path.startswith(prefix) or not path.endswith(".list") or f.inode.data is None:
                continue
            pkg = path[len(prefix) : -len(".list")]
            for line in f.inode.data.decode("utf-8", "replace").splitlines():
                norm, _ = normalize(line.strip())
                if norm:
                    self.owner.setdefault(norm, pkg)
                    self.paths[pkg].append(norm)


class PycIndex:
    """Source path -> the bytecode files compiled from it."""

    def __init__(self, index: FileIndex) -> None:
        self.by_source: dict[str, list[str]] = defaultdict(list)
        for path in index.files:
            if is_bytecode(path):
                src = pyc_source(path)
                if src is not None:
                    self.by_source[src].append(path)


InodeKey = int
"""An inode's identity within one analysis (`id()` of the merged filesystem's `Inode`)."""


class InodeSet:
    """Files counted once per inode, each inode with the first of its paths (in sorted order)
    that was given: the path that decides its category.

    Every scope of the report (a site-packages directory, a distribution, a cache, the Python
    union, all bytecode) is one `InodeSet`, so that a file and its hardlinks count once in each
    (design.md §2) and each scope counts its bytes by category and layer the same way.
    """

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: dict[InodeKey, tuple[Inode, str]] = {}

    @classmethod
    def of(cls, paths: Iterable[str], index: FileIndex) -> InodeSet:
        """The inodes of these visible regular files."""
        out = cls()
        items = out._items
        files = index.files
        for p in sorted(paths):
            inode = files[p].inode
            items.setdefault(id(inode), (inode, p))
        return out

    @classmethod
    def union(cls, sets: Iterable[InodeSet]) -> InodeSet:
        """All their inodes; an inode keeps its path from the first set that has it."""
        out = cls()
        items = out._items
        for s in sets:
            for key, item in s._items.items():
                items.setdefault(key, item)
        return out

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def items(self) -> ItemsView[InodeKey, tuple[Inode, str]]:
        return self._items.items()

    @property
    def bytes(self) -> int:
        return sum(inode.size for inode, _path in self._items.values())

    def bytes_outside(self, keys: Collection[InodeKey]) -> int:
        """Bytes of the inodes not in `keys`."""
        return sum(inode.size for key, (inode, _p) in self._items.items() if key not in keys)

    def by_category(self) -> Counter[str]:
        cats: Counter[str] = Counter()
        for inode, path in self._items.values():
            cats[cached_category(path)] += inode.size
        return cats

    def by_layer(self) -> dict[int, Counter[str]]:
        """Bytes by the layer that stored them, then by category (every storing layer is a
        key, even one that stored only empty files)."""
        layers: dict[int, Counter[str]] = defaultdict(Counter)
        for inode, path in self._items.values():
            layers[inode.layer][cached_category(path)] += inode.size
        return dict(layers)
