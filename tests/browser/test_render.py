"""Every chapter, finished and run, renders cleanly in JupyterLab.

For each chapter, the release with every exercise answered (what a student has at the end) is
executed headless in full mode, then opened in JupyterLab in Chromium, and the *rendered* page
is checked, not the JSON:

- no error or stderr output is shown;
- every image has loaded (no broken images) and each figure output is an image;
- every piece of LaTeX in the markdown is typeset by MathJax (one ``mjx-container`` per formula,
  no ``mjx-merror``) and no ``$`` or ``\\command`` is left as raw text;
- every figure has a title and labelled axes (and colorbars a label): while executing, the
  kernel reports each figure it displays (a text/plain printer for matplotlib's Figure), since
  a label is pixels once rendered.

A screenshot of each chapter's opening and of its first figure lands in build/browser/.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from rnn_course import samples
from rnn_course.course import kernel_env
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


def formulas(markdown: str) -> int:
    return len(MATH.findall(CODE.sub("", markdown)))


def execute(path):
    """Execute a notebook in full mode after the figure audit; return it without the audit cell."""
    from nbclient import NotebookClient

    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(AUDIT))
    env = kernel_env()
    env.pop("RNN_COURSE_FAST", None)
    env.pop("NBGRADER_EXECUTION", None)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)
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
                missing.append(f"a {axis} label on axes {k} ({a['title'] or 'untitled'})")
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
    """Each chapter's kernel is shut down after its test (11 TensorFlow kernels would pile up)."""
    yield
    lab.shutdown_kernels()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_renders_cleanly(chapter, finished, lab, fresh_kernels, page, shots):
    path = finished / "notebooks" / chapter / f"{chapter}.ipynb"
    notebook = execute(path)
    audits = figures(notebook)
    for index, audit in audits:
        missing = unlabelled(audit)
        assert not missing, f"{chapter} cell {index}: a figure lacks {', '.join(missing)}: {audit}"

    jlab.open_notebook(page, lab, f"notebooks/{chapter}/{chapter}.ipynb", cells=len(notebook.cells))
    shots(page, "opened")
    cells = page.locator(jlab.CELLS)

    # Outputs: no error, every image loaded, one image per displayed figure.
    shown = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert shown.count() == 0, f"{chapter} shows an error or stderr output:\n{shown.first.inner_text()[:800]}"
    images = jlab.loaded_images(cells.locator("img"))
    broken = [i for i in images if not (i["complete"] and i["width"] > 0)]
    assert not broken, f"{chapter}: broken images {broken}"
    for index, _ in audits:
        assert jlab.outputs(page, index).locator("img").count() >= 1, (
            f"{chapter} cell {index}: the figure's output is not rendered as an image"
        )

    # LaTeX: every formula typeset, none in error, no raw TeX left in the text.
    markdown = [(i, formulas(c.source)) for i, c in enumerate(notebook.cells) if c.cell_type == "markdown"]
    page.wait_for_function(
        "([selector, n]) => document.querySelectorAll(selector + ' mjx-container').length >= n",
        arg=[jlab.CELLS, sum(n for _, n in markdown)], timeout=60_000,
    )
    for index, expected in markdown:
        rendered = cells.nth(index).locator(".jp-MarkdownOutput")
        typeset = rendered.locator("mjx-container").count()
        assert typeset == expected, (
            f"{chapter} markdown cell {index}: {expected} formulas in its source, {typeset} typeset:\n"
            f"{notebook.cells[index].source[:600]}"
        )
        errors = rendered.locator("mjx-merror").all_inner_texts()
        assert not errors, f"{chapter} markdown cell {index}: MathJax errors {errors[:5]}"
        text = rendered.evaluate(
            """node => { const copy = node.cloneNode(true);
                copy.querySelectorAll('mjx-container, code, pre, script').forEach(e => e.remove());
                return copy.textContent; }"""
        )
        raw = re.findall(r"\$|\\[A-Za-z]{2,}", text)
        assert not raw, f"{chapter} markdown cell {index} shows raw TeX {raw[:5]}: {text[:300]!r}"

    if audits:
        first = jlab.outputs(page, audits[0][0]).locator("img").first
        first.scroll_into_view_if_needed()
        shots(first, "first-figure")
