"""Tables fit the terminal on the real Dockerfile.test images: at COLUMNS=80 and 100 no line of
`inspect` and `advise` (through the CLI, from the engine), `diff` or `check` (through the CLI,
on saved reports of the same images, as CI runs them) is wider than the terminal; every
variant's report and advice render within both widths; the Debian-packaged distributions show
`dpkg` as their installer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyimgsize.render import OutputFormat, render_inspect
from pyimgsize.render.advice import render_advice
from pyimgsize.report import AdviseReport, InspectReport
from tests.e2e.harness import E2E, e2e_build

pytestmark = [pytest.mark.e2e, pytest.mark.engine]

WIDTHS = (80, 100)


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def cli(columns: int, *args: str) -> str:
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run(
        [sys.executable, "-m", "pyimgsize", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


@pytest.mark.parametrize("variant", e2e_build.VARIANTS)
def test_every_variant_renders_within_the_width(e2e: E2E, variant: str) -> None:
    report = InspectReport.model_validate(e2e.report(variant, "docker"))
    full = render_inspect(report, OutputFormat.TABLE)
    for width in WIDTHS:
        text = render_inspect(report, OutputFormat.TABLE, width=width)
        assert widest(text) <= width, f"{variant} at {width}:\n{text}"
        for name in (p.name for p in report.packages[:5]):
            assert name[:8] in text
    assert widest(full) > 100  # the real images do need fitting


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("variant", ["pip-system", "uv-cache-deleted"])
def test_inspect_cli_fits(e2e: E2E, variant: str, columns: int) -> None:
    out = cli(columns, "inspect", f"docker:{e2e.tags[variant]}")
    assert "Distributions" in out
    assert widest(out) <= columns


@pytest.mark.parametrize("variant", e2e_build.VARIANTS)
def test_every_variants_advice_renders_within_the_width(e2e: E2E, variant: str) -> None:
    advice = AdviseReport.from_inspect(InspectReport.model_validate(e2e.report(variant, "docker")))
    for width in WIDTHS:
        text = render_advice(advice, OutputFormat.TABLE, width=width)
        assert widest(text) <= width, f"{variant} at {width}:\n{text}"
        for s in advice.suggestions:
            assert s.id[:8] in text


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("variant", ["chown-later", "pip-wheelhouse"])
def test_advise_cli_fits(e2e: E2E, variant: str, columns: int) -> None:
    out = cli(columns, "advise", f"docker:{e2e.tags[variant]}")
    assert "fix: " in out
    assert widest(out) <= columns


def test_debian_packages_read_dpkg(e2e: E2E) -> None:
    out = cli(100, "inspect", f"docker:{e2e.tags['pip']}", "--top", "100")
    rows = [line.split() for line in out.split("Distributions", 1)[1].split("\n\n")[0].splitlines()]
    installers = {row[0]: row[2] for row in rows[2:] if len(row) > 2}
    assert installers["setuptools"] == "dpkg"
    assert installers["wheel"] == "dpkg"


PAIRS = [("uv", "uv-bytecode"), ("pip-nocompile", "pip"), ("uv-cache", "uv-cache-deleted")]
PAIRS += [("pip", "pip-system"), ("pip", "venv-copied"), ("pip-wheelhouse", "pip")]


@pytest.fixture(scope="module")
def saved(e2e: E2E, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every variant's `inspect --format json` report, saved as a CI job saves it."""
    where = tmp_path_factory.mktemp("reports")
    out = {}
    for variant in e2e_build.VARIANTS:
        path = where / f"{variant}.json"
        path.write_text(json.dumps(e2e.report(variant, "docker")))
        out[variant] = str(path)
    return out


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize(("a", "b"), PAIRS, ids="-vs-".join)
def test_diff_and_check_cli_fit(saved: dict[str, str], a: str, b: str, columns: int) -> None:
    diff = cli(columns, "diff", saved[a], saved[b], "--all")
    assert "Distributions" in diff
    assert widest(diff) <= columns
    gate = cli(
        columns,
        "check",
        saved[b],
        "--baseline",
        saved[a],
        *("--max-image", "10MB", "--max-bytecode", "1MB", "--max-cache", "0"),
        *("--max-dead", "0", "--max-growth", "0", "--max-package", "numpy=1MB"),
    )
    assert "FAIL" in gate
    assert "  fix: " in gate
    assert widest(gate) <= columns


def test_full_width_in_a_pipe(saved: dict[str, str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run(
        [sys.executable, "-m", "pyimgsize", "diff", saved["uv"], saved["uv-bytecode"]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert widest(done.stdout) > 100
