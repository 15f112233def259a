"""The student kit on a machine that has never seen the repository (issue 19).

The kit's zip is unpacked into an empty folder, installed into a fresh virtual environment with
the README's own command, and a chapter is validated there with nbgrader, with a HOME of its own
and none of the repository's environment variables: with the answers typed in it passes, as
released it fails. About 1.5 minutes, most of it pip: `make test-kit` (CI), not `make test`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import nbformat
import pytest

from rnn_course import kit, samples
from rnn_course.course import repo_root

pytestmark = [pytest.mark.notebook, pytest.mark.kit]

REPO = repo_root()
CHAPTER = "00_setup"


def _student_env(home) -> dict:
    """A student's shell: PATH and a HOME, nothing of the repository's (no TF_* or RNN_COURSE_*)."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR")}
    keep["PATH"] = os.pathsep.join(p for p in keep.get("PATH", "").split(os.pathsep)
                                   if not p.startswith(str(REPO)))
    return {**keep, "HOME": str(home)}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    built = kit.build(tmp_path_factory.mktemp("build") / "student-kit", REPO)
    empty = tmp_path_factory.mktemp("student")
    with zipfile.ZipFile(built.archive) as archive:
        archive.extractall(empty)
    folder = empty / "student-kit"
    home = tmp_path_factory.mktemp("home")
    env = _student_env(home)
    # The README's first command, as written (in the kit's folder).
    readme = (folder / "README.md").read_text()
    command = "python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt"
    assert command in readme
    base = getattr(sys, "_base_executable", sys.executable)
    done = subprocess.run(
        f"{base} -m venv .venv && .venv/bin/python -m pip install --quiet --disable-pip-version-check "
        f"-r requirements.txt", shell=True, cwd=folder, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, env


def _python(folder, env, *args, **kwargs):
    return subprocess.run([str(folder / ".venv" / "bin" / "python"), *args], cwd=folder, env=env,
                          capture_output=True, text=True, **kwargs)


def test_the_kit_installs_the_student_modules_and_nothing_of_the_instructor(installed):
    folder, env = installed
    probe = ("import importlib.util as u, rnn_course; print(rnn_course.__file__); "
             "print([m for m in ('rnn_course.grading', 'rnn_course.kit', 'rnn_course.cli', 'rnn_course.course', "
             "'tests.reference') if u.find_spec(m.split('.')[0]) and (m == 'tests.reference' or u.find_spec(m))])")
    done = _python(folder, env, "-c", probe)
    assert done.returncode == 0, done.stderr
    where, found = done.stdout.splitlines()
    assert "/.venv/lib/" in where and found == "[]"
    lab = _python(folder, env, "-m", "rnn_course.lab", "--help")
    assert lab.returncode == 0 and "--root" in lab.stdout


def test_a_chapter_validates_in_the_kit_with_its_answers_and_fails_without(installed):
    folder, env = installed
    path = folder / "notebooks" / CHAPTER / f"{CHAPTER}.ipynb"
    released = nbformat.read(str(path), as_version=4)
    blank = _python(folder, env, "-m", "nbgrader", "validate", str(path), timeout=600)
    assert "Success! Your notebook passes all the tests." not in blank.stdout, blank.stdout
    answered = samples.fill(released, nbformat.read(str(REPO / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"),
                                                    as_version=4))
    nbformat.write(answered, str(path))
    done = _python(folder, env, "-m", "nbgrader", "validate", str(path), timeout=600)
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout + done.stderr
