"""Ground truth for the end-to-end tests, measured inside a running container of the image.

Run with the container's own Python, reading this file from stdin and writing nothing:

    docker run --rm -i --network none --read-only --entrypoint python3 IMAGE -I -S -B - [TREE...]

(`-S` so no `.pth` file runs, `-B` so no `.pyc` is written.) It walks the container's
filesystem with `os.walk`/`os.lstat`, reads RECORD with `csv`, and prints one JSON document with
every number pyimgsize reports for Python, computed by the definitions of design.md §3 and
independently of pyimgsize's code:

- site-packages directories: every real directory named `site-packages` or `dist-packages`, plus
  `PYTHONPATH` entries holding a `*.dist-info`/`*.egg-info`; bytes (each inode once),
  unowned bytes and bytes per category of every regular file below.
- distributions: every `*.dist-info` (RECORD, relative to the site-packages directory) and
  `*.egg-info` (installed-files.txt, relative to the egg-info directory) in one; their files are
  the listed paths that exist as regular files, plus the bytecode compiled from listed `.py`
  files (`__pycache__/<stem>.<tag>[.opt-N].pyc` beside the source, and `<stem>.pyc`). A
  distribution with neither file (Debian's packaged egg-infos) owns what its dpkg `.list` names
  below the site-packages directory (§3 defines no dpkg rule; the Debian package's copyright and
  doc files are not the distribution's), and has no installer (it has no INSTALLER).
- caches: `*/.cache/pip`, `*/.cache/uv`, `*/.cache/pypoetry` (and `PIP_CACHE_DIR`,
  `UV_CACHE_DIR`), and stray `*.whl` files outside caches that no dpkg `.list` names: bytes and
  exclusive bytes (inodes with no path outside the cache).
- totals: python bytes, bytecode bytes (every `.pyc`/`.pyo`), cache bytes.
- per distribution, for `advise`: RECORD rows naming a `.pyc` (count and bytes), bytes in
  `tests/`/`test/` directories (bytecode aside) and of C headers / static libraries.
- trees: for each TREE argument, its bytes, files, bytes per category, bytes of `.whl` files and
  bytes under `__pycache__` directories (the tests derive expected dead bytes from these).

The container's own mounts (/proc, /sys, /dev and the files Docker bind-mounts into /etc) are
not part of the image and are skipped.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import stat
import sys
from email.parser import HeaderParser

SKIP_DIRS = ("/proc", "/sys", "/dev")
DOCKER_MOUNTS = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv")
CATEGORIES = ("bytecode", "source", "native", "metadata", "data")
CACHE_NAMES = {"pip": "pip", "uv": "uv", "pypoetry": "poetry"}
CACHE_ENV = {"PIP_CACHE_DIR": "pip", "UV_CACHE_DIR": "uv"}

Key = tuple[int, int]


class View:
    """Every regular file of the container's filesystem: path -> (inode key, size)."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[Key, int]] = {}
        self.paths_of: dict[Key, list[str]] = {}
        self.dirs: list[str] = []
        for top, dirnames, filenames in os.walk("/", followlinks=False):
            if top == "/":
                dirnames[:] = [d for d in dirnames if "/" + d not in SKIP_DIRS]
            real_dirs = []
            for name in dirnames:
                path = os.path.join(top, name)
                if stat.S_ISDIR(os.lstat(path).st_mode):
                    real_dirs.append(name)
                    self.dirs.append(path)
            dirnames[:] = real_dirs
            for name in filenames:
                path = os.path.join(top, name)
                if path in DOCKER_MOUNTS:
                    continue
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):
                    key = (st.st_dev, st.st_ino)
                    self.files[path] = (key, st.st_size)
                    self.paths_of.setdefault(key, []).append(path)

    def lookup(self, path: str) -> tuple[Key, int] | None:
        """A regular file at `path` (its parents may be symlinks, as in the running container)."""
        hit = self.files.get(path)
        if hit is not None:
            return hit
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        key = (st.st_dev, st.st_ino)
        return (key, st.st_size) if key in self.paths_of else None

    def below(self, directory: str) -> dict[str, tuple[Key, int]]:
        prefix = directory.rstrip("/") + "/"
        return {p: v for p, v in self.files.items() if p.startswith(prefix)}


