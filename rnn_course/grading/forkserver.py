"""The grader's side of the fork server: one pre-imported template per worker, one fork per submission.

Starting a kernel costs about 5 CPU seconds before a submission's first cell runs, almost all of
it importing TensorFlow/Keras. :class:`ForkServer` pays that once per grading thread: it starts
:mod:`rnn_course.grading.zygote` in a bubblewrap sandbox built like every kernel's
(:func:`rnn_course.grading.isolation.command`), and :meth:`ForkServer.spawn` asks it for a child
per submission, which enters namespaces of its own (user, mount, PID, network, IPC, UTS), gets
fresh tmpfs folders and loses every capability before the submission's data reaches it.

What still holds per submission (tests/grading/test_forkserver.py): its own files, processes,
``/proc`` view, network and IPC; its own copy of every module (changes die with it); the
template's memory unreadable and unwritable (non-dumpable); nothing of one submission in the
template. What is shared: the template's import-time state (the same seeds before a notebook
calls ``env.setup()``, the same hash secret — ``PYTHONHASHSEED=0`` for every kernel anyway).

``RNN_COURSE_FORK_SERVER=0`` turns it off (a fresh bubblewrap sandbox and interpreter per
submission, as before); it is off without bubblewrap, and a template that fails to start or to
fork is replaced by that path for the rest of the thread's work, said in every result's events.
"""

from __future__ import annotations

import atexit
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

_LOCAL = threading.local()
_ALL: list = []
_LOCK = threading.Lock()
TEMPLATE_TMPFS = 16 * 2**20


class ForkServerError(RuntimeError):
    pass


def enabled() -> bool:
    """On with bubblewrap, unless ``RNN_COURSE_FORK_SERVER=0`` or the machine has an NVIDIA GPU.

    GPUs: CUDA must not be initialised before a fork, and the template's imports were never
    measured on a GPU (the course's GPU tests run on machines this project rarely gets), so a
    GPU machine keeps a sandbox and an interpreter per submission.
    """
    from rnn_course.grading import isolation

    return (os.environ.get("RNN_COURSE_FORK_SERVER", "1") != "0" and isolation.probe().active
            and not isolation.gpu_devices())


def template_environment() -> dict:
    """The template's environment: what every kernel's has before its submission's settings."""
    from rnn_course.grading import execute, isolation

    env = execute.kernel_environment(isolation.SCRATCH, "/tmp", {})
    env.pop("RNN_COURSE_SANDBOX", None)
    return env


def ns_pid(host_pid: int) -> int | None:
    """The PID a process has in its own (innermost) PID namespace, from ``/proc/PID/status``."""
    try:
        with open(f"/proc/{host_pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        return None
    return None


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return []


class Forked:
    """A submission's first process (C1, a child of the template), seen from the grader.

    Quacks like the ``subprocess.Popen`` of the bubblewrap path where :class:`Sandbox` uses one:
    ``pid``, ``poll()``, ``wait()`` and ``stdout``. Liveness comes from a pidfd, so a recycled
    PID cannot pass for it.
    """

    def __init__(self, pid: int, stdout):
        self.pid = pid
        self.stdout = stdout
        self.pidfd = os.pidfd_open(pid)
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            ready, _, _ = select.select([self.pidfd], [], [], 0)
            if ready:
                self.returncode = -9
                os.close(self.pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None):
        if self.returncode is None:
            ready, _, _ = select.select([self.pidfd], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired("fork server child", timeout)
            self.poll()
        return self.returncode


class ForkServer:
    """One template process in its own bubblewrap sandbox, serving one submission at a time."""

    def __init__(self, startup_timeout: float = 120.0):
        from rnn_course.grading import execute, isolation

        self.pid = None
        self.busy = False
        self.private = Path(tempfile.mkdtemp(prefix="rnn-course-template-"))
        os.chmod(self.private, 0o755)
        isolation.write_identity(self.private)
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        status_r, status_w = os.pipe()
        self.env = env = template_environment()
        size = TEMPLATE_TMPFS
        argv = isolation.command(
            self.private, [sys.executable, "-m", "rnn_course.grading.zygote", str(theirs.fileno())],
            sizes=isolation.Sizes(scratch=size, tmp=size, shm=size, kernel=size), status_fd=status_w,
            devices=isolation.gpu_devices(), as_pid_1=True)
        try:
            self.proc = subprocess.Popen(argv, env=env, cwd=str(self.private), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         start_new_session=True, pass_fds=(status_w, theirs.fileno()))
        finally:
            os.close(status_w)
            theirs.close()
        self.capture = execute._Capture(self.proc.stdout)
        try:
            self.pid = self._status(status_r)
            self._expect(b"ready", startup_timeout)
        except Exception:
            self.stop()
            raise
        with _LOCK:
            _ALL.append(self)

    def _status(self, fd: int) -> int:
        import json

        data = b""
        deadline = time.monotonic() + 60
        try:
            while b"\n" not in data and time.monotonic() < deadline and self.proc.poll() is None:
                if select.select([fd], [], [], 0.5)[0]:
                    chunk = os.read(fd, 4096)
                    if not chunk:
                        break
                    data += chunk
        finally:
            os.close(fd)
        try:
            return int(json.loads(data.split(b"\n")[0])["child-pid"])
        except (ValueError, KeyError, TypeError):
            raise ForkServerError("bubblewrap did not start the template: " + self.capture.text()[-300:]) from None

    def _expect(self, prefix: bytes, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([self.control], [], [], 0.5)[0]:
                message = self.control.recv(256)
                if not message.startswith(prefix):
                    raise ForkServerError(f"the template said {message[:200].decode(errors='replace')}")
                return message
            if not self.alive():
                raise ForkServerError("the template exited: " + self.capture.text()[-300:])
        raise ForkServerError(f"no answer from the template in {timeout:g} s")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def spawn(self, channel: int, output: int, report: int, timeout: float = 30.0) -> int:
        """A new child for one submission: its host PID (C1; the kernel is its grandchild).

        The template kills its previous child first: call :meth:`done` when a submission ends,
        and check :attr:`busy` before asking (a second sandbox on the same thread at the same
        time takes the per-submission path).
        """
        self.busy = True
        socket.send_fds(self.control, [b"spawn"], [channel, output, report])
        reply = self._expect(b"pid ", timeout)
        inner = int(reply.split()[1])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for pid in children(self.pid):
                if ns_pid(pid) == inner:
                    return pid
            time.sleep(0.005)
        raise ForkServerError(f"the template's child {inner} is not among its processes")

    def done(self) -> None:
        self.busy = False

    def stop(self) -> None:
        import shutil

        try:
            self.control.close()
        except OSError:
            pass
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.kill()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.private, ignore_errors=True)
        with _LOCK:
            if self in _ALL:
                _ALL.remove(self)


def acquire(startup_timeout: float = 120.0) -> ForkServer:
    """This thread's template (started on first use, replaced if it died)."""
    server = getattr(_LOCAL, "server", None)
    # A template imported the libraries under the environment it started with (the Keras backend,
    # ...): a changed environment gets a new one.
    if server is not None and server.alive() and server.env == template_environment():
        return server
    if server is not None:
        server.stop()
    _LOCAL.server = None
    server = ForkServer(startup_timeout)
    _LOCAL.server = server
    return server


def discard() -> None:
    """Stop this thread's template (after it failed to serve)."""
    server = getattr(_LOCAL, "server", None)
    _LOCAL.server = None
    if server is not None:
        server.stop()


@atexit.register
def _stop_all() -> None:
    for server in list(_ALL):
        server.stop()
