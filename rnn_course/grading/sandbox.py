"""The kernel process of one graded notebook: limits, no network, the guard, then ipykernel.

Started by :mod:`rnn_course.grading.execute` as ``python -m rnn_course.grading.sandbox -f
CONNECTION_FILE`` with its settings in the environment variable ``RNN_COURSE_SANDBOX`` (JSON).
Before any student code can run it

1. lowers its own resource limits: address space (memory), size of files written, open files,
   processes, no core dumps;
2. moves into a network namespace of its own when the platform allows (loopback only, and down:
   no network at all; the grader talks to it over Unix sockets), else relies on the guard's
   denial of Python-level sockets;
3. imports the heavy libraries the chapters use (so the guard's snapshot covers them);
4. builds the IPython kernel, opens the grader's report pipe and installs
   :mod:`rnn_course.grading.guard`, then starts serving.
"""

from __future__ import annotations

import json
import os
import sys

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000


def _set_limits(settings: dict) -> list[str]:
    import resource

    applied = []
    limits = {
        "RLIMIT_AS": settings.get("memory_bytes"),
        "RLIMIT_FSIZE": settings.get("file_bytes"),
        "RLIMIT_NOFILE": settings.get("open_files"),
        "RLIMIT_NPROC": settings.get("processes"),
        "RLIMIT_CORE": 0,
    }
    for name, value in limits.items():
        if value is None or not hasattr(resource, name):
            continue
        kind = getattr(resource, name)
        soft, hard = resource.getrlimit(kind)
        value = int(value)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(kind, (value, value))
            applied.append(f"{name}={value}")
        except (ValueError, OSError):
            pass
    return applied


def _isolate_network() -> str:
    """Enter a new network namespace (no interfaces up): 'namespace', or why not."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError as exc:  # pragma: no cover - non-glibc platforms
        return f"unavailable ({exc})"
    for flags, label in ((CLONE_NEWNET, "namespace"), (CLONE_NEWUSER | CLONE_NEWNET, "user namespace")):
        if libc.unshare(flags) == 0:
            return label
    return f"unavailable (unshare: {os.strerror(ctypes.get_errno())})"


def _preimport() -> None:
    import numpy  # noqa: F401
    import numpy.testing  # noqa: F401

    import rnn_course  # noqa: F401  (sets TensorFlow's log level before it loads)
    from rnn_course import autodiff, checks, data, env, gradcheck, plotting  # noqa: F401

    try:
        import keras  # noqa: F401
        import matplotlib  # noqa: F401  (not pyplot: see main)
        import zmq.utils.garbage  # noqa: F401  (imported lazily by large messages otherwise)
    except ImportError:  # pragma: no cover
        pass


def _cap_output(shell, limit: int, report_fd: int) -> None:
    """Make each cell's prints fail once they pass ``limit`` characters (an output flood).

    ipykernel buffers what a cell prints between flushes; a tight print loop fills gigabytes in
    a fraction of a second, so the cap must act in the kernel, at write time. The counter starts
    again with every cell; the class is one the guard then protects from changes.
    """
    from ipykernel.iostream import OutStream

    original = OutStream.write
    state = {"cell": None, "written": 0, "reported": False}
    _write, _len = os.write, len

    def write(self, string):
        cell = shell.execution_count
        if cell != state["cell"]:
            state.update(cell=cell, written=0, reported=False)
        state["written"] += _len(string) if isinstance(string, str) else 0
        if state["written"] > limit:
            if not state["reported"]:
                state["reported"] = True
                _write(report_fd, f"LIMIT output-flood {limit}\n".encode())
            raise OSError(f"output limit: this cell printed more than {limit} characters")
        return original(self, string)

    OutStream.write = write


def _copy_inputs(settings: dict) -> None:
    """Copy the submission (read-only input folder) into the scratch folder, the current one."""
    import shutil

    source = settings.get("inputs")
    if source and os.path.isdir(source):
        for name in os.listdir(source):
            shutil.copyfile(os.path.join(source, name), os.path.join(settings["scratch"], name))
    os.makedirs(os.environ.get("TMPDIR", "/tmp"), exist_ok=True)
    os.chdir(settings["scratch"])


def main() -> None:
    settings = json.loads(os.environ.pop("RNN_COURSE_SANDBOX", "{}"))
    _copy_inputs(settings)
    status = {"limits": _set_limits(settings), "isolation": settings.get("isolation", "?")}
    if settings.get("isolate_network", True):
        status["network"] = _isolate_network()
    else:
        status["network"] = "namespace (bubblewrap)"
    # The inline backend, as ipykernel sets it, but before matplotlib is imported (matplotlib reads
    # MPLBACKEND once, at import). pyplot itself is left for the notebook to import once the shell
    # exists: imported earlier, the inline backend would never hook the end of a cell, and the
    # graded notebooks (what the formgrader shows) would have no figures.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    _preimport()
    serve(settings, sys.argv[1:], os.open(settings["report_path"], os.O_WRONLY), status)


def serve(settings: dict, argv: list, report_fd: int, status: dict) -> None:
    """Build the IPython kernel, report ``status`` on ``report_fd``, install the guard, serve.

    Shared by :func:`main` and the fork server's children (:mod:`rnn_course.grading.zygote`),
    which arrive here with the libraries already imported.
    """
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(argv + ["--HistoryManager.enabled=False", "--IPKernelApp.quiet=True"])
    os.write(report_fd, f"STATUS {json.dumps(status)}\n".encode())

    if settings.get("flood_bytes"):
        _cap_output(app.shell, int(settings["flood_bytes"]), report_fd)

    from rnn_course.grading import guard

    guard.install(
        scratch=settings["scratch"],
        writable_roots=settings.get("writable_roots", []),
        deny_roots=settings.get("deny_roots", []),
        allow_roots=settings.get("allow_roots", []),
        report_fd=report_fd,
        shell=app.shell,
        kernel=app.kernel,
    )
    del settings
    app.start()


if __name__ == "__main__":
    main()
