"""File categories (design.md §3), first match wins:
metadata (inside a `*.dist-info`/`*.egg-info` directory, or a single-file egg-info),
bytecode (.pyc, .pyo), source (.py, .pyi, .pyx, .pxd), native (.so, .so.*, any file in a
`*.libs/` directory), data (everything else)."""

from __future__ import annotations

_SOURCE = (".py", ".pyi", ".pyx", ".pxd")
_BYTECODE = (".pyc", ".pyo")


def category(path: str) -> str:
    parent, _, base = path.rpartition("/")
    if parent:
        for comp in parent.split("/"):
            if comp.endswith((".dist-info", ".egg-info")):
                return "metadata"
    if base.endswith(".egg-info"):
        return "metadata"
    if base.endswith(_BYTECODE):
        return "bytecode"
    if base.endswith(_SOURCE):
        return "source"
    if base.endswith(".so") or ".so." in base:
        return "native"
    if parent:
        for comp in parent.split("/"):
            if comp.endswith(".libs"):
                return "native"
    return "data"


def is_bytecode(path: str) -> bool:
    return path.endswith(_BYTECODE)


def in_site_packages(path: str) -> bool:
    return "/site-packages/" in f"/{path}/" or "/dist-packages/" in f"/{path}/"


def pyc_source(path: str) -> str | None:
    """The source a `.pyc` was compiled from (PEP 3147/488), as pure string logic.

    `pkg/__pycache__/mod.cpython-311.pyc` and `mod.cpython-311.opt-1.pyc` -> `pkg/mod.py`;
    a legacy `pkg/mod.pyc` -> `pkg/mod.py`. None when the name does not fit.
    """
    parent, _, base = path.rpartition("/")
    if not base.endswith(_BYTECODE):
        return None
    pdir, _, pname = parent.rpartition("/")
    if pname == "__pycache__":
        parts = base.split(".")
        if len(parts) == 3 or (len(parts) == 4 and parts[2].startswith("opt-")):
            return f"{pdir}/{parts[0]}.py" if pdir else f"{parts[0]}.py"
        return None
    stem = base[: -len(".pyc")]
    return f"{parent}/{stem}.py" if parent else f"{stem}.py"


def pyc_tag(path: str) -> str | None:
    """The interpreter tag of a `__pycache__` pyc (`cpython-311`), None for legacy names."""
    parent, _, base = path.rpartition("/")
    if not parent.endswith("__pycache__"):
        return None
    parts = base.split(".")
    if len(parts) in (3, 4):
        return parts[1]
    return None
