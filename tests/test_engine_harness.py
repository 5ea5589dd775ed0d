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
    ("require", "expected_rc", "expected"),
    [("", 0, "1 skipped"), ("1", 1, "ENGINE REQUIRED")],
)
def test_unreachable_engine_skips_or_fails_loudly(
    tmp_path: Path, require: str, expected_rc: int, expected: str
) -> None:
    """Against a socket nobody listens on: skip on a dev machine, a loud failure when required."""
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_needs_engine.py").write_text(
        "import pytest\n\n\n@pytest.mark.engine\ndef test_x():\n    pass\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYIMGSIZE_REQUIRE_ENGINE"}}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    env["PYIMGSIZE_REQUIRE_ENGINE"] = require
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == expected_rc, proc.stdout + proc.stderr
    assert "Docker engine unreachable" in proc.stdout
    assert expected in proc.stdout
