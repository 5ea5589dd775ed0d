"""The README's quick-start commands stay true: the first runs verbatim, the second names real
Makefile targets (running the suite from inside the suite would recurse)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S)]


def test_quick_start_has_install_and_test_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) >= 2
    assert commands[1] == "make install test"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^install:", makefile, flags=re.M)
    assert re.search(r"^test:", makefile, flags=re.M)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_quick_start_installs_and_inspects_the_demo(tmp_path: Path) -> None:
    command = quick_start_commands()[0]
    assert "pyimgsize inspect" in command
    # a copy of the working tree, as a fresh clone would have it
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    repo = tmp_path / "repo"
    for raw in files:
        if not raw:
            continue
        rel = raw.decode()
        src = ROOT / rel
        if not src.is_file() or rel.startswith(("bench/out/", "e2e/wheels/")):
            continue
        dst = repo / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
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
