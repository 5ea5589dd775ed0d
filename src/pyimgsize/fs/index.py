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
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from itertools import compress, repeat
from operator import and_, attrgetter, not_

from pyimgsize.fs.merge import Dir, File, Inode, MergedFS, Node, Symlink
from pyimgsize.layers.content import MetadataFile
from pyimgsize.paths import BYTECODE_SUFFIXES, category, normalize, pyc_names

DPKG_INFO = "var/lib/dpkg/info"
DPKG_LISTS = MetadataFile("*.list", within=DPKG_INFO)
"""The files `DpkgIndex` reads: whoever asks `FileIndex.dpkg` declares these."""


InodeKey = int
"""An inode's identity within one analysis (`id()` of the merged filesystem's `Inode`)."""


class FileIndex:
    """The final view's regular files and their inodes, directories and symlinks, in one walk.

    The walk visits what `MergedFS.walk()` yields, in the same order (parents before
    children, names sorted), so the files below any directory are one run of `files`:
    `files_below` hands them out without walking the tree again.
    """

    def __init__(self, fs: MergedFS) -> None:
        self.fs = fs
        files: dict[str, File] = {}
        dirs: dict[str, Dir] = {}  # path -> node: no lookup from the root again
        symlinks: list[str] = []
        order: list[str] = []
        spans: dict[str, tuple[int, int]] = {}  # directory -> its files are order[start:end]
        # one frame per directory being walked: its children's names still to visit (an
        # iterator, so that the walk resumes after a subdirectory), where its files start
        root = fs.root
        frames: list[tuple[str, Iterator[str], dict[str, Node], str, int]] = [
            ("", iter(sorted(root.children)), root.children, "", 0)
        ]
        while frames:
            prefix, names, children, top, start = frames[-1]
            for name in names:
                node = children[name]
                path = prefix + name
                if isinstance(node, File):
                    files[path] = node
                    if node._rare is None:
                        node._rare = path  # `indexed_at`, inline for the common case
                    else:
                        node.indexed_at(path)
                    order.append(path)
                elif isinstance(node, Dir):
                    dirs[path] = node
                    frames.append(
                        (f"{path}/", iter(sorted(node.children)), node.children, path, len(order))
                    )
                    break  # its subtree first, then this directory's next name
                elif isinstance(node, Symlink):
                    symlinks.append(path)
            else:
                frames.pop()
                spans[top] = (start, len(order))
        self.files = files
        self.dirs = dirs
        self.symlinks = symlinks
        self._order = order
        self._spans = spans

    @functools.cached_property
    def _hardlinked(self) -> dict[InodeKey, list[str]]:
        """The inodes with more than one visible path (`Inode.links`) -> their paths, in walk
        order; built on first use (only caches and stray wheels ask)."""
        out: dict[InodeKey, list[str]] = defaultdict(list)
        for path, inode in [(p, f.inode) for p, f in self.files.items() if f.inode.links > 1]:
            out[id(inode)].append(path)
        return dict(out)

    def paths_of(self, inode: Inode, path: str) -> list[str]:
        """Every visible path of `inode` (its hardlinks), given one of them, `path`."""
        if inode.links <= 1:
            return [path]
        return self._hardlinked.get(id(inode), [path])

    def files_below(self, top: str) -> list[str]:
        """The visible regular files below the directory at the real path `top` ("" is the
        root), in walk order: the files `fs.walk(top)` yields (none when `top` is not a
        directory)."""
        span = self._spans.get(top)
        return [] if span is None else self._order[span[0] : span[1]]

    def canonical_paths(self) -> Mapping[str, str]:
        """Each visible regular file's path -> the index's own string of it, for a caller that
        keeps paths read from elsewhere (a RECORD row): equal paths then share one string
        instead of one per list that names them. A view of `files` (each `File.path`), not
        a copy: a copy is a table of a million entries (~56 MB) at a million files."""
        return _CanonicalPaths(self.files)

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


