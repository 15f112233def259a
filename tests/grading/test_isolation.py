"""The operating-system sandbox of one kernel, probed from inside (rnn_course.grading.isolation).

A notebook of probes runs in a real sandboxed kernel, each test cell asserting one property of
the boundary from the student's side; the grader's side then checks what it can see: nothing
left behind, no process alive, nothing printed to its terminal. Without bubblewrap the probes
skip, quoting why (``make test`` installs it); the fallback test runs everywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from rnn_course.grading import isolation
from rnn_course.grading.execute import Limits, execute
from tests.conftest import REPO

pytestmark = pytest.mark.grading
INSTALL_LOG = REPO / "build" / "sandbox" / "bwrap-install.log"


def bwrap_skip_reason() -> str | None:
    probe = isolation.probe()
    if probe.active:
        return None
    why = probe.detail
    if INSTALL_LOG.is_file():
        why += " | " + " | ".join(INSTALL_LOG.read_text().strip().splitlines()[-3:])
    return f"no operating-system sandbox here: {why}"


needs_bwrap = pytest.mark.skipif(bwrap_skip_reason() is not None, reason=str(bwrap_skip_reason()))

PROBES = {
    "only_the_environment_is_visible": """
import os, sys
visible = sorted(os.listdir('/'))
assert set(visible) <= {'usr', 'bin', 'lib', 'lib64', 'lib32', 'sbin', 'etc', 'proc', 'dev', 'tmp', 'run', 'home',
                        *ENVIRONMENT_TOPS}, (visible, ENVIRONMENT_TOPS)
assert not os.path.exists(COURSE), 'the course directory is visible'
assert not os.path.exists(REPO + '/solutions'), "the repository's solutions are visible"
assert not os.path.exists(REPO + '/tests'), "the repository's reference layers are visible"
assert os.getcwd() == '/home/student', os.getcwd()
assert [n for n in os.listdir('.') if not n.startswith('.')] == ['submission.ipynb'], os.listdir('.')
""",
    # bubblewrap: /proc is the sandbox's own (its init is 1, the kernel 2). Fork server: the kernel
    # is PID 2 of its own namespace, and /proc is the template's sandbox's, which holds the template
    # (1), the submission's chain and nothing else (one submission at a time per template).
    "own_pid_namespace": """
import os
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
assert pids[0] == 1 and len(pids) < 10, pids
assert os.getpid() == 2, os.getpid()
assert os.getuid() == 1000 and os.geteuid() == 1000, (os.getuid(), os.geteuid())
""",
    # One framework thread per kernel (Limits.threads): the workers, one per core, use the cores.
    "one_framework_thread": """
import os
for name in ('TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS', 'OMP_NUM_THREADS', 'RNN_COURSE_TORCH_THREADS'):
    assert os.environ.get(name) == '1', (name, os.environ.get(name))
""",
    "no_capabilities": """
import os
status = dict(line.split(':', 1) for line in open('/proc/self/status'))
for name in ('CapEff', 'CapPrm', 'CapInh', 'CapAmb'):
    assert int(status[name], 16) == 0, (name, status[name])
assert status['NoNewPrivs'].strip() == '1', status['NoNewPrivs']
""",
    # Under the fork server the template (PID 1 there) and the submission's init chain share the
    # kernel's command line; all but the kernel itself are non-dumpable.
    "template_out_of_reach": """
import os
me = os.readlink('/proc/self')
for pid in [p for p in os.listdir('/proc') if p.isdigit() and p != me]:
    try:
        cmdline = open(f'/proc/{pid}/cmdline', 'rb').read()
    except OSError:
        continue
    if b'rnn_course.grading.zygote' not in cmdline:
        continue
    for what in ('mem', 'environ', 'maps'):
        try:
            open(f'/proc/{pid}/{what}', 'rb').read(1)
        except OSError as e:
            assert e.errno in (1, 13), (pid, what, e)
        else:
            raise AssertionError(f'/proc/{pid}/{what} of the template is readable')
    for what in ('root', 'cwd'):
        try:
            os.listdir(f'/proc/{pid}/{what}')
        except OSError as e:
            assert e.errno in (1, 13), (pid, what, e)
        else:
            raise AssertionError(f'/proc/{pid}/{what} of the template is readable')
""",
    "no_network": """
import socket
names = [n for _, n in socket.if_nameindex()]
assert names == ['lo'], names
with open('/proc/net/dev') as f:
    assert 'eth' not in f.read()
""",
    "tmp_is_private_and_writable": """
import os, tempfile
with tempfile.NamedTemporaryFile(suffix='.keras') as f:   # what keras' save/load goes through
    f.write(b'x' * 1000)
    f.flush()
    assert os.path.getsize(f.name) == 1000 and f.name.startswith('/tmp/'), f.name
open('/dev/shm/x', 'w').write('x')
""",
    # os.mkfifo raises no audit event: this is the operating system answering, not the guard.
    "system_is_read_only": """
import os, sys
for path in [sys.prefix + '/evil', '/usr/evil', '/etc/evil', '/dev/evil', '/run/rnn-course/evil',
             os.path.dirname(os.__file__) + '/evil', '/evil']:
    try:
        os.mkfifo(path)
    except OSError as e:
        assert e.errno in (13, 30), (path, e)
    else:
        raise AssertionError(f'{path} is writable')
os.mkfifo('/home/student/fifo'); os.mkfifo('/tmp/fifo')
""",
    "scratch_is_a_sized_tmpfs": """
