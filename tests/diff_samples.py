"""Hand-built `InspectReport`s for comparison and rendering tests.

`report()` derives every total from the parts it is given (visible bytes = layers' bytes minus
their dead bytes; Python bytes = packages + unowned; bytecode = packages' + `extra_bytecode`),
so the reports are internally consistent the way a real inspect report is.
"""

from __future__ import annotations

from pyimgsize.report import (
    Cache,
    Categories,
    DeadCategories,
    ImageInfo,
    InspectReport,
    Layer,
    Package,
    Totals,
)

SITE = "/usr/local/lib/python3.11/site-packages"
VENV = "/opt/venv/lib/python3.11/site-packages"


def cats(
    bytecode: int = 0, source: int = 0, native: int = 0, metadata: int = 0, data: int = 0
) -> Categories:
    return Categories(bytecode=bytecode, source=source, native=native, metadata=metadata, data=data)


def layer(
    index: int,
    diff_id: str,
    created_by: str | None,
    nbytes: int,
    *,
    python: Categories | None = None,
    dead: DeadCategories | None = None,
) -> Layer:
    python = python or Categories()
    dead = dead or DeadCategories()
    return Layer(
        index=index,
        diff_id=diff_id,
        created_by=created_by,
        bytes=nbytes,
        dead_bytes=dead.total(),
        compressed_bytes=None,
        python_bytes=python.total(),
        categories=python,
        dead_categories=dead,
    )


def pkg(
    name: str,
    version: str | None,
    categories: Categories,
    *,
    site: str = SITE,
    installer: str | None = "pip",
    layer_index: int = 1,
) -> Package:
    return Package(
        name=name,
        version=version,
        installer=installer,
        site_packages=site,
        bytes=categories.total(),
        files=1,
        categories=categories,
        layers={str(layer_index): categories.total()},
    )


def cache(path: str, kind: str, nbytes: int, *, exclusive: int | None = None) -> Cache:
    return Cache.model_validate(
        {
            "path": path,
            "kind": kind,
            "bytes": nbytes,
            "exclusive_bytes": nbytes if exclusive is None else exclusive,
        }
    )


def report(
    ref: str,
    layers: list[Layer],
    packages: list[Package],
    *,
    caches: list[Cache] | None = None,
    unowned: int = 0,
    extra_bytecode: int = 0,
    image_id: str | None = None,
) -> InspectReport:
    caches = caches or []
    layer_bytes = sum(x.bytes for x in layers)
    dead = sum(x.dead_bytes for x in layers)
    return InspectReport(
        image=ImageInfo(
            ref=ref,
            source="docker-archive",
            id=image_id or f"sha256:{ref}",
            platform="linux/amd64",
            bytes=layer_bytes - dead,
            layer_bytes=layer_bytes,
        ),
        layers=layers,
        site_packages=[],
        packages=sorted(packages, key=lambda p: (-p.bytes, p.name)),
        caches=caches,
        totals=Totals(
            python_bytes=sum(p.bytes for p in packages) + unowned,
            bytecode_bytes=sum(p.categories.bytecode for p in packages) + extra_bytecode,
            cache_bytes=sum(c.bytes for c in caches),
            dead_bytes=dead,
        ),
        problems=[],
    )


# --- scenario pairs (A, B) --------------------------------------------------------------------

MB = 10**6
BASE = layer(0, "sha256:base", "/bin/sh -c #(nop) ADD file:" + "a" * 64 + " in / ", 80 * MB)


def _pandas(bytecode: int = 0, *, version: str = "2.1.0", installer: str = "uv") -> Package:
    return pkg(
        "pandas",
        version,
        cats(bytecode, 20 * MB, 10 * MB, 500_000, 3 * MB),
        installer=installer,
    )


def _numpy(bytecode: int = 0, *, installer: str = "uv") -> Package:
    return pkg(
        "numpy", "1.26.4", cats(bytecode, 10 * MB, 15 * MB, 500_000, MB), installer=installer
    )


def _six(installer: str = "uv") -> Package:
    return pkg("six", "1.16.0", cats(0, 30_000, 0, 10_000, 0), installer=installer)


