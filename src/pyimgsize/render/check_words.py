"""The words of a budget verdict: rule labels, messages, remedies and contributor names.

`pyimgsize.check` returns verdicts as data (status, actual, limit, unit, contributors, fix);
`word_check` fills the text fields every format shows (`message`, `remedy`, each contributor's
`name`), the same text the JSON contract has always carried. A new rule needs one entry in
`LABELS` (keyed by its name) and, for a new fix kind, one entry in `_REMEDIES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from pyimgsize.render.advice_words import remedy as suggestion_remedy
from pyimgsize.render.common import layer_label
from pyimgsize.report import CheckReport, Contributor, FixKind, ImageRef, RuleResult
from pyimgsize.units import format_bytes

#: How many contributors a message names.
MESSAGE_CONTRIBUTORS: Final = 3


@dataclass(frozen=True, slots=True)
class Label:
    """How a rule's measured thing is called; a `growth` rule is worded against the baseline
    and its values are signed."""

    text: str
    growth: bool = False


LABELS: Final[dict[str, Label]] = {
    "max_image": Label("image"),
    "max_layers_total": Label("shipped (all layers)"),
    "max_compressed": Label("compressed layers (pull size)"),
    "max_python": Label("Python"),
    "max_bytecode": Label("bytecode"),
    "max_cache": Label("caches and stray wheels"),
    "max_dead": Label("dead bytes"),
    "max_growth": Label("growth", growth=True),
    "max_growth_percent": Label("growth", growth=True),
}
"""Every rule of `pyimgsize.check.table.RULES`, by name (a test keeps them in step)."""


def is_signed(rule: RuleResult) -> bool:
    """Whether the rule's values (and contributors) are deltas, shown with a sign."""
    label = LABELS.get(rule.rule)
    return label is not None and label.growth


def format_value(rule: RuleResult, value: int | float | None, *, signed: bool = False) -> str:
    """A rule's value in its unit: "612.3 MB", "+12.0 MB", "+2.5%", "5%", or "-"."""
    if value is None:
        return "-"
    if rule.unit == "percent":
        text = f"{value:.2f}".rstrip("0").rstrip(".") + "%"
        return f"+{text}" if signed and value > 0 else text
    return format_bytes(int(value), signed=signed)


# --- contributors ------------------------------------------------------------------------------


def contributor_name(c: Contributor) -> str:
    """ "pandas", "numpy (/venv2/site-packages)", "torch (new)", "layer 3: RUN pip install …
    (mostly cache)", "/root/.cache/pip (pip)", "native", "unowned files in /venv/...", ..."""
    match c.kind:
        case "package":
            name = c.package or ""
            if c.path:
                name += f" ({c.path})"
            return name + (" (new)" if c.new else "")
        case "layer":
            name = layer_label(c.layer or 0, c.created_by, c.comment)
            return name + (f" (mostly {c.category})" if c.category else "")
        case "cache":
            return f"{c.path} ({c.category})" if c.path else "caches and stray wheels"
        case "category":
            return c.category or ""
        case "unowned":
            return (
                f"unowned files in {c.path}" if c.path else "site-packages files of no distribution"
            )
        case "unowned-bytecode":
            return ".pyc of no distribution (standard library, app)"
        case "outside-python":
            return "files outside Python"
        case _:
            return c.name


def _named(contributors: Sequence[Contributor], *, signed: bool) -> str:
    shown = ", ".join(
        f"{c.name} {format_bytes(c.bytes, signed=signed)}"
        for c in contributors[:MESSAGE_CONTRIBUTORS]
    )
    if len(contributors) > MESSAGE_CONTRIBUTORS:
        shown += ", ..."
    return shown


# --- messages ----------------------------------------------------------------------------------


def _skip_message(rule: RuleResult) -> str:
    match rule.skip_reason:
        case "needs-baseline":
            return f"skipped: {rule.rule} needs a baseline (--baseline IMAGE|REPORT.json)"
        case "empty-baseline":
            return "skipped: the baseline image has 0 bytes, growth in percent is undefined"
        case "not-installed":
            return f"skipped: {rule.package} is not installed in the image"
        case _:
            return f"skipped: {rule.rule} is undefined for this image"


