"""Sample submissions built from a chapter's release and its solution notebook.

``complete`` solves every exercise (the solution code in the release), ``blank`` is the release
untouched, ``partial`` solves the exercises listed in ``samples/partial/<chapter>.json``. The same
machinery makes the mutants in the tests: the solution with one deliberate mistake.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_cells(notebook) -> dict:
    """Map grade_id -> cell for every cell a student answers (nbgrader ``solution`` cells)."""
    return {
        nbgrader_meta(c)["grade_id"]: c for c in notebook.cells if nbgrader_meta(c).get("solution")
    }


def test_cells(notebook) -> dict:
    """Map grade_id -> cell for every autograded test cell (nbgrader ``grade`` code cells)."""
    return {
        nbgrader_meta(c)["grade_id"]: c
        for c in notebook.cells
        if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")
    }


def answer_source(source: str) -> str:
    """The source a student who solved the exercise would have: the solution, markers removed."""
    lines = source.splitlines()
    if not any(line.strip() == BEGIN for line in lines):
        return source
    kept, depth = [], 0
    for line in lines:
        if line.strip() == BEGIN:
            depth += 1
            continue
        if line.strip() == END:
            depth -= 1
            continue
        kept.append(line)
    return "\n".join(kept)


def fill(release, solution, grade_ids=None):
    """A copy of ``release`` with the answers of ``grade_ids`` (default: all) filled in.

    Args:
        release: the student notebook (nbformat node).
        solution: the source notebook with the answers.
        grade_ids: ids of the solution cells to answer; None answers all of them.

    Returns:
        new notebook node.
    """
    answers = solution_cells(solution)
    wanted = set(answers) if grade_ids is None else set(grade_ids)
    unknown = wanted - set(answers)
    if unknown:
        raise ValueError(f"grade_ids must name solution cells {sorted(answers)}; received: {sorted(unknown)}")
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and grade_id in wanted:
            cell.source = answer_source(answers[grade_id].source)
    return notebook


def mutate(notebook, grade_id: str, find: str, replace: str):
    """A copy of ``notebook`` with ``find`` replaced by ``replace`` once in cell ``grade_id``.

    Raises:
        ValueError: the cell does not exist or does not contain ``find`` exactly once (so a
            mutant can never silently equal the original).
    """
    result = copy.deepcopy(notebook)
    cells = {nbgrader_meta(c).get("grade_id"): c for c in result.cells}
    if grade_id not in cells:
        raise ValueError(f"grade_id must name a cell of the notebook; received: {grade_id!r}")
    cell = cells[grade_id]
    count = cell.source.count(find)
    if count != 1:
        raise ValueError(f"find must occur once in cell {grade_id!r}; it occurs {count} times: {find!r}")
    cell.source = cell.source.replace(find, replace)
    return result


def partial_manifest(repo: Path) -> dict:
    """``samples/partial/<chapter>.json``: per chapter, the exercises solved and their points.

    Returns:
        {chapter: {"solved": [grade_id, ...], "expected_points": float}}
    """
    folder = Path(repo) / "samples" / "partial"
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


def build(release_path: Path, solution_path: Path, partial_ids) -> dict:
    """The three sample submissions of one chapter: name -> notebook node."""
    release = nbformat.read(str(release_path), as_version=4)
    solution = nbformat.read(str(solution_path), as_version=4)
    return {
        "complete": fill(release, solution),
        "blank": copy.deepcopy(release),
        "partial": fill(release, solution, partial_ids),
    }
