"""Find the submissions to grade: nbgrader's ``submitted/`` layout or a folder of zips.

* ``DIR/<student>/<chapter>/<chapter>.ipynb`` (nbgrader's layout, as ``nbgrader collect``
  makes it; ``timestamp.txt`` and ``submission_secret.txt`` beside it are kept), or
* ``DIR/<student>.zip`` (one zip per student, as learning-management systems export them),
  each holding notebooks anywhere inside, named ``<chapter>.ipynb`` or in a ``<chapter>/``
  folder; a notebook whose name says nothing is assigned to the chapter its cells belong to.

One notebook per student and chapter is graded. When a student's folder or zip (their
*container*) holds several for one chapter, the one named exactly ``<chapter>.ipynb`` at the
shallowest path is kept, else the first by name; the others are listed in an
``extra-notebooks`` finding (:func:`one_per_chapter`, run again once unnamed notebooks have been
assigned to chapters). Two containers whose names give the same student id (``a b`` and
``a_b``, ``x.zip`` and ``x/``; compared ignoring case) are both reported as ``id-collision``
and neither is read.

Nothing is extracted to disk: notebook bytes are read into memory, within caps (module
constants) — a zip bomb, a huge file, a FIFO or device posing as a notebook is reported, not read;
a symbolic link (a student folder, chapter folder, notebook, zip or the files beside a notebook;
`unzip` restores the links a student put in an upload) is reported and never followed:

* ``MAX_NOTEBOOK_BYTES`` — one notebook;
* ``MAX_MEMBERS`` and ``MAX_CENTRAL_DIRECTORY`` — files in one zip, and the size of its index
  (checked before the index is parsed);
* ``MAX_ZIP_READ`` — notebook bytes read from one zip in all.
"""

from __future__ import annotations

import collections
import dataclasses
import errno
import hashlib
import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from rnn_course.grading import parse

MAX_NOTEBOOK_BYTES = parse.MAX_BYTES
MAX_MEMBERS = 200
MAX_CENTRAL_DIRECTORY = 2**20
MAX_ZIP_READ = 100 * 2**20
SYMLINK = "a symbolic link: only regular files and folders are graded (a link is never followed)"
# nbgrader submit's submission_secret.txt: secrets.token_hex(64), no newline.
SECRET_RE = re.compile(r"[0-9a-f]{32,256}")
SECRET_MAX = 256
STUDENT_RE = re.compile(r"[^A-Za-z0-9._-]+")
# nbgrader's own "2026-01-01 10:00:00.000000 UTC", ISO 8601, or a zone name without dots
# (nbgrader hands the zone to dateutil.tz.gettz, which opens files: no paths).
TIMESTAMP_RE = re.compile(
    r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d{1,9})?)?"
    r"( ?(Z|[+-]\d\d:?\d\d|[A-Za-z][A-Za-z_]{0,30}(/[A-Za-z][A-Za-z_+-]{0,30})?))?")


@dataclasses.dataclass
class Submission:
    """One notebook handed in by one student for one chapter (chapter None: unknown yet).

    Attributes:
        student: gradebook-safe student id.
        chapter: the chapter it is for, None until guessed.
        data: the notebook's bytes (None when it could not be read: see ``problem``).
        origin: where it came from (a path, or ``zip:member``).
        timestamp: submission time as nbgrader writes it, when known.
        secret: nbgrader's ``submission_secret.txt`` (written by ``nbgrader submit``), when
            present: ``release_feedback`` names the student's feedback page with it.
        problem: why it could not be read (too large, bad zip, ...).
        container: the student's folder or zip it came from.
        member: its path inside ``container`` (to choose among copies).
        extras: other notebooks of ``container`` for the same chapter, not graded.
        notes: intake's findings about it ("kind: detail").
        status: a status decided here ("id-collision"), None when it is to be graded.
    """

    student: str
    chapter: str | None
    data: bytes | None
    origin: str
    timestamp: str | None = None
    problem: str | None = None
    container: str = ""
    member: str = ""
    extras: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    status: str | None = None
    secret: str | None = None

    @property
    def findings(self) -> list[str]:
        """Intake's findings, "kind: detail" strings, the ``extra-notebooks`` one included."""
        extra = []
        if self.extras:
            extra = [f"extra-notebooks: {len(self.extras)} other notebook(s) for this chapter not graded "
                     f"({self.member} is): " + _names(self.extras)]
        return self.notes + extra


def student_id(name: str) -> str:
    """A gradebook-safe student id from a folder or file name."""
    cleaned = STUDENT_RE.sub("_", name).strip("._-")
    if not cleaned:
        raise ValueError(f"student name must contain a letter or digit; received: {name!r}")
    return cleaned


