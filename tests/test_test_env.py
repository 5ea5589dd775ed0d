"""scripts/test-env.sh, the wrapper of `make test`: which engine the tests get, and what happens
when none can be had (real subprocesses throughout: a real unprivileged user, a real dockerd)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import not_run_here, rerun_command

ROOT = Path(__file__).resolve().parent.parent
TEST_ENV = ROOT / "scripts" / "test-env.sh"
# Prints what the wrapped command sees, then exits with a status the wrapper must pass on.
SHOW_ENV = [
    "sh",
    "-c",
    'printf "%s\\n" "DOCKER_HOST=$DOCKER_HOST" '
    '"UNAVAILABLE=$PYIMGSIZE_ENGINE_UNAVAILABLE" "HINT=$PYIMGSIZE_ENGINE_HINT"; exit 7',
]
ENGINE_VARS = (
    "PYIMGSIZE_ENGINE_UNAVAILABLE",
    "PYIMGSIZE_ENGINE_HINT",
    "PYIMGSIZE_RERUN",
    "DOCKER_CONTEXT",
)


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


def _shown(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A short world-readable temp dir (tmp_path is root-only, and socket paths must be short)."""
    path = Path(tempfile.mkdtemp(prefix="pyimgsize-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _docker_sdk_copy(dest: Path) -> None:
    """Copy the docker SDK and the packages it imports (for a user who cannot read this venv)."""
    listing = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys\n"
            "import docker\n"
            "try:\n"
            "    docker.DockerClient(base_url='unix:///nonexistent.sock', timeout=1).ping()\n"
            "except Exception:\n"
            "    pass\n"
            "names = {m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)\n"
            "spec = {n: getattr(sys.modules.get(n), '__spec__', None) for n in names}\n"
            "print(json.dumps({n: s.origin for n, s in spec.items() if s and s.has_location}))\n",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    dest.mkdir()
    for name, origin in json.loads(listing).items():
        source = Path(origin)
        if source.name == "__init__.py":
            shutil.copytree(source.parent, dest / name)
        else:
            shutil.copy2(source, dest / source.name)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all"]


def _unprivileged(shared_tmp: Path) -> tuple[list[str], str, dict[str, str]]:
    """(argv prefix, python, extra env) to run as a user without root: nobody when we are root.

    nobody may not reach this interpreter's files (a venv under /root): then Debian's python3 of
    the same version runs it, with a world-readable copy of the docker SDK on PYTHONPATH.
    """
    if os.geteuid() != 0:
        return [], sys.executable, {}
    same_version = f"import sys; sys.exit(sys.version_info[:2] != {sys.version_info[:2]})"
    for python in (sys.executable, "/usr/bin/python3"):
        probe = _run([*NOBODY, python, "-c", same_version], dict(os.environ))
        if probe.returncode == 0:
            break
    else:
        pytest.fail(
            f"nobody can run neither {sys.executable} nor a /usr/bin/python3 of the same version"
        )
    sdk = shared_tmp / "sdk"
    _docker_sdk_copy(sdk)
    return NOBODY, python, {"PYTHONPATH": str(sdk), "HOME": "/nonexistent"}


def test_not_root_runs_the_command_without_engine_and_names_the_rerun(shared_tmp: Path) -> None:
    """No engine answers and no root: COMMAND still runs, told why and what would run it."""
    prefix, python, extra = _unprivileged(shared_tmp)
    engine_dir = shared_tmp / "engine"
    missing = f"unix://{shared_tmp}/no-engine.sock"
    env = {k: v for k, v in os.environ.items() if k not in ENGINE_VARS}
    env |= extra | {
        "PYTHON": python,
        "DOCKER_HOST": missing,
        "PYIMGSIZE_ENGINE_DIR": str(engine_dir),
    }
    proc = _run([*prefix, "bash", str(TEST_ENV), "--rerun", "make test", "--", *SHOW_ENV], env)
    assert proc.returncode == 7, proc.stdout + proc.stderr
    assert _shown(proc.stdout) == {
        "DOCKER_HOST": missing,
        "UNAVAILABLE": f"no Docker engine answers at DOCKER_HOST={missing} "
        "and starting a private one needs root",
        "HINT": f"sudo make test PYTHON={python}",
    }
    assert "the tests that need it will not run" in proc.stderr
    assert not engine_dir.exists()


def test_root_without_dockerd_or_apt_runs_the_command_without_engine(shared_tmp: Path) -> None:
    """Root, but neither dockerd nor apt-get on PATH: the same fallback, with its own reason."""
    if os.geteuid() != 0:
        not_run_here("root", "they test what the wrapper does as root", rerun_command())
    bin_dir = shared_tmp / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sh", "dirname", "id", "printf"):
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    missing = f"unix://{shared_tmp}/no-engine.sock"
    env = {k: v for k, v in os.environ.items() if k not in ENGINE_VARS}
    env |= {"PATH": str(bin_dir), "PYTHON": sys.executable, "DOCKER_HOST": missing}
    proc = _run(
        [str(bin_dir / "bash"), str(TEST_ENV), "--rerun", "make test", "--", *SHOW_ENV], env
    )
    assert proc.returncode == 7, proc.stdout + proc.stderr
    shown = _shown(proc.stdout)
    assert shown["UNAVAILABLE"] == (
        f"no Docker engine answers at DOCKER_HOST={missing}, "
        "dockerd is not installed and there is no apt-get to install it"
    )
    assert shown["HINT"] == f"install Debian's docker.io, then: make test PYTHON={sys.executable}"


@pytest.mark.engine
def test_an_engine_that_answers_is_used_as_it_is() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENGINE_VARS}
    proc = _run(["bash", str(TEST_ENV), "--", *SHOW_ENV], env | {"PYTHON": sys.executable})
    assert proc.returncode == 7, proc.stdout + proc.stderr
    assert _shown(proc.stdout) == {
        "DOCKER_HOST": os.environ.get("DOCKER_HOST", ""),
        "UNAVAILABLE": "",
        "HINT": "",
    }
    assert "test-env: using the Docker engine at" in proc.stderr


def _bridges() -> set[str]:
    out = subprocess.run(
        ["ip", "-o", "link", "show", "type", "bridge"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line.split(":")[1].strip() for line in out.splitlines()}


def _processes_naming(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


def _private_engine_env(shared_tmp: Path) -> tuple[dict[str, str], Path, str]:
    """(env, engine dir, bridge) for a private engine of one test: no other engine answers."""
    if os.geteuid() != 0:
        not_run_here("root", "they test what the wrapper does as root", rerun_command())
    if shutil.which("dockerd") is None or shutil.which("ip") is None:
        not_run_here("dockerd and ip", "they are missing", rerun_command())
    engine_dir = shared_tmp / "engine"
    bridge = f"pyimgsize{secrets.token_hex(2)}"
    env = {k: v for k, v in os.environ.items() if k not in ENGINE_VARS}
    env |= {
        "PYTHON": sys.executable,
        "DOCKER_HOST": f"unix://{shared_tmp}/no-engine.sock",
        "PYIMGSIZE_ENGINE_DIR": str(engine_dir),
        "PYIMGSIZE_ENGINE_BRIDGE": bridge,
        "PYIMGSIZE_ENGINE_CIDR": f"172.31.{100 + secrets.randbelow(150)}.1/24",
    }
    return env, engine_dir, bridge


def _assert_gone(engine_dir: Path, bridge: str, bridges_before: set[str]) -> None:
    """No dockerd, containerd or shim of the private engine; its bridge gone, others kept.

    Only bridges of engines other than test engines count as "others": on a shared machine a
    concurrent run's private engine may come or go meanwhile."""
    assert _processes_naming(f"{engine_dir}/") == []
    after = _bridges()
    assert bridge not in after
    lasting = {b for b in bridges_before if not b.startswith("pyimgsize")}
    assert lasting <= after
    assert not (engine_dir / "docker.sock").exists()


def test_root_starts_a_private_engine_for_the_run_and_stops_it(shared_tmp: Path) -> None:
    """The path of a fresh machine: a new, empty engine of its own, gone again afterwards."""
    env, engine_dir, bridge = _private_engine_env(shared_tmp)
    bridges_before = _bridges()
    probe = (
        "import docker, os, subprocess\n"
        "client = docker.from_env()\n"
        "info = client.info()\n"
        "print('ROOT=' + info['DockerRootDir'])\n"
        "print('IMAGES=' + str(len(client.images.list(all=True))))\n"
        f"print('BRIDGE=' + str(subprocess.run(['ip', 'link', 'show', '{bridge}']).returncode))\n"
        "print('DOCKER_HOST=' + os.environ['DOCKER_HOST'])\n"
        "raise SystemExit(5)\n"
    )
    proc = _run(["bash", str(TEST_ENV), "--", sys.executable, "-c", probe], env)
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert _shown(proc.stdout) == {
        "ROOT": str(engine_dir / "data"),
        "IMAGES": "0",
        "BRIDGE": "0",
        "DOCKER_HOST": f"unix://{engine_dir}/docker.sock",
    }
    assert "stop-dockerd: stopped the private engine" in proc.stderr
    # Every bridge that was there before (docker0 of a shared engine) is still there.
    _assert_gone(engine_dir, bridge, bridges_before)


def test_ctrl_c_stops_the_private_engine_too(shared_tmp: Path) -> None:
    """A Ctrl-C reaches the terminal's foreground group: the tests stop, then the engine."""
    env, engine_dir, bridge = _private_engine_env(shared_tmp)
    bridges_before = _bridges()
    ready = shared_tmp / "ready"
    # As in a terminal: SIGINT handled by default even where this suite runs with it ignored.
    command = ["sh", "-c", f'touch "{ready}"; exec sleep 300']
    with subprocess.Popen(
        ["env", "--default-signal=INT", "bash", str(TEST_ENV), "--", *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            for _ in range(600):
                if ready.exists() or proc.poll() is not None:
                    break
                time.sleep(0.1)
            assert ready.exists(), "the command never started"
            os.killpg(proc.pid, signal.SIGINT)
            output, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, output
    assert "stop-dockerd: stopped the private engine" in output
    _assert_gone(engine_dir, bridge, bridges_before)


def test_install_packages_names_what_is_missing_and_needs_root() -> None:
    """Without root nothing is installed: the missing packages are named, exit 1."""
    prefix = NOBODY if os.geteuid() == 0 else []
    script = str(ROOT / "scripts" / "install-packages.sh")
    proc = _run([*prefix, "bash", script, "pyimgsize-no-such-pkg"], dict(os.environ))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    missing = proc.stderr.removeprefix("error: missing Debian packages ").split(":", 1)[0].split()
    assert missing[-1] == "pyimgsize-no-such-pkg"
    assert proc.stderr.endswith(": installing them needs root and apt-get\n")
