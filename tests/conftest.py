"""Shared fixtures: the repository root and the chapters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before any test imports TensorFlow (the package sets these too; being explicit costs nothing).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def float64_on_every_backend():
    """float64 tests stay float64 under JAX and PyTorch too, as env.setup() makes the chapters."""
    from rnn_course import backend

    backend.keep_float64()


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def _chapters() -> list[str]:
    """Chapters under test: all of solutions/, or those named in RNN_COURSE_TEST_CHAPTERS.

    ``RNN_COURSE_TEST_CHAPTERS=02_bptt,03_sequence_loss make test-notebooks`` runs the notebook
    tests of two chapters only (while writing them); CI leaves it unset and tests them all.
    """
    from rnn_course.course import chapters

    every = chapters(REPO)
    wanted = os.environ.get("RNN_COURSE_TEST_CHAPTERS", "").strip()
    if not wanted:
        return every
    names = [n.strip() for n in wanted.split(",") if n.strip()]
    unknown = sorted(set(names) - set(every))
    if unknown:
        raise ValueError(f"RNN_COURSE_TEST_CHAPTERS must name chapters of solutions/; unknown: {unknown}")
    return names


CHAPTERS = _chapters()


# --- `make test-under-load`: the same verdicts while every core is busy (issue 16) -----------------
def pytest_addoption(parser):
    parser.addoption("--under-load", type=float, default=0.0, metavar="SECONDS",
                     help="keep every core busy with one spinning process per core for at most SECONDS "
                          "while the session runs (ended with the session)")


@pytest.fixture(scope="session", autouse=True)
def busy_cores(request):
    """With --under-load: one CPU-bound process per core (two per core make load ~2x the cores),
    each ending itself after the given seconds at the latest, and killed when the session ends."""
    import subprocess
    import sys

    seconds = request.config.getoption("--under-load")
    if not seconds:
        yield []
        return
    spin = ("import time\nend = time.monotonic() + float(__import__('sys').argv[1])\n"
            "while time.monotonic() < end:\n    sum(range(10000))\n")
    procs = [subprocess.Popen([sys.executable, "-c", spin, str(seconds)]) for _ in range(2 * (os.cpu_count() or 1))]
    _LOAD["spinners"] = len(procs)
    try:
        yield procs
    finally:
        _LOAD["end"] = os.getloadavg()
        for proc in procs:
            proc.kill()
            proc.wait()


_LOAD: dict = {}


def pytest_terminal_summary(terminalreporter):
    """The load a --under-load session ran under, for the closing note's figures."""
    if _LOAD:
        one, five, fifteen = _LOAD.get("end", os.getloadavg())
        terminalreporter.write_line(
            f"under load: {_LOAD['spinners']} spinning processes on {os.cpu_count()} cores; "
            f"load average at the end {one:.1f} (1 min), {five:.1f} (5 min), {fifteen:.1f} (15 min)")
