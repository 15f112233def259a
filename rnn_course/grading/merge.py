"""Read a submission and rebuild the notebook to grade from the instructor's template.

The student's file contributes exactly one thing: the source of each answer cell, matched by
``grade_id`` (or, when nbgrader's metadata was stripped or renamed, by the cell's nbformat
``id``). Everything else — test cells with their hidden tests, locked cells, points, cell types,
the kernelspec, the order — comes from the template (the source notebook with its solutions
removed, i.e. nbgrader's release plus the hidden tests). So edited, commented-out, deleted,
duplicated or retyped test cells, changed metadata or kernelspecs cannot change a grade; each
such edit is recorded as a finding for the report.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path

import nbformat

from rnn_course.samples import nbgrader_meta


@dataclasses.dataclass
class Finding:
    """Something about a submission the instructor should know (kind: short slug)."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclasses.dataclass
class Template:
    """A chapter's autograder template: the source notebook with its solutions cleared."""

    chapter: str
    notebook: nbformat.NotebookNode
    answers: dict   # grade_id -> cell (nbgrader solution cells)
    tests: dict     # grade_id -> cell (autograded test cells)
    points: dict    # grade_id -> max points of every graded cell (tests and written answers)
    digest: str
    imports: str    # the import statements of the instructor's cells, re-run before each test

    @classmethod
    def from_source(cls, chapter: str, source_path: Path) -> "Template":
        """Clear the solutions of ``solutions/<chapter>/<chapter>.ipynb`` as nbgrader does."""
        from nbconvert.exporters.exporter import ResourcesDict
        from nbgrader.preprocessors import ClearOutput, ClearSolutions, LockCells

        notebook = nbformat.read(str(source_path), as_version=4)
        resources = ResourcesDict()
        resources["nbgrader"] = {"notebook": chapter, "assignment": chapter}
        for preprocessor in (LockCells(), ClearSolutions(), ClearOutput()):
            notebook, resources = preprocessor.preprocess(notebook, resources)
        answers, tests, points = {}, {}, {}
        for cell in notebook.cells:
            meta = nbgrader_meta(cell)
            grade_id = meta.get("grade_id")
            if meta.get("solution"):
                answers[grade_id] = cell
            if meta.get("grade"):
                points[grade_id] = float(meta.get("points", 0))
                if cell.cell_type == "code" and not meta.get("solution"):
                    tests[grade_id] = cell
        digest = hashlib.sha256(nbformat.writes(notebook).encode()).hexdigest()
        return cls(chapter, notebook, answers, tests, points, digest, _imports(notebook))


@dataclasses.dataclass
class Merged:
    """The notebook to execute for one submission, and what merging it found."""

    notebook: nbformat.NotebookNode | None
    findings: list
    answered: list        # grade_ids whose answer came from the submission
    digest: str           # sha256 of the submission's bytes (for idempotent regrading)

    @property
    def readable(self) -> bool:
        return self.notebook is not None


def read_submission(data: bytes):
    """Parse notebook bytes of any nbformat version: (notebook v4 or None, findings)."""
    findings = []
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, [Finding("unreadable", f"not a JSON notebook ({exc.__class__.__name__}: {exc})"[:300])]
    if not isinstance(raw, dict) or "nbformat" not in raw:
        return None, [Finding("unreadable", "JSON without an nbformat version: not a notebook")]
    version = raw.get("nbformat")
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:  # nbformat raises several types for malformed notebooks
        return None, [Finding("unreadable", f"nbformat {version} notebook nbformat cannot read: {exc}"[:300])]
    if version != 4:
        findings.append(Finding("converted", f"nbformat {version} notebook converted to version 4"))
    if not isinstance(getattr(notebook, "cells", None), list):
        return None, findings + [Finding("unreadable", "the notebook has no list of cells")]
    return notebook, findings


