"""Find the submissions to grade: nbgrader's ``submitted/`` layout or a folder of zips.

* ``DIR/<student>/<chapter>/<chapter>.ipynb`` (nbgrader's layout; ``timestamp.txt`` beside it
  is kept), or
* ``DIR/<student>.zip`` (one zip per student, as learning-management systems export them),
  each holding notebooks anywhere inside, named ``<chapter>.ipynb`` or in a ``<chapter>/``
  folder; a notebook whose name says nothing is assigned to the chapter its cells belong to.

Nothing is extracted to disk: notebook bytes are read into memory, with caps on the number and
size of the members (a zip bomb or a huge file is reported, not read).
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path, PurePosixPath

MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_MEMBERS = 200
STUDENT_RE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclasses.dataclass
class Submission:
    """One notebook handed in by one student for one chapter (chapter None: unknown yet)."""

    student: str
    chapter: str | None
    data: bytes | None
    origin: str
    timestamp: str | None = None
    problem: str | None = None        # why it could not be read (too large, bad zip, ...)


def student_id(name: str) -> str:
    """A gradebook-safe student id from a folder or file name."""
    cleaned = STUDENT_RE.sub("_", name).strip("._-")
    if not cleaned:
        raise ValueError(f"student name must contain a letter or digit; received: {name!r}")
    return cleaned


def discover(folder: Path, chapters: list[str], only: str | None = None) -> list[Submission]:
    """All submissions under ``folder`` (see the module docstring), optionally of one chapter."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions must be a folder; received: {folder}")
    found: list[Submission] = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() == ".zip":
            found.extend(_from_zip(path, chapters))
        elif path.is_dir() and not path.name.startswith("."):
            found.extend(_from_folder(path, chapters))
    if only:
        found = [s for s in found if s.chapter in (only, None)]
    return found


def _from_folder(student_dir: Path, chapters: list[str]) -> list[Submission]:
    student = student_id(student_dir.name)
    result = []
    for chapter_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
        notebooks = sorted(chapter_dir.glob("*.ipynb"))
        if not notebooks:
            continue
        named = chapter_dir / f"{chapter_dir.name}.ipynb"
        path = named if named.is_file() else notebooks[0]
        stamp = chapter_dir / "timestamp.txt"
        timestamp = stamp.read_text().strip() if stamp.is_file() else None
        chapter = chapter_dir.name if chapter_dir.name in chapters else None
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            result.append(Submission(student, chapter, None, str(path), timestamp,
                                     f"notebook of {size} bytes exceeds {MAX_NOTEBOOK_BYTES}"))
            continue
        result.append(Submission(student, chapter, path.read_bytes(), str(path), timestamp))
    return result


def _from_zip(path: Path, chapters: list[str]) -> list[Submission]:
    student = student_id(path.stem)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [Submission(student, None, None, str(path), problem=f"not a readable zip: {exc}")]
    result = []
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS:
            return [Submission(student, None, None, str(path),
                               problem=f"zip has {len(members)} files (at most {MAX_MEMBERS})")]
        for member in members:
            name = PurePosixPath(member.filename)
            if name.suffix.lower() != ".ipynb" or any(p.startswith((".", "__MACOSX")) for p in name.parts):
                continue
            chapter = next((c for c in (name.stem, *reversed(name.parent.parts)) if c in chapters), None)
            origin = f"{path}:{member.filename}"
            if member.file_size > MAX_NOTEBOOK_BYTES:
                result.append(Submission(student, chapter, None, origin,
                                         problem=f"notebook of {member.file_size} bytes exceeds {MAX_NOTEBOOK_BYTES}"))
                continue
            with archive.open(member) as f:
                data = f.read(MAX_NOTEBOOK_BYTES + 1)
            if len(data) > MAX_NOTEBOOK_BYTES:  # the header lied about the size
                result.append(Submission(student, chapter, None, origin, problem="notebook larger than its zip entry says"))
                continue
            stamp = "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*member.date_time)
            result.append(Submission(student, chapter, data, origin, stamp))
    if not result:
        result.append(Submission(student, None, None, str(path), problem="zip holds no .ipynb file"))
    return result
