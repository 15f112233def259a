"""The nbgrader pipeline in a scratch course directory: release, validate, submit, autograde.

Instructor-side support code (it reads ``solutions/`` at run time and holds no answers). Every
step runs the real ``nbgrader`` command line, with the repository's ``nbgrader_config.py``, in a
course directory of its own with its own SQLite gradebook, so nothing here touches the
repository's ``notebooks/`` unless asked to (``publish_release``).

Example:
    course = Course.create("build/demo/course")
    course.generate("01_rnn_forward")
    course.validate(course.source("01_rnn_forward")).passed
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from rnn_course.env import kernel_env  # noqa: F401  (course.kernel_env: used by the grader and the tests)

CHAPTER_RE = re.compile(r"^\d\d_[a-z0-9_]+$")


def repo_root(start: Path | None = None) -> Path:
    """The repository root: the first folder upwards holding nbgrader_config.py and solutions/."""
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for first in candidates:
        for folder in (first, *first.parents):
            if (folder / "nbgrader_config.py").is_file() and (folder / "solutions").is_dir():
                return folder
    raise FileNotFoundError(
        "no rnn-course repository found (a folder with nbgrader_config.py and solutions/) "
        f"above {candidates[0]}"
    )


def chapters(repo: Path | None = None) -> list[str]:
    """Chapter names (``NN_snake_case``) that have a source notebook in ``solutions/``, sorted."""
    solutions = (repo or repo_root()) / "solutions"
    return sorted(
        d.name for d in solutions.iterdir()
        if d.is_dir() and CHAPTER_RE.match(d.name) and (d / f"{d.name}.ipynb").is_file()
    )


@dataclasses.dataclass
class Validation:
    """What ``nbgrader validate`` said about one notebook."""

    passed: bool
    output: str


@dataclasses.dataclass
class Score:
    """One student's grade on one chapter, from the gradebook.

    ``auto``/``auto_max`` cover the autograded test cells; ``manual_max`` the written answers
    an instructor grades by hand (``manual`` is None until someone has).
    """

    student: str
    chapter: str
    auto: float
    auto_max: float
    manual: float | None
    manual_max: float
    cells: dict

    @property
    def total(self) -> float:
        return self.auto + (self.manual or 0.0)

    @property
    def total_max(self) -> float:
        return self.auto_max + self.manual_max


class Course:
    """A scratch nbgrader course directory built from the repository's solutions/."""

    def __init__(self, root: Path, repo: Path | None = None):
        self.root = Path(root).resolve()
        self.repo = Path(repo).resolve() if repo else repo_root()

    @classmethod
    def create(cls, root, repo: Path | None = None, fresh: bool = True) -> "Course":
        """Make the course directory: the repo's nbgrader_config.py and a copy of solutions/."""
        course = cls(root, repo)
        if fresh and course.root.exists():
            shutil.rmtree(course.root)
        course.root.mkdir(parents=True, exist_ok=True)
        shutil.copy2(course.repo / "nbgrader_config.py", course.root / "nbgrader_config.py")
        target = course.root / "solutions"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(
            course.repo / "solutions", target,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        return course

    def clone(self, root) -> "Course":
        """A copy of this course directory (gradebook included) at ``root``.

        nbgrader's SQLite gradebook is not safe for concurrent writers: to autograde in
        parallel, give each worker its own clone and read the scores from each.
        """
        target = Path(root).resolve()
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(self.root, target)
        return Course(target, self.repo)

    # paths -----------------------------------------------------------------------------
    def source(self, chapter: str) -> Path:
        return self.root / "solutions" / chapter / f"{chapter}.ipynb"

    def release(self, chapter: str) -> Path:
        return self.root / "notebooks" / chapter / f"{chapter}.ipynb"

    def submitted(self, student: str, chapter: str) -> Path:
        return self.root / "submitted" / student / chapter / f"{chapter}.ipynb"

    def feedback(self, student: str, chapter: str) -> Path:
        return self.root / "feedback" / student / chapter / f"{chapter}.html"

    @property
    def gradebook_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def check_gradebook(self) -> str:
        """Repair a half-initialised gradebook, or refuse a damaged one (:mod:`.grading.gradebook`)."""
        from rnn_course.grading import gradebook

        gradebook.own_bin_on_path()      # nbgrader, opened in this process, runs `alembic` by name
        return gradebook.check(self.root / "gradebook.db")

    # nbgrader commands -----------------------------------------------------------------
    def nbgrader(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``nbgrader ARGS`` in the course directory; raise with its output on failure."""
        self.check_gradebook()
        cmd = [sys.executable, "-m", "nbgrader", *args]
        proc = subprocess.run(
            cmd, cwd=self.root, env=kernel_env(), capture_output=True, text=True,
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"`nbgrader {' '.join(args)}` failed with exit code {proc.returncode}:\n"
                f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        return proc

    def generate(self, chapter: str) -> Path:
        """``nbgrader generate_assignment``: the student release of one chapter."""
        self.nbgrader("generate_assignment", chapter, "--force")
        return self.release(chapter)

    def validate(self, notebook: Path, invert: bool = False) -> Validation:
        """``nbgrader validate [--invert]``: run a notebook and check its test cells."""
        args = ["validate", str(notebook)] + (["--invert"] if invert else [])
        proc = self.nbgrader(*args, check=False)
        output = proc.stdout + proc.stderr
        success = "Success! The notebook does not pass any tests." if invert else (
            "Success! Your notebook passes all the tests.")
        return Validation(passed=proc.returncode == 0 and success in output, output=output)

    def submit(self, student: str, chapter: str, notebook: nbformat.NotebookNode) -> Path:
        """Place a notebook in nbgrader's ``submitted/<student>/<chapter>/`` layout."""
        path = self.submitted(student, chapter)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(path))
        (path.parent / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC\n")
        return path

    def autograde(self, chapter: str, student: str | None = None) -> None:
        """``nbgrader autograde``: execute the submissions and record grades in the gradebook."""
        args = ["autograde", chapter, "--create", "--force"]
        if student:
            args.append(f"--student={student}")
        self.nbgrader(*args)

    def generate_feedback(self, chapter: str, reveal_hidden_tests: bool = False) -> None:
        """``nbgrader generate_feedback``: an HTML report per autograded submission.

        The reports are rendered from sanitised notebooks (:mod:`rnn_course.grading.pages`), and
        hidden tests show as one comment line with their tracebacks trimmed, until the deadline
        has passed and ``reveal_hidden_tests`` is set. The preprocessors are passed on nbgrader's
        command line, so this does not depend on the course's ``nbgrader_config.py``.

        Args:
            chapter: the assignment.
            reveal_hidden_tests: show the hidden tests' code (after the deadline).
        """
        self.nbgrader("generate_feedback", chapter, "--force",
                      *feedback_options(reveal_hidden_tests))

    def export(self, csv_path: Path) -> Path:
        """``nbgrader export``: the gradebook as nbgrader's CSV."""
        csv_path = Path(csv_path).resolve()
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        self.nbgrader("export", f"--to={csv_path}")
        return csv_path

    # gradebook -------------------------------------------------------------------------
    def scores(self, chapter: str) -> dict[str, Score]:
        """Grades of every student on one chapter, from the SQLite gradebook."""
        from nbgrader.api import Gradebook

        result = {}
        self.check_gradebook()
        with Gradebook(self.gradebook_url) as gb:
            assignment = gb.find_assignment(chapter)
            for submission in assignment.submissions:
                auto = auto_max = manual_max = 0.0
                manual = None
                cells = {}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        cells[grade.name] = grade.score
                        if grade.cell.cell_type == "code":
                            auto += grade.auto_score or 0.0
                            auto_max += grade.max_score
                        else:
                            manual_max += grade.max_score
                            if grade.manual_score is not None:
                                manual = (manual or 0.0) + grade.manual_score
                result[submission.student.id] = Score(
                    submission.student.id, chapter, auto, auto_max, manual, manual_max, cells
                )
        return result


def feedback_options(reveal_hidden_tests: bool = False) -> list[str]:
    """``nbgrader generate_feedback`` options: sanitise every page, hide hidden tests unless told.

    nbgrader's own list (``GetGrades``, ``CSSHTMLHeaderPreprocessor``) with
    :class:`~rnn_course.grading.pages.SanitizePage` first and, unless ``reveal_hidden_tests``,
    :class:`~rnn_course.grading.pages.HideHiddenTests` after the grades are read; and the page
    template with MathJax inside it (:mod:`rnn_course.grading.mathjax`: typeset offline).
    """
    import json

    names = ["rnn_course.grading.pages.SanitizePage", "nbgrader.preprocessors.GetGrades"]
    if not reveal_hidden_tests:
        names.append("rnn_course.grading.pages.HideHiddenTests")
    names.append("nbconvert.preprocessors.CSSHTMLHeaderPreprocessor")
    from rnn_course.grading import mathjax

    return [f"--GenerateFeedback.preprocessors={json.dumps(names)}", *mathjax.feedback_options()]


def publish_release(course: Course, chapter: str, repo: Path | None = None) -> Path:
    """Copy a generated release chapter from the course directory into the repo's notebooks/."""
    repo = Path(repo).resolve() if repo else course.repo
    source = course.root / "notebooks" / chapter
    target = repo / "notebooks" / chapter
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def execute_notebook(path: Path, timeout: int = 120, fast: bool | None = None, allow_errors: bool = False,
                     cpu: list | None = None, split: bool = False):
    """Execute a notebook headless in a fresh kernel, as nbconvert/nbclient would.

    Args:
        path: the .ipynb file; it runs in its own folder.
        timeout: per-cell limit in seconds.
        fast: set RNN_COURSE_FAST for the kernel (None: inherit the environment).
        allow_errors: go on past a cell that raises (its error stays in its outputs); otherwise
            nbclient's CellExecutionError stops the run.
        cpu: if a list, the CPU seconds the kernel process (and its children) spent on each code
            cell are appended to it.
        split: run each test cell in a namespace of its own that holds only the chapter's
            trusted preamble (imports, ``test-helpers`` cells), as ``rnn-course grade``'s
            trusted process does: a test that reaches a student's name other than through
            ``student`` fails here with a NameError.

    Returns:
        (notebook, seconds): the executed notebook node and the wall time of each code cell,
        in order.
    """
    import time

    from nbclient import NotebookClient

    path = Path(path)
    notebook = nbformat.read(str(path), as_version=4)
    env = kernel_env()
    if fast is not None:
        env["RNN_COURSE_FAST"] = "1" if fast else "0"
    env.pop("NBGRADER_EXECUTION", None)
    if split:
        notebook = _split_tests(notebook)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(path.parent)}})
    seconds = []
    with client.setup_kernel(env=env):
        kernel = _cpu_meter(client) if cpu is not None else None
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            start = time.perf_counter()
            used = kernel() if kernel else 0.0
            client.execute_cell(cell, index)
            seconds.append(time.perf_counter() - start)
            if kernel:
                cpu.append(kernel() - used)
    return notebook, seconds


def _split_tests(notebook):
    """A copy whose test cells run in a separate trusted namespace (see execute_notebook's split)."""
    import copy

    from rnn_course.grading.merge import trusted_preamble
    from rnn_course.samples import nbgrader_meta

    notebook = copy.deepcopy(notebook)
    preamble = trusted_preamble(notebook)
    first = True
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        setup = ""
        if first:
            setup = (f"__rnn_course_tests__ = {{'__name__': '__rnn_course_tests__'}}\n"
                     f"exec(compile({preamble!r}, '<trusted preamble>', 'exec'), __rnn_course_tests__)\n")
            first = False
        cell.source = setup + f"exec(compile({cell.source!r}, '<test cell>', 'exec'), __rnn_course_tests__)"
    return notebook


def _cpu_meter(client):
    """A function giving the CPU seconds used so far by the client's kernel process tree."""
    import psutil

    process = psutil.Process(client.km.provisioner.pid)

    def used() -> float:
        total = 0.0
        for p in [process, *process.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
        return total

    return used
