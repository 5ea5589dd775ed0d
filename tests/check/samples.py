"""Hand-built `InspectReport`s for the budget gate's tests (no image reading involved).

The numbers are chosen so that every total is the sum of its parts and every rule can be put
on either side of its limit with round budgets.
"""

from __future__ import annotations

from pyimgsize.report import (
    Cache,
    Categories,
    CheckReport,
    DeadCategories,
    ImageInfo,
    InspectReport,
    Layer,
    Package,
    RuleResult,
    SitePackages,
    Totals,
)

MB = 10**6
SITE = "/opt/venv/lib/python3.12/site-packages"
SYSTEM_SITE = "/usr/lib/python3/dist-packages"


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


# --- scenarios shared by the verdict (data) tests and the wording tests ------------------------


def only(report: CheckReport, rule: str) -> RuleResult:
    """The one result of `rule` in `report`."""
    matches = [r for r in report.rules if r.rule == rule]
    assert len(matches) == 1, [r.rule for r in report.rules]
    return matches[0]


def with_caches(*caches: Cache) -> InspectReport:
    """The sample image with other caches (and their total)."""
    report = sample_report()
    report.caches = list(caches)
    report.totals.cache_bytes = sum(c.bytes for c in caches)
    return report


def mostly_uv_cache() -> InspectReport:
    return with_caches(
        Cache(path="/root/.cache/uv", kind="uv", bytes=11 * MB, exclusive_bytes=2 * MB),
        Cache(path="/root/.cache/pip", kind="pip", bytes=1 * MB, exclusive_bytes=1 * MB),
    )


def non_cache_dead() -> InspectReport:
    """The pip layer's 30 MB dead are build leftovers, not caches."""
    report = sample_report()
    report.layers[1] = layer(1, "/bin/sh -c make", 500 * MB, dead=DeadCategories(other=30 * MB))
    return report


def grown_by_a_new_distribution() -> tuple[InspectReport, InspectReport]:
    """(baseline, current): +8 MB, of which 4 MB a new distribution (rich), 4 MB outside Python."""
    baseline = sample_report(ref="docker:app:main")
    current = sample_report(image_bytes_extra=8 * MB)
    current.packages.append(package("rich", source=3 * MB, data=1 * MB))
    current.totals.python_bytes += 4 * MB
    return baseline, current


def grown_in_caches_and_unowned_files() -> tuple[InspectReport, InspectReport]:
    """(baseline, current): +10 MB: caches +3 MB, unowned site-packages files +3 MB (requests
    shrank by 1 MB), the rest (5 MB) outside Python."""
    baseline = sample_report(ref="docker:app:main")
    current = sample_report(image_bytes_extra=10 * MB)
    current.totals.cache_bytes += 3 * MB
    current.totals.python_bytes += 2 * MB  # owned by no distribution
    current.packages[2] = package("requests", bytecode=1 * MB, source=1 * MB, metadata=1 * MB)
    return baseline, current


def with_two_numpy_installs() -> InspectReport:
    report = sample_report()
    report.packages.append(package("numpy", native=10 * MB, site=SYSTEM_SITE))
    return report
