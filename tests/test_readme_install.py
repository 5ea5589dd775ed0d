"""The README's install commands and CI recipes, run as a new user would: each install in a
fresh virtual environment (no system site-packages, so nothing installed on this machine
helps), the CI steps against real images in the engine.

The installs that run the README verbatim (from a checkout, GitLab's job) start from nothing;
the others use a venv that sees this machine's packages (`--system-site-packages`) but installs
pyimgsize itself into the venv, and the test checks that the venv's copy is the one that runs.
`PIP_NO_COMPILE` only spares the machine compiling every dependency's bytecode.

Only what cannot run here is replaced: the README's placeholder git URL by a `git+file://` URL
of a local clone, `/opt/pyimgsize` by a temporary directory, the CI images `app:pr`/`app:base`
by unique test tags (the engine is shared), and the steps that build the user's own Dockerfile
are left out. Dependencies come from the package index through pip's usual cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import register_test_image, unique_tag
from fixtures import File, Image, Layer, dist, write_docker_archive
from tests.readme import code_blocks, copy_checkout, readme_section

SITE = "usr/local/lib/python3.11/site-packages"
README_GIT_URL = "git+https://GIT-HOST/OWNER/pyimgsize.git"
VERSION_LINE = "pyimgsize 0.1.0"


def fresh_env(home: Path | None = None, venv: Path | None = None) -> dict[str, str]:
    """The environment of a new shell: no PYTHONPATH, pip's cache where it usually is (a new
    HOME would otherwise start it cold), optionally a venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_COMPILE"] = "1"
    if home is not None:
        env["HOME"] = str(home)
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
        env["VIRTUAL_ENV"] = str(venv)
    return env


def make_venv(path: Path) -> Path:
    """A new venv that sees the machine's installed dependencies (not a fresh one), made without
    running ensurepip (tens of seconds on a busy machine): its `pip` is the machine's pip module
    run by the venv's interpreter, so it installs into the venv."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(path)],
        check=True,
    )
    shim = path / "bin" / "pip"
    shim.write_text(
        f"#!{path / 'bin' / 'python'}\n"
        "import sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n"
    )
    shim.chmod(0o755)
    return path


def assert_runs_from(venv: Path, env: dict[str, str]) -> None:
    """`pyimgsize` on PATH, and the package it imports, are the ones installed into `venv`."""
    done = bash(
        "command -v pyimgsize; python -c 'import pyimgsize; print(pyimgsize.__file__)'", venv, env
    )
    command, module = done.stdout.split()
    assert command == str(venv / "bin" / "pyimgsize")
    assert module.startswith(str(venv / "lib"))


def bash(
    script: str, cwd: Path, env: dict[str, str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check:
        assert done.returncode == 0, (
            f"{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("checkout") / "pyimgsize")


@pytest.fixture(scope="module")
def wheel(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's wheel commands, verbatim, in the checkout with a fresh venv on PATH."""
    (build, install) = code_blocks(readme_section("Install"), "sh")[1].splitlines()
    assert build.startswith("pip wheel ")
    venv = make_venv(tmp_path_factory.mktemp("wheel") / "venv")
    env = fresh_env(venv=venv)
    bash(f"{build}\n{install}\npyimgsize --version", checkout, env)
    assert_runs_from(venv, env)
    (built,) = (checkout / "dist").glob("pyimgsize-*.whl")
    assert install.split()[-1] == f"dist/{built.name}"  # the README names the file pip builds
    return built


def test_install_from_a_checkout(checkout: Path, tmp_path: Path) -> None:
    block = code_blocks(readme_section("Install"), "sh")[0]
    home = tmp_path / "home"
    home.mkdir()
    done = bash(block, checkout, fresh_env(home=home))
    assert done.stdout.strip().splitlines()[-1] == VERSION_LINE
    venv = home / ".local" / "share" / "pyimgsize"
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()


def test_install_from_a_wheel(wheel: Path) -> None:
    assert wheel.name == "pyimgsize-0.1.0-py3-none-any.whl"


def test_install_from_the_git_url(checkout: Path, tmp_path: Path) -> None:
    (command,) = code_blocks(readme_section("Install"), "sh")[2].splitlines()
    assert README_GIT_URL in command
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--no-hardlinks", str(_git_repo(checkout, tmp_path)), str(clone)],
        check=True,
    )
    venv = make_venv(tmp_path / "venv")
    command = command.replace(README_GIT_URL, f"git+file://localhost{clone}")
    env = fresh_env(venv=venv)
    done = bash(f"{command}\npyimgsize --version", tmp_path, env)
    assert done.stdout.strip().splitlines()[-1] == VERSION_LINE
    assert_runs_from(venv, env)


def _git_repo(checkout: Path, tmp_path: Path) -> Path:
    """The checkout as a git repository with the tag the README pins."""
    repo = tmp_path / "origin"
    subprocess.run(["cp", "-a", str(checkout), str(repo)], check=True)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], check=True)
    subprocess.run([*git, "tag", "v0.1.0"], check=True)
    return repo


