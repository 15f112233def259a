"""The same grading on Dask distributed (its LocalCluster, as a real cluster would run it)."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from rnn_course import samples
from rnn_course.course import Course, kernel_env

pytestmark = pytest.mark.grading
CHAPTER = "00_setup"


def test_dask_engine_grades_like_the_local_one(tmp_path, repo):
    course = Course.create(tmp_path / "course", repo)
    course.generate(CHAPTER)
    manifest = samples.partial_manifest(repo)
    built = samples.build(course.release(CHAPTER), course.source(CHAPTER), manifest[CHAPTER]["solved"])
    for student, notebook in built.items():
        path = tmp_path / "submissions" / student / CHAPTER / f"{CHAPTER}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, str(path))
    proc = subprocess.run(
        [sys.executable, "-m", "rnn_course.cli", "--course", str(course.root), "grade", str(tmp_path / "submissions"),
         "--engine", "dask", "--workers", "2", "--quiet"],
        capture_output=True, text=True, env=kernel_env(), stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "with 2 dask worker(s)" in proc.stdout
    scores = {s: v.auto for s, v in course.scores(CHAPTER).items()}
    assert scores == {"complete": 5.0, "blank": 0.0, "partial": float(manifest[CHAPTER]["expected_points"])}


def test_doctor_reports_the_sandbox(repo):
    proc = subprocess.run([sys.executable, "-m", "rnn_course.cli", "--course", str(repo), "doctor"],
                          capture_output=True, text=True, env=kernel_env(), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "ok   sandbox: kernel started" in proc.stdout and "probe connection blocked" in proc.stdout
    from rnn_course.grading import forkserver

    if forkserver.enabled():
        assert "fork server on" in proc.stdout and "(fork server)" in proc.stdout, proc.stdout
    assert "keras backend:" in proc.stdout and "device:" in proc.stdout
