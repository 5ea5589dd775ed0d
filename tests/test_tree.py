"""The file tree behind the HTML treemap: a partition of the image's bytes.

Every number is checked against the inspect report of the same generated image (which is
checked against the fixture's own sizes elsewhere) or against the entries the test wrote.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from fixtures import Dir, File, Hardlink, Image, Layer, Whiteout, dist
from fixtures.demo import demo_image
from pyimgsize.api import inspect_with_tree
from pyimgsize.report import InspectReport
from pyimgsize.tree import TREE_CATEGORIES, FileTree, TreeBuilder
from tests.pyimages import PYTHON311, inspect_image

SITE = "usr/local/lib/python3.11/site-packages"


def _tree(tmp_path: Path, image: Image) -> tuple[InspectReport, FileTree]:
    path = tmp_path / "image.tar"
    from fixtures import write_docker_archive

    write_docker_archive(path, image)
    return inspect_with_tree(f"docker-archive:{path}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[InspectReport, FileTree]:
    return _tree(tmp_path_factory.mktemp("demo"), demo_image())


def test_visible_records_add_up_to_the_final_view(demo: tuple[InspectReport, FileTree]) -> None:
    report, tree = demo
    assert tree.visible_bytes() == report.image.bytes
    assert sum(1 for f in tree.files if not f.dead) == report.image.files


def test_all_records_add_up_to_the_shipped_bytes(demo: tuple[InspectReport, FileTree]) -> None:
    report, tree = demo
    assert tree.stored_bytes() == report.image.layer_bytes
    dead: Counter[int] = Counter()
    for f in tree.files:
        if f.dead:
            dead[f.layer] += f.bytes
            assert f.category == "dead"
    assert {i: dead[i] for i in range(len(report.layers))} == {
        layer.index: layer.dead_bytes for layer in report.layers
    }


def test_distribution_records_match_the_report(demo: tuple[InspectReport, FileTree]) -> None:
    report, tree = demo
    per_dist: Counter[tuple[str, str]] = Counter()
    per_cat: dict[tuple[str, str], Counter[str]] = {}
    for f in tree.files:
        owner = tree.owners[f.owner] if f.owner >= 0 else None
        if owner is not None and owner.kind == "dist":
            key = (owner.name, owner.path)
            per_dist[key] += f.bytes
            per_cat.setdefault(key, Counter())[f.category] += f.bytes
    assert report.packages
    for p in report.packages:
        key = (p.name, p.site_packages)
        assert per_dist[key] == p.bytes, p.name
        assert dict(per_cat[key]) == {c: v for c, v in p.categories.model_dump().items() if v}, (
            p.name
        )


def test_caches_and_unowned_files(demo: tuple[InspectReport, FileTree]) -> None:
    report, tree = demo
    by_owner: Counter[tuple[str, str]] = Counter()
    for f in tree.files:
        if f.owner >= 0:
            o = tree.owners[f.owner]
            by_owner[(o.kind, o.path)] += f.bytes
    for site in report.site_packages:
        assert by_owner[("site", site.path)] == site.unowned_bytes, site.path
    for cache in report.caches:
        # the partition gives a cache what no distribution or site-packages claims first
        assert by_owner[("cache", cache.path)] == cache.exclusive_bytes, cache.path
    assert {f.category for f in tree.files} <= set(TREE_CATEGORIES)


def test_a_hardlinked_inode_is_one_record_owned_by_its_distribution(tmp_path: Path) -> None:
    cache_file = "root/.cache/uv/archive-v0/x/six.py"
    entries = [
        *PYTHON311,
        File(cache_file, size=7_000),
        *dist(SITE, "six", "1.16.0", {"six.py": 7_000}, installer="uv", pyc=False),
    ]
    # replace the venv's copy with a hardlink to the cache's file (uv's link mode)
    entries = [e for e in entries if getattr(e, "path", "") != f"{SITE}/six.py"]
    entries.append(Hardlink(f"{SITE}/six.py", cache_file))
    report, tree = _tree(tmp_path, Image(layers=[Layer(entries)]))
    six = [f for f in tree.files if f.name == "six.py"]
    assert len(six) == 1
    assert six[0].dir == SITE
    assert tree.owners[six[0].owner].name == "six"
    assert six[0].category == "source"
    assert tree.visible_bytes() == report.image.bytes


def test_dead_records_keep_their_layer_and_path(tmp_path: Path) -> None:
    image = Image(
        layers=[
            Layer([*PYTHON311, Dir("root/.cache/pip"), File("root/.cache/pip/blob", size=5_000)]),
            Layer([Whiteout("root/.cache/pip")]),
            Layer([File("usr/local/lib/python3.11/os.py", size=333)]),
        ]
    )
    report, tree = _tree(tmp_path, image)
    dead = sorted((f.layer, f.dir, f.name, f.bytes) for f in tree.files if f.dead)
    assert dead == [
        (0, "root/.cache/pip", "blob", 5_000),
        (0, "usr/local/lib/python3.11", "os.py", 300),
    ]
    assert tree.stored_bytes() == report.image.layer_bytes


def test_grouping_keeps_every_total_and_bounds_the_records() -> None:
    b = TreeBuilder()
    for d in range(40):
        for i in range(100):
            b.add(f"srv/d{d}/f{i}.txt", 10 + i, "other", i % 3)
    b.add("srv/big.bin", 10**6, "other", 0)
    b.add("srv/gone.bin", 99, "dead", 1, dead=True)
    tree = b.build()
    grouped = tree.grouped(max_files=50)
    assert grouped.visible_bytes() == tree.visible_bytes()
    assert grouped.stored_bytes() == tree.stored_bytes()
    assert sum(f.count for f in grouped.files) == len(tree.files)
    singles = {(f.dir, f.name): f.bytes for f in grouped.files if f.count == 1}
    groups = [f for f in grouped.files if f.count > 1]
    # the 50 biggest stay individual (big.bin, the 40 files of 109 bytes, 9 of 108 bytes) and
    # so does a "group" of one (the only dead file)
    assert len(singles) == 51
    assert singles[("srv", "big.bin")] == 10**6
    assert singles[("srv", "gone.bin")] == 99
    assert sorted(singles.values()).count(109) == 40
    assert sorted(singles.values()).count(108) == 9
    # one group per directory and layer (keys the views split by), named by its count
    assert len(groups) == 40 * 3
    assert all(g.name == "" and g.category == "other" for g in groups)
    assert tree.grouped(max_files=10**6).files == tree.files


def test_compact_data_form() -> None:
    b = TreeBuilder()
    from pyimgsize.tree import Owner

    owner = Owner("dist", "/site", "pkg", "1.0")
    b.add("site/pkg/a.py", 3, "source", 2, owner)
    b.add("site/pkg/b.so", 5, "native", 2, owner)
    data = b.build().to_data()
    assert data["categories"] == list(TREE_CATEGORIES)
    assert data["dirs"] == ["site/pkg"]
    assert data["owners"] == [["dist", "/site", "pkg", "1.0"]]
    assert data["files"] == [
        [0, "a.py", 3, TREE_CATEGORIES.index("source"), 2, 0, 0, 1],
        [0, "b.so", 5, TREE_CATEGORIES.index("native"), 2, 0, 0, 1],
    ]


def test_an_image_without_python(tmp_path: Path) -> None:
    report = inspect_image(tmp_path, Image(layers=[Layer([File("etc/motd", size=12)])]))
    _report, tree = _tree(tmp_path, Image(layers=[Layer([File("etc/motd", size=12)])]))
    assert [(f.dir, f.name, f.category, f.owner) for f in tree.files] == [
        ("etc", "motd", "other", -1)
    ]
    assert tree.visible_bytes() == report.image.bytes == 12
