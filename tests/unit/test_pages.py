"""rnn_course.grading.pages: graded notebooks that are safe to render, feedback without hidden tests.

Every attack carries a unique marker (``pwn7``); a page is safe when no marker reaches a script,
a style sheet or an attribute, and the page has the same scripts, frames and event handlers as
the page of the same notebook without the attacks (the template's own MathJax set-up).
"""

from __future__ import annotations

import base64
import collections
import copy
import html.parser
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from rnn_course.grading import pages
from rnn_course.grading.pages import HIDDEN_NOTE, TRACEBACK_NOTE

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(64))).decode()
TABLE = "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"

MARKDOWN_ATTACKS = [
    '<script>alert("pwn1")</script>',
    "<img src=x onerror=\"alert('pwn2')\">",
    "<a href=\"javascript:alert('pwn3')\">click</a>",
    "[click](javascript:alert('pwn4'))",
    "<iframe src=\"javascript:alert('pwn5')\"></iframe>",
    "<svg onload=\"alert('pwn6')\"><circle r=1 /></svg>",
    "</div></div></div><style>body { background: url(pwn7) }</style>",
    "<details open ontoggle=\"alert('pwn8')\">x</details>",
    "![x](javascript:alert('pwn9'))",
    "<a href=\"&#106;avascript:alert('pwn10')\">x</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('pwn11')>",
    "<object data=\"javascript:alert('pwn12')\"></object>",
    "<form action=\"javascript:alert('pwn13')\"><button>x</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert('pwn14')\">",
    "[x](data:text/html,pwn15)",
    "<p style=\"position:fixed;top:0;background:url(pwn16)\">x</p>",
    '<base href="https://example.org/pwn17/">',
    "<!--><script>alert('pwn18')</script>-->",
    "[x](https://example.org \"a\\\" onmouseover=\\\"alert('pwn19')\")",
    "Text, then a raw block:\n\n<div onclick=\"alert('pwn20')\">\n\n*markdown* inside\n\n</div>",
    "![x](attachment:a.svg)",
]
SVG = "<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('pwn21')\"><script>alert('pwn21')</script></svg>"


def _display(data, metadata=None, kind="display_data"):
    extra = {"execution_count": 3} if kind == "execute_result" else {}
    return new_output(kind, data=data, metadata=metadata or {}, **extra)


