"""No import cycle anywhere in src/pyimgsize (issue 8).

The module graph is read from the source with `ast`: every `import` and `from ... import`
statement, at module level, inside functions and under `if TYPE_CHECKING:` alike (an import
that only type checking sees still ties the two modules together). `from package import name`
is an edge to `package.name` when that is a module, else to `package`. Importing a submodule
runs its package's `__init__` first; that implicit edge is not counted (a package re-exporting
its submodules is the usual shape, not a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "pyimgsize"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (SRC / ROOT).rglob("*.py")}


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = (
                    _resolve_relative(module, path.name == "__init__.py", node.level, node.module)
                    if node.level
                    else node.module or ""
                )
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                if target in modules and target != module:
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """Every elementary cycle's set of modules (sorted), found from each strongly connected
    component by depth-first search (the graph is small)."""
    found: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == start:
                found.add(tuple(sorted(path)))
            elif nxt > start and nxt not in path:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return found


def test_the_graph_sees_module_and_function_level_imports() -> None:
    graph = import_graph()
    # module level
    assert "pyimgsize.fs.merge" in graph["pyimgsize.fs.index"]
    # inside a function: api.inspect imports the analyzers lazily
    assert "pyimgsize.analyzers" in graph["pyimgsize.api"]
    # `from package import submodule`
    assert "pyimgsize.analyzers.ownership.dpkg" in graph["pyimgsize.analyzers.distributions"]


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == {("a", "b", "c")}


def test_no_import_cycle_in_src() -> None:
    assert cycles(import_graph()) == set()
