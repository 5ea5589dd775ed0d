"""Python attribution over the merged filesystem (design.md §3).

- site-packages: every `site-packages`/`dist-packages` directory of the final view (walked without
  following symlinks, so `lib64 -> lib` is reported once, under its real path), plus directories
  named by the image's `PYTHONPATH` that hold `*.dist-info`/`*.egg-info`.
- distributions: `*.dist-info` (RECORD, relative to the site-packages directory or absolute) and
  `*.egg-info` (installed-files.txt, relative to the egg-info directory); without a file list,
  Debian's `/var/lib/dpkg/info/*.list`. RECORD decides ownership, the final view decides size.
  Every file inside the distribution's own metadata directory is its metadata, listed or not.
  Bytecode compiled from a listed `.py` belongs to the same distribution (uv never lists it,
  pip lists it with no size) wherever and whenever it was written.
  (PyPA "Recording installed projects": https://packaging.python.org/specifications/recording-installed-packages/)
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.parser import HeaderParser
from typing import Literal

from pyimgsize.analyzers.categories import category, is_bytecode, pyc_source, pyc_tag
from pyimgsize.findings import Finding
from pyimgsize.fs.merge import Dir, File, Inode, MergedFS, Symlink
from pyimgsize.layers.reader import normalize

Ownership = Literal["RECORD", "installed-files.txt", "dpkg", "none"]
SITE_NAMES = frozenset({"site-packages", "dist-packages"})
_STDLIB_DIR = re.compile(r"(^|/)lib/python(3\.\d+)t?$")
_PYTHON_EXE = re.compile(r"(^|/)bin/python(3\.\d+)$")


@dataclass
class Distribution:
    name: str
    version: str | None
    installer: str | None
    site: str  # real path of the site-packages directory
    metadata_path: str
    ownership: Ownership
    paths: set[str] = field(default_factory=set)  # owned visible regular files (real paths)
    missing: int = 0  # listed files absent from the final view


@dataclass
class FileIndex:
    """The final view's regular files and their inodes, built in one walk."""

    files: dict[str, File]
    inode_paths: dict[int, list[str]]
    dirs: list[str]
    symlinks: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, fs: MergedFS) -> FileIndex:
        files: dict[str, File] = {}
        inode_paths: dict[int, list[str]] = defaultdict(list)
        dirs: list[str] = []
        symlinks: list[str] = []
        for path, node in fs.walk():
            if isinstance(node, File):
                files[path] = node
                inode_paths[id(node.inode)].append(path)
            elif isinstance(node, Dir):
                dirs.append(path)
            elif isinstance(node, Symlink):
                symlinks.append(path)
        return cls(files, dict(inode_paths), dirs, symlinks)

    def data(self, path: str) -> bytes | None:
        f = self.files.get(path)
        return None if f is None else f.inode.data

    @functools.cached_property
    def dpkg(self) -> DpkgIndex:
        """Debian's file lists, read once on first use: distributions without a file list and
        stray wheels both ask, most images neither."""
        return DpkgIndex(self)


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", "replace")


def _metadata(raw: bytes | None) -> tuple[str | None, str | None]:
    text = _text(raw)
    if not text:
        return None, None
    msg = HeaderParser().parsestr(text, headersonly=True)
    return msg.get("Name"), msg.get("Version")


def _name_from_dir(dirname: str) -> tuple[str, str | None]:
    stem = dirname.rsplit(".", 1)[0]
    name, _, rest = stem.partition("-")
    version = rest.split("-py")[0] if rest else None
    return name, version or None


def find_site_packages(fs: MergedFS, index: FileIndex, env: dict[str, str]) -> list[str]:
    """Real paths of the site-packages directories (design.md §3).

    Directories named `site-packages`/`dist-packages`; a symlink of that name to a directory
    with another name (`site-packages -> /opt/site`) makes its target one, under its real path;
    the image's `PYTHONPATH` entries that hold `*.dist-info`/`*.egg-info`.
    """
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


class DpkgIndex:
    """Which Debian package lists which path (`/var/lib/dpkg/info/<pkg>.list`), built lazily."""

    def __init__(self, index: FileIndex) -> None:
        self.owner: dict[str, str] = {}
        self.paths: dict[str, list[str]] = defaultdict(list)
        prefix = "var/lib/dpkg/info/"
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


def _resolve_owned(fs: MergedFS, index: FileIndex, path: str) -> str | None:
    """The real path of a listed file when it is a visible regular file."""
    if path in index.files:
        return path
    hit = fs.lookup(path)
    if hit is not None and isinstance(hit[1], File):
        return hit[0]
    return None


def _is_dir(fs: MergedFS, path: str) -> bool:
    hit = fs.lookup(path, follow_last=True)
    return hit is not None and isinstance(hit[1], Dir)


def _real_path(fs: MergedFS, path: str) -> str:
    """`path` with its parent directories resolved through symlinks (the last one kept)."""
    parent, _, base = path.rpartition("/")
    if not parent:
        return path
    real_parent = fs.resolve(parent, follow_last=True)
    if real_parent is None:
        return path
    return f"{real_parent}/{base}" if real_parent else base


def _join(base: str, rel: str) -> tuple[str, bool]:
    """A listed path resolved against `base` (absolute ones against the image root), and
    whether its `..` climbed above the image root (clamped there, never out of the image)."""
    if rel.startswith("/"):
        return normalize(rel.lstrip("/"))
    return normalize(f"{base}/{rel}" if base else rel)


