"""Concurrency: two `pyimgsize` processes reading the same image at once both give the exact
numbers (the same report as one run alone), from an archive, a layout and the engine.

The per-layer result cache (layers/cache.py) is shared: `test_two_runs_share_a_fresh_cache`
starts both processes on one empty cache directory (both write the same entries at once), then
again on the filled one (both read); every report is the exact one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import register_test_image, unique_tag
from fixtures import File, Image, Layer, Whiteout, dist, write_docker_archive, write_oci_layout
from pyimgsize.api import inspect

SITE = "usr/lib/python3.11/site-packages"


def _image(name: str) -> Image:
    big = {f"pkg/m{i:03d}.py": 300 + i for i in range(200)}
    return Image(
        name,
        [
            Layer([File(f"usr/bin/tool{i}", 1000) for i in range(50)], created_by="base"),
            Layer(dist(SITE, "pkg", "1.0", big), created_by="pip install pkg"),
            Layer([Whiteout("usr/bin/tool7"), File("usr/bin/tool8", 5)], created_by="rm"),
        ],
    )


def _both_at_once(ref: str, cwd: Path, cache: Path | None = None) -> list[dict[str, Any]]:
    """`inspect REF --format json` twice, started together (on one cache directory when
    `cache` is given); both reports."""
    env = dict(os.environ)
    if cache is not None:
        env["PYIMGSIZE_CACHE_DIR"] = str(cache)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pyimgsize", "inspect", ref, "--format", "json"],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for _ in range(2)
    ]
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        assert err == b""
        reports.append(json.loads(out))
    return reports


@pytest.mark.parametrize("kind", ["docker-archive", "oci-dir", "docker-archive-gzip"])
def test_two_runs_on_one_file_at_once(tmp_path: Path, kind: str) -> None:
    image = _image("concurrent/file:1")
    if kind == "oci-dir":
        path = tmp_path / "layout"
        write_oci_layout(path, image, compression="gzip")
        ref = f"oci:{path}"
    else:
        path = tmp_path / "image.tar"
        write_docker_archive(path, image, outer_gzip=kind.endswith("gzip"))
        ref = f"docker-archive:{path}"
    alone = json.loads(inspect(ref).model_dump_json())
    first, second = _both_at_once(ref, tmp_path)
    assert first == alone
    assert second == alone
    assert alone["packages"][0]["bytes"] > 0


@pytest.mark.engine
def test_two_runs_on_one_engine_image_at_once(engine: Any, tmp_path: Path) -> None:
    tag = register_test_image(unique_tag("concurrent"))
    path = tmp_path / "image.tar"
    write_docker_archive(path, _image(tag))
    engine.images.load(path.read_bytes())
    alone = json.loads(inspect(f"docker:{tag}").model_dump_json())
    first, second = _both_at_once(f"docker:{tag}", tmp_path)
    assert first == alone
    assert second == alone
    assert [layer["bytes"] for layer in alone["layers"]] == [
        sum(f.size for f in layer.entries if isinstance(f, File)) for layer in _image(tag).layers
    ]


def test_two_runs_share_a_fresh_cache(tmp_path: Path) -> None:
    image = _image("concurrent/cache:1")
    path = tmp_path / "layout"
    write_oci_layout(path, image, compression="gzip")
    ref = f"oci:{path}"
    alone = json.loads(inspect(ref).model_dump_json())
    cache = tmp_path / "cache"
    for _ in range(2):  # both write the entries at once, then both read them
        first, second = _both_at_once(ref, tmp_path, cache)
        assert first == alone
        assert second == alone
    assert any(cache.rglob("*")), "the runs used the cache"