def discover(folder: Path, chapters: list[str], only: str | None = None) -> list[Submission]:
    """All submissions under ``folder`` (see the module docstring), optionally of one chapter.

    Args:
        folder: the submissions folder.
        chapters: the course's chapter names.
        only: keep only this chapter's submissions (and those of unknown chapter).

    Returns:
        one Submission per notebook kept, per unreadable zip or notebook, and per colliding
        container (status ``id-collision``); never raises for what the folder holds.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions must be a folder; received: {folder}")
    containers, links = [], []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_symlink():
            links.append(path)
        elif path.suffix.lower() == ".zip" and path.is_file():
            containers.append((path, path.stem))
        elif path.is_dir():
            containers.append((path, path.name))
    ids = {}
    for path, name in containers:
        try:
            ids[path] = student_id(name)
        except ValueError:
            ids[path] = None
    by_id = collections.defaultdict(list)
    for path, _ in containers:
        if ids[path] is not None:
            by_id[ids[path].casefold()].append(path)

    found: list[Submission] = []
    for path in links:   # never followed: they could lead anywhere the instructor can read
        name = path.stem if path.suffix.lower() == ".zip" else path.name
        try:
            student = student_id(name)
        except ValueError:
            student = "unnamed-" + hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:8]
        found.append(Submission(student, None, None, str(path), container=str(path), problem=SYMLINK))
    for path, name in containers:
        student = ids[path]
        if student is None:
            anonymous = "unnamed-" + hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:8]
            found.append(Submission(anonymous, None, None, str(path), container=str(path),
                                    problem=f"the name {name!r} has no letter or digit to make a student id of"))
            continue
        same = by_id[student.casefold()]
        if len(same) > 1:
            found.append(Submission(student, None, None, str(path), container=str(path), status="id-collision",
                                    problem=" and ".join(_label(p) for p in same)
                                    + f" give the same student id {student!r} (ignoring case): none of them graded"))
            continue
        try:
            found.extend(_from_zip(path, student, chapters) if path.is_file() else _from_folder(path, student, chapters))
        except Exception as exc:  # unreadable folder, a file vanishing while read ...: this student's problem
            found.append(Submission(student, None, None, str(path), container=str(path),
                                    problem=f"could not be read: {exc.__class__.__name__}: {str(exc)[:200]}"))
    if only:
        found = [s for s in found if s.chapter in (only, None)]
    return found


def one_per_chapter(submissions: list[Submission]) -> list[Submission]:
    """One notebook per container and chapter; the others become ``extras`` of the one kept.

    Args:
        submissions: from :func:`discover`, chapters guessed where they were unknown.

    Returns:
        the submissions to grade, each (container, chapter) once; those of unknown chapter or
        with a status are passed through.
    """
    kept, groups = [], collections.defaultdict(list)
    for sub in submissions:
        if sub.chapter is None or sub.status:
            kept.append(sub)
        else:
            groups[(sub.container, sub.chapter)].append(sub)
    for (_, chapter), group in groups.items():
        chosen = min(group, key=lambda s: preference(s.member, chapter))
        for other in group:
            if other is not chosen:
                chosen.extras.extend([other.member, *other.extras])
        kept.append(chosen)
    return kept


def preference(member: str, chapter: str) -> tuple:
    """Sort key among a container's notebooks for one chapter: the smallest is graded.

    ``<chapter>.ipynb`` at the shallowest path first, then any other by name.
    """
    path = PurePosixPath(member)
    if path.name == f"{chapter}.ipynb":
        return (0, len(path.parts), member)
    return (1, 0, member)


def _from_folder(student_dir: Path, student: str, chapters: list[str]) -> list[Submission]:
    result = []
    for chapter_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
        if chapter_dir.is_symlink():
            result.append(Submission(student, None, None, str(chapter_dir), container=str(student_dir),
                                     problem=f"folder {chapter_dir.name!r}: {SYMLINK}"))
            continue
        members = sorted(f"{chapter_dir.name}/{p.name}" for p in chapter_dir.glob("*.ipynb"))
        if not members:
            continue
        chosen = min(members, key=lambda m: preference(m, chapter_dir.name))
        path = student_dir / chosen
        chapter = chapter_dir.name if chapter_dir.name in chapters else None
        timestamp, notes = _timestamp(chapter_dir / "timestamp.txt")
        secret, secret_notes = _secret(chapter_dir / "submission_secret.txt")
        data, problem = _read_file(path)
        result.append(Submission(student, chapter, data, str(path), timestamp, problem, container=str(student_dir),
                                 member=chosen, extras=[m for m in members if m != chosen],
                                 notes=notes + secret_notes, secret=secret))
    return result


def _from_zip(path: Path, student: str, chapters: list[str]) -> list[Submission]:
    def failed(problem):
        return [Submission(student, None, None, str(path), container=str(path), problem=problem)]

    try:
        index = _central_directory_size(path)
        if index is not None and index > MAX_CENTRAL_DIRECTORY:
            return failed(f"zip index of {index:,} bytes (at most {MAX_CENTRAL_DIRECTORY:,}): too many files")
        archive = zipfile.ZipFile(path)
    except Exception as exc:  # zipfile raises many types for damaged archives
        return failed(f"not a readable zip: {exc.__class__.__name__}: {str(exc)[:200]}")
    result = []
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS:
            return failed(f"zip has {len(members)} files (at most {MAX_MEMBERS})")
        named, unnamed = collections.defaultdict(list), []
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/"))
            if name.suffix.lower() != ".ipynb" or any(p.startswith((".", "__MACOSX")) for p in name.parts):
                continue
            chapter = next((c for c in (name.stem, *reversed(name.parent.parts)) if c in chapters), None)
            if chapter is None:
                unnamed.append((None, member, []))
            else:
                named[chapter].append(member)
        chosen = []
        for chapter, group in sorted(named.items()):
            best = min(group, key=lambda m: preference(_member(m), chapter))
            chosen.append((chapter, best, [_member(m) for m in group if m is not best]))
        budget = MAX_ZIP_READ
        for chapter, member, extras in chosen + unnamed:
            data, problem = None, None
            if member.file_size > MAX_NOTEBOOK_BYTES:
                problem = f"notebook of {member.file_size:,} bytes exceeds {MAX_NOTEBOOK_BYTES:,}"
            elif member.file_size > budget:
                problem = f"the zip's notebooks add up to more than {MAX_ZIP_READ:,} bytes: not read"
            else:
                data, problem = _read_member(archive, member, budget)
                budget -= len(data or b"")
            stamp = "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*member.date_time)
            result.append(Submission(student, chapter, data, f"{path}:{member.filename}", stamp if data else None,
                                     problem, container=str(path), member=_member(member), extras=extras))
    return result or failed("zip holds no .ipynb file")


def _member(info: zipfile.ZipInfo) -> str:
    return info.filename.replace("\\", "/")


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int) -> tuple:
    """(bytes, None) or (None, why): at most MAX_NOTEBOOK_BYTES and ``budget`` bytes are read."""
    cap = min(MAX_NOTEBOOK_BYTES, budget)
    try:
        with archive.open(member) as f:
            data = f.read(cap + 1)
    except Exception as exc:  # bad CRC, encryption, unknown compression, truncated data ...
        return None, f"zip member could not be read: {exc.__class__.__name__}: {str(exc)[:200]}"
    if len(data) > cap:  # the header lied about the size
        return None, "notebook larger than its zip entry says"
    return data, None


def _central_directory_size(path: Path) -> int | None:
    """The size of a zip's index as its end record declares it, read before zipfile parses it."""
    with open(path, "rb") as f:
        end = zipfile._EndRecData(f)  # the same record ZipFile reads (zip64 included)
    return end[zipfile._ECD_SIZE] if end else None