def install_layer(index: int, diff_id: str, created_by: str, packages: list[Package]) -> Layer:
    total = cats()
    for p in packages:
        for name in ("bytecode", "source", "native", "metadata", "data"):
            setattr(total, name, getattr(total, name) + getattr(p.categories, name))
    return layer(index, diff_id, created_by, total.total(), python=total)


UV_INSTALL = "/bin/sh -c uv pip install --system pandas numpy six"


def bytecode_pair() -> tuple[InspectReport, InspectReport]:
    """B compiles bytecode at install time (UV_COMPILE_BYTECODE=1); A does not."""
    pa = [_pandas(), _numpy(), _six()]
    pb = [_pandas(31_200_000), _numpy(15_600_000), _six()]
    a = report("app:uv", [BASE, install_layer(1, "sha256:a1", UV_INSTALL, pa)], pa)
    b = report("app:uv-compiled", [BASE, install_layer(1, "sha256:b1", UV_INSTALL, pb)], pb)
    return a, b


def cache_pair() -> tuple[InspectReport, InspectReport]:
    """B's install step keeps pip's cache (12.3 MB) in the image."""
    pa = [_pandas(installer="pip"), _six("pip")]
    pb = [_pandas(installer="pip"), _six("pip")]
    la = install_layer(1, "sha256:a1", "/bin/sh -c pip install --no-cache-dir pandas six", pa)
    lb = install_layer(1, "sha256:b1", "/bin/sh -c pip install pandas six", pb)
    lb = lb.model_copy(update={"bytes": lb.bytes + 12_300_000})
    a = report("app:nocache", [BASE, la], pa)
    b = report("app:cache", [BASE, lb], pb, caches=[cache("/root/.cache/pip", "pip", 12_300_000)])
    return a, b


def upgrade_pair() -> tuple[InspectReport, InspectReport]:
    """pandas 2.1.0 -> 2.2.0: +4 MB of data, +1.5 MB of bytecode; numpy unchanged."""
    pa = [_pandas(6 * MB, installer="pip"), _numpy(5 * MB, installer="pip")]
    new = pkg(
        "pandas", "2.2.0", cats(7_500_000, 20 * MB, 10 * MB, 500_000, 7 * MB), installer="pip"
    )
    pb = [new, _numpy(5 * MB, installer="pip")]
    cmd = "/bin/sh -c pip install -r requirements.txt"
    a = report("app:1", [BASE, install_layer(1, "sha256:a1", cmd, pa)], pa)
    b = report("app:2", [BASE, install_layer(1, "sha256:b1", cmd, pb)], pb)
    return a, b


def rebased_pair() -> tuple[InspectReport, InspectReport]:
    """B moves to a smaller base image (no layer shared); the install step is unchanged."""
    pa = [_numpy(installer="pip")]
    cmd = "/bin/sh -c pip install numpy"
    base_b = layer(0, "sha256:slim", "/bin/sh -c #(nop) ADD file:" + "b" * 64 + " in / ", 30 * MB)
    a = report("app:bookworm", [BASE, install_layer(1, "sha256:a1", cmd, pa)], pa)
    b = report("app:slim", [base_b, install_layer(1, "sha256:b1", cmd, pa)], pa)
    return a, b


def layers_pair() -> tuple[InspectReport, InspectReport]:
    """B inserts an apt-get layer before the install and deletes pip's cache in a later layer.

    A: base, COPY requirements, pip install (no cache kept).
    B: base, apt-get (5 MB), COPY requirements, pip install (+12.3 MB pip cache, deleted by
    the next layer: dead bytes), rm -rf /root/.cache/pip.
    """
    pa = [_six("pip")]
    copy = "/bin/sh -c #(nop) COPY file:" + "c" * 64 + " in /app/requirements.txt "
    copy_b = "/bin/sh -c #(nop) COPY file:" + "d" * 64 + " in /app/requirements.txt "
    install = "/bin/sh -c pip install -r /app/requirements.txt"
    a = report(
        "app:a",
        [
            BASE,
            layer(1, "sha256:req-a", copy, 100),
            install_layer(2, "sha256:inst", install, pa),
        ],
        pa,
    )
    inst_b = install_layer(3, "sha256:inst-b", install, pa)
    inst_b = inst_b.model_copy(
        update={
            "bytes": inst_b.bytes + 12_300_000,
            "dead_bytes": 12_300_000,
            "dead_categories": DeadCategories(cache=12_300_000),
        }
    )
    b = report(
        "app:b",
        [
            BASE,
            layer(1, "sha256:apt", "/bin/sh -c apt-get install -y libpq5", 5 * MB),
            layer(2, "sha256:req-b", copy_b, 120),
            inst_b,
            layer(4, "sha256:rm", "/bin/sh -c rm -rf /root/.cache/pip", 0),
        ],
        pa,
    )
    return a, b


