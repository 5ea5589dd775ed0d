"""Print how many examples each fuzz target ran (the figure `make fuzz` reports)."""

from __future__ import annotations

import pytest

from tests.fuzz.harness import EXAMPLES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not EXAMPLES:
        return
    parts = ", ".join(f"{name} {count}" for name, count in sorted(EXAMPLES.items()))
    terminalreporter.write_line(f"fuzz: {sum(EXAMPLES.values())} examples run ({parts})")
