"""Where a rendered document goes: stdout, or `--output FILE` written atomically.

`--output FILE` is written to a temporary file in FILE's directory, flushed to disk and renamed
over FILE: after any failure (a full disk, a signal, an error) FILE holds its old content or
does not exist, never half a report, and no temporary file is left behind. A FILE that is not
a regular file (`/dev/stdout`, a FIFO) is written in place: it cannot be renamed over.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

from pyimgsize.errors import UsageError
from pyimgsize.render.text import printable


def emit(text: str, output: Path | None) -> None:
    """Write a rendered document to --output FILE or stdout."""
    text = printable(text)
    if not text.endswith("\n"):
        text += "\n"
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        write_atomically(output, text.encode("utf-8"))
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"cannot write --output {output}: {reason}") from exc


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step (temporary file in the same directory + rename).

    The new file gets the old file's permissions, or those a plain `open` would give.
    """
    target = Path(os.path.realpath(path))  # through a symlink: replace what it points at
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with target.open("wb") as fh:  # a device or FIFO: nothing to rename over
            fh.write(data)
        return
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:  # an error, Ctrl-C or SIGTERM: leave nothing behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
