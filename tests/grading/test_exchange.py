"""nbgrader's exchange on one machine, end to end, with two students (issue 19).

An instructor and two students, each with a HOME of their own whose
``~/.jupyter/nbgrader_config.py`` names the course id and the exchange folder, run the sequence
the README's *For instructors* section shows (*Through nbgrader's exchange*; ``SEQUENCE``,
compared with the README by ``test_readme_shows_the_sequence_tested``), as subprocesses with a
fresh shell's ``PATH``:

    instructor  nbgrader generate_assignment, nbgrader release_assignment
    students    nbgrader fetch_assignment, (answers), nbgrader submit
    instructor  nbgrader collect, rnn-course grade submitted, rnn-course feedback,
                nbgrader release_feedback
    students    nbgrader fetch_feedback

``alice`` hands in the solution's answers, ``bob`` those of the partial sample
(``samples/partial/``). Each student's fetched page must show their score, the hidden tests
must not appear in it, and the scores must be the gradebook's.
"""

from __future__ import annotations

import re
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from rnn_course import samples
from rnn_course.course import Course
from tests.notebooks.test_feedback_pages import _text

pytestmark = [pytest.mark.grading, pytest.mark.exchange]   # `make test-kit` runs it, not `make test`

CHAPTER = "00_setup"          # the quickest chapter to grade
COURSE_ID = "rnn-course"      # the repository's nbgrader_config.py names it too
BIN = Path(sys.executable).parent
MINIMAL_PATH = "/usr/bin:/bin"
# (who, command), in the README's order: one student's part stands for every student's.
SEQUENCE = [
    ("instructor", f"nbgrader generate_assignment {CHAPTER}"),
    ("instructor", f"nbgrader release_assignment {CHAPTER}"),
    ("student", f"nbgrader fetch_assignment {CHAPTER}"),
    ("student", f"nbgrader submit {CHAPTER}"),
    ("instructor", f"nbgrader collect {CHAPTER}"),
    ("instructor", f"rnn-course grade submitted --chapter {CHAPTER}"),
    ("instructor", f"rnn-course feedback --chapter {CHAPTER}"),
    ("instructor", f"nbgrader release_feedback {CHAPTER}"),
    ("student", f"nbgrader fetch_feedback {CHAPTER}"),
]
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def _home(root: Path, user: str, exchange: Path, student: bool) -> Path:
    """A user's HOME with ``~/.jupyter/nbgrader_config.py`` naming the course and its exchange.

    nbgrader takes a student's id from the process's account (``pwd``, not ``$USER``); all
    users here share one account, so each student's config names their id, as ``--student``
    would.
    """
    home = root / user
    (home / ".jupyter").mkdir(parents=True)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        + (f"c.CourseDirectory.student_id = {user!r}\n" if student else ""))
    return home


def _env(home: Path, user: str) -> dict:
    """A fresh login shell of ``user``: the environment's bin/ first, nothing else inherited."""
    return {"PATH": f"{BIN}:{MINIMAL_PATH}", "HOME": str(home), "USER": user, "LOGNAME": user,
            "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), "LANG": "C.UTF-8",
            "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


STEPS: dict = {}   # "user: command" -> (wall, CPU) seconds, printed at the end (the figures in the report)


def _run(command: str, cwd: Path, env: dict, ran: list, *extra: str) -> str:
    """Run a command of ``SEQUENCE`` (by name from the environment's bin/, plus ``extra``) as
    ``env``'s user; note it in ``ran``."""
    ran.append(("instructor" if env["USER"] == "instructor" else "student", command))
    cmd = shlex.split(command) + list(extra)
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
                          stdin=subprocess.DEVNULL)
    STEPS[f"{env['USER']}: {cmd[0]} {cmd[1]}"] = (time.perf_counter() - start, _children_cpu() - cpu)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"`{' '.join(cmd)}` as {env['USER']} exited {proc.returncode}:\n{out[-4000:]}"
    assert "Traceback" not in out, f"`{' '.join(cmd)}` as {env['USER']} printed a traceback:\n{out[-4000:]}"
    return out


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (and theirs) so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime



