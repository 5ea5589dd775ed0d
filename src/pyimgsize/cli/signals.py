"""Ctrl-C and SIGTERM as exceptions of our own, so that a stopped run unwinds cleanly.

SIGTERM (`docker stop`, a cancelled CI job, `timeout`) would otherwise end the process on the
spot, and Ctrl-C's `KeyboardInterrupt` is turned into a silent exit code by the command-line
library. Raised as `Interrupted` / `Terminated` instead, both unwind the same way: every
`finally` and `with` on the stack runs (the engine connection is closed, an `--output`
temporary file is removed), and `main` prints one line and exits 130 (128 + SIGINT) or 143
(128 + SIGTERM).

Both are `BaseException`s, so no `except Exception` on the way swallows them, and no source
needs to know about them: an engine export, an archive read and a registry download are all
stopped the same way.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class Stopped(BaseException):
    """The run was stopped by a signal; `exit_code` is 128 + the signal number."""

    exit_code = 1


class Interrupted(Stopped):
    exit_code = 128 + signal.SIGINT

    def __str__(self) -> str:
        return "interrupted (SIGINT)"


class Terminated(Stopped):
    exit_code = 128 + signal.SIGTERM

    def __str__(self) -> str:
        return "terminated (SIGTERM)"


def _raiser(kind: type[Stopped]) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise kind

    return handler


# A handler someone else installed (an embedding program, a test runner's) is left alone.
_DEFAULTS: dict[signal.Signals, tuple[Any, ...]] = {
    signal.SIGINT: (signal.default_int_handler,),
    signal.SIGTERM: (signal.SIG_DFL,),
}
_KINDS: dict[signal.Signals, type[Stopped]] = {
    signal.SIGINT: Interrupted,
    signal.SIGTERM: Terminated,
}


@contextmanager
def stop_signals() -> Iterator[None]:
    """While the block runs, SIGINT raises `Interrupted` and SIGTERM `Terminated` (in the main
    thread, where Python runs signal handlers); the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    for signum, defaults in _DEFAULTS.items():
        current = signal.getsignal(signum)
        if current in defaults:
            previous[signum] = current
            signal.signal(signum, _raiser(_KINDS[signum]))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
