"""Renderers for `pyimgsize check`: a budget verdict (`CheckReport`) as text.

Five formats (`CheckFormat`): a terminal `table`; the `json` contract (design.md §4); `markdown`
for a CI job summary or a pull-request comment; `junit` XML, one testcase per rule (a failing
rule is a `<failure>` carrying its explanation, a skipped rule `<skipped>`), for CI test
reports; and `github` workflow commands (`::error` per failing rule, `::notice` per skipped rule
and for the summary), see
https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands.
Every renderer returns a string without a trailing newline; only the CLI writes it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Final, assert_never

from pyimgsize.render.advice_words import remedy as suggestion_remedy
from pyimgsize.render.check_words import format_value, is_signed, word_check
from pyimgsize.render.common import Column, fit_table, make_table, md_code, short_id, wrap_lines
from pyimgsize.render.json import render_json
from pyimgsize.render.options import CheckFormat
from pyimgsize.report import CheckReport, ImageRef, RuleResult
from pyimgsize.units import format_bytes

__all__ = [
    "CheckFormat",
    "check_renderer",
    "render_check",
    "render_check_github",
    "render_check_json",
    "render_check_junit",
    "render_check_markdown",
    "render_check_table",
]

JUNIT_SUITE: Final = "pyimgsize check"
JUNIT_CLASSNAME: Final = "pyimgsize.check"


def check_renderer(fmt: CheckFormat) -> Callable[[CheckReport], str]:
    """The renderer of `fmt`."""
    match fmt:
        case CheckFormat.TABLE:
            return render_check_table
        case CheckFormat.JSON:
            return render_check_json
        case CheckFormat.MARKDOWN:
            return render_check_markdown
        case CheckFormat.JUNIT:
            return render_check_junit
        case CheckFormat.GITHUB:
            return render_check_github
        case _:
            assert_never(fmt)


def render_check(report: CheckReport, fmt: CheckFormat, *, width: int | None = None) -> str:
    """Render a check verdict as `fmt`; `width` fits the table to a terminal (None: full
    width; other formats ignore it)."""
    if fmt is CheckFormat.TABLE:
        return render_check_table(report, width=width)
    return check_renderer(fmt)(report)


def render_check_json(report: CheckReport) -> str:
    """The JSON contract: the verdict's data with its text fields (message, remedy,
    contributor names) filled in."""
    return render_json(word_check(report))


# --- shared pieces ---------------------------------------------------------------------------


def actual_cell(rule: RuleResult) -> str:
    """The rule's actual value for a table cell ("612.3 MB", "+12.0 MB", "+2.5%", "-")."""
    return format_value(rule, rule.actual, signed=is_signed(rule))


def limit_cell(rule: RuleResult) -> str:
    """The rule's limit for a table cell ("600.0 MB", "5%", "-")."""
    return format_value(rule, rule.limit)


def _counts(report: CheckReport) -> tuple[int, int, int]:
    failed = sum(r.status == "fail" for r in report.rules)
    skipped = sum(r.status == "skip" for r in report.rules)
    return failed, skipped, len(report.rules) - failed - skipped


def summary_line(report: CheckReport) -> str:
    """ "passed: 7 rules pass, 2 skipped" / "FAILED: 2 of 9 rules fail, 1 skipped"."""
    failed, skipped, passed = _counts(report)
    total = len(report.rules)
    noun = "rule" if total == 1 else "rules"
    skip = f", {skipped} skipped" if skipped else ""
    if failed:
        return f"FAILED: {failed} of {total} {noun} fail{'s' if failed == 1 else ''}{skip}"
    verb = "passes" if passed == 1 else "pass"
    return f"passed: {passed} {'rule' if passed == 1 else 'rules'} {verb}{skip}"


def _image_line(image: ImageRef) -> str:
    return (
        f"{image.ref} ({short_id(image.id)}): {format_bytes(image.bytes)} visible, "
        f"{format_bytes(image.layer_bytes)} shipped"
    )


# --- table -----------------------------------------------------------------------------------


def render_check_table(report: CheckReport, *, width: int | None = None) -> str:
    """Terminal output: summary, image (and baseline), one row per rule, then the failing and
    skipped rules with their explanation and remedy. `width` fits it to a terminal: long
    explanations and remedies wrap (None: one line each, for pipes and files)."""
    report = word_check(report)
    lines = [
        wrap_lines(f"pyimgsize check {summary_line(report)}", width),
        wrap_lines(f"image     {_image_line(report.image)}", width, "          "),
    ]
    if report.baseline is not None:
        lines.append(wrap_lines(f"baseline  {_image_line(report.baseline)}", width, "          "))
    lines.append("")
    rows = [[r.rule, r.status.upper(), actual_cell(r), limit_cell(r)] for r in report.rules]
    columns = [
        Column("rule", shrink="cut", soft=20, hard=10),
        Column("status"),
        Column("actual", right=True),
        Column("limit", right=True),
    ]
    lines.append(fit_table(columns, rows, width))
    details = [r for r in report.rules if r.status != "pass"]
    if details:
        lines.append("")
    for rule in details:
        lines.append(wrap_lines(f"{rule.status.upper()} {rule.rule}: {rule.message}", width, "  "))
        if rule.remedy:
            lines.append(wrap_lines(f"  fix: {rule.remedy}", width, "     "))
    return "\n".join(lines)


# --- markdown --------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_STATUS_MD: Final = {"pass": "✅ pass", "fail": "❌ fail", "skip": "⏭️ skip"}


