"""Every command the README's Quick start, student and instructor sections show works as written.

The commands run as subprocesses with a minimal ``PATH`` (``/usr/bin:/bin``: nothing of the
virtual environment, as in a fresh shell), and again by name with the environment "activated"
(its ``bin/`` first on ``PATH``), on a fresh course directory with no gradebook yet (issue 16:
``.venv/bin/rnn-course grade`` crashed there because nbgrader runs ``alembic`` by name).

``test_every_readme_command_is_accounted_for`` fails when the README grows a command that no
test here or elsewhere runs: add it to ``COMMANDS`` with where it is checked.
"""

from __future__ import annotations

import csv
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_course import samples
from rnn_course.course import Course

pytestmark = pytest.mark.grading

CHAPTER = "00_setup"
MINIMAL_PATH = "/usr/bin:/bin"
BIN = Path(sys.executable).parent

# Every command-like code span of the README's Quick start, "For students" and "For instructors"
# sections (a regular expression over the span) -> where it is checked. "here" means a test in
# this module runs it.
COMMANDS = {
    r"make demo": "here: test_demo_runs_as_documented (the chapters' subset form, what `make demo` runs)",
    r"\.venv/bin/python -m rnn_course\.demo 00_setup 01_rnn_forward": "here: test_demo_runs_as_documented (00_setup)",
    r"make test": "CI: .ci/run (this suite)",
    r"make test-(unit|notebooks|gpu)": "subsets of `make test` (tests/unit/test_repo.py checks the targets)",
    r"make test-browser": "CI: .ci/run",
    r"make test-backends": "CI: .ci/run",
    r"make (install|install-backends)": "run by every other target (the $(STAMP) prerequisites)",
    r"make bench": "benchmarks/chapters.py (speed, not in make test)",
    r"make help": "here: test_make_targets_named_in_the_readme_exist",
    r"make release": "here: test_make_targets_named_in_the_readme_exist; rnn-course release: tests/notebooks/test_drift.py",
    r"rnn-course release": "tests/notebooks/test_drift.py (the release equals notebooks/)",
    r"make lab.*": "tests/browser (JupyterLab started as `make lab` starts it) and tests/unit/test_lab.py",
    r"conda env create .*": "tests/unit/test_repo.py (environment.yml pins equal the lock; no conda in CI)",
    r"KERAS_BACKEND=jax \.venv-backends/bin/jupyter lab": "make test-backends (the same environment)",
    r"\.venv/bin/pip uninstall -y tensorflow-cpu .*": "docs/gpu.md (GPU machines only)",
    r'python -c "from rnn_course import env; env\.setup\(\)"': "here: test_env_setup_prints_the_device",
    r"pip install -e \.": "make install (the Makefile runs it)",
    r"rnn-course grade.*": "here: test_instructor_commands_with_and_without_the_environment",
    r"rnn-course feedback.*": "here: test_instructor_commands_with_and_without_the_environment",
    r"rnn-course export grades\.csv": "here: test_instructor_commands_with_and_without_the_environment",
    r"rnn-course report.*": "here: test_instructor_commands_with_and_without_the_environment",
    r"rnn-course student-kit.*": "here: test_student_kit_as_documented; the kit itself: tests/unit/test_kit.py, "
                                 "tests/notebooks/test_student_kit.py (installed in a fresh venv)",
    r"make student-kit": "here: test_make_targets_named_in_the_readme_exist (it runs rnn_course.cli student-kit)",
    r"rnn-course doctor": "here: test_instructor_commands_with_and_without_the_environment",
    r"\.venv/bin/rnn-course": "here: test_instructor_commands_with_and_without_the_environment",
    r"rnn-course": "here: test_instructor_commands_with_and_without_the_environment (by name, activated)",
    r"nbgrader validate.*": "here: test_student_validate_as_documented",
    r"nbgrader (generate_assignment|autograde|generate_feedback)": "named, not shown to run (rnn-course runs them)",
    r"nbgrader (generate_assignment|release_assignment|fetch_assignment|submit|collect|release_feedback"
    r"|fetch_feedback)( 00_setup)?": "tests/grading/test_exchange.py (the exchange's sequence, as one instructor "
                                  "and two students; test_readme_shows_the_sequence_tested)",
    r"\.venv(-backends)?/": "a folder, not a command",
}
COMMAND_START = re.compile(r"^(make |rnn-course|\.venv|nbgrader |conda |pip |python |KERAS_BACKEND=)")


