"""Shared pytest fixtures: the Docker engine, an offline busybox base image, image builds.

Engine tests
    Mark a test ``@pytest.mark.engine`` (or request any fixture below that needs the engine) and
    it gets a live ``docker.DockerClient`` for the engine at ``DOCKER_HOST`` (``make test`` runs
    pytest through ``scripts/test-env.sh``, which points it at a private engine when no other
    answers and it may start one).

Real parts that cannot run here
    A test whose real part (the engine, a registry, a browser, a Debian package) is missing calls
    ``not_run_here(what, reason, command)``: it is skipped, and the run ends with one line naming
    every such test, why, and the command that would run them. Under ``CI`` or
    ``PYIMGSIZE_REQUIRE_ENGINE`` that run exits 1: in CI a missing part is a failure, not a skip.

Building images offline
    ``busybox_base`` is the tag of a tiny base image (``FROM scratch`` plus Debian's static
    busybox as ``/bin/busybox``, ``/bin/sh`` and every applet link), built once per content hash
    and kept across sessions, so Dockerfiles with ``RUN`` steps build without any network.
    ``build_image()`` (or the ``docker_build`` fixture) builds with the SDK's classic builder,
    ``network_mode="none"``, ``rm=True``; every tag it creates is removed at the end of the
    session (set ``PYIMGSIZE_KEEP_TEST_IMAGES=1`` to keep them for debugging).

Builder note: the SDK's ``images.build`` always uses the classic builder. On this project's
engine (Debian's docker.io 20.10) the ``docker build`` CLI (28.x, no buildx plugin installed)
also falls back to the classic builder, and ``DOCKER_BUILDKIT=1 docker build`` fails because
buildx is missing; tests therefore build through the SDK only.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import re
import secrets
import struct
import subprocess
import tarfile
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import docker

# Every image a test session tags lives under this repository prefix; nothing else is removed.
TEST_REPO_PREFIX = "pyimgsize-test/"
BUSYBOX_PATH = Path("/bin/busybox")
BUSYBOX_PACKAGE = "busybox-static"
# Bump when the base image recipe below changes in a way the content hash cannot see.
BASE_RECIPE_VERSION = "1"
# Fixed mtime for generated tar members, so identical inputs give identical layers.
FIXED_MTIME = 1_700_000_000

SESSION_ID = f"{os.getpid()}-{secrets.token_hex(3)}"
_created_tags: list[str] = []
_tag_counter = itertools.count(1)

# Context files starting with these get mode 0755: scripts and ELF executables.
_EXECUTABLE_MAGIC = (b"#!", b"\x7fELF")
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})
_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in _FALSE_WORDS


def engine_required() -> bool:
    """True when a missing real part must fail the run (``CI`` or ``PYIMGSIZE_REQUIRE_ENGINE``)."""
    return _env_flag("CI") or _env_flag("PYIMGSIZE_REQUIRE_ENGINE")


@pytest.fixture(autouse=True, scope="session")
def _private_layer_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The per-layer result cache of this session lives in its own directory: a test never
    reads the user's cache (which could hide a reader change) nor fills it."""
    before = os.environ.get("PYIMGSIZE_CACHE_DIR")
    os.environ["PYIMGSIZE_CACHE_DIR"] = str(tmp_path_factory.mktemp("layer-cache"))
    yield
    if before is None:
        os.environ.pop("PYIMGSIZE_CACHE_DIR", None)
    else:
        os.environ["PYIMGSIZE_CACHE_DIR"] = before


def docker_cli() -> str:
    """The docker CLI's path; when it is missing, the test does not run here (`not_run_here`)."""
    import shutil

    docker = shutil.which("docker")
    if docker is None:
        not_run_here("the docker CLI (Debian package docker.io)", "it is missing", rerun_command())
    return docker


def pytest_report_header(config: pytest.Config) -> str:
    mode = "required (fail if missing)" if engine_required() else "optional (skip if missing)"
    return f"pyimgsize: Docker engine {mode}"


# --- real parts that cannot run here ---------------------------------------------------------


@dataclass(frozen=True)
class NotRunHere:
    """Why some tests cannot run on this machine, and the command that would run them."""

    what: str
    reason: str
    command: str

    @property
    def message(self) -> str:
        return f"needs {self.what}: {self.reason}; run with: {self.command}"


