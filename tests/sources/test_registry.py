"""The registry source against real registries on loopback (Debian's docker-registry).

One storage directory is served by three registries: plain HTTP, TLS with htpasswd Basic auth
(a CA made here, trusted through a certs.d directory), and token auth (the token service from
tests/registries.py). Images are pushed once, blob for blob, from layouts the fixtures write;
every report read through a registry must equal the report of the layout it was pushed from,
compressed sizes included. Bad input is one line, exit 3, with no secret in it.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import Run
from fixtures import File, Image, Layer, write_docker_archive, write_oci_layout
from pyimgsize.api import inspect
from pyimgsize.errors import CorruptLayer, UsageError
from pyimgsize.report import InspectReport
from pyimgsize.sources.registry_ref import is_loopback, parse_reference
from tests.registries import (
    FaultProxy,
    Registry,
    TestCA,
    TokenIssuer,
    basic_entry,
    corrupt_blob,
    docker_config,
    htpasswd_file,
    push_layout,
    require_tools,
    start_registry,
)
from tests.sources.test_sources import check_reference, comparable, reference_image

USER, PASSWORD = "reader", "s3cret-Pa55word"
IDENTITY_TOKEN = "identity-0123456789abcdef"


@dataclass
class World:
    tmp: Path
    storage: Path
    plain: Registry
    tls: Registry
    token: Registry
    ca: TestCA
    issuer: TokenIssuer
    layouts: dict[str, Path]
    digests: dict[str, str]


def _platform_images() -> list[Image]:
    return [
        Image("multi:1", [Layer([File("amd64-only", 1000)])], architecture="amd64"),
        Image("multi:1", [Layer([File("arm64-only", 2000)])], architecture="arm64", variant="v8"),
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require_tools("docker-registry", "openssl", "htpasswd")
    tmp = tmp_path_factory.mktemp("registries")
    storage = tmp / "storage"
    ca = TestCA.make(tmp / "ca")
    issuer = TokenIssuer(tmp / "issuer", {USER: PASSWORD}, {IDENTITY_TOKEN: USER})
    issuer.start()
    started: list[Registry] = []
    try:
        plain = start_registry(tmp / "plain", storage)
        started.append(plain)
        tls = start_registry(
            tmp / "tls", storage, tls=ca, htpasswd=htpasswd_file(tmp / "htpasswd", USER, PASSWORD)
        )
        started.append(tls)
        token = start_registry(tmp / "token", storage, token=(issuer.realm, issuer.bundle))
        started.append(token)
        layouts: dict[str, Path] = {}
        digests: dict[str, str] = {}
        for compression in ("none", "gzip", "zstd"):
            path = tmp / f"layout-{compression}"
            write_oci_layout(path, reference_image(), compression=compression)
            layouts[compression] = path
            digests[compression] = push_layout(plain.host, path, f"acme/{compression}", "1")
        path = tmp / "layout-public"
        write_oci_layout(path, reference_image("public/app:1"), compression="gzip")
        push_layout(plain.host, path, "public/app", "1")
        path = tmp / "layout-multi"
        write_oci_layout(path, platforms=_platform_images(), attestations=True, compression="gzip")
        layouts["multi"] = path
        digests["multi"] = push_layout(plain.host, path, "multi", "1")
        for kind in ("none", "gzip"):
            path = tmp / f"layout-corrupt-{kind}"
            image = Image(f"corrupt/{kind}:1", [Layer([File(f"only-here-{kind}", 50_000)])])
            info = write_oci_layout(path, image, compression=kind)
            push_layout(plain.host, path, f"corrupt/{kind}", "1")
            corrupt_blob(storage, info.image.layers[0].digest)
        yield World(tmp, storage, plain, tls, token, ca, issuer, layouts, digests)
    finally:
        for registry in reversed(started):
            registry.stop()
        issuer.stop()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No docker config and no certs.d of this machine: each test says what it has."""
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config(tmp_path / "no-docker-config", {})))
    monkeypatch.setenv("PYIMGSIZE_CERTS_D", str(tmp_path / "no-certs.d"))


