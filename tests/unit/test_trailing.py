"""The cells after a notebook's last graded cell are left out of grading and put back marked."""

from __future__ import annotations

import nbformat
import pytest

from rnn_course.grading import trailing
from rnn_course.samples import nbgrader_meta as _meta
from tests.conftest import CHAPTERS, REPO


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_split_keeps_every_graded_cell_and_rejoin_restores_the_order(chapter):
    notebook = nbformat.read(str(REPO / "solutions" / chapter / f"{chapter}.ipynb"), as_version=4)
    kept, rest = trailing.split(notebook)
    graded = [c for c in notebook.cells if c.cell_type == "code" and (_meta(c).get("grade") or _meta(c).get("solution"))]
    assert graded and kept["cells"][-1] is graded[-1]
    assert not any(c.cell_type == "code" and (_meta(c).get("grade") or _meta(c).get("solution")) for c in rest)
    joined, skipped = trailing.rejoin(kept, rest)
    assert [c["source"] for c in joined["cells"]] == [c.source for c in notebook.cells]
    assert skipped == sum(c.cell_type == "code" for c in rest)
    for cell in joined["cells"][len(kept["cells"]):]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [{"output_type": "stream", "name": "stdout", "text": trailing.NOT_RUN}]
            assert cell["execution_count"] is None


def test_trailing_demonstrations_exist_where_expected():
    """Chapter 01 ends with its Keras demonstration after the last test (what grading leaves out)."""
    notebook = nbformat.read(str(REPO / "solutions" / "01_rnn_forward" / "01_rnn_forward.ipynb"), as_version=4)
    _, rest = trailing.split(notebook)
    assert any("model.fit(" in c.source for c in rest)


def test_a_notebook_without_graded_cells_is_kept_whole():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("m"),
                                               nbformat.v4.new_code_cell("print(x)")])
    kept, rest = trailing.split(notebook)
    assert len(kept["cells"]) == 3 and rest == []
    assert trailing.split({"cells": []}) == ({"cells": []}, [])


def test_a_markdown_cell_after_the_last_test_is_put_back_unchanged():
    test = nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1}})
    notebook = nbformat.v4.new_notebook(cells=[test, nbformat.v4.new_markdown_cell("after"),
                                               nbformat.v4.new_code_cell("1/0")])
    kept, rest = trailing.split(notebook)
    assert len(kept["cells"]) == 1
    joined, skipped = trailing.rejoin(kept, rest)
    assert skipped == 1 and joined["cells"][1] == notebook.cells[1]
