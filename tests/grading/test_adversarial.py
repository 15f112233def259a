"""`rnn-course grade` on an adversarial class and an honest one, in one run.

The class (chapter 01_rnn_forward): the honest submissions complete, blank, partial, wrong (every
function with a typical mistake) and no_softmax, plus one submission per attack
(tests/grading/attacks.py), half of them handed in as zips. Each attack must score exactly what
the honest submission it imitates scores (tampering may only cost points), carry the expected
status and findings in the report, and leave every other student's grade and the course files
untouched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from rnn_course import samples
from rnn_course.course import Course, kernel_env
from tests.grading import attacks as A
from tests.grading import attacks_os as O
from tests.grading import attacks_verdict as V
from tests.grading.test_isolation import bwrap_skip_reason, live_processes

pytestmark = pytest.mark.grading
PWNED = Path("/tmp/pwned")
AUDIT_LOG = Path(f"/tmp/{V.MARK}-audit.log")   # what the trusted processes compiled of the attacks' code
SECRET = "grader-secret-" + secrets.token_hex(8)   # planted in the grader's environment


def all_attacks(course_root: str) -> list:
    sandboxed = bwrap_skip_reason() is None
    return (A.attacks(course_root) + [a for a in O.attacks(course_root) if sandboxed or a.student not in O.NEEDS_SANDBOX]
            + V.attacks())


ATTACKS = all_attacks("COURSE")  # names and expectations only; built with the real path below


def run_grade(course: Course, submissions: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "rnn_course.cli", "--course", str(course.root), "grade", str(submissions),
           "--workers", "2", "--cell-timeout", str(A.CELL_TIMEOUT), "--notebook-timeout",
           str(A.NOTEBOOK_TIMEOUT), "--notebook-wall", str(A.NOTEBOOK_WALL), "--memory-gb", str(A.MEMORY_GB), "--quiet", *extra]
    env = {**kernel_env(), O.SECRET_ENV: SECRET, "RNN_COURSE_VERDICT_AUDIT": f"{V.MARK}:{AUDIT_LOG}"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, repo):
    """Build the class, grade it once with the real command; {students, scores, results, report}."""
    root = tmp_path_factory.mktemp("adversarial")
    course = Course.create(root / "course", repo)
    course.generate(A.CHAPTER)
    release = nbformat.read(str(course.release(A.CHAPTER)), as_version=4)
    solution = nbformat.read(str(course.source(A.CHAPTER)), as_version=4)
    manifest = samples.partial_manifest(repo)
    honest = A.honest(release, solution, manifest[A.CHAPTER]["solved"])
    other = samples.fill(nbformat.read(str(repo / "notebooks" / "00_setup" / "00_setup.ipynb"), as_version=4),
                         nbformat.read(str(repo / "solutions" / "00_setup" / "00_setup.ipynb"), as_version=4))
    built = {**honest, "other_chapter": A._bytes(other)}

    submissions = root / "submissions"
    for student, notebook in honest.items():
        path = submissions / student / A.CHAPTER / f"{A.CHAPTER}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, str(path))
    for i, attack in enumerate(all_attacks(str(course.root))):
        files = attack.build(built)
        if isinstance(files, bytes):
            files = {f"{A.CHAPTER}.ipynb": files}
        if i % 2 or any("/" in name for name in files):  # half the class hands in zips, as an LMS exports them
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as z:
                for name, data in files.items():
                    z.writestr(f"{A.CHAPTER}/{name}", data)
            (submissions / f"{attack.student}.zip").write_bytes(buffer.getvalue())
        else:
            folder = submissions / attack.student / A.CHAPTER
            folder.mkdir(parents=True)
            for name, data in files.items():
                (folder / name).write_bytes(data)

    # Two hand-ins whose names give the same student id: a folder and a zip.
    twin = submissions / "twin one" / A.CHAPTER / f"{A.CHAPTER}.ipynb"
    twin.parent.mkdir(parents=True)
    twin.write_bytes(A._bytes(honest["blank"]))
    with zipfile.ZipFile(submissions / "twin_one.zip", "w") as z:
        z.writestr(f"{A.CHAPTER}/{A.CHAPTER}.ipynb", A._bytes(honest["complete"]))

    PWNED.unlink(missing_ok=True)
    AUDIT_LOG.unlink(missing_ok=True)
    Path(V.PICKLE_TARGET).unlink(missing_ok=True)
    protected = {p: _digest(p) for p in (course.source(A.CHAPTER), course.release(A.CHAPTER),
                                         course.root / "nbgrader_config.py")}
    host_before = _host_entries()
    course_before = _tree(course.root)
    proc = run_grade(course, submissions)
    assert proc.returncode == 0, f"rnn-course grade failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    results = {}
    for path in (course.root / ".rnn-course" / "results" / A.CHAPTER).glob("*.json"):
        results[path.stem] = json.loads(path.read_text())
    scores = {s: v.auto for s, v in course.scores(A.CHAPTER).items()}
    cells = course.scores(A.CHAPTER)["complete"].cells
    scores["__before_softmax__"] = sum(cells[g] for g in ("test_rnn_cell_forward", "test_rnn_cell_cache", "test_rnn_forward"))
    scores["cache_only"] = cells["test_rnn_cell_cache"]
    return {"course": course, "submissions": submissions, "scores": scores, "results": results,
            "report": proc.stdout, "stderr": proc.stderr, "protected": protected,
            "host_before": host_before, "host_after": _host_entries(), "course_before": course_before,
            "course_after": _tree(course.root)}


# What grading itself writes in the course directory; everything else must stay as it was.
GRADER_WRITES = ("autograded/", ".rnn-course/", "gradebook.db")


def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): _digest(p) for p in root.rglob("*") if p.is_file()}


def _host_entries() -> set:
    """Names in the host's shared writable folders (where an escaped submission would write)."""
    found = set()
    for folder in (Path("/tmp"), Path("/dev/shm"), Path("/run")):
        try:
            found.update(str(p) for p in folder.iterdir())
        except OSError:
            pass
    return found