def md_escape(text: str) -> str:
    """Plain text safe in a GitHub-flavoured markdown paragraph or table cell."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _md_code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _remedy_markdown(rule: RuleResult) -> str | None:
    """A worded rule's remedy as markdown: a suggestion's words keep their commands as code
    spans, as `advise --format markdown` shows them (the image's own text, layer labels and
    paths, in code spans too); check's own remedies are plain words, escaped."""
    if rule.fix is not None and rule.fix.suggestion is not None:
        return suggestion_remedy(rule.fix, code=md_code)
    return None if rule.remedy is None else md_escape(rule.remedy)


def render_check_markdown(report: CheckReport) -> str:
    """Markdown for `$GITHUB_STEP_SUMMARY`, a GitLab job summary or a pull-request comment."""
    report = word_check(report)
    failed, _skipped, _passed = _counts(report)
    icon = "❌" if failed else "✅"
    lines = [
        f"## {icon} pyimgsize check {md_escape(summary_line(report))}",
        "",
        f"Image {_md_code(report.image.ref)} ({_md_code(short_id(report.image.id))}): "
        f"**{format_bytes(report.image.bytes)}** visible, "
        f"{format_bytes(report.image.layer_bytes)} shipped.",
    ]
    if report.baseline is not None:
        base = report.baseline
        delta = report.image.bytes - base.bytes
        lines.append(
            f"Baseline {_md_code(base.ref)} ({_md_code(short_id(base.id))}): "
            f"{format_bytes(base.bytes)} visible ({format_bytes(delta, signed=True)})."
        )
    lines.append("")
    rows = [
        [
            _md_code(r.rule),
            _STATUS_MD[r.status],
            actual_cell(r),
            limit_cell(r),
            md_escape(r.message),
        ]
        for r in report.rules
    ]
    lines.append(
        make_table(
            ["Rule", "Status", "Actual", "Limit", "Details"], rows, right=(2, 3), tablefmt="pipe"
        )
    )
    failures = [r for r in report.rules if r.status == "fail"]
    if failures:
        lines += ["", "### How to fix"]
    for rule in failures:
        lines += ["", f"**{_md_code(rule.rule)}**: {md_escape(rule.message)}"]
        if rule.contributors:
            lines.append("")
            signed = is_signed(rule)
            lines += [
                f"- {md_escape(c.name)}: {format_bytes(c.bytes, signed=signed)}"
                for c in rule.contributors
            ]
        remedy = _remedy_markdown(rule)
        if remedy:
            lines += ["", f"Fix: {remedy}"]
    return "\n".join(lines)


# --- junit -----------------------------------------------------------------------------------


def _failure_text(rule: RuleResult) -> str:
    lines = [rule.message]
    if rule.contributors:
        signed = is_signed(rule)
        lines.append("biggest contributors:")
        lines += [f"  {c.name}: {format_bytes(c.bytes, signed=signed)}" for c in rule.contributors]
    if rule.remedy:
        lines.append(f"fix: {rule.remedy}")
    return "\n".join(lines)


def render_check_junit(report: CheckReport) -> str:
    """JUnit XML: one `<testcase>` per rule; failures carry the explanation and the remedy."""
    report = word_check(report)
    failed, skipped, _passed = _counts(report)
    counts = {
        "tests": str(len(report.rules)),
        "failures": str(failed),
        "errors": "0",
        "skipped": str(skipped),
        "time": "0",
    }
    root = ET.Element("testsuites", {"name": JUNIT_SUITE, **counts})
    suite = ET.SubElement(
        root, "testsuite", {"name": f"{JUNIT_SUITE} {report.image.ref}", **counts}
    )
    props = ET.SubElement(suite, "properties")
    images = [("image", report.image)]
    if report.baseline is not None:
        images.append(("baseline", report.baseline))
    for prefix, image in images:
        for key, value in (
            ("", image.ref),
            (".id", image.id),
            (".bytes", str(image.bytes)),
            (".layer_bytes", str(image.layer_bytes)),
        ):
            ET.SubElement(props, "property", {"name": prefix + key, "value": value})
    for rule in report.rules:
        case = ET.SubElement(
            suite, "testcase", {"classname": JUNIT_CLASSNAME, "name": rule.rule, "time": "0"}
        )
        if rule.status == "fail":
            failure = ET.SubElement(case, "failure", {"message": rule.message, "type": "budget"})
            failure.text = _failure_text(rule)
        elif rule.status == "skip":
            ET.SubElement(case, "skipped", {"message": rule.message})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = rule.message
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body


# --- github ----------------------------------------------------------------------------------


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def render_check_github(report: CheckReport) -> str:
    """GitHub Actions workflow commands: `::error` per failing rule (message, then the fix),
    `::notice` per skipped rule, and a closing `::notice` with the verdict."""
    report = word_check(report)
    lines: list[str] = []
    for rule in report.rules:
        if rule.status == "fail":
            text = rule.message + (f"\nfix: {rule.remedy}" if rule.remedy else "")
            title = f"pyimgsize budget: {rule.rule}"
            lines.append(f"::error title={_gh_property(title)}::{_gh_data(text)}")
        elif rule.status == "skip":
            title = f"pyimgsize budget: {rule.rule} skipped"
            lines.append(f"::notice title={_gh_property(title)}::{_gh_data(rule.message)}")
    verdict = f"{summary_line(report)} ({_image_line(report.image)})"
    lines.append(f"::notice title={_gh_property('pyimgsize check')}::{_gh_data(verdict)}")
    return "\n".join(lines)
