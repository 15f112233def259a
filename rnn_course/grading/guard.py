"""The in-kernel guard of a graded notebook: an audit hook that student code cannot remove.

Installed by :mod:`rnn_course.grading.sandbox` after the kernel has started and before the first
cell runs. Python's audit hooks (PEP 578) cannot be removed or listed from Python, so the guard
stays in force for the whole notebook. It

* **denies** what a notebook never needs: network, new processes (shell, fork bombs), signals to
  other processes, reading the course directory (solutions, hidden tests, other students' work,
  the gradebook), writing outside the submission's scratch folder, SQLite, ctypes, tracing and
  ``gc`` introspection, replacing ``__code__``/``__class__``, and changing the classes of the
  kernel, IPython, Keras and ``rnn_course``;
* **restores**, before every top-level statement of every cell, the functions of the modules the
  tests rely on (``builtins``, ``numpy``, ``numpy.testing``, ``rnn_course.*``, Keras' layer and op
  modules) and the IPython machinery that reports errors, reporting each change on the grader's
  pipe, so a monkeypatch never outlives the statement that made it.

The pipe carries plain text lines (``RESTORED``/``TAMPER``/``DENIED``): information for the
report, never a verdict (verdicts are computed in the trusted process,
:mod:`rnn_course.grading.verdict`). The grader parses them and never unpickles anything from the
kernel.
"""

from __future__ import annotations

import os
import sys

# Events denied outright once the guard is installed.
DENY_EVENTS = {
    "socket.connect": "network", "socket.bind": "network", "socket.sendto": "network",
    "socket.sendmsg": "network", "socket.getaddrinfo": "network",
    "socket.gethostbyname": "network", "socket.gethostbyaddr": "network",
    "urllib.Request": "network", "http.client.connect": "network", "ftplib.connect": "network",
    "subprocess.Popen": "process", "os.system": "process", "os.exec": "process",
    "os.spawn": "process", "os.posix_spawn": "process", "os.fork": "process",
    "os.forkpty": "process", "pty.spawn": "process", "os.startfile": "process",
    "sqlite3.connect": "gradebook", "sqlite3.connect/handle": "gradebook",
    "sys.settrace": "introspection", "sys.setprofile": "introspection",
    "sys._current_frames": "introspection", "sys.addaudithook": "introspection",
    "gc.get_objects": "introspection", "gc.get_referrers": "introspection",
    "gc.get_referents": "introspection", "sys.remote_exec": "introspection",
    "mmap.__new__": None,  # None: allowed (numpy memory-maps .npy files)
    "resource.setrlimit": "limits", "resource.prlimit": "limits",
    "os.setuid": "privileges", "os.setgid": "privileges", "os.chroot": "privileges",
}
WRITE_EVENTS = {  # filesystem changes allowed only inside the scratch folder
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
    "os.symlink", "os.truncate", "os.utime", "shutil.rmtree", "shutil.move", "os.chdir",
}
LIST_EVENTS = {"os.listdir", "os.scandir", "glob.glob", "os.walk"}
PROTECTED_CLASS_PREFIXES = (
    "IPython.", "ipykernel.", "jupyter_client.", "zmq.", "rnn_course.", "numpy.testing", "keras.",
    "comm.", "traitlets.",
)
# Modules whose functions and classes the tests call (checked before every statement).
PROTECTED_MODULES = (
    "builtins", "numpy", "numpy.testing", "numpy.testing._private.utils", "numpy.linalg", "math",
    "rnn_course", "rnn_course.checks", "rnn_course.gradcheck", "rnn_course.autodiff",
    "rnn_course.env", "rnn_course.plotting", "rnn_course.data",
    "keras", "keras.layers", "keras.ops", "keras.losses", "keras.activations",
    "keras.initializers", "keras.optimizers", "keras.random", "keras.utils", "keras.backend",
    "tensorflow", "os", "json", "io",
)
# Attributes of the IPython shell and the kernel that carry errors and replies to the grader.
SHELL_ATTRIBUTES = (
    "showtraceback", "_showtraceback", "showsyntaxerror", "run_cell", "run_cell_async",
    "run_ast_nodes", "run_code", "transform_cell", "transform_ast", "should_run_async",
    "_run_cell", "excepthook", "compile", "displayhook", "display_pub", "events", "InteractiveTB",
    "SyntaxTB", "get_exception_only", "_get_exc_info", "set_custom_exc", "CustomTB",
    "custom_exceptions",
)
# Names the kernel itself rebinds on every request (ipykernel forwards input() per request).
VOLATILE = {"builtins": {"input", "raw_input", "exit", "quit", "get_ipython", "display"}}
SHELL_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
KERNEL_ATTRIBUTES = (
    "do_execute", "execute_request", "send_response", "shell_handlers", "session", "iopub_socket",
    "_publish_execute_input", "_abort_queues", "do_shutdown", "shell",
)


