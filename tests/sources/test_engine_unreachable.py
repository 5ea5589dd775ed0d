"""An unreachable engine is one short line: the host, the cause in a few words, what to do; never
urllib3's or requests' own wording. Each case is a real failed connection on this machine."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyimgsize.cli.app import main
from pyimgsize.sources.engine import connection_failure

RAW_WORDS = (
    "HTTPConnectionPool",
    "Max retries",
    "NewConnectionError",
    "Errno",
    "Connection aborted",
)


def unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], host: str
) -> str:
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    assert main(["inspect", "docker:acme/app:1"]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    line = err.rstrip("\n")
    assert line.startswith(f"error: cannot reach the Docker engine at {host}: ")
    assert line.endswith(
        "; or run `docker save acme/app:1 -o image.tar` where an engine runs, "
        "then `pyimgsize inspect image.tar`"
    )
    for words in RAW_WORDS:
        assert words not in line
    assert len(line) - len(host) <= 200
    return line


@pytest.fixture
def closing_server() -> Iterator[int]:
    """A TCP port on loopback whose server accepts a connection and closes it at once."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_no_socket(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    line = unreachable(monkeypatch, capsys, f"unix://{tmp_path}/docker.sock")
    assert ": no socket there (is dockerd running?);" in line


def test_connection_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = unreachable(monkeypatch, capsys, f"tcp://127.0.0.1:{port}")
    assert ": connection refused (is dockerd running?);" in line


def test_a_socket_nobody_listens_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "stale.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))  # bound, never listening: what a crashed dockerd leaves behind
    try:
        line = unreachable(monkeypatch, capsys, f"unix://{path}")
    finally:
        stale.close()
    assert ": connection refused" in line


def test_host_name_that_does_not_resolve(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    line = unreachable(monkeypatch, capsys, "tcp://no-such-host.invalid:2375")
    assert ": host name not found (check DOCKER_HOST or the context);" in line


def test_not_an_engine(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], closing_server: int
) -> None:
    line = unreachable(monkeypatch, capsys, f"tcp://127.0.0.1:{closing_server}")
    assert ": closed by the other side (is that a Docker engine?);" in line


def test_timeout_in_a_few_words() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts into the backlog, never answers
    client = socket.create_connection(server.getsockname(), timeout=0.05)
    try:
        with pytest.raises(TimeoutError) as caught:
            client.recv(1)
    finally:
        client.close()
        server.close()
    assert connection_failure(caught.value).startswith("no answer in time")
