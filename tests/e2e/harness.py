"""Helpers of the end-to-end suite: images, ground truth, pyimgsize reports, image configs.

Every result is computed once per session and kept in memory (`E2E`): a variant's truth (the
e2e/truth.py script run inside a container of the image), its report through the engine source,
its report through a `docker save` archive (the archive is deleted right after), its image
config read from that archive (history with `empty_layer`, rootfs diff_ids), which maps
Dockerfile instructions to layer indices without asking pyimgsize, and the bytes each layer
ships, summed from the archive's layer tars with `tarfile` (also without pyimgsize).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.registries import registry_has

REPO_DIR = Path(__file__).resolve().parents[2]


def _load_build_module() -> ModuleType:
    """e2e/build.py, loaded by path (the repository's e2e/ is scripts, not a package)."""
    name = "pyimgsize_e2e_build"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_DIR / "e2e" / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


e2e_build = _load_build_module()

TRUTH_SCRIPT = e2e_build.E2E_DIR / "truth.py"
# Trees the truth measures besides the Python views (expected dead bytes come from these).
TRUTH_TREES = (
    "/wheels",
    "/opt/venv",
    "/opt/venv/lib/python3.11/site-packages",
    "/root/.cache/uv",
    "/root/.cache/pip",
    "/tmp/wheelhouse",
)
SOURCES = ("docker", "docker-archive")

Json = dict[str, Any]


def _run(
    cmd: list[str],
    *,
    what: str,
    stdin: bytes | None = None,
    timeout: int = 600,
    env: dict[str, str] | None = None,
) -> str:
    proc = subprocess.run(
        cmd, input=stdin, capture_output=True, timeout=timeout, check=False, env=env
    )
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace")[-4000:]
        pytest.fail(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{err}", pytrace=False
        )
    return proc.stdout.decode()


def measure_truth(tag: str) -> Json:
    """Run e2e/truth.py with the image's own python3, offline and read-only."""
    out = _run(
        [
            "docker",
            "run",
            "--rm",
            "-i",
            "--network",
            "none",
            "--read-only",
            "--entrypoint",
            "python3",
            tag,
            "-I",
            "-S",
            "-B",
            "-",
            *TRUTH_TREES,
        ],
        what=f"ground truth in {tag}",
        stdin=TRUTH_SCRIPT.read_bytes(),
    )
    truth: Json = json.loads(out)
    return truth


def pyimgsize_json(*args: str, env: dict[str, str] | None = None) -> Json:
    """`pyimgsize ARGS --format json` through the CLI, as a user or CI script runs it."""
    out = _run(
        [sys.executable, "-m", "pyimgsize", *args, "--format", "json"],
        what=f"pyimgsize {' '.join(args)}",
        env=env,
    )
    report: Json = json.loads(out)
    return report


def untagged(report: Json) -> Json:
    """`report` without the image's tags: another session sharing dockerd 26 may pull the same
    image under its own name (its registry's port) between two reads, and the engine lists
    every name of an image."""
    return {**report, "image": {k: v for k, v in report["image"].items() if k != "tags"}}


def registry_name(host: str, tag: str) -> str:
    """Where a variant lives in the e2e registry: `HOST/e2e:<variant>-<recipe hash>`."""
    return f"{host}/e2e:{tag.rpartition(':')[2]}"


def push(tag: str, remote: str) -> None:
    """`docker push` the image under a temporary registry name (the name is removed again)."""
    _run(["docker", "tag", tag, remote], what=f"docker tag {tag}")
    try:
        _run(["docker", "push", "-q", remote], what=f"docker push {remote}")
    finally:
        _run(["docker", "rmi", remote], what=f"docker rmi {remote}")


def read_archive_config(archive: Path) -> Json:
    """The image config a `docker save` archive holds (manifest.json -> Config)."""
    with tarfile.open(archive) as tar:
        manifest_member = tar.extractfile("manifest.json")
        assert manifest_member is not None
        manifest = json.load(manifest_member)
        config_member = tar.extractfile(manifest[0]["Config"])
        assert config_member is not None
        config: Json = json.load(config_member)
    return config


def read_archive_layer_bytes(archive: Path) -> list[int]:
    """Bytes of the regular files each layer tar of a `docker save` archive stores, in
    rootfs order: a hardlink member stores no data, so every inode counts once per layer."""
    sizes: list[int] = []
    with tarfile.open(archive) as outer:
        manifest_member = outer.extractfile("manifest.json")
        assert manifest_member is not None
        manifest = json.load(manifest_member)
        for name in manifest[0]["Layers"]:
            blob = outer.extractfile(name)
            assert blob is not None
            with tarfile.open(fileobj=blob, mode="r|*") as layer:
                sizes.append(sum(m.size for m in layer if m.isreg()))
    return sizes


@dataclass
class Timing:
    what: str
    seconds: float


@dataclass
class E2E:
    """Lazily computed, session-wide results for every variant."""

    tags: dict[str, str]
    timings: list[Timing] = field(default_factory=list)
    _truth: dict[str, Json] = field(default_factory=dict)
    _reports: dict[tuple[str, str], Json] = field(default_factory=dict)
    _configs: dict[str, Json] = field(default_factory=dict)
    _layer_bytes: dict[str, list[int]] = field(default_factory=dict)
    _advice: dict[str, Json] = field(default_factory=dict)

    def _timed(self, what: str, start: float) -> None:
        self.timings.append(Timing(what, time.monotonic() - start))

    def truth(self, variant: str) -> Json:
        if variant not in self._truth:
            start = time.monotonic()
            self._truth[variant] = measure_truth(self.tags[variant])
            self._timed(f"truth {variant}", start)
        return self._truth[variant]

    def report(self, variant: str, source: str) -> Json:
        key = (variant, source)
        if key not in self._reports:
            tag = self.tags[variant]
            if source == "docker":
                start = time.monotonic()
                self._reports[key] = pyimgsize_json("inspect", f"docker:{tag}", "--no-cache")
                self._timed(f"inspect docker {variant}", start)
            elif source == "docker-export":
                start = time.monotonic()
                self._reports[key] = pyimgsize_json(
                    "inspect", f"docker:{tag}", env={**os.environ, "PYIMGSIZE_ENGINE_STORAGE": "0"}
                )
                self._timed(f"inspect docker export {variant}", start)
            elif source in ("docker-archive", "docker-archive-cached"):
                with tempfile.TemporaryDirectory(prefix="pyimgsize-e2e-") as tmp:
                    archive = Path(tmp) / f"{variant}.tar"
                    start = time.monotonic()
                    _run(["docker", "save", "-o", str(archive), tag], what=f"docker save {tag}")
                    self._timed(f"docker save {variant}", start)
                    start = time.monotonic()
                    ref = f"docker-archive:{archive}"
                    self._reports[(variant, "docker-archive")] = pyimgsize_json(
                        "inspect", ref, "--no-cache"
                    )
                    self._timed(f"inspect archive {variant}", start)
                    # once to fill the per-layer cache, once read from it
                    filled = pyimgsize_json("inspect", ref)
                    start = time.monotonic()
                    self._reports[(variant, "docker-archive-cached")] = pyimgsize_json(
                        "inspect", ref
                    )
                    self._timed(f"inspect archive from the layer cache {variant}", start)
                    assert filled == self._reports[(variant, "docker-archive-cached")]
                    self._configs[variant] = read_archive_config(archive)
                    start = time.monotonic()
                    self._layer_bytes[variant] = read_archive_layer_bytes(archive)
                    self._timed(f"layer tars {variant}", start)
            else:
                raise ValueError(f"unknown source {source!r}")
        return self._reports[key]

    def registry_report(self, variant: str, host: str) -> Json:
        """The report of the variant read through a registry (pushed there once per storage)."""
        key = (variant, "registry")
        if key not in self._reports:
            remote = registry_name(host, self.tags[variant])
            image_id = _run(
                ["docker", "image", "inspect", "--format", "{{.Id}}", self.tags[variant]],
                what=f"docker image inspect {self.tags[variant]}",
            ).strip()
            if not registry_has(remote, image_id):
                start = time.monotonic()
                push(self.tags[variant], remote)
                self._timed(f"docker push {variant}", start)
            start = time.monotonic()
            self._reports[key] = pyimgsize_json("inspect", f"registry:{remote}")
            self._timed(f"inspect registry {variant}", start)
        return self._reports[key]

    def containerd_report(self, variant: str, source: str, registry: str, engine: str) -> Json:
        """The variant pulled from the e2e registry into the containerd-store engine at
        `engine` (a DOCKER_HOST), read through that engine ("docker": its content store in
        place, "docker-export": its export, "docker-cached": the content store again, through
        the per-layer cache) or its `docker save` archive ("docker-archive")."""
        key = (variant, f"containerd-{source}")
        if key not in self._reports:
            self.registry_report(variant, registry)  # pushed there
            remote = registry_name(registry, self.tags[variant])
            env = {**os.environ, "DOCKER_HOST": engine}
            start = time.monotonic()
            _run(["docker", "pull", "-q", remote], what=f"docker pull {remote}", env=env)
            self._timed(f"containerd-store pull {variant}", start)
            try:
                start = time.monotonic()
                self._reports[(variant, "containerd-docker")] = pyimgsize_json(
                    "inspect", f"docker:{remote}", "--no-cache", env=env
                )
                self._timed(f"inspect containerd-store engine {variant}", start)
                start = time.monotonic()
                self._reports[(variant, "containerd-docker-export")] = pyimgsize_json(
                    "inspect", f"docker:{remote}", env={**env, "PYIMGSIZE_ENGINE_STORAGE": "0"}
                )
                self._timed(f"inspect containerd-store engine export {variant}", start)
                filled = pyimgsize_json("inspect", f"docker:{remote}", env=env)
                start = time.monotonic()
                self._reports[(variant, "containerd-docker-cached")] = pyimgsize_json(
                    "inspect", f"docker:{remote}", env=env
                )
                self._timed(
                    f"inspect containerd-store engine from the layer cache {variant}", start
                )
                assert untagged(filled) == untagged(
                    self._reports[(variant, "containerd-docker-cached")]
                )
                with tempfile.TemporaryDirectory(prefix="pyimgsize-e2e-") as tmp:
                    archive = Path(tmp) / f"{variant}.tar"
                    _run(
                        ["docker", "save", "-o", str(archive), remote], what="docker save", env=env
                    )
                    self._reports[(variant, "containerd-docker-archive")] = pyimgsize_json(
                        "inspect", f"docker-archive:{archive}"
                    )
            finally:
                # the registry port differs per session: pulled names would pile up
                _run(["docker", "rmi", remote], what=f"docker rmi {remote}", env=env)
        return self._reports[key]

    def config(self, variant: str) -> Json:
        """The image config (from the archive, saved for the archive report)."""
        if variant not in self._configs:
            self.report(variant, "docker-archive")
        return self._configs[variant]

    def advice(self, variant: str) -> Json:
        """The advise report, made from the engine report's suggestions as `api.advise` makes
        it (one image read per variant; test_advise_e2e.py runs the CLI itself on a few)."""
        if variant not in self._advice:
            from pyimgsize.report import AdviseReport, InspectReport

            report = InspectReport.model_validate(self.report(variant, "docker"))
            advice = AdviseReport.from_inspect(report).model_dump(mode="json")
            self._advice[variant] = advice
        return self._advice[variant]

    def layer_bytes(self, variant: str) -> list[int]:
        """Shipped (uncompressed) bytes per layer, from the archive's tars (not pyimgsize)."""
        if variant not in self._layer_bytes:
            self.report(variant, "docker-archive")
        return self._layer_bytes[variant]

    def layer_index(self, variant: str, needle: str) -> int:
        """Index (in rootfs.diff_ids) of the one layer whose instruction contains `needle`."""
        history = [h for h in self.config(variant)["history"] if not h.get("empty_layer")]
        hits = [i for i, h in enumerate(history) if needle in h.get("created_by", "")]
        assert len(hits) == 1, f"{variant}: layers whose instruction has {needle!r}: {hits}"
        return hits[0]

    def diff_ids(self, variant: str) -> list[str]:
        ids: list[str] = self.config(variant)["rootfs"]["diff_ids"]
        return ids
