"""The adversarial class: one submission per attack on the grader, all of chapter 01_rnn_forward.

Each attack is built from the chapter's release and solution. Its expected score is given as
the student whose *honest* submission it must score exactly like ("cheating scores what honest
failing code would"): ``wrong`` (every function mutated, no cheat), ``blank``, ``complete``,
``partial`` or ``no_softmax`` (complete but softmax left blank), all graded in the same run.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Callable

import nbformat

from rnn_course import samples
from rnn_course.samples import nbgrader_meta

CHAPTER = "01_rnn_forward"

# One typical mistake per exercise (the honest wrong answers the cheats are added to).
WRONG_EDITS = [
    ("rnn_cell_forward", "h_prev @ Wh + bh)", "h_prev @ Wh.T + bh)"),
    ("rnn_cell_forward", "cache = (x_t, h_prev, h_next, params)", "cache = (h_prev, x_t, h_next, params)"),
    ("rnn_forward", "np.stack(states, axis=1)", "np.stack(states, axis=0)"),
    ("softmax", "e / np.sum(e, axis=-1, keepdims=True)", "e / np.sum(e)"),
    ("rnn_output", 'h @ params["Wy"] + params["by"]', 'h @ params["Wy"]'),
]

NOOP_CHECKS = (
    "from rnn_course import checks as _c\n"
    "for _name in dir(_c):\n"
    "    if _name.startswith('check') or _name == 'call':\n"
    "        setattr(_c, _name, (lambda *a, **k: a[1] if len(a) > 1 else None))\n"
)


@dataclasses.dataclass
class Attack:
    student: str
    what: str
    build: Callable           # (honest notebooks dict) -> bytes | dict of {filename: bytes}
    scores_like: str          # the honest student whose score it must equal
    status: tuple = ("ok", "guarded")
    findings: tuple = ()      # finding kinds that must be reported
    at_most: bool = False     # score <= the honest one (tampering zeroes later tests)


def honest(release, solution, partial_ids) -> dict:
    """The honest submissions graded next to the attacks."""
    complete = samples.fill(release, solution)
    wrong = copy.deepcopy(solution)
    for grade_id, find, replace in WRONG_EDITS:
        wrong = samples.mutate(wrong, grade_id, find, replace)
    no_softmax = samples.fill(release, solution, [g for g in samples.solution_cells(solution) if g != "softmax"])
    return {
        "complete": complete,
        "blank": copy.deepcopy(release),
        "partial": samples.fill(release, solution, partial_ids),
        "wrong": samples.fill(release, wrong),
        "no_softmax": no_softmax,
    }


def _bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


def _cells(nb, kind):
    return [c for c in nb.cells if kind(nbgrader_meta(c))]


def _is_test(meta):
    return meta.get("grade") and not meta.get("solution")


def _with_cell(nb, source: str, after: str | None = None):
    """nb with a new code cell (as a student adds one) after answer ``after`` (default: first code cell)."""
    nb = copy.deepcopy(nb)
    new = nbformat.v4.new_code_cell(source)
    if after is None:
        index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code") + 1
    else:
        index = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") == after) + 1
    nb.cells.insert(index, new)
    return nb


def _append_to(nb, grade_id: str, source: str):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            cell.source += "\n" + source
    return nb


def _prepend_to(nb, grade_id: str, source: str):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == grade_id:
            cell.source = source + "\n" + cell.source
    return nb


def _edit_tests(nb, edit):
    nb = copy.deepcopy(nb)
    for cell in _cells(nb, _is_test):
        edit(cell)
    return nb


def _strip_metadata(nb):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    return nb


def _rename_tests(nb):
    def edit(cell):
        cell.metadata["nbgrader"]["grade_id"] += "_renamed"
        cell.source = "pass"
    return _edit_tests(nb, edit)


def _retype_tests(nb):
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        if _is_test(nbgrader_meta(cell)):
            nb.cells[i] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata, id=cell.get("id"))
    return nb


def _duplicate_answers(nb, wrong_nb):
    """Every answer twice: the honest (right) one first, a wrong copy after it."""
    nb = copy.deepcopy(nb)
    wrong = {nbgrader_meta(c).get("grade_id"): c for c in wrong_nb.cells}
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            twin = copy.deepcopy(wrong[meta["grade_id"]])
            twin["id"] = twin["id"] + "-copy"
            cells.append(twin)
    nb.cells = cells
    return nb


def _kernelspec(nb):
    nb = copy.deepcopy(nb)
    nb.metadata["kernelspec"] = {"name": "evil", "display_name": "Evil", "language": "python"}
    return nb


def _nbformat3(nb) -> bytes:
    return nbformat.writes(nbformat.convert(copy.deepcopy(nb), 3), version=3).encode()


def attacks(course_root: str) -> list[Attack]:
    """Every attack of the issue, with the honest student each must score like."""
    gradebook = f"{course_root}/gradebook.db"
    solution = f"{course_root}/solutions/{CHAPTER}/{CHAPTER}.ipynb"
    read_hidden = (
        "import json\n"
        f"_src = json.load(open({solution!r}))\n"
        "for _cell in _src['cells']:\n"
        "    if _cell['cell_type'] == 'code' and 'BEGIN SOLUTION' in ''.join(_cell['source']):\n"
        "        exec(''.join(_cell['source']))\n"
    )
    return [
        Attack("edited-tests", "test cells replaced by `pass`",
               lambda h: _bytes(_edit_tests(h["wrong"], lambda c: setattr(c, "source", "pass"))),
               "wrong", findings=("tests-restored",)),
        Attack("commented-tests", "test cells commented out",
               lambda h: _bytes(_edit_tests(h["wrong"], lambda c: setattr(c, "source", "# " + c.source.replace("\n", "\n# ")))),
               "wrong", findings=("tests-restored",)),
        Attack("deleted-tests", "test cells deleted",
               lambda h: _bytes(_drop(h["wrong"], _is_test)), "wrong", findings=("tests-restored",)),
        Attack("deleted-tests-partial", "test cells deleted from an honest partial notebook",
               lambda h: _bytes(_drop(h["partial"], _is_test)), "partial", findings=("tests-restored",)),
        Attack("stripped-metadata", "every cell's nbgrader metadata removed (answers right)",
               lambda h: _bytes(_strip_metadata(h["complete"])), "complete", findings=("metadata",)),
        Attack("renamed-grade-ids", "test cells renamed and emptied",
               lambda h: _bytes(_rename_tests(h["wrong"])), "wrong", findings=("tests-restored",)),
        Attack("retyped-tests", "test cells turned into markdown",
               lambda h: _bytes(_retype_tests(h["wrong"])), "wrong"),
        Attack("duplicated-cells", "each answer followed by a wrong copy with the same grade_id",
               lambda h: _bytes(_duplicate_answers(h["complete"], h["wrong"])), "complete",
               findings=("duplicated",)),
        Attack("kernelspec", "kernelspec changed to another kernel",
               lambda h: _bytes(_kernelspec(h["complete"])), "complete", findings=("kernelspec",)),
        Attack("wrong-chapter", "the notebook of chapter 00 handed in as 01",
               lambda h: h["other_chapter"], "blank", status=("wrong-chapter",), findings=("wrong-chapter",)),
        Attack("corrupt-json", "truncated JSON", lambda h: _bytes(h["complete"])[:500], "blank",
               status=("unreadable",), findings=("unreadable",)),
        Attack("nbformat3", "the right answers saved as nbformat 3",
               lambda h: _nbformat3(h["complete"]), "complete", findings=("converted",)),
        Attack("numpy-shadow", "a numpy.py next to the notebook",
               lambda h: {f"{CHAPTER}.ipynb": _bytes(h["partial"]),
                          "numpy.py": b"def allclose(*a, **k):\n    return True\n"}, "partial"),
        Attack("showtraceback", "errors hidden by overriding showtraceback",
               lambda h: _bytes(_with_cell(h["wrong"], "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
                                           "ip._showtraceback = lambda *a, **k: None\n")), "wrong"),
        Attack("patch-np-testing", "numpy.testing and numpy comparisons replaced",
               lambda h: _bytes(_with_cell(h["wrong"], "import numpy as np\n"
                                           "np.testing.assert_allclose = lambda *a, **k: None\n"
                                           "np.allclose = lambda *a, **k: True\n"
                                           "np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n")), "wrong"),
        Attack("patch-checks", "every rnn_course.checks function made a no-op",
               lambda h: _bytes(_with_cell(h["wrong"], NOOP_CHECKS)), "wrong"),
        Attack("rebind-checks", "the name `checks` rebound to a fake module",
               lambda h: _bytes(_with_cell(h["wrong"], "import types\nchecks = types.SimpleNamespace(**{n: (lambda *a, **k: a[1] if len(a) > 1 else None) "
                                           "for n in ['call', 'check_close', 'check_shape', 'check_array', 'check_true', 'check_probabilities', 'check_raises', 'check_finite', 'check_tuple']})\n")),
               "wrong"),
        Attack("patch-builtins", "builtins replaced (isinstance, abs, max, all, any)",
               lambda h: _bytes(_with_cell(h["wrong"], "import builtins\nbuiltins.all = lambda *a: True\n"
                                           "builtins.any = lambda *a: False\nbuiltins.abs = lambda x: 0\n"
                                           "builtins.max = lambda *a, **k: 0\n")), "wrong"),
        Attack("patch-during-test", "checks replaced from inside the graded function, while the test runs",
               lambda h: _bytes(_append_to(h["wrong"], "rnn_cell_forward",
                                           "_real = rnn_cell_forward\ndef rnn_cell_forward(*args):\n"
                                           "    from rnn_course import checks as _c\n"
                                           "    _c.check_close = lambda *a, **k: None\n"
                                           "    return _real(*args)\n")), "wrong", at_most=True),
        Attack("nbgrader-branch", "cheats only when NBGRADER_EXECUTION is set",
               lambda h: _bytes(_with_cell(h["wrong"], "import os\nif os.environ.get('NBGRADER_EXECUTION'):\n"
                                           + "\n".join("    " + l for l in NOOP_CHECKS.splitlines()) + "\n")), "wrong"),
        Attack("input-transformer", "every later cell rewritten to `pass` before it runs",
               lambda h: _bytes(_with_cell(h["wrong"], "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n")),
               "wrong", status=("tampering", "guarded"), at_most=True),
        Attack("fake-do-execute", "the kernel's do_execute replaced: every cell reports ok",
               lambda h: _bytes(_with_cell(h["wrong"], "async def _fake(*a, **k):\n"
                                           "    return {'status': 'ok', 'execution_count': 1, 'user_expressions': {}, 'payload': []}\n"
                                           "get_ipython().kernel.do_execute = _fake\n")),
               "wrong", status=("guarded", "tampering"), at_most=True),
        Attack("sys-exit", "sys.exit() after the last answer", lambda h: _bytes(_append_to(h["complete"], "rnn_output", "import sys\nsys.exit(0)")),
               "complete"),
        Attack("os-exit", "os._exit(0) in the softmax cell",
               lambda h: _bytes(_prepend_to(h["no_softmax"], "softmax", "import os\nos._exit(0)")), "partial_before_softmax",
               status=("kernel-died",)),
        Attack("segfault", "a segmentation fault in the softmax cell",
               lambda h: _bytes(_prepend_to(h["no_softmax"], "softmax", "import faulthandler\nfaulthandler._sigsegv()")),
               "partial_before_softmax", status=("kernel-died",)),
        Attack("sigkill", "the kernel kills itself (SIGKILL) in the softmax cell",
               lambda h: _bytes(_prepend_to(h["no_softmax"], "softmax", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")),
               "partial_before_softmax", status=("kernel-died",)),
        Attack("infinite-loop", "`while True: pass` in the softmax cell",
               lambda h: _bytes(_prepend_to(h["no_softmax"], "softmax", "while True:\n    pass")), "no_softmax",
               status=("timeout",)),
        Attack("sleep-loop", "cells that each sleep just under the cell limit (no CPU: the notebook's wall ceiling stops them)",
               lambda h: _bytes(_sleepy(h["complete"])), "blank", status=("notebook-timeout",)),
        Attack("output-flood", "prints without end", lambda h: _bytes(_with_cell(h["complete"], "while True:\n    print('x' * 100000)\n")),
               "complete", status=("output-flood",)),
        Attack("memory-bomb", "allocates 50 GB at once (refused), then 100 MB blocks until stopped",
               lambda h: _bytes(_with_cell(h["complete"], "try:\n    big = bytearray(50 * 2**30)\nexcept MemoryError:\n    print('refused')\n"
                                           "def grow():\n    blocks = []\n    while True:\n        blocks.append(bytearray(10**8))\n"
                                           "grow()\n")),
               "blank", status=("memory",)),
        Attack("fork-bomb", "forks without end", lambda h: _bytes(_with_cell(h["complete"], "import os\nwhile True:\n    os.fork()\n")),
               "complete"),
        Attack("shell", "runs a shell command", lambda h: _bytes(_with_cell(h["complete"], "import subprocess\nsubprocess.run(['sh', '-c', 'echo pwned > /tmp/pwned'])\n")),
               "complete"),
        Attack("network", "downloads a file", lambda h: _bytes(_with_cell(h["complete"], "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9/', timeout=2)\n")),
               "complete"),
        Attack("read-hidden-tests", "reads the solution notebook of the course and runs its answers",
               lambda h: _bytes(_with_cell(h["blank"], read_hidden)), "blank"),
        Attack("write-gradebook", "opens the gradebook with sqlite3 and as a file",
               lambda h: _bytes(_with_cell(h["blank"], "import sqlite3\ntry:\n    sqlite3.connect(%r).execute('update grade set auto_score = 99')\nexcept Exception as e:\n    print(e)\n"
                                           "open(%r, 'ab').write(b'x')\n" % (gradebook, gradebook))), "blank"),
    ]


def _drop(nb, kind):
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if not kind(nbgrader_meta(c))]
    return nb


def _sleepy(nb):
    nb = copy.deepcopy(nb)
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code") + 1
    for k in range(SLEEPY_CELLS):
        nb.cells.insert(index, nbformat.v4.new_code_cell(f"import time\ntime.sleep({SLEEP_SECONDS})  # {k}"))
    return nb


CELL_TIMEOUT = 12          # CPU seconds, the limits the adversarial class is graded with
NOTEBOOK_TIMEOUT = 45
NOTEBOOK_WALL = 120        # wall-clock seconds: the ceiling for sleepers (honest notebooks take ~20 s idle)
SLEEP_SECONDS = CELL_TIMEOUT - 4
SLEEPY_CELLS = NOTEBOOK_WALL // SLEEP_SECONDS + 2
MEMORY_GB = 3


def expected_points(scores: dict, attack: Attack) -> float:
    """The honest score an attack must match (``partial_before_softmax``: the tests before softmax's)."""
    if attack.scores_like == "partial_before_softmax":
        return scores["__before_softmax__"]
    return scores[attack.scores_like]