def _hidden_lines(source: Path, release: Path) -> list[str]:
    """The chapter's hidden-test lines that are long enough to be telling and appear nowhere in
    the release (a hint a visible test shares is not a leak)."""
    def lines(path, pick):
        nb = nbformat.read(str(path), as_version=4)
        return {line.strip() for cell in nb.cells for text in pick(cell.source) for line in text.splitlines()}

    shown = lines(release, lambda source: [source])
    hidden = lines(source, HIDDEN.findall) - shown
    return sorted(line for line in hidden if len(line) >= 16 and not line.startswith("#"))


def test_exchange_round_trip(tmp_path, repo):
    start, cpu = time.perf_counter(), _children_cpu()
    course = Course.create(tmp_path / "course", repo)
    # The repository's nbgrader_config.py puts the exchange beside it (it is read after
    # ~/.jupyter's, so it wins there); every user's own config names the same folder.
    exchange = course.root / "exchange"
    instructor = _home(tmp_path, "instructor", exchange, student=False)
    students = {name: _home(tmp_path, name, exchange, student=True) for name in ("alice", "bob")}
    teach = _env(instructor, "instructor")
    run = [command for _, command in SEQUENCE]
    ran: list = []

    _run(run[0], course.root, teach, ran)
    _run(run[1], course.root, teach, ran)
    assert (exchange / COURSE_ID / "outbound" / CHAPTER / f"{CHAPTER}.ipynb").is_file()

    solution = nbformat.read(str(course.source(CHAPTER)), as_version=4)
    solved = {"alice": None, "bob": samples.partial_manifest(repo)[CHAPTER]["solved"]}
    for name, home in students.items():
        env = _env(home, name)
        _run(run[2], home, env, ran)
        fetched = home / CHAPTER / f"{CHAPTER}.ipynb"
        release = nbformat.read(str(fetched), as_version=4)
        nbformat.write(samples.fill(release, solution, solved[name]), str(fetched))
        _run(run[3], home, env, ran)

    _run(run[4], course.root, teach, ran)
    for name in students:
        assert course.submitted(name, CHAPTER).is_file(), f"collect did not place {name}'s notebook"
    graded = _run(run[5], course.root, teach, ran, "--workers", "2", "--quiet")
    _run(run[6], course.root, teach, ran)
    _run(run[7], course.root, teach, ran)

    scores = course.scores(CHAPTER)
    assert scores["alice"].auto == scores["alice"].auto_max > 0, graded
    assert scores["bob"].auto == samples.partial_manifest(repo)[CHAPTER]["expected_points"], graded
    assert scores["bob"].auto < scores["alice"].auto, graded
    hidden = _hidden_lines(course.source(CHAPTER), course.release(CHAPTER))
    assert hidden, "the chapter has no hidden tests to look for"
    for name, home in students.items():
        _run(run[8], home, _env(home, name), ran)
        pages = list((home / CHAPTER / "feedback").glob(f"*/{CHAPTER}.html"))
        assert len(pages) == 1, f"{name} fetched {pages}"
        text = _text(pages[0].read_text())
        score = scores[name]
        headline = f"{CHAPTER} (Score: {score.auto:.1f} / {score.total_max:.1f})"
        assert headline in " ".join(text.split()), f"{name}'s page lacks {headline!r}"
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{name}'s feedback shows hidden test lines: {leaked}"
    assert list(dict.fromkeys(ran)) == SEQUENCE
    print(f"exchange round trip: {time.perf_counter() - start:.1f} s wall, {_children_cpu() - cpu:.1f} s CPU; "
          + ", ".join(f"{step} {wall:.1f} s ({used:.1f} s CPU)" for step, (wall, used) in STEPS.items()))


def test_readme_shows_the_sequence_tested(repo):
    """The README's *Through nbgrader's exchange* block is ``SEQUENCE``, who runs what included."""
    text = (repo / "README.md").read_text()
    start = text.index("**Through nbgrader's exchange**")
    block = re.search(r"```bash\n(.*?)```", text[start:], flags=re.S).group(1)
    shown, who = [], None
    for line in block.splitlines():
        if line.startswith("#"):
            who = "student" if "student" in line else "instructor" if "instructor" in line else who
        elif line.split("#", 1)[0].strip():
            shown.append((who, line.split("#", 1)[0].strip()))
    assert shown == SEQUENCE
