"""The rule table is the one place a rule is defined: the budget keys, the CLI flags, the
JSON Schema and the labels all follow it, and a new row is a working rule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pyimgsize
from pyimgsize.check.config import Budget
from pyimgsize.check.table import PACKAGES_KEY, RULES
from pyimgsize.cli.app import main
from pyimgsize.render.check_words import LABELS
from pyimgsize.schema import generate
from tests.check.samples import sample_report


def test_the_budget_keys_are_the_table_rows() -> None:
    assert list(Budget.model_fields) == [*(rule.name for rule in RULES), PACKAGES_KEY]
    for rule in RULES:
        assert Budget.model_fields[rule.name].description == rule.description


def test_every_row_has_a_cli_flag_with_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    usage = " ".join(capsys.readouterr().out.split())
    for rule in RULES:
        assert f"{rule.flag} {rule.metavar} {rule.help}" in usage


def test_the_schema_names_the_rows() -> None:
    rule = generate()["check"]["$defs"]["RuleResult"]["properties"]["rule"]
    assert rule["examples"] == [r.name for r in RULES]
    assert all(f"{r.name} ({r.unit})" in rule["description"] for r in RULES)


def test_every_row_has_a_label() -> None:
    assert set(LABELS) == {rule.name for rule in RULES}


# A new rule, added the way CONTRIBUTING.md says: one table row and its label, in a copy of the
# package, run as a user would.
NEW_ROW = """\
    Rule(
        name="max_source",
        unit="bytes",
        needs_baseline=False,
        measure=lambda m: sum(p.categories.source for p in m.report.packages),
        contributors=lambda m: package_contributors(
            m.report.packages, lambda p: p.categories.source
        ),
        fix=lambda m: Fix(kind="runtime-deps-only"),
        help="Cap .py source bytes.",
        description="Caps the source category of every distribution.",
    ),
"""
NEW_LABEL = """\
    "max_source": Label("source"),
"""


@pytest.fixture(scope="module")
def with_new_rule(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package with the new row and its label: the `src` directory."""
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(
        Path(pyimgsize.__file__).parent,
        src / "pyimgsize",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    table = src / "pyimgsize" / "check" / "table.py"
    text = table.read_text(encoding="utf-8")
    end = '\n)\n"""The rules in evaluation (and report) order."""'
    assert text.count(end) == 1
    table.write_text(text.replace(end, "\n" + NEW_ROW.rstrip("\n") + end), encoding="utf-8")
    words = src / "pyimgsize" / "render" / "check_words.py"
    text = words.read_text(encoding="utf-8")
    start = "LABELS: Final[dict[str, Label]] = {\n"
    assert text.count(start) == 1
    words.write_text(text.replace(start, start + NEW_LABEL), encoding="utf-8")
    return src


def _run(src: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [sys.executable, "-m", "pyimgsize", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_new_row_is_a_rule_of_the_file_the_flags_and_every_format(
    with_new_rule: Path, tmp_path: Path
) -> None:
    report = tmp_path / "app.json"
    report.write_text(sample_report().model_dump_json(), encoding="utf-8")
    src = with_new_rule

    flag = _run(src, tmp_path, "check", str(report), "--max-source", "10MB", "-f", "json")
    assert (flag.returncode, flag.stderr) == (1, "")
    rule = json.loads(flag.stdout)["rules"][0]
    assert {k: rule[k] for k in ("rule", "status", "actual", "limit", "unit")} == {
        "rule": "max_source",
        "status": "fail",
        "actual": 47_000_000,
        "limit": 10_000_000,
        "unit": "bytes",
    }
    assert rule["message"] == (
        "source 47.0 MB > 10.0 MB: pandas 40.0 MB, numpy 6.0 MB, requests 1.0 MB"
    )

    (tmp_path / "pyimgsize.toml").write_text('[budget]\nmax_source = "50MB"\n')
    file = _run(src, tmp_path, "check", str(report))
    assert file.returncode == 0, file.stderr
    assert any(line.split()[:2] == ["max_source", "PASS"] for line in file.stdout.splitlines())

    (tmp_path / "pyimgsize.toml").write_text('[budget]\nmax_sourse = "50MB"\n')
    typo = _run(src, tmp_path, "check", str(report))
    assert typo.returncode == 2
    assert "max_sourse: unknown key (did you mean max_source?)" in typo.stderr
