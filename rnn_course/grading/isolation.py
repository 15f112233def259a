"""The operating-system boundary around a graded kernel: bubblewrap, or nothing but the guard.

Each sandboxed kernel is started by `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``, Debian package ``bubblewrap``; the sandbox under Flatpak): no daemon, no setuid
helper of ours, namespaces and bind mounts only. Inside, the kernel sees

* read-only: the system's libraries (``/usr`` …), the Python installation and the virtual
  environment, and the ``rnn_course`` package — nothing else of the host (no course
  directory, no submissions, no gradebook, no other scratch folder, no home folder);
* writable, each a tmpfs of a fixed size: the scratch folder ``/home/student`` (the
  current folder), ``/tmp``, ``/dev/shm`` and ``/run/kernel`` (where the kernel binds its
  Jupyter sockets; the grader reaches them from outside through ``/proc/<pid>/root``, so no
  host folder is writable from inside);
* its own PID namespace and ``/proc`` (the grader and other kernels are invisible), its own
  network namespace with no interface up, its own IPC and UTS namespaces, an unprivileged
  user (uid 1000) in a user namespace, a new session (no controlling terminal);
* and it dies with its parent: when the grader kills the sandbox, or dies itself, every
  process of the submission is killed with the namespace.

Where bwrap is missing or cannot create namespaces, :func:`probe` says why and the grader
falls back to the in-kernel guard alone; every result then says so.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

SCRATCH = "/home/student"        # the submission's folder inside the sandbox
KERNEL_DIR = "/run/kernel"       # the kernel's Jupyter sockets (a small tmpfs)
INPUT_DIR = "/run/rnn-course"    # read-only: connection file, report pipe, the submission
UID = 1000
# System folders bound read-only when they exist (merged-/usr systems have symlinks instead).
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf")
SYSTEM_DIRS_ETC = ("/etc/fonts", "/etc/alternatives")


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Sizes of the sandbox's writable tmpfs folders, in bytes."""

    scratch: int = 512 * 2**20
    tmp: int = 256 * 2**20
    shm: int = 64 * 2**20
    kernel: int = 1 * 2**20


@dataclasses.dataclass(frozen=True)
class Probe:
    """Whether bubblewrap works here: ``tool`` ("bubblewrap 0.8.0") or None, and why not."""

    tool: str | None
    path: str | None
    detail: str

    @property
    def active(self) -> bool:
        return self.tool is not None


