"""The SQLite gradebook is whole before anyone uses it: a half-initialised one is repaired or refused.

nbgrader creates ``gradebook.db`` in two steps: SQLAlchemy creates the tables, then nbgrader asks
the ``alembic`` executable (by name, on ``PATH``) for the schema's revision and records it in an
``alembic_version`` table. When ``alembic`` cannot be found, the first step has already happened:
the file holds every table but no revision, and the next run, seeing tables, skips the second
step for good. Such a gradebook works until nbgrader next migrates its schema, then fails.

:func:`check` runs before every command that opens the gradebook (``rnn-course grade``,
``feedback``, ``export`` and the course pipeline's nbgrader calls):

- no file, an empty file, or tables with a revision: nothing to do;
- exactly nbgrader's tables and no revision: it is stamped with the revision this nbgrader's
  schema has (what nbgrader itself would have written), and that is said on stderr;
- anything else (tables missing, or a revision table without exactly one row): :class:`GradebookError`,
  naming the file and what to do — never used silently.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path


class GradebookError(RuntimeError):
    """The gradebook file is damaged in a way that cannot be repaired safely."""


def _tables(db: sqlite3.Connection) -> set[str]:
    rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows if not name.startswith("sqlite_")}


def expected_tables() -> set[str]:
    """The tables nbgrader's schema creates (without ``alembic_version``)."""
    from nbgrader.api import Base

    return set(Base.metadata.tables)


def head_revision() -> str:
    """The schema revision of the installed nbgrader (asks ``alembic``, as nbgrader does)."""
    from nbgrader.api import get_alembic_version

    own_bin_on_path()
    return get_alembic_version()


def own_bin_on_path() -> None:
    """Put this interpreter's ``bin/`` (where ``alembic`` is installed) first on ``PATH``.

    nbgrader runs ``alembic`` by name: without this, ``.venv/bin/rnn-course`` would need the
    environment activated.
    """
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir


def check(path: Path, *, quiet: bool = False) -> str:
    """Make sure ``path`` is absent, empty or a whole gradebook; repair a half-initialised one.

    Args:
        path: the course's ``gradebook.db``.
        quiet: do not announce a repair on stderr.

    Returns:
        ``"absent"``, ``"empty"``, ``"ok"`` or ``"repaired"``.

    Raises:
        GradebookError: tables are missing, or the revision table does not hold exactly one row.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return "absent" if not path.exists() else "empty"
    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    try:
        tables = _tables(db)
        if not tables:
            return "empty"
        if "alembic_version" in tables:
            (count,) = db.execute("SELECT COUNT(*) FROM alembic_version").fetchone()
            if count == 1:
                return "ok"
            raise GradebookError(
                f"{path}: the gradebook's alembic_version table holds {count} revisions, not 1. "
                "It was damaged outside nbgrader; restore it from a backup, or move it aside "
                "and grade again (grades are re-created from the submissions)."
            )
        missing = expected_tables() - tables
        if missing:
            raise GradebookError(
                f"{path}: a half-created gradebook (no schema revision, and tables "
                f"{sorted(missing)} missing). Move it aside and grade again (grades are "
                "re-created from the submissions)."
            )
        revision = head_revision()
        with db:
            db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (revision,))
        if not quiet:
            print(f"{path}: a half-initialised gradebook (every table, but no schema revision: "
                  "an earlier nbgrader run could not find `alembic`); stamped with revision "
                  f"{revision}, as nbgrader would have.", file=sys.stderr)
        return "repaired"
    finally:
        db.close()
