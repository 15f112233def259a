"""The fork server inside bubblewrap: import the libraries once, fork one sandbox per submission.

Started by :mod:`rnn_course.grading.forkserver` as ``python -m rnn_course.grading.zygote FD``
inside a bubblewrap sandbox of its own (:func:`rnn_course.grading.isolation.command`, with
``--as-pid-1``: this process is PID 1 there, no other process of bubblewrap's is). It imports
what every graded kernel imports (TensorFlow/Keras, numpy, matplotlib, ipykernel, rnn_course),
makes itself non-dumpable (no process of its user may read or write its memory through
``/proc``), says ``ready`` on the control socket ``FD`` and then waits for requests.

A request is the word ``spawn`` with three file descriptors: the submission's channel (a socket
the grader writes the submission's settings, environment, connection info and files to), the
kernel's stdout/stderr pipe and the guard's report pipe. This process never reads the channel:
what a submission sends is read after the fork, by the child, so nothing of one submission is
ever in this process's memory, and nothing of it can reach the next child. The reply is the
child's PID (as seen here). Per child:

1. ``C1`` (the fork): new user, mount, PID, network, IPC and UTS namespaces; fresh tmpfs
   folders over ``/home/student``, ``/tmp``, ``/dev/shm`` and ``/run/kernel`` (of the sizes the
   grader asks for); it dies with this process.
2. ``C2``, PID 1 of the new PID namespace: reaps orphans like bubblewrap's init, exits with the
   kernel, and when it exits every process of the submission is killed.
3. ``C3``, PID 2: every capability dropped (bounding, ambient, effective, permitted), no new
   privileges, then :func:`rnn_course.grading.sandbox.serve`: limits, the guard, the kernel.

One submission at a time: before each fork the previous child is killed and reaped, so the
``/proc`` a kernel sees (this sandbox's) shows this process, its own ancestors and its own
processes, never another submission's.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import signal
import socket
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND = 0x1, 0x2, 0x4, 0x20, 0x1000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
MAX_REQUEST = 256 * 2**20

_libc = ctypes.CDLL(None, use_errno=True)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _prctl(option: int, arg: int = 0) -> int:
    return _libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def _die_with_parent() -> None:
    _check(_prctl(PR_SET_PDEATHSIG, signal.SIGKILL), "prctl(PR_SET_PDEATHSIG)")


def _enter_namespaces(sizes: dict, uid: int, gid: int, keep: list = ()) -> None:
    """C1: new namespaces, this user mapped to itself, fresh tmpfs folders, hostname.

    ``keep``: read-only folders of the template that lie under one of the tmpfs folders (a
    checkout or virtual environment under ``/tmp``): bound again, read-only, on top of the
    fresh tmpfs, as bubblewrap's binds sit on top of its own.
    """
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC
                         | CLONE_NEWUTS), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    _check(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    # opened in the new mount namespace (a bind's source must be a mount of the caller's)
    kept = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in keep}
    for folder, size in sizes.items():
        _check(_libc.mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                           f"size={int(size)},mode=0755".encode()), f"mount tmpfs {folder}")
    for path, fd in kept.items():
        os.makedirs(path, exist_ok=True)
        _check(_libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None),
               f"bind {path}")
        _check(_libc.mount(None, path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                           None), f"remount {path} read-only")
        os.close(fd)
    _check(_libc.sethostname(b"sandbox", 7), "sethostname")


def _drop_privileges() -> None:
    """C3: no capability in any set, and no way to gain one (no_new_privs)."""
    for cap in range(64):
        if _prctl(PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() == 22:  # EINVAL: past the last
            break
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS)")


def _read_request(fd: int) -> dict:
    chunks, size = [], 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_REQUEST:
            raise ValueError(f"a request of more than {MAX_REQUEST} bytes")
        chunks.append(chunk)
    os.close(fd)
    return json.loads(b"".join(chunks))


def _close_fds_except(keep: set) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _child(channel: int, output: int, report: int) -> None:
    """C1 (never returns): read the request, enter the namespaces, fork the init and the kernel."""
    code = 70
    try:
        _die_with_parent()
        os.dup2(output, 1)
        os.dup2(output, 2)
        _close_fds_except({channel, output, report})
        request = _read_request(channel)
        _enter_namespaces(request["tmpfs"], os.getuid(), os.getgid(), request.get("keep", []))
        init = os.fork()
        if init == 0:
            _init(request, report)
        os.close(report)
        _, status = os.waitpid(init, 0)
        code = os.waitstatus_to_exitcode(status)
    except BaseException as exc:  # noqa: BLE001 - said on the kernel's stderr, then exit
        os.write(2, f"fork server child: {exc.__class__.__name__}: {exc}\n".encode())
    os._exit(code if 0 <= code < 256 else 70)


def _init(request: dict, report: int) -> None:
    """C2, PID 1 of the submission's PID namespace: start the kernel, reap, exit with it."""
    code = 70
    try:
        _die_with_parent()
        kernel = os.fork()
        if kernel == 0:
            _kernel(request, report)
        os.close(report)
        del request
        while True:
            pid, status = os.wait()
            if pid == kernel:
                code = os.waitstatus_to_exitcode(status)
                break
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"fork server init: {exc.__class__.__name__}: {exc}\n".encode())
    os._exit(code if 0 <= code < 256 else 70)


