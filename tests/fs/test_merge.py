"""Applying layers exactly as a container runtime does: exact bytes for every rule.

Each test writes generated layers as a `docker save` archive, inspects it, and compares
`image.bytes`, `image.layer_bytes` and each layer's `bytes` / `dead_bytes` / `dead_categories`
with numbers computed from the entries' sizes (OCI image-spec "Applying Changesets" and
"Whiteouts"; design.md §2 and §7; image-and-python-facts §5). The final view itself is checked
on the merged filesystem (fs/merge.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from fixtures import (
    Device,
    Dir,
    Entry,
    File,
    Hardlink,
    Layer,
    Opaque,
    Sparse,
    Symlink,
    Whiteout,
    dist,
)
from fixtures.tarwriter import END_OF_ARCHIVE, header_block
from tests.layerimages import (
    dead_categories,
    inspect_layers,
    merged,
    numbers,
    problems,
    storing_layer,
    symlinks,
    visible_files,
)

# --- opaque directories ---------------------------------------------------------------------


def _lower_for_opaque() -> Layer:
    return Layer([File("a/x", 100), File("a/y", 200), File("a/sub/z", 300), File("b/w", 50)])


@pytest.mark.parametrize("position", ["before", "after"])
def test_opaque_marker_before_or_after_its_siblings(
    tmp_path: Path, position: Literal["before", "after"]
) -> None:
    own: list[Entry] = [File("a/new", 7), File("a/x", 11), File("a/sub/q", 13)]
    entries: list[Entry] = [Opaque("a"), *own] if position == "before" else [*own, Opaque("a")]
    upper = Layer(entries)
    # the marker's place in the tar is what the test is about
    names = [m.tar_name for m in upper.members]
    marker = names.index("a/.wh..wh..opq")
    assert (marker < names.index("a/new")) == (position == "before")

    report = inspect_layers(tmp_path, [_lower_for_opaque(), upper])
    # all of a/ from layer 0 is hidden (600 bytes dead); this layer's own a/ entries stay
    assert numbers(report) == [(650, 600), (31, 0)]
    assert dead_categories(report.layers[0]) == {"other": 600}
    assert (report.image.bytes, report.image.layer_bytes) == (81, 681)
    assert report.totals.dead_bytes == 600
    assert problems(report) == []

    fs = merged(_lower_for_opaque(), upper)
    assert visible_files(fs) == {"a/new": 7, "a/x": 11, "a/sub/q": 13, "b/w": 50}
    assert storing_layer(fs, "a/x") == 1


def test_opaque_marker_alone_empties_the_directory(tmp_path: Path) -> None:
    upper = Layer([Opaque("a/sub")])
    report = inspect_layers(tmp_path, [_lower_for_opaque(), upper])
    assert numbers(report) == [(650, 300), (0, 0)]
    fs = merged(_lower_for_opaque(), upper)
    assert visible_files(fs) == {"a/x": 100, "a/y": 200, "b/w": 50}
    assert "a/sub" in dict(fs.walk())  # the directory itself stays


def test_opaque_layer_root(tmp_path: Path) -> None:
    upper = Layer([Opaque(""), File("c", 9)])
    report = inspect_layers(tmp_path, [_lower_for_opaque(), upper])
    assert numbers(report) == [(650, 650), (9, 0)]
    assert report.image.bytes == 9


def test_opaque_hides_only_lower_layers_not_a_later_one(tmp_path: Path) -> None:
    report = inspect_layers(
        tmp_path,
        [_lower_for_opaque(), Layer([Opaque("a"), File("a/one", 1)]), Layer([File("a/two", 2)])],
    )
    assert numbers(report) == [(650, 600), (1, 0), (2, 0)]
    assert report.image.bytes == 53


def test_opaque_with_dot_slash_prefix(tmp_path: Path) -> None:
    report = inspect_layers(
        tmp_path, [_lower_for_opaque(), Layer([File("a/n", 5), Opaque("a")], prefix="./")]
    )
    assert numbers(report) == [(650, 600), (5, 0)]


# --- whiteouts ------------------------------------------------------------------------------


def test_whiteout_of_a_directory_removes_its_subtree(tmp_path: Path) -> None:
    lower = Layer(
        [
            File("usr/share/doc/a/copyright", 1000),
            File("usr/share/doc/a/deep/er/changelog.gz", 2000),
            Symlink("usr/share/doc/b", "a"),
            File("usr/bin/tool", 10),
        ]
    )
    upper = Layer([Whiteout("usr/share/doc")])
    report = inspect_layers(tmp_path, [lower, upper])
    assert numbers(report) == [(3010, 3000), (0, 0)]
    assert dead_categories(report.layers[0]) == {"other": 3000}
    assert report.image.bytes == 10
    fs = merged(lower, upper)
    assert visible_files(fs) == {"usr/bin/tool": 10}
    assert "usr/share/doc" not in dict(fs.walk())
    assert "usr/share" in dict(fs.walk())


def test_whiteout_of_a_file_in_a_middle_layer(tmp_path: Path) -> None:
    report = inspect_layers(
        tmp_path,
        [
            Layer([File("etc/a", 40), File("etc/b", 60)]),
            Layer([File("etc/a", 400), Whiteout("etc/b")]),  # a shadows layer 0's a
            Layer([Whiteout("etc/a")]),  # removes layer 1's a
        ],
    )
    assert numbers(report) == [(100, 100), (400, 400), (0, 0)]
    assert report.image.bytes == 0


def test_whiteout_of_a_never_created_path(tmp_path: Path) -> None:
    report = inspect_layers(
        tmp_path,
        [
            Layer([File("etc/hosts", 20)]),
            Layer([Whiteout("etc/never"), Whiteout("no/such/dir/file")]),
            # below a file: no directory entry for etc/hosts, so nothing replaces the file
            Layer([Whiteout("etc/hosts/x")], auto_dirs=False),
        ],
    )
    assert numbers(report) == [(20, 0), (0, 0), (0, 0)]
    assert report.image.bytes == 20
    assert problems(report) == []


def test_whiteout_does_not_hide_its_own_layer(tmp_path: Path) -> None:
    # whiteouts act on lower layers only: whatever the order, this layer's entries stay
    lower = Layer([File("d/old", 100)])
    upper = Layer([File("d/new", 5), File("x", 10), Whiteout("d"), Whiteout("x")])
    report = inspect_layers(tmp_path, [lower, upper])
    assert numbers(report) == [(100, 100), (15, 0)]
    assert visible_files(merged(lower, upper)) == {"d/new": 5, "x": 10}


def test_whiteout_with_dot_slash_prefix_and_long_names(tmp_path: Path) -> None:
    deep = "opt/" + "long_directory_name_" * 6 + "/file_with_a_long_name.dat"
    assert len(deep) > 100
    lower = Layer([File(deep, 1000), File("opt/keep", 1)], tar_format="pax")
    upper = Layer([Whiteout(deep)], tar_format="gnu", prefix="./")
    report = inspect_layers(tmp_path, [lower, upper])
    assert numbers(report) == [(1001, 1000), (0, 0)]


# --- replacing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "replacement",
    [File("opt/app", 5), Symlink("opt/app", "/srv/app"), Device("opt/app", 1, 3)],
    ids=["file", "symlink", "device"],
)
def test_non_directory_replaces_a_directory(
    tmp_path: Path, replacement: File | Symlink | Device
) -> None:
    lower = Layer([File("opt/app/a", 100), File("opt/app/b/c", 200), File("opt/other", 1)])
    upper = Layer([replacement])
    report = inspect_layers(tmp_path, [lower, upper])
    new = replacement.size if isinstance(replacement, File) else 0
    assert numbers(report) == [(301, 300), (new, 0)]
    assert report.image.bytes == 1 + new
    fs = merged(lower, upper)
    assert not any(p.startswith("opt/app/") for p, _ in fs.walk())


@pytest.mark.parametrize("explicit_dir", [True, False])
def test_directory_replaces_a_file(tmp_path: Path, explicit_dir: bool) -> None:
    lower = Layer([File("opt/thing", 400)])
    upper = Layer(
        [Dir("opt/thing"), File("opt/thing/inner", 6)] if explicit_dir else [Dir("opt/thing")]
    )
    report = inspect_layers(tmp_path, [lower, upper])
    new = 6 if explicit_dir else 0
    assert numbers(report) == [(400, 400), (new, 0)]


def test_file_below_a_lower_file_turns_it_into_a_directory(tmp_path: Path) -> None:
    # no directory entry for opt/thing: the parent is created, replacing the file
    lower = Layer([File("opt/thing", 400)])
    upper = Layer([File("opt/thing/inner", 6)], auto_dirs=False)
    report = inspect_layers(tmp_path, [lower, upper])
    assert numbers(report) == [(400, 400), (6, 0)]


def test_directory_over_directory_keeps_the_contents(tmp_path: Path) -> None:
    lower = Layer([File("srv/a", 10)])
    upper = Layer([Dir("srv"), File("srv/b", 20)])
    report = inspect_layers(tmp_path, [lower, upper])
    assert numbers(report) == [(10, 0), (20, 0)]
    assert report.image.bytes == 30


def test_file_replaces_file_in_a_later_layer(tmp_path: Path) -> None:
    report = inspect_layers(
        tmp_path,
        [Layer([File("app/main.py", 1000)]), Layer([File("app/main.py", 1200)])],
    )
    assert numbers(report) == [(1000, 1000), (1200, 0)]
    assert dead_categories(report.layers[0]) == {"other": 1000}


def test_duplicate_paths_in_one_layer_last_wins(tmp_path: Path) -> None:
    layer = Layer([File("a", 10), File("b", 1), File("a", 30)], auto_dirs=False)
    report = inspect_layers(tmp_path, [layer])
    assert numbers(report) == [(41, 10)]
    assert report.image.bytes == 31
    assert visible_files(merged(layer)) == {"a": 30, "b": 1}


def test_duplicate_path_whose_first_inode_is_hardlinked(tmp_path: Path) -> None:
    # the first `a` survives through its hardlink `b`: nothing dead
    layer = Layer([File("a", 10), Hardlink("b", "a"), File("a", 30)], auto_dirs=False)
    report = inspect_layers(tmp_path, [layer])
    assert numbers(report) == [(40, 0)]
    assert visible_files(merged(layer)) == {"a": 30, "b": 10}


def test_duplicate_directory_then_file(tmp_path: Path) -> None:
    layer = Layer([File("d/x", 70), File("d", 3)], auto_dirs=True)
    report = inspect_layers(tmp_path, [layer])
    assert numbers(report) == [(73, 70)]


# --- hardlinks --------------------------------------------------------------------------------


def test_hardlinks_within_a_layer_count_once(tmp_path: Path) -> None:
    layer = Layer(
        [
            File("usr/bin/perl5.36.0", 3000),
            Hardlink("usr/bin/perl", "usr/bin/perl5.36.0"),
            Hardlink("usr/local/bin/perl", "usr/bin/perl5.36.0"),
            File("usr/bin/other", 5),
        ]
    )
    report = inspect_layers(tmp_path, [layer])
    assert numbers(report) == [(3005, 0)]
    assert report.layers[0].files == 2
    assert (report.image.bytes, report.image.files) == (3005, 2)


def test_hardlink_into_a_lower_layer_costs_nothing(tmp_path: Path) -> None:
    report = inspect_layers(
        tmp_path,
        [Layer([File("data/blob", 5000)]), Layer([Hardlink("data/link", "data/blob")])],
    )
    assert numbers(report) == [(5000, 0), (0, 0)]
    assert report.layers[1].files == 0
    assert report.image.bytes == 5000


def test_inode_survives_while_any_path_does(tmp_path: Path) -> None:
    base = Layer([File("a", 1000), Hardlink("b", "a"), Hardlink("c", "a"), File("z", 5)])
    layers = [
        base,
        Layer([Whiteout("a")]),  # the path holding the data goes: still visible as b, c
        Layer([Whiteout("b"), Hardlink("d", "c")]),  # a new link from a later layer
        Layer([Whiteout("c")]),
    ]
    report = inspect_layers(tmp_path, layers)
    assert numbers(report) == [(1005, 0), (0, 0), (0, 0), (0, 0)]
    assert report.image.bytes == 1005
    fs = merged(*layers)
    assert visible_files(fs) == {"d": 1000, "z": 5}
    assert storing_layer(fs, "d") == 0


def test_inode_dies_with_its_last_path_in_the_storing_layer(tmp_path: Path) -> None:
    layers = [
        Layer([File("a", 1000), Hardlink("b", "a"), File("z", 5)]),
        Layer([Hardlink("c", "a")]),
        Layer([Whiteout("a"), Whiteout("b")]),
        Layer([Whiteout("c")]),  # the last path: the bytes die, counted where they are stored
    ]
    report = inspect_layers(tmp_path, layers)
    assert numbers(report) == [(1005, 1000), (0, 0), (0, 0), (0, 0)]
    assert dead_categories(report.layers[0]) == {"other": 1000}
    assert report.image.bytes == 5


def test_hardlink_with_dot_slash_prefix_resolves(tmp_path: Path) -> None:
    layers = [
        Layer([File("usr/bin/perl5.36.0", 3000), Hardlink("usr/bin/perl", "usr/bin/perl5.36.0")]),
        Layer([Whiteout("usr/bin/perl5.36.0")]),
    ]
    layers = [Layer(layer.entries, prefix="./") for layer in layers]
    report = inspect_layers(tmp_path, layers)
    assert numbers(report) == [(3000, 0), (0, 0)]
    assert problems(report) == []


def test_hardlink_to_a_long_name(tmp_path: Path) -> None:
    target = "opt/" + "x" * 150
    layers = [
        Layer([File(target, 800)], tar_format="gnu"),
        Layer([Hardlink("opt/short", target)], tar_format="pax"),
        Layer([Whiteout(target)], tar_format="gnu"),
    ]
    report = inspect_layers(tmp_path, layers)
    assert numbers(report) == [(800, 0), (0, 0), (0, 0)]
    assert problems(report) == []


def test_hardlink_to_a_missing_target_is_a_problem(tmp_path: Path) -> None:
    report = inspect_layers(tmp_path, [Layer([File("a", 1), Hardlink("b", "no/such")])])
    assert numbers(report) == [(1, 0)]
    assert problems(report) == [
        ("hardlink target /no/such does not exist; read as an empty file", "/b", 0)
    ]


# --- symlinked directories ------------------------------------------------------------------

SITE = "venv/lib/python3.11/site-packages"


def _venv_layer(*, auto_dirs: bool = True) -> list[File | Dir | Symlink]:
    return [
        File("usr/bin/python3.11", 500),
        File("venv/pyvenv.cfg", data=b"home = /usr/bin\nversion = 3.11.9\n"),
        Dir("venv/lib"),
        Symlink("venv/lib64", "lib"),
        *dist(SITE, "foo", "1.0", {"foo/__init__.py": 100, "foo/data.bin": 1000}),
    ]


def test_lib64_symlink_site_packages_reported_once(tmp_path: Path) -> None:
    entries = _venv_layer()
    report = inspect_layers(tmp_path, [Layer(entries)])
    total = sum(e.size for e in entries if isinstance(e, File))
    assert numbers(report) == [(total, 0)]
    assert [s.path for s in report.site_packages] == [f"/{SITE}"]
    (site,) = report.site_packages
    site_bytes = sum(e.size for e in entries if isinstance(e, File) and e.path.startswith(SITE))
    assert site.bytes == site_bytes
    assert [(p.name, p.site_packages, p.bytes) for p in report.packages] == [
        ("foo", f"/{SITE}", site_bytes)
    ]
    assert report.totals.python_bytes == site_bytes
    assert problems(report) == []


def test_entries_through_a_symlink_of_the_same_layer_follow_it(tmp_path: Path) -> None:
    # a tar written by a tool that walked through lib64: the unpacker's open() follows the
    # link the same layer just created, so the files land under lib
    layer = Layer(
        [
            Dir("venv/lib/python3.11/site-packages"),
            Symlink("venv/lib64", "lib"),
            File("venv/lib64/python3.11/site-packages/mod.py", 70),
        ],
        auto_dirs=False,
    )
    fs = merged(layer)
    assert visible_files(fs) == {"venv/lib/python3.11/site-packages/mod.py": 70}
    assert symlinks(fs) == {"venv/lib64": "lib"}
    assert fs.problems == []
    report = inspect_layers(tmp_path, [layer])
    assert [s.path for s in report.site_packages] == [f"/{SITE}"]
    assert problems(report) == []


def test_entry_below_a_lower_layers_symlink_keeps_the_literal_path(tmp_path: Path) -> None:
    lower = Layer(_venv_layer())
    upper = Layer([File("venv/lib64/python3.11/site-packages/late.py", 77)], auto_dirs=False)
    report = inspect_layers(tmp_path, [lower, upper])
    lower_total = sum(e.size for e in lower.entries if isinstance(e, File))
    assert numbers(report) == [(lower_total, 0), (77, 0)]
    assert report.image.bytes == lower_total + 77
    # the symlink became a directory holding only the new file; lib is untouched
    assert sorted(s.path for s in report.site_packages) == [
        f"/{SITE}",
        "/venv/lib64/python3.11/site-packages",
    ]
    late = next(s for s in report.site_packages if s.path.startswith("/venv/lib64"))
    assert (late.bytes, late.unowned_bytes) == (77, 77)
    ((message, path, layer),) = problems(report)
    assert (path, layer) == ("/venv/lib64", 1)
    assert "keeps the literal path" in message
    assert "symlink" in message
    fs = merged(lower, upper)
    assert "venv/lib64" not in symlinks(fs)
    assert (fs.problems[0].kind, fs.problems[0].path, fs.problems[0].layer) == (
        "symlink-parent",
        "venv/lib64",
        1,
    )


def test_usrmerge_directory_entry_replaces_the_symlink_without_a_problem(
    tmp_path: Path,
) -> None:
    # Docker's diffs always carry the parent directory entries: a `lib/` directory entry
    # replaces the `lib -> usr/lib` symlink the same way in every runtime
    lower = Layer([Symlink("lib", "usr/lib"), File("usr/lib/libc.so.6", 2000)])
    upper = Layer([Dir("lib"), File("lib/extra.so", 30)])
    report = inspect_layers(tmp_path, [lower, upper])
    assert numbers(report) == [(2000, 0), (30, 0)]
    assert problems(report) == []
    fs = merged(lower, upper)
    assert visible_files(fs) == {"usr/lib/libc.so.6": 2000, "lib/extra.so": 30}


def test_whiteout_through_a_lower_symlink_is_literal(tmp_path: Path) -> None:
    # `lib/.wh.libc.so.6` names lib/libc.so.6 literally; through the symlink it would be
    # usr/lib/libc.so.6, which stays
    lower = Layer([Symlink("lib", "usr/lib"), File("usr/lib/libc.so.6", 2000)])
    upper = Layer([Whiteout("lib/libc.so.6")], auto_dirs=False)
    report = inspect_layers(tmp_path, [lower, upper])
    assert numbers(report) == [(2000, 0), (0, 0)]


def test_pre_posix_directory_entry_does_not_replace_a_directory(tmp_path: Path) -> None:
    # a v7 directory (typeflag NUL, trailing slash) over a lower directory only updates it
    lower = Layer([File("srv/www/index.html", 500)])
    v7 = header_block(name=b"srv/www/", typeflag=b"\0", magic=b"") + END_OF_ARCHIVE
    report = inspect_layers(tmp_path, [lower, Layer(raw=v7)])
    assert numbers(report) == [(500, 0), (0, 0)]
    assert report.image.bytes == 500


# --- special entries --------------------------------------------------------------------------


def test_sparse_files_count_stored_bytes_and_die_whole(tmp_path: Path) -> None:
    gnu = Sparse("var/lib/gnu.img", 1 << 24, ((0, 4096), (1 << 20, 100)))
    pax = Sparse("var/lib/pax.img", 1 << 24, ((512, 1024),), form="pax")
    layers = [Layer([gnu, pax, File("var/lib/plain", 10)]), Layer([Whiteout("var/lib/gnu.img")])]
    report = inspect_layers(tmp_path, layers)
    assert numbers(report) == [(4196 + 1024 + 10, 4196), (0, 0)]
    assert report.image.bytes == 1034


def test_devices_symlinks_and_directories_count_zero(tmp_path: Path) -> None:
    layer = Layer(
        [
            Device("dev/null", 1, 3),
            Device("dev/loop0", 7, 0, block=True),
            Symlink("usr/bin/python3", "python3.11"),
            Dir("var/empty"),
            File("usr/bin/python3.11", 9),
        ]
    )
    report = inspect_layers(tmp_path, [layer])
    assert numbers(report) == [(9, 0)]
    assert report.image.files == 1


def test_empty_layers(tmp_path: Path) -> None:
    layers = [
        Layer([File("a", 10)]),
        Layer([], auto_dirs=False),
        Layer([Dir("tmp")]),
        Layer([], auto_dirs=False),
        Layer([File("b", 20)]),
    ]
    report = inspect_layers(tmp_path, layers)
    assert numbers(report) == [(10, 0), (0, 0), (0, 0), (0, 0), (20, 0)]
    assert [layer.tar_bytes for layer in report.layers] == [len(layer.tar) for layer in layers]
    assert report.layers[1].tar_bytes == 1024
    assert report.layers[1].diff_id == (
        "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
    )


# --- dead bytes by category -----------------------------------------------------------------

PY_SITE = "usr/local/lib/python3.11/site-packages"


def test_dead_bytes_by_category(tmp_path: Path) -> None:
    pkg = dist(
        PY_SITE,
        "pkg",
        "1.0",
        {
            "pkg/__init__.py": 1000,
            "pkg/_ext.cpython-311-x86_64-linux-gnu.so": 5000,
            "pkg/d.json": 7,
        },
        pyc_size=300,
    )
    lower = Layer(
        [
            File("usr/local/bin/python3.11", 4000),
            File("usr/local/lib/python3.11/os.py", 100),
            File("usr/local/lib/python3.11/__pycache__/os.cpython-311.pyc", 60),
            *pkg,
            File("root/.cache/pip/http-v2/a/b/blob", 20000),
            File("tmp/pkg-1.0-py3-none-any.whl", 3000),
            File("etc/motd", 11),
        ]
    )
    upper = Layer(
        [
            Whiteout(f"{PY_SITE}/pkg"),
            Whiteout(f"{PY_SITE}/pkg-1.0.dist-info"),
            Whiteout("usr/local/lib/python3.11/__pycache__"),
            Whiteout("root/.cache"),
            Whiteout("tmp/pkg-1.0-py3-none-any.whl"),
            Whiteout("etc/motd"),
        ]
    )
    metadata = sum(e.size for e in pkg if ".dist-info/" in e.path)
    report = inspect_layers(tmp_path, [lower, upper])
    assert dead_categories(report.layers[0]) == {
        "source": 1000,
        "native": 5000,
        "data": 7,
        "bytecode": 300 + 60,
        "metadata": metadata,
        "cache": 20000 + 3000,
        "other": 11,
    }
    lower_total = sum(e.size for e in lower.entries if isinstance(e, File))
    assert numbers(report) == [(lower_total, lower_total - 4100), (0, 0)]
    assert report.image.bytes == 4100
