"""Hand-built, realistic inspect reports for renderer and schema tests.

`python_report()` models an application image read from an OCI layout: a Debian base, a
source-built CPython 3.12 in /usr/local (with pip), a venv in /opt/venv filled by pip
(numpy, pandas, requests and their dependencies) in a layer that also left a pip cache which
a later layer deletes (dead bytes), httpx & co. installed by uv without bytecode compilation
(a uv cache stays behind, partly hardlinked into the venv), a stray wheel, a few problems and
bytecode-health findings. `no_python_report()` is a small Alpine-like image with no Python.

The numbers are consistent where the contract ties them together (design.md §2 and §3): a
distribution's categories add up to its bytes, site-packages bytes are their distributions'
plus the unowned files, `image.layer_bytes - image.bytes == totals.dead_bytes`, and the
layers' dead bytes add up to `totals.dead_bytes`.
"""

from __future__ import annotations

from pyimgsize.report import (
    BytecodeBucket,
    BytecodeHealth,
    Cache,
    Categories,
    DeadCategories,
    Evidence,
    Fix,
    ImageInfo,
    InspectReport,
    Layer,
    Package,
    Problem,
    SitePackages,
    Suggestion,
    Totals,
)

VENV = "/opt/venv/lib/python3.12/site-packages"
SYSTEM = "/usr/local/lib/python3.12/site-packages"

# name, version, installer, site-packages, layer, files, bytecode, source, native, metadata, data
_DISTS: tuple[tuple[str, str | None, str | None, str, int, int, int, int, int, int, int], ...] = (
    ("numpy", "1.26.4", "pip", VENV, 2, 1_734, 9_812_004, 7_301_772, 38_110_520, 61_230, 2_004_117),
    (
        "pandas",
        "2.2.2",
        "pip",
        VENV,
        2,
        2_560,
        14_504_873,
        17_802_311,
        21_887_402,
        108_556,
        5_240_119,
    ),
    ("pip", "24.0", "pip", VENV, 2, 1_024, 5_870_330, 5_220_118, 0, 14_372, 891_504),
    ("pip", "24.0", "pip", SYSTEM, 1, 1_027, 5_870_330, 5_220_118, 0, 14_372, 892_194),
    ("pytz", "2024.1", "pip", VENV, 2, 612, 48_211, 35_882, 0, 28_004, 2_790_116),
    ("tzdata", "2024.1", "pip", VENV, 2, 1_012, 35_774, 7_993, 0, 27_310, 1_612_345),
    ("python-dateutil", "2.9.0.post0", "pip", VENV, 2, 44, 501_224, 286_917, 0, 22_980, 156_222),
    ("urllib3", "2.2.2", "pip", VENV, 2, 74, 560_214, 398_771, 0, 8_219, 0),
    ("httpx", "0.27.0", "uv", VENV, 4, 30, 0, 517_338, 0, 8_940, 0),
    ("anyio", "4.4.0", "uv", VENV, 4, 45, 0, 369_124, 0, 20_011, 0),
    ("charset-normalizer", "3.3.2", "pip", VENV, 2, 33, 98_113, 91_742, 300_568, 35_204, 0),
    ("idna", "3.7", "pip", VENV, 2, 22, 290_003, 284_655, 0, 9_780, 0),
    ("requests", "2.32.3", "pip", VENV, 2, 42, 238_190, 190_335, 0, 10_412, 0),
    ("certifi", "2024.7.4", "pip", VENV, 2, 11, 3_245, 1_760, 0, 2_999, 291_528),
    ("httpcore", "1.0.5", "uv", VENV, 4, 40, 0, 238_006, 0, 5_780, 0),
    ("h11", "0.14.0", "uv", VENV, 4, 29, 0, 135_112, 0, 6_024, 0),
    ("six", "1.16.0", "pip", VENV, 2, 6, 41_567, 34_549, 0, 2_731, 0),
    ("sniffio", "1.3.1", "uv", VENV, 4, 10, 0, 6_014, 0, 4_409, 0),
    ("localpkg", None, None, VENV, 3, 4, 3_910, 2_208, 0, 1_175, 0),
)

# Files distributions own outside their site-packages (console scripts in */bin), in `data`.
_OUTSIDE: dict[tuple[str, str], int] = {(VENV, "pip"): 690, (SYSTEM, "pip"): 690}

