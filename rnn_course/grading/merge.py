"""Read a submission and rebuild the notebook to grade from the instructor's template.

The student's file contributes exactly one thing: the source of each answer cell, matched by
``grade_id`` (or, when nbgrader's metadata was stripped or renamed, by the cell's nbformat
``id``). Everything else — test cells with their hidden tests, locked cells, points, cell types,
the kernelspec, the order — comes from the template (the source notebook with its solutions
removed, i.e. nbgrader's release plus the hidden tests). So edited, commented-out, deleted,
duplicated or retyped test cells, changed metadata or kernelspecs cannot change a grade; each
such edit is recorded as a finding for the report.

Reading the file is :mod:`~rnn_course.grading.parse`'s job (caps on depth and cell count); the
merge adds caps on what a student's cells may bring in (module constants):

* ``MAX_CELL_SOURCE`` — characters in one answer or added cell (longer: not used, with a finding);
* ``MAX_ADDED_CELLS`` and ``MAX_ADDED_SOURCE`` — added cells kept, and their characters in all;
  the rest are dropped with a ``cells-dropped`` finding.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from pathlib import Path

import nbformat

from rnn_course.grading.parse import Finding, read_submission
from rnn_course.samples import nbgrader_meta

__all__ = ["Finding", "Merged", "Template", "merge", "read_submission"]

MAX_CELL_SOURCE = 100_000
MAX_ADDED_CELLS = 100
MAX_ADDED_SOURCE = 500_000


@dataclasses.dataclass
class Template:
    """A chapter's autograder template: the source notebook with its solutions cleared."""

    chapter: str
    notebook: nbformat.NotebookNode
    answers: dict   # grade_id -> cell (nbgrader solution cells)
    tests: dict     # grade_id -> cell (autograded test cells)
    points: dict    # grade_id -> max points of every graded cell (tests and written answers)
    digest: str
    imports: str    # the trusted side's preamble: trusted_preamble(notebook)

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
        return cls(chapter, notebook, answers, tests, points, digest, trusted_preamble(notebook))


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