class _CanonicalPaths(Mapping[str, str]):
    """A visible regular file's path -> `File.path`, the index's string of it."""

    __slots__ = ("_files",)

    def __init__(self, files: dict[str, File]) -> None:
        self._files = files

    def __getitem__(self, path: str) -> str:
        found = self._files[path].path
        if found is None:  # (not a file of this index)
            raise KeyError(path)
        return found

    def get(self, path: str, default: str | None = None) -> str | None:  # type: ignore[override]
        f = self._files.get(path)
        return default if f is None else f.path

    def __contains__(self, path: object) -> bool:
        return path in self._files

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def dead_inodes(fs: MergedFS) -> list[Inode]:
    """The inodes no visible path reaches (each with the last path it had), in the order the
    layers stored them: what `deleted-later` and dead bytes are made of."""
    return [
        inode
        for stored in fs.inodes_by_layer
        for inode in stored
        if inode.links == 0 and inode.dead_path is not None
    ]


class DpkgIndex:
    """Which Debian package lists which path (`/var/lib/dpkg/info/<pkg>.list`)."""

    def __init__(self, index: FileIndex) -> None:
        self.owner: dict[str, str] = {}
        self.paths: dict[str, list[str]] = defaultdict(list)
        prefix = f"{DPKG_INFO}/"
        for path in index.files_below(DPKG_INFO):  # what starts with `prefix`, in walk order
            data = index.files[path].inode.data
            if not path.endswith(".list") or data is None:
                continue
            pkg = path[len(prefix) : -len(".list")]
            for line in data.decode("utf-8", "replace").splitlines():
                norm, _ = normalize(line.strip())
                if norm:
                    self.owner.setdefault(norm, pkg)
                    self.paths[pkg].append(norm)


class PycIndex:
    """The visible bytecode files, each with its interpreter tag (PEP 3147 names, read once
    per file), and source path -> the bytecode files compiled from it.

    Lean at a million files: a tag is one string per interpreter, a source that is a visible
    file is the index's own string, and each source's bytecode files are a tuple."""

    def __init__(self, index: FileIndex) -> None:
        self.paths: list[str] = [p for p in index.files if p.endswith(BYTECODE_SUFFIXES)]
        """Every visible `.pyc`/`.pyo`, in walk order."""
        self.tag: dict[str, str | None] = {}
        """Bytecode path -> `pyc_tag`."""
        self.by_source: dict[str, tuple[str, ...]] = {}
        tags: dict[str, str] = {}
        files = index.files
        for path in self.paths:
            src, tag = pyc_names(path)
            self.tag[path] = tag if tag is None else tags.setdefault(tag, tag)
            if src is not None:
                f = files.get(src)  # a visible source: key by the index's own string of it
                if f is not None:
                    src = f.path or src
                self.by_source[src] = (*self.by_source.get(src, ()), path)

    @functools.cached_property
    def sorted_paths(self) -> list[str]:
        """`paths`, sorted."""
        return sorted(self.paths)


_CATEGORIES = ("metadata", "bytecode", "source", "native", "data")
"""The file categories (design.md §3); an `InodeSet` keeps each file's as its position here."""
_CODE = {name: code for code, name in enumerate(_CATEGORIES)}
_LINKS = attrgetter("links")


