"""Reading and merging submissions (no kernel): rnn_course.grading.intake and .merge."""

from __future__ import annotations

import copy
import io
import json
import os
import zipfile
from pathlib import Path

import nbformat
import pytest

from rnn_course import samples
from rnn_course.grading import intake, parse
from rnn_course.grading import merge as merge_module
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


# Hostile submissions: each becomes a finding or a status, in bounded time, never an exception.

def _raw(notebook) -> dict:
    return json.loads(nbformat.writes(notebook))


def test_deep_nesting_is_unreadable_not_a_crash(template, notebooks):
    _, complete = notebooks
    raw = _raw(complete)
    raw["cells"][0]["metadata"]["deep"] = "DEEP"

    def nested(levels: int) -> bytes:
        return json.dumps(raw).replace('"DEEP"', "[" * levels + "]" * levels).encode()

    merged = merge(template, nested(100_000))   # RecursionError outside any try, before
    assert not merged.readable
    assert "100,00" in str(merged.findings[0]) and f"at most {parse.MAX_DEPTH}" in str(merged.findings[0])
    assert not merge(template, nested(parse.MAX_DEPTH)).readable
    assert merge(template, nested(parse.MAX_DEPTH - 8)).readable, "nesting under the cap is read"


def test_json_depth_counts_brackets_outside_strings():
    cases = ['1', '[]', '[[]]', '{"a": ["[[[", {"b": "}}\\\\"}]}', '"\\"[[["', '[{"x": "\\\\\\"[["}]']
    for text in cases:
        expected = _depth(json.loads(text))
        assert parse.json_depth(text.encode()) == expected, text
        assert parse.json_depth(text.encode(), chunk=2) == expected, text


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def test_too_many_cells_refused_before_nbformat(template, notebooks):
    _, complete = notebooks
    raw = _raw(complete)
    raw["cells"] += [{"cell_type": "code", "metadata": {}, "source": f"x = {i}", "outputs": [],
                      "execution_count": None} for i in range(100_000)]
    merged = merge(template, json.dumps(raw).encode())
    assert not merged.readable
    (finding,) = merged.findings
    assert finding.kind == "unreadable" and f"{len(raw['cells']):,} cells" in finding.detail
    assert f"at most {parse.MAX_CELLS:,}" in finding.detail


def test_added_cells_capped(template, notebooks):
    _, complete = notebooks
    nb = copy.deepcopy(complete)
    extra = merge_module.MAX_ADDED_CELLS + 50
    nb.cells += [nbformat.v4.new_code_cell(f"helper_{i} = {i}") for i in range(extra)]
    nb.cells.append(nbformat.v4.new_code_cell("x = 1\n" * merge_module.MAX_CELL_SOURCE))
    merged = merge(template, nbformat.writes(nb).encode())
    added = [c for c in merged.notebook.cells if c.metadata.get("rnn_course", {}).get("added_by_student")]
    assert len(added) == merge_module.MAX_ADDED_CELLS
    (dropped,) = [f for f in merged.findings if f.kind == "cells-dropped"]
    assert "50 added cell(s) dropped" in dropped.detail and "1 added cell(s) longer than" in dropped.detail
    assert set(merged.answered) == set(template.answers), "the answers still count"


def test_oversized_answer_not_graded(template, notebooks):
    _, complete = notebooks
    nb = copy.deepcopy(complete)
    for cell in nb.cells:
        if samples.nbgrader_meta(cell).get("grade_id") == "softmax":
            cell.source = "#" * (merge_module.MAX_CELL_SOURCE + 1)
    merged = merge(template, nbformat.writes(nb).encode())
    assert "too-large" in kinds(merged) and "softmax" not in merged.answered


def test_not_a_notebook_and_invalid_nbformat(template, notebooks):
    _, complete = notebooks
    for data, says in [(b'{"hello": "world"}', "not a notebook"), (b"[1, 2, 3]", "not a notebook"),
                       (b'{"nbformat": 99, "cells": []}', "nbformat version"),
                       (b'{"nbformat": "4", "cells": []}', "nbformat version"),
                       (b'{"nbformat": 4, "cells": "abc"}', "no list of cells"),
                       (b"\x00" * 100, "not a JSON notebook")]:
        merged = merge(template, data)
        assert not merged.readable and says in merged.findings[0].detail, (data, merged.findings)
    raw = _raw(complete)
    raw["cells"][0]["cell_type"] = "banana"
    raw["cells"].insert(1, 42)
    merged = merge(template, json.dumps(raw).encode())
    assert merged.readable and "nbformat-invalid" in kinds(merged)
    assert set(merged.answered) == set(template.answers)