def test_honest_class_graded_right(graded, repo):
    scores = graded["scores"]
    expected = samples.partial_manifest(repo)[A.CHAPTER]["expected_points"]
    assert scores["complete"] == 10 and scores["blank"] == 0 and scores["partial"] == expected, scores
    assert scores["wrong"] < scores["complete"], "the honest wrong answers must lose points"
    assert scores["no_softmax"] < scores["complete"]
    for student in ("complete", "blank", "partial", "wrong", "no_softmax"):
        assert graded["results"][student]["status"] == "ok", graded["results"][student]


def test_graded_notebooks_keep_the_figures(graded):
    """autograded/ (what the formgrader shows) has the student's figures, as nbgrader's would."""
    path = graded["course"].root / "autograded" / "complete" / A.CHAPTER / f"{A.CHAPTER}.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    images = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert images, "the graded notebook lost its figures (matplotlib picked a non-inline backend)"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.student)
def test_attack_scores_like_honest_code(graded, attack):
    result = graded["results"].get(attack.student)
    assert result is not None, f"{attack.student} missing from the results:\n{graded['report']}"
    got = graded["scores"][attack.student]
    want = A.expected_points(graded["scores"], attack)
    if attack.at_most:
        assert got <= want, f"{attack.what}: scored {got}, honest code scores {want}; {result['verdicts']}"
    else:
        assert got == want, f"{attack.what}: scored {got}, honest code scores {want}; {result['verdicts']} {result['events'][:6]}"
    assert result["status"] in attack.status, f"{attack.what}: status {result['status']}, expected {attack.status}"
    kinds = {f.split(":")[0] for f in result["findings"]}
    assert set(attack.findings) <= kinds, f"{attack.what}: findings {result['findings']}"
    assert attack.student in graded["report"], "every student appears in the report"


def test_no_student_code_ran_where_the_verdict_is_made(graded):
    """The trusted processes compiled, executed and imported nothing of the attacks (their code and
    the strings they send back carry V.MARK), and no pickle in a forged reply was unpickled."""
    assert not Path(V.PICKLE_TARGET).exists(), "a pickle from the sandbox was loaded by the trusted process"
    logged = AUDIT_LOG.read_text() if AUDIT_LOG.exists() else ""
    assert not logged, f"the trusted process ran the student's code:\n{logged[:2000]}"
    forged = graded["results"]["v-forged-replies"]
    assert forged["status"] in ("ok", "tampering") and not any(v["passed"] for v in forged["verdicts"].values())


def test_nothing_escaped_the_sandbox(graded):
    assert not PWNED.exists(), "a shell command ran during grading"
    for path, digest in graded["protected"].items():
        assert _digest(path) == digest, f"{path} changed during grading"
    escaped = sorted(p for p in graded["host_after"] - graded["host_before"] if O.MARK in p)
    assert not escaped, f"files made outside the sandbox: {escaped}"
    before, after = graded["course_before"], graded["course_after"]
    changed = sorted(p for p in set(before) | set(after)
                     if before.get(p) != after.get(p) and not p.startswith(GRADER_WRITES))
    assert not changed, f"grading changed the course directory: {changed}"
    course = graded["course"].root
    stray = sorted(str(p) for p in course.rglob(f"*{O.MARK}*"))
    assert not stray, f"files made in the course directory: {stray}"
    survivors = live_processes(O.MARK)
    assert not survivors, f"processes of a submission outlived grading: {survivors}"
    assert O.MARK + "-fd" not in graded["report"] + graded["stderr"], "a kernel wrote to the grader's terminal"
    denied = " ".join(" ".join(r["events"]) for r in graded["results"].values())
    for why in ("network", "process", "course files", "gradebook"):
        assert f"DENIED {why}" in denied, f"no {why} denial recorded"


@pytest.mark.skipif(bwrap_skip_reason() is not None, reason=str(bwrap_skip_reason()))
def test_the_sandbox_attacks_were_in_the_class(graded):
    """With bubblewrap, every attack of the second class was graded (none silently left out)."""
    missing = sorted(O.NEEDS_SANDBOX - set(graded["results"]))
    assert not missing, missing


