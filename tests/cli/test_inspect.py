"""`pyimgsize inspect` through the real entry point (`cli.main`): formats, --output, the JSON
contract (validated against the committed schema), an image without Python, and every error:
one line on stderr starting `error: `, no traceback, nothing on stdout, the exit code of
design.md §5 (2 usage, 3 the image could not be read).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import zstandard

from conftest import Run  # the `run` fixture lives in tests/conftest.py
from fixtures import (
    File,
    Image,
    Layer,
    Whiteout,
    dist,
    write_docker_archive,
    write_oci_layout,
)
from pyimgsize import schema

SITE = "usr/local/lib/python3.11/site-packages"


def python_image() -> tuple[Image, dict[str, int]]:
    """A small Python image and the numbers its report must show."""
    six = dist(SITE, "six", "1.16.0", {"six.py": 34_000}, pyc_size=28_000)
    req = dist(
        SITE,
        "requests",
        "2.32.3",
        {"requests/__init__.py": 5_000, "requests/api.py": 6_000, "requests/cacert.pem": 9_000},
        installer="uv",
        pyc=False,
    )
    base = [
        File("usr/local/bin/python3.11", 15_000),
        File("usr/local/lib/python3.11/os.py", 39_000),
        File("etc/os-release", 300),
    ]
    layers = [
        Layer(base, created_by="ADD rootfs.tar /"),
        Layer(six, created_by="RUN pip install six"),
        Layer(
            [*req, File("root/.cache/pip/http-v2/x/y/blob", 4_000), File("tmp/junk", 700)],
            created_by="RUN uv pip install requests",
        ),
        Layer([Whiteout("tmp/junk")], created_by="RUN rm /tmp/junk"),
    ]
    six_bytes = sum(f.size for f in six)
    req_bytes = sum(f.size for f in req)
    stored = sum(f.size for f in base) + six_bytes + req_bytes + 4_000 + 700
    return Image("acme/app:1.0", layers), {
        "six": six_bytes,
        "requests": req_bytes,
        "layer_bytes": stored,
        "bytes": stored - 700,
        "dead": 700,
        "cache": 4_000,
    }


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    image, expected = python_image()
    path = tmp_path / "app.tar"
    write_docker_archive(path, image)
    return path, expected


def validator(name: str) -> jsonschema.protocols.Validator:
    document = json.loads(schema.schema_path(name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(document)


# --- success -------------------------------------------------------------------------------------


def test_json_report_validates_and_has_exact_numbers(
    archive: tuple[Path, dict[str, int]], run: Run
) -> None:
    path, expected = archive
    code, out, err = run("inspect", str(path), "--format", "json")
    assert (code, err) == (0, "")
    data: dict[str, Any] = json.loads(out)  # exactly one JSON document
    validator("inspect").validate(data)
    assert data["schema_version"] == "1"
    image = data["image"]
    assert (image["ref"], image["source"], image["platform"]) == (
        str(path),
        "docker-archive",
        "linux/amd64",
    )
    assert (image["bytes"], image["layer_bytes"]) == (expected["bytes"], expected["layer_bytes"])
    assert [(x["bytes"], x["dead_bytes"]) for x in data["layers"]] == [
        (54_300, 0),
        (expected["six"], 0),
        (expected["requests"] + 4_700, 700),
        (0, 0),
    ]
    assert data["layers"][2]["dead_categories"]["other"] == 700
    assert [layer["created_by"] for layer in data["layers"]] == [
        "ADD rootfs.tar /",
        "RUN pip install six",
        "RUN uv pip install requests",
        "RUN rm /tmp/junk",
    ]
    assert [layer["compressed_bytes"] for layer in data["layers"]] == [None] * 4
    assert [(p["name"], p["installer"], p["bytes"], p["layers"]) for p in data["packages"]] == [
        ("six", "pip", expected["six"], {"1": expected["six"]}),
        ("requests", "uv", expected["requests"], {"2": expected["requests"]}),
    ]
    assert data["totals"]["dead_bytes"] == expected["dead"]
    assert data["totals"]["cache_bytes"] == expected["cache"]
    assert data["totals"]["python_bytes"] == expected["six"] + expected["requests"]
    assert [(c["path"], c["kind"], c["bytes"]) for c in data["caches"]] == [
        ("/root/.cache/pip", "pip", 4_000)
    ]


def test_json_of_every_source_validates(tmp_path: Path, run: Run) -> None:
    image, _ = python_image()
    write_oci_layout(tmp_path / "layout", image, compression="zstd")
    write_docker_archive(tmp_path / "c.tar.gz", image, layout="oci", compression="gzip")
    check = validator("inspect")
    for ref in (f"oci:{tmp_path / 'layout'}", str(tmp_path / "c.tar.gz")):
        code, out, err = run("inspect", ref, "-f", "json")
        assert (code, err) == (0, ""), ref
        data = json.loads(out)
        check.validate(data)
        assert all(isinstance(x["compressed_bytes"], int) for x in data["layers"])


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_output_file(
    archive: tuple[Path, dict[str, int]], run: Run, tmp_path: Path, fmt: str
) -> None:
    path, _ = archive
    code, stdout_text, err = run("inspect", str(path), "--format", fmt)
    assert (code, err) == (0, "")
    target = tmp_path / f"report.{fmt}"
    code, out, err = run("inspect", str(path), "--format", fmt, "--output", str(target))
    assert (code, out, err) == (0, "", "")
    assert target.read_text(encoding="utf-8") == stdout_text
    assert stdout_text.endswith("\n")


def test_table_is_the_default(archive: tuple[Path, dict[str, int]], run: Run) -> None:
    path, _ = archive
    code, out, err = run("inspect", str(path))
    assert (code, err) == (0, "")
    assert out.startswith(f"Image {path}\n")
    assert "six" in out
    assert "requests" in out
    assert not out.lstrip().startswith("{")


def test_markdown(archive: tuple[Path, dict[str, int]], run: Run) -> None:
    path, _ = archive
    code, out, err = run("inspect", str(path), "-f", "markdown")
    assert (code, err) == (0, "")
    assert "|" in out
    assert "requests" in out


def test_image_without_python(tmp_path: Path, run: Run) -> None:
    path = tmp_path / "busybox.tar"
    write_docker_archive(path, Image("busybox:1", [Layer([File("bin/busybox", 1_000)])]))
    code, out, err = run("inspect", str(path))
    assert (code, err) == (0, "")
    assert "No Python found in this image" in out
    code, out, err = run("inspect", str(path), "-f", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    validator("inspect").validate(data)
    assert data["python_found"] is False
    assert (data["packages"], data["site_packages"], data["caches"]) == ([], [], [])
    assert data["totals"] == {
        "python_bytes": 0,
        "bytecode_bytes": 0,
        "cache_bytes": 0,
        "dead_bytes": 0,
    }
    assert (data["image"]["bytes"], data["image"]["layer_bytes"]) == (1_000, 1_000)
    assert [p["message"] for p in data["problems"]] == [
        "no Python site-packages or distributions found in this image"
    ]


def test_image_selection_and_platform(tmp_path: Path, run: Run) -> None:
    a = Image("acme/a:1", [Layer([File("a", 10)])])
    b = Image("acme/b:2", [Layer([File("b", 20)])])
    write_docker_archive(tmp_path / "multi.tar", [a, b])
    code, out, err = run(
        "inspect", str(tmp_path / "multi.tar"), "--image", "acme/b:2", "-f", "json"
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["image"]["bytes"] == 20

    amd = Image("acme/mp:1", [Layer([File("amd", 10)])])
    arm = Image("acme/mp:1", [Layer([File("arm", 20)])], architecture="arm64", variant="v8")
    write_oci_layout(tmp_path / "mp", platforms=[amd, arm], attestations=True)
    code, out, err = run(
        "inspect", f"oci:{tmp_path / 'mp'}", "--platform", "linux/arm64", "-f", "json"
    )
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["image"]["platform"], data["image"]["bytes"]) == ("linux/arm64/v8", 20)


def test_reading_from_a_pipe(archive: tuple[Path, dict[str, int]]) -> None:
    path, expected = archive
    with path.open("rb") as fh:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pyimgsize",
                "inspect",
                "docker-archive:/dev/stdin",
                "-f",
                "json",
            ],
            stdin=fh,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["image"]["bytes"] == expected["bytes"]


# --- errors ---------------------------------------------------------------------------------------


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _corrupt_gzip(blob: bytes) -> bytes:
    b = bytearray(blob)
    b[-6] ^= 0xFF  # the CRC32
    return bytes(b)


def _corrupt_zstd(blob: bytes) -> bytes:
    b = bytearray(blob)
    b[4] |= 0x08  # a reserved bit of the frame header descriptor
    return bytes(b)


def _two_layer_image(second: Layer) -> Image:
    return Image("acme/broken:1", [Layer([File("base", 10)]), second])


def _mid_layer(damage: str) -> bytes:
    tar = bytearray(Layer([File("a", 3000), File("b", 2000), File("c", 100)], auto_dirs=False).tar)
    second = 512 + 3072
    if damage == "checksum":
        tar[second] = ord("X")
    else:
        tar[second : second + 512] = bytes(512)
    return bytes(tar)


def write_case(tmp_path: Path, case: str) -> list[str]:
    """The arguments of `pyimgsize inspect` for one broken input."""
    good = _two_layer_image(Layer([File("x", 5000)]))
    if case == "truncated-archive":
        path = tmp_path / "a.tar"
        write_docker_archive(path, good)
        path.write_bytes(_truncated(path.read_bytes()))
        return [str(path)]
    if case == "truncated-gzip-archive":
        path = tmp_path / "a.tar.gz"
        write_docker_archive(path, good, outer_gzip=True)
        path.write_bytes(path.read_bytes()[:-50])
        return [str(path)]
    if case == "truncated-layer":
        path = tmp_path / "a.tar"
        write_docker_archive(
            path, _two_layer_image(Layer(raw=_truncated(Layer([File("x", 5000)]).tar)))
        )
        return [str(path)]
    if case in ("bad-checksum-mid-layer", "zero-block-mid-layer"):
        damage = "checksum" if case == "bad-checksum-mid-layer" else "zero"
        path = tmp_path / "a.tar"
        write_docker_archive(path, _two_layer_image(Layer(raw=_mid_layer(damage))))
        return [str(path)]
    if case in ("corrupt-gzip-layer", "corrupt-zstd-layer"):
        gz = case == "corrupt-gzip-layer"
        info = write_oci_layout(tmp_path / "layout", good, compression="gzip" if gz else "zstd")
        blob = tmp_path / "layout" / info.image.layers[1].path
        blob.write_bytes((_corrupt_gzip if gz else _corrupt_zstd)(blob.read_bytes()))
        return [f"oci:{tmp_path / 'layout'}"]
    if case == "missing-blob":
        info = write_oci_layout(tmp_path / "layout", good)
        (tmp_path / "layout" / info.image.layers[1].path).unlink()
        return [f"oci:{tmp_path / 'layout'}"]
    if case == "unsupported-media-type":
        info = write_oci_layout(tmp_path / "layout", good)
        manifest_path = (
            tmp_path
            / "layout"
            / "blobs"
            / "sha256"
            / ((info.image.manifest_digest or "").removeprefix("sha256:"))
        )
        manifest = json.loads(manifest_path.read_text())
        manifest["layers"][0]["mediaType"] = "application/vnd.example.squashfs"
        manifest_path.write_text(json.dumps(manifest))
        return [f"oci:{tmp_path / 'layout'}"]
    if case == "not-an-archive":
        (tmp_path / "notes.txt").write_text("hello\n" * 200)
        return [str(tmp_path / "notes.txt")]
    if case == "empty-file":
        (tmp_path / "empty.tar").write_bytes(b"")
        return [f"docker-archive:{tmp_path / 'empty.tar'}"]
    if case == "nonexistent-path":
        return [str(tmp_path / "no" / "such.tar")]
    if case == "nonexistent-archive":
        return [f"docker-archive:{tmp_path / 'missing.tar'}"]
    if case == "not-a-layout-dir":
        (tmp_path / "dir").mkdir()
        return [f"oci:{tmp_path / 'dir'}"]
    if case == "multi-image":
        write_docker_archive(
            tmp_path / "m.tar",
            [
                Image("acme/a:1", [Layer([File("a", 1)])]),
                Image("acme/b:2", [Layer([File("b", 2)])]),
            ],
        )
        return [str(tmp_path / "m.tar")]
    if case == "no-such-image-in-archive":
        write_docker_archive(tmp_path / "a.tar", good)
        return [str(tmp_path / "a.tar"), "--image", "acme/other"]
    if case == "no-such-platform":
        write_oci_layout(tmp_path / "layout", good)
        return [f"oci:{tmp_path / 'layout'}", "--platform", "linux/s390x"]
    if case == "image-with-docker-ref":
        return ["docker:acme/app:1.0", "--image", "x"]
    if case == "bad-platform-syntax":
        write_docker_archive(tmp_path / "a.tar", good)
        return [str(tmp_path / "a.tar"), "--platform", "amd64"]
    if case == "output-in-missing-dir":
        write_docker_archive(tmp_path / "a.tar", good)
        return [str(tmp_path / "a.tar"), "--output", str(tmp_path / "no" / "dir" / "r.json")]
    raise AssertionError(case)


ERRORS: list[tuple[str, int, str]] = [
    ("truncated-archive", 3, "truncated"),
    ("truncated-gzip-archive", 3, "gzip data is corrupt or truncated"),
    ("truncated-layer", 3, r"layer 1 \(sha256:[0-9a-f]{12}\): truncated"),
    ("bad-checksum-mid-layer", 3, r"layer 1 \(sha256:[0-9a-f]{12}\): bad tar header checksum"),
    ("zero-block-mid-layer", 3, r"layer 1 \(sha256:[0-9a-f]{12}\): zero block in mid-archive"),
    ("corrupt-gzip-layer", 3, r"layer 1 \(sha256:[0-9a-f]{12}\): gzip data is corrupt"),
    ("corrupt-zstd-layer", 3, r"layer 1 \(sha256:[0-9a-f]{12}\): zstd data is corrupt"),
    ("missing-blob", 3, r"blob blobs/sha256/[0-9a-f]{64} is missing \(layer 1 "),
    ("unsupported-media-type", 3, "unsupported layer media type"),
    ("not-an-archive", 3, "not a docker save archive or OCI layout"),
    ("empty-file", 3, "empty file"),
    ("nonexistent-path", 3, r"such\.tar: no such file or directory"),
    ("nonexistent-archive", 3, r"missing\.tar: no such file or directory"),
    ("not-a-layout-dir", 3, "not an OCI image layout"),
    ("multi-image", 2, r"holds 2 images; choose one with --image NAME .*acme/a:1.*acme/b:2"),
    ("no-such-image-in-archive", 2, "no image named 'acme/other'"),
    ("no-such-platform", 2, "no image for platform linux/s390x"),
    ("image-with-docker-ref", 2, "--image selects from an archive or layout"),
    ("bad-platform-syntax", 2, "--platform 'amd64': expected os/arch"),
    ("output-in-missing-dir", 2, "cannot write --output"),
]


def assert_one_error_line(out: str, err: str, pattern: str) -> None:
    import re

    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert re.search(pattern, lines[0]), lines[0]


@pytest.mark.parametrize(("case", "code", "pattern"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(tmp_path: Path, run: Run, case: str, code: int, pattern: str) -> None:
    args = write_case(tmp_path, case)
    got, out, err = run("inspect", *args)
    assert got == code, err
    assert_one_error_line(out, err, pattern)


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_errors_print_nothing_on_stdout_in_any_format(tmp_path: Path, run: Run, fmt: str) -> None:
    args = write_case(tmp_path, "bad-checksum-mid-layer")
    got, out, err = run("inspect", *args, "--format", fmt)
    assert got == 3
    assert_one_error_line(out, err, "bad tar header checksum")


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--format", "xml"], "'xml' is not one of"),
        (["--top", "0"], "--top"),
        (["--sort", "size"], "--sort"),
        (["--no-such-flag"], "No such option"),
        (["-f"], "requires an argument"),
        (["--output", "/"], "is a directory"),
    ],
)
def test_bad_flags(
    archive: tuple[Path, dict[str, int]], run: Run, args: list[str], pattern: str
) -> None:
    path, _ = archive
    got, out, err = run("inspect", str(path), *args)
    assert got == 2
    assert_one_error_line(out, err, pattern)


def test_missing_image_argument(run: Run) -> None:
    got, out, err = run("inspect")
    assert got == 2
    assert_one_error_line(out, err, "Missing argument 'IMAGE'")


def test_unknown_command(run: Run) -> None:
    got, out, err = run("inspekt", "x")
    assert got == 2
    assert_one_error_line(out, err, "No such command 'inspekt'")


def test_engine_unreachable(monkeypatch: pytest.MonkeyPatch, run: Run, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-docker.sock'}")
    got, out, err = run("inspect", "docker:acme/app:1.0")
    assert got == 3
    assert_one_error_line(out, err, "cannot reach the Docker engine")


def test_debug_shows_the_traceback(tmp_path: Path, run: Run) -> None:
    args = write_case(tmp_path, "truncated-layer")
    got, out, err = run("--debug", "inspect", *args)
    assert (got, out) == (3, "")
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("error: layer 1 (sha256:")


def test_entry_point_process(tmp_path: Path) -> None:
    args = write_case(tmp_path, "zero-block-mid-layer")
    done = subprocess.run(
        [sys.executable, "-m", "pyimgsize", "inspect", *args, "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (3, "")
    assert_one_error_line(done.stdout, done.stderr, "zero block in mid-archive")


def test_corrupt_blobs_are_detected_by_their_sniffed_kind(tmp_path: Path, run: Run) -> None:
    # the media type says gzip, the blob is zstd: sniffing decides, the damage is found
    good = _two_layer_image(Layer([File("x", 5000)]))
    info = write_oci_layout(tmp_path / "layout", good, compression="gzip")
    blob = tmp_path / "layout" / info.image.layers[1].path
    tar = gzip.decompress(blob.read_bytes())
    blob.write_bytes(_corrupt_zstd(zstandard.ZstdCompressor().compress(tar)))
    got, out, err = run("inspect", f"oci:{tmp_path / 'layout'}")
    assert got == 3
    assert_one_error_line(out, err, "zstd data is corrupt")
