"""An instructor in JupyterLab's formgrader: the demo's graded class, a hand grade, the export.

The course directory is `make demo`'s loop (``rnn_course.demo.run_demo``) on two chapters:
three sample submissions each (complete, blank, partial), graded by ``rnn-course grade`` into
nbgrader's gradebook. JupyterLab runs on it as ``make lab COURSE=<that directory>`` would.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import pytest

from rnn_course import demo, samples
from rnn_course.course import Course, kernel_env
from tests.browser import jlab

CHAPTERS = ["00_setup", "01_rnn_forward"]
GRADED = "01_rnn_forward"   # the chapter whose written answer gets a hand grade
STUDENT = "complete"


@pytest.fixture(scope="module")
def demo_course(tmp_path_factory, repo) -> Course:
    root = tmp_path_factory.mktemp("demo") / "course"
    demo.run_demo(root, repo, CHAPTERS)
    return Course(root, repo)


def _written_cell(course: Course, chapter: str) -> tuple[str, float]:
    """grade_id and points of the chapter's first written (hand-graded) answer."""
    import nbformat

    source = nbformat.read(str(course.source(chapter)), as_version=4)
    for cell in source.cells:
        meta = samples.nbgrader_meta(cell)
        if cell.cell_type == "markdown" and meta.get("solution") and meta.get("grade"):
            return meta["grade_id"], float(meta["points"])
    raise AssertionError(f"{chapter} has no written answer to grade by hand")


def _scores_in_table(frame) -> dict[str, str]:
    """Formgrader's Manual Grading table (names shown): student -> 'Overall Score' text."""
    rows = frame.locator("table tbody tr")
    rows.first.wait_for()
    table = {}
    for row in rows.all():
        cells = row.locator("td").all_inner_texts()
        table[cells[1].strip()] = cells[2].strip()
    return table


def test_instructor_sees_grades_grades_by_hand_and_exports(demo_course, page, shots, start_lab, tmp_path):
    expected = {chapter: demo_course.scores(chapter) for chapter in CHAPTERS}
    manifest = samples.partial_manifest(demo_course.repo)
    for chapter in CHAPTERS:  # the demo graded its samples as declared
        for student, score in expected[chapter].items():
            assert score.auto == demo.expected_auto(student, score, manifest[chapter]), (student, chapter, score)
    lab = start_lab(demo_course.root)

    # 1. JupyterLab, menu Nbgrader > Formgrader: every chapter, with its number of submissions.
    page.goto(lab.url("lab"))
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Formgrader$")).click()
    frame = page.frame_locator("iframe[src*='formgrader']")
    for chapter in CHAPTERS:
        row = frame.locator("tr", has=frame.locator("td", has_text=re.compile(f"^{chapter}$")))
        row.wait_for()
        assert row.locator("td").nth(8).inner_text().strip() == "3", f"{chapter}: {row.inner_text()}"
    assert "exchange directory" not in frame.locator("body").inner_text(), "the exchange is missing"
    shots(page, "formgrader-assignments")

    # 2. Manual Grading > chapter > notebook: the samples' scores, names shown.
    frame.locator("a", has_text="Manual Grading").first.click()
    frame.locator("a", has_text=re.compile(f"^{GRADED}$")).first.click()
    # The chapter and its notebook share a name: a second click made before the chapter's page
    # has replaced the list (a busy machine) hits the chapter's link again. Click the notebook
    # link until its submissions show, a few times at most.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(4):
        frame.locator("a", has_text=re.compile(f"^{GRADED}$")).first.click()
        try:
            frame.locator("text=Submission #1").wait_for(timeout=30_000)
            break
        except PlaywrightTimeout:
            if attempt == 3:
                raise
    frame.locator("button", has_text="Show All Names").click()
    table = _scores_in_table(frame)
    grade_id, points = _written_cell(demo_course, GRADED)
    for student, score in expected[GRADED].items():
        assert table.get(student) == f"{score.auto:g} / {score.auto_max + points:g}", (
            f"formgrader shows {table}; the gradebook has {student}: {score.auto:g}"
        )
    shots(page, "formgrader-submissions")

    # 3. Open the complete submission: its figures and typeset formulas (MathJax served by the
    #    Jupyter server, not a CDN); grade its written answer by hand.
    frame.locator("a", has_text=re.compile(f"^{STUDENT}$")).click()
    box = frame.locator(f"input.score#{grade_id}")
    box.wait_for()
    figures = jlab.loaded_images(frame.locator(".output_png img"))
    assert figures and all(f["complete"] and f["width"] > 100 for f in figures), (
        f"the graded notebook shows no figure in the formgrader: {figures}"
    )
    frame.locator(".MathJax, .MathJax_CHTML").first.wait_for(timeout=30_000)
    texts = frame.locator(".text_cell_render").all_inner_texts()
    raw = re.findall(r"\$[^$\s][^$]{0,40}\$", "\n".join(texts))
    assert texts and not raw, f"formulas left as raw TeX in the formgrader: {raw[:5]}"
    box.scroll_into_view_if_needed()
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT") as saved:
        box.fill(f"{points:g}")
        box.press("Tab")  # the formgrader saves a grade when the box loses focus
    assert saved.value.ok, f"the formgrader did not save the grade: HTTP {saved.value.status}"
    shots(page, "manual-grade-entered")

    # 4. Back to the list: the hand grade counts.
    frame.locator("a", has_text=re.compile(f"^{GRADED}$")).last.click()
    frame.locator("text=Submission #1").wait_for()
    frame.locator("button", has_text="Show All Names").click()
    auto = expected[GRADED][STUDENT].auto
    full = expected[GRADED][STUDENT].auto_max + points
    assert _scores_in_table(frame)[STUDENT] == f"{auto + points:g} / {full:g}"
    shots(page, "formgrader-after-manual-grade")

    # 5. Export (what the instructor runs next): the CSV has the hand grade in the total.
    csv_path = tmp_path / "grades.csv"
    subprocess.run([sys.executable, "-m", "rnn_course.cli", "--course", str(demo_course.root), "export",
                    str(csv_path)], check=True, env=kernel_env(), capture_output=True)
    rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(csv_path.open())}
    assert float(rows[(GRADED, STUDENT)]["score"]) == auto + points, rows[(GRADED, STUDENT)]
    for student, score in expected[GRADED].items():
        if student != STUDENT:
            assert float(rows[(GRADED, student)]["score"]) == score.auto, rows[(GRADED, student)]
    after = demo_course.scores(GRADED)[STUDENT]
    assert after.manual == points, f"the gradebook has manual={after.manual} for the written answer"
