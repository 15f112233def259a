"""The student kit: what a student receives, without the answers (``rnn-course student-kit OUT``).

Instructor-only (it reads ``solutions/`` to prove that none of it is in the kit). The kit is a
folder, and a zip of it beside it::

    OUT/
        README.md            two commands: install, then open JupyterLab
        requirements.txt     the pinned set (requirements/lock.txt, no test tools) and the wheel
        environment.yml      the same for conda
        notebooks/           the release: every chapter, YOUR CODE HERE cells, visible tests only
        wheels/rnn_course-<version>-py3-none-any.whl
    OUT.zip

The wheel holds only the modules in ``STUDENT_MODULES`` (the chapters' helpers, the kernel side of
the grader's channel, the JupyterLab launcher); the instructor's side (``grading/``, the CLI, the
course and release tools, this module) stays out, as do ``solutions/`` and ``tests/`` (hidden
tests, the reference layers). ``scan`` checks a built kit: no line of a solution block and no line
of a reference layer may appear in any of its files, the wheel's members included; ``build``
refuses to finish a kit that fails it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

# Modules of rnn_course that ship to students (tests/unit/test_repo.py: none of them imports a
# module outside this list, except in a guarded ``try: ... except ImportError``).
STUDENT_MODULES = (
    "__init__", "autodiff", "backend", "channel", "checks", "data", "env", "gradcheck", "lab",
    "plotting", "student_side", "training",
)
# Package data the student modules read (lab's nbconvert template).
STUDENT_DATA = ("jupyter",)
# Top-level packages of the lock that only the repository's tests need.
DEV_ONLY = ("pytest", "playwright")
# Lines shorter than this are too generic to call a leak (``return h``, ``h = h_next``).
MIN_LEAK_CHARS = 24

_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


class KitError(RuntimeError):
    """The kit could not be built, or a built kit holds something of the instructor's."""


def _wheel_pyproject(repo: Path) -> str:
    """pyproject.toml for the student wheel: the project's name, version and dependencies only."""
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    lines = ["[build-system]", 'requires = ["setuptools>=64"]', 'build-backend = "setuptools.build_meta"', "",
             "[project]"]
    for key in ("name", "version", "description", "requires-python"):
        lines.append(f"{key} = {json.dumps(project[key])}")
    lines.append("dependencies = [" + ", ".join(json.dumps(d) for d in project["dependencies"]) + "]")
    lines += ["", "[tool.setuptools]", 'packages = ["rnn_course"]', "",
              "[tool.setuptools.package-data]",
              'rnn_course = ["jupyter/nbconvert/templates/base/*.j2"]', ""]
    return "\n".join(lines)


