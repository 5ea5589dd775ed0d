"""The pre-merge image budget: the budget file model and rule evaluation (design.md §4).

A budget is a TOML table, found in this order (the first that exists wins):

1. the file given with ``--budget FILE`` (its ``[budget]`` table, or ``[tool.pyimgsize.budget]``
   when the file is a ``pyproject.toml``);
2. ``pyimgsize.toml`` in the current directory (its ``[budget]`` table);
3. ``[tool.pyimgsize.budget]`` in ``pyproject.toml`` in the current directory.

Flags such as ``--max-image 600MB`` override single rules of whatever was found (and are a
budget on their own when nothing was). Every problem of the file and the flags (unknown keys,
malformed sizes, negative limits, duplicate distribution names) is collected into one
:class:`BudgetError`.

Sizes follow the one unit rule of :mod:`pyimgsize.units` (``MB`` = 10^6, ``MiB`` = 2^20); a bare
number is bytes. Distribution names in ``[budget.packages]`` are normalised as PEP 503 says
(https://peps.python.org/pep-0503/#normalized-names).

:func:`evaluate` turns an :class:`~pyimgsize.report.InspectReport` (and an optional baseline) into
a :class:`~pyimgsize.report.CheckReport`: a verdict is data; renderers make text of it.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from pyimgsize.errors import ConfigError
from pyimgsize.names import normalize_name
from pyimgsize.report import (
    CATEGORIES,
    CheckReport,
    Contributor,
    InspectReport,
    Layer,
    Package,
    RuleResult,
)
from pyimgsize.units import format_bytes, parse_size

BUDGET_FILE: Final = "pyimgsize.toml"
PYPROJECT_FILE: Final = "pyproject.toml"

#: Rules in evaluation (and report) order; also the keys of the ``[budget]`` table.
SIZE_RULES: Final[tuple[str, ...]] = (
    "max_image",
    "max_layers_total",
    "max_python",
    "max_bytecode",
    "max_cache",
    "max_dead",
    "max_growth",
)
PERCENT_RULES: Final[tuple[str, ...]] = ("max_growth_percent",)
#: Rules that compare with a baseline (skipped without one); their actual values are signed.
BASELINE_RULES: Final[frozenset[str]] = frozenset({"max_growth", "max_growth_percent"})
PACKAGES_KEY: Final = "packages"
BUDGET_KEYS: Final[tuple[str, ...]] = (*SIZE_RULES, *PERCENT_RULES, PACKAGES_KEY)

#: Contributors kept per rule in the report; the message names the first MESSAGE_CONTRIBUTORS.
MAX_CONTRIBUTORS: Final = 5
MESSAGE_CONTRIBUTORS: Final = 3

_SIZE_TEXT = re.compile(r"\s*(?:\d+(?:\.\d*)?|\.\d+)\s*[A-Za-z]*\s*")
_PERCENT_TEXT = re.compile(r"\s*((?:\d+(?:\.\d*)?|\.\d+))\s*%?\s*")
# The classic builder names copied content by hash: `ADD file:<sha256> in /`.
_CONTENT_HASH = re.compile(r"\b(?:file|dir|multi):[0-9a-f]{64}\b")
# PEP 508 names: https://packaging.python.org/en/latest/specifications/name-normalization/
_DIST_NAME = re.compile(r"[A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9]", re.IGNORECASE)


# --- sizes and names --------------------------------------------------------------------------


def _size(value: object) -> int:
    """A byte size from TOML or a flag: a non-negative number of bytes or text like ``600MB``.

    Stricter than :func:`~pyimgsize.units.parse_size` alone: trailing text (``"5%"``,
    ``"600MB extra"``) is an error rather than ignored.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a size: {value!r} (use e.g. 600MB, 1.5GiB, 800kB, or bytes)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a size: {value!r}")
    is_text = isinstance(value, str)
    if is_text and not str(value).strip().startswith("-") and not _SIZE_TEXT.fullmatch(str(value)):
        raise ValueError(f"not a size: {value!r} (use e.g. 600MB, 1.5GiB, 800kB)")
    return parse_size(value)


