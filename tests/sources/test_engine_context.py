"""The engine source follows DOCKER_HOST, and the current docker context when it is unset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

# The engine the tests run against: DOCKER_HOST when scripts/test-env.sh started a private one.
ENGINE = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _context_config(tmp_path: Path, name: str, host: str) -> Path:
    """A DOCKER_CONFIG directory whose current context `name` points at `host`, made by the
    docker CLI itself (so the on-disk format is the CLI's)."""
    config = tmp_path / f"config-{name}"
    config.mkdir()
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    env.pop("DOCKER_HOST", None)
    env.pop("DOCKER_CONTEXT", None)
    subprocess.run(
        ["docker", "context", "create", name, "--docker", f"host={host}"],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(["docker", "context", "use", name], env=env, check=True, capture_output=True)
    assert json.loads((config / "config.json").read_text())["currentContext"] == name
    return config


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyimgsize", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _env(config: Path) -> dict[str, str]:
    env = {**os.environ, "DOCKER_CONFIG": str(config)}
    env.pop("DOCKER_HOST", None)
    env.pop("DOCKER_CONTEXT", None)
    return env


def test_current_context_is_used_when_docker_host_is_unset(
    tmp_path: Path, busybox_base: str
) -> None:
    good = _context_config(tmp_path, "pyimgsize-local", ENGINE)
    done = _run(["inspect", f"docker:{busybox_base}", "--format", "json"], _env(good))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["image"]["source"] == "docker"
    assert report["python_found"] is False


def test_a_context_pointing_nowhere_is_an_unreachable_engine(
    tmp_path: Path, busybox_base: str
) -> None:
    bad = _context_config(tmp_path, "pyimgsize-nowhere", "unix:///nonexistent/docker.sock")
    done = _run(["inspect", f"docker:{busybox_base}"], _env(bad))
    assert done.returncode == 3
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: cannot reach the Docker engine")
    assert "docker save" in lines[0]
    # DOCKER_HOST beats the context, as with the docker CLI
    env = {**_env(bad), "DOCKER_HOST": ENGINE}
    assert _run(["inspect", f"docker:{busybox_base}", "--format", "json"], env).returncode == 0