def merge(template: Template, data: bytes, others: dict | None = None) -> Merged:
    """Rebuild the notebook to grade from the template and a submission's bytes.

    Args:
        template: the chapter's template.
        data: the submitted file's bytes.
        others: {chapter: Template} of the other chapters, to recognise a notebook submitted
            under the wrong chapter.

    Returns:
        Merged (notebook None when the file cannot be read at all).
    """
    digest = hashlib.sha256(data).hexdigest()
    submitted, findings = read_submission(data)
    if submitted is None:
        return Merged(None, findings, [], digest)

    by_grade_id, by_cell_id = {}, {}
    duplicates = set()
    for cell in submitted.cells:
        if not isinstance(cell, dict):
            continue
        meta = nbgrader_meta(cell) if isinstance(cell.get("metadata"), dict) else {}
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if isinstance(grade_id, str):
            if grade_id in by_grade_id:
                duplicates.add(grade_id)
            else:
                by_grade_id[grade_id] = cell
        cell_id = cell.get("id")
        if isinstance(cell_id, str) and cell_id not in by_cell_id:
            by_cell_id[cell_id] = cell

    known = {nbgrader_meta(c).get("grade_id") for c in template.notebook.cells}
    if duplicates:
        findings.append(Finding("duplicated", "cells repeated, the first one counts: " + ", ".join(sorted(duplicates))))
    missing_tests = sorted(gid for gid in template.tests if gid not in by_grade_id)
    if missing_tests:
        findings.append(Finding("tests-restored", "test cells missing or renamed, restored: " + ", ".join(missing_tests)))
    edited = sorted(
        gid for gid, cell in template.tests.items()
        if gid in by_grade_id and _text(by_grade_id[gid].get("source")) != _release_source(cell)
    )
    if edited:
        findings.append(Finding("tests-restored", "test cells edited, restored from the source: " + ", ".join(edited)))

    notebook = copy.deepcopy(template.notebook)
    answered, unmatched = [], []
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("solution"):
            continue
        grade_id = meta["grade_id"]
        theirs = by_grade_id.get(grade_id)
        how = "grade_id"
        if theirs is None:
            theirs = by_cell_id.get(cell.get("id"))
            how = "cell id"
        if theirs is None:
            unmatched.append(grade_id)
            continue
        their_type = theirs.get("cell_type")
        if their_type != cell.cell_type:
            findings.append(Finding("cell-type", f"answer {grade_id} was turned into a {their_type} cell: not graded as an answer"))
            continue
        source = _text(theirs.get("source"))
        if source != cell.source:
            cell.source = source
            answered.append(grade_id)
        if how == "cell id":
            findings.append(Finding("metadata", f"answer {grade_id} found by its cell id (nbgrader metadata missing or renamed)"))
    if unmatched and len(unmatched) == len(template.answers):
        guess = _which_chapter(submitted, by_grade_id, others or {})
        if guess:
            findings.append(Finding("wrong-chapter", f"this is a notebook of {guess}, not {template.chapter}"))
        else:
            findings.append(Finding("no-answers", "no answer cell of this chapter found in the notebook"))
    elif unmatched:
        findings.append(Finding("metadata", "answer cells not found (deleted, or metadata stripped): " + ", ".join(unmatched)))
    added = _added_cells(template, submitted)
    if added:
        cells = []
        for index, cell in enumerate(notebook.cells):
            if index == 0 and -1 in added:
                cells.extend(added[-1])
            cells.append(cell)
            cells.extend(added.get(index, []))
        notebook.cells = cells
        count = sum(len(v) for v in added.values())
        findings.append(Finding("added-cells", f"{count} cell(s) the student added are kept in place"))
    kernelspec = submitted.get("metadata", {}).get("kernelspec", {}) if isinstance(submitted.get("metadata"), dict) else {}
    if isinstance(kernelspec, dict) and kernelspec.get("name") not in (None, "python3"):
        findings.append(Finding("kernelspec", f"kernel {kernelspec.get('name')!r} replaced by python3"))
    foreign = sorted(set(by_grade_id) - known)
    if foreign and not any(f.kind == "wrong-chapter" for f in findings):
        findings.append(Finding("metadata", "unknown grade_ids ignored: " + ", ".join(foreign[:8])))
    return Merged(notebook, findings, answered, digest)


def _imports(notebook) -> str:
    """Top-level import statements of the cells no student writes (answers and tests excluded)."""
    import ast

    lines = []
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or meta.get("solution") or meta.get("grade"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                line = ast.unparse(node)
                if line not in lines:
                    lines.append(line)
    return "\n".join(lines)


def _added_cells(template: "Template", submitted) -> dict:
    """Cells the student added (helpers, scratch work): {index of the template cell they follow: [cells]}.

    A cell counts as added when it has no grade_id, its id is not a template cell's id and its
    source is not a template cell's source; it is placed after the template cell matching the
    closest earlier student cell (or before the first answer when none does).
    """
    ids = {c.get("id"): i for i, c in enumerate(template.notebook.cells) if c.get("id")}
    grade_ids = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(template.notebook.cells)
                 if nbgrader_meta(c).get("grade_id")}
    sources = {c.source for c in template.notebook.cells}
    first_answer = min((grade_ids[g] for g in template.answers), default=0)
    anchor = first_answer - 1
    added: dict = {}
    for cell in submitted.cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown"):
            continue
        meta = nbgrader_meta(cell) if isinstance(cell.get("metadata"), dict) else {}
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if grade_id in grade_ids:
            anchor = grade_ids[grade_id]
            continue
        if cell.get("id") in ids:
            anchor = ids[cell.get("id")]
            continue
        source = _text(cell.get("source"))
        if source in sources or not source.strip() or grade_id is not None:
            continue
        new = (nbformat.v4.new_code_cell(source) if cell["cell_type"] == "code"
               else nbformat.v4.new_markdown_cell(source))
        new.metadata["rnn_course"] = {"added_by_student": True}
        added.setdefault(anchor, []).append(new)
    return added


def _text(source) -> str:
    if isinstance(source, list):
        return "".join(str(s) for s in source)
    return source if isinstance(source, str) else ""


def _release_source(cell) -> str:
    """A test cell's source as the student saw it (hidden tests removed)."""
    lines, hidden = [], False
    for line in cell.source.splitlines(keepends=True):
        if line.strip() == "### BEGIN HIDDEN TESTS":
            hidden = True
        elif line.strip() == "### END HIDDEN TESTS":
            hidden = False
        elif not hidden:
            lines.append(line)
    return "".join(lines).rstrip("\n")


def _which_chapter(submitted, by_grade_id: dict, others: dict) -> str | None:
    best, best_overlap = None, 0
    for chapter, template in others.items():
        overlap = len(set(by_grade_id) & set(template.answers))
        if overlap > best_overlap:
            best, best_overlap = chapter, overlap
    return best