# Unowned files per site-packages (path -> (layer, categories)): .pth files, stray __pycache__.
_UNOWNED: dict[str, tuple[int, Categories]] = {
    VENV: (2, Categories(bytecode=187_552, data=18_230)),
    SYSTEM: (1, Categories(data=119)),
}

_STDLIB = Categories(bytecode=27_334_118, source=31_207_760, native=7_904_332, data=6_103_905)
"""/usr/local/lib/python3.12 outside site-packages (plus the interpreter) written by layer 1."""

_UV_LINKED = 1_261_618
"""Bytes of the uv cache hardlinked into the venv (owned by the distributions)."""


def _packages() -> list[Package]:
    packages: list[Package] = []
    for name, version, installer, site, layer, files, *sizes in _DISTS:
        bytecode, source, native, metadata, data = sizes
        cats = Categories(
            bytecode=bytecode, source=source, native=native, metadata=metadata, data=data
        )
        packages.append(
            Package(
                name=name,
                version=version,
                installer=installer,
                site_packages=site,
                bytes=cats.total(),
                files=files,
                categories=cats,
                layers={str(layer): cats.total()},
                metadata_path=(
                    f"{site}/{name}.egg-info"
                    if installer is None
                    else f"{site}/{name.replace('-', '_')}-{version}.dist-info"
                ),
                ownership="installed-files.txt" if installer is None else "RECORD",
                layer_categories={str(layer): cats},
            )
        )
    packages.sort(key=lambda p: (-p.bytes, p.name, p.site_packages))
    return packages


def _add(a: Categories, b: Categories) -> Categories:
    return Categories(**{k: getattr(a, k) + getattr(b, k) for k in Categories.model_fields})


def _site_packages(packages: list[Package]) -> list[SitePackages]:
    result: list[SitePackages] = []
    for path, kind in ((VENV, "venv"), (SYSTEM, "system")):
        _, unowned = _UNOWNED[path]
        cats = unowned
        files = 41
        for p in packages:
            if p.site_packages == path:
                cats = _add(cats, p.categories)
                files += p.files
        outside = sum(v for (site, _), v in _OUTSIDE.items() if site == path)
        cats = cats.model_copy(update={"data": cats.data - outside})
        result.append(
            SitePackages(
                path=path,
                bytes=cats.total(),
                unowned_bytes=unowned.total(),
                categories=cats,
                kind=kind,
                files=files,
            )
        )
    result.sort(key=lambda s: (-s.bytes, s.path))
    return result


def _python_by_layer(packages: list[Package]) -> dict[int, Categories]:
    by_layer: dict[int, Categories] = {}
    for p in packages:
        for layer, cats in p.layer_categories.items():
            by_layer[int(layer)] = _add(by_layer.get(int(layer), Categories()), cats)
    for index, unowned in _UNOWNED.values():
        by_layer[index] = _add(by_layer.get(index, Categories()), unowned)
    return by_layer


_SHA = "sha256:"


def _digest(seed: int) -> str:
    return _SHA + f"{seed:02x}" * 32


def _layer(
    index: int,
    created_by: str | None,
    sizes: tuple[int, int, int | None],
    python: Categories,
    dead: DeadCategories | None = None,
) -> Layer:
    """A layer from (stored bytes, files, compressed bytes), Python categories, dead bytes."""
    stored, files, compressed = sizes
    dead = dead or DeadCategories()
    return Layer(
        index=index,
        diff_id=_digest(0xA0 + index),
        created_by=created_by,
        bytes=stored,
        dead_bytes=dead.total(),
        compressed_bytes=compressed,
        python_bytes=python.total(),
        categories=python,
        dead_categories=dead,
        files=files,
        tar_bytes=stored + files * 1_024 + 10_240 if stored else 10_240,
    )


_PIP_CACHE = 46_210_771
_UV_CACHE = 9_804_112
_WHEEL = 48_213
_BASE_PURGED = 1_204_331
_UV_BINARIES = 38_915_224