def _readme_sections(repo: Path) -> str:
    text = (repo / "README.md").read_text()
    return text[text.index("## Quick start"):text.index("### How `rnn-course grade` protects")]


def _readme_commands(repo: Path) -> list[str]:
    section = _readme_sections(repo)
    spans = re.findall(r"`([^`]+)`", section.replace("```", "\n"))
    spans = [" ".join(s.split()) for s in spans]
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        spans += [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    return sorted({s for s in spans if COMMAND_START.match(s)})


def _env(activated: bool, home: Path) -> dict:
    """A fresh shell's environment: minimal PATH, or the virtual environment's bin/ first."""
    env = {"PATH": f"{BIN}:{MINIMAL_PATH}" if activated else MINIMAL_PATH, "HOME": str(home),
           "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "3"}
    if activated:
        env["VIRTUAL_ENV"] = str(BIN.parent)
    return env


def _run(cmd: list[str], *, cwd: Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, (
        f"`{' '.join(cmd)}` (PATH={env['PATH']}) exited {proc.returncode}:\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    assert "Traceback" not in proc.stderr, f"`{' '.join(cmd)}` printed a traceback:\n{proc.stderr[-3000:]}"
    return proc


def test_every_readme_command_is_accounted_for(repo):
    commands = _readme_commands(repo)
    assert len(commands) >= 20, commands                    # the extraction itself works
    unknown = [c for c in commands if not any(re.fullmatch(p, c) for p in COMMANDS)]
    assert not unknown, (
        f"README commands no test accounts for: {unknown}; run them in "
        "tests/grading/test_readme_commands.py or say in COMMANDS where they are checked"
    )


def test_make_targets_named_in_the_readme_exist(repo):
    proc = _run(["make", "help"], cwd=repo, env=_env(False, repo))
    targets = {m.group(1) for c in _readme_commands(repo) if (m := re.match(r"make ([\w-]+)", c))}
    for target in sorted(targets):
        dry = subprocess.run(["make", "-n", target], cwd=repo, env=_env(False, repo),
                             capture_output=True, text=True)
        assert dry.returncode == 0, f"`make {target}` is not a target: {dry.stderr}"
    assert "demo" in proc.stdout and "test" in proc.stdout


@pytest.fixture(scope="module")
def fresh_course(tmp_path_factory, repo) -> Course:
    """A course directory with three sample submissions of 00_setup and no gradebook yet."""
    root = tmp_path_factory.mktemp("readme") / "course"
    course = Course.create(root, repo)
    course.generate(CHAPTER)
    built = samples.build(course.release(CHAPTER), course.source(CHAPTER),
                          samples.partial_manifest(repo)[CHAPTER]["solved"])
    for student, notebook in built.items():
        course.submit(student, CHAPTER, notebook)
    (course.root / "gradebook.db").unlink()               # as on a fresh machine
    return course


def test_instructor_commands_with_and_without_the_environment(fresh_course, tmp_path):
    course = fresh_course
    c = ["--course", str(course.root)]
    plain, active = _env(False, tmp_path), _env(True, tmp_path)

    graded = _run([str(BIN / "rnn-course"), *c, "grade", "submitted", "--workers", "2",
                   "--chapter", CHAPTER, "--quiet"], cwd=course.root, env=plain)
    assert "complete" in graded.stdout and "blank" in graded.stdout
    with sqlite3.connect(course.root / "gradebook.db") as db:     # whole: a schema revision
        assert len(db.execute("SELECT version_num FROM alembic_version").fetchall()) == 1
    scores = course.scores(CHAPTER)
    assert scores["complete"].auto == scores["complete"].auto_max > 0
    assert scores["blank"].auto == 0

    # activated: by name; again (idempotent: nothing executed a second time)
    again = _run(["rnn-course", *c, "grade", "submitted", "--chapter", CHAPTER, "--quiet"],
                 cwd=course.root, env=active)
    assert again.stdout.count("(cached)") == 3, again.stdout
    assert course.scores(CHAPTER) == scores

    for env, name in ((plain, str(BIN / "rnn-course")), (active, "rnn-course")):
        _run([name, *c, "feedback", "--chapter", CHAPTER], cwd=course.root, env=env)
        assert list(course.root.glob(f"feedback/*/{CHAPTER}/*.html"))
        out = tmp_path / f"grades-{'active' if env is active else 'plain'}.csv"
        _run([name, *c, "export", str(out)], cwd=course.root, env=env)
        rows = list(csv.DictReader(out.open()))
        assert {r["student_id"] for r in rows} >= {"complete", "blank", "partial"}
    _run([str(BIN / "rnn-course"), *c, "feedback", "--reveal-hidden-tests"], cwd=course.root, env=plain)
    for env, name in ((plain, str(BIN / "rnn-course")), (active, "rnn-course")):
        shown = _run([name, *c, "report"], cwd=course.root, env=env)
        assert (course.root / "reports" / "report.html").is_file(), shown.stdout
        assert f"{CHAPTER} " in shown.stdout and "report.csv" in shown.stdout, shown.stdout
    doctor = _run([str(BIN / "rnn-course"), *c, "doctor"], cwd=course.root, env=plain)
    assert "python" in doctor.stdout


def test_student_kit_as_documented(tmp_path, repo):
    """`rnn-course student-kit OUT [--chapters ...]`, without and with the environment active."""
    for env, name in ((_env(False, tmp_path), str(BIN / "rnn-course")), (_env(True, tmp_path), "rnn-course")):
        out = tmp_path / f"kit-{len(name)}"
        proc = _run([name, "--course", str(repo), "student-kit", str(out), "--chapters", CHAPTER, "01_rnn_forward"],
                    cwd=tmp_path, env=env)
        assert proc.stdout.splitlines()[:2] == [str(out), f"{out}.zip"], proc.stdout
        assert sorted(p.name for p in (out / "notebooks").iterdir()) == [CHAPTER, "01_rnn_forward"]


def test_demo_runs_as_documented(tmp_path, repo):
    proc = _run([str(BIN / "python"), "-m", "rnn_course.demo", CHAPTER, "--root", str(tmp_path / "course")],
                cwd=repo, env=_env(False, tmp_path))
    assert re.search(r"complete\s+\S+ / \S+\s+\S+ / \S+\s+\S+ ok", proc.stdout), proc.stdout[-2000:]
    assert "MISMATCH" not in proc.stdout


def test_student_validate_as_documented(tmp_path, repo):
    """`nbgrader validate notebooks/<chapter>/<chapter>.ipynb` on the release: it fails, and says so."""
    target = tmp_path / "notebooks" / CHAPTER
    target.mkdir(parents=True)
    (target / f"{CHAPTER}.ipynb").write_bytes((repo / "notebooks" / CHAPTER / f"{CHAPTER}.ipynb").read_bytes())
    proc = subprocess.run([str(BIN / "nbgrader"), "validate", f"notebooks/{CHAPTER}/{CHAPTER}.ipynb"],
                          cwd=tmp_path, env=_env(False, tmp_path), capture_output=True, text=True,
                          timeout=600)
    out = proc.stdout + proc.stderr
    assert "VALIDATION FAILED" in out and "NotImplementedError" in out, out[-3000:]


def test_env_setup_prints_the_device(tmp_path):
    proc = _run(["python", "-c", "from rnn_course import env; env.setup()"], cwd=tmp_path,
                env=_env(True, tmp_path), timeout=300)
    assert "CPU" in proc.stdout or "GPU" in proc.stdout, proc.stdout
