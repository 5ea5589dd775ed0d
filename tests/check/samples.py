"""Hand-built `InspectReport`s for the budget gate's tests (no image reading involved).

The numbers are chosen so that every total is the sum of its parts and every rule can be put
on either side of its limit with round budgets.
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
    SitePackages,
    Totals,
)

MB = 10**6
SITE = "/opt/venv/lib/python3.12/site-packages"


def package(
    name: str,
    *,
    bytecode: int = 0,
    source: int = 0,
    native: int = 0,
    metadata: int = 0,
    data: int = 0,
    installer: str = "pip",
    site: str = SITE,
    layer: int = 2,
) -> Package:
    cats = Categories(bytecode=bytecode, source=source, native=native, metadata=metadata, data=data)
    return Package(
        name=name,
        version="1.0",
        installer=installer,
        site_packages=site,
        bytes=cats.total(),
        files=10,
        categories=cats,
        layers={str(layer): cats.total()},
    )


def layer(
    index: int,
    created_by: str,
    bytes_: int,
    *,
    dead: DeadCategories | None = None,
    python: int = 0,
) -> Layer:
    dead = dead or DeadCategories()
    return Layer(
        index=index,
        diff_id=f"sha256:{index:064x}",
        created_by=created_by,
        bytes=bytes_,
        dead_bytes=dead.total(),
        compressed_bytes=None,
        python_bytes=python,
        categories=Categories(),
        dead_categories=dead,
    )


def sample_report(*, ref: str = "docker:app:pr", image_bytes_extra: int = 0) -> InspectReport:
    """A 3-layer image: base OS (80 MB), a pip install (500 MB, 30 MB of it dead cache),
    the app (20 MB, 5 MB of it dead data). 565 MB visible (+ `image_bytes_extra` in the last
    layer), 600 MB stored; 180 MB Python; 60 MB bytecode; 12 MB caches; 35 MB dead."""
    pandas = package(
        "pandas", bytecode=31 * MB, source=40 * MB, native=45 * MB, metadata=1 * MB, data=3 * MB
    )
    numpy = package(
        "numpy", bytecode=14 * MB, source=6 * MB, native=30 * MB, metadata=1 * MB, data=2 * MB
    )
    requests = package("requests", bytecode=2 * MB, source=1 * MB, metadata=1 * MB)
    packages = [pandas, numpy, requests]
    owned = sum(p.bytes for p in packages)  # 176 MB
    site = SitePackages(
        path=SITE,
        bytes=owned + 4 * MB,
        unowned_bytes=4 * MB,
        categories=Categories(bytecode=47 * MB),
    )
    layers = [
        layer(0, "/bin/sh -c #(nop) ADD file:abc in / ", 80 * MB),
        layer(
            1,
            "/bin/sh -c pip install -r requirements.txt",
            500 * MB,
            dead=DeadCategories(cache=30 * MB),
            python=190 * MB,
        ),
        layer(
            2,
            "/bin/sh -c #(nop) COPY dir:def in /app ",
            20 * MB + image_bytes_extra,
            dead=DeadCategories(data=5 * MB),
            python=10 * MB,
        ),
    ]
    layer_bytes = sum(lay.bytes for lay in layers)
    dead_bytes = sum(lay.dead_bytes for lay in layers)
    return InspectReport(
        image=ImageInfo(
            ref=ref,
            source="docker",
            id="sha256:" + "ab" * 32,
            bytes=layer_bytes - dead_bytes,
            layer_bytes=layer_bytes,
            platform="linux/amd64",
        ),
        layers=layers,
        site_packages=[site],
        packages=packages,
        caches=[
            Cache(path="/root/.cache/pip", kind="pip", bytes=9 * MB, exclusive_bytes=9 * MB),
            Cache(
                path="/tmp/app-1.0-py3-none-any.whl",
                kind="wheel",
                bytes=3 * MB,
                exclusive_bytes=3 * MB,
            ),
        ],
        totals=Totals(
            python_bytes=180 * MB,
            bytecode_bytes=60 * MB,
            cache_bytes=12 * MB,
            dead_bytes=dead_bytes,
        ),
        problems=[],
    )
