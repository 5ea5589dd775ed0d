"""Interrupted runs: Ctrl-C (SIGINT) and SIGTERM while an archive is read and while the engine
streams its export.

A stopped run exits 130 (SIGINT) or 143 (SIGTERM) with one line on stderr and no traceback,
leaves no temporary file, and leaves `--output FILE` as it was (its old content, or absent).
The engine connection and the export thread are closed on the way out, not at exit.

The signals are real, sent to a real `pyimgsize` process at a known point: for an archive, the
process reads from a FIFO that this test feeds half of an archive; for the engine, the test
waits until the process has had its engine connection open for a moment (a 256 MB export).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fixtures import File, Image, Layer, write_docker_archive, write_oci_layout
from pyimgsize.analyzers import CONTENT_WANTED
from pyimgsize.cli.signals import Terminated
from pyimgsize.sources import open_source

SIGNALS = [(signal.SIGINT, 130, "interrupted (SIGINT)"), (signal.SIGTERM, 143, "terminated")]


def _start(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    """`pyimgsize ARGS` as a child process with default signal dispositions (a CI shell may
    start jobs with SIGINT ignored, which Python would then respect)."""

    def defaults() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    env = {k: v for k, v in os.environ.items() if k != "PYIMGSIZE_DEBUG"}
    return subprocess.Popen(
        [sys.executable, "-m", "pyimgsize", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=defaults,  # noqa: PLW1509 - only resets two signal dispositions
        env=env,
    )


def _finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out.decode(), err.decode()


def _assert_stopped(code: int, out: str, err: str, want_code: int, words: str) -> None:
    assert code == want_code, (code, err)
    assert "Traceback" not in err
    assert err.splitlines() == [err.strip()], err
    assert err.startswith("error: "), err
    assert words in err, err
    assert out == ""


# --- an archive read -----------------------------------------------------------------------------


def _archive(tmp_path: Path) -> bytes:
    """A docker save archive of a few MB, many members (so reading it takes a while)."""
    files = [File(f"data/{i:05d}", 2000) for i in range(3000)]
    path = tmp_path / "src.tar"
    write_docker_archive(path, Image("interrupt/me:1", [Layer(files)]))
    data = path.read_bytes()
    path.unlink()
    return data


@pytest.mark.parametrize(("signum", "code", "words"), SIGNALS, ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("old_output", [True, False], ids=["output-exists", "no-output"])
def test_signal_during_an_archive_read(
    tmp_path: Path, signum: int, code: int, words: str, old_output: bool
) -> None:
    data = _archive(tmp_path)
    fifo = tmp_path / "image.fifo"
    os.mkfifo(fifo)
    output = tmp_path / "report.json"
    if old_output:
        output.write_text("old report\n")
    proc = _start("inspect", str(fifo), "--format", "json", "-o", str(output), cwd=tmp_path)
    with fifo.open("wb") as feed:
        # the pipe holds 64 kB: once this write returns, the reader is well into the archive
        feed.write(data[: len(data) // 2])
        feed.flush()
        time.sleep(0.2)
        proc.send_signal(signum)
        result = _finish(proc)
    _assert_stopped(*result, code, words)
    if old_output:
        assert output.read_text() == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["image.fifo", *(["report.json"] if old_output else [])]
    )


# --- an engine export ---------------------------------------------------------------------------

BIG_DOCKERFILE = """\
FROM {base}
RUN dd if=/dev/urandom of=/big bs=1048576 count=256 2>/dev/null && echo done
"""
# random bytes, not zeros: the containerd image store keeps the layer gzipped, and 256 MB of
# zeros (a 250 kB blob) is exported and inflated before the signal comes


@pytest.fixture(scope="module")
def big_image(engine: Any, busybox_base: str) -> str:
    """A 256 MB image in the engine: its export takes long enough to be interrupted (also from
    the containerd image store, which exports the layer as the gzip blob it keeps)."""
    from conftest import build_image, unique_tag

    return build_image(engine, BIG_DOCKERFILE.format(base=busybox_base), {}, unique_tag("big"))


def _sockets(pid: int | str) -> int:
    fds = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count


def _wait_until_exporting(proc: subprocess.Popen[bytes]) -> None:
    """Until the process has had its engine connection open for a moment: it has asked for the
    image and is waiting for, or reading, the export (this engine prepares a 256 MB export for
    seconds before the first byte)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"pyimgsize ended before the signal: {_finish(proc)}")
        try:
            if _sockets(proc.pid):
                time.sleep(0.5)
                return
        except OSError:
            pass
        time.sleep(0.005)
    raise AssertionError("the export never started")


