"""The nbgrader round trip: validate, release, submit, autograde, feedback, export.

Per chapter, in one scratch course with its own SQLite gradebook: the solution passes
`nbgrader validate`, the release fails `validate --invert`, `nbgrader autograde` gives the
complete sample full marks, the blank release 0 (no crash), the partial sample exactly its
expected points, and `rnn-course grade` gives every mutant (tests/notebooks/mutants/) fewer
points in the cells it breaks and the partial sample, graded again, the same score in every cell.
"""

from __future__ import annotations

import concurrent.futures
import csv
import html
import json
import os

import nbformat
import pytest

from rnn_course import samples
from rnn_course.grading.grade import grade_class
from rnn_course.grading.merge import Template
from tests.conftest import CHAPTERS
from tests.notebooks.mutants import MUTANTS

pytestmark = pytest.mark.notebook


def _select(mutants: list, which: str) -> list:
    """``core``: the first mutant of every exercise (`make test`); ``extra``: the others
    (`make test-mutants`); ``all``: every one. CI runs both targets, so every mutant is graded."""
    if which not in ("core", "extra", "all"):
        raise ValueError(f"RNN_COURSE_MUTANTS must be core, extra or all; received: {which!r}")
    firsts, seen = [], set()
    for m in mutants:
        if (m.chapter, m.grade_id) not in seen:
            seen.add((m.chapter, m.grade_id))
            firsts.append(m)
    if which == "core":
        return firsts
    return [m for m in mutants if m not in firsts] if which == "extra" else list(mutants)


MUTANT_SET = os.environ.get("RNN_COURSE_MUTANTS", "core")
ALL_MUTANTS = [m for m in MUTANTS if m.chapter in CHAPTERS]
MUTANTS = _select(ALL_MUTANTS, MUTANT_SET)


WORKERS = 2  # sandboxes of `rnn-course grade`, next to the one nbgrader autograde process


def _write(folder, student, chapter, notebook):
    path = folder / student / chapter / f"{chapter}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))


@pytest.fixture(scope="module")
def graded(course, repo, tmp_path_factory):
    """Grade the samples with nbgrader and the mutants with `rnn-course grade`; {chapter: scores}.

    Two lanes run at once: `nbgrader autograde` grades the samples of every chapter in ``course``
    (the feedback and export tests read them there) while `rnn-course grade` grades every
    mutant in a clone of it, so both graders are exercised on every chapter.
    """
    manifest = samples.partial_manifest(repo)
    root = tmp_path_factory.mktemp("mutants")
    ours = course.clone(root / "course")
    submissions = root / "submissions"
    for chapter in CHAPTERS:
        built = samples.build(course.release(chapter), course.source(chapter), manifest[chapter]["solved"])
        for student, notebook in built.items():
            course.submit(student, chapter, notebook)
        release = nbformat.read(str(course.release(chapter)), as_version=4)
        solution = nbformat.read(str(course.source(chapter)), as_version=4)
        for mutant in (m for m in MUTANTS if m.chapter == chapter):
            wrong = samples.mutate(solution, mutant.grade_id, mutant.find, mutant.replace)
            _write(submissions, mutant.student, chapter, samples.fill(release, wrong))

    def nbgrader_lane():
        if MUTANT_SET == "extra":  # `make test-mutants` grades mutants only
            return
        for chapter in CHAPTERS:
            course.autograde(chapter)

    def our_lane():
        if submissions.is_dir():
            grade_class(ours.root, submissions, workers=WORKERS, progress=False)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(nbgrader_lane), pool.submit(our_lane)]:
            future.result()
    result = {}
    for chapter in CHAPTERS:
        result[chapter] = {**course.scores(chapter), **ours.scores(chapter)}
    result["_ours"] = ours
    result["_points"] = {c: Template.from_source(c, course.source(c)).points for c in CHAPTERS}
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
def test_mutant_loses_points(graded, mutant):
    score = graded[mutant.chapter][mutant.student]
    points = graded["_points"][mutant.chapter]
    # It lost them to its tests: not to a kernel that never started (a grader that cannot start
    # scores every mutant 0) nor to a test that never ran or that names what does not exist.
    result = json.loads((graded["_ours"].root / ".rnn-course" / "results" / mutant.chapter
                         / f"{mutant.student}.json").read_text())
    assert result["status"] in ("ok", "guarded"), (result["status"], result["events"][:5])
    broken = {k: v["why"] for k, v in result["verdicts"].items()
              if v["why"].startswith("not run") or v["why"].endswith("(NameError)")}
    assert not broken, f"mutant ({mutant.why}): tests that did not run: {broken}"
    assert score.auto < score.auto_max, f"mutant ({mutant.why}) kept full marks: {score.cells}"
    for cell in mutant.loses:
        assert cell in points, f"{cell} is not a test cell of {mutant.chapter}"
        assert score.cells[cell] < points[cell], (
            f"mutant ({mutant.why}) kept full points in {cell}: {score.cells}"
        )