def build_wheel(repo: Path, out: Path) -> Path:
    """Build the student wheel of ``rnn_course`` (``STUDENT_MODULES`` only) into ``out``.

    A staged copy of the student modules with a pyproject.toml of its own, built by
    ``pip wheel`` (no network: setuptools comes from this environment).

    Returns:
        the wheel's path.
    """
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rnn-course-wheel-") as stage:
        stage = Path(stage)
        package = stage / "rnn_course"
        package.mkdir()
        for name in STUDENT_MODULES:
            shutil.copy2(repo / "rnn_course" / f"{name}.py", package / f"{name}.py")
        for name in STUDENT_DATA:
            shutil.copytree(repo / "rnn_course" / name, package / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        (stage / "pyproject.toml").write_text(_wheel_pyproject(repo))
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--no-build-isolation", "--wheel-dir", str(out), str(stage)],
            capture_output=True, text=True,
            # The same sources give the same wheel, byte for byte (zip entries' dates).
            env={**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1767225600")},
        )
        if done.returncode != 0:
            raise KitError(f"pip wheel failed:\n{done.stdout}{done.stderr}")
    wheels = sorted(out.glob("rnn_course-*.whl"))
    if len(wheels) != 1:
        raise KitError(f"expected one rnn_course wheel in {out}; found {[w.name for w in wheels]}")
    return wheels[0]


def requirements(repo: Path, wheel: str) -> str:
    """The kit's requirements.txt: the lock without the test tools, then the wheel."""
    keep = []
    for line in (repo / "requirements" / "lock.txt").read_text().splitlines():
        name = re.split(r"[=<>\[; ]", line.strip(), maxsplit=1)[0].lower()
        if line.startswith("#") or not line.strip() or name in DEV_ONLY:
            continue
        keep.append(line)
    return (
        "# Everything the chapters need, pinned (the course's tested set, Python 3.11, Linux x86-64;\n"
        "# elsewhere replace tensorflow_cpu by tensorflow). Run pip from this folder:\n"
        "#     python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt\n"
        + "\n".join(keep) + f"\n./wheels/{wheel}\n"
    )


ENVIRONMENT_YML = """\
# Conda: `conda env create -f environment.yml` in this folder, then `conda activate rnn-course`
# and `python -m rnn_course.lab`. Conda supplies Python and pip; the packages are requirements.txt's.
name: rnn-course
channels:
  - conda-forge
  - nodefaults
dependencies:
  - python=3.11
  - pip
  - pip:
      - -r requirements.txt
"""

README = """\
# rnn-course — recurrent neural networks by hand, with Keras 3

The chapters are Jupyter notebooks in `notebooks/`, one folder each. Fill in every cell that says
`YOUR CODE HERE`, run the tests under it (they tell you which check failed and what the bug
likely is), then press **Validate** on the notebook's toolbar before you submit: it runs the
whole saved notebook the way the grader will. The grader also runs hidden tests (other shapes,
seeds and edge cases), so a passing Validate is necessary, not sufficient.

## Set up (Python 3.11, Linux or macOS; once)

In this folder:

    python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt
    .venv/bin/python -m rnn_course.lab

The first command installs the pinned packages (TensorFlow's CPU build, Keras, JupyterLab,
nbgrader's Validate) and this course's helper package (`wheels/`) into `.venv`; the second opens
JupyterLab on this folder in your browser (add `-- --no-browser` to only print its address).
Nothing needs the internet after the install. With conda instead:
`conda env create -f environment.yml && conda activate rnn-course`, then `python -m rnn_course.lab`.
On macOS or Linux ARM, replace `tensorflow_cpu` by `tensorflow` in requirements.txt first.

## Chapters

{chapters}

Start with `00_setup`: it checks the installation and shows how the checks and Validate work.
Training cells run a shorter version while Validate runs (fast mode); run the notebook yourself
for the full figures.
"""


def _cell_sources(notebook: Path) -> list[str]:
    return ["".join(cell["source"]) for cell in json.loads(notebook.read_text())["cells"]]


def distinctive(line: str) -> bool:
    """A stripped line specific enough that finding it verbatim outside its chapter is a leak.

    Shorter than ``MIN_LEAK_CHARS``, a comment, a string or an import is too generic to count.
    tests/unit/test_repo.py holds ``rnn_course/`` itself to the same rule.
    """
    return len(line) >= MIN_LEAK_CHARS and not line.startswith(("#", '"', "'", "import ", "from "))


class Secrets:
    """What only the instructor has, line by line, and what each chapter gives its students.

    ``given[chapter]``: the lines of the chapter's source outside its solution and hidden-test
    blocks (what its release shows). ``solution[line]``: the first chapter whose solution or
    hidden tests hold the line, unless that chapter also gives it. ``reference[line]``: lines of
    the reference layers (tests/reference) that no chapter gives (signatures and docstrings of the
    classes students write are given; their bodies are not). Lines shorter than
    ``MIN_LEAK_CHARS``, comments and imports are too generic to count.
    """

    def __init__(self, repo: Path):
        self.given: dict[str, set] = {}
        self.solution: dict[str, tuple] = {}
        hidden = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
        for source in sorted((repo / "solutions").glob("*/*.ipynb")):
            chapter, secret = source.parent.name, {}
            given = self.given.setdefault(chapter, set())
            for text in _cell_sources(source):
                for kind, pattern in (("solution", _BLOCK), ("hidden test", hidden)):
                    for block in pattern.findall(text):
                        secret.update({line.strip(): kind for line in block.splitlines()})
                    text = pattern.sub("", text)
                given.update(line.strip() for line in text.splitlines())
            for line, kind in secret.items():
                if distinctive(line) and line not in given:
                    self.solution.setdefault(line, (chapter, kind))
        self.all_given = set().union(*self.given.values())
        self.reference = {}
        for source in sorted((repo / "tests" / "reference").glob("*.py")):
            for line in source.read_text().splitlines():
                line = line.strip()
                if distinctive(line) and line not in self.all_given:
                    self.reference.setdefault(line, f"tests/reference/{source.name}")


def _texts(kit: Path):
    """(name, text) of every file in ``kit``, and of every member of its wheels and zips."""
    for path in sorted(p for p in kit.rglob("*") if p.is_file()):
        if path.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    yield f"{path.relative_to(kit)}!{member}", archive.read(member).decode("utf-8", "replace")
        else:
            yield str(path.relative_to(kit)), path.read_bytes().decode("utf-8", "replace")


def _notebook_text(text: str) -> str:
    """A notebook's cell sources and text outputs, one after the other (what a reader sees)."""
    try:
        cells = json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError):
        return text
    parts = []
    for cell in cells:
        parts.append("".join(cell.get("source", "")))
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            for value in output.get("data", {}).values():
                parts.append("".join(value) if isinstance(value, list) else str(value))
    return "\n".join(parts)


