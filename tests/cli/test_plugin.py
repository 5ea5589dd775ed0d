"""The Docker CLI plugin: metadata, docker argv parsing, environment, install, the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest

import pyimgsize
from conftest import docker_cli
from pyimgsize.cli import install, plugin
from pyimgsize.cli.install import install_plugin
from pyimgsize.cli.plugin import (
    DockerGlobals,
    apply_docker_globals,
    parse_docker_argv,
    pyimgsize_argv,
)
from pyimgsize.errors import ExitCode, UsageError

EXE = "/home/u/.docker/cli-plugins/docker-pyimgsize"
HEAVY_MODULES = ("docker", "typer", "pydantic", "click", "rich", "requests")


def _script() -> Path:
    return install.find_plugin_executable()


# --- metadata --------------------------------------------------------------------------------


def test_metadata_from_console_script() -> None:
    proc = subprocess.run(
        [str(_script()), "docker-cli-plugin-metadata"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    metadata = json.loads(proc.stdout)
    assert metadata["SchemaVersion"] == "0.1.0"
    assert metadata["Vendor"] == "pyimgsize"
    assert metadata["Version"] == pyimgsize.__version__
    assert metadata["ShortDescription"]
    assert set(metadata) <= {"SchemaVersion", "Vendor", "Version", "ShortDescription", "URL"}
    assert proc.stderr == ""


def test_metadata_path_imports_nothing_heavy() -> None:
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run(
        [str(_script()), "docker-cli-plugin-metadata"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "pyimgsize" in imported  # the trace did cover the plugin's own imports
    assert imported.isdisjoint(HEAVY_MODULES), sorted(imported & set(HEAVY_MODULES))


def test_metadata_only_for_exact_argv1() -> None:
    # Anywhere else, "docker-cli-plugin-metadata" is just an argument.
    with pytest.raises(UsageError):
        parse_docker_argv([EXE, "--debug", "docker-cli-plugin-metadata"])


# --- docker argv -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected", "rest"),
    [
        ([EXE, "pyimgsize", "inspect", "img"], DockerGlobals(), ["inspect", "img"]),
        ([EXE, "pyimgsize"], DockerGlobals(), []),
        ([EXE, "--config", "/c", "pyimgsize"], DockerGlobals(config="/c"), []),
        ([EXE, "--config=/c", "pyimgsize"], DockerGlobals(config="/c"), []),
        ([EXE, "--context", "x", "pyimgsize"], DockerGlobals(context="x"), []),
        ([EXE, "--context=x", "pyimgsize"], DockerGlobals(context="x"), []),
        ([EXE, "-c", "x", "pyimgsize"], DockerGlobals(context="x"), []),
        ([EXE, "-cx", "pyimgsize"], DockerGlobals(context="x"), []),
        ([EXE, "-c=x", "pyimgsize"], DockerGlobals(context="x"), []),
        ([EXE, "--host", "tcp://h:2376", "pyimgsize"], DockerGlobals(host="tcp://h:2376"), []),
        ([EXE, "--host=tcp://h:2376", "pyimgsize"], DockerGlobals(host="tcp://h:2376"), []),
        ([EXE, "-H", "unix:///s.sock", "pyimgsize"], DockerGlobals(host="unix:///s.sock"), []),
        ([EXE, "-H=unix:///s.sock", "pyimgsize"], DockerGlobals(host="unix:///s.sock"), []),
        ([EXE, "-Hunix:///s.sock", "pyimgsize"], DockerGlobals(host="unix:///s.sock"), []),
        ([EXE, "--log-level", "debug", "pyimgsize"], DockerGlobals(log_level="debug"), []),
        ([EXE, "--log-level=warn", "pyimgsize"], DockerGlobals(log_level="warn"), []),
        ([EXE, "-l", "error", "pyimgsize"], DockerGlobals(log_level="error"), []),
        ([EXE, "-lfatal", "pyimgsize"], DockerGlobals(log_level="fatal"), []),
        ([EXE, "--tlscacert", "/t/a", "pyimgsize"], DockerGlobals(tlscacert="/t/a"), []),
        ([EXE, "--tlscacert=/t/a", "pyimgsize"], DockerGlobals(tlscacert="/t/a"), []),
        ([EXE, "--tlscert", "/t/c", "pyimgsize"], DockerGlobals(tlscert="/t/c"), []),
        ([EXE, "--tlscert=/t/c", "pyimgsize"], DockerGlobals(tlscert="/t/c"), []),
        ([EXE, "--tlskey", "/t/k", "pyimgsize"], DockerGlobals(tlskey="/t/k"), []),
        ([EXE, "--tlskey=/t/k", "pyimgsize"], DockerGlobals(tlskey="/t/k"), []),
        ([EXE, "-D", "pyimgsize", "inspect"], DockerGlobals(debug=True), ["inspect"]),
        ([EXE, "--debug", "pyimgsize"], DockerGlobals(debug=True), []),
        ([EXE, "--debug=false", "pyimgsize"], DockerGlobals(debug=False), []),
        ([EXE, "-D=true", "pyimgsize"], DockerGlobals(debug=True), []),
        ([EXE, "--tls", "pyimgsize"], DockerGlobals(tls=True), []),
        ([EXE, "--tls=false", "pyimgsize"], DockerGlobals(tls=False), []),
        ([EXE, "--tlsverify", "pyimgsize"], DockerGlobals(tlsverify=True), []),
        ([EXE, "--tlsverify=0", "pyimgsize"], DockerGlobals(tlsverify=False), []),
        ([EXE, "-DH", "tcp://h:1", "pyimgsize"], DockerGlobals(debug=True, host="tcp://h:1"), []),
        ([EXE, "-Dc", "x", "pyimgsize"], DockerGlobals(debug=True, context="x"), []),
        (
            [EXE, "--context", "x", "pyimgsize", "inspect", "IMG"],
            DockerGlobals(context="x"),
            ["inspect", "IMG"],
        ),
        (
            [
                EXE,
                "-D",
                "--tlsverify",
                "-H",
                "tcp://h:2376",
                "--tlscacert",
                "/t/ca.pem",
                "--tlscert=/t/cert.pem",
                "--tlskey",
                "/t/key.pem",
                "--config",
                "/cfg",
                "-l",
                "info",
                "pyimgsize",
                "check",
                "img",
                "--budget",
                "b.toml",
            ],
            DockerGlobals(
                config="/cfg",
                host="tcp://h:2376",
                log_level="info",
                debug=True,
                tlsverify=True,
                tlscacert="/t/ca.pem",
                tlscert="/t/cert.pem",
                tlskey="/t/key.pem",
            ),
            ["check", "img", "--budget", "b.toml"],
        ),
        # After the plugin name everything is ours, even docker-looking options or our name.
        (
            [EXE, "pyimgsize", "-H", "x", "--context", "y", "pyimgsize"],
            DockerGlobals(),
            ["-H", "x", "--context", "y", "pyimgsize"],
        ),
        # A value that happens to be the plugin name is a value.
        ([EXE, "--context", "pyimgsize", "pyimgsize"], DockerGlobals(context="pyimgsize"), []),
    ],
)
def test_parse_docker_argv(argv: list[str], expected: DockerGlobals, rest: list[str]) -> None:
    assert parse_docker_argv(argv) == (expected, rest)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([EXE], "Docker CLI plugin"),
        ([EXE, "inspect", "img"], "Docker CLI plugin"),
        ([EXE, "--context"], "needs a value"),
        ([EXE, "-c"], "needs a value"),
        ([EXE, "--bogus", "pyimgsize"], "unknown docker global option --bogus"),
        ([EXE, "-x", "pyimgsize"], "unknown docker global option -x"),
        ([EXE, "--tls=maybe", "pyimgsize"], "invalid value 'maybe'"),
        ([EXE, "-H", "a", "-H", "b", "pyimgsize"], "only one -H"),
    ],
)
def test_parse_docker_argv_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_docker_argv(argv)


def test_debug_becomes_pyimgsize_debug() -> None:
    assert pyimgsize_argv(DockerGlobals(debug=True), ["inspect", "x"]) == [
        "--debug",
        "inspect",
        "x",
    ]
    assert pyimgsize_argv(DockerGlobals(), ["inspect", "x"]) == ["inspect", "x"]


# --- environment -----------------------------------------------------------------------------


def test_env_context_overrides_host_and_its_tls() -> None:
    env = {"DOCKER_HOST": "tcp://old:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/c"}
    assert apply_docker_globals(DockerGlobals(context="remote"), env) is None
    assert env == {"DOCKER_CONTEXT": "remote"}


def test_env_default_context_keeps_docker_host() -> None:
    env = {"DOCKER_HOST": "tcp://h:2375"}
    apply_docker_globals(DockerGlobals(context="default"), env)
    assert env == {"DOCKER_HOST": "tcp://h:2375", "DOCKER_CONTEXT": "default"}


def test_env_host_and_config() -> None:
    env = {"DOCKER_CONTEXT": "other"}
    apply_docker_globals(DockerGlobals(host="unix:///x.sock", config="/cfg", log_level="x"), env)
    assert env == {"DOCKER_HOST": "unix:///x.sock", "DOCKER_CONFIG": "/cfg"}


def test_env_host_and_context_conflict() -> None:
    with pytest.raises(UsageError, match="not both"):
        apply_docker_globals(DockerGlobals(host="unix:///x", context="c"), {})


def test_env_untouched_without_options() -> None:
    env = {"DOCKER_HOST": "tcp://h:1", "DOCKER_TLS_VERIFY": "1"}
    apply_docker_globals(DockerGlobals(debug=True, log_level="debug"), env)
    assert env == {"DOCKER_HOST": "tcp://h:1", "DOCKER_TLS_VERIFY": "1"}


def test_env_tlsverify_uses_default_cert_dir(tmp_path: Path) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert apply_docker_globals(DockerGlobals(tlsverify=True, host="tcp://h:2376"), env) is None
    assert env["DOCKER_TLS_VERIFY"] == "1"
    assert env["DOCKER_CERT_PATH"] == str(tmp_path)
    assert env["DOCKER_HOST"] == "tcp://h:2376"


def test_env_tls_without_verify(tmp_path: Path) -> None:
    env = {"DOCKER_CERT_PATH": str(tmp_path)}
    apply_docker_globals(DockerGlobals(tls=True), env)
    # The SDK reads an empty DOCKER_TLS_VERIFY as "no verification" and a cert path as "TLS on".
    assert env == {"DOCKER_CERT_PATH": str(tmp_path), "DOCKER_TLS_VERIFY": ""}


def test_env_tls_standard_names_in_one_dir(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    options = DockerGlobals(
        tlsverify=True,
        tlscacert=str(tmp_path / "ca.pem"),
        tlscert=str(tmp_path / "cert.pem"),
        tlskey=str(tmp_path / "key.pem"),
    )
    assert apply_docker_globals(options, env) is None
    assert env == {"DOCKER_CERT_PATH": str(tmp_path), "DOCKER_TLS_VERIFY": "1"}


def test_env_tls_files_elsewhere_are_linked(tmp_path: Path) -> None:
    (tmp_path / "my-ca.crt").write_text("ca")
    default = tmp_path / "default"
    env = {"DOCKER_CERT_PATH": str(default), "DOCKER_TLS_VERIFY": "yes"}
    scratch = apply_docker_globals(DockerGlobals(tlscacert=str(tmp_path / "my-ca.crt")), env)
    assert scratch is not None
    try:
        assert env == {"DOCKER_CERT_PATH": str(scratch), "DOCKER_TLS_VERIFY": "1"}
        assert (scratch / "ca.pem").read_text() == "ca"
        assert os.readlink(scratch / "cert.pem") == str(default / "cert.pem")
        assert os.readlink(scratch / "key.pem") == str(default / "key.pem")
    finally:
        shutil.rmtree(scratch)


def test_env_cert_flags_without_tls_are_ignored() -> None:
    env: dict[str, str] = {}
    assert apply_docker_globals(DockerGlobals(tlscert="/x/cert.pem"), env) is None
    assert env == {}


def test_env_named_context_ignores_tls_flags() -> None:
    env: dict[str, str] = {}
    apply_docker_globals(DockerGlobals(context="remote", tlsverify=True), env)
    assert env == {"DOCKER_CONTEXT": "remote"}


@pytest.fixture
def clean_docker_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_CONFIG",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
        "DOCKER_CLI_PLUGIN_SOCKET",
    ):
        # setenv first: delenv of an unset variable would not restore it after main() sets it.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_main_applies_globals_and_calls_cli(
    monkeypatch: pytest.MonkeyPatch, clean_docker_env: None
) -> None:
    seen: list[list[str]] = []

    def fake_main(argv: list[str] | None = None, *, prog_name: str = "pyimgsize") -> int:
        assert prog_name == "docker pyimgsize"
        seen.append(list(argv or []))
        assert os.environ["DOCKER_CONTEXT"] == "ctx"
        assert "DOCKER_HOST" not in os.environ
        return 3

    monkeypatch.setenv("DOCKER_HOST", "tcp://ignored:2375")
    monkeypatch.setitem(sys.modules, "pyimgsize.cli.app", types.SimpleNamespace(main=fake_main))
    code = plugin.main([EXE, "--context", "ctx", "-D", "pyimgsize", "inspect", "img"])
    assert code == 3
    assert seen == [["--debug", "inspect", "img"]]


def test_main_usage_error_is_one_line(
    capsys: pytest.CaptureFixture[str], clean_docker_env: None
) -> None:
    assert plugin.main([EXE, "inspect", "img"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: docker-pyimgsize is a Docker CLI plugin")
    assert err.count("\n") == 1


def test_main_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert plugin.main([EXE, "docker-cli-plugin-metadata"]) == 0
    assert json.loads(capsys.readouterr().out)["Vendor"] == "pyimgsize"


def test_cli_socket_close_interrupts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing DOCKER_CLI_PLUGIN_SOCKET (an abstract socket, "@name") sends us SIGINT."""
    name = f"pyimgsize_test_{os.getpid()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + name)
    server.listen(1)
    interrupted = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        plugin._watch_cli_socket({"DOCKER_CLI_PLUGIN_SOCKET": "@" + name})
        conn, _ = server.accept()
        assert not interrupted.wait(0.2)
        conn.close()
        for _ in range(100):  # the handler runs in the main thread between bytecodes
            if interrupted.wait(0.05):
                break
        assert interrupted.is_set()
    finally:
        signal.signal(signal.SIGINT, previous)
        server.close()


