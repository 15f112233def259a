"""Parse a submitted notebook's bytes into the little the grader takes from it, within caps.

A submission is hostile input. Before anything recursive sees it, the raw bytes and JSON are
checked against caps that keep every later step bounded in time and memory:

* ``MAX_BYTES`` — the file (intake reads no more than this either);
* ``MAX_DEPTH`` — nesting of lists and objects, measured on the bytes with vectorised numpy (a
  notebook needs about 10 levels, widget state a few more; Python's parsers recurse, so
  100,000 nested lists would overflow them);
* ``MAX_CELLS`` — cells in the whole notebook, counted on the raw JSON (``cells`` and the
  worksheets of old versions), so an absurd notebook is refused before it is merged or run.

Then only what the grader uses is kept — each cell's type, id, source (as one string) and
nbgrader's scalar metadata, and the kernelspec's scalars; outputs, attachments and any other
metadata are dropped — and that slim notebook goes through nbformat (conversion from old
versions, schema validation). What comes out is a flat list of :class:`StudentCell` of plain
strings, so the merge never meets an unhashable id, a list where a string belongs or a deep
structure.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import nbformat
import numpy as np

MAX_BYTES = 20 * 2**20
MAX_DEPTH = 64
MAX_CELLS = 1000


@dataclasses.dataclass
class Finding:
    """Something about a submission the instructor should know (kind: short slug)."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclasses.dataclass(frozen=True)
class StudentCell:
    """One cell of a submission, reduced to plain values.

    Attributes:
        cell_type: "code", "markdown", "raw" or whatever string the file says (None if not a string).
        source: the cell's text ("" when missing or malformed).
        cell_id: the nbformat cell id, when it is a string.
        grade_id: nbgrader's grade_id, when it is a string.
        tagged: whether the cell carries a grade_id at all (of any type).
    """

    cell_type: str | None
    source: str
    cell_id: str | None
    grade_id: str | None
    tagged: bool


@dataclasses.dataclass
class Submitted:
    """What the grader reads from a submission: its cells and the kernel it names."""

    cells: list
    kernel: object = None