def _is_callable_or_type(value) -> bool:
    return callable(value) or isinstance(value, type)


def install(*, scratch: str, deny_roots: list[str], allow_roots: list[str], report_fd: int,
            shell=None, kernel=None, writable_roots: list[str] = ()) -> None:
    """Install the guard. Must run after the kernel is built and before any student code.

    Args:
        scratch: the submission's folder, the only place it may write.
        deny_roots: folders it may not read or list (course directory, other scratch folders).
        allow_roots: folders under a deny root that it may read (the rnn_course package, the
            virtual environment).
        report_fd: write end of the grader's pipe (text lines).
        shell, kernel: the IPython shell and the ipykernel kernel to protect.
        writable_roots: other folders it may write (the sandbox's own private /tmp).
    """
    # Everything the hook uses is bound now: later monkeypatches cannot reach into it.
    _write, _getpid, _fspath, _normpath = os.write, os.getpid, os.fspath, os.path.normpath
    _join, _getcwd, _sep, _isinstance = os.path.join, os.getcwd, os.sep, isinstance
    _str, _bytes, _int, _len, _list, _dict, _id = str, bytes, int, len, list, dict, id
    _type, _getattr, _vars, _sorted, _modules = type, getattr, vars, sorted, sys.modules
    _denied = PermissionError
    pid = _getpid()
    scratch = _normpath(scratch) + _sep
    deny = tuple(_normpath(p) + _sep for p in deny_roots)
    allow = tuple(_normpath(p) + _sep for p in allow_roots) + (scratch,)
    tmp_scratch = (scratch,) + tuple(_normpath(p) + _sep for p in writable_roots)
    devices = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/shm/")

    # The snapshot is taken at the first cell's first statement (the instructor's set-up cell,
    # before any student code): IPython swaps some builtins in while a cell runs, so a snapshot
    # taken between cells would differ from every later one.
    modules, shell_snapshot, shell_lists, kernel_snapshot, shell_handlers = {}, {}, {}, {}, {}
    frozen_classes = set()   # ids of the protected classes that existed at the snapshot
    taken = [False]

    def snapshot() -> None:
        for name in PROTECTED_MODULES:
            module = _modules.get(name)
            if module is not None:
                volatile = VOLATILE.get(name, ())
                modules[name] = (module, {k: v for k, v in _vars(module).items()
                                          if _is_callable_or_type(v) and k not in volatile})
        if shell is not None:
            shell_snapshot.update({a: _vars(shell).get(a, _MISSING) for a in SHELL_ATTRIBUTES})
            shell_lists.update({a: _list(_getattr(shell, a, [])) for a in SHELL_LISTS})
        if kernel is not None:
            kernel_snapshot.update({a: _vars(kernel).get(a, _MISSING) for a in KERNEL_ATTRIBUTES})
            shell_handlers.update(_dict(kernel.shell_handlers))
        for name, module in _list(_modules.items()):
            if (name + ".").startswith(PROTECTED_CLASS_PREFIXES) and module is not None:
                for value in _list(_vars(module).values()):
                    if _isinstance(value, _type) and (_getattr(value, "__module__", "") or "").startswith(name):
                        frozen_classes.add(_id(value))
        taken[0] = True

    busy = [False]

    def report(kind: str, text: str) -> None:
        try:
            _write(report_fd, f"{kind} {text}\n".replace("\n", " ").rstrip().encode() + b"\n")
        except OSError:
            pass

    def path_of(value):
        if _isinstance(value, _int):
            return None
        try:
            value = _fspath(value)
        except TypeError:
            return None
        if _isinstance(value, _bytes):
            value = value.decode(errors="replace")
        if not value.startswith(_sep):
            value = _join(_getcwd(), value)
        return _normpath(value)

    def readable(path: str) -> bool:
        p = path + _sep
        if p.startswith(allow):
            return True
        return not p.startswith(deny)

    def writable(path: str) -> bool:
        p = path + _sep
        return p.startswith(tmp_scratch) or path.startswith(devices)

    def deny_(why: str, event: str, detail: str = ""):
        report("DENIED", f"{why} {event} {detail}"[:300])
        raise _denied(f"not allowed while grading ({why}): {event} {detail}".strip())

    def put_back(obj, saved: dict, label: str, changes: list) -> None:
        """Undo instance attributes set (or shadowing a method) since the snapshot."""
        current = _vars(obj)
        for attr, value in saved.items():
            if current.get(attr, _MISSING) is not value:
                if value is _MISSING:
                    del current[attr]
                else:
                    current[attr] = value
                changes.append(f"{label}.{attr}")

    def restore() -> list:
        changes = []
        for name, (module, saved) in modules.items():
            if _modules.get(name) is not module:
                _modules[name] = module
                changes.append(f"sys.modules[{name!r}]")
            current = _vars(module)
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    current[key] = value
                    changes.append(f"{name}.{key}")
        if shell is not None:
            put_back(shell, shell_snapshot, "shell", changes)
            current = _vars(shell)
            for attr, saved in shell_lists.items():
                now = _getattr(shell, attr, None)
                if _type(now) is not _list or now != saved:
                    current[attr] = _list(saved)
                    changes.append(f"shell.{attr}")
        if kernel is not None:
            put_back(kernel, kernel_snapshot, "kernel", changes)
            if shell_handlers and kernel.shell_handlers != shell_handlers:
                kernel.shell_handlers.clear()
                kernel.shell_handlers.update(shell_handlers)
                changes.append("kernel.shell_handlers")
        return changes

    def hook(event: str, args: tuple) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            _hook(event, args)
        finally:
            busy[0] = False

    def _hook(event: str, args: tuple) -> None:
        if event == "exec":
            code = args[0] if args else None
            filename = _getattr(code, "co_filename", "")
            if "ipykernel_" in filename or filename.startswith("<ipython-input"):
                if not taken[0]:
                    snapshot()
                changes = restore()
                if changes:
                    report("RESTORED", " ".join(_sorted(set(changes))))
            return
        why = DENY_EVENTS.get(event, "")
        if why:
            deny_(why, event)
        if why is None:
            return
        if event.startswith("ctypes."):
            deny_("ctypes", event)
        if event in ("os.kill", "os.killpg", "signal.pthread_kill", "os.pidfd_open"):
            target = args[0] if args else None
            if event == "signal.pthread_kill" or target not in (pid, 0):
                deny_("signal", event, str(target))
            return
        if event == "open":
            path = path_of(args[0]) if args else None
            if path is None:
                return
            mode = args[1] if _len(args) > 1 else "r"
            flags = args[2] if _len(args) > 2 else 0
            write = (_isinstance(mode, _str) and any(c in mode for c in "wax+")) or (
                _isinstance(flags, _int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND))
            if write and not writable(path):
                deny_("filesystem", "write", path)
            if not readable(path):
                deny_("course files", "read", path)
            return
        if event in LIST_EVENTS:
            path = path_of(args[0]) if args and args[0] is not None else path_of(".")
            if path is not None and not readable(path):
                deny_("course files", event, path)
            return
        if event in WRITE_EVENTS:
            for value in args[:2]:
                path = path_of(value)
                if path is not None and not writable(path):
                    deny_("filesystem", event, path)
            return
        if event in ("object.__setattr__", "object.__delattr__"):
            obj, name = args[0], args[1] if _len(args) > 1 else ""
            if name in ("__code__", "__class__", "__globals__"):
                deny_("tampering", f"{event} {name}")
            if _isinstance(obj, _type) and _id(obj) in frozen_classes:
                module = _getattr(obj, "__module__", "") or ""
                if True:
                    deny_("tampering", f"{event} {module}.{_getattr(obj, '__qualname__', '?')}.{name}")
            return

    def after_cell(*_args) -> None:
        # Restore as soon as a cell ends too: the kernel's own loop runs between cells and
        # must not run on replaced builtins.
        if not taken[0] or busy[0]:
            return
        busy[0] = True
        try:
            changes = restore()
            if changes:
                report("RESTORED", " ".join(_sorted(set(changes))))
        finally:
            busy[0] = False

    if shell is not None:
        shell.events.register("post_execute", after_cell)
    sys.addaudithook(hook)
    report("READY", str(pid))


class _Missing:
    def __repr__(self):
        return "<missing>"


_MISSING = _Missing()