def identical_pair() -> tuple[InspectReport, InspectReport]:
    pa = [_numpy(installer="pip"), _six("pip")]
    cmd = "/bin/sh -c pip install numpy six"
    a = report("app:latest", [BASE, install_layer(1, "sha256:a1", cmd, pa)], pa)
    b = a.model_copy(deep=True)
    b.image.ref = "app.tar"
    return a, b


def moved_pair() -> tuple[InspectReport, InspectReport]:
    """B installs the same distributions into a venv instead of /usr/local."""
    pa = [_numpy(installer="pip"), _six("pip")]
    pb = [p.model_copy(update={"site_packages": VENV}) for p in pa]
    cmd = "/bin/sh -c pip install numpy six"
    a = report("app:system", [BASE, install_layer(1, "sha256:a1", cmd, pa)], pa)
    b = report("app:venv", [BASE, install_layer(1, "sha256:b1", cmd, pb)], pb)
    return a, b


def install_pair(pa: list[Package], pb: list[Package]) -> tuple[InspectReport, InspectReport]:
    """A and B: the same base layer plus one install layer holding exactly their packages."""
    la = [BASE, install_layer(1, "sha256:a1", "RUN pip install -r requirements.txt", pa)]
    lb = [BASE, install_layer(1, "sha256:b1", "RUN pip install -r requirements.txt", pb)]
    return report("a", la, pa), report("b", lb, pb)


def added_removed_pair() -> tuple[InspectReport, InspectReport]:
    """B adds four distributions (one without a version), removes one, keeps one."""
    return install_pair(
        [pkg("old", "1", cats(source=300)), pkg("keep", "1", cats(source=10))],
        [
            pkg("keep", "1", cats(source=10)),
            pkg("new-b", "2", cats(source=300)),
            pkg("new-a", "2", cats(native=300)),
            pkg("big", "3", cats(data=1000)),
            pkg("tiny", None, cats(data=1)),
        ],
    )


def hardlinked_cache_pair() -> tuple[InspectReport, InspectReport]:
    """B deletes a uv cache that was partly hardlinked into the venv: 100 MB of cache bytes
    go, only the 300 kB nothing else links are freed from view, and they stay shipped as dead
    bytes."""
    pa = [pkg("numpy", "1", cats(native=99_700_000), site=VENV, installer="uv")]
    install = layer(1, "i", "RUN uv pip install numpy", 100 * MB, python=cats(native=99_700_000))
    a = report("a", [BASE, install], pa)
    a.caches = [cache("/root/.cache/uv", "uv", 100 * MB, exclusive=300_000)]
    a.totals.cache_bytes = 100 * MB
    dead = DeadCategories(cache=300_000)
    install_b = install.model_copy(update={"dead_bytes": 300_000, "dead_categories": dead})
    b = report("b", [BASE, install_b, layer(2, "rm", "RUN rm -rf /root/.cache/uv", 0)], pa)
    return a, b


def dead_wheelhouse_pair() -> tuple[InspectReport, InspectReport]:
    """A's wheelhouse layer held 30 MB of dead bytes; B's layer at that position holds none."""
    wheels = DeadCategories(cache=30 * MB)
    a = report(
        "a",
        [
            BASE,
            layer(1, "w", "COPY multi:" + "e" * 64 + " in /wheels/", 30 * MB, dead=wheels),
            layer(2, "rm", "RUN rm -rf /wheels", 0),
        ],
        [],
    )
    b = report("b", [BASE, layer(1, "v", "COPY dir:" + "f" * 64 + " in /opt/venv", 0)], [])
    return a, b