_not_run_causes: dict[str, NotRunHere] = {}
_not_run_tests: dict[NotRunHere, list[str]] = {}


def not_run_here(what: str, reason: str, command: str) -> NoReturn:
    """Skip the calling test: it needs ``what`` ("a Docker engine"), which is not here (``reason``).

    The run ends with one line naming every test skipped this way and ``command``, the command
    that would run them (fails under ``CI`` / ``PYIMGSIZE_REQUIRE_ENGINE``). Call it from a
    session fixture and every test using the fixture is counted.
    """
    cause = NotRunHere(what, reason, command)
    _not_run_causes[cause.message] = cause
    pytest.skip(cause.message)


def rerun_command() -> str:
    """The command that runs the suite with every real part it can start: as root, the command
    this run came from (``PYIMGSIZE_RERUN``, set by ``scripts/test-env.sh``; else ``make test``).
    """
    command = os.environ.get("PYIMGSIZE_RERUN") or "make test"
    return command if os.geteuid() == 0 else f"sudo {command}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and isinstance(report.longrepr, tuple):
        cause = _not_run_causes.get(report.longrepr[2].removeprefix("Skipped: "))
        if cause is not None:
            _not_run_tests.setdefault(cause, []).append(report.nodeid)


def not_run_line(causes: dict[NotRunHere, list[str]], *, required: bool) -> str:
    """One line: how many tests did not run, per cause the test files, why, and the command."""
    total = sum(len(nodeids) for nodeids in causes.values())
    parts = []
    for cause, nodeids in causes.items():
        files = Counter(nodeid.split("::", 1)[0] for nodeid in nodeids)
        named = ", ".join(f"{name} ({count})" for name, count in sorted(files.items()))
        parts.append(
            f"{len(nodeids)} need {cause.what} ({named}): {cause.reason}; "
            f"run them with: {cause.command}"
        )
    head = "REQUIRED (CI / PYIMGSIZE_REQUIRE_ENGINE is set) but " if required else ""
    plural = "s" if total != 1 else ""
    return f"pyimgsize: {head}{total} test{plural} did not run: " + " | ".join(parts)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _not_run_tests and engine_required() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's last line: the tests that could not run here (after pytest's own summary)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if _not_run_tests and reporter is not None:
        line = not_run_line(_not_run_tests, required=engine_required())
        reporter.write_line(line, red=engine_required(), yellow=not engine_required())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that use the engine, directly or through another fixture, carry the marker."""
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("engine"):
            item.add_marker(pytest.mark.engine)


@pytest.fixture(autouse=True)
def _engine_for_marked_tests(request: pytest.FixtureRequest) -> None:
    """Make ``@pytest.mark.engine`` alone enough: it requests the engine (or is not run here)."""
    if request.node.get_closest_marker("engine") is not None:
        request.getfixturevalue("engine")


@pytest.fixture(scope="session")
def engine() -> Iterator[docker.DockerClient]:
    """A live Docker engine client for the session; removes the session's test images after."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        # scripts/test-env.sh says why no engine could be had and what would give one.
        reason = os.environ.get("PYIMGSIZE_ENGINE_UNAVAILABLE") or (
            f"no Docker engine answers at {os.environ.get('DOCKER_HOST') or 'the default socket'}"
            f" ({type(exc).__name__})"
        )
        not_run_here(
            "a Docker engine", reason, os.environ.get("PYIMGSIZE_ENGINE_HINT") or rerun_command()
        )
    try:
        yield client
    finally:
        if not _env_flag("PYIMGSIZE_KEEP_TEST_IMAGES"):
            for problem in remove_test_images(client):
                warnings.warn(problem, stacklevel=1)
        client.close()


# --- what differs between image stores ------------------------------------------------------


def containerd_store(client: docker.DockerClient) -> bool:
    """The engine keeps images in the containerd image store (Docker 26+ with the
    containerd-snapshotter feature, the default of fresh Docker 29 installs)."""
    status = client.info().get("DriverStatus") or []
    return any(pair[:2] == ["driver-type", "io.containerd.snapshotter.v1"] for pair in status)


def expected_read_via(client: docker.DockerClient) -> str:
    """How pyimgsize reads this engine's images: in place from its overlay2 layer storage, or
    from the containerd image store's content store, where readable (root), else through the
    export (a rootless run)."""
    if os.geteuid() != 0:
        return "export"
    if containerd_store(client):
        return "content-store"
    return "layer-storage" if client.info().get("Driver") == "overlay2" else "export"


