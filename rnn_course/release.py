"""Regenerate the student release ``notebooks/`` from ``solutions/`` with nbgrader.

``python -m rnn_course.release`` (or ``make release``): for every chapter, check that the
solution passes its own tests (``nbgrader validate``), generate the release
(``nbgrader generate_assignment``) in a scratch course directory, check that the release fails
its tests (``nbgrader validate --invert``), and copy it into ``notebooks/``. Chapters that no
longer have a source are removed from ``notebooks/``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rnn_course.course import Course, chapters, publish_release, repo_root


def release(repo: Path | None = None, only: list[str] | None = None, check: bool = True) -> list[str]:
    """Regenerate notebooks/ for the given chapters (default: all); return their names."""
    repo = repo or repo_root()
    names = only or chapters(repo)
    unknown = sorted(set(names) - set(chapters(repo)))
    if unknown:
        raise ValueError(f"only must name chapters in solutions/ {chapters(repo)}; received: {unknown}")
    with tempfile.TemporaryDirectory(prefix="rnn-course-release-") as scratch:
        course = Course.create(Path(scratch) / "course", repo)
        for i, chapter in enumerate(names, 1):
            start = time.perf_counter()
            print(f"[{i}/{len(names)}] {chapter}: ", end="", flush=True)
            if check:
                result = course.validate(course.source(chapter))
                if not result.passed:
                    raise RuntimeError(f"the solution of {chapter} fails its tests:\n{result.output}")
                print("solution passes, ", end="", flush=True)
            course.generate(chapter)
            if check:
                result = course.validate(course.release(chapter), invert=True)
                if not result.passed:
                    raise RuntimeError(
                        f"the release of {chapter} passes some tests before any answer is written:\n"
                        f"{result.output}"
                    )
                print("release fails as it should, ", end="", flush=True)
            publish_release(course, chapter, repo)
            print(f"written to notebooks/{chapter}/ ({time.perf_counter() - start:.0f} s)")
    if only is None:
        for stale in sorted((repo / "notebooks").glob("[0-9][0-9]_*")):
            if stale.is_dir() and stale.name not in names:
                shutil.rmtree(stale)
                print(f"removed notebooks/{stale.name}/ (no source in solutions/)")
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapters to release (default: all)")
    parser.add_argument("--no-check", action="store_true", help="skip nbgrader validate")
    args = parser.parse_args(argv)
    release(only=args.chapters or None, check=not args.no_check)
    return 0


if __name__ == "__main__":
    sys.exit(main())
