"""Grading a class: plain serial `nbgrader autograde` vs `rnn-course grade --workers N`.

Builds a class of generated submissions of one chapter (default 40 of 01_rnn_forward: the
complete, blank and partial samples and the solution with one mistake each, round-robin), then
in the same run times

1. a bare headless execution of one submission (nbclient, fast mode, as graded), several times;
2. `nbgrader autograde CHAPTER --create --force`, serial, in one course directory;
3. `rnn-course grade SUBMISSIONS --force` in another course directory, each kernel in the
   bubblewrap sandbox (when it works here): ``--workers N`` and ``--workers 1`` with the fork
   server (one template per worker, a fork per submission), ``--workers N --scores-only`` (each
   notebook only up to its last test cell; the same scores), ``--workers N`` without it
   (``RNN_COURSE_FORK_SERVER=0``: a sandbox and an interpreter per submission), and each of
   ``--workers N`` and ``--workers 1`` also with ``--threads 2`` (every kernel's TensorFlow on two
   threads, as before the default became one);
4. ``--workers N`` with ``RNN_COURSE_ISOLATION=none`` (the in-kernel guard alone), in a third one;

and prints the times, the speed-up over nbgrader, each run's overhead per submission over the
bare execution (worker-seconds per submission minus the bare time) and the peak memory of the
grading process tree (PSS: pages shared by the template and its forks counted once). All
gradings must agree on every student's score (checked). ``--no-nbgrader`` leaves out step 2;
``--quick`` keeps only ``--workers N`` with and without ``--scores-only`` in step 3 and leaves out
step 4. The bare execution runs every cell (as nbgrader does).

    .venv/bin/python benchmarks/grade_class.py [--students 40] [--workers 2] [--chapter 01_rnn_forward] [--no-nbgrader] [--quick]
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


def tree_pss(pid: int) -> int:
    """Proportional set size, in bytes, of ``pid`` and every process below it (shared pages split)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as f:
                total += sum(int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:"))
            with open(f"/proc/{current}/task/{current}/children") as f:
                todo.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chapter", default="01_rnn_forward")
    parser.add_argument("--bare-runs", type=int, default=3)
    parser.add_argument("--no-nbgrader", action="store_true", help="skip the serial nbgrader run")
    parser.add_argument("--quick", action="store_true",
                        help="only nbgrader and --workers N (with and without --scores-only): skip --threads 2, --workers 1, no fork server, guard only")
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

        def grade(course, workers, *extra, **env):
            """Seconds, and the peak proportional set size (PSS) of the grading process tree."""
            start = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "rnn_course.cli", "--course", str(course.root), "grade",
                                     str(submissions), "--workers", str(workers), "--quiet", "--force", *extra],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env={**kernel_env(), **env})
            peak = 0
            while proc.poll() is None:
                peak = max(peak, tree_pss(proc.pid))
                time.sleep(0.5)
            out, err = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(out[-3000:] + err[-3000:])
            return time.perf_counter() - start, peak

        from rnn_course.grading import isolation

        sandbox = isolation.probe()
        runs = {}
        plan = [(f"rnn-course grade --workers {args.workers}", ours, args.workers, (), {}),
                (f"  --workers {args.workers} --scores-only", ours, args.workers, ("--scores-only",), {})]
        if not args.quick:
            plan += [(f"  --workers {args.workers} --threads 2", ours, args.workers, ("--threads", "2"), {}),
                     ("rnn-course grade --workers 1", ours, 1, (), {}),
                     ("  --workers 1 --threads 2", ours, 1, ("--threads", "2"), {}),
                     (f"  --workers {args.workers}, no fork server", ours, args.workers, (),
                      {"RNN_COURSE_FORK_SERVER": "0"}),
                     (f"  --workers {args.workers}, guard only", guard_only, args.workers, (),
                      {"RNN_COURSE_ISOLATION": "none"})]
        for label, course, workers, extra, env in plan:
            runs[label] = (*grade(course, workers, *extra, **env), workers)
        ours_s = runs[f"rnn-course grade --workers {args.workers}"][0]

        b = {s: v.auto for s, v in ours.scores(chapter).items()}
        a = {s: v.auto for s, v in serial.scores(chapter).items()} if nbgrader_s else b
        c = {s: v.auto for s, v in guard_only.scores(chapter).items()} if not args.quick else b
        differ = {s: (a[s], b.get(s), c.get(s)) for s in a if not a[s] == b.get(s) == c.get(s)}

    n = args.students
    print(f"class: {n} submissions of {chapter}; {os.cpu_count()} cores; bare execution {bare_s:.2f} s "
          f"(median of {args.bare_runs}: {', '.join(f'{x:.2f}' for x in bare)})")
    print(f"isolation: {sandbox.tool or 'none: ' + sandbox.detail}")
    if nbgrader_s:
        print(f"{'nbgrader autograde (serial):':<44}{nbgrader_s:7.1f} s  ({nbgrader_s / n:.2f} s per submission, "
              f"overhead {nbgrader_s / n - bare_s:+.2f} s over bare)")
    for label, (seconds, peak, workers) in runs.items():
        ratio = f"{nbgrader_s / seconds:5.2f}x nbgrader; " if nbgrader_s else ""
        print(f"{label + ':':<44}{seconds:7.1f} s  ({ratio}{seconds * workers / n:.2f} worker-seconds per "
              f"submission, overhead {seconds * workers / n - bare_s:+.2f} s over bare; peak memory "
              f"{peak / 2**20:,.0f} MiB PSS, {peak / workers / 2**20:,.0f} per worker)")
    if nbgrader_s:
        print(f"speed-up nbgrader / rnn-course --workers {args.workers}: {nbgrader_s / ours_s:.2f}x")
    print("scores agree on every submission" if not differ else f"SCORES DIFFER: {differ}")
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