def config_digest(client: docker.DockerClient, ref: str) -> str:
    """The image config's digest (what pyimgsize reports as `image.id`).

    The classic store's image ID is that digest; the containerd store's names the manifest
    (or index), so the config digest is read from the export's manifest.json.
    """
    attrs = client.api.inspect_image(ref)
    if not containerd_store(client):
        return str(attrs["Id"])
    data = b"".join(client.api.get_image(attrs["Id"]))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        config_path = str(json.load(member)[0]["Config"])
    return "sha256:" + config_path.rpartition("/")[2].removesuffix(".json")


DOCKERD26_ENV = "PYIMGSIZE_DOCKERD26_HOST"


@pytest.fixture(scope="session")
def dockerd26() -> str:
    """The DOCKER_HOST of a second engine with the containerd image store
    (scripts/start-dockerd26.sh; .ci/run and `make test-containerd` set
    PYIMGSIZE_DOCKERD26_HOST). Not run here when the variable is unset; when set, the engine must
    answer and use the containerd store."""
    import docker

    host = os.environ.get(DOCKERD26_ENV)
    if not host:
        not_run_here(
            "dockerd 26 with the containerd image store",
            f"{DOCKERD26_ENV} is not set",
            "sudo bash scripts/start-dockerd26.sh && "
            f"{DOCKERD26_ENV}=unix:///tmp/pyimgsize-d26/docker.sock {rerun_command()}",
        )
    try:
        client = docker.DockerClient(base_url=host)
        client.ping()
    except Exception as exc:
        pytest.fail(f"{DOCKERD26_ENV}={host} does not answer: {exc}", pytrace=False)
    try:
        if not containerd_store(client):
            pytest.fail(f"{DOCKERD26_ENV}={host} does not use the containerd image store")
    finally:
        client.close()
    return host


# --- tags and cleanup ------------------------------------------------------------------------


def unique_tag(name: str) -> str:
    """``pyimgsize-test/<name>:<session>-<n>``: unique to this session, safe to clean up.

    Several people (and CI) share one engine, so a fixed tag could be removed under another
    session's feet; tags from here never collide.
    """
    if not _NAME_RE.match(name):
        raise ValueError(f"not a valid image repository name component: {name!r}")
    return f"{TEST_REPO_PREFIX}{name}:{SESSION_ID}-{next(_tag_counter)}"


def register_test_image(tag: str) -> str:
    """Remember a ``pyimgsize-test/...`` tag for removal at the end of the session."""
    if not tag.startswith(TEST_REPO_PREFIX):
        raise ValueError(f"test image tags must start with {TEST_REPO_PREFIX!r}: {tag!r}")
    if tag not in _created_tags:
        _created_tags.append(tag)
    return tag


def remove_test_images(client: docker.DockerClient, tags: list[str] | None = None) -> list[str]:
    """Remove test image tags (default: all registered this session); return problems as text.

    Never raises, so it is safe in a finalizer. Untagged parent layers go too (``noprune`` off),
    but images still tagged elsewhere, such as the shared busybox base, stay.
    """
    import docker

    todo = list(_created_tags if tags is None else tags)
    problems: list[str] = []
    for tag in reversed(todo):
        if not tag.startswith(TEST_REPO_PREFIX):
            problems.append(f"refusing to remove {tag!r}: not a {TEST_REPO_PREFIX} tag")
            continue
        try:
            client.images.remove(tag, force=True, noprune=False)
        except docker.errors.ImageNotFound:
            pass
        except docker.errors.APIError as exc:
            problems.append(f"could not remove test image {tag}: {exc}")
        if tag in _created_tags:
            _created_tags.remove(tag)
    return problems


# --- building --------------------------------------------------------------------------------


