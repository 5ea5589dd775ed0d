"""`inspect` through a real Docker engine: the engine source gives the same report as a
`docker save` archive of the same image, with the expected numbers; and its errors.

Images are tagged `pyimgsize-test/...` and removed at the end of the session (conftest).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from conftest import config_digest, expected_read_via, register_test_image, unique_tag
from fixtures import (
    Entry,
    File,
    Hardlink,
    Image,
    Layer,
    Opaque,
    Symlink,
    Whiteout,
    dist,
    write_docker_archive,
)
from fixtures.python import pyc_path
from pyimgsize.api import inspect
from pyimgsize.report import InspectReport
from tests.pyimages import ZERO, add, cache, cats, dead, norm, package, site_packages, size

SITE = "opt/venv/lib/python3.11/site-packages"
# What a saved archive and the engine may legitimately disagree on: how the image was named and
# read (the engine's layer storage in place where it is readable, as here: root, overlay2).
SOURCE_FIELDS = {"image": {"ref", "source", "read_via"}}


def save(engine: Any, ref: str, path: Path) -> Path:
    """`docker save` through the SDK, streamed to `path`."""
    with path.open("wb") as fh:
        for chunk in engine.images.get(ref).save(named=False):
            fh.write(chunk)
    return path


def assert_same_report(from_engine: InspectReport, from_archive: InspectReport) -> None:
    assert from_engine.image.source == "docker"
    assert from_engine.image.read_via == expected_read_via(docker.from_env())
    assert from_archive.image.source == "docker-archive"
    engine_dump = from_engine.model_dump(exclude=SOURCE_FIELDS)
    archive_dump = from_archive.model_dump(exclude=SOURCE_FIELDS)
    # a save by ID carries no RepoTags; the engine knows the tags
    engine_dump["image"].pop("tags")
    archive_dump["image"].pop("tags")
    assert engine_dump == archive_dump


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyimgsize", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


# --- docker load of a generated image ---------------------------------------------------------


def generated_image(tag: str) -> tuple[Image, list[File], list[File]]:
    scaffold: list[Entry] = [
        File("opt/venv/pyvenv.cfg", data=b"home = /usr/local/bin\n"),
        Symlink("opt/venv/lib64", "lib"),
        File("usr/local/bin/python3.11", size=4000),
        File("usr/local/lib/python3.11/os.py", size=300),
    ]
    numpy = dist(
        SITE,
        "numpy",
        "1.26.4",
        {
            "numpy.libs/libopenblas.so.0": 30_000,
            "numpy/__init__.py": 1200,
            "numpy/core/_umath.cpython-311-x86_64-linux-gnu.so": 50_000,
        },
        scripts={"bin/f2py": 221},
    )
    attrs = dist(SITE, "attrs", "23.2.0", {"attrs/__init__.py": 3000}, installer="uv", pyc=False)
    attrs_pyc = File(pyc_path(f"{SITE}/attrs/__init__.py"), size=2100)
    linked_cache = Hardlink("root/.cache/uv/archive-v0/x/attrs/__init__.py", attrs[0].path)
    assert attrs[0].path.endswith("attrs/__init__.py")
    pip_cache = [File("root/.cache/pip/http-v2/a/b", size=50_000)]
    image = Image(
        name=tag,
        env=["PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin"],
        layers=[
            Layer(scaffold, created_by="base"),
            Layer([*numpy, *pip_cache], created_by="pip install numpy"),
            Layer([*attrs, linked_cache], created_by="uv pip install attrs"),
            Layer([Whiteout("root/.cache/pip"), attrs_pyc], created_by="compile; rm pip cache"),
            Layer(
                [Opaque("opt/venv/lib/python3.11/site-packages/numpy.libs")],
                created_by="opaque",
            ),
        ],
    )
    return image, numpy, attrs


@pytest.mark.engine
def test_docker_load_of_a_generated_image_matches_its_archive(engine: Any, tmp_path: Path) -> None:
    tag = register_test_image(unique_tag("inspect-load"))
    image, numpy, attrs = generated_image(tag)
    archive = tmp_path / "generated.tar"
    info = write_docker_archive(archive, image)
    loaded = engine.images.load(archive.read_bytes())
    assert [config_digest(engine, i.id) for i in loaded] == [info.image.id]

    from_engine = inspect(f"docker:{tag}")
    from_archive = inspect(str(archive))
    assert (from_engine.image.ref, from_archive.image.ref) == (f"docker:{tag}", str(archive))
    assert_same_report(from_engine, from_archive)
    assert from_engine.image.id == info.image.id
    assert [layer.diff_id for layer in from_engine.layers] == list(info.image.diff_ids)
    assert tag in from_engine.image.tags
    # by image ID too (the containerd store's ID names the manifest, not the config)
    engine_id = engine.api.inspect_image(tag)["Id"]
    assert_same_report(inspect(f"docker:{engine_id}"), from_archive)

    r = from_engine
    libs = size(numpy, lambda f: "/numpy.libs/" in f.path)
    assert package(r, "numpy").bytes == size(numpy) - libs
    assert r.layers[1].dead_categories.model_dump() == dead(cache=50_000, native=libs)
    attrs_pkg = package(r, "attrs")
    assert attrs_pkg.bytes == size(attrs) + 2100
    assert attrs_pkg.layers == {"2": size(attrs), "3": 2100}
    c = cache(r, "root/.cache/uv")
    assert (c.bytes, c.exclusive_bytes) == (3000, 0)
    assert r.totals.dead_bytes == 50_000 + libs


# --- docker build on the busybox base ---------------------------------------------------------

BUILD_DOCKERFILE = """\
FROM {base}
COPY venv/ /opt/venv/
RUN ln -s lib /opt/venv/lib64
RUN mkdir -p /root/.cache/pip/http-v2/a \\
 && head -c 50000 /dev/zero > /root/.cache/pip/http-v2/a/body \\
 && head -c 3000 /dev/zero > /root/.cache/pip/selfcheck.json