def test_no_secret_of_the_grader_in_any_page(graded):
    """An environment variable of the grader appears in no graded notebook, result or feedback."""
    course = graded["course"].root
    pages = [p for folder in ("autograded", "feedback", ".rnn-course") for p in (course / folder).rglob("*")
             if p.is_file() and p.suffix in (".ipynb", ".html", ".json")]
    assert pages
    leaked = [str(p) for p in pages if SECRET in p.read_text(errors="replace")]
    assert not leaked, f"the grader's secret leaked into {leaked}"
    printed = graded["course"].root / "autograded" / "os-grader-secrets" / A.CHAPTER / f"{A.CHAPTER}.ipynb"
    if bwrap_skip_reason() is None:
        assert printed.is_file() and "environ" in printed.read_text(), "the attack's own prints are kept"


def test_colliding_ids_are_both_reported_and_neither_graded(graded):
    report = graded["report"]
    section = report.split("not graded, two submissions give the same student id:")[-1]
    assert "twin one" in section and "twin_one.zip" in section, report[-2000:]
    assert "twin_one" not in graded["scores"], "a colliding id must not reach the gradebook"


def test_report_counts_failure_kinds(graded):
    report = graded["report"]
    assert "by status:" in report
    for kind in ("kernel-died", "timeout", "notebook-timeout", "output-flood", "unreadable", "wrong-chapter", "tampering"):
        assert kind in report, f"{kind} missing from the report summary"


def test_flagged_for_the_formgrader(graded):
    from nbgrader.api import Gradebook

    with Gradebook(graded["course"].gradebook_url) as gb:
        flags = {s.student.id: s.notebooks[0].flagged for s in gb.find_assignment(A.CHAPTER).submissions}
    assert flags["fake-do-execute"] and flags["corrupt-json"] and flags["sigkill"]
    assert not flags["complete"] and not flags["partial"]


def test_regrading_is_idempotent(graded):
    """A second run executes nothing (same bytes, template and limits) and changes no grade."""
    before = dict(graded["scores"])
    proc = run_grade(graded["course"], graded["submissions"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ", 0 executed," in proc.stdout, proc.stdout[-500:]
    after = {s: v.auto for s, v in graded["course"].scores(A.CHAPTER).items()}
    before.pop("__before_softmax__")
    before.pop("cache_only")
    assert after == before


def test_feedback_and_export(graded, tmp_path):
    course = graded["course"]
    course.generate_feedback(A.CHAPTER)
    html = course.feedback("complete", A.CHAPTER).read_text()
    assert "10.0" in html or "10 / 10" in html or "10" in html
    note = course.feedback("sigkill", A.CHAPTER).read_text()
    assert "kernel-died" in note, "the student's feedback says why later cells did not run"
    rows = (course.export(tmp_path / "grades.csv")).read_text()
    assert "complete" in rows and "fake-do-execute" in rows
    assert not Path(f"/tmp/{O.MARK}-config").exists(), "nbgrader_config.py ran a submission's code"
    for student in ("complete", "os-grader-secrets"):
        page = course.feedback(student, A.CHAPTER)
        assert not page.is_file() or SECRET not in page.read_text()


def test_pages_are_sanitised(graded):
    """A submission's script (added markdown, HTML and JavaScript outputs) is dead in every page."""
    course = graded["course"]
    if not course.feedback("os-pages", A.CHAPTER).is_file():
        course.generate_feedback(A.CHAPTER)
    graded_nb = nbformat.read(str(course.root / "autograded" / "os-pages" / A.CHAPTER / f"{A.CHAPTER}.ipynb"),
                              as_version=4)
    # What a page renders as HTML: markdown cells and rich outputs (code cells' source is shown
    # as text, escaped).
    from nbconvert.filters import markdown2html

    rendered = [markdown2html(c.source) for c in graded_nb.cells if c.cell_type == "markdown"]
    rendered += [str(v) for c in graded_nb.cells if c.cell_type == "code" for o in c.outputs
                 for k, v in o.get("data", {}).items() if k != "text/plain"]
    assert not any("application/javascript" in o.get("data", {}) for c in graded_nb.cells
                   if c.cell_type == "code" for o in c.outputs), "a JavaScript output survived"
    html = course.feedback("os-pages", A.CHAPTER).read_text()
    live_handler = re.compile(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=[^<>]*>")   # a tag carrying an event handler
    for page, text in (("graded notebook", "\n".join(rendered)), ("feedback", html)):
        assert "<script>window." not in text, f"a submission's <script> is live in the {page}"
        assert not any(O.MARK in m.group(0) for m in live_handler.finditer(text)), f"an event handler is live in the {page}"
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.S | re.I)
        assert not any(O.MARK in script for script in scripts), f"a submission's script runs in the {page}"
    assert O.MARK + "-md" in html or "window.z" in html, "the student's markdown is shown (as text), not lost"