# --- install_plugin --------------------------------------------------------------------------


def _launcher_python(path: Path) -> str:
    line = next(x for x in path.read_text().splitlines() if x.startswith("PYIMGSIZE_PYTHON="))
    return line.removeprefix("PYIMGSIZE_PYTHON=")


def test_install_plugin_into_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    launcher = install_plugin()
    assert launcher == tmp_path / "cfg" / "cli-plugins" / "docker-pyimgsize"
    assert not launcher.is_symlink()
    assert os.access(launcher, os.X_OK)
    assert _launcher_python(launcher) == str(Path(sys.executable).absolute())
    assert install_plugin() == launcher  # idempotent
    proc = subprocess.run(
        [str(launcher), "docker-cli-plugin-metadata"], capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout)["ShortDescription"] == plugin.SHORT_DESCRIPTION


def test_install_plugin_explicit_dir_and_force(tmp_path: Path) -> None:
    other = tmp_path / "docker-pyimgsize"
    other.write_text("#!/bin/sh\necho someone else's\n")
    with pytest.raises(UsageError, match=r"already exists.*--force"):
        install_plugin(tmp_path)
    assert other.read_text().startswith("#!/bin/sh\necho")
    launcher = install_plugin(tmp_path, force=True)
    assert _launcher_python(launcher) == str(Path(sys.executable).absolute())


