"""The grader's stored results, and when one may be reused instead of executing again.

Each graded submission leaves two files in the course directory: the graded notebook
``autograded/<student>/<chapter>/<chapter>.ipynb`` (nbgrader's place) and the grader's result
``.rnn-course/results/<chapter>/<student>.json`` (status, findings, verdicts, fingerprint).
Re-grading reuses a result whose fingerprint matches the submission — but only when its MAC
verifies: HMAC-SHA256 over the canonical JSON of the result, its chapter and student, and the
sha256 of the graded notebook's bytes, keyed with the course's secret
``.rnn-course/grader.key`` (32 random bytes, mode 0600, made atomically on first use). So an
edited result, an edited graded notebook, a missing MAC or another key make the grader execute
the submission again rather than trust a file another process could have written.

Both files are written atomically (a temporary file in the same folder, then ``os.replace``):
a reader sees the old file or the new one, never half of one.

Example:
    store(course_root, "01_rnn_forward", "alice", result, notebook_bytes)
    stored = load(course_root, "01_rnn_forward", "alice")
    stored.problem is None  # verified: stored.result and stored.notebook may be reused
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from pathlib import Path

KEY_BYTES = 32
MAX_RESULT_BYTES = 64 * 2**20
_DOMAIN = b"rnn-course grader result v1\n"


@dataclasses.dataclass
class Stored:
    """A stored result and the graded notebook it goes with, as read back.

    Attributes:
        result: the result (without its MAC), None when there is none or it cannot be read.
        notebook: the graded notebook's bytes (those the MAC was checked against).
        problem: why it may not be reused (None: verified; also None when nothing is stored).
    """

    result: dict | None
    notebook: bytes | None
    problem: str | None

    @property
    def verified(self) -> bool:
        return self.result is not None and self.problem is None


def key_path(course_root: Path) -> Path:
    return Path(course_root) / ".rnn-course" / "grader.key"


def result_path(course_root: Path, chapter: str, student: str) -> Path:
    return Path(course_root) / ".rnn-course" / "results" / chapter / f"{student}.json"


def notebook_path(course_root: Path, chapter: str, student: str) -> Path:
    return Path(course_root) / "autograded" / student / chapter / f"{chapter}.ipynb"


def grader_key(course_root: Path) -> bytes:
    """The course's secret MAC key, made on first use.

    A key file that is not a regular file of ``KEY_BYTES`` bytes, owned by this user and closed
    to everyone else, is not trusted: it is replaced by a new key (every stored result then
    fails to verify once and is executed again).

    Args:
        course_root: the nbgrader course directory.

    Returns:
        the key's bytes.
    """
    path = key_path(course_root)
    key = _trusted_key(path)
    if key is None:
        _new_key(path, replace=os.path.lexists(path))
        key = _trusted_key(path)
    if key is None:
        raise RuntimeError(f"course_root: cannot make a usable grader key at {path}")
    return key


def mac(key: bytes, chapter: str, student: str, result: dict, notebook_sha256: str) -> str:
    """HMAC-SHA256 (hex) of a result, whose chapter and student it is, and its graded notebook.

    Args:
        key: the course's key (:func:`grader_key`).
        chapter: the chapter.
        student: the student id.
        result: the result without its "mac" (JSON-able).
        notebook_sha256: hex sha256 of the graded notebook's bytes.

    Returns:
        64 hex digits.
    """
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes; received: {type(key).__name__} "
                         f"of length {len(key) if isinstance(key, bytes) else '-'}")
    message = b"\n".join([_DOMAIN, chapter.encode(), student.encode(), canonical(result), notebook_sha256.encode()])
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def canonical(result: dict) -> bytes:
    """The one JSON text of a result (sorted keys, no spaces, ASCII): what the MAC covers."""
    return json.dumps(result, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def store(course_root: Path, chapter: str, student: str, result: dict, notebook: bytes,
          key: bytes | None = None) -> dict:
    """Write the graded notebook, then the result with its MAC, each atomically.

    Args:
        course_root: the nbgrader course directory.
        chapter: the chapter.
        student: the student id.
        result: the result (JSON-able; a "mac" or "notebook_sha256" in it is replaced).
        notebook: the graded notebook's bytes.
        key: the course's key (default: :func:`grader_key`).

    Returns:
        the result as stored (with "notebook_sha256", without "mac").
    """
    if not isinstance(notebook, bytes):
        raise TypeError(f"notebook must be bytes; received: {type(notebook).__name__}")
    key = key if key is not None else grader_key(course_root)
    digest = hashlib.sha256(notebook).hexdigest()
    body = {k: v for k, v in result.items() if k != "mac"}
    body["notebook_sha256"] = digest
    body = json.loads(canonical(body))   # what a reader will parse back (tuples become lists ...)
    write_atomic(notebook_path(course_root, chapter, student), notebook)
    text = json.dumps({**body, "mac": mac(key, chapter, student, body, digest)}, indent=1, sort_keys=True)
    write_atomic(result_path(course_root, chapter, student), text.encode())
    return body


def load(course_root: Path, chapter: str, student: str, key: bytes | None = None) -> Stored:
    """Read a stored result back and check its MAC against the graded notebook on disk.

    Args:
        course_root: the nbgrader course directory.
        chapter: the chapter.
        student: the student id.
        key: the course's key (default: :func:`grader_key`).

    Returns:
        Stored: ``problem`` says in one line why the result may not be reused.
    """
    path = result_path(course_root, chapter, student)
    if not os.path.lexists(path):
        return Stored(None, None, None)
    data, why = _read_regular(path, MAX_RESULT_BYTES)
    if data is None:
        return Stored(None, None, f"stored result unreadable ({why})")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        return Stored(None, None, "stored result is not valid JSON")
    if not isinstance(body, dict):
        return Stored(None, None, "stored result is not a JSON object")
    claimed = body.pop("mac", None)
    if not isinstance(claimed, str):
        return Stored(body, None, "stored result has no MAC")
    notebook, why = _read_regular(notebook_path(course_root, chapter, student), MAX_RESULT_BYTES)
    if notebook is None:
        return Stored(body, None, f"graded notebook unreadable ({why})")
    digest = hashlib.sha256(notebook).hexdigest()
    key = key if key is not None else grader_key(course_root)
    try:
        expected = mac(key, chapter, student, body, digest)
    except (TypeError, ValueError, RecursionError):  # values canonical JSON cannot hold
        return Stored(body, notebook, "stored result cannot be checked")
    if hmac.compare_digest(expected, claimed):
        return Stored(body, notebook, None)
    if body.get("notebook_sha256") != digest:
        return Stored(body, notebook, "MAC does not verify: the graded notebook changed after grading")
    return Stored(body, notebook, "MAC does not verify: the stored result was edited, or the grader key changed")


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    Args:
        path: the file to (re)place; its folder is made if missing.
        data: the bytes.
        mode: permissions of the new file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _trusted_key(path: Path) -> bytes | None:
    """The key at ``path`` when it is a private regular file of KEY_BYTES bytes (symlinks are not)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if (not stat.S_ISREG(info.st_mode) or info.st_size != KEY_BYTES or info.st_mode & 0o077
                or info.st_uid != os.geteuid()):
            return None
        key = f.read(KEY_BYTES + 1)
    return key if len(key) == KEY_BYTES else None


def _new_key(path: Path, replace: bool) -> None:
    """Make a key file atomically: written in full under a temporary name, then linked in place.

    Linking fails when another process made the key first (theirs is kept); ``replace``
    overwrites an untrusted key instead.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".grader.key.")   # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read_regular(path: Path, limit: int) -> tuple:
    """(bytes, None) or (None, why) for a regular file of at most ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return None, exc.strerror or exc.__class__.__name__
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, "not a regular file"
        data = f.read(limit + 1)
    if len(data) > limit:
        return None, f"larger than {limit:,} bytes"
    return data, None
