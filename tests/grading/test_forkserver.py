"""The fork server (issue 20): submissions forked from one template share nothing with each other.

Each test grades small notebooks through :func:`rnn_course.grading.execute.execute`, as
``rnn-course grade`` does. Submissions graded one after the other on one thread are forked from
the same template; submissions graded at the same time on two threads come from two templates.
What one submission changes — its modules, files, environment, processes — must be absent from
the next, and the template must be out of reach. Skips without bubblewrap (the fork server needs
it); ``make test`` installs it.
"""

from __future__ import annotations

import concurrent.futures
import re

import nbformat
import pytest

from rnn_course.grading import forkserver
from rnn_course.grading.execute import Limits, execute
from tests.grading.test_isolation import PREAMBLE, bwrap_skip_reason

pytestmark = [pytest.mark.grading,
              pytest.mark.skipif(bwrap_skip_reason() is not None, reason=str(bwrap_skip_reason()))]

LIMITS = Limits(cell_timeout=60, notebook_timeout=300)

# Changes a submission can make to its own copy of the template's state. Several are ones the
# in-kernel guard does not restore (new attributes, mutated containers, C-level state): the
# fork is what keeps them from the next submission.
CORRUPT = r"""
import builtins, os, sys, threading
import numpy, keras
import rnn_course.checks
numpy.pi = 3.0
numpy.LEFT_BEHIND = 'module attribute'
keras.layers.LEFT_BEHIND = 'module attribute'
rnn_course.checks.__dict__['LEFT_BEHIND'] = 'module attribute'
sys.path.append('/left-behind')
sys.modules['left_behind'] = type(sys)('left_behind')
builtins.LEFT_BEHIND = 'builtin'
os.environ['LEFT_BEHIND'] = 'environment'
numpy.random.seed(1234)
numpy.set_printoptions(precision=1)
for folder in ('/tmp', '/home/student', '/dev/shm', '/run/kernel'):
    try:
        open(folder + '/left-behind', 'w').write('file')
    except OSError:
        pass
import _posixsubprocess
r, w = os.pipe()
_posixsubprocess.fork_exec([b'/bin/sh', b'-c', b'while :; do sleep 1; done # left-behind-process'], [b'/bin/sh'],
                           True, (w,), None, None, -1, -1, -1, -1, -1, -1, r, w, True, True, -1, None, None,
                           None, -1, None, False)
MARK = 'corrupted'
"""

INSPECT = r"""
import builtins, math, os, sys
import numpy, keras
import rnn_course.checks
SEEN = []
if numpy.pi != math.pi: SEEN.append('numpy.pi')
for name, module in (('numpy', numpy), ('keras.layers', keras.layers), ('rnn_course.checks', rnn_course.checks)):
    if hasattr(module, 'LEFT_BEHIND'): SEEN.append(name + '.LEFT_BEHIND')
if '/left-behind' in sys.path: SEEN.append('sys.path')
if 'left_behind' in sys.modules: SEEN.append('sys.modules')
if hasattr(builtins, 'LEFT_BEHIND'): SEEN.append('builtins')
if 'LEFT_BEHIND' in os.environ: SEEN.append('os.environ')
if numpy.get_printoptions()['precision'] != 8: SEEN.append('numpy print options')
for folder in ('/tmp', '/home/student', '/dev/shm', '/run/kernel'):
    if os.path.exists(folder + '/left-behind'): SEEN.append(folder)
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    try:
        if b'left-behind-process' in open(f'/proc/{pid}/cmdline', 'rb').read(): SEEN.append('process ' + pid)
    except OSError:
        pass
PIDS = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
"""


def _notebook(*sources: str, test: str) -> dict:
    nb = nbformat.v4.new_notebook()
    for source in sources:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    cell = nbformat.v4.new_code_cell(test)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "check", "points": 1, "solution": False, "locked": True}
    nb.cells.append(cell)
    return dict(nb)


def _grade(nb: dict, tmp_path, name: str):
    work = tmp_path / name
    work.mkdir()
    return execute(nb, workdir=work, deny_roots=[], allow_roots=[], limits=LIMITS,
                   submission_bytes=b"{}", imports=PREAMBLE)


def _failure(result) -> str:
    return "; ".join(str(o.get("evalue")) for c in result.notebook["cells"] for o in c.get("outputs", [])
                     if o.get("output_type") == "error") or str(result.events)