def test_malformed_fields_do_not_crash(template, notebooks):
    """Lists and objects where strings belong: unhashable grade_ids and ids broke the merge."""
    _, complete = notebooks
    raw = _raw(complete)
    raw["cells"][0]["metadata"]["nbgrader"] = {"grade_id": ["a", "b"], "solution": True}
    raw["cells"][1]["id"] = {"x": 1}
    raw["cells"][2]["source"] = 12
    raw["cells"][3]["metadata"] = ["not", "a", "dict"]
    raw["metadata"]["kernelspec"] = {"name": ["evil"]}
    raw["cells"].append({"cell_type": "code", "id": "dup", "metadata": {}, "source": "a = 1", "outputs": [], "execution_count": None})
    raw["cells"].append({"cell_type": "code", "id": "dup", "metadata": {}, "source": "b = 2", "outputs": [], "execution_count": None})
    merged = merge(template, json.dumps(raw).encode())
    assert merged.readable
    assert {"kernelspec", "duplicate-ids"} <= kinds(merged)


def test_discover_huge_fifo_and_bad_names(tmp_path, notebooks):
    release, _ = notebooks
    subs = tmp_path / "subs"
    for student in ("huge", "fifo", "stamp", "___"):
        (subs / student / CHAPTER).mkdir(parents=True)
    with open(subs / "huge" / CHAPTER / f"{CHAPTER}.ipynb", "wb") as f:
        f.truncate(intake.MAX_NOTEBOOK_BYTES + 1)   # sparse: nothing is written, nothing must be read
    os.mkfifo(subs / "fifo" / CHAPTER / f"{CHAPTER}.ipynb")   # reading it would block for ever
    nbformat.write(release, str(subs / "stamp" / CHAPTER / f"{CHAPTER}.ipynb"))
    (subs / "stamp" / CHAPTER / "timestamp.txt").write_text("2026-01-01 10:00:00 /etc/passwd")
    found = {s.student: s for s in intake.discover(subs, [CHAPTER])}
    assert "exceeds" in found["huge"].problem and found["huge"].data is None
    assert "not a regular file" in found["fifo"].problem
    assert found["stamp"].timestamp is None and found["stamp"].findings[0].startswith("timestamp:")
    (anonymous,) = [s for s in found.values() if s.student.startswith("unnamed-")]
    assert "no letter or digit" in anonymous.problem


def _zip(path, files: dict) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


def test_zip_with_copies_grades_one(tmp_path, notebooks):
    release, _ = notebooks
    data = nbformat.writes(release).encode()
    subs = tmp_path / "subs"
    subs.mkdir()
    names = [f"a/b/{CHAPTER}.ipynb", f"{CHAPTER}/{CHAPTER}.ipynb", f"{CHAPTER}/copy.ipynb", f"x/{CHAPTER}.ipynb",
             f"{CHAPTER}/{CHAPTER} (1).ipynb", f"old/{CHAPTER}.ipynb", f"{CHAPTER}/zz.ipynb", f"{CHAPTER}/aa.ipynb"]
    _zip(subs / "eight.zip", {n: data for n in names})
    (sub,) = intake.discover(subs, [CHAPTER])
    assert sub.member == f"{CHAPTER}/{CHAPTER}.ipynb", "exactly <chapter>.ipynb, shallowest, first by name"
    assert len(sub.extras) == 7
    (finding,) = sub.findings
    assert finding.startswith("extra-notebooks: 7 other notebook(s)")


def test_folder_with_several_notebooks_and_guessed_copies(tmp_path, notebooks):
    release, _ = notebooks
    data = nbformat.writes(release).encode()
    subs = tmp_path / "subs"
    folder = subs / "multi" / CHAPTER
    folder.mkdir(parents=True)
    for name in ("backup.ipynb", f"{CHAPTER}.ipynb", "copy.ipynb"):
        (folder / name).write_bytes(data)
    _zip(subs / "guessed.zip", {"b.ipynb": data, "a.ipynb": data, "notes.txt": b"hi"})
    found = intake.discover(subs, [CHAPTER])
    multi = next(s for s in found if s.student == "multi")
    assert multi.member == f"{CHAPTER}/{CHAPTER}.ipynb" and len(multi.extras) == 2
    guessed = [s for s in found if s.student == "guessed"]
    assert [s.chapter for s in guessed] == [None, None]
    for sub in guessed:   # what grade_class does once it has guessed the chapter
        sub.chapter = CHAPTER
    kept = intake.one_per_chapter(found)
    (one,) = [s for s in kept if s.student == "guessed"]
    assert one.member == "a.ipynb" and one.extras == ["b.ipynb"]