RUN mkdir -p /root/.cache/uv/archive-v0/abc/pkg /root/.cache/uv/wheels-v5 \\
 && head -c 9000 /dev/zero > {site}/pkg/gen.dat \\
 && ln {site}/pkg/gen.dat /root/.cache/uv/archive-v0/abc/pkg/gen.dat \\
 && head -c 700 /dev/zero > /root/.cache/uv/wheels-v5/pkg.msgpack
RUN rm -rf /root/.cache/pip
"""


@pytest.mark.engine
def test_docker_build_matches_docker_save_with_the_expected_numbers(
    engine: Any, busybox_base: str, docker_build: Callable[..., str], tmp_path: Path
) -> None:
    ctx_site = "venv/lib/python3.11/site-packages"
    pkg = dist(
        ctx_site,
        "pkg",
        "1.0",
        {"pkg/__init__.py": 1500, "pkg/_speedups.so": 20_000, "pkg/table.csv": 800},
        extra_record_rows=["pkg/gen.dat,,"],  # written by a later RUN
        scripts={"bin/pkg": 120},
    )
    unowned = [File(f"{ctx_site}/_virtualenv.pth", size=18)]
    cfg = File("venv/pyvenv.cfg", data=b"home = /usr/local/bin\nversion = 3.11.7\n")
    context = {f.path: f.content for f in [*pkg, *unowned, cfg]}
    site = SITE
    image_id = docker_build(
        BUILD_DOCKERFILE.format(base=busybox_base, site=f"/{site}"), context, name="inspect-build"
    )

    from_engine = inspect(f"docker:{image_id}")
    from_archive = inspect(str(save(engine, image_id, tmp_path / "saved.tar")))
    assert_same_report(from_engine, from_archive)
    r = from_engine
    assert r.image.id == config_digest(engine, image_id)

    base_layers = len(engine.images.get(busybox_base).attrs["RootFS"]["Layers"])
    copy, lib64, pip_layer, uv_layer, rm = range(base_layers, base_layers + 5)
    assert len(r.layers) == base_layers + 5
    assert "rm -rf /root/.cache/pip" in (r.layers[rm].created_by or "")

    p = package(r, "pkg")
    assert (p.version, p.installer, p.site_packages) == ("1.0", "pip", norm(site))
    assert p.bytes == size(pkg) + 9000
    assert p.files == len(pkg) + 1
    assert p.categories.model_dump() == add(cats(pkg), {"data": 9000})
    assert p.layers == {str(copy): size(pkg), str(uv_layer): 9000}

    sp = site_packages(r, site)
    assert [s.path for s in r.site_packages] == [norm(site)]  # lib64 -> lib: once
    assert sp.kind == "venv"
    in_site = size(pkg, lambda f: f.path.startswith(f"{ctx_site}/"))
    assert (sp.bytes, sp.unowned_bytes) == (in_site + 9000 + 18, 18)

    c = cache(r, "root/.cache/uv")
    assert (c.kind, c.bytes, c.exclusive_bytes, c.files) == ("uv", 9700, 700, 2)
    assert [x.path for x in r.caches] == ["/root/.cache/uv"]
    assert r.totals.cache_bytes == 9700

    assert r.totals.python_bytes == size(pkg) + 9000 + 18
    assert r.layers[copy].bytes == size([*pkg, *unowned, cfg])
    assert r.layers[copy].python_bytes == size(pkg) + 18
    assert r.layers[copy].categories.model_dump() == add(cats(pkg), {"data": 18})
    assert r.layers[lib64].bytes == 0
    assert r.layers[uv_layer].bytes == 9700
    assert r.layers[uv_layer].python_bytes == 9000
    assert r.layers[uv_layer].categories.model_dump() == add(ZERO, {"data": 9000})
    assert r.layers[pip_layer].bytes == 53_000
    assert r.layers[pip_layer].dead_bytes == 53_000
    assert r.layers[pip_layer].dead_categories.model_dump() == dead(cache=53_000)
    assert r.totals.dead_bytes == 53_000
    assert r.image.layer_bytes - r.image.bytes == 53_000
    assert r.problems == []


HARDLINK_DOCKERFILE = """\
FROM {base}
COPY venv/ /opt/venv/
RUN mkdir -p /root/.cache/uv/archive-v0/abc/pkg /root/.cache/uv/wheels-v5 \\
 && ln {site}/pkg/big.dat /root/.cache/uv/archive-v0/abc/pkg/big.dat \\
 && head -c 700 /dev/zero > /root/.cache/uv/wheels-v5/pkg.msgpack