def same(report: InspectReport) -> dict[str, Any]:
    """`comparable`, without the image's tags (a registry knows the name it was read by)."""
    data = comparable(report)
    del data["image"]["tags"]
    return data


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def _no_secrets(text: str) -> None:
    assert PASSWORD not in text
    assert IDENTITY_TOKEN not in text
    assert "eyJ" not in text  # any JWT
    assert "Basic " not in text
    assert "Bearer " not in text


# --- references -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "repository", "tag", "digest"),
    [
        ("python:3.12-slim", "docker.io", "library/python", "3.12-slim", None),
        ("python", "docker.io", "library/python", "latest", None),
        ("docker.io/library/python:3", "docker.io", "library/python", "3", None),
        ("index.docker.io/acme/app", "docker.io", "acme/app", "latest", None),
        ("acme/app:1", "docker.io", "acme/app", "1", None),
        ("localhost/app", "localhost", "app", "latest", None),
        ("127.0.0.1:5000/a/b/c:v1.2", "127.0.0.1:5000", "a/b/c", "v1.2", None),
        ("ghcr.io/o/app@sha256:" + "a" * 64, "ghcr.io", "o/app", None, "sha256:" + "a" * 64),
        ("ghcr.io/o/app:1@sha256:" + "b" * 64, "ghcr.io", "o/app", "1", "sha256:" + "b" * 64),
    ],
)
def test_references_as_docker_reads_them(
    text: str, host: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert (ref.host, ref.repository, ref.tag, ref.digest) == (host, repository, tag, digest)
    assert ref.api_host == ("registry-1.docker.io" if host == "docker.io" else host)


@pytest.mark.parametrize(
    "text", ["Python:3", "app:bad tag", "app@sha256:123", "a//b", "", "host:99/UPPER"]
)
def test_bad_references(text: str) -> None:
    with pytest.raises(UsageError):
        parse_reference(text)


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1:5000")
    assert is_loopback("localhost:5000")
    assert is_loopback("[::1]:5000")
    assert not is_loopback("10.0.0.1:5000")
    assert not is_loopback("registry.example")


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_registry_report_equals_the_pushed_layout(world: World, compression: str) -> None:
    ref = f"{world.plain.host}/acme/{compression}:1"
    report = inspect(f"registry:{ref}")
    layout = inspect(f"oci:{world.layouts[compression]}")
    check_reference(layout)
    assert same(report) == same(layout)
    assert report.image.source == "registry"
    assert report.image.ref == f"registry:{ref}"
    assert report.image.tags == [ref]
    if compression == "none":
        assert report.image.compressed_bytes is None
    else:
        blobs = [layer.compressed_bytes for layer in report.layers]
        assert all(b is not None and b > 0 for b in blobs)
        assert report.image.compressed_bytes == sum(b for b in blobs if b is not None)


def test_by_digest(world: World) -> None:
    digest = world.digests["gzip"]
    report = inspect(f"registry:{world.plain.host}/acme/gzip@{digest}")
    assert same(report) == same(inspect(f"oci:{world.layouts['gzip']}"))
    assert report.image.tags == []


def test_compressed_sizes_in_table_and_markdown(world: World, run: Run) -> None:
    ref = f"registry:{world.plain.host}/acme/gzip:1"
    report = inspect(ref)
    assert report.image.compressed_bytes is not None
    for fmt in ("table", "markdown"):
        code, out, _ = run("inspect", ref, "--format", fmt)
        assert code == 0
        assert "compressed" in out


@pytest.fixture
def host_amd64(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pyimgsize.sources.registry.host_platform", lambda: "linux/amd64")


def test_multi_platform_index(world: World, host_amd64: None, run: Run) -> None:
    ref = f"registry:{world.plain.host}/multi:1"
    layout = f"oci:{world.layouts['multi']}"
    default = inspect(ref)
    assert default.image.platform == "linux/amd64"
    assert same(default) == same(inspect(layout, platform="linux/amd64"))
    arm = inspect(ref, platform="linux/arm64")
    assert arm.image.platform == "linux/arm64/v8"
    assert same(arm) == same(inspect(layout, platform="linux/arm64"))
    assert arm.image.bytes == 2000
    code, _, err = run("inspect", ref, "--platform", "linux/s390x")
    line = _one_error_line(err)
    assert code == 3
    assert "linux/s390x" in line
    assert "linux/amd64" in line
    assert "linux/arm64/v8" in line
    assert "unknown" not in line  # the attestation manifests are not platforms


# --- authentication ---------------------------------------------------------------------------


def test_tls_basic_auth_with_certs_d(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run: Run
) -> None:
    host = world.tls.host
    ref = f"registry:{host}/acme/gzip:1"
    expected = same(inspect(f"oci:{world.layouts['gzip']}"))

    code, _, err = run("inspect", ref)  # the CA is not trusted yet
    line = _one_error_line(err)
    assert code == 3
    assert "certificate" in line
    assert "certs.d" in line
    assert host in line

    monkeypatch.setenv("PYIMGSIZE_CERTS_D", str(world.ca.certs_d(host)))
    code, _, err = run("inspect", ref)  # trusted, but no login
    line = _one_error_line(err)
    assert code == 3
    assert "docker login" in line
    assert host in line

    wrong = docker_config(tmp_path / "wrong", {host: basic_entry(USER, "not-the-password")})
    monkeypatch.setenv("DOCKER_CONFIG", str(wrong))
    code, _, err = run("--debug", "inspect", ref)
    assert code == 3
    assert "rejected" in err
    assert "not-the-password" not in err
    _no_secrets(err)

    good = docker_config(tmp_path / "good", {host: basic_entry(USER, PASSWORD)})
    monkeypatch.setenv("DOCKER_CONFIG", str(good))
    assert same(inspect(ref)) == expected


def test_insecure_registry_skips_verification(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run: Run
) -> None:
    host = world.tls.host
    good = docker_config(tmp_path / "good", {host: basic_entry(USER, PASSWORD)})
    monkeypatch.setenv("DOCKER_CONFIG", str(good))
    code, out, err = run(
        "inspect", f"registry:{host}/acme/gzip:1", "--insecure-registry", host, "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["image"]["source"] == "registry"


def test_token_auth_anonymous(world: World) -> None:
    world.issuer.requests.clear()
    report = inspect(f"registry:{world.token.host}/public/app:1")
    assert report.image.layer_bytes == inspect(f"oci:{world.layouts['gzip']}").image.layer_bytes
    assert world.issuer.requests
    assert all(r["account"] is None for r in world.issuer.requests)
    assert world.issuer.requests[0]["scope"] == "repository:public/app:pull"


def test_token_auth_needs_a_login_for_private(world: World, run: Run) -> None:
    code, _, err = run("inspect", f"registry:{world.token.host}/acme/gzip:1")
    line = _one_error_line(err)
    assert code == 3
    assert "401" in line
    assert "docker login" in line
    _no_secrets(err)


@pytest.mark.parametrize("kind", ["password", "identity token"])
def test_token_auth_with_credentials(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    host = world.token.host
    entry = basic_entry(USER, PASSWORD) if kind == "password" else {"identitytoken": IDENTITY_TOKEN}
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config(tmp_path / "cfg", {host: entry})))
    world.issuer.requests.clear()
    report = inspect(f"registry:{host}/acme/gzip:1")
    assert same(report) == same(inspect(f"oci:{world.layouts['gzip']}"))
    assert world.issuer.requests
    assert {r["method"] for r in world.issuer.requests} == (
        {"GET"} if kind == "password" else {"POST"}
    )
    assert {r["account"] for r in world.issuer.requests} == {USER}


def test_authorization_is_not_sent_to_redirect_targets(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    proxy = FaultProxy(world.token.host, "redirect", redirect_upstream=world.plain.host)
    proxy.start()
    try:
        entry = basic_entry(USER, PASSWORD)
        monkeypatch.setenv("DOCKER_CONFIG", str(docker_config(tmp_path / "c", {proxy.host: entry})))
        ref = f"registry:{proxy.host}/acme/gzip:1"
        report = inspect(ref, cache=False)
        fresh = len(proxy.redirected)
        assert inspect(ref) == report  # fills the per-layer cache (if not filled already)
        filled = len(proxy.redirected)
        assert inspect(ref) == report
    finally:
        proxy.stop()
    assert same(report) == same(inspect(f"oci:{world.layouts['gzip']}"))
    # the config and every layer blob, each once
    assert fresh == 1 + len({layer.diff_id for layer in report.layers})
    # with the layers cached, only the config is downloaded again
    assert len(proxy.redirected) - filled == 1
    for headers in proxy.redirected:
        assert "authorization" not in {k.lower() for k in headers}


# --- bad input --------------------------------------------------------------------------------


def _fails(run: Run, ref: str, *needles: str) -> str:
    code, out, err = run("inspect", ref, "--no-cache")  # a cached layer would not fail
    line = _one_error_line(err)
    assert code == 3, err
    assert out == ""
    for needle in needles:
        assert needle in line, line
    _no_secrets(err)
    return line


def test_unknown_host(run: Run) -> None:
    _fails(
        run, "registry:no-such-registry.invalid/app:1", "no-such-registry.invalid", "unknown host"
    )


def test_missing_manifest(world: World, run: Run) -> None:
    _fails(run, f"registry:{world.plain.host}/acme/gzip:nope", world.plain.host, "404", "not found")
    _fails(run, f"registry:{world.plain.host}/nobody/here:1", "404")


@pytest.mark.parametrize("kind", ["none", "gzip"])
def test_corrupt_blob(world: World, run: Run, kind: str) -> None:
    line = _fails(run, f"registry:{world.plain.host}/corrupt/{kind}:1", "layer 0")
    if kind == "none":
        assert "digest" in line


def test_rate_limited(world: World, run: Run) -> None:
    proxy = FaultProxy(world.plain.host, "429")
    proxy.start()
    try:
        _fails(run, f"registry:{proxy.host}/acme/gzip:1", "429", "rate limit", proxy.host)
    finally:
        proxy.stop()
    assert proxy.count == 4  # bounded retries


def test_connection_cut_mid_blob(world: World, run: Run) -> None:
    proxy = FaultProxy(world.plain.host, "cut")
    proxy.start()
    try:
        _fails(run, f"registry:{proxy.host}/acme/gzip:1", "broke off")
    finally:
        proxy.stop()


def test_no_image_option_for_registries(world: World, run: Run) -> None:
    code, _, err = run("inspect", f"registry:{world.plain.host}/acme/gzip:1", "--image", "x")
    assert code == 2
    _one_error_line(err)


def test_check_max_compressed_gates_the_pull_size(world: World, run: Run) -> None:
    ref = f"registry:{world.plain.host}/acme/gzip:1"
    pull = inspect(ref).image.compressed_bytes
    assert pull is not None
    code, out, err = run("check", ref, "--max-compressed", str(pull), "--format", "json")
    assert (code, err) == (0, "")
    rule = json.loads(out)["rules"][0]
    assert (rule["rule"], rule["status"], rule["actual"]) == ("max_compressed", "pass", pull)
    code, out, _ = run("check", ref, "--max-compressed", str(pull - 1), "--format", "json")
    assert code == 1
    assert json.loads(out)["rules"][0]["status"] == "fail"
    # an uncompressed source has no pull size: the rule is skipped, never failed
    code, out, _ = run(
        "check", f"registry:{world.plain.host}/acme/none:1", "--max-compressed", "1", "-f", "json"
    )
    assert code == 0
    assert json.loads(out)["rules"][0]["status"] == "skip"


def test_credentials_from_a_credential_helper(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`credHelpers` in the docker config: the docker SDK runs `docker-credential-NAME get`
    (a real program on PATH, here a shell script) with the registry on stdin."""
    host = world.tls.host
    helper = tmp_path / "bin" / "docker-credential-pyimgsize-test"
    helper.parent.mkdir()
    asked = tmp_path / "asked"
    helper.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 1\ncat > {asked}\n'
        f'printf \'{{"ServerURL": "%s", "Username": "{USER}", "Secret": "{PASSWORD}"}}\' '
        f'"$(cat {asked})"\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credHelpers": {host: "pyimgsize-test"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("PYIMGSIZE_CERTS_D", str(world.ca.certs_d(host)))
    report = inspect(f"registry:{host}/acme/gzip:1")
    assert same(report) == same(inspect(f"oci:{world.layouts['gzip']}"))
    assert asked.read_text().strip() == host


def test_containerd_store_export_without_blobs_is_one_line_with_the_cause(
    world: World, dockerd26: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run: Run
) -> None:
    """dockerd 26 (containerd store): an image `docker load`ed, then pulled under another tag
    with the same config, is "up to date" and its export holds the manifest only."""
    image = Image("pyimgsize-test/quirk:1", [Layer([File("quirk", 5000)])])
    write_docker_archive(tmp_path / "quirk.tar", image)
    write_oci_layout(tmp_path / "layout", image, compression="gzip")
    push_layout(world.plain.host, tmp_path / "layout", "quirk", "1")
    pulled = f"{world.plain.host}/quirk:1"
    env = {**os.environ, "DOCKER_HOST": dockerd26}
    try:
        for cmd in (["load", "-q", "-i", str(tmp_path / "quirk.tar")], ["pull", "-q", pulled]):
            subprocess.run(["docker", *cmd], env=env, check=True, capture_output=True)
        monkeypatch.setenv("DOCKER_HOST", dockerd26)
        code, _, err = run("inspect", f"docker:{pulled}")
    finally:
        subprocess.run(
            ["docker", "rmi", pulled, "pyimgsize-test/quirk:1"],
            env=env,
            capture_output=True,
            check=False,
        )
    line = _one_error_line(err)
    assert code == 3
    assert "is missing" in line
    assert f"docker rmi {pulled}" in line


def _threads(prefix: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def test_a_layer_failing_early_stops_its_download(world: World) -> None:
    """The tar reader gives up on the first header while the blob (24 MiB, incompressible)
    is still streaming and being inflated ahead in another thread: one CorruptLayer, and no
    download or inflating thread outlives the error."""
    before = _threads("pyimgsize-")
    path = world.tmp / "layout-fails-early"
    raw = b"\x01" * 512 + os.urandom(24 << 20)  # a header whose checksum is wrong
    write_oci_layout(path, Image("early/fail:1", [Layer(raw=raw)]), compression="gzip")
    push_layout(world.plain.host, path, "early/fail", "1")

    def attempt() -> str:
        try:
            inspect(f"registry:{world.plain.host}/early/fail:1", cache=False)
        except CorruptLayer as exc:
            return str(exc)
        raise AssertionError("a corrupt layer was read as valid")

    assert attempt().startswith("layer 0 (")
    gc.collect()
    for _ in range(500):
        if _threads("pyimgsize-") == before:
            break
        time.sleep(0.01)
    assert _threads("pyimgsize-") == before


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_re_inspect_downloads_only_layers_not_cached(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, compression: str
) -> None:
    """Cold, then from a fresh cache (filled by the first cached run): the layout's numbers
    every time; a cached layer's blob is not downloaded again."""
    from pyimgsize.sources import registry

    monkeypatch.setenv("PYIMGSIZE_CACHE_DIR", str(tmp_path / "cache"))
    downloads: list[str] = []
    read_layer = registry.RegistryStore._read_layer

    def counting(self: registry.RegistryStore, path: str, label: str) -> Any:
        downloads.append(path)
        return read_layer(self, path, label)

    monkeypatch.setattr(registry.RegistryStore, "_read_layer", counting)
    ref = f"registry:{world.plain.host}/acme/{compression}:1"
    expected = same(inspect(f"oci:{world.layouts[compression]}", cache=False))
    assert same(inspect(ref, cache=False)) == expected
    blobs = len(downloads)
    assert blobs == len(set(downloads)) >= 3  # each blob once (two layers share one)
    assert same(inspect(ref)) == expected  # fills the cache
    assert len(downloads) == 2 * blobs
    assert same(inspect(ref)) == expected  # from it
    assert len(downloads) == 2 * blobs
