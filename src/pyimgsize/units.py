"""One unit rule everywhere: MB = 10**6, MiB = 2**20 (as pydantic's ByteSize parses them).

Tables use decimal units (kB, MB, GB) throughout; JSON always carries integers.
"""

from __future__ import annotations

import re

from pydantic import ByteSize, TypeAdapter, ValidationError

_BYTESIZE = TypeAdapter(ByteSize)
# a number and at most one unit word; pydantic alone would read "5%" as 5 bytes
_SIZE_TEXT = re.compile(r"^\d+(\.\d+)?\s*([A-Za-z]+)?$")
_DECIMAL = (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3))


def parse_size(value: str | int | float) -> int:
    """Parse "600MB", "1.5 GiB", "0", 1024 into bytes; raise ValueError with the offending text."""
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"negative size: {value!r}")
        return int(value)
    text = value.strip()
    if text.startswith("-"):
        raise ValueError(f"negative size: {value!r}")
    if not _SIZE_TEXT.match(text):
        raise ValueError(f"not a size: {value!r} (use e.g. 600MB, 1.5GiB, 800kB)")
    try:
        return int(_BYTESIZE.validate_python(text))
    except ValidationError:
        raise ValueError(f"not a size: {value!r} (use e.g. 600MB, 1.5GiB, 800kB)") from None


def format_bytes(n: int, *, signed: bool = False) -> str:
    """Human-readable decimal size: 53.2 MB, 812.0 kB, 17 B; signed adds + for growth."""
    sign = ""
    if n < 0:
        sign = "-"
    elif signed and n > 0:
        sign = "+"
    a = abs(n)
    for unit, factor in _DECIMAL:
        if a >= factor:
            return f"{sign}{a / factor:.1f} {unit}"
    return f"{sign}{a} B"