def _notebook(attacks: bool, markdown: bool = True) -> nbformat.NotebookNode:
    """A graded-looking notebook; with ``attacks``, every attack below is in it (markdown ones too)."""
    nb = new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(new_markdown_cell("# Chapter\n\nMaths $h_t = \\tanh(a_t)$, $0 < x$, `a < b & c`."))
    answer = new_markdown_cell("My answer: **shared** weights, H<sub>t</sub>.")
    answer.metadata.nbgrader = {"grade": True, "solution": True, "grade_id": "q_answer", "points": 1,
                                "schema_version": 3, "locked": False}
    nb.cells.append(answer)
    plot = new_code_cell("plt.plot([1, 2])", execution_count=1)
    plot.outputs = [_display({"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"},
                             {"image/png": {"width": 320, "height": 240}}),
                    _display({"text/html": TABLE, "text/plain": "   a\n0  1"}, kind="execute_result"),
                    new_output("stream", name="stdout", text="loss 0.1 < 0.2\n")]
    nb.cells.append(plot)
    if not attacks:
        return nb
    for attack in MARKDOWN_ATTACKS if markdown else []:
        cell = new_markdown_cell(attack)
        if "attachment:" in attack:
            cell.attachments = {"a.svg": {"image/svg+xml": base64.b64encode(SVG.encode()).decode()}}
        nb.cells.append(cell)
    code = new_code_cell("display(...)", execution_count=2)
    code.outputs = [
        _display({"text/html": "<b>ok</b><script>alert('pwn30')</script>", "text/plain": "<HTML>"}),
        _display({"text/html": "<img src=x onerror=alert('pwn31')>"}),
        _display({"text/html": "<b>pwn32</b>"}, {"text/html": {"isolated": True}}),
        _display({"application/javascript": "alert('pwn33')", "text/plain": "<Javascript>"}),
        _display({"text/markdown": "<script>alert('pwn34')</script>", "text/plain": "md"}),
        _display({"text/markdown": "[x](javascript:alert('pwn35'))", "text/plain": "md"}),
        _display({"image/svg+xml": SVG, "text/plain": "<svg>"}),
        _display({"application/vnd.jupyter.widget-view+json": {"model_id": "pwn36", "version_major": 2,
                                                                "version_minor": 0},
                  "text/plain": "IntSlider(value=0)"}),
        _display({"text/latex": "$\\href{javascript:alert('pwn37')}{x}$", "text/plain": "x"}),
        _display({"image/png": PNG, "text/plain": "fig"},
                 {"filenames": {"image/png": "javascript:alert('pwn38')"}, "width": "1 onload=alert('pwn38')"}),
        new_output("stream", name="stdout", text="<script>alert('pwn39')</script>\n"),
        new_output("error", ename="ValueError", evalue="<script>alert('pwn40')</script>",
                   traceback=["\x1b[31mValueError\x1b[39m: <script>alert('pwn40')</script>"]),
    ]
    code.metadata = {"magics_language": "pwn41", "tags": ["x\" onmouseover=\"alert('pwn42')"]}
    nb.cells.append(code)
    fake = new_markdown_cell("a fake grade cell")
    fake.metadata.nbgrader = {"grade": True, "solution": True, "points": 1,
                              "grade_id": "x\"><script>alert('pwn43')</script>"}
    nb.cells.append(fake)
    raw = new_raw_cell("<script>alert('pwn44')</script>")
    raw.metadata.raw_mimetype = "text/html"
    nb.cells.append(raw)
    nb.metadata.widgets = {"application/vnd.jupyter.widget-state+json": {"state": {"pwn45": {}}}}
    nb.metadata.title = "</title><script>alert('pwn46')</script>"
    return nb


MARKERS = [f"pwn{i}" for i in range(1, 47)]


class _Page(html.parser.HTMLParser):
    """What a browser could run in a page: scripts, style sheets, handlers, URLs, frame tags."""

    WATCHED = {"script", "style", "iframe", "object", "embed", "base", "form", "meta", "link", "svg",
               "math", "frame"}
    ACTIVE = {"href", "src", "action", "data", "formaction", "style", "srcdoc", "content"}

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags = collections.Counter()
        self.handlers, self.code = [], []
        self._in = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag in self.WATCHED:
            self.tags[tag] += 1
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") or name == "srcdoc" or (
                    name in self.ACTIVE and "".join(value.split()).lower().startswith(
                        ("javascript:", "vbscript:", "data:text"))):
                self.handlers.append(f"<{tag} {name}={value}>")
            if name in self.ACTIVE:
                self.code.append(value)
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.code.append(data)


def _leaks(page: str, baseline: str) -> list[str]:
    """Scripts, frames or handlers the clean page does not have; markers in scripts, styles, URLs."""
    seen, clean = _Page(page), _Page(baseline)
    leaks = [f"{tag}: {count} (clean page: {clean.tags[tag]})" for tag, count in seen.tags.items()
             if count != clean.tags[tag]]
    leaks += [h for h in seen.handlers if h not in clean.handlers]
    code = "\n".join(seen.code)
    return leaks + [m for m in MARKERS if any(f"{m}{end}" in code for end in "')\"/}")]


def _render(nb) -> str:
    """The page nbgrader's generate_feedback makes (its 'feedback' template), without the gradebook."""
    import nbgrader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    formgrader = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [os.path.join(formgrader, "templates")]
    config.HTMLExporter.extra_template_paths = [
        os.path.join(formgrader, "static", "node_modules", "bootstrap", "dist", "css")]
    nb = copy.deepcopy(nb)
    for cell in nb.cells:  # what nbgrader's GetGrades adds from the gradebook
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.metadata.nbgrader.update(score=0.0, comment=None)
    resources = {"nbgrader": {"notebook": "chapter", "score": 1.0, "max_score": 2.0, "late_penalty": 0}}
    page, _ = HTMLExporter(config=config).from_notebook_node(nb, resources=resources)
    return page


