"""Words for `pyimgsize cache info` and `pyimgsize cache clear`."""

from __future__ import annotations

from pyimgsize.layers.cache import CacheInfo
from pyimgsize.units import format_bytes


def render_cache_info(info: CacheInfo) -> str:
    lines = [
        f"directory: {info.directory}",
        f"format:    v{info.format}",
        f"layers:    {info.entries}",
        f"size:      {format_bytes(info.bytes)} of {format_bytes(info.max_bytes)} "
        "(least recently used layers are evicted beyond that)",
    ]
    if info.other_formats:
        lines.append(
            f"also {info.other_formats} file(s) of other cache formats, unused "
            "(`pyimgsize cache clear` removes them)"
        )
    return "\n".join(lines)


def render_cache_cleared(removed: int, directory: str) -> str:
    return f"removed {removed} cached layer file(s) from {directory}"
