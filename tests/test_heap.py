"""Freed C-heap pages go back to the system between analysis steps (pyimgsize.heap)."""

from __future__ import annotations

import os
import platform

import pytest

from pyimgsize import heap

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc_trim")
def test_freed_blocks_between_live_ones_leave_the_process() -> None:
    """Blocks freed between live ones stay in the process until trimmed (free() only gives
    back the heap's top); the live ones are left intact."""
    assert heap._malloc_trim() is not None
    kept, freed = [], []
    for i in range(600):
        freed.append(bytes([i % 251]) * 60_000)
        kept.append(bytes([i % 241]) * 60_000)
    before = _rss()
    del freed
    freed_rss = _rss()
    heap.give_back_free_pages()
    after = _rss()
    assert freed_rss - after > 20 << 20, (before, freed_rss, after)
    assert all(b == bytes([i % 241]) * 60_000 for i, b in enumerate(kept))


def test_giving_back_pages_is_harmless_anywhere() -> None:
    heap.give_back_free_pages()
