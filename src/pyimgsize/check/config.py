"""The budget: where it is found, how it is read and validated, and what a flag overrides.

A budget is a TOML table, found in this order (the first that exists wins):

1. the file given with ``--budget FILE`` (its ``[budget]`` table, or ``[tool.pyimgsize.budget]``
   when the file is a ``pyproject.toml``);
2. ``pyimgsize.toml`` in the current directory (its ``[budget]`` table);
3. ``[tool.pyimgsize.budget]`` in ``pyproject.toml`` in the current directory.

Its keys are the names of the rows of :data:`pyimgsize.check.table.RULES` plus ``packages``
(per-distribution caps). Flags such as ``--max-image 600MB`` override single rules of whatever
was found (and are a budget on their own when nothing was). Every problem of the file and the
flags (unknown keys, malformed sizes, negative limits, duplicate distribution names) is
collected into one :class:`BudgetError`.

Sizes follow the one unit rule of :mod:`pyimgsize.units` (``MB`` = 10^6, ``MiB`` = 2^20); a bare
number is bytes. Distribution names in ``[budget.packages]`` are normalised as PEP 503 says
(https://peps.python.org/pep-0503/#normalized-names).
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
)

from pyimgsize.check.table import BUDGET_KEYS, BY_NAME, PACKAGES_KEY, RULES, Rule
from pyimgsize.errors import ConfigError
from pyimgsize.names import normalize_name
from pyimgsize.units import parse_size

__all__ = [
    "BUDGET_FILE",
    "PYPROJECT_FILE",
    "Budget",
    "BudgetError",
    "BudgetFile",
    "discover_budget",
    "load_budget",
]

BUDGET_FILE: Final = "pyimgsize.toml"
PYPROJECT_FILE: Final = "pyproject.toml"

_SIZE_TEXT = re.compile(r"\s*(?:\d+(?:\.\d*)?|\.\d+)\s*[A-Za-z]*\s*")
_PERCENT_TEXT = re.compile(r"\s*((?:\d+(?:\.\d*)?|\.\d+))\s*%?\s*")
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


# --- the model (its keys come from the rule table) ---------------------------------------------


class _BudgetBase(BaseModel):
    """The ``[budget]`` table; every limit is optional, ``None`` means no such rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    if TYPE_CHECKING:  # the fields are made from the rule table below
        packages: dict[str, int]

    @field_validator(PACKAGES_KEY, mode="before", check_fields=False)
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

    def limit(self, rule: str) -> int | float | None:
        """The limit of the table rule ``rule`` (``max_python``), None when not set."""
        if rule not in BY_NAME:
            raise KeyError(rule)
        value: int | float | None = getattr(self, rule)
        return value

    def is_empty(self) -> bool:
        """True when the budget defines no rule at all."""
        return not self.packages and all(self.limit(rule.name) is None for rule in RULES)


def _field(rule: Rule) -> tuple[Any, Any]:
    kind = Percent if rule.unit == "percent" else Size
    return (kind | None, Field(default=None, description=rule.description))


if TYPE_CHECKING:
    Budget = _BudgetBase
else:
    Budget = create_model(
        "Budget",
        __base__=_BudgetBase,
        __module__=__name__,
        __doc__=_BudgetBase.__doc__,
        **{rule.name: _field(rule) for rule in RULES},
        **{
            PACKAGES_KEY: (
                dict[str, Size],
                Field(
                    default_factory=dict, description="Per-distribution caps, by normalised name."
                ),
            )
        },
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


def _tables(node: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterable[str]:
    """The dotted names of every table in a TOML document."""
    for key, value in node.items():
        if isinstance(value, Mapping):
            path = (*prefix, str(key))
            yield ".".join(path)
            yield from _tables(value, path)


def _near_miss(data: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    """`` ([budgt] looks like a typo of [budget])`` when a table's name is close to the budget
    table's (difflib), else ""."""
    wanted = ".".join(keys)
    close = difflib.get_close_matches(wanted, [t for t in _tables(data) if t != wanted], n=1)
    return f" ([{close[0]}] looks like a typo of [{wanted}])" if close else ""


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
            raise ConfigError(
                f"no budget found: {found.path} has no [{found.table}] table"
                + _near_miss(data, keys)
            )
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
        pyproject = cwd / PYPROJECT_FILE
        hint = ""
        if pyproject.is_file():
            hint = _near_miss(_read_toml(pyproject), _table_path(pyproject))
        raise ConfigError(
            f"no budget found in {cwd}{hint}: pass --budget FILE, create {BUDGET_FILE} "
            f"with a [budget] table, add [tool.pyimgsize.budget] to {PYPROJECT_FILE}, or give "
            "--max-* flags"
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