class InodeSet:
    """Files counted once per inode, each inode with the first of its paths (in sorted order)
    that was given: the path that decides its category.

    Every scope of the report (a site-packages directory, a distribution, a cache, the Python
    union, all bytecode) is one `InodeSet`, so that a file and its hardlinks count once in each
    (design.md §2) and each scope counts its bytes by category and layer the same way.

    Kept as parallel arrays (the inodes, their paths, their category codes), in order: a file
    with one visible path is its own inode, so only hard-linked inodes need a seen-set while
    the set is built, and the category of a path is computed once, when it enters a set built
    from paths (a union takes the codes of its parts).
    """

    __slots__ = ("_cats", "_inodes", "_one_path", "_paths")

    def __init__(self) -> None:
        self._inodes: list[Inode] = []
        self._paths: list[str] = []
        self._cats = bytearray()
        self._one_path: bool | None = None  # `one_path_each()`, once asked (until changed)

    @classmethod
    def of(
        cls, paths: Iterable[str], index: FileIndex, *, distinct_sorted: bool = False
    ) -> InodeSet:
        """The inodes of these visible regular files. With `distinct_sorted`, `paths` is a
        list already sorted with no path twice (a distribution's `paths`): the set keeps that
        list itself instead of a sorted copy."""
        out = cls()
        ordered = paths if distinct_sorted and isinstance(paths, list) else sorted(set(paths))
        files = index.files
        inodes = out._inodes = [files[p].inode for p in ordered]
        if not out.one_path_each():
            # some are hard-linked: each such inode once, with its first path
            linked: set[Inode] = set()
            kept = []
            for i, inode in enumerate(inodes):
                if inode.links != 1:
                    if inode in linked:
                        continue
                    linked.add(inode)
                kept.append(i)
            inodes = [inodes[i] for i in kept]
            ordered = [ordered[i] for i in kept]
        out._inodes = inodes
        out._paths = ordered
        out._cats = bytearray(map(_CODE.__getitem__, map(category, ordered)))
        return out

    @classmethod
    def union(cls, sets: Iterable[InodeSet]) -> InodeSet:
        """All their inodes; an inode keeps its path from the first set that has it."""
        out = cls()
        seen: set[Inode] = set()
        for s in sets:
            out._add(s, seen, ())
        return out

    @classmethod
    def union_below(
        cls, trees: Sequence[tuple[str, InodeSet]], others: Iterable[InodeSet]
    ) -> InodeSet:
        """`union([*tree sets, *others])` where each tree set is `of(index.files_below(top))`
        for its directory `top`, sorted by `top`: a file with one visible path is in a tree's
        set exactly when its path is below that `top`, so only hard-linked inodes and files
        outside every tree go through a seen-set (not the million files of the trees)."""
        out = cls()
        seen: set[Inode] = set()
        tops: tuple[str, ...] = ()
        for top, s in trees:
            prefix = f"{top}/" if top else ""
            if prefix.startswith(tops):
                continue  # below an earlier tree (sorted first): its files are all in that set
            out._add(s, seen, (), single_path_new=True)
            tops = (*tops, prefix)
        for s in others:
            out._add(s, seen, tops)
        return out

    def _add(
        self,
        s: InodeSet,
        seen: set[Inode],
        below: tuple[str, ...],
        *,
        single_path_new: bool = False,
    ) -> None:
        """Append `s`'s inodes not in `seen` (and add them to it). A file with one visible
        path whose path is below one of `below` is in already; with `single_path_new`, every
        such file of `s` is new (and is not added to `seen`).

        Decided in bulk (C-level passes over the arrays), in order: only the inodes that need
        the seen-set go through it one by one."""
        inodes, paths, cats = s._inodes, s._paths, s._cats
        self._one_path = None
        if single_path_new and s.one_path_each():
            self._inodes.extend(inodes)
            self._paths.extend(paths)
            self._cats.extend(cats)
            return
        single = s._one_link() if single_path_new or below else []
        if single_path_new:
            keep = bytearray(single)
            check: Iterable[int] = compress(range(len(inodes)), map(not_, single))
        else:
            keep = bytearray(len(inodes))
            if below:
                inside: Iterable[bool] = map(str.startswith, paths, repeat(below))
                if single:
                    inside = map(and_, single, inside)
                check = compress(range(len(inodes)), map(not_, inside))
            else:
                check = range(len(inodes))
        for i in check:
            inode = inodes[i]
            if inode not in seen:
                seen.add(inode)
                keep[i] = 1
        self._inodes.extend(compress(inodes, keep))
        self._paths.extend(compress(paths, keep))
        self._cats.extend(compress(cats, keep))

    def __len__(self) -> int:
        return len(self._inodes)

    def one_path_each(self) -> bool:
        """Whether every inode has one visible path (none is hard-linked): asked once."""
        if self._one_path is None:
            # a visible file has a path at least: no link count is below 1
            self._one_path = max(map(_LINKS, self._inodes), default=1) == 1
        return self._one_path

    def _one_link(self) -> list[bool]:
        """Per inode, whether it has one visible path; empty when all have
        (`one_path_each()`)."""
        return [] if self.one_path_each() else [inode.links == 1 for inode in self._inodes]

    def items(self) -> Iterator[tuple[Inode, str]]:
        """Each inode with its path, in order."""
        return zip(self._inodes, self._paths, strict=True)

    @property
    def inodes(self) -> list[Inode]:
        return self._inodes

    @property
    def paths(self) -> list[str]:
        """Each inode's path, in order (parallel to `inodes`)."""
        return self._paths

    @property
    def bytes(self) -> int:
        total: int = sum(map(_SIZE, self._inodes))
        return total

    def bytes_outside(self, paths: Container[str], linked: Container[Inode]) -> int:
        """Bytes of the inodes that no path of `paths` reaches, given `linked`: the
        hard-linked inodes those paths reach. A file with one visible path is reached when
        that path is in `paths` (no set of a million inodes is needed for that)."""
        inodes = self._inodes
        if self.one_path_each():
            sizes = [inode.size for inode in inodes]
            reached: int = sum(compress(sizes, map(paths.__contains__, self._paths)))
            return sum(sizes) - reached
        return sum(
            [
                inode.size
                for inode, path in zip(inodes, self._paths, strict=True)
                if (path not in paths if inode.links == 1 else inode not in linked)
            ]
        )

    def by_category(self) -> Counter[str]:
        return _by_category([inode.size for inode in self._inodes], self._cats)

    def by_layer(self) -> dict[int, Counter[str]]:
        """Bytes by the layer that stored them, then by category (every storing layer is a
        key, even one that stored only empty files)."""
        return self.by_category_and_layer()[1]

    def by_category_and_layer(self) -> tuple[Counter[str], dict[int, Counter[str]]]:
        """`by_category()` and `by_layer()` in one pass (or, when the inodes come from a
        few layers, a few C-level passes: one per layer)."""
        inodes, cats = self._inodes, self._cats
        sizes = [inode.size for inode in inodes]
        layers = [inode.layer for inode in inodes]
        order = list(dict.fromkeys(layers))  # the storing layers, in order of first inode
        total = _by_category(sizes, cats)
        if len(order) == 1:
            return total, {order[0]: total.copy()}
        if len(order) <= _FEW_LAYERS:
            by_layer: dict[int, Counter[str]] = {}
            for layer in order:
                mine = list(map(layer.__eq__, layers))
                by_layer[layer] = _by_category(
                    list(compress(sizes, mine)), bytearray(compress(cats, mine))
                )
            return total, by_layer
        per_layer: dict[int, list[int]] = {}
        present: dict[int, bytearray] = {}
        for size, layer, cat in zip(sizes, layers, cats, strict=True):
            counts = per_layer.get(layer)
            if counts is None:
                counts = per_layer[layer] = [0] * len(_CATEGORIES)
                present[layer] = bytearray(len(_CATEGORIES))
            counts[cat] += size
            present[layer][cat] = 1
        return total, {
            layer: _counter(counts, [c for c, f in enumerate(present[layer]) if f])
            for layer, counts in per_layer.items()
        }


_SIZE = attrgetter("size")
_FEW_LAYERS = 6
"""Up to this many storing layers, bytes by layer are counted in one C-level pass per layer;
beyond, in one Python-level pass over the inodes."""
_ONLY = [bytes(int(i == code) for i in range(256)) for code in range(len(_CATEGORIES))]
"""Per category code, the `bytes.translate` table that maps it to 1 and every other to 0."""


def _by_category(sizes: list[int], cats: bytearray) -> Counter[str]:
    """Bytes by category name of files of these sizes and category codes (a key for every
    code present, even at 0 bytes, as counting file by file gives)."""
    present = set(cats)
    totals = [0] * len(_CATEGORIES)
    if len(present) == 1:
        totals[cats[0]] = sum(sizes)
    else:
        for c in present:
            totals[c] = sum(compress(sizes, cats.translate(_ONLY[c])))
    return _counter(totals, present)


def _counter(sizes: list[int], present: Iterable[int]) -> Counter[str]:
    """Bytes by category name, with a key for every category code in `present` (even at 0
    bytes, as counting file by file gives)."""
    return Counter({_CATEGORIES[c]: sizes[c] for c in sorted(set(present))})
