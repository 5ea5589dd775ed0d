"""Indexes over the final view (fs/index.py): the file index and its lookups through symlinks,
bytecode by source, dpkg lists, and `InodeSet`, the one way every scope counts its bytes."""

from __future__ import annotations

from fixtures import Dir, File, Hardlink, Layer, Symlink, Whiteout
from pyimgsize.fs.index import FileIndex, InodeSet
from pyimgsize.fs.merge import File as FileNode
from pyimgsize.paths import category
from tests.layerimages import merged

SITE = "opt/venv/lib/python3.11/site-packages"


def _index() -> FileIndex:
    return FileIndex(
        merged(
            Layer(
                [
                    Dir(f"{SITE}/pkg"),
                    Symlink("opt/venv/lib64", "lib"),
                    File(f"{SITE}/pkg/a.py", 100),
                    File(f"{SITE}/pkg/__pycache__/a.cpython-311.pyc", 40),
                    File(f"{SITE}/pkg/__pycache__/a.cpython-312.opt-1.pyc", 41),
                    File(f"{SITE}/pkg/b.so", 1000),
                    Hardlink(f"{SITE}/pkg/c.so", f"{SITE}/pkg/b.so"),
                    File(f"{SITE}/pkg-1.0.dist-info/RECORD", 30),
                    File("var/lib/dpkg/info/python3-pkg.list", data=b"/usr/bin/x\n/usr/lib/\n"),
                ]
            ),
            Layer([File(f"{SITE}/pkg/a.py", 120), Whiteout(f"{SITE}/pkg/b.so")]),
        )
    )


def test_files_dirs_symlinks_and_hardlinks() -> None:
    index = _index()
    assert index.files[f"{SITE}/pkg/a.py"].inode.size == 120
    assert f"{SITE}/pkg/b.so" not in index.files
    c_so = index.files[f"{SITE}/pkg/c.so"].inode
    assert index.paths_of(c_so, f"{SITE}/pkg/c.so") == [f"{SITE}/pkg/c.so"]
    assert "opt/venv/lib64" in index.symlinks
    assert f"{SITE}/pkg" in index.dirs
    assert index.data("var/lib/dpkg/info/python3-pkg.list") == b"/usr/bin/x\n/usr/lib/\n"
    assert index.data(f"{SITE}/pkg/a.py") is None  # contents are never kept unless wanted
    assert index.data("no/such/file") is None


def test_canonical_paths_give_the_index_own_strings() -> None:
    """An equal path read from elsewhere maps to the index's own string (for a file that
    keeps contents, a hard link and a plain file alike); no copy of the table is made."""
    index = _index()
    canon = index.canonical_paths()
    assert list(canon) == list(index.files)
    assert len(canon) == len(index.files)
    for path in index.files:
        copy = "".join(list(path))
        assert copy is not path
        assert canon.get(copy) is path
        assert canon[copy] is path
        assert index.files[path].path is path
    assert canon.get("no/such/file") is None
    assert "no/such/file" not in canon
    assert "var/lib/dpkg/info/python3-pkg.list" in canon
    # the replaced a.py: dead, never indexed
    (old_a,) = [i for i in index.fs.inodes_by_layer[0] if i.dead_path == f"{SITE}/pkg/a.py"]
    assert isinstance(old_a, FileNode)
    assert old_a.path is None
    assert old_a.dead_layer == 1


def test_a_dead_file_keeps_where_and_when_it_died_with_or_without_contents() -> None:
    listed = "var/lib/dpkg/info/a.list"
    index = FileIndex(
        merged(
            Layer([File("x/plain", 5), File(listed, data=b"/x\n"), File("x/kept", 1)]),
            Layer([Whiteout("x/plain"), File(listed, data=b"/y\n")]),
        )
    )
    dead = {i.dead_path: i for i in index.fs.inodes_by_layer[0] if i.links == 0}
    assert sorted(dead) == [listed, "x/plain"]
    for inode in dead.values():
        assert inode.dead_layer == 1
        assert isinstance(inode, FileNode)
        assert inode.path is None
    assert dead[listed].data == b"/x\n"
    assert index.data(listed) == b"/y\n"
    assert index.files[listed].path == listed
    assert index.files["x/kept"].path == "x/kept"
    assert index.files["x/kept"].dead_path is None


def test_lookups_through_symlinked_parents() -> None:
    index = _index()
    through_lib64 = "opt/venv/lib64/python3.11/site-packages/pkg/a.py"
    assert index.resolve_file(through_lib64) == f"{SITE}/pkg/a.py"
    assert index.resolve_file(f"{SITE}/pkg") is None  # a directory is not a file
    assert index.resolve_file(f"{SITE}/pkg/b.so") is None  # deleted
    assert index.is_dir("opt/venv/lib64/python3.11")
    assert not index.is_dir(f"{SITE}/pkg/a.py")
    gone = "opt/venv/lib64/python3.11/site-packages/pkg/gone.py"
    assert index.real_path(gone) == f"{SITE}/pkg/gone.py"
    assert index.real_path("nowhere/x.py") == "nowhere/x.py"