def test_report_shows_each_mutants_diagnosis_under_its_cells(graded, tmp_path):
    """`rnn-course report` on the class of mutants: each mutant is counted under every test cell
    it breaks, in a group named by a diagnosis (not a bare "a check failed"), and the page says it."""
    from rnn_course.grading import report

    csv_path, html_path, built = report.write(graded["_ours"].root, tmp_path)
    cells = {(c.chapter, c.cell): c for c in built.cells}
    page = html_path.read_text()
    assert not built.unverified
    vague = {"a check failed", "failed", ""}
    for mutant in MUTANTS:
        for cell in mutant.loses:
            groups = {d: s for d, s in cells[(mutant.chapter, cell)].groups.items() if mutant.student in s}
            assert len(groups) == 1, f"mutant ({mutant.why}) in {cell}: {groups}"
            (diagnosis,) = groups
            assert diagnosis not in vague, f"mutant ({mutant.why}) in {cell}: no diagnosis"
            assert html.escape(diagnosis, quote=False) in page or html.escape(diagnosis) in page
    assert csv_path.read_text().count("\n") > len(built.cells)


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


@pytest.fixture(scope="module")
def regraded(graded, course, tmp_path_factory):
    """The partial samples graded again, by `rnn-course grade`, in a fresh sandbox each."""
    ours = graded["_ours"]
    folder = tmp_path_factory.mktemp("regrade")
    for chapter in CHAPTERS:
        _write(folder, "partial", chapter, nbformat.read(str(course.submitted("partial", chapter)), as_version=4))
    grade_class(ours.root, folder, workers=WORKERS, progress=False, force=True)
    return {chapter: ours.scores(chapter)["partial"] for chapter in CHAPTERS}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_regrading_gives_the_same_grade(graded, regraded, chapter):
    """Seeds and op determinism: the same submission, graded again (and by the other grader),
    gets the same score in every cell."""
    before = graded[chapter]["partial"].cells
    after = regraded[chapter].cells
    assert after == before, f"partial regraded differently on {chapter}: {before} then {after}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_a_mutant_and_a_partial_sample(course, repo, chapter):
    """Each graded exercise of the chapter is broken by at least one mutant."""
    solution = nbformat.read(str(course.source(chapter)), as_version=4)
    exercises = {gid for gid, cell in samples.solution_cells(solution).items() if cell.cell_type == "code"}
    mutated = {m.grade_id for m in ALL_MUTANTS if m.chapter == chapter}
    assert exercises - mutated == set(), (
        f"{chapter}: no mutant in tests/notebooks/mutants/m{chapter}.py for {sorted(exercises - mutated)}"
    )
    manifest = samples.partial_manifest(repo)
    assert chapter in manifest, f"samples/partial/{chapter}.json is missing"
    assert set(manifest[chapter]["solved"]) < exercises, (
        f"samples/partial/{chapter}.json must solve some but not all of {sorted(exercises)}"
    )
