"""Generated image pairs for `diff` tests through the real pipeline (archives and layouts).

Each pair function returns (A, B) as `fixtures.Image`s; `write_pair` writes A as a `docker
save` archive and B as an OCI layout (mixing sources on purpose) and returns their references.
Expected numbers in the tests come from the fixture entries (`size_of`), never from pyimgsize.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from fixtures import (
    Entry,
    File,
    Image,
    Layer,
    Whiteout,
    dist,
    write_docker_archive,
    write_oci_layout,
)

SITE = "/usr/local/lib/python3.11/site-packages"
BASE_CREATED_BY = "/bin/sh -c #(nop) ADD file:" + "1" * 64 + " in / "
SLIM_CREATED_BY = "/bin/sh -c #(nop) ADD file:" + "2" * 64 + " in / "
UV_INSTALL = "/bin/sh -c uv pip install --system pandas six"
PIP_INSTALL = "/bin/sh -c pip install -r /app/requirements.txt"
PIP_CACHE = "/root/.cache/pip"
BASE_BYTES = 150_000

Pair = tuple[Image, Image]


def base_layer() -> Layer:
    return Layer(
        [File("/bin/busybox", size=100_000), File("/lib/libc.so.6", size=50_000)],
        created_by=BASE_CREATED_BY,
    )


def pandas(
    version: str = "2.1.0", *, core: int = 7_000, installer: str = "uv", pyc: bool = False
) -> list[Entry]:
    files = {"pandas/__init__.py": 3_000, "pandas/core.py": core, "pandas/_lib.so": 20_000}
    return list(dist(SITE, "pandas", version, files, installer=installer, pyc=pyc))


def six(*, installer: str = "uv", pyc: bool = False) -> list[Entry]:
    return list(dist(SITE, "six", "1.16.0", {"six.py": 1_000}, installer=installer, pyc=pyc))


def size_of(entries: Iterable[Entry], test: Callable[[str], bool] = lambda _p: True) -> int:
    """Bytes of the regular files among `entries` whose path passes `test`."""
    return sum(e.size for e in entries if isinstance(e, File) and test(e.path))


def is_metadata(path: str) -> bool:
    return ".dist-info/" in path


def is_pyc(path: str) -> bool:
    return path.endswith(".pyc")


# --- the pairs --------------------------------------------------------------------------------


def bytecode_pair() -> Pair:
    """B compiles pandas' bytecode (uv with UV_COMPILE_BYTECODE); A ships none."""
    a = Image(name="app:uv", layers=[base_layer(), Layer(pandas() + six(), UV_INSTALL)])
    b = Image(
        name="app:uv-bytecode", layers=[base_layer(), Layer(pandas(pyc=True) + six(), UV_INSTALL)]
    )
    return a, b


CACHE_FILES: list[Entry] = [
    File(f"{PIP_CACHE}/http-v2/a/b/c/d/e/0123456789abcdef", size=12_000),
    File(f"{PIP_CACHE}/wheels/ab/cd/pandas-2.1.0-cp311-cp311-linux_x86_64.whl", size=3_000),
]


def cache_pair() -> Pair:
    """B's pip install keeps pip's cache (15 kB, a wheel in it) in the image."""
    entries = pandas(installer="pip", pyc=True) + six(installer="pip", pyc=True)
    a = Image(
        name="app:nocache",
        layers=[base_layer(), Layer(entries, "/bin/sh -c pip install --no-cache-dir pandas six")],
    )
    b = Image(
        name="app:cache",
        layers=[base_layer(), Layer(entries + CACHE_FILES, "/bin/sh -c pip install pandas six")],
    )
    return a, b


def upgrade_pair() -> Pair:
    """pandas 2.1.0 -> 2.2.0 (core.py 7 kB -> 9 kB, its .pyc 3.6 kB -> 4.6 kB); six unchanged."""
    six_entries = six(installer="pip", pyc=True)
    a = Image(
        name="app:1",
        layers=[
            base_layer(),
            Layer(pandas(installer="pip", pyc=True) + six_entries, PIP_INSTALL),
        ],
    )
    b = Image(
        name="app:2",
        layers=[
            base_layer(),
            Layer(
                pandas("2.2.0", core=9_000, installer="pip", pyc=True) + six_entries, PIP_INSTALL
            ),
        ],
    )
    return a, b


def rebased_pair() -> Pair:
    """B moves to a smaller base (busybox only) and its libpython is 1 kB smaller: no layer is
    shared; Python is unchanged."""
    dists = pandas() + six()
    a = Image(
        name="app:bookworm",
        layers=[
            base_layer(),
            Layer([File("/usr/local/lib/libpython3.11.so.1.0", size=40_000), *dists], UV_INSTALL),
        ],
    )
    b = Image(
        name="app:slim",
        layers=[
            Layer([File("/bin/busybox", size=90_000)], created_by=SLIM_CREATED_BY),
            Layer([File("/usr/local/lib/libpython3.11.so.1.0", size=39_000), *dists], UV_INSTALL),
        ],
    )
    return a, b


COPY_REQ = "/bin/sh -c #(nop) COPY file:{} in /app/requirements.txt "


def layers_pair() -> Pair:
    """A: base, COPY requirements, pip install. B: base, apt-get (5 kB), COPY requirements
    (changed), pip install leaving its cache (15 kB), rm -rf the cache (dead bytes)."""
    entries = six(installer="pip", pyc=True)
    a = Image(
        name="app:a",
        layers=[
            base_layer(),
            Layer([File("/app/requirements.txt", size=100)], COPY_REQ.format("c" * 64)),
            Layer(entries, PIP_INSTALL),
        ],
    )
    b = Image(
        name="app:b",
        layers=[
            base_layer(),
            Layer(
                [File("/usr/lib/x86_64-linux-gnu/libpq.so.5", size=5_000)],
                "/bin/sh -c apt-get install -y libpq5",
            ),
            Layer([File("/app/requirements.txt", size=120)], COPY_REQ.format("d" * 64)),
            Layer(entries + CACHE_FILES, PIP_INSTALL),
            Layer([Whiteout(PIP_CACHE)], f"/bin/sh -c rm -rf {PIP_CACHE}"),
        ],
    )
    return a, b


def identical_pair() -> Pair:
    """The same image twice (A is written as a docker archive, B as an OCI layout)."""
    image = Image(name="app:latest", layers=[base_layer(), Layer(pandas() + six(), UV_INSTALL)])
    return image, image


PAIRS: dict[str, Callable[[], Pair]] = {
    "bytecode": bytecode_pair,
    "cache": cache_pair,
    "upgrade": upgrade_pair,
    "rebased": rebased_pair,
    "layers": layers_pair,
    "identical": identical_pair,
}


def write_pair(directory: Path, name: str) -> tuple[str, str]:
    """Write pair `name`: A as `docker-archive:<dir>/<name>-a.tar`, B as `oci:<dir>/<name>-b`."""
    a, b = PAIRS[name]()
    path_a = directory / f"{name}-a.tar"
    path_b = directory / f"{name}-b"
    write_docker_archive(path_a, a)
    write_oci_layout(path_b, b)
    return f"docker-archive:{path_a}", f"oci:{path_b}"
