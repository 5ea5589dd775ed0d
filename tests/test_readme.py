"""The README's quick-start commands stay true: the quick start runs verbatim, and the test
command names real Makefile targets (running the suite from inside the suite would recurse)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.readme import ROOT, code_blocks, copy_checkout, readme_section


def test_development_names_the_test_command() -> None:
    assert code_blocks(readme_section("Development"), "sh") == ["make install test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^install:", makefile, flags=re.M)
    assert re.search(r"^test:", makefile, flags=re.M)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
    assert (ROOT / "CONTRIBUTING.md").is_file()


def test_quick_start_installs_and_inspects_the_demo(tmp_path: Path) -> None:
    command = code_blocks(readme_section("Quick start"), "sh")[0]
    assert "pyimgsize inspect" in command
    repo = copy_checkout(tmp_path / "repo")
    venv = tmp_path / "venv"
    # system site-packages: the dependencies are already installed; only pip's isolated build
    # environment is fetched (setuptools), as a fresh clone's install would do
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        ["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "numpy" in done.stdout
    assert "Distributions" in done.stdout
    assert (repo / "demo" / "demo.tar").is_file()
    # the pyimgsize that ran is the one the quick start installed, not the developer's checkout
    which = subprocess.run(
        ["bash", "-c", "command -v pyimgsize"], env=env, capture_output=True, text=True, check=True
    )
    assert which.stdout.strip() == str(venv / "bin" / "pyimgsize")