@pytest.mark.parametrize("dangling", [False, True])
def test_install_plugin_replaces_an_old_style_link(tmp_path: Path, dangling: bool) -> None:
    """Older versions linked the console script; that link is ours to replace, without --force."""
    target = tmp_path / "gone" / "docker-pyimgsize" if dangling else _script()
    (tmp_path / "docker-pyimgsize").symlink_to(target)
    launcher = install_plugin(tmp_path)
    assert not launcher.is_symlink()
    assert _launcher_python(launcher) == str(Path(sys.executable).absolute())


def test_install_plugin_unwritable_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="cannot install the Docker CLI plugin"):
        install_plugin(blocker / "cli-plugins")


# --- the real docker CLI ---------------------------------------------------------------------


@pytest.fixture
def docker_config_with_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    config = tmp_path / "docker-config"
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    install_plugin()
    return {**os.environ, "DOCKER_CONFIG": str(config)}


def test_docker_help_lists_plugin(docker_config_with_plugin: dict[str, str]) -> None:
    proc = subprocess.run(
        [docker_cli(), "--help"],
        capture_output=True,
        text=True,
        env=docker_config_with_plugin,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "pyimgsize" in line]
    assert lines, proc.stdout
    assert plugin.SHORT_DESCRIPTION in lines[0]