@pytest.fixture(scope="module")
def clean_page():
    return _render(pages.sanitize_notebook(_notebook(attacks=False)))


@pytest.mark.filterwarnings("ignore:No lexer found for language 'pwn41'")
def test_the_page_check_sees_the_attacks(clean_page):
    """Without sanitising, the attacks are live in nbgrader's feedback page (the check can fail)."""
    leaks = "\n".join(_leaks(_render(_notebook(attacks=True)), clean_page))
    for marker in ("pwn1", "pwn2", "pwn3", "pwn4", "pwn5", "pwn6", "pwn7"):
        assert marker in leaks, leaks
    assert "onerror" in leaks and "iframe: 1" in leaks
    # The unclosed <style> of the mXSS attack (pwn11) swallows the rest of that page for
    # Python's parser: check the outputs and metadata in a page of their own.
    leaks = "\n".join(_leaks(_render(_notebook(attacks=True, markdown=False)), clean_page))
    for marker in ("pwn30", "pwn31", "pwn33", "pwn43"):
        assert marker in leaks, leaks


def test_sanitised_page_runs_nothing_from_the_submission(clean_page):
    page = _render(pages.sanitize_notebook(_notebook(attacks=True)))
    assert _leaks(page, clean_page) == []
    assert "<iframe" not in page and "isolated-iframe" not in page
    assert "widget-state" not in page and "pwn45" not in page


def test_figures_tables_text_and_maths_are_kept():
    nb = _notebook(attacks=False)
    out = pages.sanitize_notebook(nb)
    assert [c.source for c in out.cells] == [c.source for c in nb.cells]
    assert out.cells[1].metadata.nbgrader == nb.cells[1].metadata.nbgrader
    figure, table, stream = out.cells[2].outputs
    assert figure.data == {"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"}
    assert figure.metadata == {"image/png": {"width": 320, "height": 240}}
    assert table.data["text/html"] == TABLE and table.execution_count == 3
    assert stream.text == "loss 0.1 < 0.2\n"
    page = _render(out)
    assert f"data:image/png;base64,{PNG}" in page and TABLE in page
    nbformat.validate(out)


@pytest.mark.parametrize("attack", MARKDOWN_ATTACKS)
def test_markdown_attack_is_shown_as_text(attack):
    nb = new_notebook(cells=[new_markdown_cell(attack)])
    if "attachment:" in attack:
        nb.cells[0].attachments = {"a.svg": {"image/svg+xml": base64.b64encode(SVG.encode()).decode()}}
    cell = pages.sanitize_notebook(nb).cells[0]
    fragment = pages.render_markdown(cell.source, cell.get("attachments"))
    assert pages.is_safe_html(fragment) and _leaks(fragment, "") == []
    if "pwn19" in attack:  # mistune escapes the title: safe as written
        assert cell.source == attack
    else:
        assert cell.source.startswith(pages.UNSAFE_NOTE) and attack in cell.source
        assert "attachments" not in cell


def test_ids_and_classes_cannot_take_the_formgraders_score_boxes():
    """The formgrader finds a score box by $("#" + grade_id); a heading's id comes from its text."""
    nb = _notebook(attacks=False)
    nb.cells[2].metadata.nbgrader = {"grade": True, "solution": False, "grade_id": "test_plot", "points": 1}
    sources = ["# test_plot", "# top\n\nx", '<span class="score tabbable">2</span>', "## My results",
               '<span class="k">if</span>']
    nb.cells += [new_markdown_cell(source) for source in sources]
    out = [c.source for c in pages.sanitize_notebook(nb).cells[-5:]]
    assert [source.startswith(pages.UNSAFE_NOTE) for source in out] == [True, True, True, False, False]