"""


@pytest.mark.engine
def test_hardlink_to_a_lower_layer_file_copies_it_up(
    engine: Any, busybox_base: str, docker_build: Callable[..., str], tmp_path: Path
) -> None:
    """Linking a file of a lower layer makes overlay2 copy it up: the new layer stores it again,
    the lower copy is dead, and the distribution's bytes move to the new layer."""
    ctx_site = "venv/lib/python3.11/site-packages"
    pkg = dist(ctx_site, "pkg", "1.0", {"pkg/__init__.py": 100, "pkg/big.dat": 25_000})
    context = {f.path: f.content for f in pkg}
    image_id = docker_build(
        HARDLINK_DOCKERFILE.format(base=busybox_base, site=f"/{SITE}"), context, name="inspect-ln"
    )
    from_engine = inspect(f"docker:{image_id}")
    from_archive = inspect(str(save(engine, image_id, tmp_path / "saved.tar")))
    assert_same_report(from_engine, from_archive)
    r = from_engine
    copy, link = len(r.layers) - 2, len(r.layers) - 1

    p = package(r, "pkg")
    assert p.bytes == size(pkg)
    assert p.layers == {str(copy): size(pkg) - 25_000, str(link): 25_000}
    assert r.layers[copy].dead_categories.model_dump() == dead(data=25_000)
    assert r.layers[link].bytes == 25_700
    c = cache(r, "root/.cache/uv")
    assert (c.bytes, c.exclusive_bytes) == (25_700, 700)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.engine
def test_missing_image_is_exit_3_with_one_line(engine: Any) -> None:
    ref = f"docker:{unique_tag('does-not-exist')}"
    result = cli("inspect", ref)
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert ref.removeprefix("docker:") in lines[0]


def test_unreachable_engine_says_how_to_save_and_inspect_the_archive(tmp_path: Path) -> None:
    result = cli(
        "inspect",
        "docker:pyimgsize-test/anything:1",
        env={"DOCKER_HOST": "unix:///nonexistent.sock", "DOCKER_CONTEXT": ""},
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "docker save pyimgsize-test/anything:1" in lines[0]
    assert "pyimgsize inspect image.tar" in lines[0]
