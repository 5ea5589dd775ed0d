"""The progress line appears on stderr only when stderr is a terminal, and is cleared after."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from fixtures import demo


def _run(archive: Path, *, tty: bool) -> tuple[int, bytes, bytes]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    cmd = [sys.executable, "-m", "pyimgsize", "inspect", str(archive), "--format", "json"]
    if not tty:
        done = subprocess.run(cmd, capture_output=True, env=env, check=False, timeout=120)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave, env=env)
        os.close(slave)
        err = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            err += chunk
        out = proc.stdout.read() if proc.stdout else b""
        return proc.wait(timeout=120), out, err
    finally:
        os.close(master)


def test_progress_only_on_a_terminal(tmp_path: Path) -> None:
    archive = tmp_path / "demo.tar"
    demo.write_demo(archive)
    code, out, err = _run(archive, tty=True)
    assert code == 0
    assert out.startswith(b"{")  # stdout stays one clean JSON document
    assert b"pyimgsize: " in err
    assert err.endswith(b"\r\x1b[K")  # the line is cleared before the report is written
    code, out, err = _run(archive, tty=False)
    assert code == 0
    assert err == b""
