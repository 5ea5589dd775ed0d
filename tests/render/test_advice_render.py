"""advise renderers and words: golden files, every id / fix kind / trade-off worded, the fix
worded for the installer that wrote the bytes, inspect's Suggestions section, check's remedies
from the same words."""

from __future__ import annotations

import json
import typing

import pytest

from pyimgsize.render import OutputFormat, render_inspect
from pyimgsize.render.advice import NOTHING, render_advice
from pyimgsize.render.advice_words import TITLES, TRADEOFFS, fix, remedy
from pyimgsize.render.check_words import remedy_text
from pyimgsize.report import (
    AdviseReport,
    Fix,
    FixKind,
    RuleResult,
    SuggestionId,
    Tradeoff,
)
from pyimgsize.units import format_bytes
from tests.render.golden import check_golden
from tests.render.sample import advised_report, python_report

CHECK_ONLY = {
    "runtime-deps-only",
    "no-stray-wheels",
    "no-cache-write",
    "review-growth",
    "slim-package",
    "raise-limit",
}


def advise_report() -> AdviseReport:
    return AdviseReport.from_inspect(advised_report())


@pytest.mark.parametrize(
    ("fmt", "suffix"),
    [(OutputFormat.TABLE, "txt"), (OutputFormat.MARKDOWN, "md"), (OutputFormat.JSON, "json")],
)
def test_golden(fmt: OutputFormat, suffix: str) -> None:
    check_golden(f"advise.{suffix}", render_advice(advise_report(), fmt))


def test_json_is_the_model_and_totals_add_up() -> None:
    report = advise_report()
    doc = json.loads(render_advice(report, OutputFormat.JSON))
    assert AdviseReport.model_validate(doc) == report
    assert doc["totals"]["saves_bytes"] == sum(s["saves_bytes"] for s in doc["suggestions"])
    assert doc["totals"]["heuristic_bytes"] == 0


def test_nothing_to_suggest_says_so() -> None:
    empty = AdviseReport.from_inspect(python_report())
    assert empty.suggestions == []
    for fmt in (OutputFormat.TABLE, OutputFormat.MARKDOWN):
        assert NOTHING in render_advice(empty, fmt).replace("\\", "")


def test_every_id_kind_and_tradeoff_has_words() -> None:
    assert set(TITLES) == set(typing.get_args(SuggestionId))
    assert set(TRADEOFFS) == set(typing.get_args(Tradeoff))
    for kind in typing.get_args(FixKind):
        f = Fix(kind=kind, layer=2, paths=["/x"])
        if kind in CHECK_ONLY:
            with pytest.raises(ValueError, match="check rule"):
                fix(f)
        else:
            assert fix(f)


@pytest.mark.parametrize(
    ("kind", "installer", "words"),
    [
        ("pip-no-cache-dir", "pip", "pip install --no-cache-dir"),
        ("uv-no-cache", "uv", "UV_NO_CACHE=1"),
        ("poetry-no-cache", "poetry", "poetry install --no-cache"),
        ("no-compile", "pip", "pip install --no-compile"),
        ("no-compile", "uv", "UV_COMPILE_BYTECODE=1"),
        ("no-compile", "compileall", "compileall"),
    ],
)
def test_fix_is_worded_for_its_installer(kind: FixKind, installer: str, words: str) -> None:
    assert words in fix(Fix(kind=kind, installer=installer))


def test_a_late_delete_and_hardlinks_are_named() -> None:
    report = advise_report()
    text = render_advice(report, OutputFormat.TABLE)
    assert "deleting it later (layer 5: RUN rm -rf /root/.cache/pip) does not shrink" in text
    assert "1.3 MB of the cache are hardlinked into installed files and stay" in text
    assert "they come from a COPY/ADD (layer 6: COPY dist/app-1.4.0-py3-none-any.whl" in text


def test_inspect_shows_the_top_suggestions() -> None:
    report = advised_report()
    extra = report.suggestions[-1].model_copy(update={"saves_bytes": 1, "layers": {"6": 1}})
    many = report.model_copy(update={"suggestions": [*report.suggestions, extra, extra]})
    table = render_inspect(many, OutputFormat.TABLE)
    assert "Suggestions (top 5 of 6;" in table
    total = sum(s.saves_bytes for s in many.suggestions)
    assert f"together: {format_bytes(total)}" in table
    markdown = render_inspect(many, OutputFormat.MARKDOWN)
    assert f"#### Suggestions (top 5 of 6): {format_bytes(total)} together" in markdown
    # a report without suggestions (saved before they existed) shows no such section
    assert "Suggestions" not in render_inspect(python_report(), OutputFormat.TABLE)


def test_check_remedy_of_a_suggested_fix_is_advise_words_with_the_saving() -> None:
    f = Fix(
        kind="uv-no-cache",
        installer="uv",
        suggestion="uv-cache",
        linked_bytes=104_600_000,
        bytes=6_500_000,
    )
    rule = RuleResult(rule="max_cache", status="fail", actual=111_100_000, limit=0, fix=f)
    text = remedy_text(rule)
    assert text == remedy(f)
    assert "104.6 MB of the cache are hardlinked" in text
    assert text.endswith("(saves 6.5 MB)")
