"""Handing freed memory back to the system between the analysis' steps.

Large blocks (captured contents, the columns of a merged layer, a step's temporary tables)
come from the C heap, interleaved with live ones; Python's small objects come from separate
mappings. So the pages a step frees in the heap stay in the process, unused, while the next
step grows its objects elsewhere: the peak is the sum of both. glibc's `malloc_trim` returns
those pages (a few ms on a 500 MB process); elsewhere this does nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (ImportError, AttributeError, OSError, TypeError):
        return None
    return trim


def give_back_free_pages() -> None:
    """Return the C heap's free pages to the system (glibc), else nothing."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
