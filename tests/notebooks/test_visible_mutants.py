"""Every requirement the markdown states has a visible test (issue 18).

A mutant marked ``visible=True`` (tests/notebooks/mutants/) breaks a stated requirement, so the
student must learn it from the visible tests, not only from the grade. Each one is built as the
student sees it — the committed release (hidden tests stripped) answered with the mutated
solution — and executed headless in fast mode, test cells in a namespace of their own as the
grader runs them; one of its ``loses`` test cells must raise a ``CheckFailure``, and where the
mutant gives ``says`` (what the hint must name), the first such failure's message must contain it.

To keep it cheap, each notebook stops after the last of the mutant's ``loses`` cells. (The test
cells before it stay: they share one trusted namespace, and some define helpers later ones use.)
A control per chapter — the complete answers, cut after the last cell any of its mutants needs —
must pass every test cell it runs, so a failure above is the mutant's, not the cut's.

It executes one notebook per mutant (a kernel start and the chapter up to that exercise), so it
runs with the other mutants in `make test-mutants` (RNN_COURSE_MUTANTS=extra or all), not in
`make test`.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil

import nbformat
import pytest

from rnn_course import samples
from rnn_course.course import execute_notebook
from tests.conftest import CHAPTERS, REPO
from tests.notebooks.mutants import MUTANTS
from tests.notebooks.test_execute import NBGRADER_CELL_TIMEOUT

pytestmark = pytest.mark.notebook

MUTANT_SET = os.environ.get("RNN_COURSE_MUTANTS", "core")
VISIBLE = [m for m in MUTANTS if m.visible and m.chapter in CHAPTERS]
WORKERS = 2  # kernels at once


def student_view(release, solution, keep: set, mutant=None):
    """The release answered with the solution (or the mutant of it), up to the last test cell in
    ``keep``."""
    answers = solution if mutant is None else samples.mutate(solution, mutant.grade_id, mutant.find, mutant.replace)
    notebook = samples.fill(release, answers)
    tests = samples.test_cells(notebook)
    missing = keep - set(tests)
    assert not missing, f"not test cells of the release: {sorted(missing)}"
    ids = [samples.nbgrader_meta(c).get("grade_id") for c in notebook.cells]
    last = max(i for i, gid in enumerate(ids) if gid in keep)
    notebook.cells = notebook.cells[: last + 1]
    return notebook


def raised(notebook) -> dict:
    """{test cell: (exception name, message)} for the test cells that raised."""
    found = {}
    tests = samples.test_cells(notebook)
    for cell in notebook.cells:
        gid = samples.nbgrader_meta(cell).get("grade_id")
        for output in cell.get("outputs", []) if gid in tests else []:
            if output.output_type == "error":
                found[gid] = (output.ename, output.evalue)
    return found


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """{mutant or chapter (the control): raised(...)}, every notebook executed WORKERS at a time."""
    if MUTANT_SET not in ("extra", "all"):
        pytest.skip("the visible tests against mutants run in `make test-mutants` (RNN_COURSE_MUTANTS=extra or all)")
    root = tmp_path_factory.mktemp("visible")
    jobs = {}
    for chapter in sorted({m.chapter for m in VISIBLE}):
        release = nbformat.read(str(REPO / "notebooks" / chapter / f"{chapter}.ipynb"), as_version=4)
        solution = nbformat.read(str(REPO / "solutions" / chapter / f"{chapter}.ipynb"), as_version=4)
        mine = [m for m in VISIBLE if m.chapter == chapter]
        union = set().union(*(m.loses for m in mine))
        jobs[chapter] = student_view(release, solution, union)
        for mutant in mine:
            jobs[mutant] = student_view(release, solution, set(mutant.loses), mutant)

    def run(key, index):
        notebook = jobs[key]
        folder = root / f"{index:03d}"
        folder.mkdir()
        path = folder / "student.ipynb"
        nbformat.write(notebook, str(path))
        done, _ = execute_notebook(path, timeout=NBGRADER_CELL_TIMEOUT, fast=True, allow_errors=True, split=True)
        shutil.rmtree(folder)
        return raised(done)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futures = {key: pool.submit(run, key, i) for i, key in enumerate(jobs)}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("chapter", sorted({m.chapter for m in VISIBLE}))
def test_complete_answers_pass_up_to_the_cut(executed, chapter):
    assert executed[chapter] == {}, f"{chapter}: the complete answers, cut as for its mutants, fail {executed[chapter]}"


@pytest.mark.parametrize("mutant", VISIBLE, ids=lambda m: f"{m.chapter}:{m.grade_id}:{m.why}")
def test_visible_tests_catch_the_mutant(executed, mutant):
    failed = executed[mutant]
    caught = {gid: why for gid, why in failed.items() if gid in mutant.loses and why[0] == "CheckFailure"}
    assert caught, (
        f"mutant ({mutant.why}) of {mutant.chapter}:{mutant.grade_id} passes every visible test of "
        f"{sorted(mutant.loses)} (only a hidden test would catch it); the test cells that raised: {failed}"
    )
    if mutant.says is not None:
        message = next(iter(caught.values()))[1]   # raised() keeps the cells in notebook order
        assert mutant.says in message, (
            f"mutant ({mutant.why}) of {mutant.chapter}:{mutant.grade_id}: the visible tests catch it, but "
            f"the message does not name the bug ({mutant.says!r}):\n{message}"
        )
