"""CLI tables fit the terminal: `COLUMNS` (honoured in pipes too: the user asked), else the
terminal's own width; a pipe without COLUMNS and `--output FILE` keep full width. Checked on a
generated image whose paths, names and problems are all longer than a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from fixtures import File, Image, Layer, Whiteout, dist, write_docker_archive
from pyimgsize.cli.app import main

SITE = "opt/an-application-with-a-long-name/venv/lib/python3.11/site-packages"
SYSTEM = "usr/local/lib/python3.11/site-packages"


def wide_image(path: Path) -> str:
    """An image whose every table is wider than 150 columns at full width."""
    entries: list[File] = [File("usr/local/bin/python3.11", 15_000)]
    for n, name in enumerate(["a-distribution-with-a-long-name", "numpy", "six", "pip"]):
        site = SYSTEM if name == "pip" else SITE
        entries += dist(
            site,
            name,
            "1.0.0.post20240101" if n == 0 else "2.0",
            {f"{name.replace('-', '_')}/__init__.py": 10_000 * (n + 1), f"{name}.so": 5_000},
            extra_record_rows=[f"../../../../bin/{name}-missing-console-script,,"],
        )
    cache = "root/.cache/pip/http-v2/0/1/2/3/4/0123456789abcdef0123456789abcdef0123456789ab"
    layers = [
        Layer(entries[:1], created_by="/bin/sh -c #(nop) ADD file:" + "5" * 64 + " in / "),
        Layer(
            [*entries[1:], File(cache, 40_000)],
            created_by="/bin/sh -c python3 -m venv /opt/an-application-with-a-long-name/venv "
            "&& /opt/an-application-with-a-long-name/venv/bin/pip install -r requirements.txt",
        ),
        Layer([Whiteout("root/.cache/pip")], created_by="/bin/sh -c rm -rf /root/.cache/pip"),
    ]
    write_docker_archive(path, Image("wide:1", layers))
    return str(path)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    return wide_image(tmp_path_factory.mktemp("wide") / "wide.tar")


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_full_width_is_wide(
    image: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    out = run(capsys, "inspect", image)
    assert widest(out) > 150  # a pipe keeps full width
    assert "Problems (" in out


@pytest.mark.parametrize("columns", [60, 80, 100, 120])
def test_columns_is_honoured(
    columns: int, image: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    out = run(capsys, "inspect", image)
    assert widest(out) <= columns
    for section in ("Site-packages", "Distributions", "Caches", "Layers", "Problems"):
        assert section in out
    assert "numpy" in out


def test_output_file_keeps_full_width(
    image: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = tmp_path / "report.txt"
    assert run(capsys, "inspect", image, "--output", str(out)) == ""
    monkeypatch.delenv("COLUMNS")
    assert out.read_text() == run(capsys, "inspect", image)


def test_a_real_terminal_sets_the_width(image: str) -> None:
    """No COLUMNS: the width of the terminal stdout is (a pty 72 columns wide)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 72, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyimgsize", "inspect", image],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    assert "Distributions" in text
    assert widest(text) <= 72


@pytest.fixture(scope="module")
def saved_pair(image: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Saved reports of the wide image and of a smaller build of it (for diff and check)."""
    where = tmp_path_factory.mktemp("saved")
    small = where / "small.tar"
    entries = list(dist(SITE, "six", "2.0", {"six/__init__.py": 20_000}))
    write_docker_archive(small, Image("small:1", [Layer(entries, created_by="RUN pip")]))
    out = []
    for ref, name in ((str(small), "a.json"), (image, "b.json")):
        path = where / name
        assert main(["inspect", ref, "-f", "json", "-o", str(path)]) == 0
        out.append(str(path))
    return out[0], out[1]


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_diff_and_check_fit(
    columns: int,
    saved_pair: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = saved_pair
    monkeypatch.setenv("COLUMNS", str(columns))
    diff = run(capsys, "diff", a, b, "--all")
    assert widest(diff) <= columns
    assert "a-distribution-with" in diff
    gate = ["check", b, "--baseline", a, "--max-image", "1kB", "--max-cache", "0"]
    gate += ["--max-growth", "1kB", "--max-package", "numpy=1kB"]
    assert main(gate) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert widest(out) <= columns
    assert "  fix: " in out
    monkeypatch.delenv("COLUMNS")
    assert main(gate) == 1
    assert widest(capsys.readouterr().out) > 100  # a pipe keeps full width
