"""``rnn-course doctor``: what this machine can run and enforce, checked for real."""

from __future__ import annotations

import importlib.metadata
import tempfile
import time
from pathlib import Path

PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "nbgrader", "jupyterlab", "ipykernel",
            "jupyter_client", "distributed", "jax", "torch")


def checks(course_root: Path) -> list[tuple[str, bool, str]]:
    """(name, ok, detail) for each check; a missing optional package is not a failure."""
    out = []
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    out.append(("packages", True, ", ".join(versions)))

    import keras

    from rnn_course import env

    out.append(("keras backend", True, keras.backend.backend()))
    try:
        out.append(("device", True, env.device()))
    except Exception as exc:  # pragma: no cover - depends on the machine
        out.append(("device", False, f"{exc.__class__.__name__}: {exc}"))

    course_ok = (course_root / "nbgrader_config.py").is_file() and (course_root / "solutions").is_dir()
    out.append(("course directory", course_ok,
                str(course_root) if course_ok else f"{course_root} lacks nbgrader_config.py or solutions/"))

    out.append(_isolation_check())
    out.append(_sandbox_check())
    return out


def _sandbox_check() -> tuple[str, bool, str]:
    """Start a sandboxed kernel, run a cell that tries the network and a file outside, report."""
    import nbformat

    from rnn_course.grading.execute import Limits, execute
    from rnn_course.grading.grade import allowed_roots

    notebook = nbformat.v4.new_notebook()
    probe = (
        "import socket, os\n"
        "try:\n    socket.create_connection(('127.0.0.1', 9), timeout=1); net = 'open'\n"
        "except Exception as e:\n    net = 'blocked'\n"
        "print(net)\n"
    )
    notebook.cells.append(nbformat.v4.new_code_cell(probe))   # runs in the sandbox
    # the test cell runs in the trusted process and reads the probe's outcome as data
    cell = nbformat.v4.new_code_cell("assert student.net == 'blocked', student.net")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "probe", "points": 1, "solution": False,
                                 "locked": True}
    notebook.cells.append(cell)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rcg-doctor-") as work:
        result = execute(dict(notebook), workdir=Path(work), deny_roots=[], allow_roots=[str(p) for p in allowed_roots()],
                         limits=Limits(cell_timeout=60, notebook_timeout=120),
                         imports="from rnn_course.student_side import student\n")
    printed = "".join(o.get("text", "") for o in result.notebook["cells"][0].get("outputs", []))
    ok = result.verdicts.get("probe", {}).get("passed", False) and "blocked" in printed
    kernel = result.sandbox.get("kernel", {})
    detail = (f"kernel started and ran in {time.monotonic() - start:.1f} s "
              f"({result.sandbox.get('isolation', '?')}); network: "
              f"{kernel.get('network', '?')}, probe connection {printed.strip() or '?'}; "
              f"limits: {', '.join(kernel.get('limits', [])) or 'none'}")
    return ("sandbox", ok, detail)


def _isolation_check() -> tuple[str, bool, str]:
    """Which boundary grading has here: bubblewrap, or the in-kernel guard alone."""
    from rnn_course.grading import isolation

    from rnn_course.grading import forkserver

    probe = isolation.probe()
    if probe.active:
        fork = ("fork server on (one template per worker)" if forkserver.enabled()
                else "fork server off (RNN_COURSE_FORK_SERVER=0)")
        return ("isolation", True, f"operating-system sandbox: {probe.detail}; {fork}")
    # Not a failure: grading works, and every result says it ran without isolation.
    return ("isolation", True, f"NONE — the in-kernel guard only ({probe.detail}); every graded "
            "submission is flagged 'no-isolation'")
