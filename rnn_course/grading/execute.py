"""Execute one merged notebook: the student's side in a sandboxed kernel, the tests beside it.

Answer cells and the chapter's ordinary cells run in the kernel. Test cells never do: each runs
in a trusted process (:mod:`rnn_course.grading.verdict`) that holds the inputs, the oracles, the
expected values and the comparisons, and reaches the student's code through requests this module
forwards to the kernel (``rnn_course.student_side.serve``); what comes back is a reply's bytes,
which only the trusted process reads, as data. A test cell passes when it ran to its end there.
Nothing the kernel sends — replies, outputs, the guard's lines — is a verdict.

The kernel runs in the operating-system sandbox of :mod:`rnn_course.grading.isolation` when it
works here (else with the in-kernel guard alone, and the result says so). Limits per notebook: a
per-cell timeout (the kernel is interrupted, the cell fails, the next cells still run), a
wall-clock limit for the whole notebook, resident memory summed over every process of the
sandbox (watched here; a loose address-space cap in the kernel too), files in its tmpfs folders
(counted here), a cap on the output kept, a cap on the bytes a cell may print before the kernel
is stopped, and no network. The kernel's raw stdout/stderr are captured, never printed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from rnn_course.samples import nbgrader_meta

# A reply that is not the kernel's own: (status label, whether the notebook stops there).
LIMIT_REPLIES = {
    "timeout": ("timeout", False), "timeout-killed": ("timeout", True),
    "kernel-died": ("kernel-died", True), "no-reply": ("kernel-died", True),
    "memory": ("memory", True), "files": ("files", True),
    "output-flood": ("output-flood", True), "output-flood-killed": ("output-flood", True),
}


@dataclasses.dataclass
class Limits:
    """Per-notebook limits (seconds and bytes)."""

    cell_timeout: float = 120.0          # CPU seconds of the sandbox's processes, per cell
    notebook_timeout: float = 600.0      # CPU seconds, for the whole notebook
    cell_wall: float | None = None       # wall-clock ceiling per cell (None: 3 x cell_timeout + 30)
    notebook_wall: float | None = None   # wall-clock ceiling per notebook (None: 3 x notebook_timeout)
    memory_bytes: int | None = 8 * 2**30
    output_bytes: int = 2 * 2**20        # kept in the graded notebook
    flood_bytes: int = 16 * 2**20        # printed by one cell before its prints fail
    file_bytes: int = 256 * 2**20        # largest file the notebook may write
    startup_timeout: float = 120.0
    processes: int = 1024                # processes and threads of the submission (RLIMIT_NPROC)
    files: int = 20_000                  # files and folders in the sandbox's tmpfs folders
    scratch_bytes: int = 512 * 2**20     # size of the scratch folder (a tmpfs; /tmp: half)
    threads: int = 1                     # CPU threads of each kernel's and trusted process's framework

    def walls(self) -> tuple:
        """(cell, notebook) wall-clock ceilings: generous, for code that sleeps or blocks."""
        cell = self.cell_wall if self.cell_wall is not None else 3 * self.cell_timeout + 30
        notebook = self.notebook_wall if self.notebook_wall is not None else 3 * self.notebook_timeout
        return cell, notebook

    def sizes(self):
        from rnn_course.grading.isolation import Sizes

        return Sizes(scratch=self.scratch_bytes, tmp=self.scratch_bytes // 2)


@dataclasses.dataclass
class Execution:
    """What happened to one notebook: the executed notebook and per-test-cell verdicts."""

    notebook: dict                       # nbformat v4 as plain JSON-able dict
    verdicts: dict                       # grade_id -> {"passed": bool, "why": str}
    status: str                          # ok | timeout | notebook-timeout | memory | output-flood | kernel-died | tampering | error
    events: list                         # guard lines and limit events, for the report
    seconds: float
    sandbox: dict                        # what the sandbox could enforce here

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def thread_environment(threads: int) -> dict:
    """Variables that give TensorFlow (intra- and inter-op pools), OpenMP and PyTorch ``threads``
    CPU threads each. The grader runs one kernel per core by default, so one thread each uses the
    cores without two kernels' pools fighting for them, and a reduction is summed in the same
    order on any machine (a pool's size decides how a sum is split)."""
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1; received: {threads!r}")
    n = str(threads)
    return {"TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": n, "OMP_NUM_THREADS": n,
            "RNN_COURSE_TORCH_THREADS": n}


def kernel_environment(home: str, tmp: str, settings: dict, threads: int = 1) -> dict:
    """A minimal environment for the sandbox kernel (no inherited secrets or course paths)."""
    keep = ("PATH", "LANG", "LC_ALL", "KERAS_BACKEND", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH",
            "RNN_COURSE_LONG", "XLA_FLAGS", "JAX_PLATFORMS")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update({
        "HOME": home,
        "TMPDIR": tmp,
        "MPLCONFIGDIR": f"{home}/.matplotlib",
        "IPYTHONDIR": f"{home}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{tmp}/jupyter",
        "KERAS_HOME": f"{home}/.keras",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "NBGRADER_EXECUTION": "autograde",   # what nbgrader sets; chapters run in fast mode
        "RNN_COURSE_SANDBOX": json.dumps(settings),
        **thread_environment(threads),
    })
    return env


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and of its children it has waited for (user + system)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / _TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return []


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (the host's view: it sees into child namespaces)."""
    found, todo = [], [pid]
    while todo and len(found) < 100_000:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


def _output_size(output: dict) -> int:
    if output.get("output_type") == "stream":
        return len(output.get("text", ""))
    size = 0
    for value in output.get("data", {}).values():
        size += len(value) if isinstance(value, str) else len(json.dumps(value))
    size += sum(len(line) for line in output.get("traceback", []))
    return size


class _Capture:
    """Read a process's stdout/stderr pipe: keep the first ``limit`` bytes, discard the rest.

    The kernel's raw file descriptors 1 and 2 never reach the instructor's terminal.
    """

    def __init__(self, fd, limit: int = 64 * 1024):
        import threading

        self.kept, self.total, self.limit = bytearray(), 0, limit
        self._thread = threading.Thread(target=self._read, args=(fd,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        try:
            while True:
                chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
                if not chunk:
                    break
                self.total += len(chunk)
                room = self.limit - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]
        except (OSError, ValueError):
            pass
        finally:
            try:
                stream.close()
            except OSError:
                pass

    def text(self) -> str:
        extra = f"\n[{self.total - len(self.kept)} more bytes not kept]" if self.total > len(self.kept) else ""
        return self.kept.decode(errors="replace") + extra


class Sandbox:
    """One kernel process for one submission, inside bubblewrap when it works, driven over ZMQ.

    With bubblewrap (:mod:`rnn_course.grading.isolation`) the kernel binds its sockets in a
    small tmpfs of its own and this process connects to them through ``/proc/<pid>/root``:
    nothing of the host is writable from inside, and no other sandbox can reach them. Without
    it (fallback), the sockets live in a private host folder and the in-kernel guard is the
    only protection.
    """

    def __init__(self, workdir: Path, deny_roots: list, allow_roots: list, limits: Limits,
                 notebook_name: str = "submission.ipynb", notebook_bytes: bytes | None = None):
        from rnn_course.grading import isolation

        self.limits = limits
        self.isolation = isolation.probe()
        self.private = Path(tempfile.mkdtemp(prefix="k", dir=workdir))
        os.chmod(self.private, 0o755)
        (self.private / "input").mkdir()
        if notebook_bytes is not None:  # the submission alone, as the student saw it
            name = Path(notebook_name).name or "submission.ipynb"
            (self.private / "input" / name).write_bytes(notebook_bytes)
        isolation.write_identity(self.private)
        host_report = self.private / "report"
        os.mkfifo(host_report, 0o622)
        self.report_fd = os.open(host_report, os.O_RDONLY | os.O_NONBLOCK)
        self._buffer = b""
        if self.isolation.active:
            inside = Path(isolation.INPUT_DIR)
            self.scratch, tmp = isolation.SCRATCH, "/tmp"
            report, inputs, self.ip_inside = inside / "report", inside / "input", f"{isolation.KERNEL_DIR}/ipc"
            self.connection_inside = str(inside / "connection.json")
        else:
            self.scratch = str(self.private / "w")
            tmp = str(self.private / "w" / "tmp")
            Path(tmp).mkdir(parents=True)
            report, inputs, self.ip_inside = host_report, self.private / "input", str(self.private / "ipc")
            self.connection_inside = str(self.private / "connection.json")
        self.settings = {
            "scratch": self.scratch,
            # The sandbox's private /tmp (TMPDIR: Keras saves through it), for the guard.
            "writable_roots": [tmp] if self.isolation.active else [],
            "inputs": str(inputs),
            "deny_roots": [str(p) for p in deny_roots] + [str(workdir)],
            "allow_roots": [str(p) for p in allow_roots],
            "report_path": str(report),
            # Address space is capped loosely (TensorFlow reserves far more than it touches, and a
            # single absurd allocation should fail at once); resident memory is watched here and
            # the kernel is stopped when it passes the limit.
            # CUDA maps far more address space than any cap allows: with an NVIDIA device only
            # the resident-memory watchdog applies.
            "memory_bytes": (2 * limits.memory_bytes + 2 * 2**30
                             if limits.memory_bytes and not os.path.exists("/dev/nvidiactl") else None),
            "file_bytes": limits.file_bytes,
            "flood_bytes": limits.flood_bytes,
            "open_files": 4096,
            "processes": limits.processes,
            "isolate_network": not self.isolation.active,
            "isolation": self.isolation.tool or f"none ({self.isolation.detail})",
        }
        self.env = kernel_environment(self.scratch, tmp, self.settings, limits.threads)
        self.proc = None
        self.init_pid = None      # bubblewrap: host PID of the sandbox's PID 1
        self.kc = None
        self.capture = None
        self.forked = False
        self.server = None        # the fork server that made this kernel, if one did
        self.fork_note = None     # why the fork server was not used, when it should have been

    # lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        from rnn_course.grading import isolation

        info = {"transport": "ipc", "ip": self.ip_inside, "key": secrets.token_hex(32),
                "signature_scheme": "hmac-sha256", "kernel_name": "rnn-course-sandbox",
                **{f"{name}_port": i + 1 for i, name in enumerate(("shell", "iopub", "stdin", "control", "hb"))}}
        (self.private / "connection.json").write_text(json.dumps(info))
        os.chmod(self.private / "connection.json", 0o644)
        argv = [sys.executable, "-m", "rnn_course.grading.sandbox", "-f", self.connection_inside]
        status_r = status_w = None
        self.forked = self._start_forked(info)
        if self.forked:
            return self._connect(info, f"/proc/{self.init_pid}/root{self.ip_inside}")
        if self.isolation.active:
            status_r, status_w = os.pipe()
            argv = isolation.command(self.private, argv, sizes=self.limits.sizes(), status_fd=status_w,
                                     devices=isolation.gpu_devices())
        try:
            self.proc = subprocess.Popen(
                argv, env=self.env, cwd=self.scratch if not self.isolation.active else str(self.private),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                start_new_session=True, pass_fds=(status_w,) if status_w is not None else ())
        finally:
            if status_w is not None:
                os.close(status_w)
        self.capture = _Capture(self.proc.stdout)
        client_ip = self.ip_inside
        if status_r is not None:
            self.init_pid = self._read_status(status_r)
            client_ip = f"/proc/{self.init_pid}/root{self.ip_inside}"
        self._connect(info, client_ip)

    def _start_forked(self, info: dict) -> bool:
        """Start the kernel as a child of this thread's fork server; False where it cannot.

        The submission reaches the child over a socket, after the fork (see
        :mod:`rnn_course.grading.zygote`); the report pipe and the kernel's stdout/stderr are
        pipes of their own. A template that fails is replaced by the bubblewrap path for this
        thread from then on, and the result's events say so.
        """
        import base64
        import socket

        from rnn_course.grading import forkserver, isolation

        if not forkserver.enabled():
            return False
        if getattr(forkserver._LOCAL, "broken", None):
            self.fork_note = forkserver._LOCAL.broken
            return False
        try:
            server = forkserver.acquire(self.limits.startup_timeout)
        except Exception as exc:  # noqa: BLE001 - said in the result, then the per-submission path
            forkserver._LOCAL.broken = self.fork_note = f"the fork server did not start: {exc}"[:300]
            return False
        if server.busy:  # this thread already runs a forked sandbox: the template serves one
            return False
        sizes = self.limits.sizes()
        label = self.settings["isolation"]
        self.settings["isolation"] = f"{self.isolation.tool} (fork server)"
        request = {
            "settings": self.settings, "env": {k: v for k, v in self.env.items() if k != "RNN_COURSE_SANDBOX"},
            "connection": {**info, "ip": self.ip_inside},
            "files": {p.name: base64.b64encode(p.read_bytes()).decode() for p in (self.private / "input").iterdir()},
            "tmpfs": {isolation.SCRATCH: sizes.scratch, "/tmp": sizes.tmp, "/dev/shm": sizes.shm,
                      isolation.KERNEL_DIR: sizes.kernel},
        }
        # The Python installation, environment or package under one of those folders (a clone
        # in /tmp): bound again above the child's fresh tmpfs.
        request["keep"] = [str(root) for root in isolation.python_roots()
                           if any(Path(folder) in root.parents for folder in request["tmpfs"])]
        ours, theirs = socket.socketpair()
        out_r, out_w = os.pipe()
        report_r, report_w = os.pipe()
        try:
            try:
                pid = server.spawn(theirs.fileno(), out_w, report_w)
                self.server = server
            except Exception as exc:  # noqa: BLE001
                forkserver.discard()
                forkserver._LOCAL.broken = self.fork_note = f"the fork server failed: {exc}"[:300]
                for fd in (out_r, report_r):
                    os.close(fd)
                self.settings["isolation"] = label
                return False
        finally:
            theirs.close()
            os.close(out_w)
            os.close(report_w)
        os.set_blocking(report_r, False)
        proc = forkserver.Forked(pid, os.fdopen(out_r, "rb", buffering=0))
        capture = _Capture(proc.stdout)
        init, deadline = None, time.monotonic() + self.limits.startup_timeout
        try:
            with ours:
                ours.sendall(json.dumps(request).encode())
        except OSError:
            pass  # the child is gone: found below
        while init is None:
            found = forkserver.children(pid)
            if found:
                init = found[0]
            elif proc.poll() is not None or time.monotonic() > deadline:
                # Nothing of the submission has run (its kernel would be the init's child): this
                # worker goes on without the fork server, this submission included.
                for victim in _descendants(pid):
                    try:
                        os.kill(victim, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                os.close(report_r)
                why = capture.text()[-300:].strip() or "no message"
                forkserver.discard()
                forkserver._LOCAL.broken = self.fork_note = f"the fork server's child did not start: {why}"[:300]
                self.server = None
                self.settings["isolation"] = label
                return False
            else:
                time.sleep(0.005)
        os.close(self.report_fd)
        self.report_fd, self.proc, self.capture, self.init_pid = report_r, proc, capture, init
        return True

    def _connect(self, info: dict, client_ip: str) -> None:
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info({**info, "ip": client_ip})
        kc.start_channels()
        self.kc = kc
        deadline = time.monotonic() + self.limits.startup_timeout
        while True:
            if not self.alive():
                raise RuntimeError("the kernel exited while starting: " + self.capture.text()[-300:])
            try:
                kc.wait_for_ready(timeout=min(5.0, max(0.5, deadline - time.monotonic())))
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the kernel did not start in {self.limits.startup_timeout:g} s")

    def _read_status(self, fd: int) -> int:
        """bwrap's first JSON status line: the host PID of the sandbox's init (PID 1 inside)."""
        import select

        data = b""
        deadline = time.monotonic() + 60
        try:
            while b"\n" not in data and time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.5)
                if ready:
                    chunk = os.read(fd, 4096)
                    if not chunk:
                        break
                    data += chunk
                elif self.proc.poll() is not None:
                    break
        finally:
            os.close(fd)
        try:
            return int(json.loads(data.split(b"\n")[0])["child-pid"])
        except (ValueError, KeyError, TypeError):
            raise RuntimeError("bubblewrap did not start the sandbox: " + self.capture.text()[-300:]) from None

    def stop(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        finally:
            self.kill()
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.close(self.report_fd)
            except OSError:
                pass
            if self.server is not None:
                self.server.done()
                self.server = None
            shutil.rmtree(self.private, ignore_errors=True)

    def processes(self) -> list[int]:
        """Host PIDs of every process of this submission."""
        return _descendants(self.proc.pid) if self.proc is not None else []

    def kill(self) -> None:
        """SIGKILL the sandbox. With bubblewrap, its PID namespace dies with its init."""
        if self.proc is None:
            return
        pids = self.processes()
        for pid in ([self.init_pid] if self.init_pid else []) + pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if not self.isolation.active:  # forked children in the kernel's process group too
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def kernel_pid(self) -> int | None:
        """Host PID of the kernel process (PID 2 inside the sandbox, under its init)."""
        if self.init_pid is None:
            return self.pid
        children = _children(self.init_pid)
        return children[0] if children else None

    def cpu_seconds(self, pids: list | None = None) -> float:
        """CPU seconds used so far by every process of this submission (from /proc)."""
        return sum(_cpu_seconds(pid) for pid in (self.processes() if pids is None else pids))

    def resident_bytes(self, pids: list | None = None) -> int:
        pids = self.processes() if pids is None else pids
        if self.forked:  # the fork server's C1 and init: copies of the template, running no student code
            pids = [p for p in pids if p not in (self.proc.pid, self.init_pid)]
        return sum(_rss_bytes(pid) for pid in pids)

    def disk_usage(self) -> tuple[int, int]:
        """(bytes, files) used in the sandbox's tmpfs folders (bubblewrap only; else (0, 0))."""
        from rnn_course.grading import isolation

        if self.init_pid is None:
            return 0, 0
        used = files = 0
        for folder in (isolation.SCRATCH, "/tmp", "/dev/shm", isolation.KERNEL_DIR):
            try:
                st = os.statvfs(f"/proc/{self.init_pid}/root{folder}")
            except OSError:
                continue
            used += (st.f_blocks - st.f_bfree) * st.f_frsize
            files += st.f_files - st.f_ffree
        return used, files

    # the guard's pipe -------------------------------------------------------------------
    def drain(self) -> list[str]:
        """Lines the guard wrote since the last call."""
        while True:
            try:
                chunk = os.read(self.report_fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                break
            if not chunk:
                break
            self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        return [line.decode(errors="replace") for line in lines if line]

    # execution --------------------------------------------------------------------------
    def run(self, code: str, timeout: float, silent: bool = False, budget: dict | None = None,
            keep_mime: str | None = None, wall: float | None = None):
        """Execute ``code``: (reply status or a limit's name, outputs).

        ``timeout`` counts the CPU seconds of the sandbox's processes, so a busy machine does not
        stop an honest cell; ``wall`` (default: 3 x timeout + 30) stops code that sleeps or blocks.
        The CPU and wall seconds the call took are added to ``budget["cpu"]``/``["wall"]``.

        ``keep_mime``: display data of this type (a reply to the trusted process) is kept whole,
        outside the caps on printed output (the channel caps its size).
        """
        msg_id = self.kc.execute(code, silent=silent, store_history=not silent,
                                 allow_stdin=False, stop_on_error=False)
        started = time.monotonic()
        deadline = started + (wall if wall is not None else 3 * timeout + 30)
        cpu_start = self.cpu_seconds()
        try:
            return self._run(msg_id, timeout, deadline, cpu_start, budget, keep_mime)
        finally:
            if budget is not None:
                budget["cpu"] = budget.get("cpu", 0.0) + max(0.0, self.cpu_seconds() - cpu_start)
                budget["wall"] = budget.get("wall", 0.0) + time.monotonic() - started

    def _run(self, msg_id, timeout, deadline, cpu_start, budget, keep_mime):
        outputs, kept, truncated = [], 0, False
        idle = False
        limit_hit = None
        last_check = 0.0
        while not idle:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                limit_hit = "timeout"
                break
            now = time.monotonic()
            if now - last_check > 0.05:
                last_check = now
                pids = self.processes()  # one walk of the process tree for both limits
                if self.cpu_seconds(pids) - cpu_start > timeout:
                    limit_hit = "timeout"
                    break
                if self.limits.memory_bytes and self.resident_bytes(pids) > self.limits.memory_bytes:
                    self.kill()
                    return "memory", outputs
                if self.disk_usage()[1] > self.limits.files:
                    self.kill()
                    return "files", outputs
            try:
                msg = self.kc.get_iopub_msg(timeout=min(remaining, 0.05))
            except queue.Empty:
                if not self.alive():
                    return "kernel-died", outputs
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                idle = True
            elif kind == "clear_output":
                outputs.clear()
            elif kind == "display_data" and keep_mime and keep_mime in content.get("data", {}):
                outputs.append(nbformat.v4.output_from_msg(msg))
            elif kind in ("stream", "display_data", "execute_result", "error"):
                output = nbformat.v4.output_from_msg(msg)
                size = _output_size(output)
                if budget is not None:
                    budget["printed"] = budget.get("printed", 0) + size
                    if budget["printed"] > 4 * self.limits.flood_bytes:  # the kernel-side cap failed
                        limit_hit = "output-flood"
                        break
                if kind == "error" or kept + size <= self.limits.output_bytes:
                    if kind == "stream" and outputs and outputs[-1].get("output_type") == "stream" \
                            and outputs[-1].get("name") == output.get("name"):
                        outputs[-1]["text"] += output["text"]
                    else:
                        outputs.append(output)
                    kept += size
                elif not truncated:
                    truncated = True
                    outputs.append(nbformat.v4.new_output(
                        "stream", name="stdout",
                        text=f"\n[rnn-course: output beyond {self.limits.output_bytes} bytes not kept]\n"))
        if limit_hit:
            recovered = self._interrupt()
            return (limit_hit if recovered else f"{limit_hit}-killed"), outputs
        return self._reply(msg_id, max(5.0, deadline - time.monotonic())), outputs

    def _reply(self, msg_id: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_shell_msg(timeout=0.5)
            except queue.Empty:
                if not self.alive():
                    return "kernel-died"
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg["content"].get("status", "error")
        return "no-reply"

    def _interrupt(self) -> bool:
        """Interrupt the running cell; kill the kernel if it does not come back in 5 s."""
        pid = self.kernel_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGINT)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=0.25)
            except queue.Empty:
                if not self.alive():
                    return False
                continue
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                # drain the interrupted request's reply
                try:
                    while True:
                        self.kc.get_shell_msg(timeout=0.2)
                except queue.Empty:
                    pass
                return True
        self.kill()
        return False


def execute(notebook: dict, *, workdir: Path, deny_roots: list, allow_roots: list,
            limits: Limits, submission_bytes: bytes | None = None, imports: str = "") -> Execution:
    """Execute a merged notebook (nbformat v4 dict): its answer and ordinary cells in a fresh
    sandbox, its test cells in a trusted process (:mod:`rnn_course.grading.verdict`).

    Args:
        imports: the chapter's trusted preamble (``Template.imports``: its imports and
            ``test-helpers`` cells), run by the trusted process before the first test cell.
    """
    from rnn_course.grading import verdict

    started = time.monotonic()
    nb = nbformat.from_dict(notebook)
    events: list[str] = []
    verdicts: dict = {}
    status = "ok"
    sandbox = Sandbox(workdir, deny_roots, allow_roots, limits, notebook_bytes=submission_bytes)
    info: dict = {"isolation": sandbox.settings["isolation"], "verdicts": "trusted process"}
    trusted = None
    try:
        # Started (or reset, when this thread graded a notebook before) while the kernel starts.
        trusted = verdict.acquire(imports or "", limits.threads)
        printed_before = trusted.capture.total if trusted.capture else 0
        try:
            sandbox.start()
        except Exception as exc:
            status = "kernel-died"
            events.append(f"kernel did not start: {exc.__class__.__name__}: {exc}"[:300])
            sandbox.kill()
        info["isolation"] = sandbox.settings["isolation"]
        if sandbox.fork_note:
            events.append(f"fork server off for this worker: {sandbox.fork_note}"[:300])
        cell_wall, notebook_wall = limits.walls()
        budget: dict = {"cpu": 0.0, "wall": 0.0}
        info["cells"] = []  # per code cell: CPU and wall seconds of the student's side
        stopped = status != "ok"
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            meta = nbgrader_meta(cell)
            grade_id = meta.get("grade_id")
            is_test = bool(meta.get("grade")) and not meta.get("solution")
            if stopped:
                cell.outputs = []
                if is_test:
                    verdicts[grade_id] = {"passed": False, "why": f"not run ({status})"}
                continue
            cpu_left = limits.notebook_timeout - budget["cpu"]
            wall_left = notebook_wall - (time.monotonic() - started)
            if cpu_left <= 0 or wall_left <= 0:
                status, stopped = "notebook-timeout", True
                what = (f"{limits.notebook_timeout:g} CPU seconds" if cpu_left <= 0
                        else f"its wall-clock ceiling of {notebook_wall:g} s")
                events.append(f"notebook time limit ({what}) reached before {grade_id or 'a cell'}")
                sandbox.kill()
                if is_test:
                    verdicts[grade_id] = {"passed": False, "why": "not run (notebook time limit)"}
                continue
            timeout, wall = min(limits.cell_timeout, cpu_left), min(cell_wall, wall_left)
            used, cell_started = dict(budget), time.monotonic()
            if is_test:
                detail: dict = {}
                reply, outputs, why = _run_test(sandbox, trusted, cell.source, grade_id, timeout, wall, budget,
                                                events, detail)
                verdicts[grade_id] = {"passed": why == "passed", "why": why[:300]}
                if why != "passed":
                    verdicts[grade_id]["diagnosis"] = detail.get("diagnosis") or why[:200]
            else:
                reply, outputs = sandbox.run(cell.source, timeout, budget=budget, wall=wall)
            # CPU: the student's side only (what the limits count); wall: the whole cell, a test
            # cell's trusted side included.
            info["cells"].append({"cell": grade_id or index, "cpu_s": round(budget["cpu"] - used["cpu"], 3),
                                  "wall_s": round(time.monotonic() - cell_started, 3)})
            cell.outputs = outputs
            cell.execution_count = None
            during = sandbox.drain()
            _absorb(during, grade_id, events, info)
            if any(l.startswith("LIMIT output-flood") for l in during) and status in ("ok", "guarded"):
                status = "output-flood"
            if reply not in ("ok", "error"):
                label, stops = LIMIT_REPLIES.get(reply, (reply, False))
                events.append(f"{grade_id or 'cell'}: {label}")
                if status in ("ok", "timeout"):
                    status = label
                if stops or not sandbox.alive():
                    stopped = True
                    sandbox.kill()
        _absorb([line for line in sandbox.drain() if line.startswith("STATUS ")], None, events, info)
    finally:
        if trusted is not None:
            # what the tests printed on the trusted side's own stdout/stderr (warnings): counted,
            # not kept (the process may serve other students' notebooks)
            info["tests_output_bytes"] = (trusted.capture.total - printed_before) if trusted.capture else 0
            verdict.release(trusted)
        sandbox.stop()
        if sandbox.capture is not None:  # the kernel's raw fds 1 and 2: kept here, never printed
            info["raw_output_bytes"] = sandbox.capture.total
            info["raw_output"] = sandbox.capture.text()[:2000]
    if status == "ok" and any(" TAMPERING " in e for e in events):
        status = "tampering"
    if status == "ok" and any(" RESTORED " in e or " DENIED " in e for e in events):
        status = "guarded"
    return Execution(nbformat.from_dict(nb), verdicts, status, events, time.monotonic() - started, info)


SERVE = "__import__('rnn_course.student_side', fromlist=['serve']).serve({payload!r})"
MAX_REQUEST_B64 = 96 * 2**20


def _run_test(sandbox: Sandbox, trusted, source: str, grade_id, timeout: float, wall: float, budget: dict,
              events: list, detail: dict | None = None) -> tuple:
    """One test cell: it runs in the trusted process; each of its calls to the student's code is
    executed in the sandbox, and only the reply's bytes go back.

    ``timeout`` is the CPU seconds the student's calls may use in all; ``wall`` bounds the whole
    cell, the trusted side's work included.

    Returns:
        (the sandbox's status: ``ok`` or a limit's name, the cell's outputs, why it passed or failed)
    """
    from rnn_course.student_side import REPLY_MIME

    deadline = time.monotonic() + wall
    cpu_at_start = budget["cpu"]
    problem = trusted.wait_ready(max(60.0, wall))
    if problem:
        trusted.stop()
        events.append(f"{grade_id}: {problem}"[:400])
        return "ok", [nbformat.v4.new_output("stream", name="stdout", text=problem + "\n")], "the test could not run"
    if not trusted.send({"op": "cell", "name": grade_id, "source": source}):
        trusted.stop()
        return "ok", [], "the test process ended"
    reply = "ok"
    while True:
        message = trusted.receive(deadline - time.monotonic())
        if message is None:
            trusted.stop()  # a fresh one (with the preamble) serves the next test cell
            late = time.monotonic() >= deadline
            return ("timeout" if late and reply == "ok" else reply), [], "timeout" if late else "the test process ended"
        if message.get("op") == "done":
            outputs = [nbformat.from_dict(o) for o in message.get("outputs", []) if isinstance(o, dict)]
            why = "passed" if message.get("status") == "ok" else str(message.get("why", "failed"))
            if message.get("status") == "stopped":
                why = LIMIT_REPLIES.get(reply, (reply, False))[0] if reply != "ok" else why
            elif detail is not None and message.get("status") == "error":
                detail["diagnosis"] = str(message.get("diagnosis", ""))[:200]
            return reply, outputs, why
        if message.get("op") != "call" or not isinstance(message.get("payload"), str) \
                or len(message["payload"]) > MAX_REQUEST_B64:
            trusted.stop()
            return reply, [], "the test process sent a malformed request"
        remaining = deadline - time.monotonic()
        cpu_left = timeout - (budget["cpu"] - cpu_at_start)
        if remaining <= 0 or cpu_left <= 0 or reply != "ok":
            trusted.send({"op": "reply", "status": reply if reply != "ok" else "timeout"})
            reply = reply if reply != "ok" else "timeout"
            continue
        status, outputs = sandbox.run(SERVE.format(payload=message["payload"]), cpu_left, silent=True,
                                      budget=budget, keep_mime=REPLY_MIME, wall=remaining)
        answer = None
        printed = []
        for output in outputs:
            data = output.get("data", {}) if output.get("output_type") == "display_data" else {}
            if isinstance(data.get(REPLY_MIME), str):
                answer = data[REPLY_MIME]
            elif output.get("output_type") == "stream" and output.get("name") == "stdout":
                printed.append(output.get("text", ""))
        if status in ("ok", "error"):
            if answer is None:
                # The kernel ran the request and published no reply: the student's code replaced
                # or broke the server (their answer is missing; the instructor is told).
                events.append(f"{grade_id}: TAMPERING no answer to the test's call ({status})")
            trusted.send({"op": "reply", "status": "ok" if answer is not None else "no-answer",
                          "payload": answer, "stdout": "".join(printed)[-65536:]})
        else:
            reply = status
            trusted.send({"op": "reply", "status": status, "stdout": "".join(printed)[-65536:]})


def _absorb(lines: list, grade_id, events: list, info: dict) -> None:
    """File the guard's lines: the sandbox's STATUS into ``info``, the rest into ``events``."""
    for line in lines:
        if line.startswith("STATUS "):
            # Written by the kernel before any student code, but the pipe is the kernel's: only
            # the first STATUS counts, it is information for the report, never a verdict.
            if "kernel" not in info:
                try:
                    status = json.loads(line[7:])
                    info["kernel"] = status if isinstance(status, dict) else {}
                except ValueError:
                    info["kernel"] = {}
        elif not line.startswith("READY "):
            events.append(f"{grade_id or 'cell'}: {line}"[:400])