def _subject(rule: RuleResult) -> str:
    if rule.rule in LABELS:
        return LABELS[rule.rule].text
    if rule.package is not None:
        where = f" ({rule.installs} installs)" if (rule.installs or 0) > 1 else ""
        return f"{rule.package}{where}"
    return rule.rule


def _growth_base(rule: RuleResult, image: ImageRef, baseline: ImageRef | None) -> str:
    if baseline is None:
        return ""
    span = f"baseline {format_bytes(baseline.bytes)} -> {format_bytes(image.bytes)}"
    if rule.unit == "percent":
        return f" ({format_bytes(image.bytes - baseline.bytes, signed=True)}: {span})"
    return f" ({span})"


def rule_message(rule: RuleResult, image: ImageRef, baseline: ImageRef | None = None) -> str:
    """One line saying what was measured against what, naming the biggest contributors of a
    failing rule."""
    if rule.status == "skip":
        return _skip_message(rule)
    signed = is_signed(rule)
    actual = format_value(rule, rule.actual, signed=signed)
    limit = format_value(rule, rule.limit)
    if rule.rule == "max_cache" and rule.status == "fail" and rule.actual == 0 and rule.fix:
        # max_cache = 0 fails on caches and wheels of no bytes at all: name them.
        paths = rule.fix.paths
        count = len(paths)
        more = ", ..." if count > MESSAGE_CONTRIBUTORS else ""
        plural = "s" if count != 1 else ""
        return (
            f"{count} cache{plural} or stray wheel{plural} present, max_cache = 0 allows none: "
            f"{', '.join(paths[:MESSAGE_CONTRIBUTORS])}{more}"
        )
    base = _growth_base(rule, image, baseline) if signed else ""
    if rule.status == "pass":
        return f"{_subject(rule)} {actual} <= {limit}{base}"
    note = " (max_cache = 0 allows none)" if rule.rule == "max_cache" and rule.limit == 0 else ""
    message = f"{_subject(rule)} {actual} > {limit}{note}{base}"
    named = _named(rule.contributors, signed=signed)
    return f"{message}: {named}" if named else message


# --- remedies ----------------------------------------------------------------------------------


def _multi_stage(rule: RuleResult) -> str:
    if rule.rule == "max_image":
        return (
            "build in a separate stage and COPY --from it only what runs (for a venv: "
            "COPY --from=build /venv /venv), so compilers, caches and build leftovers never "
            "reach the final image"
        )
    return (
        "build in a separate stage and COPY --from it only what runs, so the final image "
        "has fewer and smaller layers"
    )


def _delete_in_same_run(rule: RuleResult) -> str:
    fix = rule.fix
    if fix is not None and fix.bytes is not None:
        return (
            f"{format_bytes(fix.bytes)} of the shipped bytes are dead (deleted or overwritten by a "
            "later layer): delete files in the same RUN that creates them, since a later "
            "rm only hides them"
        )
    return (
        "delete files in the same RUN that creates them (a later rm only hides them, the "
        "bytes still ship), or build in a separate stage and COPY --from only the result"
    )


def _runtime_deps_only(rule: RuleResult) -> str:
    biggest = rule.contributors[0].name if rule.contributors else "the largest distribution"
    return (
        "keep build-only and optional dependencies out of the runtime environment (install "
        f"them in a build stage and COPY --from only the runtime venv); start with {biggest}"
    )


def _no_compile(rule: RuleResult) -> str:
    fix = rule.fix
    uv = fix is not None and fix.installer == "uv"
    if fix is not None and fix.package is not None:
        # A per-distribution cap: the fix is about that distribution, and its own limit.
        how = (
            "leave UV_COMPILE_BYTECODE unset (or --no-compile-bytecode)"
            if uv
            else "pip install --no-compile"
        )
        return (
            f"most of {fix.package} is bytecode compiled at install time: {how} ships no .pyc "
            f"(imports compile on first use), or raise {rule.rule} if start-up time matters more"
        )
    if uv:
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


def _review_growth(rule: RuleResult) -> str:
    images = rule.fix.images if rule.fix is not None else []
    compared = " ".join(images) if images else "BASELINE IMAGE"
    return (
        f"run pyimgsize diff {compared} to see which distributions, categories and layers "
        "grew; if the growth is intended, raise the limit in the same pull request"
    )


