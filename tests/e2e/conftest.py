"""Fixtures of the end-to-end suite: the Dockerfile.test images, built once per machine.

The `e2e` fixture fetches the pinned wheels, builds the Debian base image and every variant of
Dockerfile.test (each step cached, see e2e/build.py) and hands out the lazily computed truth and
reports (tests/e2e/harness.py). Timings of every step are printed at the end of the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .harness import E2E, Timing, e2e_build

if TYPE_CHECKING:
    import docker

_SESSION: list[E2E] = []


@pytest.fixture(scope="session")
def e2e(engine: docker.DockerClient) -> E2E:
    """Every variant image (built or reused), with session-wide truth and reports."""
    try:
        tags, steps = e2e_build.ensure()
    except e2e_build.BuildError as exc:
        pytest.fail(f"building the end-to-end images failed: {exc}", pytrace=False)
    state = E2E(tags=tags)
    for step in steps:
        state.timings.append(
            Timing(f"build {step.name}{' (cached)' if step.cached else ''}", step.seconds)
        )
    _SESSION.append(state)
    return state


@pytest.fixture(scope="session")
def e2e_registry() -> Iterator[str]:
    """A loopback docker-registry whose storage (~/.cache/pyimgsize-dev/e2e-registry, beside the
    private test engine) outlives the session and the clone, so each variant is pushed once per
    recipe hash and reused by later runs (CI's too); yields its host:port."""
    from tests.registries import require_tools, start_registry

    require_tools("docker-registry")
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    root = Path(cache) / "pyimgsize-dev" / "e2e-registry"
    registry = start_registry(root / "run", root / "storage")
    try:
        yield registry.host
    finally:
        registry.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for state in _SESSION:
        terminalreporter.section("end-to-end timings")
        for timing in state.timings:
            terminalreporter.write_line(f"{timing.seconds:7.1f}s  {timing.what}")
        total = sum(t.seconds for t in state.timings)
        terminalreporter.write_line(f"{total:7.1f}s  total")
