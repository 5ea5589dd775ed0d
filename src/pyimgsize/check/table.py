"""THE rule table of the budget gate: one row per ``max_*`` key of the ``[budget]`` table.

A row says everything about a rule: its budget key (``max_python``), its unit, whether it
compares with a baseline, how to measure it, how to find what it is made of, what to do when
it fails, and the help text of its ``--max-*`` flag. The budget file model and its validation
(:mod:`pyimgsize.check.config`), the CLI flags (:mod:`pyimgsize.cli.app`), the evaluation
(:mod:`pyimgsize.check.rules`) and the JSON Schema all read :data:`RULES`; the human label of
each rule lives in :mod:`pyimgsize.render.check`, keyed by the rule's name.

Everything here is data: measured numbers, contributors and fixes with their facts. No words.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, get_args

from pyimgsize.names import normalize_name
from pyimgsize.report import (
    CATEGORIES,
    Contributor,
    Fix,
    InspectReport,
    Layer,
    Package,
    SuggestionId,
    Unit,
)

#: Contributors kept per rule in the report.
MAX_CONTRIBUTORS: Final = 5
#: The ``[budget]`` key of the per-distribution caps (``[budget.packages]``).
PACKAGES_KEY: Final = "packages"

# Ties in bytes are ordered by kind, then by what the contributor names.
_KIND_ORDER: Final = {
    kind: i
    for i, kind in enumerate(
        (
            "unowned-bytecode",
            "category",
            "cache",
            "outside-python",
            "package",
            "layer",
            "unowned",
        )
    )
}


@dataclass(frozen=True, slots=True)
class Measured:
    """What a rule's functions see: the image, the baseline (for baseline rules) and the limit."""

    report: InspectReport
    baseline: InspectReport | None
    limit: int | float

    @property
    def base(self) -> InspectReport:
        """The baseline of a rule that needs one (the evaluation skips it without)."""
        if self.baseline is None:  # pragma: no cover - evaluate() never calls without one
            raise ValueError("this rule needs a baseline")
        return self.baseline


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table."""

    name: str
    """The budget key, the rule name in reports, and (with dashes) the CLI flag."""
    unit: Unit
    needs_baseline: bool
    measure: Callable[[Measured], int | float | None]
    """The actual value; None when it is undefined (the rule is skipped)."""
    contributors: Callable[[Measured], Iterable[Contributor]]
    """What the value is made of (only positive ones are kept, biggest first)."""
    fix: Callable[[Measured], Fix]
    """What to do when the rule fails."""
    help: str
    """The help text of the rule's CLI flag."""
    description: str
    """What the budget key caps (the budget model's field description)."""
    fails: Callable[[Measured, int | float], bool] | None = None
    """When the rule fails, if not simply "actual > limit"."""

    @property
    def flag(self) -> str:
        """The CLI flag: ``--max-python``."""
        return "--" + self.name.replace("_", "-")

    @property
    def metavar(self) -> str:
        return "PERCENT" if self.unit == "percent" else "SIZE"

    def failed(self, measured: Measured, actual: int | float) -> bool:
        if self.fails is not None:
            return self.fails(measured, actual)
        return actual > measured.limit


def top(items: Iterable[Contributor]) -> list[Contributor]:
    """The biggest positive contributors, at most :data:`MAX_CONTRIBUTORS`."""

    def key(c: Contributor) -> tuple[int, int, str, str, int]:
        what = c.package or c.category or ""
        return (-c.bytes, _KIND_ORDER.get(c.kind or "", 99), what, c.path or "", c.layer or 0)

    return sorted((c for c in items if c.bytes > 0), key=key)[:MAX_CONTRIBUTORS]


def package_contributors(
    packages: Sequence[Package], size: Callable[[Package], int]
) -> list[Contributor]:
    """One contributor per install; a distribution installed in several site-packages also
    carries its site-packages as ``path``."""
    counts: dict[str, int] = {}
    for pkg in packages:
        key = normalize_name(pkg.name)
        counts[key] = counts.get(key, 0) + 1
    return [
        Contributor(
            kind="package",
            package=pkg.name,
            path=pkg.site_packages if counts[normalize_name(pkg.name)] > 1 else None,
            bytes=size(pkg),
        )
        for pkg in packages
    ]