# --- the CI recipes ---------------------------------------------------------------------------


def _app_image(tag: str, *, cache: bool) -> Image:
    files = list(dist(SITE, "six", "1.16.0", {"six.py": 30_000}))
    if cache:  # what `pip install` without --no-cache-dir leaves: the README budget forbids it
        files.append(File("root/.cache/pip/http-v2/a/b/c/0123456789abcdef", 12_000))
    # a 1 MB base: the cache is growth within the README's max_growth_percent = 5
    return Image(tag, [Layer([File("bin/sh", 1_000_000)], created_by="base"), Layer(files, "pip")])


@pytest.fixture(scope="module")
def ci_images(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The CI recipe's images in the engine under unique tags: `app:pr` (with a pip cache left
    behind, so the README's budget fails) and `app:base`."""
    tags = {}
    where = tmp_path_factory.mktemp("ci-images")
    for name, cache in (("pr", True), ("base", False)):
        tag = register_test_image(unique_tag(f"readme-ci-{name}"))
        archive = where / f"{name}.tar"
        write_docker_archive(archive, _app_image(tag, cache=cache))
        engine.images.load(archive.read_bytes())
        tags[f"app:{name}"] = tag
    tags["app:mr"] = tags["app:pr"]
    return tags


def _with_images(script: str, tags: dict[str, str]) -> str:
    for name, tag in tags.items():
        script = script.replace(f"docker:{name} ", f"docker:{tag} ")
    return script


def _ci_workdir(tmp_path: Path) -> Path:
    """The user's repository: the README's `pyimgsize.toml` committed at its root."""
    work = tmp_path / "app"
    work.mkdir()
    budgets = code_blocks(readme_section("Use in CI"), "toml")
    (work / "pyimgsize.toml").write_text(budgets[0] + "\n")
    return work


def test_github_actions_recipe(ci_images: dict[str, str], wheel: Path, tmp_path: Path) -> None:
    workflow = yaml.safe_load(code_blocks(readme_section("Use in CI"), "yaml")[0])
    job = workflow["jobs"]["image-size"]
    assert "git+" in job["env"]["PYIMGSIZE"]
    work = _ci_workdir(tmp_path)
    summary = tmp_path / "step-summary.md"
    venv = make_venv(tmp_path / "runner-python")  # what actions/setup-python provides
    env = {**fresh_env(venv=venv), "PYIMGSIZE": str(wheel), "GITHUB_STEP_SUMMARY": str(summary)}
    ran: dict[str, subprocess.CompletedProcess[str]] = {}
    for step in job["steps"]:
        if "run" not in step or step.get("name", "").startswith("Build"):
            continue  # actions, and the build of the user's own Dockerfile
        ran[step.get("name", step["run"])] = bash(
            _with_images(step["run"], ci_images), work, env, check=False
        )
    assert list(ran) == ["Install pyimgsize", "Measure", "Size budget", "Pictures (HTML reports)"]
    for name in ("Install pyimgsize", "Measure", "Pictures (HTML reports)"):
        assert ran[name].returncode == 0, ran[name].stderr
    for page in ("image-size.html", "image-size-diff.html"):
        assert (work / page).read_text().startswith("<!DOCTYPE html>")
    assert_runs_from(venv, env)
    gate = ran["Size budget"]
    assert gate.returncode == 1, gate.stderr  # the pip cache in app:pr fails max_cache = 0
    assert "::error" in gate.stdout
    assert "max_cache" in gate.stdout
    text = summary.read_text()
    assert "max_cache" in text
    assert "FAIL" in text.upper()


def test_gitlab_recipe(ci_images: dict[str, str], checkout: Path, tmp_path: Path) -> None:
    pipeline = yaml.safe_load(code_blocks(readme_section("Use in CI"), "yaml")[1])
    job = pipeline["image-size"]
    assert README_GIT_URL in job["variables"]["PYIMGSIZE"]
    clone = _git_repo(checkout, tmp_path)
    opt = tmp_path / "opt"
    lines = [
        line.replace("/opt/pyimgsize", str(opt / "pyimgsize"))
        for line in [*job["before_script"], *job["script"]]
        if not line.startswith(("apk ", "docker build", "git "))
    ]
    work = _ci_workdir(tmp_path)
    env = {
        **fresh_env(),
        "PYIMGSIZE": job["variables"]["PYIMGSIZE"].replace(
            README_GIT_URL, f"git+file://localhost{clone}"
        ),
    }
    env.pop("PYIMGSIZE_NOTE_TOKEN", None)
    done = bash(_with_images("\n".join(lines), ci_images), work, env, check=False)
    assert done.returncode == 1, done.stderr  # the gate's verdict is the job's
    assert (opt / "pyimgsize" / "bin" / "pyimgsize").is_file()
    cfg = (opt / "pyimgsize" / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg
    junit = ET.parse(work / "budget.xml").getroot()
    failed = [
        case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None
    ]
    assert failed == ["max_cache"]
    assert "max_cache" in (work / "budget.md").read_text()
    for saved in ("mr.json", "base.json"):
        assert (work / saved).is_file()