def python_report() -> InspectReport:
    """The application image described in the module docstring."""
    packages = _packages()
    site_packages = _site_packages(packages)
    py = _python_by_layer(packages)
    zero = Categories()
    layers = [
        _layer(
            0,
            "/bin/sh -c #(nop) ADD"
            " file:5d673d25da3a14ce1f6cf66e4c7fd4f4b85a3759a9d93efb3fd9ff852b5b56e4 in / ",
            (74_799_451, 8_914, 29_126_484),
            zero,
            DeadCategories(other=_BASE_PURGED),
        ),
        _layer(
            1,
            '/bin/sh -c set -eux;   savedAptMark="$(apt-mark showmanual)";   apt-get update;'
            "   apt-get install -y --no-install-recommends dpkg-dev gcc libssl-dev make;"
            '   ./configure --enable-optimizations --with-lto;   make -j "$(nproc)";'
            "   make install;   apt-get purge -y --auto-remove",
            (_STDLIB.total() + py[1].total() + 690 + 3_118_006, 5_102, 16_882_113),
            py[1],
            DeadCategories(),
        ),
        _layer(
            2,
            "RUN /bin/sh -c python -m venv /opt/venv"
            "     && /opt/venv/bin/pip install -r requirements.txt # buildkit",
            (py[2].total() + 690 + _PIP_CACHE, 7_490, 96_018_727),
            py[2],
            DeadCategories(cache=_PIP_CACHE),
        ),
        _layer(3, "COPY --from=uv /uv /uvx /bin/ # buildkit", (_UV_BINARIES, 2, 15_230_964), zero),
        _layer(
            4,
            "RUN |1 EXTRA=http /bin/sh -c uv pip install --python /opt/venv/bin/python"
            " -r requirements-http.txt # buildkit",
            (py[4].total() + _UV_CACHE - _UV_LINKED, 287, 4_118_530),
            py[4],
        ),
        _layer(5, "RUN /bin/sh -c rm -rf /root/.cache/pip # buildkit", (0, 0, 93), zero),
        _layer(
            6, "COPY dist/app-1.4.0-py3-none-any.whl /tmp/ # buildkit", (_WHEEL, 1, 48_390), zero
        ),
        _layer(7, "WORKDIR /app", (0, 0, 93), zero),
    ]
    layer_bytes = sum(layer.bytes for layer in layers)
    dead = sum(layer.dead_bytes for layer in layers)
    python_bytes = sum(s.bytes for s in site_packages) + 2 * 690
    bytecode = _STDLIB.bytecode + sum(s.categories.bytecode for s in site_packages)
    uv_sources = sum(p.categories.source for p in packages if p.installer == "uv")
    uv_files = sum(p.files for p in packages if p.installer == "uv")
    return InspectReport(
        image=ImageInfo(
            ref="oci:build/app-oci.tar",
            source="oci",
            id=_digest(0x3F),
            bytes=layer_bytes - dead,
            layer_bytes=layer_bytes,
            platform="linux/amd64",
            compressed_bytes=sum(layer.compressed_bytes or 0 for layer in layers),
            files=sum(layer.files for layer in layers) - 3_512,
            tags=["app:1.4.0"],
        ),
        layers=layers,
        site_packages=site_packages,
        packages=packages,
        caches=[
            Cache(
                path="/root/.cache/uv",
                kind="uv",
                bytes=_UV_CACHE,
                exclusive_bytes=_UV_CACHE - _UV_LINKED,
                files=402,
            ),
            Cache(
                path="/tmp/app-1.4.0-py3-none-any.whl",
                kind="wheel",
                bytes=_WHEEL,
                exclusive_bytes=_WHEEL,
                files=1,
            ),
        ],
        totals=Totals(
            python_bytes=python_bytes,
            bytecode_bytes=bytecode,
            cache_bytes=_UV_CACHE + _WHEEL,
            dead_bytes=dead,
        ),
        problems=[
            Problem(
                message="RECORD row 118 has 2 fields, expected 3; row skipped",
                path=f"{VENV}/six-1.16.0.dist-info/RECORD",
                layer=2,
                kind="record",
            ),
            Problem(
                message="RECORD lists ../../../bin/f2py, which is not in the final view",
                path=f"{VENV}/numpy-1.26.4.dist-info/RECORD",
                layer=2,
                kind="record",
            ),
            Problem(
                message="entry below a lower layer's symlinked directory: kept the literal path",
                path="/opt/venv/lib64/python3.12/site-packages/_uv_marker.pth",
                layer=4,
                kind="symlink-parent",
            ),
            Problem(
                message="image history has 9 non-empty entries for 8 layers; "
                "created_by matched by position",
                kind="history",
            ),
        ],
        bytecode=BytecodeHealth(
            interpreters=["cpython-312"],
            foreign_tag=BytecodeBucket(files=12, bytes=187_552),
            without_source=BytecodeBucket(files=3, bytes=9_114),
            source_without_pyc=BytecodeBucket(files=uv_files - 25, bytes=uv_sources),
        ),
        python_found=True,
    )


