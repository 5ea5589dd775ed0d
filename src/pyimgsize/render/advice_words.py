"""Words for suggestions (design.md §8): what each one is, the Dockerfile change, the trade-off.

Imports nothing of `pyimgsize.render` (the inspect renderers and check's words import it).

A suggestion is data (`pyimgsize.report.Suggestion`); this module is the only place that turns
it into prose, shared by every format (table, markdown, check's remedies). The fix is worded
for the installer that wrote the bytes (pip, uv, poetry; from INSTALLER or the cache kind) and
for how the layer was made (a RUN, a COPY/ADD, the base image).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import assert_never

from pyimgsize.render.common import Column
from pyimgsize.report import Fix, Suggestion, SuggestionId, Tradeoff
from pyimgsize.units import format_bytes

TITLES: dict[SuggestionId, str] = {
    "pip-cache": "pip cache stored in the image",
    "uv-cache": "uv cache stored in the image",
    "poetry-cache": "poetry cache stored in the image",
    "stray-wheels": "wheel files stored in a layer",
    "deleted-later": "files a later layer deletes (still shipped)",
    "rewritten-unchanged": "files stored again unchanged (chown, chmod, touch)",
    "bytecode": ".pyc compiled at install time",
    "foreign-bytecode": ".pyc for an interpreter the image does not have",
    "build-toolchain": "compilers and -dev packages in the final image",
    "installer-in-venv": "pip / setuptools / wheel inside the venv",
    "tests-in-site-packages": "test suites inside installed distributions",
    "headers-and-static-libs": "C headers and static libraries in site-packages",
    "duplicate-distribution": "the same distribution in two site-packages directories",
}
"""One line naming each suggestion id (every id has one: a test walks the Literal)."""

TRADEOFFS: dict[Tradeoff, str] = {
    "first-import-compiles": "the first import of each module compiles it (slower start); on a "
    "read-only filesystem every start compiles again",
    "runtime-installs": "pip is no longer available inside the container",
    "runtime-builds": "nothing in the container can compile C extensions against them",
    "package-self-tests": "the packages' own test suites go (`pytest --pyargs`); a few "
    "packages import helpers from their tests",
    "apt-dependencies": "a Debian package may depend on the removed copy",
}

_NO_CACHE: dict[str, str] = {
    "pip-no-cache-dir": "install with `pip install --no-cache-dir` (or "
    "`ENV PIP_NO_CACHE_DIR=1`), or keep the cache out of the layer with "
    "`RUN --mount=type=cache,target=/root/.cache/pip`",
    "uv-no-cache": "set `ENV UV_NO_CACHE=1` (or `uv pip install --no-cache`), or use a cache "
    "mount (`RUN --mount=type=cache,target=/root/.cache/uv`) with `ENV UV_LINK_MODE=copy`",
    "poetry-no-cache": "install with `poetry install --no-cache`, or delete `POETRY_CACHE_DIR` "
    "in the same RUN",
}

_NO_COMPILE = {
    "pip": "install with `pip install --no-compile` (or `ENV PIP_NO_COMPILE=1`)",
    "uv": "drop `UV_COMPILE_BYTECODE=1` / `--compile-bytecode` from the install",
    "poetry": "install without `--compile` (poetry's installer.compile setting)",
    "compileall": "drop the `python -m compileall` step",
}


def title(s: Suggestion) -> str:
    return TITLES[s.id]


def tradeoff(s: Suggestion) -> str | None:
    return None if s.tradeoff is None else TRADEOFFS[s.tradeoff]


def _plain(text: str) -> str:
    return text


def layer_number(index: int) -> str:
    """A layer named by its index alone (check's remedies have no layer list)."""
    return f"layer {index}"


def layer_names(
    indices: Sequence[int],
    *,
    name: Callable[[int], str] = layer_number,
    code: Callable[[str], str] = _plain,
) -> str:
    """`layer 3: RUN pip install …; layer 4: …` (each label from `name`, through `code`)."""
    return "; ".join(code(name(i)) for i in indices)


def rows(suggestions: Sequence[Suggestion]) -> list[list[str]]:
    """One table row per suggestion: #, saves, confidence, id, what, layers."""
    return [
        [
            str(n),
            format_bytes(s.saves_bytes),
            s.confidence,
            s.id,
            title(s),
            ", ".join(s.layers),
        ]
        for n, s in enumerate(suggestions, 1)
    ]


ROW_HEADERS = ["#", "saves", "confidence", "id", "what", "layers"]
"""The columns of `rows`."""

ROW_COLUMNS = [
    Column("#", right=True),
    Column("saves", right=True),
    Column("confidence", drop=2),
    Column("id", shrink="cut", soft=16, hard=10),
    Column("what", shrink="wrap", soft=30, hard=12),
    Column("layers", shrink="cut", soft=8, hard=5, drop=1),
]
"""The columns of `rows` for a table fitted to a terminal (`fit_table`): the layer list goes
first, then the confidence; the saving and what to change stay."""


def fix(
    f: Fix,
    *,
    where: Sequence[int] | None = None,
    name: Callable[[int], str] = layer_number,
    code: Callable[[str], str] = _plain,
) -> str:
    """The Dockerfile change, in one sentence (or two), for a suggestion's fix facts.

    `where` are the layers holding the bytes (default: `f.layer`), each named by `name` (the
    advise renderer names the instruction). Layer labels and paths (the image's own text) go
    through `code` (markdown wraps them)."""
    held = list(where) if where is not None else ([] if f.layer is None else [f.layer])
    at = layer_names(held, name=name, code=code)
    changed = layer_names(f.changed_by, name=name, code=code) if f.changed_by else ""
    match f.kind:
        case "pip-no-cache-dir" | "uv-no-cache" | "poetry-no-cache":
            text = _NO_CACHE[f.kind]
            if changed:
                text += f"; deleting it later ({changed}) does not shrink what is shipped"
            if f.linked_bytes:
                text += (
                    f"; {format_bytes(f.linked_bytes)} of the cache are hardlinked into "
                    "installed files and stay: only its own bytes go"
                )
            return text
        case "delete-in-same-run":
            text = f"delete them in the RUN that writes them ({at})"
            if changed:
                text += f", not later ({changed}): a later delete ships them all the same"
            return text
        case "multi-stage":
            what = "a COPY/ADD" if f.written_by == "copy" else "the base image"
            text = (
                f"they come from {what} ({at}): install in a build stage and copy only the "
                "result (`COPY --from=build /opt/venv /opt/venv`), or bind-mount them for the "
                "RUN that needs them (`RUN --mount=type=bind,...`)"
            )
            if changed:
                text += f"; deleting them later ({changed}) ships them all the same"
            return text
        case "same-layer-attributes":
            return (
                "set owner and mode where the files are written (`COPY --chown=... "
                f"--chmod=...`, or chown in the same RUN): {at} stores them all again"
            )
        case "no-compile":
            return _NO_COMPILE.get(f.installer or "", _NO_COMPILE["pip"])
        case "drop-foreign-bytecode":
            return (
                "do not copy `__pycache__` built by another Python (compile with the image's "
                "own interpreter, or not at all)"
            )
        case "purge-build-toolchain":
            return (
                "build in a separate stage and copy the result, or `apt-get purge "
                "--auto-remove` these packages in the RUN that installed them"
            )
        case "venv-without-installer":
            return (
                "create the venv without them (`python -m venv --without-pip`, then "
                "`pip --python /opt/venv/bin/python install ...`, or `uv venv`), or build it "
                "in a stage"
            )
        case "drop-tests":
            site = f.paths[0] if f.paths else "<site-packages>"
            return (
                "delete the test directories in the RUN that installs them (`find "
                f"{site} -depth -type d \\( -name tests -o -name test \\) -exec rm -rf {{}} +`)"
            )
        case "drop-headers":
            site = f.paths[0] if f.paths else "<site-packages>"
            return (
                "delete headers and static libraries in the RUN that installs them (`find "
                f"{site} -type f \\( -name '*.h' -o -name '*.a' \\) -delete`)"
            )
        case "single-environment":
            paths = ", ".join(code(p) for p in f.paths)
            return f"uninstall the copies nothing imports (in {paths}): another directory wins"
        case (
            "runtime-deps-only"
            | "no-stray-wheels"
            | "no-cache-write"
            | "review-growth"
            | "slim-package"
            | "raise-limit"
        ):
            raise ValueError(f"{f.kind} is a check rule's fix, never a suggestion's")
        case _:
            assert_never(f.kind)


def describe(s: Suggestion) -> str:
    """A suggestion's fix, its layers named by index (for the HTML report's table)."""
    return fix(s.fix, where=[int(i) for i in s.layers])


def remedy(f: Fix, code: Callable[[str], str] = _plain) -> str:
    """check's remedy for a fix that comes from a suggestion: the same words as advise, and
    what it saves (`bytes`), so a rule's remedy never promises more than the fix removes.
    Layer labels and paths go through `code` (markdown wraps them)."""
    saves = f" (saves {format_bytes(f.bytes)})" if f.bytes is not None else ""
    return f"{fix(f, code=code)}{saves}"