def scan(kit: Path, repo: Path) -> tuple[list[str], dict[str, set]]:
    """What of the instructor's is in ``kit``.

    Looks for every distinctive line of every solution block, hidden-test block and reference
    layer (``Secrets``), for instructor-only modules in the wheel, and for folders named
    ``solutions`` or ``tests``. A chapter's release may show an *earlier* chapter's answer (chapter
    06 gives the clipping of chapter 05 as code of its own): that is reported apart, since the kit
    is then only safe to hand out after the earlier chapter is due.

    Returns:
        (leaks, given_later): one line per leak (empty: none), and {chapter: the earlier
        chapters whose answers its release shows}.
    """
    secrets = Secrets(repo)
    leaks, given_later = [], {}
    for name, text in _texts(Path(kit)):
        parts = re.split(r"[/!]", name)
        if "solutions" in parts or "tests" in parts:
            leaks.append(f"{name}: a folder of the instructor's")
        member = name.split("!", 1)[1] if "!" in name else ""
        if member.endswith(".py"):
            folder, _, module = member[:-3].rpartition("/")
            if folder != "rnn_course" or module not in STUDENT_MODULES:
                leaks.append(f"{name}: not a student module")
        release = parts[1] if parts[0] == "notebooks" and len(parts) == 3 else None
        if name.endswith(".ipynb"):
            text = _notebook_text(text)
        for line in {line.strip() for line in text.splitlines()}:
            if line in secrets.reference:
                leaks.append(f"{name}: holds a line of {secrets.reference[line]}: {line[:60]!r}")
            if line not in secrets.solution:
                continue
            chapter, kind = secrets.solution[line]
            if release is not None and chapter < release:
                if kind == "solution":  # a hidden test's set-up line (rng, shapes) is no answer
                    given_later.setdefault(release, set()).add(chapter)
            elif release is None and line in secrets.all_given or release is not None and chapter > release:
                continue  # code some chapter shows anyway (before the one whose answer uses it)
            else:
                leaks.append(f"{name}: holds a line of {chapter}'s {kind}: {line[:60]!r}")
    return sorted(leaks), given_later


@dataclasses.dataclass
class Kit:
    """A built kit: its folder, its zip (None without one), and ``scan``'s given_later."""

    folder: Path
    archive: Path | None
    given_later: dict


def build(out, repo=None, chapters=None, zip_it: bool = True) -> Kit:
    """Build the student kit into the folder ``out`` (replaced if it exists), and ``out``.zip.

    Args:
        out: the kit's folder, outside the repository or under its ``build/``.
        repo: the repository (default: the one this runs from).
        chapters: the chapters to include (default: every chapter of ``solutions/``); a week's
            kit holds the chapters released so far.
        zip_it: also write ``out``.zip.

    Raises:
        ValueError: ``out`` is the repository, holds it, or lies in it outside ``build/``; or
            an unknown chapter.
        KitError: a release is missing, the wheel did not build, or ``scan`` found something of
            the instructor's (the folder is then removed).
    """
    from rnn_course.course import chapters as all_chapters, repo_root

    repo = Path(repo).resolve() if repo else repo_root()
    out = Path(out).resolve()
    inside = out.is_relative_to(repo) and not out.is_relative_to(repo / "build")
    if repo.is_relative_to(out) or inside or out == repo / "build":
        raise ValueError(f"out must be a new folder outside the repository, or under its build/; "
                         f"received: {out}")
    known = all_chapters(repo)
    names = known if not chapters else list(chapters)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"chapters must be among {known}; received unknown {unknown}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in names:
        release = repo / "notebooks" / name / f"{name}.ipynb"
        if not release.is_file():
            shutil.rmtree(out)
            raise KitError(f"no release of {name}: run `make release` first")
        (out / "notebooks" / name).mkdir(parents=True)
        shutil.copy2(release, out / "notebooks" / name / release.name)
    wheel = build_wheel(repo, out / "wheels")
    (out / "requirements.txt").write_text(requirements(repo, wheel.name))
    (out / "environment.yml").write_text(ENVIRONMENT_YML)
    listing = "\n".join(f"- `notebooks/{n}/{n}.ipynb`" for n in names)
    (out / "README.md").write_text(README.format(chapters=listing))
    leaks, given_later = scan(out, repo)
    if leaks:
        shutil.rmtree(out)
        raise KitError("the kit holds instructor material:\n  " + "\n  ".join(leaks[:20]))
    archive = None
    if zip_it:
        archive = out.with_suffix(".zip")
        archive.unlink(missing_ok=True)
        shutil.make_archive(str(out), "zip", root_dir=out.parent, base_dir=out.name)
    return Kit(out, archive, given_later)
