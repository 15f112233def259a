"""Feedback pages through real nbgrader: no submission script, hidden tests hidden until revealed.

One scratch course, chapter 00_setup, two students graded by ``nbgrader autograde``: ``complete``
(the sample solution: its page is the clean baseline) and ``mallory``, whose one_hot passes the
visible test and fails the hidden ones, and who added a markdown cell with a script, a cell
whose outputs are HTML with a script and JavaScript, and a matplotlib figure.
"""

from __future__ import annotations

import html.parser

import nbformat
import pytest

from rnn_course import cli, samples
from rnn_course.course import Course
from rnn_course.grading import pages
from tests.unit.test_pages import _leaks

pytestmark = pytest.mark.notebook

CHAPTER = "00_setup"
HIDDEN_ONLY = ["default_rng(7)", "keras.ops.one_hot(ids, V)"]  # lines of test_one_hot's hidden block
MESSAGE = "must have shape (N, T, V) = (3, 7, 11); received (3, 7, 4)"


@pytest.fixture(scope="module")
def graded(tmp_path_factory, repo):
    course = Course.create(tmp_path_factory.mktemp("pages") / "course", repo)
    course.generate(CHAPTER)
    release = nbformat.read(str(course.release(CHAPTER)), as_version=4)
    solution = nbformat.read(str(course.source(CHAPTER)), as_version=4)
    course.submit("complete", CHAPTER, samples.fill(release, solution))
    nb = samples.mutate(samples.fill(release, solution), "one_hot",
                        "return np.eye(vocab_size)[ids]", "return np.eye(vocab_size)[ids][..., :4]")
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(
        "My notes <script>alert('pwn1')</script> <img src=x onerror=\"alert('pwn2')\">"))
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "from IPython.display import HTML, Javascript, display\n"
        "import matplotlib.pyplot as plt\n"
        "display(HTML(\"<b>bold</b><script>alert('pwn30')</script>\"))\n"
        "display(Javascript(\"alert('pwn33')\"))\n"
        "plt.plot([1, 2, 3]); plt.show()"))
    course.submit("mallory", CHAPTER, nb)
    course.autograde(CHAPTER)
    return course


def _text(page: str) -> str:
    """The page's text as a reader sees it (highlighted code is split into spans)."""
    parts = []
    parser = html.parser.HTMLParser(convert_charrefs=True)
    parser.handle_data = parts.append
    parser.feed(page)
    return "".join(parts)


def _outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    return [o for cell in nb.cells for o in cell.get("outputs", []) if "data" in o]


def test_feedback_has_no_submission_script_and_no_hidden_tests(graded):
    graded.generate_feedback(CHAPTER)
    page = graded.feedback("mallory", CHAPTER).read_text()
    baseline = graded.feedback("complete", CHAPTER).read_text()
    assert _leaks(page, baseline) == []
    assert pages.UNSAFE_NOTE.strip("*") in page and "data:image/png;base64," in page
    text = _text(page)
    for line in HIDDEN_ONLY:
        assert line not in text
    assert pages.HIDDEN_NOTE in text and pages.TRACEBACK_NOTE in text
    assert MESSAGE in text, "the failed check's message reaches the student"


def test_reveal_switch_shows_hidden_tests(graded):
    assert cli.main(["--course", str(graded.root), "feedback", "--chapter", CHAPTER,
                     "--reveal-hidden-tests"]) == 0
    page = graded.feedback("mallory", CHAPTER).read_text()
    text = _text(page)
    for line in HIDDEN_ONLY:
        assert line in text
    assert pages.HIDDEN_NOTE not in text and MESSAGE in text
    assert _leaks(page, graded.feedback("complete", CHAPTER).read_text()) == []


def test_sanitised_autograded_notebook_keeps_figures(graded):
    """What the grader writes to autograded/ (the formgrader's page): scripts gone, figure kept."""
    path = graded.root / "autograded" / "mallory" / CHAPTER / f"{CHAPTER}.ipynb"
    before = _outputs(path)
    assert any("application/javascript" in o.data for o in before)
    nbformat.write(pages.sanitize_notebook(nbformat.read(str(path), as_version=4)), str(path))
    after = _outputs(path)
    assert not any(set(o.data) - {"text/plain", "image/png", "image/jpeg", "text/html"} for o in after)
    assert [o.data["image/png"] for o in after if "image/png" in o.data] == \
        [o.data["image/png"] for o in before if "image/png" in o.data] != []
    graded.generate_feedback(CHAPTER)  # nbgrader still reads it
    assert MESSAGE in _text(graded.feedback("mallory", CHAPTER).read_text())