def _percent(value: object) -> float:
    """A non-negative percentage: ``5``, ``2.5``, ``"5"`` or ``"5%"``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a percentage: {value!r} (use e.g. 5 or 2.5)")
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-"):
            raise ValueError(f"negative percentage: {value!r}")
        match = _PERCENT_TEXT.fullmatch(text)
        if match is None:
            raise ValueError(f"not a percentage: {value!r} (use e.g. 5 or 2.5)")
        return float(match.group(1))
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a percentage: {value!r}")
    if number < 0:
        raise ValueError(f"negative percentage: {value!r}")
    return number


Size = Annotated[int, BeforeValidator(_size)]
Percent = Annotated[float, BeforeValidator(_percent)]


# --- the model ---------------------------------------------------------------------------------


class Budget(BaseModel):
    """The ``[budget]`` table; every limit is optional, ``None`` means no such rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_image: Size | None = Field(default=None, description="Caps image.bytes.")
    max_layers_total: Size | None = Field(default=None, description="Caps image.layer_bytes.")
    max_python: Size | None = Field(default=None, description="Caps totals.python_bytes.")
    max_bytecode: Size | None = Field(default=None, description="Caps totals.bytecode_bytes.")
    max_cache: Size | None = Field(
        default=None,
        description="Caps totals.cache_bytes; 0 allows no pip/uv/poetry cache or stray wheel.",
    )
    max_dead: Size | None = Field(default=None, description="Caps totals.dead_bytes.")
    max_growth: Size | None = Field(
        default=None, description="Caps image.bytes minus the baseline's (needs a baseline)."
    )
    max_growth_percent: Percent | None = Field(
        default=None, description="Caps that growth in percent of the baseline's image.bytes."
    )
    packages: dict[str, Size] = Field(
        default_factory=dict, description="Per-distribution caps, by normalised name."
    )

    @field_validator("packages", mode="before")
    @classmethod
    def _normalise_packages(cls, value: object) -> object:
        if not isinstance(value, Mapping):
            return value
        out: dict[str, object] = {}
        for name, size in value.items():
            if not isinstance(name, str) or _DIST_NAME.fullmatch(name) is None:
                raise ValueError(f"not a distribution name: {name!r}")
            key = normalize_name(name)
            if key in out:
                raise ValueError(f"{name!r} names the same distribution as another key ({key})")
            out[key] = size
        return out

    def is_empty(self) -> bool:
        """True when the budget defines no rule at all."""
        return not self.packages and all(
            getattr(self, key) is None for key in (*SIZE_RULES, *PERCENT_RULES)
        )