def test_id_collisions_reported_and_not_read(tmp_path, notebooks):
    release, _ = notebooks
    data = nbformat.writes(release).encode()
    subs = tmp_path / "subs"
    for name in ("a b", "a_b", "x", "Carol", "alone"):
        (subs / name / CHAPTER).mkdir(parents=True)
        (subs / name / CHAPTER / f"{CHAPTER}.ipynb").write_bytes(data)
    _zip(subs / "x.zip", {f"{CHAPTER}.ipynb": data})
    _zip(subs / "carol.zip", {f"{CHAPTER}.ipynb": data})
    found = intake.discover(subs, [CHAPTER])
    collided = [s for s in found if s.status == "id-collision"]
    assert sorted(Path(s.origin).name for s in collided) == ["Carol", "a b", "a_b", "carol.zip", "x", "x.zip"]
    assert all(s.data is None for s in collided)
    (ab,) = [s for s in collided if s.origin.endswith("a b")]
    assert "'a b'" in ab.problem and "'a_b'" in ab.problem
    assert [s.student for s in found if s.status is None] == ["alone"]


def test_zip_index_too_large_is_not_parsed(tmp_path):
    with zipfile.ZipFile(tmp_path / "big.zip", "w") as z:
        for i in range(150):
            z.writestr(f"{i:03d}" + "n" * 8000 + ".txt", b"")
    (found,) = intake.discover(tmp_path, [CHAPTER])
    assert "zip index" in found.problem


def test_oversized_bytes_refused_by_the_parser_too(template):
    merged = merge(template, b" " * (parse.MAX_BYTES + 1))
    assert not merged.readable and "at most" in merged.findings[0].detail


def test_submission_secret_kept_from_the_exchange_layout(tmp_path, notebooks):
    """`nbgrader collect` leaves submission_secret.txt beside the notebook; release_feedback needs it
    (issue 19). Only hex digits are taken; anything else is a finding, not a secret."""
    release, _ = notebooks
    subs = tmp_path / "subs"
    secret = "0123456789abcdef" * 8                  # what nbgrader submit writes: token_hex(64)
    for student, text in (("alice", secret), ("mallory", "../../etc/passwd\n"), ("bob", None)):
        folder = subs / student / CHAPTER
        folder.mkdir(parents=True)
        nbformat.write(release, str(folder / f"{CHAPTER}.ipynb"))
        if text is not None:
            (folder / "submission_secret.txt").write_text(text)
    found = {s.student: s for s in intake.discover(subs, [CHAPTER])}
    assert found["alice"].secret == secret and not found["alice"].findings
    assert found["bob"].secret is None and not found["bob"].findings
    assert found["mallory"].secret is None
    assert found["mallory"].findings[0].startswith("secret: submission_secret.txt ignored")


def test_symbolic_links_are_never_followed(tmp_path, notebooks):
    """`unzip` restores a zip's symbolic links: a student who uploads a link named like their
    notebook, pointing at the course's solution, must not be graded on the instructor's answers."""
    release, _ = notebooks
    course = tmp_path / "course" / "solutions" / CHAPTER
    course.mkdir(parents=True)
    solution = course / f"{CHAPTER}.ipynb"
    solution.write_text("the instructor's solution")
    secret = tmp_path / "someone_elses_secret.txt"
    secret.write_text("0123456789abcdef" * 8)
    subs = tmp_path / "subs"
    (subs / "notebook" / CHAPTER).mkdir(parents=True)
    (subs / "notebook" / CHAPTER / f"{CHAPTER}.ipynb").symlink_to(solution)
    (subs / "chapter").mkdir()
    (subs / "chapter" / CHAPTER).symlink_to(course, target_is_directory=True)
    (subs / "student").symlink_to(tmp_path / "course" / "solutions", target_is_directory=True)
    (subs / "zipped.zip").symlink_to(solution)
    (subs / "secret" / CHAPTER).mkdir(parents=True)
    nbformat.write(release, str(subs / "secret" / CHAPTER / f"{CHAPTER}.ipynb"))
    (subs / "secret" / CHAPTER / "submission_secret.txt").symlink_to(secret)
    found = intake.discover(subs, [CHAPTER])
    assert not any(s.data and b"instructor" in s.data for s in found), found
    by = {s.student: s for s in found if s.student != "secret"}
    assert set(by) == {"notebook", "chapter", "student", "zipped"}
    assert all(s.data is None and "symbolic link" in s.problem for s in by.values()), by
    (kept,) = [s for s in found if s.student == "secret"]
    assert kept.data is not None and kept.secret is None and "symbolic link" in kept.findings[0]