def test_docker_runs_plugin_metadata_without_errors(
    docker_config_with_plugin: dict[str, str],
) -> None:
    """`docker info` style listing: the CLI validates every plugin's metadata."""
    proc = subprocess.run(
        [docker_cli(), "pyimgsize", "docker-cli-plugin-metadata"],
        capture_output=True,
        text=True,
        env=docker_config_with_plugin,
        timeout=60,
        check=False,
    )
    # Through docker, the metadata word is an ordinary argument after the plugin name.
    assert "invalid plugin" not in proc.stderr.lower()


@pytest.mark.parametrize(
    "global_options",
    [[], ["-D"], ["--context", "default"], ["-l", "error"], ["-H", "unix:///var/run/docker.sock"]],
)
def test_docker_pyimgsize_help(
    docker_config_with_plugin: dict[str, str], global_options: list[str]
) -> None:
    proc = subprocess.run(
        [docker_cli(), *global_options, "pyimgsize", "--help"],
        capture_output=True,
        text=True,
        env=docker_config_with_plugin,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "inspect" in proc.stdout
    assert proc.stdout.startswith("Usage: docker pyimgsize ")


def test_docker_host_flag_reaches_the_sdk(
    docker_config_with_plugin: dict[str, str], tmp_path: Path
) -> None:
    """`docker -H <nowhere> pyimgsize inspect ...`: the SDK uses that host, so: exit 3, one line."""
    env = {k: v for k, v in docker_config_with_plugin.items() if k != "DOCKER_CONTEXT"}
    proc = subprocess.run(
        [
            docker_cli(),
            "-H",
            f"unix://{tmp_path}/nowhere.sock",
            "pyimgsize",
            "inspect",
            "docker:pyimgsize-test/absent:1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == ExitCode.IMAGE_UNREADABLE, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: ")
    assert proc.stderr.count("\n") == 1
