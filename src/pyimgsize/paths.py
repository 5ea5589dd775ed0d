"""Path rules every stage uses, as pure string logic (no filesystem, no imports from the stages).

- Keys: every path inside an image is root-relative and normalised (`normalize`); `""` is the
  root. Tar names, hardlink targets, listed files (RECORD, installed-files.txt, dpkg `.list`),
  environment paths and archive members all go through the same rule.
- File categories (design.md §3), first match wins: `metadata` (inside a
  `*.dist-info`/`*.egg-info` directory, or a single-file egg-info), `bytecode` (.pyc, .pyo),
  `source` (.py, .pyi, .pyx, .pxd), `native` (.so, .so.*, any file in a `*.libs/` directory),
  `data` (everything else).
- Bytecode names (PEP 3147 / PEP 488): which source a `.pyc` was compiled from and for which
  interpreter.

The layer reader, the merged filesystem and its indexes, and the analyzers all read these
rules from here, so none of them has to reach into another stage for them.
"""

from __future__ import annotations

import functools

_SOURCE = (".py", ".pyi", ".pyx", ".pxd")
BYTECODE_SUFFIXES = (".pyc", ".pyo")


def normalize(name: str) -> tuple[str, bool]:
    """Normalise a tar name to a root-relative key ("" is the root).

    Strips `./` and `/` prefixes and trailing slashes, collapses `//` and `.`, resolves `..`
    lexically without escaping the root. Returns (path, escaped) where escaped says a `..` tried
    to leave the root or the name was absolute — worth a problem, never an escape.
    """
    if (
        not name.startswith(("/", "./", "../"))
        and name not in (".", "..")
        and "//" not in name
        and "/." not in name
    ):
        return name.rstrip("/"), False  # the common case: already clean
    escaped = name.startswith("/")
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            else:
                escaped = True
            continue
        parts.append(part)
    return "/".join(parts), escaped


def join(parent: str, name: str) -> str:
    """The key of `name` inside the directory `parent` (the root is "")."""
    return f"{parent}/{name}" if parent else name


def join_listed(base: str, rel: str) -> tuple[str, bool]:
    """A listed path (a RECORD row, an installed-files.txt line) resolved against `base`
    (absolute ones against the image root), and whether its `..` climbed above the image root
    (clamped there, never out of the image)."""
    if rel.startswith("/"):
        return normalize(rel.lstrip("/"))
    return normalize(f"{base}/{rel}" if base else rel)


def category(path: str) -> str:
    """The category of the file at `path` (design.md §3).

    Plain substring tests, no splitting: a parent directory's name ends with `.dist-info`
    exactly when `.dist-info/` occurs in the path (the base name holds no `/`), and a suffix
    such as `.pyc` holds no `/`, so the path ends with it exactly when the base name does.
    """
    if ".dist-info/" in path or ".egg-info/" in path or path.endswith(".egg-info"):
        return "metadata"
    if path.endswith(BYTECODE_SUFFIXES):
        return "bytecode"
    if path.endswith(_SOURCE):
        return "source"
    if path.endswith(".so") or ".so." in path[path.rfind("/") + 1 :]:
        return "native"
    if ".libs/" in path:
        return "native"
    return "data"


cached_category = functools.lru_cache(maxsize=1 << 17)(category)
"""`category` memoised, for the visible files that several scopes count (site-packages,
distributions, layers ask about the same paths)."""


def is_bytecode(path: str) -> bool:
    return path.endswith(BYTECODE_SUFFIXES)


def in_site_packages(path: str) -> bool:
    return "/site-packages/" in f"/{path}/" or "/dist-packages/" in f"/{path}/"


def pyc_source(path: str) -> str | None:
    """The source a `.pyc` was compiled from (PEP 3147/488), as pure string logic.

    `pkg/__pycache__/mod.cpython-311.pyc` and `mod.cpython-311.opt-1.pyc` -> `pkg/mod.py`;
    a legacy `pkg/mod.pyc` -> `pkg/mod.py`. None when the name does not fit.
    """
    return pyc_names(path)[0]


def pyc_tag(path: str) -> str | None:
    """The interpreter tag of a `__pycache__` pyc (`cpython-311`), None for legacy names."""
    return pyc_names(path)[1]


def pyc_names(path: str) -> tuple[str | None, str | None]:
    """`(pyc_source(path), pyc_tag(path))`, reading the name once."""
    parent, _, base = path.rpartition("/")
    parts = base.split(".")
    if len(parts) == 3 and parts[2] in ("pyc", "pyo") and parent.endswith("/__pycache__"):
        # `pkg/__pycache__/mod.TAG.pyc`, nearly every one: decided without further splitting
        return f"{parent[: -len('/__pycache__')]}/{parts[0]}.py", parts[1]
    tag = parts[1] if len(parts) in (3, 4) and parent.endswith("__pycache__") else None
    if not base.endswith(BYTECODE_SUFFIXES):
        return None, tag
    pdir, _, pname = parent.rpartition("/")
    if pname == "__pycache__":
        if len(parts) == 3 or (len(parts) == 4 and parts[2].startswith("opt-")):
            return (f"{pdir}/{parts[0]}.py" if pdir else f"{parts[0]}.py"), tag
        return None, tag
    stem = base[: -len(".pyc")]
    return (f"{parent}/{stem}.py" if parent else f"{stem}.py"), tag
