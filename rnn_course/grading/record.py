"""Write one graded submission into nbgrader's places: the gradebook and ``autograded/``.

Only the grading process calls this, one submission at a time (SQLite is not safe for
concurrent writers), so workers never touch the gradebook. What it writes is what nbgrader's own
``autograde`` writes — a submission row, an ``auto_score`` per graded cell, "No response."
comments, the executed notebook under ``autograded/<student>/<chapter>/`` — so nbgrader's
``generate_feedback``, ``export`` and the formgrader work on it unchanged. Submissions with
tampering or a broken limit are *flagged* for the formgrader.

The grader's own record of each submission (status, findings, verdicts and the digests that make
re-grading idempotent) is ``.rnn-course/results/<chapter>/<student>.json`` in the course directory,
written with a MAC over it and the graded notebook (:mod:`~rnn_course.grading.results`).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from rnn_course.grading import pages, results

# Statuses and findings that flag a submission for a human look in the formgrader.
SEVERE = {"tampering", "guarded", "timeout", "kernel-died", "memory", "output-flood", "notebook-timeout",
          "unreadable", "wrong-chapter", "grader-error", "duplicated", "tests-restored", "files",
          "no-isolation", "id-collision"}

NOTE_ID = "rnn-course-grader-note"   # the first cell of a graded notebook, when there is a note
result_path = results.result_path


def load_result(course_root: Path, chapter: str, student: str) -> dict | None:
    """A stored result for display, verified or not (grading reuses only :func:`results.load`'s verified ones)."""
    return results.load(course_root, chapter, student).result


def record(course_root: Path, db_url: str, template, student: str, result: dict,
           notebook: dict | None, timestamp: str | None = None, secret: str | None = None) -> dict:
    """Store a result (see :func:`rnn_course.grading.grade.grade_one`) in the gradebook.

    Args:
        course_root: the nbgrader course directory.
        db_url: its gradebook.
        template: the chapter's :class:`~rnn_course.grading.merge.Template`.
        student: student id.
        result: {"status", "findings", "verdicts", "answered", ...} (JSON-able).
        notebook: the executed notebook (nbformat v4 dict), or None when nothing ran.
        timestamp: submission time as nbgrader writes it, if known.
        secret: nbgrader's submission secret, if the submission came through the exchange: written
            to ``submission_secret.txt`` beside the graded notebook, as ``nbgrader autograde``
            does, for ``generate_feedback`` to carry to ``feedback/`` and ``release_feedback``
            to read there.

    Returns:
        the result with "score" and "max_score" (autograded points) added.
    """
    import warnings

    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    chapter = template.chapter
    verdicts = result.get("verdicts", {})
    answered = set(result.get("answered", []))
    score = max_score = 0.0
    with Gradebook(db_url) as gb, warnings.catch_warnings():
        # nbgrader's own autograde triggers the same autoflush notices; they are not errors.
        warnings.simplefilter("ignore", SAWarning)
        gb.update_or_create_student(student)
        kwargs = {"timestamp": timestamp} if timestamp else {}
        gb.update_or_create_submission(chapter, student, **kwargs)
        for grade_id, points in template.points.items():
            grade = gb.find_grade(grade_id, chapter, chapter, student)
            if grade_id in template.tests:
                passed = bool(verdicts.get(grade_id, {}).get("passed"))
                grade.auto_score = points if passed else 0.0
                grade.needs_manual_grade = grade.manual_score is not None
                score += grade.auto_score
                max_score += points
            elif grade_id in answered:
                grade.auto_score = None
                grade.needs_manual_grade = True
            else:
                grade.auto_score = 0.0
                grade.needs_manual_grade = grade.manual_score is not None
        for grade_id in template.answers:
            comment = gb.find_comment(grade_id, chapter, chapter, student)
            comment.auto_comment = None if grade_id in answered else "No response."
        submitted = gb.find_submission_notebook(chapter, chapter, student)
        submitted.flagged = bool(SEVERE & ({result.get("status")} | {f.split(":")[0] for f in result.get("findings", [])}))
        gb.db.commit()

    graded = nbformat.from_dict(notebook if notebook is not None else template.notebook)
    note = _note(result)
    if note:
        graded.cells.insert(0, nbformat.v4.new_markdown_cell(note, id=NOTE_ID))
    result = {**result, "score": score, "max_score": max_score}
    # The formgrader and nbgrader's feedback render this notebook: no script of the submission's
    # (added markdown, HTML/JavaScript outputs) may survive into it.
    graded = pages.sanitize_notebook(graded)
    stored = results.store(course_root, chapter, student, result, nbformat.writes(graded).encode())
    folder = results.notebook_path(course_root, chapter, student).parent
    if timestamp:
        results.write_atomic(folder / "timestamp.txt", (timestamp + "\n").encode())
    if secret:
        results.write_atomic(folder / "submission_secret.txt", secret.encode(), mode=0o600)
    elif (folder / "submission_secret.txt").exists():     # a newer hand-in without one
        (folder / "submission_secret.txt").unlink()
    return {k: v for k, v in stored.items() if k != "notebook_sha256"}


def _note(result: dict) -> str:
    """A short markdown note for the student and the grader when something was unusual."""
    lines = []
    status = result.get("status", "ok")
    if status not in ("ok", "guarded"):
        lines.append(f"**Grader status: {status}.** " + {
            "timeout": "a cell ran past the time limit and was interrupted.",
            "notebook-timeout": "the notebook ran past its total time limit; later cells were not run.",
            "memory": "the notebook used more memory than allowed and was stopped.",
            "files": "the notebook created more files than allowed and was stopped.",
            "output-flood": "the notebook printed too much output and was stopped.",
            "kernel-died": "the Python kernel stopped (exit, crash or kill); later cells were not run.",
            "tampering": "the grader's checks were interfered with; affected tests scored 0.",
            "unreadable": "the file could not be read as a notebook.",
            "grader-error": "the grader failed on this submission; your instructor has been told.",
        }.get(status, ""))
    for finding in result.get("findings", []):
        lines.append(f"- {finding}")
    for event in result.get("events", [])[:10]:
        if " DENIED " in f" {event} " or " RESTORED " in f" {event} ":
            lines.append(f"- guard: {event}")
    return "\n".join(lines)