def no_python_report() -> InspectReport:
    """A small Alpine-like image from the engine: no Python, no compressed sizes."""
    layers = [
        _layer(
            0,
            "/bin/sh -c #(nop) ADD"
            " file:33ebe56b967747a97dcec01bc2559962bee8823686c9739d26be060381bbb3ca in / ",
            (7_797_760, 84, None),
            Categories(),
            DeadCategories(other=98_304),
        ),
        _layer(
            1,
            "RUN /bin/sh -c apk add --no-cache curl ca-certificates"
            " && rm -f /etc/ssl/cert.pem.apk-new # buildkit",
            (5_410_112, 61, None),
            Categories(),
            DeadCategories(),
        ),
    ]
    layer_bytes = sum(layer.bytes for layer in layers)
    dead = sum(layer.dead_bytes for layer in layers)
    return InspectReport(
        image=ImageInfo(
            ref="docker:alpine-curl:3.20",
            source="docker",
            id=_digest(0x7B),
            bytes=layer_bytes - dead,
            layer_bytes=layer_bytes,
            platform="linux/arm64/v8",
            files=143,
        ),
        layers=layers,
        site_packages=[],
        packages=[],
        caches=[],
        totals=Totals(python_bytes=0, bytecode_bytes=0, cache_bytes=0, dead_bytes=dead),
        problems=[],
        python_found=False,
    )


def many_problems_report(n: int = 27) -> InspectReport:
    """`python_report()` with `n` problems, to exercise the "… and N more" cap."""
    report = python_report()
    problems = [
        Problem(
            message=f"cannot parse RECORD row {i}",
            path=f"{VENV}/pkg{i:02d}-1.0.dist-info/RECORD",
            layer=2,
        )
        for i in range(n)
    ]
    return report.model_copy(update={"problems": problems})


def suggestions() -> list[Suggestion]:
    """What advise finds in the application image: pip's cache deleted in a later layer, uv's
    cache hardlinked into the venv, the app wheel COPY'd in, and pip's bytecode."""
    bytecode = sum(p.categories.bytecode for p in _packages() if p.installer == "pip")
    return [
        Suggestion(
            id="pip-cache",
            saves_bytes=_PIP_CACHE,
            layers={"2": _PIP_CACHE},
            confidence="exact",
            evidence=[
                Evidence(path="/root/.cache/pip/http-v2/5/1/a/51a2.body", bytes=17_201_334, layer=2)
            ],
            files=212,
            fix=Fix(
                kind="pip-no-cache-dir",
                installer="pip",
                env={"PIP_NO_CACHE_DIR": "1"},
                flags=["--no-cache-dir"],
                paths=["/root/.cache/pip"],
                layer=2,
                suggestion="pip-cache",
                written_by="run",
                changed_by=[5],
            ),
        ),
        Suggestion(
            id="bytecode",
            saves_bytes=bytecode,
            layers={"2": bytecode},
            confidence="exact",
            packages=sorted({p.name for p in _packages() if p.installer == "pip"}),
            files=1_804,
            fix=Fix(
                kind="no-compile",
                installer="pip",
                flags=["--no-compile"],
                layer=2,
                suggestion="bytecode",
                written_by="run",
            ),
            tradeoff="first-import-compiles",
        ),
        Suggestion(
            id="uv-cache",
            saves_bytes=_UV_CACHE - _UV_LINKED,
            layers={"4": _UV_CACHE - _UV_LINKED},
            confidence="exact",
            files=120,
            fix=Fix(
                kind="uv-no-cache",
                installer="uv",
                env={"UV_NO_CACHE": "1"},
                flags=["--no-cache"],
                paths=["/root/.cache/uv"],
                layer=4,
                suggestion="uv-cache",
                written_by="run",
                linked_bytes=_UV_LINKED,
            ),
        ),
        Suggestion(
            id="stray-wheels",
            saves_bytes=_WHEEL,
            layers={"6": _WHEEL},
            confidence="exact",
            evidence=[Evidence(path="/tmp/app-1.4.0-py3-none-any.whl", bytes=_WHEEL, layer=6)],
            files=1,
            fix=Fix(kind="multi-stage", layer=6, suggestion="stray-wheels", written_by="copy"),
        ),
    ]


def advised_report() -> InspectReport:
    """The application image with its suggestions."""
    report = python_report()
    ordered = sorted(suggestions(), key=lambda s: -s.saves_bytes)
    return report.model_copy(update={"suggestions": ordered})
