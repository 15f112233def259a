"""Every chapter, finished and run, renders cleanly in JupyterLab.

For each chapter, the release with every exercise answered (what a student has at the end) is
executed headless in full mode, then opened in JupyterLab in Chromium, and the *rendered* page
is checked, not the JSON:

- no error or stderr output is shown;
- every image has loaded (no broken images) and each figure output is an image;
- every piece of LaTeX in the markdown is typeset by MathJax (one ``mjx-container`` per formula,
  no ``mjx-merror``) and no ``$`` or ``\\command`` is left as raw text;
- every figure has a title and labelled axes (and colorbars a label): while executing, the
  kernel reports each figure it displays as its text/plain form (a ``_repr_pretty_`` put on
  matplotlib's Figure), since a label is only pixels once rendered.

A screenshot of each chapter's opening and of its first figure lands in build/browser/.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from rnn_course import samples
from rnn_course.course import execute_notebook
from tests.browser import jlab
from tests.browser.conftest import ARTEFACTS, Lab
from tests.conftest import CHAPTERS

MARK = "RNN-COURSE-FIGURE "
# Run first in each kernel: every Figure the notebook displays also reports, as its text/plain
# form, its titles and labels.
AUDIT = f'''
import json as _json
from matplotlib.figure import Figure as _Figure

def _rnn_course_figure_audit(fig, printer, cycle):
    def shared(group, ax, label):  # panels sharing an axis (sharex/sharey) label it once
        return any(getattr(other, label)() for other in group.get_siblings(ax))

    axes = [{{"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
              "xlabel_shared": shared(ax.get_shared_x_axes(), ax, "get_xlabel"),
              "ylabel_shared": shared(ax.get_shared_y_axes(), ax, "get_ylabel"),
              "axis_on": bool(ax.axison), "colorbar": getattr(ax, "_colorbar", None) is not None}}
            for ax in fig.axes if ax.get_visible()]
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    printer.text("{MARK}" + _json.dumps({{"suptitle": suptitle, "axes": axes}}))

# A method, not a registered printer: matplotlib's inline backend drops the printers registered
# for Figure whenever it configures itself.
_Figure._repr_pretty_ = _rnn_course_figure_audit
'''
# Inline math $...$, display math $$...$$ and \begin{...}...\end{...} outside code.
MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+?\$|\\begin\{(\w+\*?)\}.+?\\end\{\1\}", re.S)
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)
# Chapters that display no figure (the test fails if another one stops drawing its figures).
WITHOUT_FIGURES = {"00_setup", "03_sequence_loss"}


def formulas(markdown: str) -> int:
    return len(MATH.findall(CODE.sub("", markdown)))


def execute(path, allow_errors: bool = False):
    """Execute a notebook in full mode after the figure audit; save and return it without the audit cell."""
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(AUDIT))
    nbformat.write(notebook, str(path))
    notebook, _ = execute_notebook(path, fast=False, allow_errors=allow_errors)
    notebook.cells.pop(0)
    nbformat.write(notebook, str(path))
    return notebook


def figures(notebook) -> list[tuple[int, dict]]:
    """(cell index, audit) of every figure the notebook displayed."""
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "")
            if text.startswith(MARK):
                found.append((index, json.loads(text[len(MARK):])))
    return found


def unlabelled(audit: dict) -> list[str]:
    """What a figure lacks: a title, axis labels, colorbar labels (axes turned off are exempt)."""
    missing = []
    main = [a for a in audit["axes"] if a["axis_on"] and not a["colorbar"]]
    if not audit["suptitle"] and not all(a["title"] for a in main):
        missing.append("a title (suptitle, or one per axes)")
    for k, a in enumerate(main):
        for axis in "xy":
            if not (a[f"{axis}label"] or a[f"{axis}label_shared"]):
                missing.append(f"the {axis}-axis label of axes {k} ({a['title'] or 'untitled'})")
    for a in audit["axes"]:
        if a["colorbar"] and not (a["xlabel"] or a["ylabel"]):
            missing.append("a colorbar label")
    return missing


@pytest.fixture(scope="module")
def finished(tmp_path_factory, repo):
    """A folder with each chapter's release, every exercise answered, executed in full mode."""
    root = tmp_path_factory.mktemp("finished")
    for chapter in CHAPTERS:
        release = nbformat.read(str(repo / "notebooks" / chapter / f"{chapter}.ipynb"), as_version=4)
        solution = nbformat.read(str(repo / "solutions" / chapter / f"{chapter}.ipynb"), as_version=4)
        path = root / "notebooks" / chapter / f"{chapter}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(samples.fill(release, solution), str(path))
    (root / "nbgrader_config.py").write_text((repo / "nbgrader_config.py").read_text())
    return root


@pytest.fixture(scope="module")
def lab(finished, tmp_path_factory):
    server = Lab(finished, finished, tmp_path_factory.mktemp("lab"), ARTEFACTS / "render-jupyterlab.log")
    yield server
    server.stop()


