"""The test harness itself: engine fixture, offline busybox base, builds and cleanup."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from conftest import (
    BUSYBOX_PATH,
    TEST_REPO_PREFIX,
    build_image,
    busybox_base_tag,
    busybox_rootfs,
    engine_required,
    register_test_image,
    remove_test_images,
    run_in_image,
    unique_tag,
)

CONFTEST = Path(__file__).with_name("conftest.py")


@pytest.mark.engine
def test_busybox_base_has_shell_and_applets(engine: docker.DockerClient, busybox_base: str) -> None:
    assert busybox_base == busybox_base_tag(busybox_rootfs())
    attrs = engine.images.get(busybox_base).attrs
    assert len(attrs["RootFS"]["Layers"]) == 1
    out = run_in_image(engine, busybox_base, "/bin/sh", "-c", "readlink /bin/sh; ls /bin | wc -l")
    target, count = out.split()
    assert target == "busybox"
    assert int(count) > 100


@pytest.mark.engine
def test_run_step_builds_offline(
    engine: docker.DockerClient, busybox_base: str, docker_build: Callable[..., str]
) -> None:
    dockerfile = (
        f"FROM {busybox_base}\n"
        "COPY hello.sh /hello.sh\n"
        "RUN /hello.sh > /hello.txt && ip -o link show | cut -d: -f2 | tr -d ' ' > /links\n"
    )
    image_id = docker_build(dockerfile, {"hello.sh": b"#!/bin/sh\necho hello from RUN\n"})
    assert image_id.startswith("sha256:")
    assert run_in_image(engine, image_id, "cat", "/hello.txt") == "hello from RUN\n"
    # network_mode="none": the RUN step saw the loopback interface only.
    assert run_in_image(engine, image_id, "cat", "/links").split() == ["lo"]
    layers = engine.images.get(image_id).attrs["RootFS"]["Layers"]
    base_layers = engine.images.get(busybox_base).attrs["RootFS"]["Layers"]
    assert layers[: len(base_layers)] == base_layers
    assert len(layers) == len(base_layers) + 2


@pytest.mark.engine
def test_cleanup_removes_session_tags_but_keeps_base(
    engine: docker.DockerClient, busybox_base: str
) -> None:
    tag = unique_tag("harness-cleanup")
    assert tag.startswith(TEST_REPO_PREFIX + "harness-cleanup:")
    build_image(engine, f"FROM {busybox_base}\nRUN echo x > /x\n", {}, tag)
    engine.images.get(tag)
    assert remove_test_images(engine, [tag]) == []
    with pytest.raises(docker.errors.ImageNotFound):
        engine.images.get(tag)
    engine.images.get(busybox_base)
    assert remove_test_images(engine, ["busybox:latest"]) == [
        "refusing to remove 'busybox:latest': not a pyimgsize-test/ tag"
    ]


def test_tags_are_unique_and_guarded() -> None:
    assert unique_tag("a") != unique_tag("a")
    with pytest.raises(ValueError, match="repository name"):
        unique_tag("Upper")
    with pytest.raises(ValueError, match="pyimgsize-test/"):
        register_test_image("other/image:1")


def test_busybox_is_static_from_debian_package() -> None:
    if not BUSYBOX_PATH.is_file():
        pytest.fail("/bin/busybox is missing: install the Debian package busybox-static")
    rootfs = busybox_rootfs()
    assert busybox_base_tag(rootfs) == busybox_base_tag(busybox_rootfs())


@pytest.mark.parametrize(
    ("env", "required"),
    [
        ({}, False),
        ({"CI": "true"}, True),
        ({"CI": "0"}, False),
        ({"PYIMGSIZE_REQUIRE_ENGINE": "1"}, True),
        ({"PYIMGSIZE_REQUIRE_ENGINE": "false"}, False),
    ],
)
def test_engine_required_from_env(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], required: bool
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PYIMGSIZE_REQUIRE_ENGINE", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert engine_required() is required


@pytest.mark.parametrize(
    ("require", "told", "expected_rc", "last_line"),
    [
        (
            "",
            True,
            0,
            "pyimgsize: 2 tests did not run: 2 need a Docker engine (test_needs_engine.py (2)): "
            "no engine here; run them with: sudo make test PYTHON=/x/python",
        ),
        (
            "1",
            True,
            1,
            "pyimgsize: REQUIRED (CI / PYIMGSIZE_REQUIRE_ENGINE is set) but 2 tests did not run: "
            "2 need a Docker engine (test_needs_engine.py (2)): no engine here; "
            "run them with: sudo make test PYTHON=/x/python",
        ),
        (
            "",
            False,
            0,
            "pyimgsize: 2 tests did not run: 2 need a Docker engine (test_needs_engine.py (2)): "
            "no Docker engine answers at unix://{tmp}/no-engine.sock (DockerException); "
            "run them with: {rerun}",
        ),
    ],
)
def test_unreachable_engine_runs_the_rest_and_ends_with_one_line(
    tmp_path: Path, require: str, told: bool, expected_rc: int, last_line: str
) -> None:
    """Against a socket nobody listens on: every other test runs, the engine tests are named in
    the last line with the command that would run them; that exit fails only when required.
    ``told``: scripts/test-env.sh passed on why there is no engine and what would run them."""
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_needs_engine.py").write_text(
        "import pytest\n\n\n@pytest.mark.engine\ndef test_x():\n    pass\n\n\n"
        "def test_y(busybox_base):\n    pass\n"
    )
    (tmp_path / "test_plain.py").write_text("def test_z():\n    pass\n")
    told_vars = ("PYIMGSIZE_ENGINE_UNAVAILABLE", "PYIMGSIZE_ENGINE_HINT", "PYIMGSIZE_RERUN")
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYIMGSIZE_REQUIRE_ENGINE"}}
    env = {k: v for k, v in env.items() if k not in told_vars}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    env["PYIMGSIZE_REQUIRE_ENGINE"] = require
    if told:
        env["PYIMGSIZE_ENGINE_UNAVAILABLE"] = "no engine here"
        env["PYIMGSIZE_ENGINE_HINT"] = "sudo make test PYTHON=/x/python"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == expected_rc, proc.stdout + proc.stderr
    assert "1 passed, 2 skipped" in proc.stdout
    rerun = "make test" if os.geteuid() == 0 else "sudo make test"
    assert proc.stdout.splitlines()[-1] == last_line.format(tmp=tmp_path, rerun=rerun)