def test_outputs_keep_only_safe_types():
    outputs = pages.sanitize_notebook(_notebook(attacks=True)).cells[-3].outputs
    kinds = [sorted(o.get("data", {})) for o in outputs]
    assert kinds == [["text/plain"], ["text/plain"], ["text/html"], ["text/plain"], ["text/plain"],
                     ["text/plain"], ["text/plain"], ["text/plain"], ["text/plain"],
                     ["image/png", "text/plain"], [], []]
    assert outputs[1].data["text/plain"] == "[output removed by the grader: text/html]"
    assert outputs[2].metadata == {}, "no isolated iframe"
    assert outputs[9].metadata == {}, "no file name or bad width"
    assert outputs[10].text == "<script>alert('pwn39')</script>\n", "streams are text: the page escapes them"
    assert outputs[11].evalue == "<script>alert('pwn40')</script>"


def test_metadata_is_limited():
    out = pages.sanitize_notebook(_notebook(attacks=True))
    assert set(out.metadata) == {"kernelspec"}
    assert out.cells[-3].metadata == {"tags": []}
    assert out.cells[-2].metadata == {}, "a grade_id a template would print raw is dropped"
    assert out.cells[-1].cell_type == "raw" and out.cells[-1].metadata == {}


def test_malformed_cells_and_outputs_do_not_break_it():
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1\n", "y"], "execution_count": "1]<b>",
                     "outputs": [{"output_type": "display_data", "data": "nope"},
                                 {"output_type": "update_display_data"}, "junk"], "metadata": []},
                    {"cell_type": "heading", "source": "x"}, "junk"],
          "metadata": {"kernelspec": {"name": "python3", "display_name": {"x": 1}},
                       "language_info": {"name": "python", "version": "3.11", "x": [1]}}}
    out = pages.sanitize_notebook(nb)
    assert [c.cell_type for c in out.cells] == ["code"]
    assert out.cells[0].source == "x = 1\ny" and out.cells[0].execution_count is None
    assert out.cells[0].outputs[0].data == {"text/plain": "[output removed by the grader: empty]"}
    assert "kernelspec" not in out.metadata, "nbformat requires a display_name"
    assert out.metadata.language_info == {"name": "python", "version": "3.11"}
    nbformat.validate(out)


def test_input_is_untouched():
    nb = _notebook(attacks=True)
    before = copy.deepcopy(nb)
    pages.sanitize_notebook(nb)
    pages.hide_hidden_tests(nb)
    assert nb == before