@pytest.fixture
def fresh_kernels(lab):
    """Each chapter's kernel is shut down after its test (12 TensorFlow kernels would pile up)."""
    yield
    lab.shutdown_kernels()


def problems(page, notebook) -> list[str]:
    """Everything wrong with how an executed notebook, open in JupyterLab, renders."""
    found = []
    audits = figures(notebook)
    for index, audit in audits:
        for missing in unlabelled(audit):
            found.append(f"cell {index}: a figure lacks {missing}")
    cells = page.locator(jlab.CELLS)

    # Outputs: no error, every image loaded, each displayed figure shown as an image.
    shown = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    for text in shown.all_inner_texts():
        found.append(f"an error or stderr output is shown: {text[:300]!r}")
    for image in jlab.loaded_images(cells.locator("img")):
        if not (image["complete"] and image["width"] > 0):
            found.append(f"a broken image: {image}")
    for index, _ in audits:
        if not jlab.outputs(page, index).locator("img").count():
            found.append(f"cell {index}: the figure is not rendered as an image")

    # LaTeX: every formula typeset, none in error, no raw TeX left in the text.
    markdown = [(i, formulas(c.source)) for i, c in enumerate(notebook.cells) if c.cell_type == "markdown"]
    # Wait until MathJax has typeset them all, or the count has stood still for 3 s.
    page.wait_for_function(
        """([selector, n]) => {
            const count = document.querySelectorAll(selector + ' mjx-container').length;
            const now = performance.now();
            const seen = window.__typeset || (window.__typeset = {count: -1, since: now});
            if (count !== seen.count) { seen.count = count; seen.since = now; }
            return count >= n || now - seen.since > 3000;
        }""",
        arg=[jlab.CELLS, sum(n for _, n in markdown)], timeout=60_000,
    )
    for index, expected in markdown:
        rendered = cells.nth(index).locator(".jp-MarkdownOutput")
        typeset = rendered.locator("mjx-container").count()
        if typeset != expected:
            found.append(f"markdown cell {index}: {expected} formulas in its source, {typeset} typeset")
        for error in rendered.locator("mjx-merror").all_inner_texts():
            found.append(f"markdown cell {index}: MathJax error {error!r}")
        text = rendered.evaluate(
            """node => { const copy = node.cloneNode(true);
                copy.querySelectorAll('mjx-container, code, pre, script').forEach(e => e.remove());
                return copy.textContent; }"""
        )
        raw = re.findall(r"\$|\\[A-Za-z]{2,}", text)
        if raw:
            found.append(f"markdown cell {index} shows raw TeX {raw[:5]}")
    return found


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_renders_cleanly(chapter, finished, lab, fresh_kernels, page, shots):
    notebook = execute(finished / "notebooks" / chapter / f"{chapter}.ipynb")
    jlab.open_notebook(page, lab, f"notebooks/{chapter}/{chapter}.ipynb", cells=len(notebook.cells))
    shots(page, "opened")
    found = problems(page, notebook)
    assert not found, f"{chapter} does not render cleanly:\n" + "\n".join(found)
    audits = figures(notebook)
    assert audits or chapter in WITHOUT_FIGURES, f"{chapter} displayed no figure; the audit saw none"
    if audits:
        first = jlab.outputs(page, audits[0][0]).locator("img").first
        first.scroll_into_view_if_needed()
        shots(first, "first-figure")


BROKEN = [
    ("markdown", "# A page with every defect\n\nA TeX error: $x^2^3$ (a double exponent)."),
    ("markdown", "\\alpha outside any formula, and ![a missing picture](missing.png)"),
    ("markdown", "An unclosed brace, $\\frac{a$, so the formula is never typeset."),
    ("code", "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3]);"),
    ("code", "raise ValueError('a cell that fails')"),
]


def test_render_checks_catch_a_broken_notebook(finished, lab, fresh_kernels, page, shots):
    """The checks above can fail: a notebook with each defect gets each one reported."""
    path = finished / "broken" / "broken.ipynb"
    path.parent.mkdir(exist_ok=True)
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}})
    notebook.cells = [nbformat.v4.new_markdown_cell(text) if kind == "markdown" else nbformat.v4.new_code_cell(text)
                      for kind, text in BROKEN]
    nbformat.write(notebook, str(path))
    notebook = execute(path, allow_errors=True)
    jlab.open_notebook(page, lab, "broken/broken.ipynb", cells=len(notebook.cells))
    shots(page, "opened")
    found = "\n".join(problems(page, notebook))
    for defect in ("a figure lacks a title", "a figure lacks the x-axis label", "a figure lacks the y-axis label",
                   "an error or stderr output is shown", "a broken image", "MathJax error", "formulas in its source",
                   "shows raw TeX"):
        assert defect in found, f"the render checks missed {defect!r}; they found:\n{found}"
