"""A half-initialised gradebook is repaired or refused, never used silently (issue 16)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_course.grading import gradebook

MINIMAL_PATH = "/usr/bin:/bin"


def _nbgrader_without_alembic(db: Path) -> subprocess.CompletedProcess:
    """What an earlier run did without the environment on PATH: tables made, revision not."""
    code = f"from nbgrader.api import Gradebook\nGradebook('sqlite:///{db}')\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PATH": MINIMAL_PATH, "HOME": str(db.parent)})


@pytest.fixture(autouse=True)
def _alembic_on_path(monkeypatch):
    """nbgrader, called directly here, finds `alembic` as the command line makes it."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{MINIMAL_PATH}")


def _revisions(db: Path) -> list:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT version_num FROM alembic_version").fetchall()


def test_half_initialised_gradebook_is_stamped_as_nbgrader_would(tmp_path, capsys):
    half = tmp_path / "half.db"
    proc = _nbgrader_without_alembic(half)
    assert proc.returncode != 0 and "alembic" in proc.stderr      # the failure issue 16 met
    whole = tmp_path / "whole.db"
    from nbgrader.api import Gradebook

    Gradebook(f"sqlite:///{whole}").close()                         # alembic on PATH here

    assert gradebook.check(half) == "repaired"
    assert "half-initialised" in capsys.readouterr().err
    assert _revisions(half) == _revisions(whole)
    assert gradebook.check(half) == "ok"
    with Gradebook(f"sqlite:///{half}") as gb:                     # nbgrader accepts it
        gb.add_student("s1")
        assert [s.id for s in gb.students] == ["s1"]


def test_whole_absent_and_empty_gradebooks_are_left_alone(tmp_path):
    assert gradebook.check(tmp_path / "none.db") == "absent"
    (tmp_path / "empty.db").write_bytes(b"")
    assert gradebook.check(tmp_path / "empty.db") == "empty"
    from nbgrader.api import Gradebook

    Gradebook(f"sqlite:///{tmp_path / 'g.db'}").close()
    before = (tmp_path / "g.db").read_bytes()
    assert gradebook.check(tmp_path / "g.db") == "ok"
    assert (tmp_path / "g.db").read_bytes() == before


def test_gradebook_missing_tables_is_refused_with_its_path(tmp_path):
    db = tmp_path / "gradebook.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE student (id VARCHAR(128) PRIMARY KEY)")
    with pytest.raises(gradebook.GradebookError, match=r"gradebook\.db: a half-created gradebook"):
        gradebook.check(db)


def test_empty_revision_table_is_refused(tmp_path):
    db = tmp_path / "gradebook.db"
    from nbgrader.api import Gradebook

    Gradebook(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM alembic_version")
    with pytest.raises(gradebook.GradebookError, match="holds 0 revisions"):
        gradebook.check(db)


def test_cli_reports_a_damaged_gradebook_without_a_traceback(tmp_path, repo):
    from rnn_course.course import Course

    course = Course.create(tmp_path / "course", repo)
    with sqlite3.connect(course.root / "gradebook.db") as c:
        c.execute("CREATE TABLE student (id VARCHAR(128) PRIMARY KEY)")
    rnn_course_bin = Path(sys.executable).parent / "rnn-course"
    proc = subprocess.run([str(rnn_course_bin), "--course", str(course.root), "export", "g.csv"],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": MINIMAL_PATH, "HOME": str(tmp_path)})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert "half-created gradebook" in proc.stderr
