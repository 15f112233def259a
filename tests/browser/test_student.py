"""A student in JupyterLab: answer chapter 01, run it, get a wrong answer explained, Validate.

The workspace is a copy of the release (``notebooks/01_rnn_forward``) served by JupyterLab as
`make lab` starts it; the answers typed in are the solution's, the wrong one is a mutant of it
(tests/notebooks/mutants) that chapter 01's checks must explain.
"""

from __future__ import annotations

import shutil

import nbformat

from rnn_course import samples
from tests.browser import jlab
from tests.notebooks.mutants import MUTANTS

CHAPTER = "01_rnn_forward"
# A typical slip: the recurrent kernel used transposed (h_prev @ Wh.T).
WRONG = next(m for m in MUTANTS if m.chapter == CHAPTER and m.why == "recurrent kernel transposed")


def _workspace(repo, tmp_path):
    """A student's folder: the release of the chapter and the course's nbgrader_config.py."""
    root = tmp_path / "student"
    shutil.copytree(repo / "notebooks" / CHAPTER, root / "notebooks" / CHAPTER)
    shutil.copy2(repo / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def _indices(notebook):
    """Positions by grade_id of the code answers, written answers and test cells; every code cell."""
    answers, written, tests, code = {}, {}, {}, []
    for i, c in enumerate(notebook.cells):
        meta = samples.nbgrader_meta(c)
        if c.cell_type == "code":
            code.append(i)
        if meta.get("solution"):
            (answers if c.cell_type == "code" else written)[meta["grade_id"]] = i
        elif meta.get("grade") and c.cell_type == "code":
            tests[meta["grade_id"]] = i
    return answers, written, tests, code


def _validate(page) -> str:
    """Press Validate on the notebook toolbar; return the text of the dialog with the verdict."""
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=120_000)
    # Scroll the results to their end, where the failing test's message is (for the screenshot).
    dialog.locator("*").evaluate_all("nodes => nodes.forEach(n => { n.scrollTop = n.scrollHeight; })")
    return dialog.inner_text()


def test_student_answers_runs_sees_diagnostic_and_validates(repo, tmp_path, page, shots, start_lab):
    root = _workspace(repo, tmp_path)
    path = f"notebooks/{CHAPTER}/{CHAPTER}.ipynb"
    release = nbformat.read(str(root / path), as_version=4)
    solution = nbformat.read(str(repo / "solutions" / CHAPTER / f"{CHAPTER}.ipynb"), as_version=4)
    answers, written, tests, code = _indices(release)
    assert answers and written and tests, f"{CHAPTER} lacks code exercises, a written question or tests"
    lab = start_lab(root)

    # 1. Open the chapter: the release, every exercise a stub.
    jlab.open_notebook(page, lab, path, cells=len(release.cells))
    first = min(answers.values())
    assert "YOUR CODE HERE" in jlab.source(page, first), "the release's exercise cell is not a stub"
    shots(page, "chapter-open")

    # 2. Type the correct answer into every exercise cell.
    solved = samples.solution_cells(solution)
    for grade_id, index in answers.items():
        jlab.type_into(page, index, samples.answer_source(solved[grade_id].source))
    # ... and a written answer (markdown: double-click to edit, Shift+Enter to render).
    essay = "The state after *l* must remember whether one *l* or two came before."
    jlab.write_markdown(page, written[min(written, key=written.get)], essay)
    jlab.cell(page, first).scroll_into_view_if_needed()
    shots(page, "answers-typed")

    # 3. Run all cells: every visible test passes and the figure renders.
    jlab.menu(page, "Run", "Run All Cells")
    jlab.wait_executed(page, code)
    for grade_id, index in tests.items():
        text = jlab.output_text(page, index)
        assert jlab.errors(page, index) == 0, f"visible test {grade_id} failed in the browser:\n{text}"
        assert "all tests passed" in text, f"visible test {grade_id} printed no verdict:\n{text}"
    jlab.cell(page, tests[max(tests, key=tests.get)]).scroll_into_view_if_needed()
    shots(page, "visible-tests-pass")
    figures = [i for i in code if jlab.outputs(page, i).locator("img").count()]
    assert figures, "no cell of the chapter shows a figure after Run All"
    figure = jlab.cell(page, figures[-1])
    figure.scroll_into_view_if_needed()
    for image in jlab.loaded_images(figure.locator(".jp-OutputArea-output img")):
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, (
            f"the figure did not render: {image}"
        )
    shots(figure, "figure")

    # 4. A typical wrong answer: re-run the cell and its test; the check says what is wrong.
    index = answers[WRONG.grade_id]
    wrong = samples.mutate(solution, WRONG.grade_id, WRONG.find, WRONG.replace)
    jlab.type_into(page, index, samples.answer_source(samples.solution_cells(wrong)[WRONG.grade_id].source))
    test_index = tests[f"test_{WRONG.grade_id}"]
    jlab.cell(page, index).click()
    page.keyboard.press("Shift+Enter")  # run the answer, move to its test
    page.keyboard.press("Shift+Enter")  # run the test
    jlab.wait_executed(page, [index, test_index])
    message = jlab.output_text(page, test_index)
    assert jlab.errors(page, test_index) == 1, f"the wrong answer passed its visible test:\n{message}"
    assert "CheckFailure" in message and "h_next" in message, (
        f"the failing test shows no diagnostic from rnn_course.checks:\n{message}"
    )
    assert "AssertionError" not in message, f"a bare assert reached the student:\n{message}"
    jlab.cell(page, test_index).scroll_into_view_if_needed()
    shots(page, "wrong-answer-diagnostic")

    # 5. Validate with the wrong answer: nbgrader names the failing test.
    verdict = _validate(page)
    shots(page, "validate-wrong")
    assert "Success" not in verdict and "CheckFailure" in verdict, f"Validate's verdict:\n{verdict}"
    page.locator(".jp-Dialog button", has_text="OK").click()

    # 6. Put the correct answer back and Validate: success.
    jlab.type_into(page, index, samples.answer_source(solved[WRONG.grade_id].source))
    verdict = _validate(page)
    shots(page, "validate-right")
    assert "Success! Your notebook passes all the tests." in verdict, f"Validate's verdict:\n{verdict}"
    page.locator(".jp-Dialog button", has_text="OK").click()