def layer_contributor(layer: Layer, bytes_: int, *, category: str | None = None) -> Contributor:
    return Contributor(
        kind="layer",
        layer=layer.index,
        created_by=layer.created_by,
        comment=layer.comment,
        category=category,
        bytes=bytes_,
    )


def bytecode_installer(packages: Iterable[Package]) -> str:
    """The installer that compiled the bytecode: ``uv`` when any install with .pyc is uv's."""
    installers = {(p.installer or "").strip().lower() for p in packages if p.categories.bytecode}
    return "uv" if "uv" in installers else "pip"


def no_compile(installer: str, package: str | None = None) -> Fix:
    """Ship no .pyc: how the installer is told not to compile."""
    if installer == "uv":
        return Fix(
            kind="no-compile",
            installer="uv",
            env={"UV_COMPILE_BYTECODE": "1"},
            flags=["--no-compile-bytecode"],
            package=package,
        )
    return Fix(kind="no-compile", installer="pip", flags=["--no-compile"], package=package)


def suggested_fix(
    m: Measured, ids: Collection[SuggestionId], *, dead: bool = False, visible: bool = False
) -> Fix | None:
    """The fix of the largest of the report's suggestions with one of `ids` (design.md §8),
    carrying what it saves as `bytes`: check's remedies and `advise` share one source. With
    `dead`, only suggestions about bytes a later layer deleted or stored again; with
    `visible`, only suggestions about caches the final view still holds (a fix for a cache a
    later layer deleted changes nothing `max_cache` measures). None when the report has no
    such suggestion (a report saved before suggestions existed)."""
    caches = {c.path for c in m.report.caches}
    for s in m.report.suggestions:  # largest first
        if s.id not in ids:
            continue
        if dead and not s.fix.changed_by:
            continue
        if visible and s.fix.changed_by and caches.isdisjoint(s.fix.paths):
            continue
        return s.fix.model_copy(update={"bytes": s.saves_bytes})
    return None


CACHE_SUGGESTIONS: Final[frozenset[SuggestionId]] = frozenset(
    {"pip-cache", "uv-cache", "poetry-cache", "stray-wheels"}
)
DEAD_SUGGESTIONS: Final[frozenset[SuggestionId]] = CACHE_SUGGESTIONS | {
    "deleted-later",
    "rewritten-unchanged",
}
BYTECODE_SUGGESTIONS: Final[frozenset[SuggestionId]] = frozenset({"bytecode", "foreign-bytecode"})
ALL_SUGGESTIONS: Final[frozenset[SuggestionId]] = frozenset(get_args(SuggestionId))


# --- the rules' measurements -------------------------------------------------------------------


def _image_contributors(m: Measured) -> list[Contributor]:
    return [layer_contributor(lay, lay.bytes - lay.dead_bytes) for lay in m.report.layers]


def _layers_contributors(m: Measured) -> list[Contributor]:
    return [layer_contributor(lay, lay.bytes) for lay in m.report.layers]


def _layers_fix(m: Measured) -> Fix:
    suggested = suggested_fix(m, ALL_SUGGESTIONS)
    if suggested is not None:
        return suggested
    image = m.report.image
    dead = image.layer_bytes - image.bytes
    if dead > 0 and dead >= image.layer_bytes - m.limit:
        # Deleting in the creating layer alone would bring the image within this limit.
        return Fix(kind="delete-in-same-run", bytes=dead)
    return Fix(kind="multi-stage")


def _compressed_contributors(m: Measured) -> list[Contributor]:
    return [layer_contributor(lay, lay.compressed_bytes or 0) for lay in m.report.layers]


def _python_contributors(m: Measured) -> list[Contributor]:
    items = package_contributors(m.report.packages, lambda p: p.bytes)
    items += [
        Contributor(kind="unowned", path=sp.path, bytes=sp.unowned_bytes)
        for sp in m.report.site_packages
    ]
    return items


def _python_fix(m: Measured) -> Fix:
    biggest = top(_python_contributors(m))
    return Fix(kind="runtime-deps-only", package=biggest[0].package if biggest else None)


