"""The trusted process (rnn_course.grading.verdict), driven by hand as the grader drives it.

The grader's side is played by the test: it answers each of the test cell's calls with reply
bytes it builds itself, as a sandboxed kernel would (honest, forged or malformed), and checks
that the verdict follows only from what the test cell does with them as data.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest

from rnn_course.channel import Reference, decode, encode
from rnn_course.grading.verdict import TrustedProcess

MARK = "audit-mark-0c4d"


@pytest.fixture(scope="module")
def trusted(tmp_path_factory):
    log = tmp_path_factory.mktemp("audit") / "audit.log"
    import os

    env = {**os.environ, "RNN_COURSE_VERDICT_AUDIT": f"{MARK}:{log}"}
    process = TrustedProcess("import numpy as np\nfrom rnn_course import checks\n"
                             "from rnn_course.student_side import student\n", env)
    assert process.wait_ready(120) is None, process.capture.text() if process.capture else ""
    yield process, log
    process.stop()


def run(process, source: str, answer) -> dict:
    """Run a test cell; answer each call with ``answer(request) -> reply dict`` (or raw bytes)."""
    assert process.send({"op": "cell", "name": "t", "source": source})
    requests = []
    while True:
        message = process.receive(60)
        assert message is not None, process.capture.text()
        if message["op"] == "done":
            message["requests"] = requests
            return message
        request = decode(base64.b64decode(message["payload"]))
        requests.append(request)
        reply = answer(request)
        if isinstance(reply, dict) and "status" in reply:
            process.send({"op": "reply", **reply})
            continue
        data = reply if isinstance(reply, bytes) else encode(reply)
        process.send({"op": "reply", "status": "ok", "payload": base64.b64encode(data).decode()})


TEST = """
out = checks.call(student.double, np.arange(3.0))
checks.check_close(out, np.array([0.0, 2.0, 4.0]), name="double(x)")
print("passed")
"""


def test_right_answer_passes_and_the_request_carries_only_the_inputs(trusted):
    process, _ = trusted
    # the name resolves to a function (a reference comes back), then the call to the numbers
    calls = iter([{"ok": Reference(1, "function")}, {"ok": np.array([0.0, 2.0, 4.0])}])
    done = run(process, TEST, lambda request: next(calls))
    assert done["status"] == "ok", done
    assert done["requests"][0] == {"op": "get", "name": "double"}
    sent = done["requests"][1]
    assert sent["op"] == "call" and np.array_equal(sent["args"][0], np.arange(3.0))
    assert "passed" in done["outputs"][0]["text"]


def test_wrong_answer_fails_with_the_checks_message(trusted):
    process, _ = trusted
    done = run(process, "checks.check_close(student.x, np.zeros(2), name='x')", lambda r: {"ok": np.ones(2)})
    assert done["status"] == "error" and done["why"] == "a check failed"
    assert "x" in done["outputs"][-1]["evalue"]


def _pickled_npy_message() -> bytes:
    """A well-formed message whose array is an object array saved with a pickle inside."""
    import io
    import json
    import struct

    buffer = io.BytesIO()
    np.save(buffer, np.array([MARK], dtype=object), allow_pickle=True)
    blob = buffer.getvalue()
    header = json.dumps({"v": {"d": [["ok", {"a": 0}]]}, "sizes": [len(blob)]}).encode()
    return struct.pack("<Q", len(header)) + header + blob


@pytest.mark.parametrize("reply", [
    b"garbage " + MARK.encode(),
    b"\x00" * 8,
    encode({"ok": 1})[:-3],
    __import__("pickle").dumps({"ok": MARK}),
    _pickled_npy_message(),
], ids=["garbage", "zeros", "truncated", "pickle", "pickled-npy"])
def test_malformed_or_pickled_replies_fail_the_test_and_run_nothing(trusted, reply):
    process, log = trusted
    done = run(process, "checks.check_close(student.x, np.zeros(2), name='x')", lambda r: reply)
    assert done["status"] == "error", done
    assert done["why"] == "the student's side sent what is not data", done["why"]
    assert not log.exists() or MARK not in log.read_text()


def test_a_string_reply_is_data_never_code(trusted):
    process, log = trusted
    code = f"__import__('os').system('echo {MARK}')  # {MARK}"
    done = run(process, "checks.check_close(student.x, np.zeros(2), name='x')", lambda r: {"ok": code})
    assert done["status"] == "error" and done["why"] == "a check failed"
    assert not log.exists() or MARK not in log.read_text()


def test_the_student_error_is_reported_with_its_own_type(trusted):
    process, _ = trusted
    error = {"error": {"type": "NotImplementedError", "message": "", "lines": []}}
    done = run(process, "checks.call(student.f)", lambda r: {"ok": None} if r["op"] == "get" else error)
    # student.f resolved to None: calling None fails as "must be a function"
    assert done["status"] == "error"
    done = run(process, "student.f", lambda r: error)
    assert done["outputs"][-1]["ename"] == "StudentNotImplementedError"
    assert done["why"] == "the student's code raised"


def test_a_limit_on_the_students_side_stops_the_cell_and_no_except_catches_it(trusted):
    process, _ = trusted
    source = "try:\n    student.f\nexcept Exception:\n    pass\nprint('caught')"
    done = run(process, source, lambda r: {"status": "timeout"})
    assert done["status"] == "stopped" and done["why"] == "timeout"
    assert not any("caught" in o.get("text", "") for o in done["outputs"])


def test_the_audit_hook_sees_marked_source(trusted):
    """The positive control of the grading run's audit: compiling marked source is logged."""
    process, log = trusted
    done = run(process, f"compile('x = 1  # {MARK}', '<probe>', 'exec')", lambda r: {"ok": None})
    assert done["status"] == "ok"
    assert MARK in log.read_text()
