"""Distribution names compared the PyPA way."""

from __future__ import annotations

import re

_RUNS = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """PEP 503 normalised name: lower case, every run of `-`, `_`, `.` becomes one `-`.

    https://packaging.python.org/en/latest/specifications/name-normalization/
    """
    return _RUNS.sub("-", name).lower()
