"""The one golden-file helper: rendered text compared with `tests/render/golden/NAME`.

Run with `PYIMGSIZE_UPDATE_GOLDEN=1` to rewrite the files, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).with_name("golden")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    expected_text = text + "\n"
    if os.environ.get("PYIMGSIZE_UPDATE_GOLDEN", "") not in ("", "0"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(expected_text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}: run with PYIMGSIZE_UPDATE_GOLDEN=1"
    assert path.read_text(encoding="utf-8") == expected_text, (
        f"{name} differs from the rendered output; if the change is intended, rerun with "
        "PYIMGSIZE_UPDATE_GOLDEN=1 and review the diff"
    )