def _bytecode_contributors(m: Measured) -> list[Contributor]:
    items = package_contributors(m.report.packages, lambda p: p.categories.bytecode)
    other = m.report.totals.bytecode_bytes - sum(p.categories.bytecode for p in m.report.packages)
    items.append(Contributor(kind="unowned-bytecode", bytes=other))
    return items


def _bytecode_fix(m: Measured) -> Fix:
    suggested = suggested_fix(m, BYTECODE_SUGGESTIONS)
    if suggested is not None:
        return suggested
    if "suggestions" in m.report.model_fields_set:
        # advise found no bytecode an install step compiled (nor any for a foreign
        # interpreter): an install flag would change nothing this rule measures (the
        # standard library's .pyc, an environment's own pip and setuptools)
        return Fix(kind="raise-limit")
    # a report saved before suggestions existed: the installer's switch, as before them
    return no_compile(bytecode_installer(m.report.packages))


def _cache_contributors(m: Measured) -> list[Contributor]:
    return [
        Contributor(kind="cache", path=c.path, category=c.kind, bytes=c.bytes)
        for c in m.report.caches
    ]


def _cache_fix(m: Measured) -> Fix:
    suggested = suggested_fix(m, CACHE_SUGGESTIONS, visible=True)
    if suggested is not None:
        return suggested
    by_kind: dict[str, int] = {}
    for cache in m.report.caches:
        by_kind[cache.kind] = by_kind.get(cache.kind, 0) + cache.bytes
    kind = min(by_kind, key=lambda k: (-by_kind[k], k)) if by_kind else "pip"
    paths = sorted(c.path for c in m.report.caches)
    match kind:
        case "uv":
            return Fix(kind="uv-no-cache", installer="uv", env={"UV_NO_CACHE": "1"}, paths=paths)
        case "poetry":
            return Fix(
                kind="poetry-no-cache", installer="poetry", flags=["--no-cache"], paths=paths
            )
        case "wheel":
            return Fix(kind="no-stray-wheels", paths=paths)
        case _:
            return Fix(
                kind="pip-no-cache-dir",
                installer="pip",
                env={"PIP_NO_CACHE_DIR": "1"},
                flags=["--no-cache-dir"],
                paths=paths,
            )


def _cache_fails(m: Measured, actual: int | float) -> bool:
    # max_cache = 0 means none at all: an empty cache or an empty wheel still fails.
    return actual > m.limit or (m.limit == 0 and bool(m.report.caches))


def _dead_contributors(m: Measured) -> list[Contributor]:
    items: list[Contributor] = []
    for lay in m.report.layers:
        if lay.dead_bytes <= 0:
            continue
        dc = lay.dead_categories
        parts = {"cache": dc.cache, "other": dc.other, **{c: getattr(dc, c) for c in CATEGORIES}}
        worst = min(
            (k for k, v in parts.items() if v > 0), key=lambda k: (-parts[k], k), default=""
        )
        items.append(layer_contributor(lay, lay.dead_bytes, category=worst or None))
    return items


def _dead_fix(m: Measured) -> Fix:
    suggested = suggested_fix(m, DEAD_SUGGESTIONS, dead=True)
    if suggested is not None:
        return suggested
    cache_dead = sum(lay.dead_categories.cache for lay in m.report.layers)
    if cache_dead * 2 > m.report.totals.dead_bytes:
        return Fix(kind="no-cache-write")
    return Fix(kind="delete-in-same-run")


def growth_contributors(m: Measured) -> list[Contributor]:
    """What grew: distributions by normalised name (all site-packages together), site-packages
    files no distribution owns, caches and stray wheels, and everything outside Python (the
    rest of the image delta)."""
    report, baseline = m.report, m.base
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
            kind="package",
            package=display[key],
            new=key not in before,
            bytes=after.get(key, 0) - before.get(key, 0),
        )
        for key in sorted(set(before) | set(after))
    ]
    owned = sum(c.bytes for c in items)
    python = report.totals.python_bytes - baseline.totals.python_bytes
    caches = report.totals.cache_bytes - baseline.totals.cache_bytes
    rest = (report.image.bytes - baseline.image.bytes) - python - caches
    items += [
        Contributor(kind="unowned", bytes=python - owned),
        Contributor(kind="cache", bytes=caches),
        Contributor(kind="outside-python", bytes=rest),
    ]
    return items


