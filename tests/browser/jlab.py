"""What a user does in JupyterLab, as Playwright steps: open a notebook, type into a cell, run.

Cells are found by their position in the notebook (the tests read the same .ipynb from disk),
so ``cell(page, i)`` is ``notebook.cells[i]``. The tests run JupyterLab without windowing
(conftest.LAB_SETTINGS), so every cell is in the page.
"""

from __future__ import annotations

import re

CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Notebook-cell"
PROMPT_DONE = re.compile(r"^\[\d+\]:$")


def cell(page, index: int):
    return page.locator(CELLS).nth(index)


def open_notebook(page, lab, path: str, cells: int) -> None:
    """Open ``path`` (under the server's root) and wait for its ``cells`` cells and an idle kernel."""
    page.goto(lab.url(f"lab/tree/{path}?reset"))  # ?reset: no tabs restored from an earlier visit
    page.wait_for_function(
        "([selector, n]) => document.querySelectorAll(selector).length === n", arg=[CELLS, cells],
    )
    wait_idle(page)


def wait_idle(page, timeout_ms: int = 90_000) -> None:
    """Wait until the notebook's kernel is started and idle (the toolbar's status circle)."""
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout_ms)


def source(page, index: int) -> str:
    """The text in a cell's editor (CodeMirror's document, as the notebook model holds it)."""
    return page.evaluate(
        "([selector, i]) => document.querySelectorAll(selector)[i]"
        ".querySelector('.cm-content').cmView.view.state.doc.toString()",
        [CELLS, index],
    )


def type_into(page, index: int, text: str) -> None:
    """Replace a code cell's text: click into its editor, select all, type ``text``.

    The text goes in as one input event (as a paste or an input method would), so the editor's
    auto-indent and bracket closing leave it as written.
    """
    editor = cell(page, index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)
    got = source(page, index)
    if got.rstrip("\n") != text.rstrip("\n"):
        raise AssertionError(f"cell {index} holds different text after typing:\n{got}")
    page.keyboard.press("Escape")  # back to command mode


def write_markdown(page, index: int, text: str) -> None:
    """Edit a markdown cell (double-click), replace its text, render it (Shift+Enter)."""
    target = cell(page, index)
    target.scroll_into_view_if_needed()
    target.locator(".jp-MarkdownOutput").dblclick()
    editor = target.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)
    page.keyboard.press("Shift+Enter")
    rendered = target.locator(".jp-MarkdownOutput")
    rendered.wait_for()
    if " ".join(rendered.inner_text().split()) != " ".join(text.replace("*", "").split()):
        raise AssertionError(f"markdown cell {index} renders {rendered.inner_text()!r}")


def menu(page, *path: str) -> None:
    """Click through the menu bar: ``menu(page, "Run", "Run All Cells")``."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(path[0])}$")).click()
    for label in path[1:]:
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).last.click()


def prompt(page, index: int) -> str:
    return cell(page, index).locator(".jp-InputArea-prompt").inner_text().strip()


def wait_executed(page, indices, timeout_ms: int = 120_000) -> None:
    """Wait until each code cell of ``indices`` shows an execution count ``[n]:`` and the kernel is idle."""
    page.wait_for_function(
        """([selector, indices]) => {
            const cells = document.querySelectorAll(selector);
            return indices.every(i => /^\\[\\d+\\]:$/.test(
                cells[i].querySelector('.jp-InputArea-prompt').textContent.trim()));
        }""",
        arg=[CELLS, list(indices)], timeout=timeout_ms,
    )
    wait_idle(page)


def outputs(page, index: int):
    return cell(page, index).locator(".jp-OutputArea-output")


def output_text(page, index: int) -> str:
    return "\n".join(outputs(page, index).all_inner_texts())


def errors(page, index: int) -> int:
    """How many error or stderr outputs a cell shows."""
    return cell(page, index).locator("[data-mime-type='application/vnd.jupyter.stderr']").count()


def loaded_images(locator) -> list[dict]:
    """Every <img> under ``locator``: its natural size once loaded (0 x 0 when broken)."""
    return locator.evaluate_all(
        "imgs => imgs.map(i => ({src: i.src.slice(0, 40), complete: i.complete,"
        " width: i.naturalWidth, height: i.naturalHeight}))"
    )
