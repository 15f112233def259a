"""Reading and merging submissions (no kernel): rnn_course.grading.intake and .merge."""

from __future__ import annotations

import copy
import io
import zipfile

import nbformat
import pytest

from rnn_course import samples
from rnn_course.grading import intake
from rnn_course.grading.merge import Template, merge, read_submission
from tests.conftest import REPO

CHAPTER = "01_rnn_forward"


@pytest.fixture(scope="module")
def template():
    return Template.from_source(CHAPTER, REPO / "solutions" / CHAPTER / f"{CHAPTER}.ipynb")


@pytest.fixture(scope="module")
def notebooks():
    release = nbformat.read(str(REPO / "notebooks" / CHAPTER / f"{CHAPTER}.ipynb"), as_version=4)
    solution = nbformat.read(str(REPO / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"), as_version=4)
    return release, samples.fill(release, solution)


def kinds(merged):
    return {f.kind for f in merged.findings}


def test_template_keeps_hidden_tests_and_clears_solutions(template):
    sources = "".join(c.source for c in template.tests.values())
    assert "BEGIN HIDDEN TESTS" in sources
    for cell in template.answers.values():
        assert "BEGIN SOLUTION" not in cell.source
    assert template.points["test_rnn_forward"] == 3
    assert "from rnn_course import checks" in template.imports


def test_complete_submission_merges_cleanly(template, notebooks):
    release, complete = notebooks
    merged = merge(template, nbformat.writes(complete).encode())
    assert merged.findings == []
    assert set(merged.answered) == set(template.answers)
    blank = merge(template, nbformat.writes(release).encode())
    assert blank.answered == [] and blank.findings == []


def test_edited_and_deleted_tests_are_restored(template, notebooks):
    _, complete = notebooks
    nb = copy.deepcopy(complete)
    tests = [c for c in nb.cells if samples.nbgrader_meta(c).get("grade") and not samples.nbgrader_meta(c).get("solution")]
    tests[0].source = "pass"
    nb.cells.remove(tests[1])
    merged = merge(template, nbformat.writes(nb).encode())
    assert "tests-restored" in kinds(merged)
    restored = {samples.nbgrader_meta(c).get("grade_id"): c.source for c in merged.notebook.cells}
    for grade_id, cell in template.tests.items():
        assert restored[grade_id] == cell.source


def test_stripped_metadata_found_by_cell_id(template, notebooks):
    _, complete = notebooks
    nb = copy.deepcopy(complete)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    merged = merge(template, nbformat.writes(nb).encode())
    assert "metadata" in kinds(merged)
    assert "rnn_forward" in merged.answered


def test_unreadable_and_converted(template, notebooks):
    _, complete = notebooks
    assert not merge(template, b"{not json").readable
    assert not merge(template, b'{"cells": []}').readable
    assert read_submission(b"\xff\xfe")[0] is None
    v3 = nbformat.writes(nbformat.convert(copy.deepcopy(complete), 3), version=3).encode()
    merged = merge(template, v3)
    assert "converted" in kinds(merged) and "rnn_forward" in merged.answered


def test_added_cells_kept_after_their_neighbour(template, notebooks):
    _, complete = notebooks
    nb = copy.deepcopy(complete)
    index = next(i for i, c in enumerate(nb.cells) if samples.nbgrader_meta(c).get("grade_id") == "rnn_forward")
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell("helper = 42"))
    merged = merge(template, nbformat.writes(nb).encode())
    ids = [samples.nbgrader_meta(c).get("grade_id") or c.source for c in merged.notebook.cells]
    assert ids[ids.index("rnn_forward") + 1] == "helper = 42"


def test_wrong_chapter_recognised(template):
    other = Template.from_source("00_setup", REPO / "solutions" / "00_setup" / "00_setup.ipynb")
    release = nbformat.read(str(REPO / "notebooks" / "00_setup" / "00_setup.ipynb"), as_version=4)
    merged = merge(template, nbformat.writes(release).encode(), {"00_setup": other})
    assert "wrong-chapter" in kinds(merged)


def test_discover_folder_layout_and_zips(tmp_path, notebooks):
    release, _ = notebooks
    data = nbformat.writes(release).encode()
    folder = tmp_path / "subs" / "alice" / CHAPTER
    folder.mkdir(parents=True)
    (folder / f"{CHAPTER}.ipynb").write_bytes(data)
    (folder / "timestamp.txt").write_text("2026-01-01 10:00:00 UTC")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(f"work/{CHAPTER}/{CHAPTER}.ipynb", data)
        z.writestr("__MACOSX/._x.ipynb", b"junk")
        z.writestr("mystery.ipynb", data)
    (tmp_path / "subs" / "bob smith.zip").write_bytes(buffer.getvalue())
    (tmp_path / "subs" / "carol.zip").write_bytes(b"not a zip")
    found = intake.discover(tmp_path / "subs", [CHAPTER, "00_setup"])
    by = {(s.student, s.chapter, s.origin.rsplit("/", 1)[-1]): s for s in found}
    assert ("alice", CHAPTER, f"{CHAPTER}.ipynb") in by
    assert by[("alice", CHAPTER, f"{CHAPTER}.ipynb")].timestamp == "2026-01-01 10:00:00 UTC"
    assert ("bob_smith", CHAPTER, f"{CHAPTER}.ipynb") in by
    assert ("bob_smith", None, "mystery.ipynb") in {(s.student, s.chapter, s.origin.rsplit(":", 1)[-1]) for s in found}
    carol = [s for s in found if s.student == "carol"]
    assert carol and carol[0].problem and carol[0].data is None
    assert [s.student for s in intake.discover(tmp_path / "subs", [CHAPTER], only="00_setup")
            if s.chapter is not None] == []


def test_discover_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="submissions must be a folder"):
        intake.discover(tmp_path / "missing", [CHAPTER])
    with pytest.raises(ValueError, match="student name"):
        intake.student_id("///")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for i in range(intake.MAX_MEMBERS + 1):
            z.writestr(f"f{i}.txt", b"")
    (tmp_path / "many.zip").write_bytes(buffer.getvalue())
    (found,) = intake.discover(tmp_path, [CHAPTER])
    assert "at most" in found.problem
