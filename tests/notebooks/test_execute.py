"""Every solution notebook executes headless with no error and nothing on stderr.

How long they take is not asserted here (a test's verdict must not depend on how busy the
machine is): `make bench` (benchmarks/chapters.py) times every chapter against its budget, in
wall and CPU seconds, and each run here leaves its times in build/reports/execute_<chapter>.json.
"""

from __future__ import annotations

import json

import pytest

from rnn_course.course import execute_notebook
from tests.conftest import CHAPTERS
from tests.notebooks import quotes

pytestmark = pytest.mark.notebook

NBGRADER_CELL_TIMEOUT = 120   # c.Execute.timeout in nbgrader_config.py (benchmarks/chapters.py budgets from it)


def test_cell_budget_matches_nbgrader_config(repo):
    text = (repo / "nbgrader_config.py").read_text()
    assert f"c.Execute.timeout = {NBGRADER_CELL_TIMEOUT}" in text, "update NBGRADER_CELL_TIMEOUT"


def fast_mode() -> bool:
    """Under TensorFlow (`make test`) the chapters execute in full mode, as a student runs them.

    Under JAX and PyTorch (`make test-backends`) in fast mode, the mode nbgrader grades in:
    PyTorch runs Keras' recurrent loops eagerly, step by step in Python, and JAX compiles each
    new shape, so the full training of chapters 04-09 alone would take most of CI's budget.
    """
    import keras

    return keras.config.backend() != "tensorflow"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_executes(repo, chapter):
    """Full mode (fast under JAX/PyTorch): no error, no stderr, the prose's numbers printed; times to build/reports/."""
    import keras

    path = repo / "solutions" / chapter / f"{chapter}.ipynb"
    notebook, seconds = execute_notebook(path, timeout=NBGRADER_CELL_TIMEOUT, fast=fast_mode(), split=True)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    for index, cell in enumerate(code_cells):
        for output in cell.outputs:
            assert output.output_type != "error", (
                f"{chapter} code cell {index} raised {output.ename}: {output.evalue}"
            )
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"{chapter} code cell {index} wrote to stderr (nbgrader would score a test cell 0):\n"
                f"{output.text[:800]}"
            )
    if not fast_mode():
        # the numbers the prose quotes are the ones this run printed (tests/notebooks/quotes/)
        wrong = quotes.check_printed(chapter, notebook)
        assert not wrong, "the prose quotes numbers the notebook does not print:\n  " + "\n  ".join(wrong)
    slowest = max(range(len(seconds)), key=seconds.__getitem__)
    report = repo / "build" / "reports"
    report.mkdir(parents=True, exist_ok=True)
    suffix = "" if keras.config.backend() == "tensorflow" else f"_{keras.config.backend()}"
    (report / f"execute_{chapter}{suffix}.json").write_text(json.dumps(
        {"chapter": chapter, "backend": keras.config.backend(), "fast_mode": fast_mode(),
         "total_s": round(sum(seconds), 2), "slowest_cell_s": round(seconds[slowest], 2),
         "cells_s": [round(s, 2) for s in seconds]}, indent=1))