def test_the_next_submission_sees_nothing_of_the_previous_one(tmp_path):
    first = _grade(_notebook(CORRUPT, test="assert student.MARK == 'corrupted'\n"), tmp_path, "first")
    server = forkserver.acquire()
    assert first.verdicts["check"]["passed"], _failure(first)
    assert "fork server" in first.sandbox["isolation"], first.sandbox
    second = _grade(_notebook(INSPECT, test="assert student.SEEN == [], student.SEEN\n"), tmp_path, "second")
    assert forkserver.acquire() is server and server.alive(), "both came from one template"
    assert "fork server" in second.sandbox["isolation"], second.sandbox
    assert second.verdicts["check"]["passed"], _failure(second)


def test_the_template_keeps_no_shared_writable_memory():
    """A forked child's private copy is copy-on-write unless the template mapped memory shared."""
    server = forkserver.acquire()
    with open(f"/proc/{server.pid}/maps") as f:
        shared = [line.strip() for line in f if re.match(r"\S+ rw.s ", line)]
    assert shared == [], shared


def test_submissions_graded_at_once_cannot_see_each_other(tmp_path):
    """Two threads, two templates: neither submission's processes are in the other's /proc."""
    source = r"""
import os, time, _posixsubprocess
r, w = os.pipe()
_posixsubprocess.fork_exec([b'/bin/sh', b'-c', b'while :; do sleep 1; done # concurrent-NAME'], [b'/bin/sh'],
                           True, (w,), None, None, -1, -1, -1, -1, -1, -1, r, w, True, True, -1, None, None,
                           None, -1, None, False)
SEEN = []
deadline = time.monotonic() + 8
while time.monotonic() < deadline and not SEEN:
    for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
        try:
            if b'concurrent-OTHER' in open(f'/proc/{pid}/cmdline', 'rb').read(): SEEN.append(pid)
        except OSError:
            pass
    time.sleep(0.2)
"""
    notebooks = {name: _notebook(source.replace("NAME", name).replace("OTHER", other),
                                 test="assert student.SEEN == [], student.SEEN\n")
                 for name, other in (("a", "b"), ("b", "a"))}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = dict(zip(notebooks, pool.map(lambda n: _grade(notebooks[n], tmp_path, n), notebooks)))
    for name, result in results.items():
        assert "fork server" in result.sandbox["isolation"], result.sandbox
        assert result.verdicts["check"]["passed"], (name, _failure(result))


def test_a_template_that_fails_gives_way_to_a_sandbox_per_submission(tmp_path, monkeypatch):
    """The worker grades on, without the fork server, and every result of it says why."""
    def broken(*args, **kwargs):
        raise forkserver.ForkServerError("the template exited: simulated")

    monkeypatch.setattr(forkserver, "ForkServer", broken)
    nb = _notebook("import os\nPID = os.getpid()\n", test="assert student.PID == 2, student.PID\n")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a fresh thread: no template of its own yet
        results = list(pool.map(lambda name: _grade(nb, tmp_path, name), ["one", "two"]))
    for result in results:
        assert result.verdicts["check"]["passed"], _failure(result)
        assert "fork server" not in result.sandbox["isolation"], result.sandbox
        assert any("fork server off for this worker" in e and "simulated" in e for e in result.events), result.events


def test_a_child_that_does_not_start_gives_way_before_any_student_code(tmp_path, monkeypatch):
    """A fork whose namespaces fail (its init never appears): the same submission is graded by a
    sandbox of its own, and the worker keeps that path."""
    real = forkserver.children
    templates = lambda: {server.pid for server in forkserver._ALL}  # noqa: E731
    monkeypatch.setattr(forkserver, "children", lambda pid: real(pid) if pid in templates() else [])
    monkeypatch.setattr(forkserver.Forked, "poll", lambda self: -9)
    nb = _notebook("import os\nPID = os.getpid()\n", test="assert student.PID == 2, student.PID\n")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        results = list(pool.map(lambda name: _grade(nb, tmp_path, name), ["one", "two"]))
    for result in results:
        assert result.verdicts["check"]["passed"], _failure(result)
        assert "fork server" not in result.sandbox["isolation"], result.sandbox
        assert any("fork server off for this worker" in e for e in result.events), result.events
    assert any("did not start" in e for e in results[0].events), results[0].events