def _tar_bytes(
    files: dict[str, bytes],
    *,
    symlinks: dict[str, str] | None = None,
    dirs: dict[str, int] | None = None,
) -> bytes:
    """A deterministic tar: directories, regular files (0755 for scripts and ELF), symlinks."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, mode in sorted((dirs or {}).items()):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            info.mtime = FIXED_MTIME
            tar.addfile(info)
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if data.startswith(_EXECUTABLE_MAGIC) else 0o644
            info.mtime = FIXED_MTIME
            tar.addfile(info, io.BytesIO(data))
        for name, target in sorted((symlinks or {}).items()):
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            info.mode = 0o777
            info.mtime = FIXED_MTIME
            tar.addfile(info)
    return buf.getvalue()


def _build(
    client: docker.DockerClient, dockerfile_text: str, context_files: dict[str, bytes], tag: str
) -> str:
    import docker

    if "Dockerfile" in context_files:
        raise ValueError("pass the Dockerfile as dockerfile_text, not in context_files")
    context = _tar_bytes({"Dockerfile": dockerfile_text.encode(), **context_files})
    try:
        image, _logs = client.images.build(
            fileobj=io.BytesIO(context),
            custom_context=True,
            tag=tag,
            rm=True,
            forcerm=True,
            pull=False,
            network_mode="none",
        )
    except docker.errors.BuildError as exc:
        log = "".join(
            str(chunk.get("stream") or chunk.get("error") or "")
            for chunk in exc.build_log
            if isinstance(chunk, dict)
        )
        _remove_failed_build_steps(client, log)
        pytest.fail(f"docker build of {tag} failed: {exc.msg}\n{log}", pytrace=False)
    image_id: str = image.id
    return image_id


_STEP_IMAGE_RE = re.compile(r"^ ---> ([0-9a-f]{12})$", re.MULTILINE)


def _remove_failed_build_steps(client: docker.DockerClient, log: str) -> None:
    """Remove the untagged step images a failed classic build left behind (they have no tag).

    The newest untagged step image goes, and its untagged parents with it; tagged images (the
    ``FROM`` base) are never touched.
    """
    import docker

    for image_id in reversed(_STEP_IMAGE_RE.findall(log)):
        try:
            image = client.images.get(image_id)
            if image.tags:
                return
            client.images.remove(image.id, noprune=False)
        except docker.errors.APIError:
            continue
        return


def build_image(
    engine: docker.DockerClient,
    dockerfile_text: str,
    context_files: dict[str, bytes],
    tag: str,
) -> str:
    """Build ``dockerfile_text`` with ``context_files`` (path -> bytes), offline; return the id.

    Classic builder (the SDK's), ``network_mode="none"``, ``rm=True``, no pull: base images must
    be local (use the ``busybox_base`` tag in ``FROM``). Context files starting with ``#!`` or
    an ELF header get mode 0755, others 0644. ``tag`` must start with ``pyimgsize-test/`` (see
    ``unique_tag``); it is removed at the end of the session. A failed build fails the test with
    the build log (and its untagged step images are removed).
    """
    register_test_image(tag)
    return _build(engine, dockerfile_text, context_files, tag)


@pytest.fixture
def docker_build(engine: docker.DockerClient) -> Callable[..., str]:
    """``docker_build(dockerfile_text, context_files=None, *, name="build") -> image id``.

    ``build_image`` bound to the session engine with a fresh ``unique_tag(name)``.
    """

    def _docker_build(
        dockerfile_text: str, context_files: dict[str, bytes] | None = None, *, name: str = "build"
    ) -> str:
        return build_image(engine, dockerfile_text, context_files or {}, unique_tag(name))

    return _docker_build


# --- the busybox base image ------------------------------------------------------------------

_BASE_DOCKERFILE = """\
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["/bin/sh"]
"""


def _elf_interpreter(data: bytes) -> bool | None:
    """True if an ELF file names a program interpreter (dynamic), False if not, None if not ELF."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        return None
    is64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    if is64:
        (phoff,) = struct.unpack_from(endian + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 54)
    else:
        (phoff,) = struct.unpack_from(endian + "I", data, 28)
        phentsize, phnum = struct.unpack_from(endian + "HH", data, 42)
    pt_interp = 3
    for index in range(phnum):
        offset = phoff + index * phentsize
        if offset + 4 > len(data):
            break
        (p_type,) = struct.unpack_from(endian + "I", data, offset)
        if p_type == pt_interp:
            return True
    return False


def busybox_rootfs() -> bytes:
    """The base image's root filesystem as a tar: static busybox, its applet links, /etc basics.

    Not run here (``make test`` as root installs the package) when ``/bin/busybox`` is missing;
    fails the test, naming the Debian package, when it is not static.
    """
    hint = f"install the Debian package {BUSYBOX_PACKAGE} (apt-get install {BUSYBOX_PACKAGE})"
    if not BUSYBOX_PATH.is_file():
        not_run_here(
            f"{BUSYBOX_PATH} (Debian package {BUSYBOX_PACKAGE})", "it is missing", rerun_command()
        )
    binary = BUSYBOX_PATH.read_bytes()
    if _elf_interpreter(binary) is not False:
        pytest.fail(f"{BUSYBOX_PATH} is not a static ELF executable: {hint}", pytrace=False)
    listing = subprocess.run(
        [str(BUSYBOX_PATH), "--list"], capture_output=True, text=True, check=True
    ).stdout
    applets = sorted({line.strip() for line in listing.splitlines()} - {"", "busybox"})
    files = {
        "bin/busybox": binary,
        "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        "etc/group": b"root:x:0:\nnogroup:x:65534:\n",
    }
    links = {f"bin/{applet}": "busybox" for applet in applets}
    links["usr/bin/env"] = "/bin/busybox"
    dirs = {
        "bin": 0o755,
        "etc": 0o755,
        "root": 0o700,
        "tmp": 0o1777,
        "usr": 0o755,
        "usr/bin": 0o755,
        "var": 0o755,
        "var/tmp": 0o1777,
    }
    return _tar_bytes(files, symlinks=links, dirs=dirs)


def busybox_base_tag(rootfs: bytes) -> str:
    """``pyimgsize-test/busybox:<hash>`` where the hash covers the recipe and the rootfs."""
    digest = hashlib.sha256()
    for part in (BASE_RECIPE_VERSION.encode(), _BASE_DOCKERFILE.encode(), rootfs):
        digest.update(hashlib.sha256(part).digest())
    return f"{TEST_REPO_PREFIX}busybox:{digest.hexdigest()[:20]}"


@pytest.fixture(scope="session")
def busybox_base(engine: docker.DockerClient) -> str:
    """Tag of the offline busybox base image (built once per content hash, kept across sessions).

    Use it as ``FROM {busybox_base}`` in test Dockerfiles; ``RUN`` steps get ``/bin/sh``.
    """
    import docker

    rootfs = busybox_rootfs()
    tag = busybox_base_tag(rootfs)
    try:
        engine.images.get(tag)
    except docker.errors.ImageNotFound:
        _build(engine, _BASE_DOCKERFILE, {"rootfs.tar": rootfs}, tag)
    return tag


def run_in_image(engine: docker.DockerClient, image: str, *command: str) -> str:
    """Run ``command`` in a throwaway, network-less container of ``image``; return its stdout.

    The container is removed whatever happens (``containers.run(remove=True)`` leaves it behind
    when it fails to start). A non-zero exit fails the test with the container's output.
    """
    container = engine.containers.create(image, list(command), network_disabled=True)
    try:
        container.start()
        status: Any = container.wait(timeout=120)
        stdout = bytes(container.logs(stdout=True, stderr=False)).decode()
        if status.get("StatusCode") != 0:
            stderr = bytes(container.logs(stdout=False, stderr=True)).decode()
            pytest.fail(
                f"{list(command)} in {image} exited {status.get('StatusCode')}: {stderr}{stdout}",
                pytrace=False,
            )
        return stdout
    finally:
        container.remove(force=True)


# --- a real browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session (tests/browser.py); each test opens its own
    page. Without Chromium the browser tests do not run here (`make test` as root installs
    Debian's `chromium`, listed in scripts/test-packages.txt; CI fails on a missing one)."""
    from tests.browser import Browser, find_chromium

    executable = find_chromium()
    if executable is None:
        not_run_here("Chromium (Debian package chromium)", "it is not installed", rerun_command())
    instance = Browser(executable)
    try:
        yield instance
    finally:
        instance.close()


ARTIFACTS_DIR = Path(
    os.environ.get("PYIMGSIZE_ARTIFACTS", Path(__file__).parent.parent / "artifacts")
)
"""Where test runs leave files for people to look at (HTML reports, screenshots); CI uploads it."""


# --- the CLI -----------------------------------------------------------------------------------

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """The CLI's real entry point (`cli.main`): `run(*args)` -> (exit code, stdout, stderr)."""
    from pyimgsize.cli.app import main

    def _run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return _run
