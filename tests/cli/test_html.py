"""`--format html` through the real entry point: written with --output, never to a terminal,
to a pipe when asked; the tree is built only for HTML.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Run
from fixtures import write_docker_archive
from fixtures.demo import demo_image
from tests.browser import embedded_data
from tests.diff_images import write_pair


@pytest.fixture(scope="module")
def demo_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-html") / "demo.tar"
    write_docker_archive(path, demo_image())
    return path


def test_inspect_html_to_a_file(run: Run, demo_tar: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, stdout, stderr = run("inspect", str(demo_tar), "--format", "html", "-o", str(out))
    assert (code, stdout, stderr) == (0, "", "")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    data = embedded_data(text)
    assert data["kind"] == "inspect"
    _code, json_out, _err = run("inspect", str(demo_tar), "--format", "json")
    report = json.loads(json_out)
    assert sum(r[2] for r in data["tree"]["files"]) == report["image"]["layer_bytes"]
    assert len(data["layers"]) == len(report["layers"])


def test_diff_html_to_a_file(run: Run, tmp_path: Path) -> None:
    a, b = write_pair(tmp_path, "upgrade")
    out = tmp_path / "diff.html"
    code, stdout, stderr = run("diff", a, b, "--format", "html", "--output", str(out))
    assert (code, stdout, stderr) == (0, "", "")
    data = embedded_data(out.read_text(encoding="utf-8"))
    assert data["kind"] == "diff"
    names = {k[6] for site in data["views"]["dist"][4] for k in site[4]}
    assert "pandas" in names


def test_diff_html_of_saved_reports(run: Run, tmp_path: Path) -> None:
    a, b = write_pair(tmp_path, "upgrade")
    saved = []
    for side, ref in (("a", a), ("b", b)):
        path = tmp_path / f"{side}.json"
        assert run("inspect", ref, "--format", "json", "-o", str(path))[0] == 0
        saved.append(str(path))
    out = tmp_path / "diff.html"
    assert run("diff", *saved, "--format", "html", "-o", str(out))[0] == 0
    assert embedded_data(out.read_text(encoding="utf-8"))["kind"] == "diff"


def _on_a_terminal(*args: str) -> tuple[int, str]:
    """Run the CLI with stdout on a pseudo-terminal; (exit code, everything it printed)."""
    leader, follower = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "pyimgsize", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        check=False,
        timeout=120,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.returncode, b"".join(chunks).decode() + proc.stderr.decode()


def test_html_is_never_written_to_a_terminal(demo_tar: Path, tmp_path: Path) -> None:
    code, printed = _on_a_terminal("inspect", str(demo_tar), "--format", "html")
    assert code == 2
    assert printed.startswith("error: ")
    assert "--output" in printed
    assert "<html" not in printed
    a, b = write_pair(tmp_path, "upgrade")
    code, printed = _on_a_terminal("diff", a, b, "--format", "html")
    assert code == 2
    assert "--output" in printed


def test_html_goes_to_a_pipe(demo_tar: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pyimgsize", "inspect", str(demo_tar), "--format", "html"],
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"<!DOCTYPE html>")


def test_only_html_builds_the_file_tree(
    run: Run, demo_tar: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyimgsize.analyzers.file_tree

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the file tree was built for a format that does not use it")

    monkeypatch.setattr(pyimgsize.analyzers.file_tree, "file_tree", refuse)
    for fmt in ("table", "json", "markdown"):
        code, _out, err = run("inspect", str(demo_tar), "--format", fmt)
        assert code == 0, err
    code, _out, err = run(
        "--debug", "inspect", str(demo_tar), "--format", "html", "-o", "/dev/null"
    )
    assert code == 70
    assert "file tree was built" in err
