"""`--output FILE` is written atomically: after any failure FILE holds its old content or does
not exist, never half a report, and no temporary file is left; a full disk is one line.

The full disk is real: a 256 kB tmpfs mounted for the test (root only; CI runs as root).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import not_run_here, rerun_command
from fixtures import File, Image, Layer, write_docker_archive
from pyimgsize.cli.output import write_atomically
from tests.fuzz.harness import assert_clean, run_cli


def _image(tmp_path: Path, files: int = 5) -> Path:
    path = tmp_path / "image.tar"
    layer = Layer([File(f"data/{i:04d}-{'x' * 60}", 10) for i in range(files)])
    write_docker_archive(path, Image("out/put:1", [layer]))
    return path


def test_output_replaces_the_old_file_whole(tmp_path: Path) -> None:
    image = _image(tmp_path)
    output = tmp_path / "report.json"
    output.write_text("old\n")
    output.chmod(0o640)
    outcome = run_cli(
        tmp_path, "inspect", str(image), "--format", "json", "-o", str(output), guard=False
    )
    assert (outcome.code, outcome.out, outcome.err) == (0, "", "")
    assert json.loads(output.read_text())["image"]["bytes"] == 50
    assert stat.S_IMODE(output.stat().st_mode) == 0o640  # the old file's permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.tar", "report.json"]


def test_a_new_output_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    output = tmp_path / "new.txt"
    old = os.umask(0o027)
    try:
        write_atomically(output, b"report\n")
    finally:
        os.umask(old)
    assert output.read_bytes() == b"report\n"
    assert stat.S_IMODE(output.stat().st_mode) == 0o640


def test_output_through_a_symlink_replaces_its_target(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("old\n")
    (tmp_path / "link.txt").symlink_to("real.txt")
    write_atomically(tmp_path / "link.txt", b"new\n")
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "real.txt").read_text() == "new\n"


def test_output_to_a_device_is_written_in_place(tmp_path: Path) -> None:
    image = _image(tmp_path)
    outcome = run_cli(tmp_path, "inspect", str(image), "-o", "/dev/null", guard=False)
    assert outcome.code == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_failed_run_leaves_the_old_output(tmp_path: Path) -> None:
    output = tmp_path / "report.json"
    output.write_text("old\n")
    broken = tmp_path / "broken.tar"
    broken.write_bytes(_image(tmp_path).read_bytes()[:3000])
    outcome = run_cli(tmp_path, "inspect", str(broken), "-o", str(output))
    assert_clean(outcome)
    assert outcome.code == 3
    assert output.read_text() == "old\n"


def test_an_error_while_writing_removes_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Boom(Exception):
        pass

    def failing_fsync(fd: int) -> None:  # as a signal or an I/O error half-way would
        raise Boom

    output = tmp_path / "report.json"
    output.write_text("old\n")
    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(Boom):
        write_atomically(output, b"new report\n")
    monkeypatch.undo()
    assert output.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@contextlib.contextmanager
def _tmpfs(where: Path, size: str) -> Iterator[Path]:
    if os.geteuid() != 0:
        not_run_here("root", "a full disk is a tmpfs mounted for the test", rerun_command())
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def _fill(directory: Path) -> None:
    """Fill a file system to the last byte it takes."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)


@pytest.mark.parametrize("old", [True, False], ids=["old-output", "no-old-output"])
def test_a_full_disk_is_one_line_and_leaves_the_old_output(tmp_path: Path, old: bool) -> None:
    image = _image(tmp_path, files=400)  # a report of some 60 kB
    with _tmpfs(tmp_path / "small", "256k") as disk:
        output = disk / "report.json"
        if old:
            output.write_text("old\n")
        _fill(disk)
        before = sorted(p.name for p in disk.iterdir())
        outcome = run_cli(
            tmp_path, "inspect", str(image), "--format", "json", "-o", str(output), guard=False
        )
        assert_clean_write_error(outcome.code, outcome.err, str(output))
        assert outcome.out == ""
        if old:
            assert output.read_text() == "old\n"
        else:
            assert not output.exists()
        assert sorted(p.name for p in disk.iterdir()) == before


def assert_clean_write_error(code: int, err: str, path: str) -> None:
    assert code == 2, err
    assert err == f"error: cannot write --output {path}: No space left on device\n"
