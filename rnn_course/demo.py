"""The instructor's whole loop on bundled sample submissions: ``make demo``.

In a scratch course directory (``build/demo/course``, nbgrader's SQLite gradebook inside):
validate the solutions, generate the release from ``solutions/``, check the release fails its
tests, make three sample submissions per chapter (see ``samples/README.md``), grade them with
``rnn-course grade`` (parallel sandboxed kernels, nbgrader's gradebook),
generate feedback HTML, export the grades CSV, and print a table student × chapter.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from rnn_course import samples
from rnn_course.course import Course, chapters, repo_root
from rnn_course.grading.grade import grade_class

STUDENTS = ("complete", "blank", "partial")


def _step(i: int, n: int, text: str) -> None:
    print(f"[{i}/{n}] {text}", flush=True)


def run_demo(root: Path, repo: Path | None = None, only: list[str] | None = None) -> dict:
    """Run the loop; return {chapter: {student: Score}}."""
    repo = repo or repo_root()
    names = only or chapters(repo)
    manifest = samples.partial_manifest(repo)
    missing = [c for c in names if c not in manifest]
    if missing:
        raise ValueError(f"samples/partial/<chapter>.json must describe every chapter; missing: {missing}")
    started = time.perf_counter()
    course = Course.create(root, repo)
    n = 6
    print(f"Scratch course directory: {course.root}  (gradebook: {course.root / 'gradebook.db'})")

    _step(1, n, f"validate the solutions and generate the release ({len(names)} chapters)")
    for chapter in names:
        t = time.perf_counter()
        result = course.validate(course.source(chapter))
        if not result.passed:
            raise RuntimeError(f"the solution of {chapter} fails its tests:\n{result.output}")
        course.generate(chapter)
        inverted = course.validate(course.release(chapter), invert=True)
        if not inverted.passed:
            raise RuntimeError(f"the release of {chapter} passes tests unanswered:\n{inverted.output}")
        print(f"      {chapter}: solution passes, release generated and fails unanswered "
              f"({time.perf_counter() - t:.0f} s)", flush=True)

    _step(2, n, "make the sample submissions: " + ", ".join(STUDENTS))
    for chapter in names:
        built = samples.build(course.release(chapter), course.source(chapter), manifest[chapter]["solved"])
        for student in STUDENTS:
            course.submit(student, chapter, built[student])

    workers = os.cpu_count() or 1
    _step(3, n, f"grade {len(STUDENTS) * len(names)} submissions: rnn-course grade submitted/ "
                f"--workers {workers} (sandboxed, parallel, into nbgrader's gradebook)")
    report = grade_class(course.root, course.root / "submitted", workers=workers)
    print("\n".join("      " + line for line in report.format().splitlines()[-2:]), flush=True)

    _step(4, n, "generate feedback HTML")
    for chapter in names:
        course.generate_feedback(chapter)
    feedback = sorted(course.root.glob("feedback/*/*/*.html"))
    print(f"      {len(feedback)} reports under {course.root / 'feedback'}")

    _step(5, n, "export grades")
    csv_path = course.export(course.root.parent / "grades.csv")
    print(f"      {csv_path}")

    _step(6, n, "grade table")
    scores = {chapter: course.scores(chapter) for chapter in names}
    print()
    print(format_table(scores, manifest))
    print(f"\nDone in {time.perf_counter() - started:.0f} s. Feedback: {course.root / 'feedback'}")
    return scores


def expected_auto(student: str, score, manifest_entry: dict) -> float:
    """The autograded points a sample must earn: full, zero, or the partial sample's declared points."""
    return {"complete": score.auto_max, "blank": 0.0}.get(student, manifest_entry["expected_points"])


def format_table(scores: dict, manifest: dict) -> str:
    """The grade table: autograded points / autograded maximum, student × chapter."""
    names = list(scores)
    width = max(12, *(len(c) + 2 for c in names))
    lines = [
        "autograded points / max (written answers are graded by hand in the formgrader)",
        f"{'student':<10}" + "".join(f"{c:>{width}}" for c in names) + f"{'total':>12}{'expected':>12}",
    ]
    for student in STUDENTS:
        row, got, top = [], 0.0, 0.0
        expected = 0.0
        for chapter in names:
            score = scores[chapter][student]
            row.append(f"{score.auto:g} / {score.auto_max:g}")
            got += score.auto
            top += score.auto_max
            expected += expected_auto(student, score, manifest[chapter])
        verdict = "ok" if abs(got - expected) < 1e-9 else "MISMATCH"
        lines.append(
            f"{student:<10}" + "".join(f"{r:>{width}}" for r in row)
            + f"{f'{got:g} / {top:g}':>12}{f'{expected:g} {verdict}':>12}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapters to include (default: all)")
    parser.add_argument("--root", default=None, help="course directory (default: build/demo/course)")
    args = parser.parse_args(argv)
    repo = repo_root()
    root = Path(args.root) if args.root else repo / "build" / "demo" / "course"
    scores = run_demo(root, repo, args.chapters or None)
    manifest = samples.partial_manifest(repo)
    for chapter, by_student in scores.items():
        for student in STUDENTS:
            want = expected_auto(student, by_student[student], manifest[chapter])
            if abs(by_student[student].auto - want) > 1e-9:
                print(f"error: {student} scored {by_student[student].auto:g} on {chapter}; "
                      f"expected {want:g}", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
