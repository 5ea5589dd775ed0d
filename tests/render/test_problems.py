"""Problems are recorded as codes and facts; render words them, and JSON carries the words."""

from __future__ import annotations

import json
from typing import get_args

from pyimgsize.findings import FindingCode
from pyimgsize.render import OutputFormat, render_inspect
from pyimgsize.render.problems import problem_text
from pyimgsize.report import Problem
from tests.render.sample import python_report


def test_every_code_has_words() -> None:
    facts = {
        "name": "evil",
        "version": "1.0",
        "read_as": "/x",
        "count": 3,
        "link": "../x",
        "target": "/t",
        "dir": "/d",
        "symlink_layer": 1,
        "limit": 10,
        "entries": 2,
        "layers": 3,
        "error": "bad quote",
        "example": "../x",
        "listing": "RECORD",
        "files": 4,
        "bytes": 5,
        "interpreters": ["cpython-311"],
    }
    for code in get_args(FindingCode):
        text = problem_text(Problem(code=code, facts=facts, message="saved text"))
        assert text, code
        assert text != "saved text", code


def test_words_from_facts() -> None:
    problem = Problem(
        code="listed-missing", facts={"name": "evil", "count": 4, "listing": "RECORD"}
    )
    assert problem_text(problem) == "evil: 4 file(s) listed in its RECORD are not in the image"
    foreign = Problem(
        code="foreign-bytecode",
        facts={"files": 2, "bytes": 300, "interpreters": ["cpython-311", "cpython-312"]},
    )
    assert problem_text(foreign).endswith("(image has: cpython-311, cpython-312)")


def test_a_report_saved_before_codes_keeps_its_message() -> None:
    assert problem_text(Problem(message="an old problem")) == "an old problem"
    # a code this version does not know, or facts missing a detail: the saved words stay
    assert problem_text(Problem(code="from-the-future", message="new")) == "new"
    assert problem_text(Problem(code="listed-missing", facts={}, message="kept")) == "kept"


def test_json_output_fills_every_message() -> None:
    report = python_report().model_copy(
        update={
            "problems": [
                Problem(code="bare-whiteout", kind="whiteout", path="/a/.wh."),
                Problem(code="history-mismatch", kind="history", facts={"entries": 1, "layers": 2}),
            ]
        }
    )
    data = json.loads(render_inspect(report, OutputFormat.JSON))
    assert [p["message"] for p in data["problems"]] == [
        "bare '.wh.' whiteout entry ignored",
        "image history has 1 non-empty entries for 2 layers; layers without a matching entry "
        "show no instruction",
    ]
    assert data["problems"][1]["facts"] == {"entries": 1, "layers": 2}
