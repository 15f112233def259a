"""The `rnn-course` command line: arguments and errors (no kernel started)."""

from __future__ import annotations

import pytest

from rnn_course import cli


def test_every_command_is_there():
    help_text = cli.parser().format_help()
    for command in ("release", "grade", "feedback", "export", "doctor"):
        assert command in help_text


def test_grade_options_parse():
    args = cli.parser().parse_args(["grade", "subs", "--workers", "3", "--chapter", "01_rnn_forward",
                                    "--engine", "dask", "--cell-timeout", "5"])
    assert (args.workers, args.chapter, args.engine, args.cell_timeout) == (3, "01_rnn_forward", "dask", 5.0)


def test_bad_course_directory_is_named(tmp_path):
    with pytest.raises(SystemExit, match="--course must be a course directory"):
        cli.main(["--course", str(tmp_path), "export", str(tmp_path / "g.csv")])


def test_bad_engine_refused():
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["grade", "subs", "--engine", "ray"])


def test_grade_class_rejects_bad_arguments(tmp_path, repo):
    from rnn_course.grading.grade import grade_class

    with pytest.raises(ValueError, match="chapter must be one of"):
        grade_class(repo, tmp_path, chapter="99_nope", progress=False)
    with pytest.raises(ValueError, match="workers must be >= 1"):
        grade_class(repo, tmp_path, workers=-1, progress=False)


def test_feedback_hides_hidden_tests_unless_told(monkeypatch, tmp_path):
    from rnn_course.course import Course

    (tmp_path / "nbgrader_config.py").write_text("")
    (tmp_path / "solutions").mkdir()
    calls = []
    monkeypatch.setattr(Course, "generate_feedback", lambda self, chapter, reveal_hidden_tests=False:
                        calls.append((chapter, reveal_hidden_tests)))
    cli.main(["--course", str(tmp_path), "feedback", "--chapter", "00_setup"])
    cli.main(["--course", str(tmp_path), "feedback", "--chapter", "00_setup", "--reveal-hidden-tests"])
    assert calls == [("00_setup", False), ("00_setup", True)]
