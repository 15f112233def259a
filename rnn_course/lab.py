"""JupyterLab for the course on localhost: ``make lab``.

One server for both kinds of user, with nbgrader's JupyterLab extensions:

- students open ``notebooks/<chapter>/<chapter>.ipynb`` (the default page), fill in the
  ``YOUR CODE HERE`` cells, run them, and press **Validate** on the notebook's toolbar
  (nbgrader runs the saved notebook and says which tests fail);
- instructors open **Nbgrader → Formgrader** (or ``/formgrader``) on a *course directory*:
  a folder with ``nbgrader_config.py`` and its SQLite gradebook. By default that is the
  repository itself (``solutions/`` is the source, ``notebooks/`` the release); after
  ``make demo`` it can be the demo course with its graded samples:
  ``make lab COURSE=build/demo/course``.

The server's file browser shows ``--root`` (default: the repository root; outside a repository,
e.g. in a student kit, the current folder); the course directory must lie inside it (the
formgrader links notebooks by their path under the root). The server runs in the course
directory, which is where nbgrader's extensions read ``nbgrader_config.py``. Without a course
directory (a student kit: ``rnn-course student-kit``) it is a student's server: the notebooks and
Validate, no gradebook. Kernels get the course's quiet-TensorFlow environment
(``env.kernel_env``) and JupyterLab fetches nothing from the internet (no news, no update checks).

This module ships to students (it is in the student kit's wheel), so it imports no instructor
module at load time.

Example:
    python -m rnn_course.lab --course build/demo/course -- --port=8899 --no-browser
    python -m rnn_course.lab            # in a student kit's folder
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# JupyterLab asks the internet for news and for newer releases by default; the course is offline.
OFFLINE = (
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
)
# Data for the server only, put first on JUPYTER_PATH: an nbconvert template macro that loads the
# formgrader's MathJax from this server (jupyter_server_mathjax) instead of a CDN.
DATA_PATH = Path(__file__).resolve().parent / "jupyter"


def environment() -> dict:
    """The server's environment: the kernels' (``env.kernel_env``), ``DATA_PATH`` first on JUPYTER_PATH."""
    from rnn_course.env import kernel_env

    env = kernel_env()
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(DATA_PATH), env.get("JUPYTER_PATH", "")) if p)
    return env


def command(root, course, extra=()) -> list[str]:
    """The ``jupyter lab`` command line serving ``root`` with the formgrader on ``course``.

    Args:
        root: folder the file browser shows (every notebook a user opens lies under it).
        course: course directory (``nbgrader_config.py``, gradebook) inside ``root``; the
            command must run with it as the working directory (``main`` does). None: a
            student's server (no gradebook), run in ``root``.
        extra: further ``jupyter lab`` options (``--port=8899``, ``--no-browser``, ...).

    Returns:
        argv list, starting with this interpreter (``python -m jupyter lab``).

    Raises:
        ValueError: ``root`` is not a folder, ``course`` lacks ``nbgrader_config.py``, or
            ``course`` is not inside ``root``.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise ValueError(f"root must be an existing folder; received: {root}")
    course = root if course is None else Path(course).resolve()
    if course is not root and not (course / "nbgrader_config.py").is_file():
        raise ValueError(f"course must be a course directory with nbgrader_config.py; received: {course}")
    if not course.is_relative_to(root):
        raise ValueError(
            f"course must lie inside root (the formgrader opens notebooks by their path under the "
            f"server's root); received course={course}, root={root}"
        )
    argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}",
            "--ServerApp.ip=127.0.0.1", *OFFLINE]
    if (root / "notebooks").is_dir():
        argv.append("--LabApp.default_url=/lab/tree/notebooks")
    if hasattr(os, "getuid") and os.getuid() == 0:
        argv.append("--allow-root")  # containers and CI machines run as root
    return argv + list(extra)


def ensure_exchange(course) -> Path | None:
    """Create the nbgrader exchange folder that ``course``'s config names, if it is missing.

    nbgrader needs the exchange to exist already (and to be writable by every user): without it
    the formgrader shows a red warning and Release/Collect are off. ``nbgrader_config.py`` puts
    it beside itself (``exchange/``); this makes the folder, mode 0o777 as nbgrader's docs ask.

    Returns:
        the exchange folder, or None when the config sets none (nbgrader's system default).
    """
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    if "root" not in config.Exchange:
        return None
    exchange = Path(config.Exchange.root)
    if not exchange.is_dir():
        exchange.mkdir(parents=True)
        exchange.chmod(0o777)
    return exchange


def _default_root() -> Path:
    """The repository, when this runs from one; else (a student kit) the current folder."""
    try:
        from rnn_course.course import repo_root  # instructor-only: absent from the student kit
        return repo_root()
    except (ImportError, FileNotFoundError):
        return Path.cwd().resolve()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Options after -- go to jupyter lab, e.g. -- --port=8899 --no-browser",
    )
    parser.add_argument("--root", default=None, help="folder the file browser shows (default: the repository)")
    parser.add_argument("--course", default=None,
                        help="course directory for the formgrader and Validate (default: --root)")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = Path(args.root).resolve() if args.root else _default_root()
    course = Path(args.course).resolve() if args.course else root
    student = not (course / "nbgrader_config.py").is_file() and not args.course
    extra = args.extra[1:] if args.extra[:1] == ["--"] else args.extra
    try:
        argv = command(root, None if student else course, extra)
    except ValueError as error:
        parser.error(str(error))
    print(f"JupyterLab on {root}\n  students: notebooks/<chapter>/<chapter>.ipynb, then Validate on the toolbar",
          flush=True)
    if not student:
        ensure_exchange(course)
        print(f"  instructors: Nbgrader > Formgrader, course directory {course}", flush=True)
    os.chdir(course)
    os.execve(argv[0], argv, environment())
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