class BudgetError(ConfigError):
    """An invalid budget file or invalid budget flags; ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[str], *, where: str = "budget") -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid {where} ({count} {noun}): " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class BudgetFile:
    """A discovered budget: the file and the dotted path of its table (for messages)."""

    path: Path
    table: str

    def describe(self) -> str:
        return f"{self.path} [{self.table}]"


# --- discovery and loading ---------------------------------------------------------------------


def _table_path(path: Path) -> tuple[str, ...]:
    return ("tool", "pyimgsize", "budget") if path.name == PYPROJECT_FILE else ("budget",)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read budget file {path}: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"budget file {path} is not UTF-8 text: {exc.reason}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"budget file {path} is not valid TOML: {exc}") from exc


def _lookup(data: Mapping[str, Any], keys: tuple[str, ...]) -> object | None:
    node: object = data
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def discover_budget(cwd: Path, explicit: Path | None = None) -> BudgetFile | None:
    """The budget to use: ``explicit``, else ``pyimgsize.toml``, else ``pyproject.toml``'s table.

    An explicit file must exist (a missing one is a :class:`ConfigError`). A ``pyproject.toml``
    without ``[tool.pyimgsize.budget]`` is not a budget; ``None`` means none was found.
    """
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"budget file {explicit} does not exist (check --budget)")
        return BudgetFile(explicit, ".".join(_table_path(explicit)))
    candidate = cwd / BUDGET_FILE
    if candidate.is_file():
        return BudgetFile(candidate, "budget")
    pyproject = cwd / PYPROJECT_FILE
    if pyproject.is_file():
        keys = _table_path(pyproject)
        if _lookup(_read_toml(pyproject), keys) is not None:
            return BudgetFile(pyproject, ".".join(keys))
    return None


def _suggest(key: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _flag_name(key: str) -> str:
    return "--" + key.replace("_", "-")


def _parse_package_flags(values: Iterable[str], problems: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, size = value.partition("=")
        name, size = name.strip(), size.strip()
        if not sep or not name or not size:
            problems.append(f"--max-package {value!r}: expected NAME=SIZE (e.g. pandas=80MB)")
            continue
        if _DIST_NAME.fullmatch(name) is None:
            problems.append(f"--max-package {value!r}: {name!r} is not a distribution name")
            continue
        out[normalize_name(name)] = size
    return out


def load_budget(
    cwd: Path,
    *,
    budget_file: Path | None = None,
    overrides: Mapping[str, str | None] | None = None,
    package_overrides: Sequence[str] = (),
) -> tuple[Budget, BudgetFile | None]:
    """Discover, read and validate the budget; apply flag overrides; collect every problem.

    ``overrides`` maps rule keys (``max_image``, ...) to flag text (``None`` = flag not given);
    ``package_overrides`` are ``NAME=SIZE`` texts from ``--max-package``. Raises
    :class:`BudgetError` listing all problems at once, or :class:`ConfigError` when the file
    cannot be read or parsed, or when there is no budget at all.
    """
    problems: list[str] = []
    found = discover_budget(cwd, budget_file)
    table: dict[str, object] = {}
    where = "budget"
    if found is not None:
        where = f"budget in {found.path}"
        keys = _table_path(found.path)
        data = _read_toml(found.path)
        node = _lookup(data, keys)
        if node is None:
            raise ConfigError(f"{found.path} has no [{found.table}] table (see design §4)")
        if not isinstance(node, Mapping):
            raise ConfigError(f"{found.path}: [{found.table}] must be a table")
        table = dict(node)
        if keys == ("budget",):
            for extra in sorted(set(data) - {"budget"}):
                problems.append(f"[{extra}]: unknown top-level key{_suggest(extra, ['budget'])}")
        for key in sorted(set(table) - set(BUDGET_KEYS)):
            problems.append(f"{key}: unknown key{_suggest(key, BUDGET_KEYS)}")
            del table[key]
        raw_packages = table.get(PACKAGES_KEY)
        if raw_packages is not None:
            table[PACKAGES_KEY] = _check_package_table(raw_packages, problems)

    flag_keys: set[str] = set()
    for key, text in (overrides or {}).items():
        if key not in BUDGET_KEYS or key == PACKAGES_KEY:
            raise ValueError(f"no budget rule {key!r}")
        if text is not None:
            table[key] = text
            flag_keys.add(key)
    flag_packages = _parse_package_flags(package_overrides, problems)
    if flag_packages:
        merged = dict(_as_dict(table.get(PACKAGES_KEY)))
        merged.update(flag_packages)
        table[PACKAGES_KEY] = merged

    budget: Budget | None = None
    try:
        budget = Budget.model_validate(table)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(_describe_error(error, flag_keys, set(flag_packages)))
    if problems:
        raise BudgetError(problems, where=where)
    if budget is None:  # pragma: no cover - a ValidationError always has at least one error
        raise BudgetError(["invalid budget"], where=where)
    if found is None and budget.is_empty():
        raise ConfigError(
            f"no budget found in {cwd}: pass --budget FILE, create {BUDGET_FILE} with a [budget] "
            f"table, add [tool.pyimgsize.budget] to {PYPROJECT_FILE}, or give --max-* flags"
        )
    if budget.is_empty():
        raise ConfigError(
            f"{found.describe() if found else 'budget'} defines no rules "
            f'(add e.g. max_image = "600MB")'
        )
    return budget, found


def _as_dict(value: object) -> dict[str, object]:
    return dict(value) if isinstance(value, Mapping) else {}


def _check_package_table(value: object, problems: list[str]) -> object:
    """Normalise ``[budget.packages]`` names, reporting bad and duplicate names one by one."""
    if not isinstance(value, Mapping):
        return value  # the model reports the wrong type
    out: dict[str, object] = {}
    seen: dict[str, str] = {}
    for name, size in value.items():
        if _DIST_NAME.fullmatch(name) is None:
            problems.append(f"packages: {name!r} is not a distribution name")
            continue
        key = normalize_name(name)
        if key in seen:
            problems.append(
                f"packages: {name!r} and {seen[key]!r} are the same distribution ({key})"
            )
            continue
        seen[key] = name
        out[key] = size
    return out


def _describe_error(error: Mapping[str, Any], flags: set[str], flag_packages: set[str]) -> str:
    loc = tuple(str(part) for part in error.get("loc", ()))
    if loc and loc[0] in flags:
        where = _flag_name(loc[0])
    elif len(loc) >= 2 and loc[0] == PACKAGES_KEY and loc[1] in flag_packages:
        where = f"--max-package {loc[1]}"
    else:
        where = ".".join(loc) or "budget"
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return f"{where}: unknown key{_suggest(loc[-1], BUDGET_KEYS)}"
    ctx = error.get("ctx") or {}
    inner = ctx.get("error")
    if kind == "value_error" and inner is not None:
        return f"{where}: {inner}"
    if kind == "dict_type":
        return f"{where}: must be a table of NAME = SIZE"
    return f"{where}: {error.get('msg', 'invalid value')}"


# --- evaluation --------------------------------------------------------------------------------

_LABELS: Final[Mapping[str, str]] = {
    "max_image": "image",
    "max_layers_total": "layers (stored)",
    "max_python": "Python",
    "max_bytecode": "bytecode",
    "max_cache": "caches and stray wheels",
    "max_dead": "dead bytes",
    "max_growth": "growth",
    "max_growth_percent": "growth",
}


def package_rule(name: str) -> str:
    """The rule name of a per-distribution cap (the key's path in the budget file)."""
    return f"{PACKAGES_KEY}.{name}"


def _top(items: Iterable[Contributor]) -> list[Contributor]:
    ordered = sorted((c for c in items if c.bytes > 0), key=lambda c: (-c.bytes, c.name))
    return ordered[:MAX_CONTRIBUTORS]


def _named(contributors: Sequence[Contributor], *, signed: bool = False) -> str:
    shown = ", ".join(
        f"{c.name} {format_bytes(c.bytes, signed=signed)}"
        for c in contributors[:MESSAGE_CONTRIBUTORS]
    )
    if len(contributors) > MESSAGE_CONTRIBUTORS:
        shown += ", ..."
    return shown


def _layer_name(layer: Layer) -> str:
    """ "layer 3: RUN pip install ..." (shell wrapper dropped, content hashes cut, 60 chars)."""
    created = " ".join((layer.created_by or "").split())
    created = _CONTENT_HASH.sub(lambda m: m.group(0)[: m.group(0).index(":") + 13], created)
    created = created.removesuffix(" # buildkit")
    if created.startswith("/bin/sh -c #(nop) "):
        created = created.removeprefix("/bin/sh -c #(nop) ")
    elif created.startswith("/bin/sh -c "):
        created = "RUN " + created.removeprefix("/bin/sh -c ")
    if len(created) > 60:
        created = created[:57] + "..."
    return f"layer {layer.index}: {created}" if created else f"layer {layer.index}"


def _package_names(packages: Sequence[Package]) -> dict[int, str]:
    """Display names; a distribution installed in several site-packages names its directory."""
    counts: dict[str, int] = {}
    for pkg in packages:
        key = normalize_name(pkg.name)
        counts[key] = counts.get(key, 0) + 1
    return {
        i: (
            pkg.name
            if counts[normalize_name(pkg.name)] == 1
            else f"{pkg.name} ({pkg.site_packages})"
        )
        for i, pkg in enumerate(packages)
    }


def _size_result(
    rule: str,
    actual: int,
    limit: int,
    contributors: Sequence[Contributor],
    remedy: str,
    *,
    note: str = "",
    label: str | None = None,
) -> RuleResult:
    """A size cap's verdict; `label` names the measured thing (default: the rule's label)."""
    label = label or _LABELS[rule]
    if actual > limit:
        named = _named(contributors)
        message = f"{label} {format_bytes(actual)} > {format_bytes(limit)}{note}"
        if named:
            message += f": {named}"
        return RuleResult(
            rule=rule,
            status="fail",
            actual=actual,
            limit=limit,
            message=message,
            remedy=remedy,
            contributors=list(contributors),
        )
    return RuleResult(
        rule=rule,
        status="pass",
        actual=actual,
        limit=limit,
        message=f"{label} {format_bytes(actual)} <= {format_bytes(limit)}",
        contributors=list(contributors),
    )


def _image_rule(report: InspectReport, limit: int) -> RuleResult:
    visible = _top(
        Contributor(name=_layer_name(layer), bytes=layer.bytes - layer.dead_bytes)
        for layer in report.layers
    )
    return _size_result(
        "max_image",
        report.image.bytes,
        limit,
        visible,
        "build in a separate stage and COPY --from it only what runs (for a venv: "
        "COPY --from=build /venv /venv), so compilers, caches and build leftovers never "
        "reach the final image",
    )


def _layers_total_rule(report: InspectReport, limit: int) -> RuleResult:
    stored = _top(
        Contributor(name=_layer_name(layer), bytes=layer.bytes) for layer in report.layers
    )
    dead = report.image.layer_bytes - report.image.bytes
    if dead > 0 and dead >= report.image.layer_bytes - limit:
        # Deleting in the creating layer alone would bring the image within this limit.
        remedy = (
            f"{format_bytes(dead)} of the stored bytes are dead (deleted or overwritten by a "
            "later layer): delete files in the same RUN that creates them, since a later "
            "rm only hides them"
        )
    else:
        remedy = (
            "build in a separate stage and COPY --from it only what runs, so the final image "
            "has fewer and smaller layers"
        )
    return _size_result("max_layers_total", report.image.layer_bytes, limit, stored, remedy)


def _python_rule(report: InspectReport, limit: int) -> RuleResult:
    names = _package_names(report.packages)
    items = [Contributor(name=names[i], bytes=p.bytes) for i, p in enumerate(report.packages)]
    items += [
        Contributor(name=f"unowned files in {sp.path}", bytes=sp.unowned_bytes)
        for sp in report.site_packages
    ]
    contributors = _top(items)
    biggest = contributors[0].name if contributors else "the largest distribution"
    return _size_result(
        "max_python",
        report.totals.python_bytes,
        limit,
        contributors,
        f"keep build-only and optional dependencies out of the runtime environment (install "
        f"them in a build stage and COPY --from only the runtime venv); start with {biggest}",
    )


def _bytecode_remedy(report: InspectReport) -> str:
    installers = {
        (p.installer or "").strip().lower() for p in report.packages if p.categories.bytecode
    }
    if "uv" in installers:
        return (
            "UV_COMPILE_BYTECODE=1 trades image size for start-up time: leave it unset (or "
            "--no-compile-bytecode) to ship no .pyc and compile on first import instead, "
            "or raise max_bytecode if start-up time matters more"
        )
    return (
        "pip compiles .pyc at install time, trading image size for start-up time: "
        "pip install --no-compile ships no .pyc (imports compile on first use), "
        "or raise max_bytecode if start-up time matters more"
    )


def _bytecode_rule(report: InspectReport, limit: int) -> RuleResult:
    names = _package_names(report.packages)
    items = [
        Contributor(name=names[i], bytes=p.categories.bytecode)
        for i, p in enumerate(report.packages)
    ]
    owned = sum(p.categories.bytecode for p in report.packages)
    other = report.totals.bytecode_bytes - owned
    if other > 0:
        items.append(
            Contributor(name=".pyc of no distribution (standard library, app)", bytes=other)
        )
    return _size_result(
        "max_bytecode",
        report.totals.bytecode_bytes,
        limit,
        _top(items),
        _bytecode_remedy(report),
    )


_CACHE_REMEDIES: Final[Mapping[str, str]] = {
    "pip": (
        "pip install --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1), or keep the cache out of the "
        "image with RUN --mount=type=cache,target=/root/.cache/pip"
    ),
    "uv": (
        "ENV UV_NO_CACHE=1, or keep the cache out of the image with "
        "RUN --mount=type=cache,target=/root/.cache/uv (with UV_LINK_MODE=copy)"
    ),
    "poetry": ("poetry install --no-cache, or RUN --mount=type=cache,target=/root/.cache/pypoetry"),
    "wheel": (
        "do not COPY wheels into the final image: install them from a bind mount "
        "(RUN --mount=type=bind,source=dist,target=/tmp/dist pip install /tmp/dist/*.whl) "
        "or from a build stage, or delete them in the same RUN that installs them"
    ),
}


def _cache_rule(report: InspectReport, limit: int) -> RuleResult:
    contributors = _top(
        Contributor(name=f"{c.path} ({c.kind})", bytes=c.bytes) for c in report.caches
    )
    by_kind: dict[str, int] = {}
    for cache in report.caches:
        by_kind[cache.kind] = by_kind.get(cache.kind, 0) + cache.bytes
    kind = min(by_kind, key=lambda k: (-by_kind[k], k)) if by_kind else "pip"
    remedy = _CACHE_REMEDIES[kind]
    actual = report.totals.cache_bytes
    if limit == 0 and report.caches and actual == 0:
        # max_cache = 0 means none at all: an empty cache or an empty wheel still fails.
        count = len(report.caches)
        listed = ", ".join(sorted(c.path for c in report.caches)[:MESSAGE_CONTRIBUTORS])
        more = ", ..." if count > MESSAGE_CONTRIBUTORS else ""
        return RuleResult(
            rule="max_cache",
            status="fail",
            actual=actual,
            limit=limit,
            message=(
                f"{count} cache{'s' if count != 1 else ''} or stray wheel"
                f"{'s' if count != 1 else ''} present, max_cache = 0 allows none: {listed}{more}"
            ),
            remedy=remedy,
            contributors=[],
        )
    note = " (max_cache = 0 allows none)" if limit == 0 else ""
    return _size_result("max_cache", actual, limit, contributors, remedy, note=note)


def _dead_rule(report: InspectReport, limit: int) -> RuleResult:
    items: list[Contributor] = []
    for layer in report.layers:
        if layer.dead_bytes <= 0:
            continue
        dc = layer.dead_categories
        parts = {"cache": dc.cache, "other": dc.other, **{c: getattr(dc, c) for c in CATEGORIES}}
        worst = min(
            (k for k, v in parts.items() if v > 0), key=lambda k: (-parts[k], k), default=""
        )
        suffix = f" (mostly {worst})" if worst else ""
        items.append(Contributor(name=_layer_name(layer) + suffix, bytes=layer.dead_bytes))
    cache_dead = sum(layer.dead_categories.cache for layer in report.layers)
    if cache_dead * 2 > report.totals.dead_bytes:
        remedy = (
            "the dead bytes are mostly caches and wheels deleted in a later layer: do not write "
            "them at all (pip --no-cache-dir, UV_NO_CACHE=1, or a RUN --mount=type=cache), or "
            "delete them in the same RUN that created them"
        )
    else:
        remedy = (
            "delete files in the same RUN that creates them (a later rm only hides them, the "
            "bytes still ship), or build in a separate stage and COPY --from only the result"
        )
    return _size_result("max_dead", report.totals.dead_bytes, limit, _top(items), remedy)


def _growth_contributors(report: InspectReport, baseline: InspectReport) -> list[Contributor]:
    """What grew: distributions by normalised name (all site-packages together), site-packages
    files no distribution owns, caches and stray wheels, and everything outside Python (the
    rest of the image delta)."""
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    display: dict[str, str] = {}
    for pkg in baseline.packages:
        key = normalize_name(pkg.name)
        before[key] = before.get(key, 0) + pkg.bytes
        display.setdefault(key, pkg.name)
    for pkg in report.packages:
        key = normalize_name(pkg.name)
        after[key] = after.get(key, 0) + pkg.bytes
        display[key] = pkg.name
    items = [
        Contributor(
            name=display[key] + (" (new)" if key not in before else ""),
            bytes=after.get(key, 0) - before.get(key, 0),
        )
        for key in sorted(set(before) | set(after))
    ]
    owned = sum(c.bytes for c in items)
    python = report.totals.python_bytes - baseline.totals.python_bytes
    caches = report.totals.cache_bytes - baseline.totals.cache_bytes
    rest = (report.image.bytes - baseline.image.bytes) - python - caches
    items += [
        Contributor(name="site-packages files of no distribution", bytes=python - owned),
        Contributor(name="caches and stray wheels", bytes=caches),
        Contributor(name="files outside Python", bytes=rest),
    ]
    return _top(items)


def _growth_remedy(report: InspectReport, baseline: InspectReport) -> str:
    return (
        f"run pyimgsize diff {baseline.image.ref} {report.image.ref} to see which "
        "distributions, categories and layers grew; if the growth is intended, raise the "
        "limit in the same pull request"
    )


def _growth_verdict(
    rule: str,
    report: InspectReport,
    baseline: InspectReport,
    *,
    actual: float,
    limit: float,
    shown: str,
    shown_limit: str,
    base: str,
) -> RuleResult:
    """A growth rule's verdict: `shown` and `shown_limit` are the formatted actual and limit."""
    contributors = _growth_contributors(report, baseline)
    if actual > limit:
        message = f"growth {shown} > {shown_limit}{base}"
        named = _named(contributors, signed=True)
        if named:
            message += f": {named}"
        return RuleResult(
            rule=rule,
            status="fail",
            actual=actual,
            limit=limit,
            message=message,
            remedy=_growth_remedy(report, baseline),
            contributors=contributors,
        )
    return RuleResult(
        rule=rule,
        status="pass",
        actual=actual,
        limit=limit,
        message=f"growth {shown} <= {shown_limit}{base}",
        contributors=contributors,
    )


def _growth_rule(report: InspectReport, baseline: InspectReport, limit: int) -> RuleResult:
    delta = report.image.bytes - baseline.image.bytes
    return _growth_verdict(
        "max_growth",
        report,
        baseline,
        actual=delta,
        limit=limit,
        shown=format_bytes(delta, signed=True),
        shown_limit=format_bytes(limit),
        base=f" (baseline {format_bytes(baseline.image.bytes)} -> "
        f"{format_bytes(report.image.bytes)})",
    )


def _fmt_percent(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def _growth_percent_rule(
    report: InspectReport, baseline: InspectReport, limit: float
) -> RuleResult:
    rule = "max_growth_percent"
    if baseline.image.bytes == 0:
        return RuleResult(
            rule=rule,
            status="skip",
            actual=None,
            limit=limit,
            message="skipped: the baseline image has 0 bytes, growth in percent is undefined",
        )
    delta = report.image.bytes - baseline.image.bytes
    percent = round(delta / baseline.image.bytes * 100, 4)
    return _growth_verdict(
        rule,
        report,
        baseline,
        actual=percent,
        limit=limit,
        shown=("+" if percent > 0 else "") + _fmt_percent(percent),
        shown_limit=_fmt_percent(limit),
        base=f" ({format_bytes(delta, signed=True)}: baseline "
        f"{format_bytes(baseline.image.bytes)} -> {format_bytes(report.image.bytes)})",
    )


def _package_rule(report: InspectReport, name: str, limit: int) -> RuleResult:
    rule = package_rule(name)
    installs = [p for p in report.packages if normalize_name(p.name) == name]
    if not installs:
        return RuleResult(
            rule=rule,
            status="skip",
            actual=None,
            limit=limit,
            message=f"skipped: {name} is not installed in the image",
        )
    actual = sum(p.bytes for p in installs)
    display = installs[0].name
    contributors = _top(
        Contributor(name=category, bytes=sum(getattr(p.categories, category) for p in installs))
        for category in CATEGORIES
    )
    where = f" ({len(installs)} installs)" if len(installs) > 1 else ""
    return _size_result(
        rule,
        actual,
        limit,
        contributors,
        _package_remedy(report, installs, contributors),
        label=f"{display}{where}",
    )


def _package_remedy(
    report: InspectReport, installs: Sequence[Package], contributors: Sequence[Contributor]
) -> str:
    display = installs[0].name
    if len(installs) > 1:
        return (
            f"{display} is installed {len(installs)} times ("
            + ", ".join(sorted(p.site_packages for p in installs))
            + "): install it into one environment only"
        )
    biggest = contributors[0].name if contributors else "data"
    if biggest == "bytecode":
        return _bytecode_remedy(report)
    return (
        f"most of {display} is {biggest}: check whether a slimmer build, extra or "
        "version fits, or whether it is needed at run time at all (if only at build "
        "time, install it in a build stage only)"
    )


def _skipped_for_baseline(rule: str, limit: int | float) -> RuleResult:
    return RuleResult(
        rule=rule,
        status="skip",
        actual=None,
        limit=limit,
        message=f"skipped: {rule} needs a baseline (--baseline IMAGE|REPORT.json)",
    )


def evaluate(
    report: InspectReport, budget: Budget, baseline: InspectReport | None = None
) -> CheckReport:
    """Every rule of ``budget`` against ``report`` (and ``baseline`` for the growth rules).

    A rule fails when its actual value is strictly greater than its limit. Growth rules without
    a baseline, and caps of distributions the image does not have, are skipped (not failed).
    """
    rules: list[RuleResult] = []
    if budget.max_image is not None:
        rules.append(_image_rule(report, budget.max_image))
    if budget.max_layers_total is not None:
        rules.append(_layers_total_rule(report, budget.max_layers_total))
    if budget.max_python is not None:
        rules.append(_python_rule(report, budget.max_python))
    if budget.max_bytecode is not None:
        rules.append(_bytecode_rule(report, budget.max_bytecode))
    if budget.max_cache is not None:
        rules.append(_cache_rule(report, budget.max_cache))
    if budget.max_dead is not None:
        rules.append(_dead_rule(report, budget.max_dead))
    if budget.max_growth is not None:
        rules.append(
            _growth_rule(report, baseline, budget.max_growth)
            if baseline is not None
            else _skipped_for_baseline("max_growth", budget.max_growth)
        )
    if budget.max_growth_percent is not None:
        rules.append(
            _growth_percent_rule(report, baseline, budget.max_growth_percent)
            if baseline is not None
            else _skipped_for_baseline("max_growth_percent", budget.max_growth_percent)
        )
    for name in sorted(budget.packages):
        rules.append(_package_rule(report, name, budget.packages[name]))
    return CheckReport(
        passed=not any(r.status == "fail" for r in rules),
        image=report.image.as_ref(),
        rules=rules,
        baseline=baseline.image.as_ref() if baseline is not None else None,
    )


def budget_overrides(
    *,
    max_image: str | None = None,
    max_layers_total: str | None = None,
    max_python: str | None = None,
    max_bytecode: str | None = None,
    max_cache: str | None = None,
    max_dead: str | None = None,
    max_growth: str | None = None,
    max_growth_percent: str | None = None,
) -> dict[str, str | None]:
    """The ``--max-*`` flags as the ``overrides`` mapping :func:`load_budget` takes."""
    return {
        "max_image": max_image,
        "max_layers_total": max_layers_total,
        "max_python": max_python,
        "max_bytecode": max_bytecode,
        "max_cache": max_cache,
        "max_dead": max_dead,
        "max_growth": max_growth,
        "max_growth_percent": max_growth_percent,
    }
