"""A bug is still one line on stderr (exit 70), with the traceback only under --debug."""

from __future__ import annotations

import pytest

import pyimgsize.api
from pyimgsize.cli.app import main


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("something nobody expected")


def test_a_bug_is_one_line_and_exit_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pyimgsize.api, "inspect", _boom)
    assert main(["inspect", "docker:whatever"]) == 70
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: internal error: RuntimeError: something nobody expected "
        "(rerun with --debug and report it)\n"
    )


def test_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pyimgsize.api, "inspect", _boom)
    assert main(["--debug", "inspect", "docker:whatever"]) == 70
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().endswith("(rerun with --debug and report it)")
