"""Exact numbers for Python attribution (design.md §3) on generated images.

Every expectation is computed from the sizes of the fixture entries the test wrote: each
distribution's bytes, files, categories and per-layer bytes; each site-packages directory's
bytes, unowned bytes and categories; the layers' Python bytes; the totals.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures import Dir, File, Hardlink, Image, Layer, Symlink, Whiteout, dist
from fixtures.python import pyc_path
from pyimgsize.report import InspectReport
from tests.pyimages import (
    PYTHON311,
    ZERO,
    add,
    cats,
    dead,
    files_of,
    inspect_image,
    messages,
    norm,
    package,
    problems_about,
    site_packages,
    size,
)

VENV = "opt/venv"
SITE = f"{VENV}/lib/python3.11/site-packages"


def venv_scaffold(venv: str = VENV) -> list[File | Dir | Symlink]:
    """What `python -m venv` writes: pyvenv.cfg, bin/python, lib64 -> lib, an empty site."""
    return [
        Symlink(f"{venv}/bin/python", "/usr/local/bin/python3.11"),
        Dir(f"{venv}/lib/python3.11/site-packages"),
        Symlink(f"{venv}/lib64", "lib"),
        File(f"{venv}/pyvenv.cfg", data=b"home = /usr/local/bin\nversion = 3.11.7\n"),
    ]


def in_site(site: str) -> Callable[[File], bool]:
    return lambda f: f.path.startswith(f"{site}/")


def outside(site: str) -> Callable[[File], bool]:
    return lambda f: not f.path.startswith(f"{site}/")


def assert_no_dead(report: InspectReport) -> None:
    for layer in report.layers:
        assert layer.dead_bytes == 0
        assert layer.dead_categories.model_dump() == dead()
    assert report.totals.dead_bytes == 0


# --- venv, pip RECORD ---------------------------------------------------------------------


def test_venv_pip_record_with_pyc_rows_scripts_native_and_lib64(tmp_path: Path) -> None:
    scaffold_site = [
        File(f"{SITE}/__pycache__/_virtualenv.cpython-311.pyc", size=2300),
        File(f"{SITE}/_virtualenv.pth", size=18),
        File(f"{SITE}/_virtualenv.py", size=4200),
    ]
    numpy = dist(
        SITE,
        "numpy",
        "1.26.4",
        {
            "numpy.libs/libgfortran-040039e1.so.5.0.0": 7000,
            "numpy.libs/libopenblas64_p-r0-0cf96a72.3.23.dev.so": 30_000,
            "numpy.libs/NOTICE": 13,
            "numpy/__init__.py": 1200,
            "numpy/__init__.pyi": 40,
            "numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so": 50_000,
            "numpy/core/include/numpy/ndarraytypes.h": 800,
            "numpy/core/libhelper.so.1": 900,
            "numpy/core/multiarray.py": 2600,
            "numpy/py.typed": 0,
        },
        scripts={"bin/f2py": 221},
    )
    # a RECORD row may be absolute, here through the venv's lib64 -> lib symlink
    extra = dist(
        SITE,
        "extra",
        "2.0",
        {"extra/__init__.py": 10},
        extra_record_rows=[f"/{VENV}/lib64/python3.11/site-packages/extra/abs.py,,"],
    )
    extra_abs = [
        File(f"{SITE}/extra/__pycache__/abs.cpython-311.pyc", size=450),
        File(f"{SITE}/extra/abs.py", size=700),
    ]
    image = Image(
        layers=[
            Layer(PYTHON311, created_by="base"),
            Layer([*venv_scaffold(), *scaffold_site], created_by="python -m venv /opt/venv"),
            Layer([*numpy, *extra, *extra_abs], created_by="pip install numpy extra"),
        ]
    )
    r = inspect_image(tmp_path, image)

    # the pip RECORD lists the pycs with an empty size; the script lives outside site-packages
    record = next(f for f in numpy if f.path.endswith("/RECORD"))
    assert record.data is not None
    assert b"numpy/__pycache__/__init__.cpython-311.pyc,," in record.data
    assert b"../../../bin/f2py,sha256=" in record.data

    np = package(r, "numpy")
    assert (np.name, np.version, np.installer) == ("numpy", "1.26.4", "pip")
    assert np.site_packages == norm(SITE)
    assert np.ownership == "RECORD"
    assert np.bytes == size(numpy)
    assert np.files == len(files_of(numpy))
    assert np.categories.model_dump() == cats(numpy)
    # native: .so, .so.N and everything in numpy.libs/ (the NOTICE too)
    assert np.categories.native == 7000 + 30_000 + 13 + 50_000 + 900
    assert np.categories.source == 1200 + 40 + 2600
    assert np.categories.data == 800 + 0 + 221
    assert np.layers == {"2": size(numpy)}
    assert np.layer_categories["2"].model_dump() == cats(numpy)

    ex = package(r, "extra")
    assert ex.bytes == size(extra) + 450 + 700
    assert ex.files == len(files_of(extra)) + 2
    assert ex.categories.bytecode == size(extra, lambda f: f.path.endswith(".pyc")) + 450

    # lib64 -> lib: one site-packages directory, under its real path
    assert [s.path for s in r.site_packages] == [norm(SITE)]
    sp = site_packages(r, SITE)
    assert sp.kind == "venv"
    owned_in_site = [*files_of(numpy, in_site(SITE)), *extra, *extra_abs]
    assert sp.bytes == size(owned_in_site) + size(scaffold_site)
    assert sp.files == len(owned_in_site) + len(scaffold_site)
    assert sp.unowned_bytes == size(scaffold_site) == 2300 + 18 + 4200
    assert sp.categories.model_dump() == add(cats(owned_in_site), cats(scaffold_site))

    assert r.totals.python_bytes == sp.bytes + 221
    assert r.totals.bytecode_bytes == size(
        [*numpy, *extra, *extra_abs, *scaffold_site], lambda f: f.path.endswith(".pyc")
    )
    assert r.totals.cache_bytes == 0
    assert r.caches == []

    assert [layer.python_bytes for layer in r.layers] == [
        0,
        size(scaffold_site),
        size([*numpy, *extra, *extra_abs]),
    ]
    assert r.layers[0].categories.model_dump() == ZERO
    assert r.layers[1].categories.model_dump() == cats(scaffold_site)
    assert r.layers[2].categories.model_dump() == cats([*numpy, *extra, *extra_abs])
    assert_no_dead(r)
    assert r.problems == []
    assert r.python_found is True


# --- uv RECORD, bytecode in a later layer ---------------------------------------------------


def test_uv_record_without_pycs_and_pycs_compiled_in_a_later_layer(tmp_path: Path) -> None:
    files = {"attrs/__init__.py": 3000, "attrs/converters.py": 1000, "attrs/py.typed": 0}
    attrs = dist(SITE, "attrs", "23.2.0", files, installer="uv", pyc=False)
    installer = next(f for f in attrs if f.path.endswith("/INSTALLER"))
    assert installer.data == b"uv"
    record = next(f for f in attrs if f.path.endswith("/RECORD"))
    assert record.data is not None
    assert b".pyc" not in record.data
    pycs = [
        File(pyc_path(f"{SITE}/attrs/__init__.py"), size=2100),
        File(pyc_path(f"{SITE}/attrs/converters.py"), size=900),
    ]
    image = Image(
        layers=[
            Layer(PYTHON311, created_by="base"),
            Layer(venv_scaffold(), created_by="uv venv /opt/venv"),
            Layer(attrs, created_by="uv pip install attrs"),
            Layer(pycs, created_by="python -m compileall /opt/venv"),
        ]
    )
    r = inspect_image(tmp_path, image)

    pkg = package(r, "attrs")
    assert pkg.installer == "uv"
    assert pkg.bytes == size(attrs) + 3000
    assert pkg.files == len(attrs) + 2
    assert pkg.categories.model_dump() == add(cats(attrs), {"bytecode": 3000})
    assert pkg.layers == {"2": size(attrs), "3": 3000}
    assert pkg.layer_categories["3"].model_dump() == add(ZERO, {"bytecode": 3000})

    sp = site_packages(r, SITE)
    assert sp.unowned_bytes == 0
    assert sp.bytes == pkg.bytes
    assert [layer.python_bytes for layer in r.layers] == [0, 0, size(attrs), 3000]
    assert r.layers[3].categories.model_dump() == add(ZERO, {"bytecode": 3000})
    assert r.totals.bytecode_bytes == 3000
    assert r.bytecode.source_without_pyc.files == 0
    assert_no_dead(r)
    assert r.problems == []


def test_recompiled_bytecode_moves_to_the_later_layer_and_leaves_dead_bytecode(
    tmp_path: Path,
) -> None:
    six = dist(SITE, "six", "1.16.0", {"six.py": 34_000}, pyc_size=29_000)
    old_pyc = next(f for f in six if f.path.endswith(".pyc"))
    image = Image(
        layers=[
            Layer([*venv_scaffold(), *six], created_by="pip install six"),
            Layer([File(old_pyc.path, size=29_500)], created_by="compileall -f"),
        ]
    )
    r = inspect_image(tmp_path, image)
    pkg = package(r, "six")
    assert pkg.bytes == size(six) - 29_000 + 29_500
    assert pkg.layers == {"0": size(six) - 29_000, "1": 29_500}
    assert r.layers[0].dead_bytes == 29_000
    assert r.layers[0].dead_categories.model_dump() == dead(bytecode=29_000)
    assert r.layers[1].python_bytes == 29_500
    assert r.totals.dead_bytes == 29_000
    assert r.image.layer_bytes - r.image.bytes == 29_000


# --- other site-packages locations ----------------------------------------------------------


DEBIAN_SITE = "usr/lib/python3/dist-packages"


def dpkg_list(paths: list[str]) -> bytes:
    """A dpkg `.list`: every directory on the way (as dpkg writes them), then the files."""
    lines = {"/."}
    for p in paths:
        parts = p.split("/")
        for i in range(1, len(parts)):
            lines.add("/" + "/".join(parts[:i]))
        lines.add("/" + p)
    return "".join(f"{line}\n" for line in sorted(lines)).encode()


def test_debian_egg_info_without_file_list_is_attributed_through_dpkg(tmp_path: Path) -> None:
    egg = f"{DEBIAN_SITE}/six-1.16.0.egg-info"
    listed = [
        File(f"{egg}/PKG-INFO", data=b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n"),
        File(f"{egg}/dependency_links.txt", size=1),
        File(f"{egg}/top_level.txt", size=4),
        File(f"{DEBIAN_SITE}/six.py", size=34_549),
        File("usr/share/doc/python3-six/copyright", size=1500),
    ]
    # py3compile's bytecode is in neither the .list nor any RECORD
    pyc = File(f"{DEBIAN_SITE}/__pycache__/six.cpython-311.pyc", size=27_000)
    dpkg = File("var/lib/dpkg/info/python3-six.list", data=dpkg_list([f.path for f in listed]))
    image = Image(
        layers=[
            Layer(
                [
                    File("usr/bin/python3.11", size=5000),
                    File("usr/lib/python3.11/os.py", size=300),
                    *listed,
                    pyc,
                    dpkg,
                ],
                created_by="apt-get install python3-six",
            )
        ]
    )
    r = inspect_image(tmp_path, image)
    pkg = package(r, "six")
    assert (pkg.version, pkg.installer, pkg.ownership) == ("1.16.0", None, "dpkg")
    assert pkg.metadata_path == norm(egg)
    in_site_files = [*files_of(listed, in_site(DEBIAN_SITE)), pyc]
    assert pkg.bytes == size(in_site_files)
    assert pkg.files == 5
    assert pkg.categories.model_dump() == add(
        ZERO, {"metadata": 1 + 4 + len(listed[0].content), "source": 34_549, "bytecode": 27_000}
    )
    sp = site_packages(r, DEBIAN_SITE)
    assert sp.kind == "system"
    assert (sp.bytes, sp.unowned_bytes) == (pkg.bytes, 0)
    assert r.totals.python_bytes == pkg.bytes
    # directories in the .list are not missing files
    assert r.problems == [], messages(r)


@pytest.mark.parametrize(
    ("site", "kind"),
    [
        ("usr/local/lib/python3.11/site-packages", "local"),
        ("usr/local/lib/python3.11/dist-packages", "local"),
        ("usr/lib/python3.11/site-packages", "system"),
        ("usr/lib64/python3.11/site-packages", "system"),
        ("root/.local/lib/python3.11/site-packages", "user"),
        ("home/app/.local/lib/python3.11/site-packages", "user"),
        ("opt/conda/lib/python3.11/site-packages", "conda"),
        ("opt/conda/envs/x/lib/python3.11/site-packages", "conda"),
        ("srv/lib/python3.11/dist-packages", "other"),
    ],
)
def test_site_packages_locations(tmp_path: Path, site: str, kind: str) -> None:
    prefix = site.split("/lib", maxsplit=1)[0]
    conda = [File(f"{prefix}/conda-meta/history", size=120)] if kind == "conda" else []
    pkg_entries = dist(
        site,
        "requests",
        "2.31.0",
        {"requests/__init__.py": 5000, "requests/api.py": 6000},
        installer="conda" if kind == "conda" else "pip",
        scripts={"bin/req": 300},
    )
    unowned = [File(f"{site}/easy-install.pth", size=25)]
    image = Image(
        layers=[
            Layer([*PYTHON311, *conda], created_by="base"),
            Layer([*pkg_entries, *unowned], created_by="install"),
        ]
    )
    r = inspect_image(tmp_path, image)
    pkg = package(r, "requests")
    assert pkg.installer == ("conda" if kind == "conda" else "pip")
    assert pkg.bytes == size(pkg_entries)
    assert pkg.files == len(pkg_entries)
    assert pkg.categories.model_dump() == cats(pkg_entries)
    assert pkg.layers == {"1": size(pkg_entries)}
    # `../../../bin/req`: three levels up from site-packages is the environment prefix
    script = norm(f"{prefix}/bin/req")
    assert [f.path for f in files_of(pkg_entries, outside(site))] == [script.lstrip("/")]

    assert [s.path for s in r.site_packages] == [norm(site)]
    sp = site_packages(r, site)
    assert sp.kind == kind
    assert sp.bytes == size(pkg_entries) - 300 + 25
    assert sp.unowned_bytes == 25
    assert sp.categories.model_dump() == add(cats(pkg_entries, in_site(site)), {"data": 25})
    assert r.totals.python_bytes == size(pkg_entries) + 25
    assert r.layers[1].python_bytes == size(pkg_entries) + 25
    assert r.layers[0].python_bytes == 0
    assert r.problems == []


def test_conda_base_and_named_env_are_separate_site_packages(tmp_path: Path) -> None:
    base_site = "opt/conda/lib/python3.11/site-packages"
    env_site = "opt/conda/envs/x/lib/python3.11/site-packages"
    base_pkg = dist(base_site, "conda", "23.11.0", {"conda/__init__.py": 9000}, installer="conda")
    env_pkg = dist(env_site, "numpy", "1.26.4", {"numpy/__init__.py": 4000}, installer="conda")
    env_pkg2 = dist(env_site, "conda", "23.11.0", {"conda/__init__.py": 9000}, installer="conda")
    image = Image(
        layers=[
            Layer(
                [
                    File("opt/conda/bin/python3.11", size=6000),
                    File("opt/conda/conda-meta/history", size=10),
                    File("opt/conda/envs/x/conda-meta/history", size=10),
                    *base_pkg,
                    *env_pkg,
                    *env_pkg2,
                ]
            )
        ]
    )
    r = inspect_image(tmp_path, image)
    # the env holds more bytes than the base: it comes first
    assert [(s.path, s.kind) for s in r.site_packages] == [
        (norm(env_site), "conda"),
        (norm(base_site), "conda"),
    ]
    assert package(r, "conda", base_site).bytes == size(base_pkg)
    assert package(r, "conda", env_site).bytes == size(env_pkg2)
    assert package(r, "numpy").bytes == size(env_pkg)
    assert site_packages(r, base_site).bytes == size(base_pkg)
    assert site_packages(r, env_site).bytes == size(env_pkg) + size(env_pkg2)
    assert r.totals.python_bytes == size([*base_pkg, *env_pkg, *env_pkg2])
    # same name in two site-packages: one entry each, sorted by bytes, then name, then site
    names = [(p.name, p.site_packages) for p in r.packages]
    assert names.count(("conda", norm(base_site))) == 1
    assert names.count(("conda", norm(env_site))) == 1


def test_pythonpath_target_directory_from_the_image_env(tmp_path: Path) -> None:
    target = "app/deps"
    idna = dist(target, "idna", "3.6", {"idna/__init__.py": 850, "idna/idnadata.py": 44_000})
    plain_code = [File("app/src/main.py", size=1000)]  # on PYTHONPATH, no distributions
    image = Image(
        env=[
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH=/deps:/app/src::/does/not/exist",
        ],
        layers=[
            Layer(PYTHON311, created_by="base"),
            Layer([*idna, *plain_code, Symlink("deps", "/app/deps")], created_by="pip --target"),
        ],
    )
    r = inspect_image(tmp_path, image)
    # named through a symlink, reported once under its real path; /app/src holds no dists
    assert [(s.path, s.kind) for s in r.site_packages] == [(norm(target), "pythonpath")]
    pkg = package(r, "idna")
    assert pkg.site_packages == norm(target)
    assert pkg.bytes == size(idna)
    assert pkg.categories.model_dump() == cats(idna)
    sp = site_packages(r, target)
    assert (sp.bytes, sp.unowned_bytes) == (size(idna), 0)
    assert r.totals.python_bytes == size(idna)
    assert r.layers[1].python_bytes == size(idna)


def test_pythonpath_is_ignored_when_the_env_does_not_set_it(tmp_path: Path) -> None:
    idna = dist("app/deps", "idna", "3.6", {"idna/__init__.py": 850})
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *idna])]))
    assert r.site_packages == []
    assert r.packages == []
    assert r.totals.python_bytes == 0


# --- egg-info ---------------------------------------------------------------------------------


def test_egg_info_directory_with_installed_files_txt(tmp_path: Path) -> None:
    site = "usr/local/lib/python3.11/site-packages"
    egg = dist(
        site,
        "PyYAML",
        "6.0.1",
        {"yaml/__init__.py": 12_000, "yaml/_yaml.cpython-311-x86_64-linux-gnu.so": 2_000_000},
        record="egg",
        scripts={"bin/yamlfmt": 90},
    )
    listing = next(f for f in egg if f.path.endswith("installed-files.txt"))
    assert listing.data is not None
    assert b"../yaml/__init__.py\n" in listing.data
    assert b"../../../../bin/yamlfmt\n" in listing.data
    image = Image(layers=[Layer(PYTHON311), Layer(egg)])
    r = inspect_image(tmp_path, image)
    pkg = package(r, "PyYAML")
    assert (pkg.version, pkg.installer, pkg.ownership) == ("6.0.1", None, "installed-files.txt")
    assert pkg.metadata_path == norm(f"{site}/PyYAML-6.0.1-py3.11.egg-info")
    assert pkg.bytes == size(egg)
    assert pkg.files == len(egg)
    assert pkg.categories.model_dump() == cats(egg)
    assert pkg.categories.native == 2_000_000
    assert norm("usr/local/bin/yamlfmt").lstrip("/") in [f.path for f in egg]
    assert site_packages(r, site).unowned_bytes == 0
    assert r.totals.python_bytes == size(egg)
    assert r.problems == []


def test_single_file_egg_info(tmp_path: Path) -> None:
    site = "usr/local/lib/python3.11/site-packages"
    info = File(
        f"{site}/oldpkg-0.1-py3.11.egg-info",
        data=b"Metadata-Version: 1.0\nName: OldPkg\nVersion: 0.1\n",
    )
    module = File(f"{site}/oldpkg.py", size=2500)
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, info, module])]))
    pkg = package(r, "OldPkg")
    assert (pkg.version, pkg.installer, pkg.ownership) == ("0.1", None, "none")
    # distutils wrote no file list: only the metadata file is the distribution's
    assert (pkg.bytes, pkg.files) == (info.size, 1)
    assert pkg.categories.model_dump() == add(ZERO, {"metadata": info.size})
    sp = site_packages(r, site)
    assert (sp.bytes, sp.unowned_bytes) == (info.size + 2500, 2500)
    assert sp.categories.model_dump() == add(ZERO, {"metadata": info.size, "source": 2500})


# --- dist-info without RECORD, INSTALLER forms ------------------------------------------------


def test_dist_info_without_record_is_a_problem_and_keeps_its_metadata(tmp_path: Path) -> None:
    entries = dist(SITE, "norec", "1.0", {"norec/__init__.py": 700}, record="none")
    meta = files_of(entries, lambda f: ".dist-info/" in f.path)
    assert not any(f.path.endswith("/RECORD") for f in entries)
    image = Image(layers=[Layer([*venv_scaffold(), *entries])])
    r = inspect_image(tmp_path, image)
    pkg = package(r, "norec")
    assert pkg.ownership == "none"
    assert (pkg.bytes, pkg.files) == (size(meta), len(meta))
    assert pkg.categories.model_dump() == add(ZERO, {"metadata": size(meta)})
    sp = site_packages(r, SITE)
    assert sp.bytes == size(entries)
    assert sp.unowned_bytes == size(entries) - size(meta)
    found = problems_about(r, f"{SITE}/norec-1.0.dist-info")
    assert len(found) == 1
    assert "no RECORD" in found[0]
    assert "norec" in found[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"pip\n", "pip"),
        (b"uv", "uv"),
        (b"  poetry \r\n", "poetry"),
        (b"", None),
    ],
)
def test_installer_is_stripped(tmp_path: Path, raw: bytes, expected: str | None) -> None:
    entries = dist(SITE, "pkg", "1.0", {"pkg.py": 10}, installer=None)
    installer = File(f"{SITE}/pkg-1.0.dist-info/INSTALLER", data=raw)
    r = inspect_image(tmp_path, Image(layers=[Layer([*venv_scaffold(), *entries, installer])]))
    pkg = package(r, "pkg")
    assert pkg.installer == expected
    # INSTALLER is not in this RECORD, yet it is in the dist-info directory: metadata
    assert pkg.bytes == size(entries) + len(raw)


def test_installer_written_by_the_fixture_for_pip_and_uv(tmp_path: Path) -> None:
    a = dist(SITE, "a", "1", {"a.py": 10}, installer="pip")
    b = dist(SITE, "b", "1", {"b.py": 10}, installer="uv")
    assert {f.data for f in [*a, *b] if f.path.endswith("INSTALLER")} == {b"pip\n", b"uv"}
    r = inspect_image(tmp_path, Image(layers=[Layer([*venv_scaffold(), *a, *b])]))
    assert {p.name: p.installer for p in r.packages} == {"a": "pip", "b": "uv"}


# --- shared and unowned files ------------------------------------------------------------------


def test_namespace_package_file_listed_by_two_distributions(tmp_path: Path) -> None:
    shared = {"google/__init__.py": 600}
    api = dist(SITE, "google-api-core", "2.15.0", {**shared, "google/api_core/x.py": 9000})
    auth = dist(SITE, "google-auth", "2.25.2", {**shared, "google/auth/y.py": 7000})
    shared_paths = {f"{SITE}/google/__init__.py", pyc_path(f"{SITE}/google/__init__.py")}
    shared_files = files_of(api, lambda f: f.path in shared_paths)
    assert len(shared_files) == 2
    # one layer cannot hold the same path twice: write auth's copy of the shared files once
    auth_own = files_of(auth, lambda f: f.path not in shared_paths)
    r = inspect_image(tmp_path, Image(layers=[Layer(venv_scaffold()), Layer([*api, *auth_own])]))

    a = package(r, "google-api-core")
    b = package(r, "google-auth")
    assert a.bytes == size(api)
    assert b.bytes == size(auth_own) + size(shared_files)
    assert b.files == len(auth_own) + 2
    assert b.categories.model_dump() == add(cats(auth_own), cats(shared_files))
    sp = site_packages(r, SITE)
    # counted in each distribution, once in the site-packages and the totals
    assert sp.bytes == size(api) + size(auth_own)
    assert sp.unowned_bytes == 0
    assert r.totals.python_bytes == sp.bytes
    assert r.layers[1].python_bytes == sp.bytes
    shared_problems = [m for m in messages(r) if "more than one distribution" in m]
    assert len(shared_problems) == 1
    assert "2 file(s)" in shared_problems[0]


def test_unowned_files_are_reported_per_site_packages(tmp_path: Path) -> None:
    other_site = "usr/local/lib/python3.11/site-packages"
    pkg = dist(SITE, "tiny", "1.0", {"tiny.py": 100})
    venv_unowned = [
        File(f"{SITE}/__editable__.proj-0.1.pth", size=77),
        File(f"{SITE}/__pycache__/leftover.cpython-311.pyc", size=900),  # no source
        File(f"{SITE}/_virtualenv.py", size=4200),
        File(f"{SITE}/proj.egg-link", size=30),
        File(f"{SITE}/stray/native.so", size=5000),
    ]
    system_unowned = [
        File(f"{other_site}/distutils-precedence.pth", size=151),
        File(f"{other_site}/README.txt", size=119),
    ]
    image = Image(
        layers=[
            Layer([*PYTHON311, *system_unowned]),
            Layer([*venv_scaffold(), *pkg, *venv_unowned]),
        ]
    )
    r = inspect_image(tmp_path, image)
    venv_sp = site_packages(r, SITE)
    assert venv_sp.bytes == size(pkg) + size(venv_unowned)
    assert venv_sp.unowned_bytes == size(venv_unowned)
    assert venv_sp.categories.model_dump() == add(cats(pkg), cats(venv_unowned))
    assert venv_sp.categories.native == 5000
    sys_sp = site_packages(r, other_site)
    assert (sys_sp.bytes, sys_sp.unowned_bytes) == (270, 270)
    assert sys_sp.categories.model_dump() == add(ZERO, {"data": 270})
    assert [s.path for s in r.site_packages] == [norm(SITE), norm(other_site)]
    assert r.totals.python_bytes == venv_sp.bytes + 270
    assert [layer.python_bytes for layer in r.layers] == [270, venv_sp.bytes]


def test_metadata_category_covers_everything_in_the_metadata_directory(tmp_path: Path) -> None:
    info = f"{SITE}/pkg-1.0.dist-info"
    entries = dist(
        SITE,
        "pkg",
        "1.0",
        {
            "pkg-1.0.dist-info/entry_points.txt": 60,
            "pkg-1.0.dist-info/licenses/LICENSE": 1100,
            "pkg/__init__.py": 300,
        },
        requested=True,
    )
    unlisted = File(f"{info}/direct_url.json", size=80)  # in the directory, not in RECORD
    r = inspect_image(tmp_path, Image(layers=[Layer([*venv_scaffold(), *entries, unlisted])]))
    pkg = package(r, "pkg")
    meta = files_of([*entries, unlisted], lambda f: f.path.startswith(f"{info}/"))
    assert pkg.categories.metadata == size(meta)
    assert pkg.categories.model_dump() == cats([*entries, unlisted])
    assert pkg.bytes == size(entries) + 80
    assert site_packages(r, SITE).unowned_bytes == 0


def test_record_rows_naming_missing_files_are_a_problem(tmp_path: Path) -> None:
    entries = dist(
        SITE,
        "pkg",
        "1.0",
        {"pkg/__init__.py": 300},
        extra_record_rows=["pkg/gone.py,sha256=x,10", "../../../bin/gone,,"],
    )
    r = inspect_image(tmp_path, Image(layers=[Layer([*venv_scaffold(), *entries])]))
    assert package(r, "pkg").bytes == size(entries)
    found = problems_about(r, f"{SITE}/pkg-1.0.dist-info")
    assert len(found) == 1
    assert "2 file(s)" in found[0]


def test_hardlinked_files_of_a_distribution_count_once(tmp_path: Path) -> None:
    entries = dist(SITE, "pkg", "1.0", {"pkg/a.dat": 5000, "pkg/b.dat": 5000}, pyc=False)
    b = f"{SITE}/pkg/b.dat"
    linked = [e if e.path != b else Hardlink(b, f"{SITE}/pkg/a.dat") for e in entries]
    r = inspect_image(tmp_path, Image(layers=[Layer([*venv_scaffold(), *linked])]))
    pkg = package(r, "pkg")
    assert pkg.bytes == size(entries) - 5000
    assert pkg.files == len(entries) - 1
    assert site_packages(r, SITE).bytes == size(entries) - 5000
    assert r.totals.python_bytes == size(entries) - 5000


# --- per layer and dead bytes of Python files ------------------------------------------------


def test_upgrade_in_a_later_layer_splits_per_layer_bytes_and_kills_the_old_files(
    tmp_path: Path,
) -> None:
    v1 = dist(SITE, "pkg", "1.0", {"pkg/__init__.py": 1000, "pkg/old.py": 2000})
    v2 = dist(SITE, "pkg", "2.0", {"pkg/__init__.py": 1500})
    removed = [Whiteout(f"{SITE}/pkg-1.0.dist-info"), Whiteout(f"{SITE}/pkg/old.py")]
    removed += [Whiteout(pyc_path(f"{SITE}/pkg/old.py"))]
    # pkg/__init__.py and its pyc are overwritten; pkg/old.py is deleted
    image = Image(layers=[Layer([*venv_scaffold(), *v1]), Layer([*removed, *v2])])
    r = inspect_image(tmp_path, image)
    pkg = package(r, "pkg")
    assert pkg.version == "2.0"
    assert pkg.bytes == size(v2)
    assert pkg.layers == {"1": size(v2)}
    assert [p.name for p in r.packages] == ["pkg"]
    assert r.layers[0].python_bytes == 0
    dead_v1 = cats(v1)
    assert r.layers[0].dead_bytes == size(v1)
    assert r.layers[0].dead_categories.model_dump() == add(dead(), dead_v1)
    assert r.totals.dead_bytes == size(v1)


def test_partially_overwritten_distribution_has_bytes_in_two_layers(tmp_path: Path) -> None:
    v1 = dist(SITE, "pkg", "1.0", {"pkg/__init__.py": 1000, "pkg/data.bin": 7000}, pyc=False)
    patch = [File(f"{SITE}/pkg/data.bin", size=8000)]
    r = inspect_image(tmp_path, Image(layers=[Layer([*venv_scaffold(), *v1]), Layer(patch)]))
    pkg = package(r, "pkg")
    assert pkg.layers == {"0": size(v1) - 7000, "1": 8000}
    assert pkg.layer_categories["1"].model_dump() == add(ZERO, {"data": 8000})
    assert r.layers[0].dead_categories.model_dump() == dead(data=7000)
    assert r.layers[1].python_bytes == 8000


def test_non_python_dead_bytes_are_other(tmp_path: Path) -> None:
    image = Image(
        layers=[
            Layer([File("var/lib/apt/lists/big", size=40_000), File("tmp/build.log", size=10)]),
            Layer([Whiteout("var/lib/apt/lists"), Whiteout("tmp/build.log")]),
        ]
    )
    r = inspect_image(tmp_path, image)
    assert r.layers[0].dead_categories.model_dump() == dead(other=40_010)
    assert r.totals.dead_bytes == 40_010


# --- sorting, sources -------------------------------------------------------------------------


def test_lists_are_sorted_by_bytes_then_name(tmp_path: Path) -> None:
    second = "usr/local/lib/python3.11/site-packages"
    big = dist(SITE, "zeta", "1", {"zeta.py": 9000})
    # same name length, same file sizes: the same bytes
    tie_b = dist(SITE, "gamma", "1", {"m.py": 500}, pyc=False)
    tie_a = dist(SITE, "alpha", "1", {"n.py": 500}, pyc=False)
    small = dist(second, "Aardvark", "1", {"o.py": 1}, pyc=False)
    image = Image(layers=[Layer([*venv_scaffold(), *big, *tie_a, *tie_b, *small])])
    r = inspect_image(tmp_path, image)
    assert package(r, "alpha").bytes == package(r, "gamma").bytes
    assert [p.name for p in r.packages] == ["zeta", "alpha", "gamma", "Aardvark"]
    assert [s.path for s in r.site_packages] == [norm(SITE), norm(second)]
    byte_list = [p.bytes for p in r.packages]
    assert byte_list == sorted(byte_list, reverse=True)


@pytest.mark.parametrize("layout", ["oci", "oci-layout"])
def test_every_number_is_the_same_from_every_archive_layout(tmp_path: Path, layout: str) -> None:
    pkg = dist(SITE, "pkg", "1.0", {"pkg/__init__.py": 1000, "pkg/_x.so": 3000})
    image = Image(
        name="pyimgsize-fixture/layouts:1",
        layers=[Layer(venv_scaffold()), Layer(pkg), Layer([Whiteout(f"{SITE}/pkg/_x.so")])],
    )
    legacy = inspect_image(tmp_path, image, name="legacy")
    other = inspect_image(tmp_path, image, layout=layout, name="other")
    skip = {"image": {"ref", "source"}}
    assert other.model_dump(exclude=skip) == legacy.model_dump(exclude=skip)
    assert legacy.layers[1].dead_categories.model_dump() == dead(native=3000)


def test_site_packages_symlink_to_a_directory_with_another_name(tmp_path: Path) -> None:
    pkg = dist("opt/site", "foo", "1.0", {"foo.py": 100})
    link = Symlink("usr/local/lib/python3.11/site-packages", "/opt/site")
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *pkg, link])]))
    # the final view has /usr/local/lib/python3.11/site-packages: reported under its real path
    assert [s.path for s in r.site_packages] == ["/opt/site"]
    assert package(r, "foo").bytes == size(pkg)
    assert r.totals.python_bytes == size(pkg)


def test_dead_bytes_in_a_pythonpath_directory_keep_their_category(tmp_path: Path) -> None:
    deps = dist("app/deps", "foo", "1.0", {"foo.py": 100, "foo_data/big.dat": 5000})
    image = Image(
        env=["PYTHONPATH=/app/deps"],
        layers=[Layer([*PYTHON311, *deps]), Layer([Whiteout("app/deps/foo_data")])],
    )
    r = inspect_image(tmp_path, image)
    assert r.layers[0].dead_categories.model_dump() == dead(data=5000)
    assert package(r, "foo").bytes == size(deps) - 5000


@pytest.mark.parametrize("listed_twice", [False, True])
def test_unowned_bytes_of_a_site_beside_a_look_alike_directory(
    tmp_path: Path, listed_twice: bool
) -> None:
    """Unowned bytes are the site's files no distribution lists, whether counted from the
    distributions' sorted paths (no path listed twice) or path by path: a distribution's files
    in `site-packages-old/` or `site-packages.d/` (sorting right beside the site's own) are not
    the site's, and a file two distributions list is owned once."""
    site = "usr/local/lib/python3.11/site-packages"
    extra = [f"../site-packages-old/x{i}.py" for i in range(2)] + ["../site-packages.d/y.py"]
    files = {"a/__init__.py": 100, **dict.fromkeys(extra, 10)}
    a = dist(site, "a", "1.0", files, pyc=False)
    b_files = {"b/__init__.py": 1000, **({"a/__init__.py": 100} if listed_twice else {})}
    b = dist(site, "b", "1.0", b_files, pyc=False)
    stray = [File(f"{site}/stray.py", size=7), File(f"{site}/zz/stray.so", size=70)]
    r = inspect_image(tmp_path, Image(layers=[Layer([*PYTHON311, *a, *b, *stray])]))
    sp = site_packages(r, site)
    assert sp.unowned_bytes == 77
    assert any(p.code == "listed-twice" for p in r.problems) == listed_twice