def _growth_fix(m: Measured) -> Fix:
    return Fix(kind="review-growth", images=[m.base.image.ref, m.report.image.ref])


def _growth_percent(m: Measured) -> float | None:
    base = m.base.image.bytes
    if base == 0:
        return None  # growth in percent of nothing is undefined
    return round((m.report.image.bytes - base) / base * 100, 4)


# --- the table ---------------------------------------------------------------------------------

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        name="max_image",
        unit="bytes",
        needs_baseline=False,
        measure=lambda m: m.report.image.bytes,
        contributors=_image_contributors,
        fix=lambda m: Fix(kind="multi-stage"),
        help="Cap image bytes.",
        description="Caps image.bytes.",
    ),
    Rule(
        name="max_layers_total",
        unit="bytes",
        needs_baseline=False,
        measure=lambda m: m.report.image.layer_bytes,
        contributors=_layers_contributors,
        fix=_layers_fix,
        help="Cap shipped bytes (all layers, uncompressed).",
        description="Caps image.layer_bytes.",
    ),
    Rule(
        name="max_compressed",
        unit="bytes",
        needs_baseline=False,
        measure=lambda m: m.report.image.compressed_bytes,
        contributors=_compressed_contributors,
        fix=lambda m: Fix(kind="multi-stage"),
        help="Cap compressed layer bytes (what a pull transfers).",
        description="Caps image.compressed_bytes, what a pull transfers; skipped for a source "
        "without compressed layer blobs.",
    ),
    Rule(
        name="max_python",
        unit="bytes",
        needs_baseline=False,
        measure=lambda m: m.report.totals.python_bytes,
        contributors=_python_contributors,
        fix=_python_fix,
        help="Cap Python bytes.",
        description="Caps totals.python_bytes.",
    ),
    Rule(
        name="max_bytecode",
        unit="bytes",
        needs_baseline=False,
        measure=lambda m: m.report.totals.bytecode_bytes,
        contributors=_bytecode_contributors,
        fix=_bytecode_fix,
        help="Cap .pyc/.pyo bytes.",
        description="Caps totals.bytecode_bytes.",
    ),
    Rule(
        name="max_cache",
        unit="bytes",
        needs_baseline=False,
        measure=lambda m: m.report.totals.cache_bytes,
        contributors=_cache_contributors,
        fix=_cache_fix,
        fails=_cache_fails,
        help="Cap caches and stray wheels (0: none).",
        description="Caps totals.cache_bytes; 0 allows no pip/uv/poetry cache or stray wheel.",
    ),
    Rule(
        name="max_dead",
        unit="bytes",
        needs_baseline=False,
        measure=lambda m: m.report.totals.dead_bytes,
        contributors=_dead_contributors,
        fix=_dead_fix,
        help="Cap dead bytes.",
        description="Caps totals.dead_bytes.",
    ),
    Rule(
        name="max_growth",
        unit="bytes",
        needs_baseline=True,
        measure=lambda m: m.report.image.bytes - m.base.image.bytes,
        contributors=growth_contributors,
        fix=_growth_fix,
        help="Cap growth over --baseline.",
        description="Caps image.bytes minus the baseline's (needs a baseline).",
    ),
    Rule(
        name="max_growth_percent",
        unit="percent",
        needs_baseline=True,
        measure=_growth_percent,
        contributors=growth_contributors,
        fix=_growth_fix,
        help="Cap growth over --baseline in percent.",
        description="Caps that growth in percent of the baseline's image.bytes.",
    ),
)
"""The rules in evaluation (and report) order."""

BY_NAME: Final[dict[str, Rule]] = {rule.name: rule for rule in RULES}
#: The keys of the ``[budget]`` table.
BUDGET_KEYS: Final[tuple[str, ...]] = (*BY_NAME, PACKAGES_KEY)


def package_rule(name: str) -> str:
    """The rule name of a per-distribution cap (the key's path in the budget file)."""
    return f"{PACKAGES_KEY}.{name}"
