"""Helpers for tests that run the README's commands: its sections and code blocks, and a copy of
the working tree as a fresh clone would have it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_section(title: str, *, level: int = 2) -> str:
    """The text of the README section headed `title` (up to the next heading of that level)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    marks = "#" * level
    return text.split(f"\n{marks} {title}\n", 1)[1].split(f"\n{marks} ", 1)[0]


def code_blocks(text: str, language: str) -> list[str]:
    return [block.strip() for block in re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)]


def copy_checkout(dest: Path) -> Path:
    """The tracked and not-ignored files of the working tree, copied to `dest`."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        rel = raw.decode()
        src = ROOT / rel
        if not src.is_file() or rel.startswith(("bench/out/", "e2e/wheels/")):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest
