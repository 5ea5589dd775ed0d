"""Check renderers: every format, golden files, JUnit parsed as XML, annotation escaping.

Regenerate the golden files after an intended change with
`PYIMGSIZE_UPDATE_GOLDEN=1 python -m pytest tests/render/test_check_render.py` and review the
diff.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pyimgsize.check import Budget, evaluate
from pyimgsize.render.check import (
    CheckFormat,
    check_renderer,
    md_escape,
    render_check,
    summary_line,
)
from pyimgsize.render.check_words import word_check
from pyimgsize.report import CheckReport, ImageRef, RuleResult
from tests.check.samples import MB, sample_report
from tests.render.golden import check_golden

SUFFIX = {
    CheckFormat.TABLE: "txt",
    CheckFormat.JSON: "json",
    CheckFormat.MARKDOWN: "md",
    CheckFormat.JUNIT: "xml",
    CheckFormat.GITHUB: "txt",
}


def failing_report() -> CheckReport:
    """Fails five rules, passes three, skips one (a cap on a distribution not installed)."""
    budget = Budget(
        max_image="600MB",
        max_layers_total="550MB",
        max_python="150MB",
        max_bytecode="50MB",
        max_cache=0,
        max_dead="40MB",
        max_growth="5MB",
        max_growth_percent=5,
        packages={"pandas": "80MB", "torch": "1GB"},
    )
    baseline = sample_report(ref="docker:app:main")
    return evaluate(sample_report(image_bytes_extra=10 * MB), budget, baseline)


def passing_report() -> CheckReport:
    budget = Budget(max_image="1GB", max_growth="10MB")
    return evaluate(sample_report(), budget)


@pytest.mark.parametrize("fmt", list(CheckFormat))
def test_every_format_has_a_renderer_and_a_golden_file(fmt: CheckFormat) -> None:
    for kind, report in (("failing", failing_report()), ("passing", passing_report())):
        text = check_renderer(fmt)(report)
        assert not text.endswith("\n")
        check_golden(f"check_{kind}.{fmt.value}.{SUFFIX[fmt]}", text)


def test_format_values_are_the_cli_choices() -> None:
    assert [f.value for f in CheckFormat] == ["table", "json", "markdown", "junit", "github"]


def test_summary_line() -> None:
    assert summary_line(failing_report()) == "FAILED: 6 of 10 rules fail, 1 skipped"
    assert summary_line(passing_report()) == "passed: 1 rule passes, 1 skipped"


# --- json --------------------------------------------------------------------------------------


def test_json_is_the_contract_and_round_trips() -> None:
    report = failing_report()
    text = render_check(report, CheckFormat.JSON)
    data = json.loads(text)
    assert data["schema_version"] == "1"
    assert data["passed"] is False
    assert data["image"] == {
        "ref": "docker:app:pr",
        "source": "docker",
        "id": "sha256:" + "ab" * 32,
        "bytes": 575 * MB,
        "layer_bytes": 610 * MB,
    }
    first = data["rules"][0]
    assert {k: first[k] for k in ("rule", "status", "actual", "limit")} == {
        "rule": "max_image",
        "status": "pass",
        "actual": 575 * MB,
        "limit": 600 * MB,
    }
    assert [r["status"] for r in data["rules"]].count("fail") == 6
    assert CheckReport.model_validate_json(text) == word_check(report)
    bytecode = next(r for r in data["rules"] if r["rule"] == "max_bytecode")
    # The verdict as data, beside the words: unit, fix and contributors.
    assert bytecode["unit"] == "bytes"
    assert bytecode["fix"]["kind"] == "no-compile"
    assert bytecode["fix"]["flags"] == ["--no-compile"]
    assert [(c["kind"], c["package"]) for c in bytecode["contributors"][:2]] == [
        ("package", "pandas"),
        ("package", "numpy"),
    ]
    percent = next(r for r in data["rules"] if r["rule"] == "max_growth_percent")
    assert percent["unit"] == "percent"


def test_json_validates_against_the_committed_schema() -> None:
    import jsonschema

    import pyimgsize

    schema_path = Path(pyimgsize.__file__).parent / "schema" / "check.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text("utf-8")))
    for report in (failing_report(), passing_report()):
        document = json.loads(render_check(report, CheckFormat.JSON))
        assert list(validator.iter_errors(document)) == []
    broken = json.loads(render_check(passing_report(), CheckFormat.JSON))
    broken["rules"][0]["status"] = "maybe"
    assert list(validator.iter_errors(broken)) != []


# --- junit -------------------------------------------------------------------------------------


def test_junit_parses_with_one_testcase_per_rule() -> None:
    report = failing_report()
    root = ET.fromstring(render_check(report, CheckFormat.JUNIT))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped"), root.get("errors")) == (
        "10",
        "6",
        "1",
        "0",
    )
    suites = root.findall("testsuite")
    assert len(suites) == 1
    cases = suites[0].findall("testcase")
    assert [case.get("name") for case in cases] == [r.rule for r in report.rules]
    assert {case.get("classname") for case in cases} == {"pyimgsize.check"}

    by_name = {case.get("name"): case for case in cases}
    failure = by_name["max_bytecode"].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        "bytecode 60.0 MB > 50.0 MB: pandas 31.0 MB, numpy 14.0 MB, "
        ".pyc of no distribution (standard library, app) 13.0 MB, ..."
    )
    assert failure.text is not None
    assert "  requests: 2.0 MB" in failure.text.splitlines()
    assert failure.text.splitlines()[-1].startswith("fix: pip compiles .pyc")

    skipped = by_name["packages.torch"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "skipped: torch is not installed in the image"

    passed = by_name["max_image"]
    assert passed.find("failure") is None
    assert passed.find("skipped") is None
    out = passed.find("system-out")
    assert out is not None
    assert out.text == "image 575.0 MB <= 600.0 MB"

    props = {p.get("name"): p.get("value") for p in suites[0].iter("property")}
    assert props["image"] == "docker:app:pr"
    assert props["baseline.bytes"] == str(565 * MB)


def test_junit_of_a_passing_check_has_no_failures() -> None:
    root = ET.fromstring(render_check(passing_report(), CheckFormat.JUNIT))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("2", "0", "1")
    assert root.find(".//failure") is None


# --- github ------------------------------------------------------------------------------------


def test_github_annotations() -> None:
    lines = render_check(failing_report(), CheckFormat.GITHUB).splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    notices = [line for line in lines if line.startswith("::notice ")]
    assert len(errors) == 6
    assert len(notices) == 2  # the skipped rule and the verdict
    assert len(lines) == 8
    assert errors[0].startswith(
        "::error title=pyimgsize budget%3A max_layers_total::"
        "shipped (all layers) 610.0 MB > 550.0 MB"
    )
    assert "%0Afix: " in errors[0]
    assert notices[0] == (
        "::notice title=pyimgsize budget%3A packages.torch skipped::"
        "skipped: torch is not installed in the image"
    )
    assert lines[-1].startswith("::notice title=pyimgsize check::FAILED: 6 of 10 rules fail")


def test_github_escapes_data_and_properties() -> None:
    report = CheckReport(
        passed=False,
        image=ImageRef(ref="x", source="docker", id="sha256:00", bytes=1, layer_bytes=1),
        rules=[
            RuleResult(
                rule="packages.a,b",
                status="fail",
                actual=2,
                limit=1,
                package="100% over\r\nline two",
            )
        ],
    )
    first = render_check(report, CheckFormat.GITHUB).splitlines()[0]
    assert first == (
        "::error title=pyimgsize budget%3A packages.a%2Cb::100%25 over%0D%0Aline two 2 B > 1 B"
    )


# --- markdown and table ------------------------------------------------------------------------


def test_markdown_escapes_cells() -> None:
    assert md_escape("RUN a | b <x> __init__\nnext") == r"RUN a \| b \<x\> \_\_init\_\_ next"
    image = sample_report()
    image.layers[1].created_by = "/bin/sh -c echo a | tee b"
    report = evaluate(image, Budget(max_image="1MB"))
    text = render_check(report, CheckFormat.MARKDOWN)
    row = next(line for line in text.splitlines() if line.startswith("| `max_image`"))
    assert row.count(" | ") == 4  # five cells: the pipe in the message is escaped
    assert r"echo a \| tee b" in row


def test_markdown_lists_contributors_and_fix_for_failures_only() -> None:
    text = render_check(failing_report(), CheckFormat.MARKDOWN)
    assert text.startswith("## ❌ pyimgsize check FAILED: 6 of 10 rules fail, 1 skipped")
    assert "- pandas: 31.0 MB" in text.splitlines()
    assert text.count("\nFix: ") == 6
    assert "How to fix" not in render_check(passing_report(), CheckFormat.MARKDOWN)


def test_table_shows_actual_and_limit_per_rule() -> None:
    lines = render_check(failing_report(), CheckFormat.TABLE).splitlines()
    assert lines[0] == "pyimgsize check FAILED: 6 of 10 rules fail, 1 skipped"
    row = next(line for line in lines if line.startswith("max_growth_percent"))
    assert row.split() == ["max_growth_percent", "PASS", "+1.77%", "5%"]
    row = next(line for line in lines if line.startswith("max_growth "))
    assert row.split() == ["max_growth", "FAIL", "+10.0", "MB", "5.0", "MB"]
    row = next(line for line in lines if line.startswith("packages.torch"))
    assert row.split() == ["packages.torch", "SKIP", "-", "1.0", "GB"]