def _single_environment(rule: RuleResult) -> str:
    fix = rule.fix
    paths = fix.paths if fix is not None else []
    return (
        f"{rule.package} is installed {len(paths)} times ("
        + ", ".join(paths)
        + "): install it into one environment only"
    )


def _raise_limit(rule: RuleResult) -> str:
    if rule.rule == "max_bytecode":
        return (
            "no install step compiled this bytecode (advise finds none to switch off): it is "
            "the interpreter's standard library and the environments' own tools (pip, "
            "setuptools), which no install flag removes; raise max_bytecode to what the "
            "image needs"
        )
    return f"nothing in the image's build removes these bytes: raise {rule.rule}"


def _slim_package(rule: RuleResult) -> str:
    category = rule.fix.category if rule.fix is not None else None
    return (
        f"most of {rule.package} is {category or 'data'}: check whether a slimmer build, extra "
        "or version fits, or whether it is needed at run time at all (if only at build "
        "time, install it in a build stage only)"
    )


def _suggested(rule: RuleResult) -> str:
    assert rule.fix is not None
    return suggestion_remedy(rule.fix)


def _fixed(text: str) -> Callable[[RuleResult], str]:
    return lambda _rule: text


_REMEDIES: Final[dict[FixKind, Callable[[RuleResult], str]]] = {
    "multi-stage": _multi_stage,
    "delete-in-same-run": _delete_in_same_run,
    "runtime-deps-only": _runtime_deps_only,
    "no-compile": _no_compile,
    "pip-no-cache-dir": _fixed(
        "pip install --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1), or keep the cache out of the "
        "image with RUN --mount=type=cache,target=/root/.cache/pip"
    ),
    "uv-no-cache": _fixed(
        "ENV UV_NO_CACHE=1, or keep the cache out of the image with "
        "RUN --mount=type=cache,target=/root/.cache/uv (with UV_LINK_MODE=copy)"
    ),
    "poetry-no-cache": _fixed(
        "poetry install --no-cache, or RUN --mount=type=cache,target=/root/.cache/pypoetry"
    ),
    "no-stray-wheels": _fixed(
        "do not COPY wheels into the final image: install them from a bind mount "
        "(RUN --mount=type=bind,source=dist,target=/tmp/dist pip install /tmp/dist/*.whl) "
        "or from a build stage, or delete them in the same RUN that installs them"
    ),
    "no-cache-write": _fixed(
        "the dead bytes are mostly caches and wheels deleted in a later layer: do not write "
        "them at all (pip --no-cache-dir, UV_NO_CACHE=1, or a RUN --mount=type=cache), or "
        "delete them in the same RUN that created them"
    ),
    "review-growth": _review_growth,
    "single-environment": _single_environment,
    "slim-package": _slim_package,
    "raise-limit": _raise_limit,
    # only suggestions make these (remedy_text words them through advice_words)
    "same-layer-attributes": _suggested,
    "drop-foreign-bytecode": _suggested,
    "purge-build-toolchain": _suggested,
    "venv-without-installer": _suggested,
    "drop-tests": _suggested,
    "drop-headers": _suggested,
}


def remedy_text(rule: RuleResult) -> str | None:
    """What to do, in words, for a rule with a fix. A fix that comes from an advise
    suggestion is worded as advise words it (one source of truth), with its saving."""
    if rule.fix is None:
        return None
    if rule.fix.suggestion is not None:
        return _suggested(rule)
    return _REMEDIES[rule.fix.kind](rule)


# --- the whole report --------------------------------------------------------------------------


def word_rule(rule: RuleResult, image: ImageRef, baseline: ImageRef | None = None) -> RuleResult:
    """A copy of `rule` with its contributors named and its message and remedy written."""
    contributors = [c.model_copy(update={"name": contributor_name(c)}) for c in rule.contributors]
    named = rule.model_copy(update={"contributors": contributors})
    return named.model_copy(
        update={"message": rule_message(named, image, baseline), "remedy": remedy_text(named)}
    )


def word_check(report: CheckReport) -> CheckReport:
    """A copy of `report` with every text field filled from its data."""
    rules = [word_rule(rule, report.image, report.baseline) for rule in report.rules]
    return report.model_copy(update={"rules": rules})
