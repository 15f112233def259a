"""Grading a class: plain serial `nbgrader autograde` vs `rnn-course grade --workers N`.

Builds a class of generated submissions of one chapter (default 40 of 01_rnn_forward: the
complete, blank and partial samples and the solution with one mistake each, round-robin), then
in the same run times

1. a bare headless execution of one submission (nbclient, fast mode, as graded), several times;
2. `nbgrader autograde CHAPTER --create --force`, serial, in one course directory;
3. `rnn-course grade SUBMISSIONS --workers N`, in another course directory, each kernel in the
   bubblewrap sandbox (when it works here);
4. the same with ``RNN_COURSE_ISOLATION=none`` (the in-kernel guard alone), in a third one;

and prints the times, the speed-up, each grader's overhead per submission over the bare
execution, and what the operating-system sandbox costs (3 over 4). All gradings must agree on
every student's score (checked). ``--no-nbgrader`` leaves out step 2 (minutes).

    .venv/bin/python benchmarks/grade_class.py [--students 40] [--workers 2] [--chapter 01_rnn_forward] [--no-nbgrader]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rnn_course import samples  # noqa: E402
from rnn_course.course import Course, execute_notebook, kernel_env  # noqa: E402


def build_class(course: Course, chapter: str, n: int) -> dict:
    from tests.notebooks.mutants import MUTANTS

    release = nbformat.read(str(course.release(chapter)), as_version=4)
    solution = nbformat.read(str(course.source(chapter)), as_version=4)
    manifest = samples.partial_manifest(REPO)
    variants = list(samples.build(course.release(chapter), course.source(chapter),
                                  manifest[chapter]["solved"]).values())
    for mutant in (m for m in MUTANTS if m.chapter == chapter):
        variants.append(samples.fill(release, samples.mutate(solution, mutant.grade_id, mutant.find, mutant.replace)))
    return {f"student{i:03d}": copy.deepcopy(variants[i % len(variants)]) for i in range(n)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chapter", default="01_rnn_forward")
    parser.add_argument("--bare-runs", type=int, default=3)
    parser.add_argument("--no-nbgrader", action="store_true", help="skip the serial nbgrader run")
    args = parser.parse_args()
    chapter = args.chapter

    with tempfile.TemporaryDirectory(prefix="rnn-course-bench-") as tmp:
        tmp = Path(tmp)
        serial = Course.create(tmp / "serial", REPO)
        serial.generate(chapter)
        ours = Course.create(tmp / "parallel", REPO)
        ours.generate(chapter)
        guard_only = Course.create(tmp / "guard-only", REPO)
        guard_only.generate(chapter)
        klass = build_class(serial, chapter, args.students)
        submissions = tmp / "submissions"
        for student, notebook in klass.items():
            serial.submit(student, chapter, notebook)
            path = submissions / student / chapter / f"{chapter}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(notebook, str(path))

        bare = []
        sample = submissions / "student000" / chapter / f"{chapter}.ipynb"
        for _ in range(args.bare_runs):
            start = time.perf_counter()
            execute_notebook(sample, fast=True)
            bare.append(time.perf_counter() - start)
        bare_s = statistics.median(bare)

        nbgrader_s = None
        if not args.no_nbgrader:
            start = time.perf_counter()
            serial.autograde(chapter)
            nbgrader_s = time.perf_counter() - start

        def grade(course, **env):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "rnn_course.cli", "--course", str(course.root), "grade",
                                   str(submissions), "--workers", str(args.workers), "--quiet"],
                                  capture_output=True, text=True, env={**kernel_env(), **env})
            if proc.returncode != 0:
                raise SystemExit(proc.stdout[-3000:] + proc.stderr[-3000:])
            return time.perf_counter() - start

        from rnn_course.grading import isolation

        sandbox = isolation.probe()
        ours_s = grade(ours)
        guard_s = grade(guard_only, RNN_COURSE_ISOLATION="none")

        b = {s: v.auto for s, v in ours.scores(chapter).items()}
        a = {s: v.auto for s, v in serial.scores(chapter).items()} if nbgrader_s else b
        c = {s: v.auto for s, v in guard_only.scores(chapter).items()}
        differ = {s: (a[s], b.get(s), c.get(s)) for s in a if not a[s] == b.get(s) == c.get(s)}

    n = args.students
    print(f"class: {n} submissions of {chapter}; {os.cpu_count()} cores; bare execution {bare_s:.2f} s "
          f"(median of {args.bare_runs}: {', '.join(f'{x:.2f}' for x in bare)})")
    if nbgrader_s:
        print(f"nbgrader autograde (serial):          {nbgrader_s:7.1f} s  ({nbgrader_s / n:.2f} s per submission, "
              f"overhead {nbgrader_s / n - bare_s:+.2f} s over bare)")
    for label, seconds in ((f"rnn-course grade --workers {args.workers}", ours_s), ("  the same, guard only", guard_s)):
        print(f"{label + ':':<38}{seconds:7.1f} s  ({seconds / n:.2f} s per submission; "
              f"{seconds * args.workers / n:.2f} worker-seconds each, overhead {seconds * args.workers / n - bare_s:+.2f} s over bare)")
    print(f"isolation ({sandbox.tool or 'none: ' + sandbox.detail}): {ours_s / guard_s:.3f}x the guard-only time "
          f"({100 * (ours_s / guard_s - 1):+.1f} %)")
    if nbgrader_s:
        print(f"speed-up nbgrader / rnn-course:       {nbgrader_s / ours_s:7.2f}x")
    print("scores agree on every submission" if not differ else f"SCORES DIFFER: {differ}")
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