@functools.lru_cache(maxsize=1)
def probe() -> Probe:
    """Find ``bwrap`` and check it can build a sandbox like the grader's (cached per process).

    ``RNN_COURSE_ISOLATION=none`` turns the sandbox off (to test the fallback).
    """
    if os.environ.get("RNN_COURSE_ISOLATION", "").lower() == "none":
        return Probe(None, None, "turned off by RNN_COURSE_ISOLATION=none")
    if not sys.platform.startswith("linux"):
        return Probe(None, None, f"bubblewrap needs Linux; this is {sys.platform}")
    path = os.environ.get("RNN_COURSE_BWRAP") or shutil.which("bwrap")
    if not path:
        return Probe(None, None, "bwrap not found (apt-get install bubblewrap)")
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
        test = subprocess.run(
            [path, *namespace_args(), *system_binds(), "--proc", "/proc", "--dev", "/dev", "--",
             sys.executable, "-c", "import os; print(os.getuid(), os.getpid())"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return Probe(None, path, f"{path} failed: {exc.__class__.__name__}: {exc}")
    if test.returncode != 0 or test.stdout.split() != [str(UID), "2"]:
        why = (test.stderr or test.stdout).strip().splitlines()[-1:] or [f"exit {test.returncode}"]
        return Probe(None, path, f"{path} cannot create the sandbox here: {why[0]}"[:300])
    return Probe(version or "bubblewrap", path, f"{version} at {path}: user, mount, pid, network, ipc and uts namespaces")


def namespace_args() -> list[str]:
    return ["--unshare-all", "--unshare-user", "--uid", str(UID), "--gid", str(UID),
            "--die-with-parent", "--new-session", "--hostname", "sandbox"]


def system_binds() -> list[str]:
    """Read-only binds of the system, the Python installation and the virtual environment."""
    args: list[str] = []
    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    for path in SYSTEM_FILES + SYSTEM_DIRS_ETC:
        args += ["--ro-bind-try", path, path]
    for root in python_roots():
        args += ["--ro-bind", str(root), str(root)]
    return args


def python_roots() -> list[Path]:
    """Folders the kernel must read: the Python installation, the environment, rnn_course."""
    import rnn_course

    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
             Path(rnn_course.__file__).resolve().parent}
    # The interpreter may be a symlink out of the prefix (pyenv, Debian's /usr/bin/python3).
    roots.add(Path(os.path.realpath(sys.executable)).parent.parent)
    system = tuple(Path(d) for d in SYSTEM_DIRS)
    kept = sorted(r for r in roots if not any(r == s or s in r.parents for s in system))
    # Drop folders inside another kept folder (a bind of the parent covers them).
    return [r for r in kept if not any(o != r and o in r.parents for o in kept)]


def command(private: Path, argv: list[str], *, sizes: Sizes, status_fd: int, devices: list[str] = (),
            as_pid_1: bool = False) -> list[str]:
    """The bwrap command line that runs ``argv`` in the sandbox.

    Args:
        private: the grader's folder for this kernel (connection file, report pipe, input/),
            bound read-only at :data:`INPUT_DIR`.
        argv: the kernel's command line (paths as seen inside).
        sizes: the tmpfs sizes.
        status_fd: bwrap writes its JSON status there (the host PID of the sandbox's init).
        devices: extra device nodes to bind (GPUs: /dev/nvidia*).
        as_pid_1: ``argv`` is PID 1 of the sandbox (no init of bubblewrap's): the fork
            server's template, which reaps its own children.
    """
    # The tmpfs folders first, the binds after: a Python installation or checkout that lives under
    # /tmp or /home on the host (a clone in /tmp/x) must not be hidden by the sandbox's own /tmp.
    args = [probe().path or "bwrap", *namespace_args(), "--proc", "/proc", "--dev", "/dev",
            "--size", str(sizes.shm), "--tmpfs", "/dev/shm",
            "--size", str(sizes.tmp), "--tmpfs", "/tmp",
            "--size", str(sizes.kernel), "--tmpfs", KERNEL_DIR,
            "--size", str(sizes.scratch), "--tmpfs", SCRATCH,
            *system_binds(),
            "--ro-bind", str(private / "passwd"), "/etc/passwd",
            "--ro-bind", str(private / "group"), "/etc/group",
            "--ro-bind", str(private), INPUT_DIR]
    for device in devices:
        args += ["--dev-bind-try", device, device]
    args += ["--remount-ro", "/dev",
             # bwrap's root is a tmpfs of no fixed size where it made the mount points: read-only
             # once they exist (the tmpfs folders above stay writable).
             "--remount-ro", "/",
             "--chdir", SCRATCH, "--json-status-fd", str(status_fd),
             *(["--as-pid-1"] if as_pid_1 else []), "--", *argv]
    return args


def write_identity(private: Path) -> None:
    """/etc/passwd and /etc/group for the sandbox: one user, ``student`` (uid 1000)."""
    (private / "passwd").write_text(f"student:x:{UID}:{UID}:student:{SCRATCH}:/bin/false\n")
    (private / "group").write_text(f"student:x:{UID}:\n")


def gpu_devices() -> list[str]:
    """NVIDIA device nodes to pass through (CUDA needs them), if any."""
    try:
        return sorted(str(p) for p in Path("/dev").iterdir() if p.name.startswith("nvidia"))
    except OSError:
        return []
