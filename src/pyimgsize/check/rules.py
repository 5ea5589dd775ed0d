"""Measuring and verdicts: a budget against an :class:`~pyimgsize.report.InspectReport`.

:func:`evaluate` runs every row of :data:`pyimgsize.check.table.RULES` whose key the budget
sets, then every per-distribution cap. A rule fails when its actual value is strictly greater
than its limit (or when its row says otherwise); rules that need a baseline are skipped without
one, and caps of distributions the image does not have are skipped, not failed. The verdict is
data (status, actual, limit, unit, contributors, fix); ``pyimgsize.render.check`` words it.
"""

from __future__ import annotations

from pyimgsize.check.config import Budget
from pyimgsize.check.table import (
    RULES,
    Measured,
    Rule,
    bytecode_installer,
    no_compile,
    package_rule,
    top,
)
from pyimgsize.names import normalize_name
from pyimgsize.report import (
    CATEGORIES,
    CheckReport,
    Contributor,
    Fix,
    InspectReport,
    RuleResult,
    SkipReason,
)

__all__ = ["evaluate", "package_verdict", "verdict"]


def _skipped(rule: Rule, limit: int | float, reason: SkipReason) -> RuleResult:
    return RuleResult(
        rule=rule.name,
        status="skip",
        actual=None,
        limit=limit,
        unit=rule.unit,
        skip_reason=reason,
    )


def verdict(
    rule: Rule, report: InspectReport, baseline: InspectReport | None, limit: int | float
) -> RuleResult:
    """One table rule's verdict."""
    if rule.needs_baseline and baseline is None:
        return _skipped(rule, limit, "needs-baseline")
    measured = Measured(report, baseline, limit)
    actual = rule.measure(measured)
    if actual is None:
        # Undefined for this image: growth in percent of an empty baseline, say.
        return _skipped(rule, limit, "empty-baseline" if rule.needs_baseline else "undefined")
    failed = rule.failed(measured, actual)
    return RuleResult(
        rule=rule.name,
        status="fail" if failed else "pass",
        actual=actual,
        limit=limit,
        unit=rule.unit,
        contributors=top(rule.contributors(measured)),
        fix=rule.fix(measured) if failed else None,
    )


def package_verdict(report: InspectReport, name: str, limit: int) -> RuleResult:
    """The verdict of ``[budget.packages]``'s cap on the distribution ``name`` (normalised):
    every install of it counts; the fix is about that distribution."""
    rule = package_rule(name)
    installs = [p for p in report.packages if normalize_name(p.name) == name]
    if not installs:
        return RuleResult(
            rule=rule,
            status="skip",
            actual=None,
            limit=limit,
            skip_reason="not-installed",
            package=name,
        )
    actual = sum(p.bytes for p in installs)
    display = installs[0].name
    contributors = top(
        Contributor(
            kind="category",
            category=category,
            bytes=sum(getattr(p.categories, category) for p in installs),
        )
        for category in CATEGORIES
    )
    fix: Fix | None = None
    if actual > limit:
        biggest = contributors[0].category if contributors else "data"
        if len(installs) > 1:
            fix = Fix(
                kind="single-environment",
                package=display,
                paths=sorted(p.site_packages for p in installs),
            )
        elif biggest == "bytecode":
            fix = no_compile(bytecode_installer(installs), package=display)
        else:
            fix = Fix(kind="slim-package", package=display, category=biggest)
    return RuleResult(
        rule=rule,
        status="fail" if fix is not None else "pass",
        actual=actual,
        limit=limit,
        contributors=contributors,
        fix=fix,
        package=display,
        installs=len(installs),
    )


def evaluate(
    report: InspectReport, budget: Budget, baseline: InspectReport | None = None
) -> CheckReport:
    """Every rule of ``budget`` against ``report`` (and ``baseline`` for the growth rules)."""
    results: list[RuleResult] = []
    for rule in RULES:
        limit = budget.limit(rule.name)
        if limit is not None:
            results.append(verdict(rule, report, baseline, limit))
    for name in sorted(budget.packages):
        results.append(package_verdict(report, name, budget.packages[name]))
    return CheckReport(
        passed=not any(r.status == "fail" for r in results),
        image=report.image.as_ref(),
        rules=results,
        baseline=baseline.image.as_ref() if baseline is not None else None,
    )
