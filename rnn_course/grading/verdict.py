"""The trusted process: runs a chapter's test cells, reaching the student's code only as data.

``rnn-course grade`` starts one per graded notebook, beside the sandboxed kernel. It executes
the chapter's preamble (its imports and ``test-helpers`` cells, from the instructor's template)
and then each test cell, whole, hidden tests included; ``student`` (rnn_course.student_side)
sends each request to the grader, which forwards it to the kernel and hands back the kernel's
reply bytes. Those bytes are only ever read by :func:`rnn_course.channel.decode` (JSON and
``.npy`` with ``allow_pickle=False``): nothing from the sandbox is imported, compiled or
executed here, so the expected values, the oracles and the comparisons are out of the student's
reach, and so is the verdict, which is this process's own: the test cell raised or it did not.

Protocol (stdin from the grader; to it, the file descriptor named by the first argument; stdout
and stderr are captured by the grader, never printed):
length-prefixed JSON frames (4-byte big-endian length). The grader sends ``{"op": "preamble",
"source"}``, then per test cell ``{"op": "cell", "name", "source"}``, and ``{"op": "reply",
"status", "payload", "stdout"}`` for each ``{"op": "call", "payload"}`` this process sends
while the cell runs; the cell ends with ``{"op": "done", "status", "why", "outputs"}``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import struct
import sys
import threading
import traceback

MAX_FRAME = 96 * 2**20
MAX_STDOUT = 256 * 1024


def write_frame(stream, message: dict) -> None:
    data = json.dumps(message).encode()
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def read_frame(stream) -> dict | None:
    head = _read_exact(stream, 4)
    if head is None:
        return None
    (length,) = struct.unpack(">I", head)
    if length > MAX_FRAME:
        raise ValueError(f"a frame of {length} bytes")
    data = _read_exact(stream, length)
    if data is None:
        return None
    return json.loads(data)


def _read_exact(stream, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class _Link:
    """The transport of ``student`` in this process: one request out, one reply back."""

    def __init__(self, inbox, outbox):
        self.inbox, self.outbox = inbox, outbox

    def __call__(self, message: bytes) -> bytes:
        from rnn_course.channel import encode
        from rnn_course.student_side import SandboxStopped

        write_frame(self.outbox, {"op": "call", "payload": base64.b64encode(message).decode("ascii")})
        reply = read_frame(self.inbox)
        if reply is None:
            raise SandboxStopped("grader-gone")
        if reply.get("op") != "reply":
            raise SandboxStopped("protocol")
        printed = reply.get("stdout")
        if isinstance(printed, str) and printed:
            sys.stdout.write(printed[:MAX_STDOUT])
        status = reply.get("status")
        if status == "ok" and isinstance(reply.get("payload"), str):
            try:
                return base64.b64decode(reply["payload"], validate=True)
            except ValueError:
                status = "no-answer"
        if status in ("no-answer", "ok", "error"):
            # The kernel ran the request but published no readable reply (the student's code
            # replaced the server, or printed over it): the student's answer is missing.
            return encode({"error": {"type": "RuntimeError", "lines": [],
                                     "message": "your code gave no answer to the test's call "
                                                "(did it replace or break rnn_course.student_side?)"}})
        raise SandboxStopped(str(status)[:40])


def _visible_traceback(exc: BaseException) -> list:
    """The test cell's frames and the message; frames of checks' helpers (``__tracebackhide__``) left out."""
    lines = ["Traceback (most recent call last):"]
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_locals.get("__tracebackhide__") or frame.f_code.co_filename == __file__:
            continue
        summary = traceback.FrameSummary(frame.f_code.co_filename, lineno, frame.f_code.co_name)
        lines.append(f'  File "{summary.filename}", line {lineno}, in {summary.name}')
        if summary.line:
            lines.append(f"    {summary.line}")
    lines.append(f"{_ename(exc)}: {exc}")
    return lines


def _ename(exc: BaseException) -> str:
    return type(exc).__name__


def _why(exc: BaseException) -> str:
    from rnn_course.channel import ChannelError
    from rnn_course.checks import CheckFailure
    from rnn_course.student_side import StudentError

    if isinstance(exc, CheckFailure):
        return "the student's code raised" if isinstance(exc.__cause__, StudentError) else "a check failed"
    if isinstance(exc, StudentError):
        return "the student's code raised"
    if isinstance(exc, ChannelError):
        return "the student's side sent what is not data"
    if isinstance(exc, AssertionError):
        return "a check failed"
    return f"the test could not run ({_ename(exc)})"


def diagnosis(exc: BaseException) -> str:
    """The failure in a few words, for grouping a class by misconception (``rnn-course report``):
    a check's own diagnosis (its hint, as written), else an assertion's first line with its
    numbers as ``#`` (they differ per student), or the type a student's code raised (never its
    message, which the student writes)."""
    from rnn_course.checks import CheckFailure
    from rnn_course.student_side import StudentError

    fixed = False
    if isinstance(exc, CheckFailure):
        text, fixed = exc.diagnosis or "", getattr(exc, "fixed", False)
    elif isinstance(exc, StudentError):
        name = re.sub(r"\W", "", str(getattr(exc, "type_name", "") or "an exception"))[:40]
        text, fixed = f"the student's code raised {name}", True
    elif isinstance(exc, AssertionError):
        text = str(exc).split("\n", 1)[0] or "an assertion failed"
    else:
        text, fixed = f"the test could not run ({_ename(exc)})", True
    if not fixed:  # a message: the student's values in it become #
        text = re.sub(r"(?<![\w.])[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(?!\w)", "#", text)
    return " ".join(text.split())[:200]


def run_cell(source: str, name: str, namespace: dict, stdout) -> dict:
    """Execute one test cell's source in ``namespace``; the verdict is whether it raised."""
    from rnn_course.student_side import SandboxStopped

    outputs = []
    status, why, found = "ok", "passed", ""
    with contextlib.redirect_stdout(stdout):
        try:
            exec(compile(source, f"<test cell {name}>", "exec"), namespace)
        except SandboxStopped as stop:
            status, why = "stopped", stop.label
        except Exception as exc:
            status, why = "error", _why(exc)
            try:
                found = diagnosis(exc)
            except Exception:  # noqa: BLE001 - a report's detail never costs a verdict
                found = why
            error = {"output_type": "error", "ename": _ename(exc), "evalue": str(exc)[:20000],
                     "traceback": _visible_traceback(exc)}
        except BaseException as exc:  # SystemExit, KeyboardInterrupt from a test
            status, why = "error", f"the test could not run ({_ename(exc)})"
            error = {"output_type": "error", "ename": _ename(exc), "evalue": str(exc)[:2000], "traceback": []}
    text = stdout.getvalue()
    if text:
        outputs.append({"output_type": "stream", "name": "stdout", "text": text[:MAX_STDOUT]})
    if status == "error":
        outputs.append(error)
    return {"op": "done", "status": status, "why": why, "diagnosis": found, "outputs": outputs}