def test_chapters_are_unchanged(repo):
    """Every markdown cell and figure-free cell of the course's own notebooks passes as it is."""
    for path in sorted((repo / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        out = pages.sanitize_notebook(nb)
        assert [c.source for c in out.cells] == [c.source for c in nb.cells], path.name
        assert [c.metadata for c in out.cells] == [c.metadata for c in nb.cells], path.name


# hidden tests -----------------------------------------------------------------------------------
TEST_SOURCE = '''"""f doubles its input."""
assert f(1) == 2, "f(1) must be 2"
### BEGIN HIDDEN TESTS
secret = 21
assert f(secret) == 42, "f(21) must be 42"
### END HIDDEN TESTS
print("f: all tests passed.")'''


def _frame(cell: int, line: int, numbers: range, source: str, where: str = "") -> str:
    """An IPython 9 traceback frame as the kernel sends it (ANSI colours included)."""
    lines = source.split("\n")
    quoted = "".join(
        f"\x1b[32m{'----> ' if n == line else '      '}{n}\x1b[39m {lines[n - 1]}\n" for n in numbers)
    return f"\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[{cell}]\x1b[39m\x1b[32m, line {line}\x1b[39m{where}\n{quoted}"


STUDENT = "def f(x):\n    y = x + x\n    raise ValueError('student bug')"


def _graded(traceback) -> nbformat.NotebookNode:
    answer = new_code_cell(STUDENT, execution_count=1)
    answer.metadata.nbgrader = {"grade": False, "solution": True, "grade_id": "f", "locked": False}
    test = new_code_cell(TEST_SOURCE, execution_count=2)
    test.metadata.nbgrader = {"grade": True, "solution": False, "grade_id": "test_f", "points": 1}
    test.outputs = [new_output("stream", name="stdout", text="checking\n"),
                    new_output("error", ename="AssertionError", evalue="f(21) must be 42", traceback=traceback)]
    return new_notebook(cells=[answer, test])


HEADER = ["\x1b[31m" + "-" * 75 + "\x1b[39m",
          "\x1b[31mAssertionError\x1b[39m                            Traceback (most recent call last)"]
LAST = "\x1b[31mAssertionError\x1b[39m: f(21) must be 42"


def test_hidden_source_becomes_one_comment_line():
    out = pages.hide_hidden_tests(_graded([]))
    assert out.cells[1].source == (
        '"""f doubles its input."""\nassert f(1) == 2, "f(1) must be 2"\n'
        f'{HIDDEN_NOTE}\nprint("f: all tests passed.")')
    assert out.cells[0].source == STUDENT


def test_hidden_block_keeps_indentation_and_runs_to_the_end_without_end_marker():
    cell = new_code_cell("for n in range(3):\n    ### BEGIN HIDDEN TESTS\n    assert n < 3\nprint(1)")
    cell.metadata.nbgrader = {"grade": True, "solution": False, "grade_id": "t", "points": 1}
    assert pages.hide_hidden_tests(new_notebook(cells=[cell])).cells[0].source == \
        f"for n in range(3):\n    {HIDDEN_NOTE}"


def test_student_cells_with_markers_are_left_alone():
    cell = new_code_cell("### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS")
    cell.metadata.nbgrader = {"grade": False, "solution": True, "grade_id": "a", "locked": False}
    assert pages.hide_hidden_tests(new_notebook(cells=[cell])).cells[0].source == cell.source


def test_test_cell_without_nbgrader_metadata_still_hides():
    cell = new_code_cell(TEST_SOURCE)
    assert "secret" not in pages.hide_hidden_tests(new_notebook(cells=[cell])).cells[0].source


def test_traceback_frames_quoting_hidden_lines_are_dropped():
    frame = _frame(2, 5, range(3, 8), TEST_SOURCE)
    out = pages.hide_hidden_tests(_graded(HEADER + [frame, LAST]))
    error = out.cells[1].outputs[1]
    assert error.traceback == HEADER + [TRACEBACK_NOTE, LAST]
    assert error.evalue == "f(21) must be 42" and out.cells[1].outputs[0].text == "checking\n"


def test_frames_of_the_students_code_and_of_visible_lines_are_kept():
    visible = _frame(2, 2, range(1, 3), TEST_SOURCE)
    student = _frame(1, 3, range(1, 4), STUDENT, where=", in \x1b[36mf\x1b[39m\x1b[34m(x)\x1b[39m")
    out = pages.hide_hidden_tests(_graded(HEADER + [visible, student, LAST]))
    assert out.cells[1].outputs[1].traceback == HEADER + [visible, student, LAST]


def test_frames_are_matched_by_content_when_counts_do_not_match():
    """The test cell ran as In[9] (the grader ran other code between cells): its quoted code counts."""
    renumbered = _frame(9, 5, range(4, 6), TEST_SOURCE)
    plain = '  File "/tmp/ipykernel_1/2.py", line 4\n    secret = 21\n'
    out = pages.hide_hidden_tests(_graded(HEADER + [renumbered, plain, LAST]))
    assert out.cells[1].outputs[1].traceback == HEADER + [TRACEBACK_NOTE, LAST]


def test_preprocessors_are_enabled_when_nbgrader_registers_them():
    from nbconvert.exporters import NotebookExporter

    exporter = NotebookExporter()
    exporter.register_preprocessor("rnn_course.grading.pages.SanitizePage")
    exporter.register_preprocessor("rnn_course.grading.pages.HideHiddenTests")
    nb = _graded([])
    nb.cells.append(new_markdown_cell("<script>alert('pwn1')</script>"))
    body, _ = exporter.from_notebook_node(nb)
    assert "secret = 21" not in body and HIDDEN_NOTE in body and pages.UNSAFE_NOTE in body


def test_feedback_options_name_the_preprocessors():
    from rnn_course.course import feedback_options

    hidden, revealed = (next(o for o in feedback_options(reveal_hidden_tests=r) if "preprocessors" in o)
                        for r in (False, True))
    assert hidden.startswith("--GenerateFeedback.preprocessors=") and "HideHiddenTests" in hidden
    assert "HideHiddenTests" not in revealed and "SanitizePage" in revealed and "GetGrades" in revealed