def test_bytecode_by_source_and_dpkg_lists() -> None:
    index = _index()
    assert sorted(index.pycs.by_source[f"{SITE}/pkg/a.py"]) == [
        f"{SITE}/pkg/__pycache__/a.cpython-311.pyc",
        f"{SITE}/pkg/__pycache__/a.cpython-312.opt-1.pyc",
    ]
    assert index.dpkg.owner == {"usr/bin/x": "python3-pkg", "usr/lib": "python3-pkg"}


def test_inode_set_counts_each_inode_once_by_category_and_layer() -> None:
    index = _index()
    files = [p for p in index.files if p.startswith(f"{SITE}/")]
    inodes = InodeSet.of(files, index)
    # a.py (layer 1) 120, two pycs 81, c.so (b.so's inode, layer 0) 1000, RECORD 30
    assert len(inodes) == 5
    assert inodes.bytes == 120 + 81 + 1000 + 30
    assert inodes.by_category() == {"source": 120, "bytecode": 81, "native": 1000, "metadata": 30}
    assert inodes.by_layer() == {
        0: {"bytecode": 81, "native": 1000, "metadata": 30},
        1: {"source": 120},
    }
    so = index.files[f"{SITE}/pkg/c.so"].inode
    assert any(inode is so for inode in inodes.inodes)
    # b.so is gone: c.so is the one visible path of its inode, reached by that path
    assert inodes.bytes_outside({f"{SITE}/pkg/c.so"}, set()) == 120 + 81 + 30
    assert inodes.bytes_outside({f"{SITE}/pkg/a.py"}, set()) == 81 + 1000 + 30


def test_inode_set_keeps_the_first_sorted_path_and_the_first_sets_path() -> None:
    index = FileIndex(merged(Layer([File("b/lib.so", 10), Hardlink("a/lib.txt", "b/lib.so")])))
    both = InodeSet.of(["b/lib.so", "a/lib.txt"], index)
    assert [path for _inode, path in both.items()] == ["a/lib.txt"]
    assert both.by_category() == {"data": 10}  # the category of the first path decides
    # a hard-linked inode is reached through the hard-linked inodes of the paths given
    lib = index.files["b/lib.so"].inode
    assert both.bytes_outside({"b/lib.so"}, set()) == 10
    assert both.bytes_outside({"b/lib.so"}, {lib}) == 0
    union = InodeSet.union([InodeSet.of(["b/lib.so"], index), both])
    assert [path for _inode, path in union.items()] == ["b/lib.so"]
    assert union.bytes == 10


def test_union_below_trees_is_the_union() -> None:
    # trees: a site-packages directory, one nested in it, a sibling; hard links inside,
    # across trees and out of them; distributions owning files inside, outside, twice
    index = FileIndex(
        merged(
            Layer(
                [
                    File("s/a.py", 1),
                    File("s/inner/x.py", 2),
                    File("s/z.so", 4),
                    File("t/lib.so", 8),
                    Hardlink("s/lib-link.so", "t/lib.so"),
                    Hardlink("bin/lib-out.so", "t/lib.so"),
                    File("bin/tool", 16),
                    File("bin/other", 32),
                    File("u/b.py", 64),
                ]
            )
        )
    )
    tops = ["s", "s/inner", "t"]
    trees = [InodeSet.of(index.files_below(top), index) for top in tops]
    dists = [
        InodeSet.of(["s/a.py", "bin/tool", "bin/lib-out.so"], index),
        InodeSet.of(["bin/tool", "bin/other", "s/inner/x.py", "u/b.py"], index),
    ]
    union = InodeSet.union([*trees, *dists])
    below = InodeSet.union_below(list(zip(tops, trees, strict=True)), dists)
    assert list(below.items()) == list(union.items())
    assert below.by_category_and_layer() == union.by_category_and_layer()
    assert below.bytes == 1 + 2 + 4 + 8 + 16 + 32 + 64


def test_paths_of_an_inode_are_its_visible_hardlinks() -> None:
    index = FileIndex(
        merged(
            Layer([File("b/lib.so", 10), Hardlink("a/lib.txt", "b/lib.so"), File("c", 1)]),
            Layer([Hardlink("d/lib.so", "b/lib.so"), Whiteout("a/lib.txt")]),
        )
    )
    lib = index.files["b/lib.so"].inode
    assert index.paths_of(lib, "b/lib.so") == ["b/lib.so", "d/lib.so"]  # walk order
    assert index.paths_of(lib, "d/lib.so") == ["b/lib.so", "d/lib.so"]
    assert index.paths_of(index.files["c"].inode, "c") == ["c"]


