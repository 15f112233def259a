"""``rnn-course``: the instructor's command line (nbgrader's gradebook and formats underneath).

    rnn-course release [CHAPTER ...]            validate solutions, generate notebooks/, check the release fails
    rnn-course grade SUBMISSIONS [--workers N]  grade a class in parallel, sandboxed, into the gradebook
    rnn-course feedback [--chapter C] [--reveal-hidden-tests]
                                                nbgrader generate_feedback for graded chapters
    rnn-course export grades.csv                nbgrader export
    rnn-course doctor                           environment, versions, device, kernel, sandbox
    rnn-course student-kit OUT [--chapters C ...]
                                                what students receive: release, wheel, requirements

Every command works on a course directory (``--course``, default: the current folder), which
holds ``nbgrader_config.py``, ``solutions/`` and the SQLite gradebook.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _course(args):
    from rnn_course.course import Course

    root = Path(args.course).resolve()
    if not (root / "nbgrader_config.py").is_file() or not (root / "solutions").is_dir():
        raise SystemExit(f"error: --course must be a course directory with nbgrader_config.py and "
                         f"solutions/; received: {root}")
    return Course(root)


def _graded_chapters(course) -> list[str]:
    folder = course.root / "autograded"
    return sorted({p.name for p in folder.glob("*/*") if p.is_dir()}) if folder.is_dir() else []


def cmd_release(args) -> int:
    from rnn_course import release

    return release.main(list(args.chapters))


def cmd_grade(args) -> int:
    from rnn_course.grading.execute import Limits
    from rnn_course.grading.grade import grade_class

    limits = Limits(cell_timeout=args.cell_timeout, notebook_timeout=args.notebook_timeout,
                    cell_wall=args.cell_wall, notebook_wall=args.notebook_wall,
                    memory_bytes=int(args.memory_gb * 2**30) if args.memory_gb else None,
                    output_bytes=args.output_kb * 1024, threads=args.threads)
    report = grade_class(
        _course(args).root, Path(args.submissions), workers=args.workers, chapter=args.chapter,
        engine=args.engine, scheduler=args.scheduler, limits=limits, force=args.force,
        progress=not args.quiet, scores_only=args.scores_only,
    )
    print(report.format())
    bad = [r for r in report.results if r["status"] == "grader-error"]
    return 1 if bad else 0


def cmd_feedback(args) -> int:
    course = _course(args)
    chapters = [args.chapter] if args.chapter else _graded_chapters(course)
    for chapter in chapters:
        course.generate_feedback(chapter, reveal_hidden_tests=args.reveal_hidden_tests)
        print(f"{chapter}: feedback under {course.root / 'feedback'}")
    return 0


def cmd_export(args) -> int:
    path = _course(args).export(Path(args.csv))
    print(path)
    return 0


def cmd_report(args) -> int:
    from rnn_course.grading import report

    course = _course(args)
    out = Path(args.out) if args.out else course.root / "reports"
    csv_path, html_path, built = report.write(course.root, out, args.chapter)
    for cell in built.cells:
        top = cell.sorted_groups()[:1]
        worst = f"; most common: {top[0][0]} ({len(top[0][1])})" if top else ""
        print(f"{cell.chapter} {cell.cell}: {cell.passed}/{cell.graded} passed{worst}")
    for chapter, left in sorted(built.unverified.items()):
        print(f"{chapter}: {len(left)} record(s) left out, their MAC does not verify: {' '.join(left[:5])}")
    print(csv_path)
    print(html_path)
    return 0


def cmd_doctor(args) -> int:
    import platform

    from rnn_course.grading.doctor import checks

    print(f"python {platform.python_version()} ({sys.executable})")
    failed = 0
    for name, ok, detail in checks(Path(args.course).resolve()):
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        failed += not ok
    return 1 if failed else 0


def cmd_student_kit(args) -> int:
    from rnn_course import kit

    try:
        built = kit.build(args.out, _course(args).root, args.chapters, zip_it=not args.no_zip)
    except (ValueError, kit.KitError) as error:
        print(f"rnn-course student-kit: {error}", file=sys.stderr)
        return 1
    print(built.folder)
    if built.archive:
        print(built.archive)
    for chapter, earlier in sorted(built.given_later.items()):
        print(f"note: {chapter}'s release shows answers of {', '.join(sorted(earlier))} "
              f"(as given code): hand it out after they are due")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rnn-course", description=__doc__.splitlines()[0])
    p.add_argument("--course", default=".", help="course directory (default: the current folder)")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("release", help="validate solutions, generate notebooks/, check the release fails its tests")
    r.add_argument("chapters", nargs="*")
    r.set_defaults(func=cmd_release)

    g = sub.add_parser("grade", help="grade submissions in parallel into the gradebook")
    g.add_argument("submissions", help="submitted/<student>/<chapter>/<chapter>.ipynb layout, or a folder of <student>.zip")
    g.add_argument("--workers", type=int, default=None, help="parallel sandboxes (default: number of cores)")
    g.add_argument("--chapter", default=None, help="grade only this chapter")
    g.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local threads driving kernel processes (default), or Dask distributed")
    g.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a LocalCluster)")
    g.add_argument("--cell-timeout", type=float, default=120.0,
                   help="CPU seconds per cell, summed over the kernel's processes (default 120)")
    g.add_argument("--notebook-timeout", type=float, default=600.0,
                   help="CPU seconds per notebook (default 600)")
    g.add_argument("--cell-wall", type=float, default=None,
                   help="wall-clock ceiling per cell, for code that sleeps (default 3 x cell-timeout + 30)")
    g.add_argument("--notebook-wall", type=float, default=None,
                   help="wall-clock ceiling per notebook (default 3 x notebook-timeout)")
    g.add_argument("--memory-gb", type=float, default=8.0, help="memory per kernel in GiB (0: no limit)")
    g.add_argument("--output-kb", type=int, default=2048, help="output kept per notebook in KiB")
    g.add_argument("--threads", type=int, default=1,
                   help="CPU threads of each kernel's TensorFlow/PyTorch (default 1: one kernel per core "
                        "with --workers' default, and the same arithmetic on any machine)")
    g.add_argument("--force", action="store_true", help="execute again even unchanged submissions")
    g.add_argument("--scores-only", action="store_true",
                   help="execute each notebook only up to its last test cell: the same scores, faster; the cells "
                        "after it (demonstrations a written answer may refer to) are marked as not run")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=cmd_grade)

    f = sub.add_parser("feedback", help="nbgrader generate_feedback for the graded chapters")
    f.add_argument("--chapter", default=None, help="only this chapter (default: every graded chapter)")
    f.add_argument("--reveal-hidden-tests", action="store_true",
                   help="show the hidden tests' code (after the deadline); by default each hidden "
                        "block shows as one comment line and tracebacks do not quote it")
    f.set_defaults(func=cmd_feedback)

    e = sub.add_parser("export", help="nbgrader export of the gradebook to CSV")
    e.add_argument("csv")
    e.set_defaults(func=cmd_export)

    r = sub.add_parser("report", help="what the class got wrong: per test cell, failures grouped by diagnosis")
    r.add_argument("--out", default=None, help="folder for report.csv and report.html (default: COURSE/reports)")
    r.add_argument("--chapter", default=None, help="only this chapter")
    r.set_defaults(func=cmd_report)

    k = sub.add_parser("student-kit", help="the student kit: release notebooks, the student wheel, "
                                           "requirements, README; no answers")
    k.add_argument("out", help="the kit's folder (replaced), outside the course or under its build/; OUT.zip beside it")
    k.add_argument("--chapters", nargs="*", default=None, help="only these chapters (default: all)")
    k.add_argument("--no-zip", action="store_true", help="the folder only")
    k.set_defaults(func=cmd_student_kit)

    d = sub.add_parser("doctor", help="check the environment, device, kernel and sandbox")
    d.set_defaults(func=cmd_doctor)
    return p


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    from rnn_course.grading.gradebook import GradebookError, own_bin_on_path

    # nbgrader runs `alembic` by name when it creates a gradebook: `.venv/bin/rnn-course` must
    # work without the environment activated, so its bin/ goes first on PATH.
    own_bin_on_path()
    args = parser().parse_args(argv)

    try:
        return args.func(args)
    except GradebookError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
