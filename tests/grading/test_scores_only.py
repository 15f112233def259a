"""``rnn-course grade --scores-only``: the same scores as a full run, the cells after the last
test kept but not run (see rnn_course.grading.trailing)."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from rnn_course import samples
from rnn_course.course import Course, kernel_env
from rnn_course.grading import trailing
from tests.notebooks.mutants import MUTANTS

pytestmark = pytest.mark.grading
CHAPTER = "01_rnn_forward"   # its Keras demonstration and figures come after its last test
# A cell a student adds after the last test: with --scores-only it must not run at all.
AFTER_LAST_TEST = "raise SystemExit('ran after the last test')"


def _grade(course: Course, submissions, *extra) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "rnn_course.cli", "--course", str(course.root), "grade", str(submissions),
         "--workers", "2", "--quiet", *extra],
        capture_output=True, text=True, env=kernel_env(), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return course.scores(CHAPTER)


def _graded(course: Course, student: str):
    return nbformat.read(str(course.root / "autograded" / student / CHAPTER / f"{CHAPTER}.ipynb"), as_version=4)


def _outputs(notebook) -> list:
    return [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]


def test_scores_only_gives_the_full_run_s_scores(tmp_path, repo):
    full = Course.create(tmp_path / "full", repo)
    full.generate(CHAPTER)
    release = nbformat.read(str(full.release(CHAPTER)), as_version=4)
    solution = nbformat.read(str(full.source(CHAPTER)), as_version=4)
    manifest = samples.partial_manifest(repo)
    klass = dict(samples.build(full.release(CHAPTER), full.source(CHAPTER), manifest[CHAPTER]["solved"]))
    mutant = next(m for m in MUTANTS if m.chapter == CHAPTER)
    klass["mutant"] = samples.fill(release, samples.mutate(solution, mutant.grade_id, mutant.find, mutant.replace))
    added = nbformat.from_dict(klass["complete"])
    added.cells.append(nbformat.v4.new_code_cell(AFTER_LAST_TEST))
    klass["added_cell"] = added
    submissions = tmp_path / "submissions"
    for student, notebook in klass.items():
        path = submissions / student / CHAPTER / f"{CHAPTER}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nbformat.from_dict(notebook), str(path))
    fast = full.clone(tmp_path / "fast")

    everything = _grade(full, submissions)
    scores_only = _grade(fast, submissions, "--scores-only")

    assert {s: v.cells for s, v in scores_only.items()} == {s: v.cells for s, v in everything.items()}
    assert everything["complete"].auto == everything["added_cell"].auto > everything["mutant"].auto
    _, rest = trailing.split(solution)
    assert any("model.fit(" in c.source for c in rest), "chapter 01's demonstration is after its last test"
    for student in klass:
        ran, kept = _graded(full, student), _graded(fast, student)
        assert len(ran.cells) == len(kept.cells)
        assert not any(o.get("text") == trailing.NOT_RUN for o in _outputs(ran))
        tail = kept.cells[len(kept.cells) - len(rest) - (student == "added_cell"):]
        for cell in tail:
            if cell.cell_type == "code":
                assert [o.get("text") for o in cell.outputs] == [trailing.NOT_RUN], (student, cell.source[:60])
    assert any("image/png" in o.get("data", {}) for o in _outputs(_graded(full, "complete")))
    assert "ran after the last test" in str(_outputs(_graded(full, "added_cell")))
    assert "ran after the last test" not in str(_outputs(_graded(fast, "added_cell")))
