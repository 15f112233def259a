"""The nbgrader round trip: validate, release, submit, autograde, feedback, export.

Per chapter, in one scratch course with its own SQLite gradebook: the solution passes
`nbgrader validate`, the release fails `validate --invert`, and autograding gives the complete
sample full marks, the blank release 0 (no crash), the partial sample exactly its expected
points, and every mutant (tests/notebooks/mutants/) fewer points in the cells it breaks.
"""

from __future__ import annotations

import concurrent.futures
import csv

import nbformat
import pytest

from rnn_course import samples
from tests.conftest import CHAPTERS
from tests.notebooks.mutants import MUTANTS

pytestmark = pytest.mark.notebook
MUTANTS = [m for m in MUTANTS if m.chapter in CHAPTERS]


WORKERS = 2  # concurrent nbgrader processes, each on its own course directory (SQLite: one writer)


@pytest.fixture(scope="module")
def graded(course, repo, tmp_path_factory):
    """Submit the samples and mutants of every chapter, autograde them; {chapter: scores}.

    The samples are graded in ``course`` itself (the feedback and export tests read them
    there), the mutants half there and half in a clone: two lanes of about equal work run
    concurrently, which nearly halves the wall time on two cores.
    """
    manifest = samples.partial_manifest(repo)
    mutants = course.clone(tmp_path_factory.mktemp("mutants") / "course")
    for chapter in CHAPTERS:
        built = samples.build(course.release(chapter), course.source(chapter), manifest[chapter]["solved"])
        for student, notebook in built.items():
            course.submit(student, chapter, notebook)
        release = nbformat.read(str(course.release(chapter)), as_version=4)
        solution = nbformat.read(str(course.source(chapter)), as_version=4)
        for i, mutant in enumerate(m for m in MUTANTS if m.chapter == chapter):
            wrong = samples.mutate(solution, mutant.grade_id, mutant.find, mutant.replace)
            lane_course = course if i % 3 == 2 else mutants  # the samples lane has 3 already
            lane_course.submit(mutant.student, chapter, samples.fill(release, wrong))

    def lane(c):  # one course directory, its chapters one after another
        for chapter in CHAPTERS:
            if list(c.root.glob(f"submitted/*/{chapter}")):
                c.autograde(chapter)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        for future in [pool.submit(lane, c) for c in (course, mutants)]:
            future.result()
    result = {}
    for chapter in CHAPTERS:
        result[chapter] = {**course.scores(chapter), **mutants.scores(chapter)}
    return result


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solution_passes_validate(course, chapter):
    result = course.validate(course.source(chapter))
    assert result.passed, f"nbgrader validate fails on the solution of {chapter}:\n{result.output}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_release_fails_validate_invert(course, chapter):
    result = course.validate(course.release(chapter), invert=True)
    assert result.passed, (
        f"some test cell of the {chapter} release passes before any answer is written:\n{result.output}"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_sample_scores(graded, repo, chapter):
    scores = graded[chapter]
    expected = samples.partial_manifest(repo)[chapter]["expected_points"]
    complete, blank, partial = scores["complete"], scores["blank"], scores["partial"]
    assert complete.auto_max > 0, f"{chapter} has no autograded points"
    assert complete.auto == complete.auto_max, f"complete scored {complete.cells} on {chapter}"
    assert blank.auto == 0, f"blank scored {blank.cells} on {chapter}"
    assert partial.auto == expected, (
        f"partial scored {partial.auto} on {chapter}, expected {expected}: {partial.cells}"
    )
    assert complete.manual_max > 0, f"{chapter} has no written answer graded by hand"


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: f"{m.chapter}:{m.grade_id}:{m.why}")
def test_mutant_loses_points(graded, course, mutant):
    scores = graded[mutant.chapter]
    score = scores[mutant.student]
    full = scores["complete"]
    assert score.auto < full.auto_max, f"mutant ({mutant.why}) kept full marks: {score.cells}"
    for cell in mutant.loses:
        assert cell in full.cells, f"{cell} is not a test cell of {mutant.chapter}"
        assert score.cells[cell] < full.cells[cell], (
            f"mutant ({mutant.why}) kept full points in {cell}: {score.cells}"
        )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_graded_test_cells_write_nothing_to_stderr(graded, course, chapter):
    """nbgrader scores a test cell with stderr output as 0: the complete submission has none."""
    notebook = nbformat.read(
        str(course.root / "autograded" / "complete" / chapter / f"{chapter}.ipynb"), as_version=4
    )
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"{chapter} cell {index} wrote to stderr while autograded: {output.text[:500]}"
            )


def test_blank_feedback_explains_failures(graded, course):
    """Feedback HTML exists for every submission; the blank one says what to implement."""
    for chapter in CHAPTERS:
        course.generate_feedback(chapter)
        for student in ("complete", "blank", "partial"):
            path = course.feedback(student, chapter)
            assert path.is_file(), f"no feedback for {student} on {chapter}: {path}"
        html = course.feedback("blank", chapter).read_text()
        assert "not implemented yet" in html, f"blank feedback of {chapter} lacks the hint"


def test_export_csv(graded, course, tmp_path):
    path = course.export(tmp_path / "grades.csv")
    rows = list(csv.DictReader(path.open()))
    by_key = {(r["assignment"], r["student_id"]): r for r in rows}
    for chapter in CHAPTERS:
        complete = graded[chapter]["complete"]
        row = by_key[(chapter, "complete")]
        assert float(row["score"]) == complete.auto, row
        assert float(row["max_score"]) == complete.total_max, row
        assert float(by_key[(chapter, "blank")]["score"]) == 0.0


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_regrading_gives_the_same_grade(graded, course, chapter):
    """Seeds and op determinism: grading the same submission again changes no cell's score."""
    before = graded[chapter]["partial"].cells
    course.autograde(chapter, student="partial")
    after = course.scores(chapter)["partial"].cells
    assert after == before, f"partial regraded differently on {chapter}: {before} then {after}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_a_mutant_and_a_partial_sample(course, repo, chapter):
    """Each graded exercise of the chapter is broken by at least one mutant."""
    solution = nbformat.read(str(course.source(chapter)), as_version=4)
    exercises = {gid for gid, cell in samples.solution_cells(solution).items() if cell.cell_type == "code"}
    mutated = {m.grade_id for m in MUTANTS if m.chapter == chapter}
    assert exercises - mutated == set(), (
        f"{chapter}: no mutant in tests/notebooks/mutants/m{chapter}.py for {sorted(exercises - mutated)}"
    )
    manifest = samples.partial_manifest(repo)
    assert chapter in manifest, f"samples/partial/{chapter}.json is missing"
    assert set(manifest[chapter]["solved"]) < exercises, (
        f"samples/partial/{chapter}.json must solve some but not all of {sorted(exercises)}"
    )
