"""The cells after a notebook's last graded cell: they cannot change its score.

A chapter ends with demonstrations (train a Keras model, plot what it learned) after its last
test cell. nbgrader executes them; their outputs are shown to the student but no point depends
on them: test cells are the only autograded cells, and a cell cannot change the verdict of a
test that ran before it. In chapter 01 they are most of the notebook's own work (training a
``SimpleRNN``: 2.1 of the 2.5 CPU seconds its cells take in fast mode).

``rnn-course grade --scores-only`` executes a notebook only up to its last graded *code* cell
(a test cell, or a code cell a student answers or the instructor grades by hand) and puts the
remaining cells back afterwards, each code cell with :data:`NOT_RUN` as its only output and no
execution count. The scores are the same as a full run's. It is not the default: every chapter
ends with a written question about those demonstrations ("what does the heatmap above show"),
and whoever grades it by hand, like the student reading the feedback, wants to see them.
"""

from __future__ import annotations

from rnn_course.samples import nbgrader_meta

NOT_RUN = ("[rnn-course: not run while grading (--scores-only): no test follows this cell, so it cannot "
           "change the score. Run the notebook yourself to see its output.]\n")


def _graded(cell: dict) -> bool:
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade") or meta.get("solution"))


def split(notebook: dict) -> tuple[dict, list]:
    """(the notebook up to and including its last graded code cell, the cells after it).

    A notebook without a graded code cell is returned whole (nothing is left out).
    """
    cells = list(notebook.get("cells", []))
    last = max((i for i, cell in enumerate(cells) if _graded(cell)), default=len(cells) - 1)
    return {**notebook, "cells": cells[: last + 1]}, cells[last + 1:]


def rejoin(executed: dict, rest: list) -> tuple[dict, int]:
    """``executed`` with the cells of ``rest`` after it, each code cell marked as not run.

    Returns the notebook and how many code cells were not run.
    """
    marked, skipped = [], 0
    for cell in rest:
        cell = dict(cell)
        if cell.get("cell_type") == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": NOT_RUN}]
            cell["execution_count"] = None
            skipped += 1
        marked.append(cell)
    return {**executed, "cells": list(executed.get("cells", [])) + marked}, skipped
