"""`rnn-course feedback` through real nbgrader: each page carries its MathJax and fetches nothing.

One scratch course, chapter 00_setup, one student (the sample solution, plus a markdown cell of
formulas that MathJax's Safe extension must defuse), graded by ``nbgrader autograde``. The
browser test (``tests/browser/test_feedback_offline.py``) opens the same kind of page offline.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from rnn_course import cli, samples
from rnn_course.course import Course
from rnn_course.grading import mathjax

pytestmark = pytest.mark.notebook

CHAPTER = "00_setup"
STUDENT = "complete"
FORMULA = r"h_t = \tanh(x_t W_x + h_{t-1} W_h + b_h)"  # in the chapter's markdown
# A student's formulas that would run script or restyle the page without Safe.
SAFE_PROBE = (r"My notes: $\href{javascript:alert('pwn51')}{x_t}$ and "
              r"$\style{position:fixed;top:0;width:100%}{\class{pwn52}{W_h}}$.")


def graded_feedback(folder: Path, repo: Path) -> Path:
    """The feedback page ``rnn-course feedback`` makes for one graded sample of 00_setup."""
    course = Course.create(folder / "course", repo)
    course.generate(CHAPTER)
    release = nbformat.read(str(course.release(CHAPTER)), as_version=4)
    solution = nbformat.read(str(course.source(CHAPTER)), as_version=4)
    nb = samples.fill(release, solution)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(SAFE_PROBE))
    course.submit(STUDENT, CHAPTER, nb)
    course.autograde(CHAPTER)
    assert cli.main(["--course", str(course.root), "feedback", "--chapter", CHAPTER]) == 0
    return course.feedback(STUDENT, CHAPTER)


@pytest.fixture(scope="module")
def feedback(tmp_path_factory, repo) -> Path:
    return graded_feedback(tmp_path_factory.mktemp("offline"), repo)


def test_feedback_page_holds_mathjax_and_fetches_nothing(feedback):
    page = feedback.read_text()
    assert page.count(mathjax.html()) == 1, "MathJax is inside the page"
    rest = page.replace(mathjax.html(), "")
    assert not re.search(r"https?://[^\s\"']*mathjax", rest, re.I), "the page names a MathJax URL"
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", rest, re.I), "the page fetches a file"
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, re.I), "the page loads a script file"
    assert FORMULA in rest and "pwn51" in rest, "the formulas reach the page as TeX"
    # The page is the only file: nbgrader's release_feedback and fetch_feedback copy it alone.
    assert sorted(p.name for p in feedback.parent.iterdir() if p.suffix not in (".txt",)) == [feedback.name]
    print(f"feedback page: {len(page.encode()) / 1e6:.2f} MB, of which MathJax "
          f"{mathjax.bundle_sizes()['total'] / 1e6:.2f} MB")