import os
for folder, cap in [('/home/student', SCRATCH), ('/tmp', SCRATCH // 2), ('/dev/shm', 64 * 2**20)]:
    st = os.statvfs(folder)
    assert st.f_blocks * st.f_frsize <= cap, (folder, st.f_blocks * st.f_frsize, cap)
""",
    "no_grader_secret_in_reach": """
import os
secret = SECRET
assert secret not in repr(dict(os.environ))
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    for what in ('environ', 'cmdline'):
        try:
            assert secret.encode() not in open(f'/proc/{pid}/{what}', 'rb').read(), (pid, what)
        except PermissionError:
            pass
""",
    "daemon_started": """
import _posixsubprocess, os
r, w = os.pipe()
pid = _posixsubprocess.fork_exec([b'/bin/sh', b'-c', b'while :; do sleep 1; done # rnn-isolation-probe'], [b'/bin/sh'],
                                 True, (w,), None, None, -1, -1, -1, -1, -1, -1, r, w, True, True, -1, None, None,
                                 None, -1, None, False)
assert pid > 0
os.write(1, b'raw-fd-1-rnn-isolation-probe\\n')
os.write(2, b'raw-fd-2-rnn-isolation-probe\\n')
""",
}


def _environment_tops() -> list[str]:
    """Top-level folders the sandbox may show besides the system's: where Python, the venv and the package live.

    A clean clone can sit anywhere (CI's is under its own top-level folder), so these come from this machine.
    """
    tops = set()
    for path in (sys.prefix, sys.base_prefix, sys.executable, str(REPO)):
        for candidate in (Path(path), Path(path).resolve()):
            if len(candidate.parts) > 1:
                tops.add(candidate.parts[1])
    return sorted(tops)


PREAMBLE = "from rnn_course.student_side import student\n"


def _probe_notebook(course: str, secret: str, scratch: int) -> dict:
    nb = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell(f"COURSE = {course!r}\nREPO = {str(REPO)!r}\nSECRET = {secret!r}\n"
                                      f"SCRATCH = {scratch}\nENVIRONMENT_TOPS = {_environment_tops()!r}\n")
    nb.cells.append(setup)
    for name, source in PROBES.items():
        # The probe runs in the sandbox (an ordinary cell, where student code runs); its test
        # cell runs in the trusted process and reads the probe's outcome through the channel.
        wrapped = "try:\n" + "".join(f"    {line}\n" for line in source.strip().splitlines()) + (
            f"    PROBE_{name} = 'ok'\n"
            f"except BaseException as exc:\n"
            f"    PROBE_{name} = f'{{type(exc).__name__}}: {{exc}}'\n")
        nb.cells.append(nbformat.v4.new_code_cell(wrapped))
        test = nbformat.v4.new_code_cell(f"outcome = student.PROBE_{name}\nassert outcome == 'ok', outcome\n")
        test.metadata["nbgrader"] = {"grade": True, "grade_id": name, "points": 1, "solution": False, "locked": True}
        nb.cells.append(test)
    return dict(nb)


def live_processes(mark: str) -> list[str]:
    """Command lines of live processes that carry ``mark`` (what an escaped submission left running)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if mark.encode() in cmdline:
                text = cmdline.replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{entry.name}: {text}")
    return found


@needs_bwrap
def test_the_boundary_seen_from_inside(tmp_path, monkeypatch):
    secret = "probe-secret-91c2"
    monkeypatch.setenv("RNN_COURSE_PROBE_SECRET", secret)
    limits = Limits(cell_timeout=60, notebook_timeout=300, scratch_bytes=64 * 2**20)
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    result = execute(_probe_notebook(str(course), secret, limits.scratch_bytes), workdir=work, deny_roots=[],
                     allow_roots=[], limits=limits, submission_bytes=b"{}", imports=PREAMBLE)
    failed = {k: v for k, v in result.verdicts.items() if not v["passed"]}
    errors = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): o.get("evalue")
              for c in result.notebook["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"}
    assert not failed, f"{failed}\n{errors}"
    assert result.sandbox["isolation"].startswith("bubblewrap"), result.sandbox
    assert not live_processes("rnn-isolation-probe"), "a process of the submission outlived its grading"
    assert "raw-fd-1-rnn-isolation-probe" in result.sandbox["raw_output"], "fd 1 is captured for the report"
    assert list(work.iterdir()) == [], "the sandbox's private folder is removed"


@needs_bwrap
def test_files_limit_stops_an_inode_bomb(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("i = 0\nwhile True:\n    open(f'f{i}', 'w').close()\n    i += 1\n"))
    result = execute(dict(nb), workdir=tmp_path, deny_roots=[], allow_roots=[],
                     limits=Limits(cell_timeout=120, notebook_timeout=300, files=2000))
    assert result.status == "files", (result.status, result.events)


def test_fallback_without_isolation_still_grades(tmp_path):
    """RNN_COURSE_ISOLATION=none: the guard alone, and the result says so."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import nbformat\n"
        "from rnn_course.grading.execute import Limits, execute\n"
        "nb = nbformat.v4.new_notebook()\n"
        "cell = nbformat.v4.new_code_cell('assert student.x + 1 == 3')\n"
        "cell.metadata['nbgrader'] = {'grade': True, 'grade_id': 't', 'points': 1, 'solution': False}\n"
        "nb.cells.append(cell)\n"
        "nb.cells.insert(0, nbformat.v4.new_code_cell('x = 2'))\n"
        "r = execute(dict(nb), workdir=Path(sys.argv[1]), deny_roots=[], allow_roots=[],\n"
        "            limits=Limits(cell_timeout=60, notebook_timeout=120),\n"
        "            imports='from rnn_course.student_side import student')\n"
        "print(json.dumps({'verdicts': r.verdicts, 'isolation': r.sandbox['isolation']}))\n"
    )
    env = {**os.environ, "RNN_COURSE_ISOLATION": "none"}
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.strip().splitlines()[-1]
    assert '"passed": true' in out and '"isolation": "none' in out, out