def _audit(setting: str) -> None:
    """RNN_COURSE_VERDICT_AUDIT="MARK:PATH" (tests): log to PATH every compile or exec here of
    source holding MARK, and every import of a module of that name: what would show the student's
    code running in this process (their cells and replies carry the mark)."""
    mark, _, path = setting.partition(":")

    def hook(event, args):
        if event == "compile" and args and isinstance(args[0], (str, bytes)):
            text = args[0] if isinstance(args[0], str) else args[0].decode(errors="replace")
            if mark in text:
                with open(path, "a") as log:
                    log.write(f"compile {args[1]!r}: {text[:200]!r}\n")
        elif event == "exec" and args and mark in getattr(args[0], "co_filename", ""):
            with open(path, "a") as log:
                log.write(f"exec {args[0].co_filename!r}\n")
        elif event == "import" and args and mark.replace("-", "_") in str(args[0]):
            with open(path, "a") as log:
                log.write(f"import {args[0]!r}\n")

    if mark and path:
        sys.addaudithook(hook)


def main(argv: list) -> int:
    if os.environ.get("RNN_COURSE_VERDICT_AUDIT"):
        _audit(os.environ["RNN_COURSE_VERDICT_AUDIT"])
    inbox = sys.stdin.buffer
    outbox = os.fdopen(int(argv[0]) if argv else 3, "wb", buffering=0)
    sys.stdin = io.StringIO()
    from rnn_course import env

    env.setup(seed=0, verbose=False)
    from rnn_course.student_side import student

    student.use(_Link(inbox, outbox))
    namespace: dict = {"__name__": "__rnn_course_tests__"}
    write_frame(outbox, {"op": "ready"})
    while True:
        message = read_frame(inbox)
        if message is None:
            return 0
        if message.get("op") == "preamble":
            result = run_cell(message.get("source", ""), "preamble", namespace, io.StringIO())
            write_frame(outbox, result)
        elif message.get("op") == "cell":
            write_frame(outbox, run_cell(message.get("source", ""), str(message.get("name")), namespace,
                                         io.StringIO()))
        elif message.get("op") == "reset":
            # The next notebook (another student's) starts from a fresh namespace and the same seeds,
            # as a fresh process would, without paying for the framework's import again.
            namespace = {"__name__": "__rnn_course_tests__"}
            try:
                import keras

                keras.backend.clear_session()
            except Exception:
                pass
            env.setup(seed=0, verbose=False)
            write_frame(outbox, {"op": "ready"})
        else:
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# --- the grader's end ------------------------------------------------------------------------
class TrustedProcess:
    """The grader's handle on one trusted process (started by the grader, never in the sandbox)."""

    def __init__(self, preamble: str, environment: dict | None = None, threads: int = 1):
        self.preamble = preamble
        self.environment = environment
        self.threads = threads
        self.proc = None
        self.inbox = None
        self.capture = None
        self.ready = False

    def start(self) -> None:
        import subprocess

        from rnn_course.grading.execute import _Capture

        from rnn_course.grading.execute import thread_environment

        env = dict(os.environ if self.environment is None else self.environment)
        env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONHASHSEED": "0",
                    "NBGRADER_EXECUTION": "autograde", "MPLBACKEND": "Agg", **thread_environment(self.threads)})
        env.pop("RNN_COURSE_SANDBOX", None)
        read_end, write_end = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rnn_course.grading.verdict", str(write_end)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, pass_fds=(write_end,),
                start_new_session=True)
        finally:
            os.close(write_end)
        self.inbox = os.fdopen(read_end, "rb", buffering=0)
        self.capture = _Capture(self.proc.stdout)

    def receive(self, timeout: float) -> dict | None:
        """The next frame, or None when none came in ``timeout`` seconds or the process ended."""
        import select

        ready, _, _ = select.select([self.inbox], [], [], max(0.0, timeout))
        if not ready:
            return None
        try:
            return read_frame(self.inbox)
        except (ValueError, OSError):
            return None

    def send(self, message: dict) -> bool:
        try:
            write_frame(self.proc.stdin, message)
            return True
        except (OSError, ValueError):
            return False

    def wait_ready(self, timeout: float) -> str | None:
        """Start (if needed), wait for ``ready`` and run the preamble; None, or why it failed."""
        import time

        if self.proc is None:
            self.start()
        if self.ready:
            return None
        deadline = time.monotonic() + timeout
        first = self.receive(deadline - time.monotonic())
        if not first or first.get("op") != "ready":
            return "the test process did not start: " + (self.capture.text()[-300:] if self.capture else "")
        self.send({"op": "preamble", "source": self.preamble})
        done = self.receive(deadline - time.monotonic())
        if not done or done.get("status") != "ok":
            outputs = (done or {}).get("outputs", [])
            detail = " ".join(o.get("evalue", "") for o in outputs if o.get("output_type") == "error")
            return f"the chapter's test preamble failed: {detail[:300]}"
        self.ready = True
        return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def reset(self, preamble: str, timeout: float = 60.0) -> bool:
        """Make this process ready for another notebook (fresh namespace, seeds); False if it cannot."""
        if not self.alive() or not self.ready or not self.send({"op": "reset"}):
            return False
        answer = self.receive(timeout)
        if not answer or answer.get("op") != "ready":
            return False
        self.preamble, self.ready = preamble, False
        self.send({"op": "preamble", "source": preamble})
        done = self.receive(timeout)
        if not done or done.get("status") != "ok":
            return False
        self.ready = True
        return True


    def stop(self) -> None:
        import signal

        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except Exception:
            pass
        for stream in (self.inbox, self.proc.stdin):
            try:
                stream.close()
            except (OSError, AttributeError):
                pass
        self.proc, self.ready = None, False


_IDLE = threading.local()


def acquire(preamble: str, threads: int = 1) -> TrustedProcess:
    """A trusted process for one notebook: this thread's previous one, reset, or a new one started.

    The trusted process runs no student code and its namespace and seeds are reset between
    notebooks, so reusing it changes no verdict; it saves the framework's import (seconds of CPU)
    per notebook.
    """
    previous = getattr(_IDLE, "process", None)
    _IDLE.process = None
    if previous is not None:
        if previous.threads == threads and previous.reset(preamble):
            return previous
        previous.stop()
    process = TrustedProcess(preamble, threads=threads)
    process.start()
    return process


def release(process: TrustedProcess) -> None:
    """Keep a healthy process for this thread's next notebook; stop any other."""
    if process.alive() and process.ready:
        stale = getattr(_IDLE, "process", None)
        if stale is not None and stale is not process:
            stale.stop()
        _IDLE.process = process
    else:
        process.stop()