@pytest.mark.engine
@pytest.mark.parametrize(("signum", "code", "words"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_during_an_engine_export(
    tmp_path: Path, big_image: str, signum: int, code: int, words: str
) -> None:
    output = tmp_path / "report.json"
    output.write_text("old report\n")
    # the export, not the engine's layer storage read in place (sources/storage.py)
    os.environ["PYIMGSIZE_ENGINE_STORAGE"] = "0"
    try:
        proc = _start("inspect", f"docker:{big_image}", "-o", str(output), cwd=tmp_path)
    finally:
        del os.environ["PYIMGSIZE_ENGINE_STORAGE"]
    _wait_until_exporting(proc)
    proc.send_signal(signum)
    sent = time.monotonic()
    _assert_stopped(*_finish(proc), code, words)
    assert time.monotonic() - sent < 10, "a stopped run must end promptly"
    assert output.read_text() == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.engine
def test_a_stopped_engine_read_closes_its_connection(
    big_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped mid-export (the exception a signal handler raises, here raised from the progress
    callback, which runs in the reading thread), the source closes the HTTP response and its
    client, and the export thread ends: nothing is left for the garbage collector."""
    monkeypatch.setenv("PYIMGSIZE_ENGINE_STORAGE", "0")  # the export, not the layer storage
    source = open_source(f"docker:{big_image}")
    before = _sockets("self")
    seen: list[int] = []

    def stop(what: str, done: int) -> None:
        seen.append(done)
        if done > 32 << 20:
            raise Terminated

    with pytest.raises(Terminated):
        source.load(wants=CONTENT_WANTED, progress=stop)
    assert max(seen) > 32 << 20
    assert _sockets("self") == before
    assert [t.name for t in threading.enumerate() if t.name == "pyimgsize-export"] == []


# --- a registry download ------------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "code", "words"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_during_a_registry_download(
    tmp_path: Path, signum: int, code: int, words: str
) -> None:
    """A real registry behind a proxy that stops a layer download half-way and holds it: the
    signal arrives while the download is in progress."""
    from tests.registries import FaultProxy, push_layout, require_tools, running, start_registry

    require_tools("docker-registry")
    registry = start_registry(tmp_path / "registry", tmp_path / "storage")
    proxy = FaultProxy(registry.host, "stall")
    proxy.start()
    with running(registry, proxy):
        layout = tmp_path / "layout"
        image = Image("stall/me:1", [Layer([File("data", 200_000)])])
        write_oci_layout(layout, image, compression="gzip")
        push_layout(registry.host, layout, "stall/me", "1")
        work = tmp_path / "work"
        work.mkdir()
        output = work / "report.json"
        output.write_text("old report\n")
        proc = _start("inspect", f"registry:{proxy.host}/stall/me:1", "-o", str(output), cwd=work)
        if not proxy.stalled.wait(60):
            raise AssertionError(f"the download never started: {_finish(proc)}")
        proc.send_signal(signum)
        sent = time.monotonic()
        _assert_stopped(*_finish(proc), code, words)
        assert time.monotonic() - sent < 10, "a stopped run must end promptly"
        assert output.read_text() == "old report\n"
        assert [p.name for p in work.iterdir()] == ["report.json"]