def read_submission(data: bytes) -> tuple:
    """Parse notebook bytes of any nbformat version, within the module's caps.

    Args:
        data: the submitted file's bytes.

    Returns:
        (Submitted or None, [Finding]): None with an ``unreadable`` finding when the bytes are
        not a notebook this grader will read; findings such as ``converted`` or
        ``nbformat-invalid`` otherwise.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes; received: {type(data).__name__}")
    if len(data) > MAX_BYTES:
        return None, [_unreadable(f"notebook of {len(data):,} bytes (at most {MAX_BYTES:,} are read)")]
    data = bytes(data).removeprefix(b"\xef\xbb\xbf")
    depth = json_depth(data)
    if depth > MAX_DEPTH:
        return None, [_unreadable(f"JSON nested {depth:,} levels deep (at most {MAX_DEPTH} are read)")]
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, [_unreadable(f"not UTF-8 text ({exc})")]
    except json.JSONDecodeError as exc:
        return None, [_unreadable(f"not a JSON notebook (JSONDecodeError: {exc})")]
    except RecursionError:  # json_depth is exact for valid JSON; this is the backstop
        return None, [_unreadable(f"JSON nested too deep to parse (at most {MAX_DEPTH} levels are read)")]
    if not isinstance(raw, dict) or "nbformat" not in raw:
        return None, [_unreadable("JSON without an nbformat version: not a notebook")]
    version = raw.get("nbformat")
    if type(version) is not int or version not in nbformat.versions:
        return None, [_unreadable(f"nbformat version {str(version)[:40]!r} is not one nbformat knows")]
    count = count_cells(raw)
    if count is None:
        return None, [_unreadable("the notebook has no list of cells")]
    if count > MAX_CELLS:
        return None, [_unreadable(f"the notebook has {count:,} cells (at most {MAX_CELLS:,} are read)")]

    slim, dropped = _slim(raw)
    del raw
    findings = []
    try:
        notebook = nbformat.versions[version].to_notebook_json(slim, minor=slim["nbformat_minor"])
        notebook = nbformat.convert(notebook, 4)
    except Exception as exc:  # nbformat raises several types for malformed notebooks
        return None, [_unreadable(f"nbformat {version} notebook nbformat cannot read: {_line(exc)}")]
    if version != 4:
        findings.append(Finding("converted", f"nbformat {version} notebook converted to version 4"))
    if not isinstance(notebook.get("cells"), list):
        return None, findings + [_unreadable("the notebook has no list of cells")]
    submitted = Submitted([_reduce(c) for c in notebook["cells"] if isinstance(c, dict)], _kernel(notebook))
    problem = _invalid(notebook)   # after reducing: nbformat's validate repairs duplicate ids in place
    if dropped:
        problem = f"{dropped} cell(s) that are not JSON objects ignored" + (f"; {problem}" if problem else "")
    if problem:
        findings.append(Finding("nbformat-invalid", problem))
    return submitted, findings


# json_depth keeps only the bytes that open or close something: quotes and brackets.
_NOT_MARKS = bytes(b for b in range(256) if b not in b'"[]{}')
_STEP = np.zeros(256, dtype=np.int64)   # +1 opens a list or object, -1 closes one
_STEP[list(b"[{")], _STEP[list(b"]}")] = 1, -1


def json_depth(data: bytes, chunk: int = 1 << 22) -> int:
    """How deep lists and objects nest in JSON bytes, without parsing them (numpy, no recursion).

    Exact for valid JSON; for invalid JSON it is an estimate (the parser rejects that anyway).
    Escaped backslashes and quotes are removed first, so every remaining quote opens or closes a
    string, and brackets inside strings are not counted.

    Args:
        data: UTF-8 JSON bytes (multi-byte characters never contain ASCII bytes).
        chunk: quotes and brackets scanned at a time (bounds the memory of the scan).

    Returns:
        the deepest nesting: 0 for a scalar, 1 for ``[]``, 2 for ``[[]]``.
    """
    plain = bytes(data).replace(b"\\\\", b"").replace(b'\\"', b"")
    marks = np.frombuffer(plain.translate(None, _NOT_MARKS), dtype=np.uint8)  # only "[]{} remain
    deepest = level = quotes = 0
    for start in range(0, len(marks), chunk):
        part = marks[start:start + chunk]
        is_quote = part == ord('"')
        inside = (np.cumsum(is_quote, dtype=np.int64) + quotes) % 2 == 1
        step = _STEP[part]
        step[inside] = 0
        levels = np.cumsum(step) + level
        if len(levels):
            deepest = max(deepest, int(levels.max()))
            level = int(levels[-1])
        quotes += int(is_quote.sum())
    return deepest


def count_cells(raw: dict) -> int | None:
    """Cells of a raw notebook of any version: ``cells`` plus every worksheet's (None: no list).

    Args:
        raw: the notebook's parsed JSON.

    Returns:
        the number of cells, or None when the notebook holds no list of cells anywhere.
    """
    lists = [raw.get("cells")]
    worksheets = raw.get("worksheets")
    if isinstance(worksheets, list):
        lists += [w.get("cells") for w in worksheets if isinstance(w, dict)]
    lists = [cells for cells in lists if isinstance(cells, list)]
    return sum(len(cells) for cells in lists) if lists else None


def text(source) -> str:
    """A cell source as one string (nbformat allows a list of lines); anything else is ""."""
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


# Cell keys of nbformat 1-4 kept for conversion and validation; outputs become [].
_CELL_KEYS = ("id", "cell_type", "source", "input", "execution_count", "prompt_number", "level",
              "language", "collapsed")
_SCALARS = (str, int, float, bool, type(None))


def _slim(raw: dict) -> tuple:
    """A copy of the notebook with only what the grader uses, every value shallow.

    Returns:
        (slim notebook dict, number of cells that were not objects and were left out).
    """
    dropped = 0

    def cells(items):
        nonlocal dropped
        kept = []
        for cell in items if isinstance(items, list) else []:
            if not isinstance(cell, dict):
                dropped += 1
                continue
            slim = {}
            for key in _CELL_KEYS:
                if key in cell:
                    value = cell[key]
                    if key in ("source", "input"):
                        value = text(value)
                    slim[key] = value if isinstance(value, _SCALARS) else None
            if "outputs" in cell or slim.get("cell_type") == "code":
                slim["outputs"] = []
            metadata = cell.get("metadata")
            grader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
            slim["metadata"] = {"nbgrader": _scalars(grader)} if isinstance(grader, dict) else {}
            if isinstance(grader, dict) and grader.get("grade_id") is not None \
                    and not isinstance(grader.get("grade_id"), str):
                slim["metadata"]["nbgrader"]["grade_id"] = "<grade_id that is not a string>"
            kept.append(slim)
        return kept

    metadata = raw.get("metadata")
    spec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
    minor = raw.get("nbformat_minor")
    slim = {"nbformat": raw["nbformat"], "nbformat_minor": minor if type(minor) is int else 0,
            "metadata": {"kernelspec": _scalars(spec)} if isinstance(spec, dict) else {}}
    if isinstance(spec, dict) and not isinstance(spec.get("name"), _SCALARS):
        slim["metadata"]["kernelspec"]["name"] = "<a kernel name that is not a string>"
    if "cells" in raw:
        slim["cells"] = cells(raw["cells"])
    if isinstance(raw.get("worksheets"), list):
        slim["worksheets"] = [{"cells": cells(w.get("cells")), "metadata": {}}
                              for w in raw["worksheets"] if isinstance(w, dict)]
    return slim, dropped


def _scalars(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if isinstance(v, _SCALARS)}


def _reduce(cell: dict) -> StudentCell:
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    cell_type, cell_id = cell.get("cell_type"), cell.get("id")
    return StudentCell(
        cell_type=cell_type if isinstance(cell_type, str) else None,
        source=text(cell.get("source")),
        cell_id=cell_id if isinstance(cell_id, str) else None,
        grade_id=grade_id if isinstance(grade_id, str) else None,
        tagged=grade_id is not None,
    )


def _kernel(notebook):
    metadata = notebook.get("metadata")
    spec = metadata.get("kernelspec") if isinstance(metadata, dict) else None
    name = spec.get("name") if isinstance(spec, dict) else None
    return name if isinstance(name, (str, type(None))) else str(name)[:40]


def _invalid(notebook) -> str | None:
    """The first nbformat schema error, in one line (None when the notebook is valid)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        return _line(getattr(exc, "message", None) or exc)
    except Exception as exc:  # the validator itself failed on something odd: say so, read on
        return f"could not be validated: {_line(exc)}"
    return None


def _line(exc) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return first[:200]


def _unreadable(detail: str) -> Finding:
    return Finding("unreadable", detail[:300])
