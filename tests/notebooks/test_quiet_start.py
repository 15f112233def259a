"""A chapter in a student's own JupyterLab (no TF_* variables set) writes nothing to stderr.

TensorFlow's C++ logs go to the kernel process's stderr (JupyterLab's terminal), not to the
notebook; the kernel inherits this process's stderr, which pytest's ``capfd`` reads. The notebook's
own stderr outputs (what nbgrader scores 0) must stay empty too.

``make``, nbgrader and the grader set TensorFlow's log variables before any kernel starts; a
student who runs ``jupyter lab`` on the kit or a clone does not. Then only the chapter's import
order keeps TensorFlow quiet: ``rnn_course`` first (it sets the variables), keras after. The
control puts ``import keras`` first, as the chapters did before issue 18, and must see stderr.
"""

from __future__ import annotations

import os
import shutil

import nbformat
import pytest

from rnn_course import course
from rnn_course.course import execute_notebook, repo_root

pytestmark = pytest.mark.notebook

REPO = repo_root()
CHAPTER = "01_rnn_forward"   # fits and predicts with Keras: where the E0000 line came from


def _without_tf_variables():
    env = dict(os.environ)
    for key in list(env):
        if key.startswith(("TF_", "RNN_COURSE_", "KERAS_")):
            del env[key]
    env["PATH"] = os.pathsep.join([os.path.dirname(os.sys.executable), env.get("PATH", "")])
    return env


def _stderr(notebook) -> list[str]:
    return ["".join(o.get("text", "")) for cell in notebook.cells if cell.cell_type == "code"
            for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stderr"]


TF_LOG = ("oneDNN", "absl::InitializeLog", "E0000", "I0000", "W0000", "cpu_feature_guard")


def _tf_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(mark in line for mark in TF_LOG)]


def _run(tmp_path, monkeypatch, keras_first: bool):
    source = nbformat.read(str(REPO / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"), as_version=4)
    first = next(c for c in source.cells if c.cell_type == "code")
    if keras_first:
        first.source = "import keras\n" + first.source
    path = tmp_path / CHAPTER / f"{CHAPTER}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(source, str(path))
    monkeypatch.setattr(course, "kernel_env", _without_tf_variables)
    notebook, _ = execute_notebook(path, timeout=300, fast=True)
    shutil.rmtree(path.parent)
    return notebook


def test_the_chapter_as_written_is_quiet(tmp_path, monkeypatch, capfd):
    capfd.readouterr()
    notebook = _run(tmp_path, monkeypatch, keras_first=False)
    assert _stderr(notebook) == []
    assert _tf_lines(capfd.readouterr().err) == []
    assert "imported before rnn_course" not in str(notebook.cells)


def test_control_keras_first_writes_to_stderr_and_setup_says_why(tmp_path, monkeypatch, capfd):
    capfd.readouterr()
    notebook = _run(tmp_path, monkeypatch, keras_first=True)
    logged = _tf_lines(capfd.readouterr().err)
    assert any("E0000" in line for line in logged), logged   # every fit/predict's line
    assert "keras was imported before rnn_course" in str(notebook.cells)