def _read_file(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> tuple:
    """(bytes, None) or (None, why): a regular file of at most ``limit`` bytes, never a FIFO or device."""
    try:
        # O_NOFOLLOW: a link unzipped into the submissions (`unzip` restores them) must not make
        # the grader read the instructor's files, e.g. ../../solutions/<chapter>/<chapter>.ipynb
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, SYMLINK
        return None, f"cannot open the notebook: {exc.strerror}"
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file (a FIFO, device or folder named .ipynb)"
        if info.st_size > limit:
            return None, f"file of {info.st_size:,} bytes exceeds {limit:,}"
        data = f.read(limit + 1)
    if len(data) > limit:  # it grew while being read
        return None, f"file larger than {limit:,} bytes"
    return data, None


def _timestamp(path: Path) -> tuple:
    """(timestamp or None, notes): nbgrader's timestamp.txt, when it holds a plain timestamp."""
    if not os.path.lexists(path):
        return None, []
    data, problem = _read_file(path, limit=200)
    text = data.decode("utf-8", "replace").strip() if data is not None else None
    if text is not None and TIMESTAMP_RE.fullmatch(text):
        return text, []
    why = problem or "not a timestamp nbgrader writes"
    return None, [f"timestamp: timestamp.txt ignored ({why})"]


def _secret(path: Path) -> tuple:
    """(secret or None, notes): nbgrader's submission_secret.txt, when it holds hex digits alone.

    ``nbgrader submit`` writes 128 of them; ``release_feedback`` hashes it with the notebook's
    name into the name of the page it puts in the exchange, where ``fetch_feedback`` looks.
    """
    if not os.path.lexists(path):
        return None, []
    data, problem = _read_file(path, limit=SECRET_MAX)
    text = data.decode("utf-8", "replace") if data is not None else None
    if text is not None and SECRET_RE.fullmatch(text):
        return text, []
    why = problem or "not a secret nbgrader writes"
    return None, [f"secret: submission_secret.txt ignored ({why}); nbgrader release_feedback will fail for it"]


def _label(path: Path) -> str:
    return f"{'zip' if path.is_file() else 'folder'} {path.name!r}"


def _names(names, limit: int = 8) -> str:
    names = sorted(str(n)[:80] for n in names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
