"""Global flags where a user types them: `--debug` anywhere before `--`, `-h` as `--help`."""

from __future__ import annotations

import pytest

from pyimgsize.cli.app import _take_debug, main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--debug", "inspect", "x"], (["inspect", "x"], True)),
        (["inspect", "x", "--debug"], (["inspect", "x"], True)),
        (
            ["inspect", "--debug", "x", "--format", "json"],
            (["inspect", "x", "--format", "json"], True),
        ),
        (["inspect", "x"], (["inspect", "x"], False)),
        # after `--` it is an argument (an image path literally named --debug)
        (["inspect", "--", "--debug"], (["inspect", "--", "--debug"], False)),
    ],
)
def test_take_debug(argv: list[str], expected: tuple[list[str], bool]) -> None:
    assert _take_debug(argv) == expected


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_after_the_command_shows_the_traceback(
    where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["inspect", "./no-such-image.tar"]
    args = ["--debug", *args] if where == "before" else [*args, "--debug"]
    assert main(args) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1] == "error: no-such-image.tar: no such file or directory"


def test_without_debug_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "./no-such-image.tar"]) == 3
    assert capsys.readouterr().err == "error: no-such-image.tar: no such file or directory\n"


@pytest.mark.parametrize("args", [["-h"], ["inspect", "-h"], ["check", "-h"], ["diff", "-h"]])
def test_dash_h_is_help(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: pyimgsize")
    assert "-h, --help" in out