def _kernel(request: dict, report: int) -> None:
    """C3: the submission's kernel (never returns)."""
    try:
        from rnn_course.grading import isolation, sandbox

        _die_with_parent()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the template ignores it; a kernel does not
        _drop_privileges()
        _prctl(PR_SET_DUMPABLE, 1)  # like any process started with exec (the grader reads /proc)
        # The template's environment (what rnn_course set at import: GPU memory growth, x64 for
        # JAX, ...) with this submission's on top.
        os.environ.update(request["env"])
        settings = request["settings"]
        connection = f"{isolation.KERNEL_DIR}/connection.json"
        with open(connection, "w") as f:
            json.dump(request["connection"], f)
        for name, data in request["files"].items():
            with open(os.path.join(settings["scratch"], os.path.basename(name)), "wb") as f:
                f.write(base64.b64decode(data))
        os.makedirs(os.environ.get("TMPDIR", "/tmp"), exist_ok=True)
        os.chdir(settings["scratch"])
        status = {"limits": sandbox._set_limits(settings), "isolation": settings.get("isolation", "?"),
                  "network": "namespace (fork server)"}
        del request
        sandbox.serve(settings, ["-f", connection], report, status)
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"fork server kernel: {exc.__class__.__name__}: {exc}\n".encode())
    os._exit(70)


def _reap(children: set, kill: bool) -> None:
    for pid in list(children):
        if kill:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            done, _ = os.waitpid(pid, 0 if kill else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done == pid:
            children.discard(pid)
    while True:  # orphans reparented to this process (PID 1 here)
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)


def _self_test() -> str | None:
    """Fork a child through the same steps as a submission's (namespaces, tmpfs, init, no
    capabilities) and back; None when it worked, else what failed (the grader then takes the
    per-submission path: some kernels forbid user namespaces inside a sandbox)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            _enter_namespaces({"/tmp": 1 << 16}, os.getuid(), os.getgid())
            inner = os.fork()
            if inner == 0:
                try:
                    _drop_privileges()
                    os._exit(0)
                except BaseException as exc:  # noqa: BLE001
                    os.write(w, f"{exc}".encode()[:150])
                    os._exit(1)
            code = os.waitstatus_to_exitcode(os.waitpid(inner, 0)[1])
        except BaseException as exc:  # noqa: BLE001
            os.write(w, f"{exc}".encode()[:150])
        os._exit(code if code == 0 else 1)
    os.close(w)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    message = os.read(r, 200).decode(errors="replace")
    os.close(r)
    return None if code == 0 else f"self-test failed: {message or code}"


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    _check(_prctl(PR_SET_DUMPABLE, 0), "prctl(PR_SET_DUMPABLE)")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # PID 1: only signals with a handler arrive
    os.chdir("/")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    from rnn_course.grading import sandbox

    sandbox._preimport()
    import ipykernel.kernelapp  # noqa: F401
    import matplotlib.font_manager  # noqa: F401  (builds the font list once, not per submission)

    failure = _self_test()
    if failure:
        control.sendall(f"error: {failure}".encode()[:200])
        return
    control.sendall(b"ready")
    children: set = set()
    while True:
        message, fds, _, _ = socket.recv_fds(control, 64, 3)
        if not message:
            return
        _reap(children, kill=True)  # one submission at a time
        if message != b"spawn" or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            control.sendall(b"error: expected spawn with 3 descriptors")
            continue
        pid = os.fork()
        if pid == 0:
            control.close()
            _child(*fds)
        for fd in fds:
            os.close(fd)
        children.add(pid)
        control.sendall(f"pid {pid}".encode())


if __name__ == "__main__":
    main()