def merge(template: Template, data: bytes, others: dict | None = None) -> Merged:
    """Rebuild the notebook to grade from the template and a submission's bytes.

    Never raises for what is in ``data``: a notebook too large, too deep or too odd to read
    comes back unreadable (``notebook`` None) with a finding that says why.

    Args:
        template: the chapter's template.
        data: the submitted file's bytes.
        others: {chapter: Template} of the other chapters, to recognise a notebook submitted
            under the wrong chapter.

    Returns:
        Merged (notebook None when the file cannot be read at all).
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes; received: {type(data).__name__}")
    digest = hashlib.sha256(data).hexdigest()
    try:
        return _merge(template, data, others or {}, digest)
    except (RecursionError, MemoryError) as exc:
        # parse.py caps depth and size first; this is the backstop, not the plan.
        why = f"the notebook is too large or too deeply nested to read ({exc.__class__.__name__})"
        return Merged(None, [Finding("unreadable", why)], [], digest)


def _merge(template: Template, data: bytes, others: dict, digest: str) -> Merged:
    submitted, findings = read_submission(data)
    if submitted is None:
        return Merged(None, findings, [], digest)

    by_grade_id, by_cell_id = {}, {}
    duplicates, duplicate_ids = set(), set()
    for cell in submitted.cells:
        if cell.grade_id is not None:
            if cell.grade_id in by_grade_id:
                duplicates.add(cell.grade_id)
            else:
                by_grade_id[cell.grade_id] = cell
        if cell.cell_id is not None:
            if cell.cell_id in by_cell_id:
                duplicate_ids.add(cell.cell_id)
            else:
                by_cell_id[cell.cell_id] = cell

    known = {nbgrader_meta(c).get("grade_id") for c in template.notebook.cells}
    if duplicates:
        findings.append(Finding("duplicated", "cells repeated, the first one counts: " + _names(duplicates)))
    if duplicate_ids:
        findings.append(Finding("duplicate-ids", "cell ids repeated, the first one counts: " + _names(duplicate_ids)))
    missing_tests = sorted(gid for gid in template.tests if gid not in by_grade_id)
    if missing_tests:
        findings.append(Finding("tests-restored", "test cells missing or renamed, restored: " + _names(missing_tests)))
    edited = sorted(
        gid for gid, cell in template.tests.items()
        if gid in by_grade_id and by_grade_id[gid].source != _release_source(cell)
    )
    if edited:
        findings.append(Finding("tests-restored", "test cells edited, restored from the source: " + _names(edited)))

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
        if theirs.cell_type != cell.cell_type:
            findings.append(Finding("cell-type", f"answer {grade_id} was turned into a {str(theirs.cell_type)[:20]} cell: not graded as an answer"))
            continue
        if len(theirs.source) > MAX_CELL_SOURCE:
            findings.append(Finding("too-large", f"answer {grade_id} has {len(theirs.source):,} characters "
                                                 f"(at most {MAX_CELL_SOURCE:,}): not graded as an answer"))
            continue
        if theirs.source != cell.source:
            cell.source = theirs.source
            answered.append(grade_id)
        if how == "cell id":
            findings.append(Finding("metadata", f"answer {grade_id} found by its cell id (nbgrader metadata missing or renamed)"))
    if unmatched and len(unmatched) == len(template.answers):
        guess = _which_chapter(by_grade_id, others)
        if guess:
            findings.append(Finding("wrong-chapter", f"this is a notebook of {guess}, not {template.chapter}"))
        else:
            findings.append(Finding("no-answers", "no answer cell of this chapter found in the notebook"))
    elif unmatched:
        findings.append(Finding("metadata", "answer cells not found (deleted, or metadata stripped): " + _names(unmatched)))
    added, dropped = _added_cells(template, submitted.cells)
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
    if dropped:
        findings.append(Finding("cells-dropped", dropped))
    if submitted.kernel not in (None, "python3"):
        findings.append(Finding("kernelspec", f"kernel {str(submitted.kernel)[:40]!r} replaced by python3"))
    foreign = sorted(set(by_grade_id) - known)
    if foreign and not any(f.kind == "wrong-chapter" for f in findings):
        findings.append(Finding("metadata", "unknown grade_ids ignored: " + _names(foreign)))
    return Merged(notebook, findings, answered, digest)

TEST_HELPERS_TAG = "test-helpers"


def trusted_preamble(notebook) -> str:
    """What the trusted process runs before a chapter's test cells: the instructor's imports,
    then the cells tagged ``test-helpers`` (functions the tests share; they must be locked and
    must not call the student's code when they run).

    Both come from the template, never from a submission.
    """
    helpers = [cell.source for cell in notebook.cells
               if cell.cell_type == "code" and TEST_HELPERS_TAG in cell.get("metadata", {}).get("tags", [])
               and not nbgrader_meta(cell).get("solution")]
    return "\n\n".join([_imports(notebook), *helpers]).strip() + "\n"


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


def _added_cells(template: "Template", cells: list) -> tuple:
    """Cells the student added (helpers, scratch work), within the caps on added cells.

    A cell counts as added when it has no grade_id, its id is not a template cell's id and its
    source is not a template cell's source; it is placed after the template cell matching the
    closest earlier student cell (or before the first answer when none does). The first
    ``MAX_ADDED_CELLS`` of them are kept, while their sources add up to at most
    ``MAX_ADDED_SOURCE`` characters; a cell longer than ``MAX_CELL_SOURCE`` is never kept.

    Args:
        template: the chapter's template.
        cells: the submission's :class:`~rnn_course.grading.parse.StudentCell` list.

    Returns:
        ({index of the template cell they follow: [new cells]}, why cells were dropped or "").
    """
    ids = {c.get("id"): i for i, c in enumerate(template.notebook.cells) if c.get("id")}
    grade_ids = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(template.notebook.cells)
                 if nbgrader_meta(c).get("grade_id")}
    sources = {c.source for c in template.notebook.cells}
    first_answer = min((grade_ids[g] for g in template.answers), default=0)
    anchor = first_answer - 1
    added: dict = {}
    kept = characters = too_long = too_many = 0
    for cell in cells:
        if cell.cell_type not in ("code", "markdown"):
            continue
        if cell.grade_id in grade_ids:
            anchor = grade_ids[cell.grade_id]
            continue
        if cell.cell_id in ids:
            anchor = ids[cell.cell_id]
            continue
        if cell.source in sources or not cell.source.strip() or cell.tagged:
            continue
        if len(cell.source) > MAX_CELL_SOURCE:
            too_long += 1
            continue
        if kept >= MAX_ADDED_CELLS or characters + len(cell.source) > MAX_ADDED_SOURCE:
            too_many += 1
            continue
        kept += 1
        characters += len(cell.source)
        new = (nbformat.v4.new_code_cell(cell.source) if cell.cell_type == "code"
               else nbformat.v4.new_markdown_cell(cell.source))
        new.metadata["rnn_course"] = {"added_by_student": True}
        added.setdefault(anchor, []).append(new)
    why = []
    if too_many:
        why.append(f"{too_many} added cell(s) dropped: at most {MAX_ADDED_CELLS} added cells "
                   f"and {MAX_ADDED_SOURCE:,} characters of them are kept")
    if too_long:
        why.append(f"{too_long} added cell(s) longer than {MAX_CELL_SOURCE:,} characters dropped")
    return added, "; ".join(why)


def _names(names, limit: int = 8) -> str:
    """Sorted names for a finding, the first ``limit`` of them and how many more."""
    names = sorted(str(n)[:60] for n in names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more

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


def _which_chapter(by_grade_id: dict, others: dict) -> str | None:
    """The other chapter whose answers the submission's grade_ids name most (None: none)."""
    best, best_overlap = None, 0
    for chapter, template in sorted(others.items()):
        overlap = len(by_grade_id.keys() & template.answers.keys())
        if overlap > best_overlap:
            best, best_overlap = chapter, overlap
    return best
