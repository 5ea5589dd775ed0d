"""`install-plugin` writes a launcher naming the interpreter it needs: when that interpreter (a
removed virtual environment) or pyimgsize in it is gone, `docker pyimgsize` says so instead of
vanishing; `install-plugin --check` reports each state. Real venvs, the real docker CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import docker_cli
from pyimgsize.cli.app import main
from pyimgsize.cli.install import install_plugin, plugin_state
from pyimgsize.plugin_state import PluginState, PluginStatus
from pyimgsize.render.plugin import BROKEN_DESCRIPTION


def make_venv(where: Path) -> Path:
    """A fresh venv without pyimgsize (and without pip: fast); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    return where / "bin" / "python"


def install_for(python: Path, plugins: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The launcher `pyimgsize install-plugin` writes when run by `python`."""
    with monkeypatch.context() as patch:
        patch.setattr(sys, "executable", str(python))
        return install_plugin(plugins)


def check(capsys: pytest.CaptureFixture[str], plugins: Path) -> tuple[int, str]:
    code = main(["install-plugin", "--check", "--dir", str(plugins)])
    out, err = capsys.readouterr()
    assert err == ""
    return code, out


def docker(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    return subprocess.run(
        [docker_cli(), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_when_not_installed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(capsys, tmp_path / "plugins")
    assert code == 1
    assert out == (
        f"docker pyimgsize: {tmp_path / 'plugins' / 'docker-pyimgsize'}\n"
        "  not installed: run `pyimgsize install-plugin`\n"
    )


def test_check_when_installed_here(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install-plugin", "--dir", str(tmp_path)]) == 0
    capsys.readouterr()
    code, out = check(capsys, tmp_path)
    assert code == 0
    python = Path(sys.executable).absolute()
    assert (
        out.splitlines()[1] == f"  ok: runs pyimgsize with {python} (this pyimgsize's interpreter)"
    )


def test_a_removed_venv_is_a_clear_error_through_docker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "docker-config"
    plugins = config / "cli-plugins"
    venv = tmp_path / "venv"
    python = make_venv(venv)
    launcher = install_for(python, plugins, monkeypatch)

    # the interpreter exists, pyimgsize is not installed in it
    state = plugin_state(plugins)
    assert (state.status, state.python, state.current) == (
        PluginStatus.PYIMGSIZE_GONE,
        python,
        False,
    )
    code, out = check(capsys, plugins)
    assert code == 1
    assert f"BROKEN: pyimgsize is no longer installed for {python}" in out
    done = docker(config, "pyimgsize", "inspect", "x")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"error: docker pyimgsize: pyimgsize is no longer installed for {python}; "
        "reinstall pyimgsize and run `pyimgsize install-plugin` again\n"
    )

    # the venv is removed: docker still lists the plugin, marked broken, and running it says why
    shutil.rmtree(venv)
    assert plugin_state(plugins).status is PluginStatus.PYTHON_GONE
    code, out = check(capsys, plugins)
    assert code == 1
    assert f"BROKEN: its Python interpreter {python} is gone" in out
    listed = docker(config, "--help")
    assert listed.returncode == 0, listed.stderr
    assert any(
        "pyimgsize" in line and BROKEN_DESCRIPTION in line for line in listed.stdout.splitlines()
    ), listed.stdout
    done = docker(config, "pyimgsize", "inspect", "x")
    assert done.returncode == 2
    assert done.stderr == (
        f"error: docker pyimgsize: the Python interpreter it was installed with, {python}, is "
        "gone (a removed virtual environment?); reinstall pyimgsize and run "
        "`pyimgsize install-plugin` again\n"
    )

    # installing again points the launcher at this interpreter, and docker runs pyimgsize
    assert install_plugin(plugins) == launcher
    assert plugin_state(plugins).status is PluginStatus.OK
    done = docker(config, "pyimgsize", "--version")
    assert (done.returncode, done.stdout) == (0, "pyimgsize 0.1.0\n"), done.stderr


def test_check_reports_old_style_links_and_foreign_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "docker-pyimgsize"
    link.symlink_to(tmp_path / "gone" / "docker-pyimgsize")
    code, out = check(capsys, tmp_path)
    assert code == 1
    assert "BROKEN: a link to" in out
    link.unlink()
    link.write_text("#!/bin/sh\necho hello\n")
    code, out = check(capsys, tmp_path)
    assert code == 1
    assert "not pyimgsize's" in out
    assert plugin_state(tmp_path).status is PluginStatus.FOREIGN


def test_every_status_has_words(tmp_path: Path) -> None:
    from pyimgsize.render.plugin import render_plugin_state

    texts = {
        render_plugin_state(PluginState(tmp_path, status, tmp_path / "python"))
        for status in PluginStatus
    }
    assert len(texts) == len(PluginStatus)


def test_metadata_is_json_even_when_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    python = tmp_path / "nowhere" / "python"
    launcher = install_for(python, tmp_path, monkeypatch)
    done = subprocess.run(
        [str(launcher), "docker-cli-plugin-metadata"], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout)["ShortDescription"] == BROKEN_DESCRIPTION