def read_distributions(
    fs: MergedFS,
    index: FileIndex,
    sites: Iterable[str],
    *,
    pycs: PycIndex,
    problems: list[Finding],
) -> list[Distribution]:
    dists: list[Distribution] = []
    for site in sites:
        node = fs.lookup(site)
        if node is None or not isinstance(node[1], Dir):
            continue
        for child_name in sorted(node[1].children):
            child = node[1].children[child_name]
            meta_path = f"{site}/{child_name}"
            if child_name.endswith(".dist-info") and isinstance(child, Dir):
                kind = "dist-info"
            elif child_name.endswith(".egg-info") and isinstance(child, Dir | File):
                kind = "egg-info"
            else:
                continue
            listed: list[str] | None = None
            climbing: list[str] = []
            ownership: Ownership = "none"
            if kind == "dist-info":
                name, version = _metadata(index.data(f"{meta_path}/METADATA"))
                record = index.data(f"{meta_path}/RECORD")
                if record is not None:
                    ownership = "RECORD"
                    listed = []
                    try:
                        for row in csv.reader(io.StringIO(record.decode("utf-8", "replace"))):
                            if row and row[0].strip():
                                path, climbed = _join(site, row[0].strip())
                                listed.append(path)
                                if climbed:
                                    climbing.append(row[0].strip())
                    except csv.Error as exc:
                        problems.append(
                            Finding(f"RECORD cannot be parsed: {exc}", "record", meta_path)
                        )
                elif f"{meta_path}/RECORD" in index.files:
                    problems.append(Finding("RECORD could not be read", "record", meta_path))
            elif isinstance(child, Dir):
                name, version = _metadata(index.data(f"{meta_path}/PKG-INFO"))
                files_txt = index.data(f"{meta_path}/installed-files.txt")
                if files_txt is not None:
                    ownership = "installed-files.txt"
                    listed = []
                    for line in files_txt.decode("utf-8", "replace").splitlines():
                        if line.strip():
                            path, climbed = _join(meta_path, line.strip())
                            listed.append(path)
                            if climbed:
                                climbing.append(line.strip())
            else:
                name, version = _metadata(index.data(meta_path))
            if not name:
                name, dir_version = _name_from_dir(child_name)
                version = version or dir_version
            installer_raw = index.data(f"{meta_path}/INSTALLER") if kind == "dist-info" else None
            installer = (_text(installer_raw) or "").strip() or None
            if listed is None:
                pkg = index.dpkg.owner.get(meta_path)
                if pkg is not None:
                    ownership = "dpkg"  # the installer stays what INSTALLER says: none here
                    listed = [p for p in index.dpkg.paths[pkg] if p.startswith(f"{site}/")]
                elif kind == "dist-info":
                    problems.append(
                        Finding(
                            f"{name} {version or ''}".strip()
                            + ": no RECORD; only its metadata directory is attributed",
                            "record",
                            meta_path,
                        )
                    )
            dist = Distribution(
                name=name,
                version=version,
                installer=installer,
                site=site,
                metadata_path=meta_path,
                ownership=ownership,
            )
            # the distribution's own metadata directory (or single metadata file)
            if isinstance(child, Dir):
                dist.paths.update(p for p, n in fs.walk(meta_path) if isinstance(n, File))
            elif meta_path in index.files:
                dist.paths.add(meta_path)
            for path in listed or []:
                real = _resolve_owned(fs, index, path)
                if real is not None:
                    dist.paths.add(real)
                elif _is_dir(fs, path):
                    continue  # dpkg lists every directory; a directory holds no bytes
                else:
                    dist.missing += 1
                if path.endswith(".py"):
                    # pycs are indexed by real path: resolve the row (absolute rows may go
                    # through a symlink such as a venv's lib64 -> lib), even when the source
                    # itself is gone
                    source = real or _real_path(fs, path)
                    for pyc in pycs.by_source.get(source, ()):
                        dist.paths.add(pyc)
            if climbing:
                problems.append(
                    Finding(
                        f"{dist.name}: {len(climbing)} path(s) in its {ownership} point outside "
                        f"the image root (e.g. {climbing[0]!r}); read as paths inside the image",
                        "record",
                        meta_path,
                    )
                )
            if dist.missing:
                problems.append(
                    Finding(
                        f"{dist.name}: {dist.missing} file(s) listed in its {ownership} are not "
                        "in the image",
                        "record",
                        meta_path,
                    )
                )
            dists.append(dist)
    return dists


def interpreter_tags(index: FileIndex, fs: MergedFS) -> list[str]:
    """Cache tags of the interpreters in the image, from stdlib dirs and bin/python3.X."""
    tags: set[str] = set()
    for d in index.dirs:
        m = _STDLIB_DIR.search(d)
        if m and (f"{d}/os.py" in index.files or f"{d}/os.pyc" in index.files):
            tags.add("cpython-" + m.group(2).replace(".", ""))
    for path in index.files:
        m = _PYTHON_EXE.search(path)
        if m:
            tags.add("cpython-" + m.group(2).replace(".", ""))
    return sorted(tags)


def unique_inodes(paths: Iterable[str], index: FileIndex) -> dict[int, tuple[Inode, str]]:
    """Each inode once, with the first of its paths (in sorted order) that was given."""
    out: dict[int, tuple[Inode, str]] = {}
    for p in sorted(paths):
        inode = index.files[p].inode
        out.setdefault(id(inode), (inode, p))
    return out


__all__ = [
    "Distribution",
    "DpkgIndex",
    "FileIndex",
    "PycIndex",
    "category",
    "find_site_packages",
    "interpreter_tags",
    "pyc_tag",
    "read_distributions",
    "unique_inodes",
]
