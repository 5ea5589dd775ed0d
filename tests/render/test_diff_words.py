"""`render.diff_words`: the diff's causes in words, as table, markdown and JSON's
`explanation` show them. Layers are named as inspect and check name them
(`render.common.layer_label`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pyimgsize.diff import diff_reports
from pyimgsize.render.diff_words import cause_text, explanation
from pyimgsize.report import (
    CauseCategory,
    CauseLayer,
    CausePackage,
    CausePath,
    DiffCause,
    InspectReport,
)
from tests.diff_samples import (
    SITE,
    VENV,
    added_removed_pair,
    bytecode_pair,
    cache_pair,
    cats,
    dead_wheelhouse_pair,
    hardlinked_cache_pair,
    identical_pair,
    install_pair,
    layers_pair,
    moved_pair,
    pkg,
    rebased_pair,
    upgrade_pair,
)

Pair = Callable[[], tuple[InspectReport, InspectReport]]


def words(a: InspectReport, b: InspectReport) -> list[str]:
    return explanation(diff_reports(a, b))


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        (
            bytecode_pair,
            [
                "B is +46.8 MB (+33.4%): bytecode +46.8 MB across 2 distributions "
                "(UV_COMPILE_BYTECODE?), largest pandas +31.2 MB",
                "Layers: A has 2, B has 2; 1 shared, 1 paired by instruction",
            ],
        ),
        (
            cache_pair,
            [
                "B is +12.3 MB (+10.8%): caches and stray wheels +12.3 MB: "
                "pip cache /root/.cache/pip added +12.3 MB",
                "Layers: A has 2, B has 2; 1 shared, 1 paired by position",
            ],
        ),
        (
            upgrade_pair,
            [
                "B is +5.5 MB (+3.6%): 1 distribution changed version +4.0 MB besides "
                "bytecode, all data (pandas 2.1.0 -> 2.2.0 +4.0 MB)",
                "Bytecode +1.5 MB across 1 distribution, largest pandas +1.5 MB",
                "Layers: A has 2, B has 2; 1 shared, 1 paired by instruction",
            ],
        ),
        (
            rebased_pair,
            [
                "B is -50.0 MB (-46.9%): outside Python -50.0 MB "
                "(no layer is shared: a different base image?)",
                "Layers: A has 2, B has 2; 2 paired by instruction",
            ],
        ),
        (
            layers_pair,
            [
                "B is +5.0 MB (+6.2%), +17.3 MB shipped (+21.6%): dead bytes +12.3 MB (written "
                "by a layer, deleted or overwritten by a later one: shipped, never visible), "
                "largest B layer 3: RUN pip install -r /app/requirements.txt +12.3 MB, "
                "mostly cache +12.3 MB",
                "Outside Python +5.0 MB, largest B layer 1: RUN apt-get install -y libpq5 +5.0 MB",
                "Layers: A has 3, B has 5; 1 shared, 2 paired by instruction, 2 only in B",
            ],
        ),
        (
            identical_pair,
            [
                "A and B are the same image (same image ID)",
                "Layers: A has 2, B has 2; 2 shared",
            ],
        ),
        (
            moved_pair,
            [
                "B has the same visible size as A (106.5 MB): no total or category differs",
                f"2 distributions moved: {SITE} -> {VENV}",
                "Layers: A has 2, B has 2; 1 shared, 1 paired by instruction",
            ],
        ),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_scenario_explanations(pair: Pair, expected: list[str]) -> None:
    assert words(*pair()) == expected


def test_bytecode_removed_says_the_switch_is_off() -> None:
    a, b = bytecode_pair()
    assert words(b, a)[0] == (
        "B is -46.8 MB (-25.0%): bytecode -46.8 MB across 2 distributions "
        "(UV_COMPILE_BYTECODE off?), largest pandas -31.2 MB"
    )


def test_same_content_under_a_different_id() -> None:
    a, b = identical_pair()
    b.image.id = "sha256:other"
    assert words(a, b)[0] == (
        "B has the same visible size as A (106.5 MB): no total or category differs, "
        "nor any distribution"
    )


def test_added_and_removed_list_the_largest_three() -> None:
    lines = words(*added_removed_pair())
    assert lines[0] == (
        "B is +1.3 kB (+0.0%): 4 new distributions +1.6 kB (big 3 +1.0 kB, new-a 2 +300 B, "
        "new-b 2 +300 B)"
    )
    assert lines[1] == "1 distribution removed -300 B (old 1 -300 B)"


def test_same_version_change() -> None:
    lines = words(
        *install_pair(
            [pkg("foo", "1", cats(source=100, data=50))],
            [pkg("foo", "1", cats(source=100, data=80))],
        )
    )
    assert lines[0] == (
        "B is +30 B (+0.0%): 1 distribution changed without a version change +30 B, all data "
        "(foo +30 B)"
    )


def test_hardlinked_cache_and_dead_bytes() -> None:
    assert words(*hardlinked_cache_pair()) == [
        "B is -300.0 kB (-0.2%), 0 B shipped (+0.0%): caches and stray wheels -300.0 kB "
        "(of -100.0 MB cache bytes; the rest are hardlinks that other files keep): "
        "uv cache /root/.cache/uv removed -100.0 MB",
        "Dead bytes +300.0 kB (written by a layer, deleted or overwritten by a later one: "
        "shipped, never visible), largest B layer 1: RUN uv pip install numpy +300.0 kB, "
        "mostly cache +300.0 kB",
        "Layers: A has 2, B has 3; 2 shared, 1 only in B",
    ]


def test_dead_bytes_name_a_layer_only_a_has() -> None:
    assert words(*dead_wheelhouse_pair())[0] == (
        "B has the same visible size as A (80.0 MB), -30.0 MB shipped (-27.3%): dead bytes "
        "-30.0 MB (written by a layer, deleted or overwritten by a later one: shipped, never "
        "visible), largest A layer 1: COPY multi:eeeeeeeeeeee… in /wheels/ -30.0 MB, "
        "mostly cache -30.0 MB"
    )


# --- one cause at a time, from hand-written data ---------------------------------------------


def _pkg(name: str, nbytes: int, a: str | None = "1", b: str | None = "2") -> CausePackage:
    return CausePackage(name=name, site_packages=SITE, version_a=a, version_b=b, bytes=nbytes)


@pytest.mark.parametrize(
    ("cause", "text"),
    [
        (
            DiffCause(kind="bytecode", bytes=10, packages=[_pkg("a", 10)], hint="no-compile"),
            "bytecode +10 B across 1 distribution (A installed with --no-compile?), "
            "largest a +10 B",
        ),
        (
            DiffCause(kind="bytecode", bytes=-10, packages=[_pkg("a", -10)], hint="no-compile"),
            "bytecode -10 B across 1 distribution (--no-compile, or .pyc deleted?), "
            "largest a -10 B",
        ),
        (
            DiffCause(
                kind="versions",
                bytes=0,
                packages=[_pkg("b", 0), _pkg("a", 0)],
                category=CauseCategory(category="data", bytes=5, only=False),
            ),
            "2 distributions changed version 0 B, mostly data +5 B (a 1 -> 2 0 B)",
        ),
        (DiffCause(kind="unowned", bytes=-7), "site-packages files no distribution owns -7 B"),
        (
            DiffCause(
                kind="caches",
                bytes=20,
                cache_bytes=20,
                paths=[CausePath(path="/w/x.whl", kind="wheel", change="removed", bytes=20)],
            ),
            "caches and stray wheels +20 B: wheel /w/x.whl removed +20 B",
        ),
        (
            DiffCause(kind="outside", bytes=3, hint="first-layer-differs"),
            "outside Python +3 B (the first layer differs: a different base image?)",
        ),
        (
            DiffCause(
                kind="outside",
                bytes=3,
                layer=CauseLayer(side="a", index=4, created_by=None, comment="Imported", bytes=3),
            ),
            "outside Python +3 B, largest A layer 4: (Imported) +3 B",
        ),
        (
            DiffCause(
                kind="dead",
                bytes=3,
                layer=CauseLayer(side="b", index=2, created_by=None, bytes=3),
            ),
            "dead bytes +3 B (written by a layer, deleted or overwritten by a later one: "
            "shipped, never visible), largest B layer 2 +3 B",
        ),
    ],
)
def test_cause_text(cause: DiffCause, text: str) -> None:
    assert cause_text(cause) == text
