"""What a class got wrong: per chapter and test cell, who passed and the failures by diagnosis.

``rnn-course report`` reads the grader's own records (``.rnn-course/results/<chapter>/*.json``,
only those whose MAC verifies: an edited record is left out and counted) — never text a
submission printed. Each failed test cell's record carries the *diagnosis* the trusted process
wrote (:func:`rnn_course.grading.verdict.diagnosis`: a check's hint, an assertion's first line or
the type the student's code raised, numbers replaced by ``#``), so the same misconception in two
students' code falls into one group.

Writes ``report.csv`` (one row per chapter, test cell and diagnosis) and ``report.html`` (one bar
chart per test cell, groups sorted by how many students each hit) into the output folder.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import html
import io
from collections import defaultdict
from pathlib import Path

from rnn_course.grading import results

EXAMPLES = 5   # student ids quoted per group


@dataclasses.dataclass
class Cell:
    """One test cell of one chapter, over the class."""

    chapter: str
    cell: str
    graded: int = 0
    passed: int = 0
    groups: dict = dataclasses.field(default_factory=lambda: defaultdict(list))  # diagnosis -> students

    def sorted_groups(self) -> list:
        return sorted(self.groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


@dataclasses.dataclass
class ClassReport:
    cells: list                 # [Cell], by chapter then cell order of first appearance
    students: dict              # chapter -> number of verified records
    unverified: dict            # chapter -> [student] whose record was left out

    def rows(self) -> list:
        """One row per (test cell, diagnosis); a cell nobody failed gets one row with no diagnosis."""
        out = []
        for c in self.cells:
            cell = {"chapter": c.chapter, "cell": c.cell, "graded": c.graded, "passed": c.passed}
            for diagnosis, students in c.sorted_groups() or [("", [])]:
                out.append({**cell, "diagnosis": diagnosis, "students": len(students),
                            "examples": " ".join(sorted(students)[:EXAMPLES])})
        return out


def build(course_root: Path, chapter: str | None = None) -> ClassReport:
    """Gather every verified record of the course (or of one chapter)."""
    base = Path(course_root) / ".rnn-course" / "results"
    cells: dict = {}
    students: dict = {}
    unverified: dict = {}
    key = results.grader_key(Path(course_root)) if base.is_dir() else b""
    chapters = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    for name in chapters:
        if chapter and name != chapter:
            continue
        for path in sorted((base / name).glob("*.json")):
            stored = results.load(Path(course_root), name, path.stem, key)
            if stored.result is None or not stored.verified:
                unverified.setdefault(name, []).append(path.stem)
                continue
            students[name] = students.get(name, 0) + 1
            verdicts = stored.result.get("verdicts", {})
            if not isinstance(verdicts, dict):
                continue
            for cell, verdict in verdicts.items():
                if not isinstance(verdict, dict):
                    continue
                entry = cells.setdefault((name, cell), Cell(name, cell))
                entry.graded += 1
                if verdict.get("passed"):
                    entry.passed += 1
                else:
                    label = str(verdict.get("diagnosis") or verdict.get("why") or "failed")
                    entry.groups[label].append(path.stem)
    return ClassReport(list(cells.values()), students, unverified)


def write_csv(report: ClassReport, path: Path) -> Path:
    fields = ["chapter", "cell", "graded", "passed", "diagnosis", "students", "examples"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(report.rows())
    return path


def _chart(cell: Cell) -> str:
    """A horizontal bar chart of the cell's failure groups, as a data: URL (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    groups = cell.sorted_groups()[:12][::-1]
    fig = Figure(figsize=(8, 0.45 * len(groups) + 1.2))
    ax = fig.subplots()
    labels = [d if len(d) <= 70 else d[:67] + "..." for d, _ in groups]
    ax.barh(range(len(groups)), [len(s) for _, s in groups], color="#c0504d")
    ax.set_yticks(range(len(groups)), labels, fontsize=8)
    ax.set_xlabel("students")
    ax.set_title(f"{cell.chapter} · {cell.cell}: {cell.passed}/{cell.graded} passed", fontsize=10)
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def write_html(report: ClassReport, path: Path) -> Path:
    """One page: a section per chapter, per test cell a bar chart and the table of its groups.

    Every text from a record is escaped; the charts are inline PNGs (the page needs no network).
    """
    e = html.escape
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>rnn-course: what the class got wrong"
             "</title><style>body{font-family:sans-serif;max-width:60em;margin:auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}"
             "</style></head><body><h1>What the class got wrong</h1>"]
    for chapter in sorted({c.chapter for c in report.cells} | set(report.unverified)):
        parts.append(f"<h2>{e(chapter)}</h2><p>{report.students.get(chapter, 0)} graded submissions")
        if report.unverified.get(chapter):
            parts.append(f"; {len(report.unverified[chapter])} records left out (their MAC does not verify)")
        parts.append("</p>")
        cells = sorted((c for c in report.cells if c.chapter == chapter),
                       key=lambda c: (-sum(len(s) for s in c.groups.values()), c.cell))
        for cell in cells:
            parts.append(f"<h3>{e(cell.cell)}: {cell.passed} of {cell.graded} passed</h3>")
            if not cell.groups:
                continue
            parts.append(f"<img alt='failures of {e(cell.cell)} by diagnosis' src='{_chart(cell)}'>")
            parts.append("<table><tr><th>diagnosis</th><th>students</th><th>for example</th></tr>")
            for diagnosis, students in cell.sorted_groups():
                parts.append(f"<tr><td>{e(diagnosis)}</td><td>{len(students)}</td>"
                             f"<td>{e(' '.join(sorted(students)[:EXAMPLES]))}</td></tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    path.write_text("".join(parts))
    return path


def write(course_root: Path, out: Path, chapter: str | None = None) -> tuple:
    """Build the report and write ``report.csv`` and ``report.html`` into ``out``; (csv, html, report)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = build(course_root, chapter)
    return write_csv(report, out / "report.csv"), write_html(report, out / "report.html"), report