def test_files_below_a_directory_are_what_walking_it_yields() -> None:
    fs = merged(
        Layer(
            [
                File("a/b.py", 1),
                File("a.txt", 2),
                File("a/c/d.so", 3),
                File("a-1.0.dist-info/RECORD", 4),
                Symlink("a/link", "c"),
                Dir("a/empty"),
                File("z", 5),
            ]
        ),
        Layer([Whiteout("a/c/d.so")]),
    )
    index = FileIndex(fs)
    for top in ["", "a", "a/c", "a/empty", "a-1.0.dist-info"]:
        walked = [path for path, node in fs.walk(top) if isinstance(node, FileNode)]
        assert index.files_below(top) == walked, top
    assert index.files_below("a") == ["a/b.py"]
    assert index.files_below("a.txt") == []  # a file, not a directory
    assert index.files_below("a/link") == []  # not followed, as fs.walk does not
    assert index.files_below("nowhere") == []
    assert list(index.files) == [p for p, n in fs.walk() if isinstance(n, FileNode)]


def test_bytecode_index_reads_every_name_as_pyc_names_does() -> None:
    from pyimgsize.paths import pyc_names

    names = [
        "__pycache__/top.cpython-311.pyc",
        "p/__pycache__/m.cpython-311.pyc",
        "p/__pycache__/m.cpython-311.opt-2.pyc",
        "p/__pycache__/m.pyc",
        "p/__pycache__/a.b.c.d.e.pyc",
        "p/not__pycache__/m.cpython-311.pyc",
        "p/legacy.pyc",
        "p/q/__pycache__/m.cpython-312.pyo",
        "x__pycache__/m.cpython-311.pyc",
    ]
    index = FileIndex(merged(Layer([File(n, 1) for n in names])))
    pycs = index.pycs
    assert sorted(pycs.paths) == sorted(names)
    by_source: dict[str, list[str]] = {}
    for name in names:
        source, tag = pyc_names(name)
        assert pycs.tag[name] == tag, name
        if source is not None:
            by_source.setdefault(source, []).append(name)
    assert {s: sorted(p) for s, p in pycs.by_source.items()} == {
        s: sorted(p) for s, p in by_source.items()
    }


def test_inode_set_of_a_sorted_distinct_list_equals_of_any_order() -> None:
    index = _index()
    files = sorted(p for p in index.files if p.startswith(f"{SITE}/"))
    kept = InodeSet.of(files, index, distinct_sorted=True)
    shuffled = InodeSet.of([*reversed(files), files[0]], index)
    assert list(kept.items()) == list(shuffled.items())
    assert kept.by_category_and_layer() == shuffled.by_category_and_layer()


def test_inode_set_of_keeps_a_hard_linked_inode_once_with_its_first_path() -> None:
    index = FileIndex(
        merged(
            Layer(
                [
                    File("d/b.so", 1000),
                    Hardlink("d/a.so", "d/b.so"),
                    Hardlink("d/c.so", "d/b.so"),
                    File("d/z.py", 7),
                ]
            )
        )
    )
    for inodes in (
        InodeSet.of(["d/z.py", "d/c.so", "d/b.so", "d/a.so"], index),
        InodeSet.of(["d/a.so", "d/b.so", "d/c.so", "d/z.py"], index, distinct_sorted=True),
    ):
        assert [path for _, path in inodes.items()] == ["d/a.so", "d/z.py"]
        assert inodes.by_category() == {"native": 1000, "source": 7}


def test_bytes_by_category_and_layer_from_few_or_many_layers() -> None:
    # 3 storing layers (counted in a pass per layer) and 9 (in one pass over the inodes) give
    # what counting file by file gives, in the order the layers first appear, with a key for
    # every category present, even at 0 bytes (layer 0's files are all empty)
    for n in (3, 9):
        layers = [
            Layer(
                [
                    File(f"l{i}/m.py", i),
                    File(f"l{i}/m.so", 10 * i),
                    File(f"l{i}/empty.txt", 0),
                    File(f"l{n - i}/late.pyc", 100 * i),
                ]
            )
            for i in range(n)
        ]
        index = FileIndex(merged(*layers))
        inodes = InodeSet.of(index.files, index)
        total: dict[str, int] = {}
        by_layer: dict[int, dict[str, int]] = {}
        for inode, path in inodes.items():
            cat = category(path)
            total[cat] = total.get(cat, 0) + inode.size
            mine = by_layer.setdefault(inode.layer, {})
            mine[cat] = mine.get(cat, 0) + inode.size
        cats, layer_cats = inodes.by_category_and_layer()
        assert dict(cats) == dict(inodes.by_category()) == total
        assert {k: dict(v) for k, v in layer_cats.items()} == by_layer
        assert list(layer_cats) == list(by_layer)
        assert by_layer[0] == {"bytecode": 0, "data": 0, "native": 0, "source": 0}
