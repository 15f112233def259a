"""grade_class on hostile classes, with a fake executor (no kernel starts).

``grade_job`` is replaced by a fake that passes every test cell, so what is checked here is what
happens around execution: intake, merging, statuses, the result cache and its MAC, the report and
the scratch folder. The gradebook is real (nbgrader's SaveCells fills it in-process, once).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from rnn_course import samples
from rnn_course.course import Course
from rnn_course.grading import grade, results
from rnn_course.grading.execute import Limits

CHAPTER = "01_rnn_forward"
OTHER = "00_setup"


@pytest.fixture(scope="module")
def course(tmp_path_factory, repo):
    """A course of two chapters whose gradebook knows CHAPTER (no nbgrader subprocess but alembic)."""
    from nbconvert.exporters.exporter import ResourcesDict
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import ClearSolutions, ComputeChecksums, LockCells, SaveCells

    with pytest.MonkeyPatch.context() as mp:
        # nbgrader runs `alembic` by name when it makes a gradebook: this environment's bin/ first.
        mp.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
        course = Course.create(tmp_path_factory.mktemp("batch") / "course", repo)
        for folder in (course.root / "solutions").iterdir():
            if folder.name not in (CHAPTER, OTHER):
                shutil.rmtree(folder)
        with Gradebook(course.gradebook_url) as gb:
            gb.update_or_create_assignment(CHAPTER)
        notebook = nbformat.read(str(course.source(CHAPTER)), as_version=4)
        resources = ResourcesDict()
        resources["nbgrader"] = {"notebook": CHAPTER, "assignment": CHAPTER, "db_url": course.gradebook_url}
        for preprocessor in (LockCells(), ClearSolutions(), ComputeChecksums(), SaveCells()):
            notebook, resources = preprocessor.preprocess(notebook, resources)
    return course


@pytest.fixture(scope="module")
def notebooks(repo):
    release = nbformat.read(str(repo / "notebooks" / CHAPTER / f"{CHAPTER}.ipynb"), as_version=4)
    solution = nbformat.read(str(repo / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"), as_version=4)
    other = samples.fill(nbformat.read(str(repo / "notebooks" / OTHER / f"{OTHER}.ipynb"), as_version=4),
                         nbformat.read(str(repo / "solutions" / OTHER / f"{OTHER}.ipynb"), as_version=4))
    return {"complete": nbformat.writes(samples.fill(release, solution)).encode(),
            "blank": nbformat.writes(release).encode(), "other": nbformat.writes(other).encode()}


class FakeExecutor:
    """Stands in for grade_job: every test cell passes; counts what it was asked to run."""

    def __init__(self):
        self.students = []

    def __call__(self, job: dict) -> dict:
        notebook = job["notebook"]
        self.students.append(notebook)
        tests = [samples.nbgrader_meta(c).get("grade_id") for c in notebook["cells"]
                 if samples.nbgrader_meta(c).get("grade") and not samples.nbgrader_meta(c).get("solution")]
        return {"notebook": notebook, "verdicts": {g: {"passed": True} for g in tests}, "status": "ok",
                "seconds": 0.5, "events": [], "sandbox": {}}


def run(course, submissions: Path, tmp_path: Path, monkeypatch, **kwargs):
    """grade_class with the fake executor: (report, {student: row}, executions, scratch parent)."""
    fake = FakeExecutor()
    monkeypatch.setattr(grade, "grade_job", fake)
    monkeypatch.setattr(grade, "_ensure_in_gradebook", lambda course, chapters: None)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    report = grade.grade_class(course.root, submissions, workers=1, progress=False, workdir=work, **kwargs)
    assert list(work.iterdir()) == [], "the scratch folder is removed"
    rows = {}
    for row in report.results:
        rows.setdefault(row["student"], []).append(row)
    return report, rows, len(fake.students), work


def put(folder: Path, student: str, data: bytes, name: str | None = None) -> Path:
    path = folder / student / CHAPTER / (name or f"{CHAPTER}.ipynb")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_hostile_class_is_graded_to_the_end(course, notebooks, tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    complete = notebooks["complete"]
    raw = json.loads(complete)
    put(subs, "honest", complete)
    deep = dict(raw, metadata={**raw["metadata"], "deep": "DEEP"})
    put(subs, "deep", json.dumps(deep).replace('"DEEP"', "[" * 100_000 + "]" * 100_000).encode())
    many = dict(raw, cells=raw["cells"] + [{"cell_type": "code", "metadata": {}, "source": f"x = {i}",
                                            "outputs": [], "execution_count": None} for i in range(100_000)])
    put(subs, "many-cells", json.dumps(many).encode())
    added = dict(raw, cells=raw["cells"] + [{"cell_type": "code", "metadata": {}, "source": f"y = {i}",
                                             "outputs": [], "execution_count": None} for i in range(150)])
    put(subs, "added", json.dumps(added).encode())
    put(subs, "not-notebook", b'{"hello": "world"}')
    put(subs, "bad-nbformat", json.dumps(dict(raw, nbformat=99)).encode())
    with open(put(subs, "huge", b""), "wb") as f:
        f.truncate(21 * 2**20)
    fifo = subs / "fifo" / CHAPTER / f"{CHAPTER}.ipynb"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    with zipfile.ZipFile(subs / "eight.zip", "w") as z:
        for i in range(8):
            z.writestr(f"{'v%d/' % i if i else ''}{CHAPTER}.ipynb", complete)
    put(subs, "several", complete)
    put(subs, "several", notebooks["blank"], "old.ipynb")
    with zipfile.ZipFile(subs / "guessed.zip", "w") as z:
        z.writestr("b.ipynb", notebooks["blank"])
        z.writestr("a.ipynb", complete)
    put(subs, "a b", complete)
    put(subs, "a_b", complete)
    put(subs, "x", complete)
    with zipfile.ZipFile(subs / "x.zip", "w") as z:
        z.writestr(f"{CHAPTER}.ipynb", complete)
    put(subs, "wrong", notebooks["other"])

    report, rows, executed, _ = run(course, subs, tmp_path, monkeypatch)
    status = {s: [r["status"] for r in rs] for s, rs in rows.items()}
    assert status["honest"] == ["ok"] and rows["honest"][0]["score"] == 10
    for student in ("deep", "many-cells", "not-notebook", "bad-nbformat", "huge", "fifo"):
        assert status[student] == ["unreadable"], (student, rows[student])
    assert "100,002 levels" in rows["deep"][0]["findings"][0]
    assert "100,0" in rows["many-cells"][0]["findings"][0] and "at most 1,000" in rows["many-cells"][0]["findings"][0]
    assert any(f.startswith("cells-dropped: 50 added") for f in rows["added"][0]["findings"])
    (eight,) = rows["eight"]
    assert eight["status"] == "ok" and any(f.startswith("extra-notebooks: 7 other") for f in eight["findings"])
    (several,) = rows["several"]
    assert several["score"] == 10 and any("old.ipynb" in f for f in several["findings"])
    (guessed,) = rows["guessed"]
    assert guessed["origin"].endswith(":a.ipynb") and any("b.ipynb" in f for f in guessed["findings"])
    assert status["a_b"] == ["id-collision", "id-collision"] and status["x"] == ["id-collision", "id-collision"]
    assert status["wrong"] == ["wrong-chapter"]
    assert executed == 5, "honest, added, eight, several, guessed: one kernel each"

    text = report.format()
    assert "not graded, two submissions give the same student id:" in text
    for origin in ("a b", "a_b", "x.zip"):
        assert str(subs / origin) in text
    scores = course.scores(CHAPTER)
    assert "a_b" not in scores and "x" not in scores, "collisions are not written to the gradebook"
    assert not results.result_path(course.root, CHAPTER, "a_b").exists()


def test_a_failure_preparing_one_submission_is_its_status(course, notebooks, tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    put(subs, "fine", notebooks["complete"])
    put(subs, "breaks-merge", notebooks["complete"] + b"\n")
    real_merge = grade.merge

    def merge(template, data, others=None):
        if data.endswith(b"\n"):
            raise RecursionError("a bug of ours")
        return real_merge(template, data, others)

    monkeypatch.setattr(grade, "merge", merge)
    _, rows, executed, _ = run(course, subs, tmp_path, monkeypatch, force=True)
    assert rows["fine"][0]["status"] == "ok" and executed == 1
    (broken,) = rows["breaks-merge"]
    assert broken["status"] == "grader-error" and "RecursionError: a bug of ours" in broken["findings"][0]


def test_a_failure_recording_one_submission_is_its_status(course, notebooks, tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    put(subs, "records", notebooks["complete"])
    put(subs, "cannot-record", notebooks["complete"])
    real_record = grade.record.record

    def record(course_root, db_url, template, student, *args, **kwargs):
        if student == "cannot-record":
            raise OSError("disk full")
        return real_record(course_root, db_url, template, student, *args, **kwargs)

    monkeypatch.setattr(grade.record, "record", record)
    _, rows, _, _ = run(course, subs, tmp_path, monkeypatch, force=True)
    assert rows["records"][0]["status"] == "ok"
    assert rows["cannot-record"][0]["status"] == "grader-error"


def test_the_scratch_folder_goes_when_the_run_fails(course, notebooks, tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    put(subs, "someone", notebooks["complete"])

    def lost(*args, **kwargs):
        raise RuntimeError("the Dask scheduler went away")
        yield  # pragma: no cover

    monkeypatch.setattr(grade, "_run", lost)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setattr(grade, "_ensure_in_gradebook", lambda course, chapters: None)
    with pytest.raises(RuntimeError, match="scheduler went away"):
        grade.grade_class(course.root, subs, workers=1, progress=False, workdir=work, force=True)
    assert list(work.iterdir()) == []


def _graded_once(course, notebooks, tmp_path, monkeypatch, student):
    subs = tmp_path / "subs"
    put(subs, student, notebooks["complete"])
    _, rows, executed, _ = run(course, subs, tmp_path, monkeypatch, force=True)
    assert executed == 1 and rows[student][0]["status"] == "ok"
    return subs


def test_unchanged_class_is_not_executed_again(course, notebooks, tmp_path, monkeypatch):
    subs = _graded_once(course, notebooks, tmp_path, monkeypatch, "steady")
    report, rows, executed, _ = run(course, subs, tmp_path, monkeypatch)
    assert executed == 0 and rows["steady"][0]["cached"] and rows["steady"][0]["score"] == 10
    assert ", 0 executed," in report.format()


def _edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=1, sort_keys=True))


@pytest.mark.parametrize("tamper, says", [
    ("result", "stored result was edited"),
    ("notebook", "graded notebook changed"),
    ("no-mac", "no MAC"),
    ("key", "grader key changed"),
])
def test_tampered_cache_is_executed_again(course, notebooks, tmp_path, monkeypatch, tamper, says):
    student = f"tampered-{tamper}"
    subs = _graded_once(course, notebooks, tmp_path, monkeypatch, student)
    result = results.result_path(course.root, CHAPTER, student)
    graded = results.notebook_path(course.root, CHAPTER, student)
    if tamper == "result":   # pretend a hidden test failed: the grade a reuse would carry changes
        _edit_json(result, lambda d: d["verdicts"].update({next(iter(d["verdicts"])): {"passed": False}}))
    elif tamper == "notebook":
        _edit_json(graded, lambda d: d["cells"].append({"cell_type": "markdown", "id": "x", "metadata": {}, "source": "edited"}))
    elif tamper == "no-mac":
        _edit_json(result, lambda d: d.pop("mac"))
    else:
        key = results.key_path(course.root)
        key.write_bytes(os.urandom(results.KEY_BYTES))   # another key: every stored MAC fails once
    _, rows, executed, _ = run(course, subs, tmp_path, monkeypatch)
    (row,) = rows[student]
    assert executed == 1 and not row.get("cached") and row["score"] == 10
    (finding,) = [f for f in row["findings"] if f.startswith("cache-invalid:")]
    assert says in finding

    _, rows, executed, _ = run(course, subs, tmp_path, monkeypatch)   # re-stored with a good MAC
    (row,) = rows[student]
    assert executed == 0 and row["cached"] and not any(f.startswith("cache-invalid") for f in row["findings"])


def test_graded_without_isolation_is_said_and_flagged(course, notebooks, tmp_path, monkeypatch):
    """A kernel that ran with the guard alone: a 'no-isolation' finding, first on the report line, and a flag."""
    from nbgrader.api import Gradebook

    subs = tmp_path / "subs"
    put(subs, "unisolated", notebooks["complete"])

    class Unisolated(FakeExecutor):
        def __call__(self, job):
            return {**super().__call__(job), "sandbox": {"isolation": "none (bwrap not found)"}}

    fake = Unisolated()
    monkeypatch.setattr(grade, "grade_job", fake)
    monkeypatch.setattr(grade, "_ensure_in_gradebook", lambda course, chapters: None)
    report = grade.grade_class(course.root, subs, workers=1, progress=False, workdir=tmp_path, force=True)
    row = next(r for r in report.results if r["student"] == "unisolated")
    assert row["findings"][0].startswith("no-isolation: graded with the in-kernel guard only"), row["findings"]
    assert "unisolated" in report.format() and "no-isolation" in report.format()
    with Gradebook(course.gradebook_url) as gb:
        assert gb.find_submission_notebook(CHAPTER, CHAPTER, "unisolated").flagged


def test_every_kernel_and_trusted_process_gets_the_thread_count():
    """Limits.threads reaches the kernel's environment and the trusted process's; bad counts are refused."""
    from rnn_course.grading import verdict
    from rnn_course.grading.execute import kernel_environment, thread_environment

    env = kernel_environment("/home/student", "/tmp", {}, threads=3)
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS", "RNN_COURSE_TORCH_THREADS"):
        assert env[name] == "3", name
    assert kernel_environment("/home/student", "/tmp", {})["TF_NUM_INTRAOP_THREADS"] == "1"
    assert verdict.TrustedProcess("", threads=2).threads == 2
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="threads"):
            thread_environment(bad)


def test_a_bad_thread_count_stops_the_run_before_any_student(course, tmp_path):
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        grade.grade_class(course.root, tmp_path, limits=Limits(threads=0), progress=False)


def test_progress_is_rich_on_a_terminal_and_plain_lines_otherwise():
    import io

    plain = io.StringIO()
    bar = grade.Progress(2, stream=plain)
    bar.step("alice 01 3/5 ok")
    bar.step("bob 01 5/5 ok")
    lines = plain.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["1/2", "2/2"], lines
    assert "ETA" in lines[0] and lines[1].endswith("bob 01 5/5 ok"), lines

    terminal = io.StringIO()
    bar = grade.Progress(2, stream=terminal, force_terminal=True)
    assert bar.bar is not None
    bar.step("alice 01 3/5 ok")
    bar.step("bob 01 5/5 ok")
    text = terminal.getvalue()
    assert "2/2" in text and "bob 01 5/5 ok" in text and "ETA" in text, text[-400:]
