"""`rnn-course report`: a class's failures grouped by the trusted process's diagnosis."""

from __future__ import annotations

import csv
import json

import pytest

from rnn_course import checks
from rnn_course.grading import report, results, verdict


def _raised(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("did not raise")


def test_diagnosis_is_the_hint_without_the_students_numbers():
    exc = _raised(lambda: checks.check_close([1.0, 2.5], [1.0, 2.0], name="h"))
    assert isinstance(exc, checks.CheckFailure)
    found = verdict.diagnosis(exc)
    assert found and not any(ch.isdigit() for ch in found), found

    hinted = _raised(lambda: checks._fail("h[N=3] is 0.25, expected 0.5", hint="a sum over time, not an average"))
    assert verdict.diagnosis(hinted) == "a sum over time, not an average"
    plain = _raised(lambda: checks._fail("h[N=3] is 0.25,\nexpected 0.5"))
    assert verdict.diagnosis(plain) == "h[N=#] is #,"
    assert verdict.diagnosis(AssertionError("loss 1e-3 too big\nmore")) == "loss # too big"
    assert verdict.diagnosis(KeyError("x")) == "the test could not run (KeyError)"


def test_a_students_own_message_is_not_the_diagnosis():
    from rnn_course.student_side import StudentError

    def boom():
        raise ValueError("INJECTED text the student wrote")

    exc = _raised(lambda: checks.call(boom, name="rnn_forward"))
    assert verdict.diagnosis(exc) == "rnn_forward(...) raised ValueError"
    assert verdict.diagnosis(StudentError("Value<b>Error", "INJECTED")) == "the student's code raised ValuebError"
    unanswered = _raised(lambda: checks.call(lambda: (_ for _ in ()).throw(NotImplementedError()), name="f"))
    assert verdict.diagnosis(unanswered) == "f is not implemented yet"


def _store(root, chapter, student, verdicts):
    results.store(root, chapter, student, {"status": "ok", "verdicts": verdicts}, b"{}")


def test_report_groups_a_class_by_diagnosis(tmp_path):
    root = tmp_path / "course"
    wrong = {"passed": False, "why": "a check failed", "diagnosis": "the recurrent kernel is transposed"}
    other = {"passed": False, "why": "a check failed", "diagnosis": "a sum over time, not an average"}
    ok = {"passed": True, "why": "passed"}
    _store(root, "01_rnn_forward", "ann", {"test_a": wrong, "test_b": ok})
    _store(root, "01_rnn_forward", "bob", {"test_a": wrong, "test_b": other})
    _store(root, "01_rnn_forward", "cid", {"test_a": ok, "test_b": ok})
    _store(root, "01_rnn_forward", "eve", {"test_a": ok, "test_b": ok})
    # Eve edits her record afterwards: left out, and said.
    path = results.result_path(root, "01_rnn_forward", "eve")
    body = json.loads(path.read_text())
    body["verdicts"]["test_a"] = {"passed": False, "why": "x", "diagnosis": "<script>alert(1)</script>"}
    path.write_text(json.dumps(body))

    csv_path, html_path, built = report.write(root, tmp_path / "out")
    cells = {c.cell: c for c in built.cells}
    assert (cells["test_a"].graded, cells["test_a"].passed) == (3, 1)
    assert dict(cells["test_a"].groups) == {"the recurrent kernel is transposed": ["ann", "bob"]}
    assert dict(cells["test_b"].groups) == {"a sum over time, not an average": ["bob"]}
    assert built.unverified == {"01_rnn_forward": ["eve"]}
    rows = list(csv.DictReader(open(csv_path)))
    assert {"chapter": "01_rnn_forward", "cell": "test_a", "graded": "3", "passed": "1",
            "diagnosis": "the recurrent kernel is transposed", "students": "2", "examples": "ann bob"} in rows
    page = html_path.read_text()
    assert "the recurrent kernel is transposed" in page and "data:image/png;base64," in page
    assert "<script>" not in page and "1 records left out" in page


@pytest.mark.parametrize("chapter", [None, "01_rnn_forward"])
def test_report_of_an_empty_course(tmp_path, chapter):
    _, html_path, built = report.write(tmp_path, tmp_path / "out", chapter)
    assert built.cells == [] and "What the class got wrong" in html_path.read_text()