def category(path: str) -> str:
    """design.md §3, first match wins."""
    parts = path.split("/")
    parents, name = parts[:-1], parts[-1]
    if any(p.endswith((".dist-info", ".egg-info")) for p in parents):
        return "metadata"
    if name.endswith((".pyc", ".pyo")):
        return "bytecode"
    if name.endswith((".py", ".pyi", ".pyx", ".pxd")):
        return "source"
    if (
        name.endswith(".so")
        or fnmatch.fnmatchcase(name, "*.so.*")
        or any(p.endswith(".libs") for p in parents)
    ):
        return "native"
    return "data"


def empty_categories() -> dict[str, int]:
    return dict.fromkeys(CATEGORIES, 0)


def sum_files(files: dict[str, tuple[Key, int]]) -> tuple[int, int, dict[str, int]]:
    """Bytes and count of distinct inodes, and bytes per category (first path of an inode)."""
    seen: set[Key] = set()
    total = 0
    cats = empty_categories()
    for path in sorted(files):
        key, size = files[path]
        if key in seen:
            continue
        seen.add(key)
        total += size
        cats[category(path)] += size
    return total, len(seen), cats


def read_headers(path: str) -> dict[str, str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            message = HeaderParser().parse(fh)
    except OSError:
        return {}
    return {k: str(v) for k, v in message.items()}


def read_text(path: str, newline: str | None = None) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace", newline=newline) as fh:
            return fh.read()
    except OSError:
        return None


class Pycache:
    """Directory listings of `__pycache__` directories, read once each."""

    def __init__(self) -> None:
        self.listings: dict[str, list[str]] = {}

    def compiled(self, source: str) -> list[str]:
        """Bytecode compiled from `source` (PEP 3147/488 names, any tag; legacy `<stem>.pyc`)."""
        directory, name = os.path.split(source)
        stem = name[: -len(".py")]
        out = [os.path.join(directory, stem + ".pyc")]
        cache_dir = os.path.join(directory, "__pycache__")
        if cache_dir not in self.listings:
            try:
                self.listings[cache_dir] = sorted(os.listdir(cache_dir))
            except OSError:
                self.listings[cache_dir] = []
        for entry in self.listings[cache_dir]:
            if not entry.endswith(".pyc"):
                continue
            parts = entry.split(".")
            if parts[0] != stem:
                continue
            if len(parts) == 3 or (
                len(parts) == 4 and parts[2].startswith("opt-") and parts[2][4:].isalnum()
            ):
                out.append(os.path.join(cache_dir, entry))
        return out


def dpkg_lists() -> dict[str, str]:
    """Every path a dpkg `.list` names -> the package's name."""
    owners: dict[str, str] = {}
    info = "/var/lib/dpkg/info"
    try:
        names = sorted(os.listdir(info))
    except OSError:
        return owners
    for name in names:
        if not name.endswith(".list"):
            continue
        text = read_text(os.path.join(info, name)) or ""
        package = name[: -len(".list")]
        for line in text.splitlines():
            if line.strip():
                owners.setdefault(line.strip(), package)
    return owners


def listed_paths(meta_dir: str, site: str, dpkg: dict[str, str]) -> tuple[str, list[str]]:
    """How a distribution's files are listed, and the listed paths (absolute, normalised)."""
    record = os.path.join(meta_dir, "RECORD")
    installed = os.path.join(meta_dir, "installed-files.txt")
    if meta_dir.endswith(".dist-info"):
        text = read_text(record)
        if text is None:
            return "none", []
        rows = [row[0] for row in csv.reader(text.splitlines()) if row and row[0]]
        return "RECORD", [os.path.normpath(os.path.join(site, row)) for row in rows]
    text = read_text(installed) if os.path.isdir(meta_dir) else None
    if text is not None:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return "installed-files.txt", [
            os.path.normpath(os.path.join(meta_dir, line)) for line in lines
        ]
    package = dpkg.get(meta_dir)
    if package is None:
        return "none", []
    inside = site + "/"
    listed = [p for p, owner in dpkg.items() if owner == package and p.startswith(inside)]
    return "dpkg", sorted(listed)


def record_pyc_rows(meta_dir: str) -> tuple[int, int, int]:
    """RECORD rows naming a `.pyc`, how many of them carry a size (pip leaves it empty), and
    the bytes those rows take in RECORD (line ends included, as written: pip ends them with
    CRLF)."""
    text = read_text(os.path.join(meta_dir, "RECORD"), newline="") or ""
    count = with_size = row_bytes = 0
    for line in text.splitlines(keepends=True):
        row = next(csv.reader([line]), [])
        if row and row[0].endswith(".pyc"):
            count += 1
            with_size += 1 if len(row) > 2 and row[2].strip() else 0
            row_bytes += len(line.encode("utf-8"))
    return count, with_size, row_bytes


def distribution(
    view: View, site: str, entry: str, dpkg: dict[str, str], pycache: Pycache
) -> dict[str, object]:
    meta_dir = os.path.join(site, entry)
    is_dist_info = entry.endswith(".dist-info")
    if is_dist_info:
        headers = read_headers(os.path.join(meta_dir, "METADATA"))
    elif os.path.isdir(meta_dir):
        headers = read_headers(os.path.join(meta_dir, "PKG-INFO"))
    else:
        headers = read_headers(meta_dir)
    installer_text = read_text(os.path.join(meta_dir, "INSTALLER"))
    ownership, listed = listed_paths(meta_dir, site, dpkg)
    record_pycs = record_pyc_rows(meta_dir) if ownership == "RECORD" else (0, 0, 0)
    owned: dict[str, tuple[Key, int]] = {}
    for path in listed:
        candidates = [path]
        if path.endswith(".py"):
            candidates += pycache.compiled(path)
        for candidate in candidates:
            hit = view.lookup(candidate)
            if hit is not None:
                owned.setdefault(candidate, hit)
    total, files, cats = sum_files(owned)
    inside = {p[len(site) + 1 :]: v for p, v in owned.items() if p.startswith(site + "/")}
    tests = {
        rel: v
        for rel, v in inside.items()
        if not rel.endswith((".pyc", ".pyo")) and {"tests", "test"} & set(rel.split("/")[:-1])
    }
    header_files = {
        rel: v
        for rel, v in inside.items()
        if rel.endswith((".h", ".hh", ".hpp", ".hxx", ".a")) or "include" in rel.split("/")[:-1]
    }
    return {
        "name": headers.get("Name"),
        "version": headers.get("Version"),
        "installer": installer_text.strip() if installer_text is not None else None,
        "site_packages": site,
        "metadata_path": meta_dir,
        "ownership": ownership,
        "record_pyc_rows": record_pycs[0],
        "record_pyc_rows_with_size": record_pycs[1],
        "record_pyc_row_bytes": record_pycs[2],
        # advise's heuristics: files in tests/ or test/ directories (bytecode aside) and C
        # headers / static libraries, below the site-packages directory
        "tests_bytes": sum_files(tests)[0],
        "header_bytes": sum_files(header_files)[0],
        "bytes": total,
        "files": files,
        "categories": cats,
        "outside_files": {
            p: size for p, (_key, size) in sorted(owned.items()) if not p.startswith(site + "/")
        },
        "metadata_files": {
            p[len(meta_dir) + 1 :]: size
            for p, (_key, size) in sorted(owned.items())
            if p.startswith(meta_dir + "/")
        },
        "_owned": owned,
    }


def site_packages_dirs(view: View) -> list[str]:
    found = {d for d in view.dirs if os.path.basename(d) in ("site-packages", "dist-packages")}
    for entry in os.environ.get("PYTHONPATH", "").split(":"):
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        names = os.listdir(real)
        if any(n.endswith((".dist-info", ".egg-info")) for n in names):
            found.add(real)
    return sorted(found)


def cache_roots(view: View) -> list[tuple[str, str]]:
    roots: dict[str, str] = {}
    for d in view.dirs:
        parent, name = os.path.split(d)
        if os.path.basename(parent) == ".cache" and name in CACHE_NAMES:
            roots[d] = CACHE_NAMES[name]
    for var, kind in CACHE_ENV.items():
        value = os.environ.get(var)
        if value and os.path.isdir(value) and not os.path.islink(value):
            roots.setdefault(os.path.normpath(value), kind)
    return sorted(roots.items())


def exclusive(view: View, members: dict[str, tuple[Key, int]], inside: str | None) -> int:
    """Bytes of the inodes whose every path is among `members` (a tree, or one wheel file)."""
    seen: set[Key] = set()
    total = 0
    for key, size in members.values():
        if key in seen:
            continue
        seen.add(key)
        paths = view.paths_of[key]
        if inside is not None:
            ok = all(p.startswith(inside + "/") for p in paths)
        else:
            ok = all(p in members for p in paths)
        if ok:
            total += size
    return total


def tree(view: View, root: str) -> dict[str, object]:
    files = view.below(root)
    total, count, cats = sum_files(files)
    wheels = sum_files({p: v for p, v in files.items() if p.endswith(".whl")})[0]
    pycache = sum_files({p: v for p, v in files.items() if "/__pycache__/" in p})[0]
    return {
        "bytes": total,
        "files": count,
        "categories": cats,
        "wheel_bytes": wheels,
        "pycache_bytes": pycache,
    }


def main(argv: list[str]) -> dict[str, object]:
    view = View()
    dpkg = dpkg_lists()
    pycache = Pycache()

    sites = site_packages_dirs(view)
    dists: list[dict[str, object]] = []
    for site in sites:
        for entry in sorted(os.listdir(site)):
            if entry.endswith((".dist-info", ".egg-info")):
                dists.append(distribution(view, site, entry, dpkg, pycache))

    owned_keys: set[Key] = set()
    owned_outside: dict[str, tuple[Key, int]] = {}
    for dist in dists:
        owned = dist.pop("_owned")
        assert isinstance(owned, dict)
        for path, value in owned.items():
            owned_keys.add(value[0])
            if not any(path.startswith(s + "/") for s in sites):
                owned_outside[path] = value

    site_reports = []
    python_files: dict[str, tuple[Key, int]] = dict(owned_outside)
    for site in sites:
        files = view.below(site)
        python_files.update(files)
        total, count, cats = sum_files(files)
        unowned = sum_files({p: v for p, v in files.items() if v[0] not in owned_keys})
        site_reports.append(
            {
                "path": site,
                "bytes": total,
                "files": count,
                "unowned_bytes": unowned[0],
                "categories": cats,
            }
        )

    caches = []
    cache_files: dict[str, tuple[Key, int]] = {}
    roots = cache_roots(view)
    for root, kind in roots:
        files = view.below(root)
        cache_files.update(files)
        caches.append(
            {
                "path": root,
                "kind": kind,
                "bytes": sum_files(files)[0],
                "exclusive_bytes": exclusive(view, files, root),
            }
        )
    for path in sorted(view.files):
        if not path.endswith(".whl") or path in dpkg:
            continue
        if any(path.startswith(root + "/") for root, _kind in roots):
            continue
        one = {path: view.files[path]}
        cache_files.update(one)
        caches.append(
            {
                "path": path,
                "kind": "wheel",
                "bytes": view.files[path][1],
                "exclusive_bytes": exclusive(view, one, None),
            }
        )

    bytecode = {p: v for p, v in view.files.items() if p.endswith((".pyc", ".pyo"))}
    return {
        "packages": dists,
        "site_packages": site_reports,
        "caches": caches,
        "totals": {
            "python_bytes": sum_files(python_files)[0],
            "bytecode_bytes": sum_files(bytecode)[0],
            "cache_bytes": sum_files(cache_files)[0],
        },
        "trees": {root: tree(view, root) for root in argv},
    }


if __name__ == "__main__":
    json.dump(main(sys.argv[1:]), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
