"""Guards for runs on hostile or fuzzed inputs: no hang, no host filesystem access.

`watched(tmp)` fails the block when it runs longer than its time limit, opens anything for
writing, or reads anything outside `tmp` and Python's own files. The limit raises `Hung`, a
`BaseException`, so that no `except Exception` on the way (the CLI's last-resort handler) can
turn a hang into an ordinary error.
"""

from __future__ import annotations

import os
import signal
import sys
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any


class Hung(BaseException):
    """The guarded block ran past its time limit."""


class _Watch:
    """Every `open` audit event while active (an audit hook cannot be removed: it idles)."""

    active: list[tuple[str, Any, int]] | None = None

    @classmethod
    def hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if cls.active is not None and event == "open":
            path, mode, flags = args
            name = os.fsdecode(path) if isinstance(path, str | bytes) else str(path)
            cls.active.append((name, mode, flags))


sys.addaudithook(_Watch.hook)

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _python_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(__file__).parents[1])}
    roots.update(p for p in sysconfig.get_paths().values() if p)
    return tuple(sorted(roots))


def _timeout(signum: int, frame: FrameType | None) -> None:
    raise Hung("the run hung on a hostile input")


@contextmanager
def watched(tmp_path: Path, seconds: int = 10) -> Iterator[None]:
    """Fail on a hang (`seconds`) and on any write, or any read outside tmp_path and Python's own
    files, while the block runs."""
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(seconds)
    opened: list[tuple[str, Any, int]] = []
    _Watch.active = opened
    try:
        yield
    finally:
        _Watch.active = None
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    allowed = (str(tmp_path), *_python_roots())
    # the per-layer result cache (a private directory per test session, tests/conftest.py) is
    # the one place pyimgsize itself writes; an image's names never reach it
    cache = os.environ.get("PYIMGSIZE_CACHE_DIR")
    for path, mode, flags in opened:
        if cache and path.startswith(cache + os.sep):
            continue
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
            flags & _WRITE_FLAGS
        )
        assert not writing, f"opened {path!r} for writing"
        assert path.startswith(allowed), f"opened {path!r} on the host"
