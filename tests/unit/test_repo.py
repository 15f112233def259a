"""Invariants of the repository itself: pins, chapter layout, notebook conventions, no leaks.

Fast: reads files only (no notebook execution, no TensorFlow import).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import tomllib
from functools import lru_cache
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

from rnn_course import kit

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
RELEASES = REPO / "notebooks"
PACKAGE = REPO / "rnn_course"
LOCK = REPO / "requirements" / "lock.txt"
# The JAX/PyTorch environment (.venv-backends, no TensorFlow) of `make test-backends`.
BACKENDS_LOCK = REPO / "requirements" / "backends.txt"
ENVIRONMENT = REPO / "environment.yml"
PYPROJECT = REPO / "pyproject.toml"

CHAPTER_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# Packaging tools a fresh virtualenv may lack; every other lock entry must be installed.
OPTIONAL_TOOLS = {"pip", "setuptools", "wheel"}


# --------------------------------------------------------------------------------------------
# Helpers: requirements
# --------------------------------------------------------------------------------------------


def normalise(name: str) -> str:
    """A distribution name in PEP 503 form: lower case, runs of -_. as one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def exact_pin(requirement: str, where: str) -> tuple[str, str]:
    """(normalised name, version) of a `name==version` requirement; fails if not an exact pin."""
    parsed = Requirement(requirement.split(";", 1)[0].strip())
    specs = list(parsed.specifier)
    assert len(specs) == 1 and specs[0].operator == "==", (
        f"{where}: {requirement!r} must be pinned exactly with '=='"
    )
    return normalise(parsed.name), specs[0].version


@lru_cache(maxsize=None)
def lock_pins(path: Path = LOCK) -> dict[str, tuple[str, str]]:
    """A lock file (requirements/lock.txt by default) as {normalised name: (name as written, version)}."""
    pins = {}
    where = path.relative_to(REPO)
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        assert match, f"{where} line {number}: {raw!r} is not `name==version`"
        key = normalise(match[1])
        assert key not in pins, f"{where} line {number}: {match[1]} is pinned twice"
        pins[key] = (match[1], match[2])
    return pins


def installed_lock() -> Path:
    """The lock of the environment running the tests: backends.txt where TensorFlow is absent."""
    import importlib.util

    return LOCK if importlib.util.find_spec("tensorflow") is not None else BACKENDS_LOCK


def locked(name: str) -> str:
    """'name==version' as written in requirements/lock.txt, for messages."""
    written, version = lock_pins()[name]
    return f"{written}=={version}"


@lru_cache(maxsize=None)
def environment() -> dict:
    return yaml.safe_load(ENVIRONMENT.read_text())


def environment_pip_section() -> list[str]:
    """The entries of the `- pip:` list in environment.yml's dependencies."""
    dependencies = environment()["dependencies"]
    sections = [d["pip"] for d in dependencies if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, (
        f"environment.yml: expected one `- pip:` section, found {len(sections)}"
    )
    return [str(entry) for entry in sections[0]]


def environment_pins() -> dict[str, str]:
    """{normalised name: version} of the `==` pins in environment.yml's pip section."""
    pins = {}
    for entry in environment_pip_section():
        if entry.startswith("-"):  # pip options such as `-e .`
            continue
        name, version = exact_pin(entry, "environment.yml pip section")
        pins[name] = version
    return pins


@lru_cache(maxsize=None)
def pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text())


def top_level_requirements() -> list[tuple[str, str]]:
    """(requirement, environment marker or '') for [project] dependencies and the dev extra."""
    project = pyproject()["project"]
    requirements = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    result = []
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        result.append((spec.strip(), marker.strip()))
    return result


def is_non_linux_tensorflow(name: str, marker: str) -> bool:
    """pyproject's `tensorflow` entry, for the platforms where tensorflow-cpu does not apply."""
    return name == "tensorflow" and bool(marker)


# --------------------------------------------------------------------------------------------
# Helpers: notebooks
# --------------------------------------------------------------------------------------------


def chapter_dirs(root: Path) -> list[str]:
    """Names of the folders in root, hidden ones (.ipynb_checkpoints, ...) left out."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def source_path(chapter: str) -> Path:
    return SOLUTIONS / chapter / f"{chapter}.ipynb"


def source_name(chapter: str) -> str:
    """solutions/<chapter>/<chapter>.ipynb, for messages."""
    return str(source_path(chapter).relative_to(REPO))


CHAPTERS = chapter_dirs(SOLUTIONS)
# Per-notebook tests run on the chapters that have their notebook; the layout test flags the rest.
NOTEBOOK_CHAPTERS = [chapter for chapter in CHAPTERS if source_path(chapter).is_file()]


@lru_cache(maxsize=None)
def source_notebook(chapter: str):
    return nbformat.read(source_path(chapter), as_version=4)


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution_code(cell) -> bool:
    return cell.cell_type == "code" and bool(nbgrader(cell).get("solution"))


def is_test(cell) -> bool:
    meta = nbgrader(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_written_answer(cell) -> bool:
    meta = nbgrader(cell)
    return cell.cell_type == "markdown" and bool(meta.get("grade")) and bool(meta.get("solution"))


def where(chapter: str, index: int, cell) -> str:
    """'solutions/<chapter>/<chapter>.ipynb cell <index> (grade_id <id>)', for messages."""
    grade_id = nbgrader(cell).get("grade_id")
    label = f" (grade_id {grade_id!r})" if grade_id else ""
    return f"{source_name(chapter)} cell {index}{label}"


def following_tests(cells, index: int) -> list[tuple[int, object]]:
    """The run of test cells right after cell `index`: the tests of that exercise."""
    tests = []
    for j in range(index + 1, len(cells)):
        if not is_test(cells[j]):
            break
        tests.append((j, cells[j]))
    return tests


def solution_lines(cell) -> list[str]:
    """Lines a student must write: between the solution markers, or the whole cell without any."""
    lines = cell.source.splitlines()
    if not any(line.strip() == BEGIN_SOLUTION for line in lines):
        return lines
    inside, depth = [], 0
    for line in lines:
        if line.strip() == BEGIN_SOLUTION:
            depth += 1
        elif line.strip() == END_SOLUTION:
            depth -= 1
        elif depth > 0:
            inside.append(line)
    return inside


def is_revealing(line: str) -> bool:
    """A stripped answer line long and specific enough that finding it verbatim is a leak (the kit's rule)."""
    return kit.distinctive(line) and line not in (BEGIN_SOLUTION, END_SOLUTION)


@lru_cache(maxsize=None)
def package_sources() -> dict[str, str]:
    """{path relative to the repo: text} of every .py file in rnn_course/."""
    return {
        str(path.relative_to(REPO)): path.read_text()
        for path in sorted(PACKAGE.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


# --------------------------------------------------------------------------------------------
# Pins: environment.yml, pyproject.toml, requirements/lock.txt, the installed packages
# --------------------------------------------------------------------------------------------


def test_environment_yml_header():
    """environment.yml: rnn-course, conda-forge only, Python 3.11 and pip, the project editable."""
    env = environment()
    assert env.get("name") == "rnn-course", (
        f"environment.yml: name must be 'rnn-course'; is {env.get('name')!r}"
    )
    channels = [c for c in env.get("channels", []) if c != "nodefaults"]
    assert channels == ["conda-forge"], (
        f"environment.yml: channels must be conda-forge only; are {channels}"
    )
    conda_deps = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda_deps, (
        f"environment.yml: needs `python=3.11` (the lock is for 3.11); has {conda_deps}"
    )
    assert "pip" in conda_deps, (
        f"environment.yml: needs `pip` among the conda dependencies; has {conda_deps}"
    )
    assert "-e ." in environment_pip_section(), (
        "environment.yml: the pip section must hold `-e .` (installs the project, editable)"
    )


def test_environment_yml_pins_equal_lock():
    """Every `==` pin in environment.yml's pip section has the version in requirements/lock.txt."""
    lock = lock_pins()
    for name, version in environment_pins().items():
        assert name in lock, (
            f"environment.yml pins {name}=={version}, which requirements/lock.txt lacks"
        )
        assert version == lock[name][1], (
            f"environment.yml pins {name}=={version}; requirements/lock.txt has {locked(name)}"
        )


def test_environment_yml_pins_exactly_the_top_level_dependencies():
    """environment.yml pins each top-level dependency of pyproject.toml, and nothing else."""
    pinned = set(environment_pins())
    names = [(normalise(Requirement(s).name), marker) for s, marker in top_level_requirements()]
    top_level = {name for name, marker in names if not is_non_linux_tensorflow(name, marker)}
    assert "tensorflow-cpu" in top_level, (
        "pyproject.toml: tensorflow-cpu is missing from [project] dependencies"
    )
    assert not top_level - pinned, (
        f"environment.yml pip section lacks top-level dependencies of pyproject.toml: "
        f"{sorted(top_level - pinned)}"
    )
    assert not pinned - top_level, (
        f"environment.yml pins packages that are not top-level dependencies in pyproject.toml: "
        f"{sorted(pinned - top_level)}"
    )


def test_pyproject_pins_equal_lock():
    """Each top-level dependency in pyproject.toml is pinned `==` to its version in the lock."""
    lock = lock_pins()
    for spec, marker in top_level_requirements():
        name, version = exact_pin(spec, "pyproject.toml")
        # The lock is resolved on Linux x86-64, where tensorflow-cpu stands in for tensorflow:
        # the other platforms must get the same TensorFlow release.
        locked_as = "tensorflow-cpu" if is_non_linux_tensorflow(name, marker) else name
        assert locked_as in lock, (
            f"pyproject.toml pins {spec!r}, but requirements/lock.txt has no {locked_as}"
        )
        assert version == lock[locked_as][1], (
            f"pyproject.toml pins {spec!r}; requirements/lock.txt has {locked(locked_as)}"
        )


def test_installed_packages_match_lock():
    """Every package in the environment's lock is installed at exactly the locked version.

    The TensorFlow environment (.venv) is checked against requirements/lock.txt, the JAX/PyTorch
    one (.venv-backends, no TensorFlow) against requirements/backends.txt. A local version label
    is allowed (torch==2.13.0 is installed as 2.13.0+cpu, the CPU wheel).
    """
    from packaging.specifiers import SpecifierSet

    lock = installed_lock()
    make = "make install" if lock == LOCK else "make install-backends"
    problems = []
    for key, (name, version) in lock_pins(lock).items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            if key not in OPTIONAL_TOOLS:
                problems.append(f"{name}=={version} is not installed")
            continue
        if installed not in SpecifierSet(f"=={version}"):
            problems.append(f"{name}: installed {installed}, locked {version}")
    assert not problems, (
        f"the installed packages differ from {lock.relative_to(REPO)} (run `{make}`, or "
        "`make lock` / `make lock-backends` if the lock is stale):\n  " + "\n  ".join(problems)
    )


def test_backends_lock_shares_the_versions_of_the_lock():
    """requirements/backends.txt pins every package it shares with lock.txt at the lock's version."""
    lock, backends = lock_pins(LOCK), lock_pins(BACKENDS_LOCK)
    differ = [f"{backends[k][0]}: backends.txt {backends[k][1]}, lock.txt {lock[k][1]}"
              for k in sorted(set(lock) & set(backends) - OPTIONAL_TOOLS) if lock[k][1] != backends[k][1]]
    assert not differ, "requirements/backends.txt disagrees with lock.txt (run `make lock-backends`):\n  " + (
        "\n  ".join(differ))
    missing = sorted(set(lock) - set(backends) - OPTIONAL_TOOLS
                     - {normalise(n) for n in TENSORFLOW_ONLY})
    assert not missing, (
        f"requirements/backends.txt lacks packages of lock.txt that are not TensorFlow's own: {missing} "
        "(run `make lock-backends`)"
    )


TENSORFLOW_ONLY = ("tensorflow", "tensorflow-cpu", "astunparse", "flatbuffers", "gast", "google-pasta",
                   "grpcio", "libclang", "protobuf", "termcolor", "wrapt")


def test_backends_lock_has_no_tensorflow_and_pins_the_backends_extra():
    """backends.txt: no TensorFlow, and pyproject's `backends` extra at its exact versions."""
    backends = lock_pins(BACKENDS_LOCK)
    assert not {"tensorflow", "tensorflow-cpu"} & set(backends), (
        "requirements/backends.txt must not hold TensorFlow (its environment tests the other backends)"
    )
    extra = pyproject()["project"]["optional-dependencies"]["backends"]
    names = set()
    for requirement in extra:
        name, version = exact_pin(requirement, "pyproject.toml [backends]")
        names.add(name)
        assert name in backends, f"pyproject.toml pins {requirement!r}; requirements/backends.txt lacks it"
        assert backends[name][1] == version, (
            f"pyproject.toml pins {requirement!r}; requirements/backends.txt has {backends[name][1]}"
        )
    assert {"jax", "jaxlib", "torch"} <= names, f"the backends extra must pin jax, jaxlib and torch; pins {names}"
    # Any other spec of torch pulls the CUDA build and several GB of NVIDIA wheels from PyPI.
    assert backends["torch"][1] == "2.13.0", "torch must stay exactly 2.13.0 (the local CPU wheel)"


# --------------------------------------------------------------------------------------------
# Chapter layout
# --------------------------------------------------------------------------------------------


def test_solution_chapters_are_named_and_hold_their_notebook():
    """Every solutions/<chapter>/ is named NN_snake_case and holds <chapter>.ipynb."""
    assert CHAPTERS, "solutions/ holds no chapter folders"
    for chapter in CHAPTERS:
        assert CHAPTER_NAME.match(chapter), (
            f"solutions/{chapter}/: chapter folders must be named NN_snake_case "
            f"({CHAPTER_NAME.pattern})"
        )
        assert source_path(chapter).is_file(), (
            f"solutions/{chapter}/ lacks its notebook {chapter}.ipynb"
        )


def test_release_has_the_same_chapters():
    """notebooks/ holds a release of every chapter in solutions/, and no stale chapter."""
    released = chapter_dirs(RELEASES)
    if not released:
        pytest.skip("notebooks/ has no chapter folders yet: generate them with `make release`")
    missing = sorted(set(CHAPTERS) - set(released))
    stale = sorted(set(released) - set(CHAPTERS))
    assert not missing, f"notebooks/ lacks the release of chapters {missing} (run `make release`)"
    assert not stale, f"notebooks/ holds chapters {stale} that solutions/ no longer has"
    for chapter in released:
        assert (RELEASES / chapter / f"{chapter}.ipynb").is_file(), (
            f"notebooks/{chapter}/ lacks its notebook {chapter}.ipynb"
        )


# --------------------------------------------------------------------------------------------
# Notebook conventions, per chapter
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_source_notebook_has_no_outputs(chapter):
    """Committed solution notebooks carry no outputs and no execution counts."""
    for index, cell in enumerate(source_notebook(chapter).cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], (
            f"{where(chapter, index, cell)}: has outputs; clear them before committing"
        )
        assert cell.execution_count is None, (
            f"{where(chapter, index, cell)}: has execution_count {cell.execution_count}; "
            f"clear it before committing"
        )


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_first_code_cell_calls_env_setup(chapter):
    """The first code cell of a chapter calls env.setup(...)."""
    cells = source_notebook(chapter).cells
    code = [(i, c) for i, c in enumerate(cells) if c.cell_type == "code"]
    assert code, f"{source_name(chapter)}: has no code cell"
    index, cell = code[0]
    assert re.search(r"\benv\.setup\(", cell.source), (
        f"{where(chapter, index, cell)}: the first code cell must call env.setup(...)"
    )


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_first_code_cell_imports_rnn_course_first(chapter):
    """rnn_course is the first import: it sets TensorFlow's log variables before keras loads it
    (in a student's own JupyterLab nothing else sets them; tests/notebooks/test_quiet_start.py)."""
    import ast

    index, cell = next((i, c) for i, c in enumerate(source_notebook(chapter).cells) if c.cell_type == "code")
    first = next(n for n in ast.parse(cell.source).body if isinstance(n, (ast.Import, ast.ImportFrom)))
    names = [first.module] if isinstance(first, ast.ImportFrom) else [a.name for a in first.names]
    assert all(n == "rnn_course" or n.startswith("rnn_course.") for n in names), (
        f"{where(chapter, index, cell)}: the first import must be rnn_course's (found {names}): "
        f"import keras after it, or TensorFlow logs to stderr in a student's own JupyterLab"
    )


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_every_exercise_is_followed_by_its_tests(chapter):
    """Each solution code cell is immediately followed by test cells, one with hidden tests."""
    cells = source_notebook(chapter).cells
    exercises = [(i, c) for i, c in enumerate(cells) if is_solution_code(c)]
    assert exercises, (
        f"{source_name(chapter)}: has no graded exercise (nbgrader solution code cell)"
    )
    for index, cell in exercises:
        tests = following_tests(cells, index)
        assert tests, (
            f"{where(chapter, index, cell)}: the next cell must be an autograded test cell "
            f"(nbgrader grade=True, solution=False, code)"
        )
        hidden = [j for j, t in tests if BEGIN_HIDDEN in t.source and END_HIDDEN in t.source]
        assert hidden, (
            f"{where(chapter, index, cell)}: none of its test cells {[j for j, _ in tests]} holds "
            f"`{BEGIN_HIDDEN}` ... `{END_HIDDEN}`"
        )


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_test_cells_follow_the_conventions(chapter):
    """Test cells open with a docstring, call rnn_course.checks, and are worth points."""
    for index, cell in enumerate(source_notebook(chapter).cells):
        if not is_test(cell):
            continue
        assert cell.source.startswith('"""'), (
            f'{where(chapter, index, cell)}: a test cell must start with a docstring line (""")'
        )
        assert re.search(r"\bchecks\.\w+\(", cell.source), (
            f"{where(chapter, index, cell)}: a test cell must call a checks.* helper"
        )
        points = nbgrader(cell).get("points", 0)
        assert points > 0, (
            f"{where(chapter, index, cell)}: a test cell must have points > 0; has {points}"
        )


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_chapter_has_a_written_answer(chapter):
    """Each chapter has a manually graded written answer worth points."""
    cells = source_notebook(chapter).cells
    answers = [(i, c) for i, c in enumerate(cells) if is_written_answer(c)]
    assert answers, (
        f"{source_name(chapter)}: needs a written answer "
        f"(markdown cell, nbgrader grade=True, solution=True)"
    )
    for index, cell in answers:
        points = nbgrader(cell).get("points", 0)
        assert points > 0, (
            f"{where(chapter, index, cell)}: a written answer must have points > 0; has {points}"
        )


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_grade_ids_are_unique(chapter):
    """No two nbgrader cells of a notebook share a grade_id."""
    seen = {}
    for index, cell in enumerate(source_notebook(chapter).cells):
        grade_id = nbgrader(cell).get("grade_id")
        if grade_id is None:
            continue
        assert grade_id not in seen, (
            f"{source_name(chapter)}: grade_id {grade_id!r} is used by cells "
            f"{seen[grade_id]} and {index}"
        )
        seen[grade_id] = index


# --------------------------------------------------------------------------------------------
# rnn_course never holds an answer
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_package_defines_no_exercise_function(chapter):
    """No module in rnn_course/ defines a function that a solution cell asks students to write."""
    sources = package_sources()
    for index, cell in enumerate(source_notebook(chapter).cells):
        if not is_solution_code(cell):
            continue
        for name in re.findall(r"^def\s+(\w+)\s*\(", cell.source, flags=re.MULTILINE):
            definition = re.compile(rf"^\s*(?:async\s+)?def\s+{name}\s*\(", flags=re.MULTILINE)
            for path, text in sources.items():
                assert not definition.search(text), (
                    f"{path} defines {name}(), the exercise of {where(chapter, index, cell)}"
                )


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_package_contains_no_solution_line(chapter):
    """No file in rnn_course/ contains a non-trivial line of a solution verbatim."""
    sources = package_sources()
    for index, cell in enumerate(source_notebook(chapter).cells):
        if not nbgrader(cell).get("solution"):
            continue
        for line in (raw.strip() for raw in solution_lines(cell)):
            if not is_revealing(line):
                continue
            for path, text in sources.items():
                assert line not in text, (
                    f"{path} contains the solution line {line!r} of {where(chapter, index, cell)}"
                )


# --------------------------------------------------------------------------------------------
# Entry points: Makefile and CI
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["test", "demo", "lab", "release", "test-backends", "test-gpu", "test-browser"])
def test_makefile_has_target(target):
    """The Makefile defines the targets the README and CI rely on."""
    makefile = (REPO / "Makefile").read_text()
    assert re.search(rf"^{re.escape(target)}\s*:(?!=)", makefile, flags=re.MULTILINE), (
        f"Makefile: no `{target}:` target"
    )


def test_ci_runs_make_test():
    """.ci/run is executable and runs `make test`."""
    script = REPO / ".ci" / "run"
    assert script.is_file(), ".ci/run is missing"
    assert os.access(script, os.X_OK), ".ci/run is not executable"
    commands = [line.split("#", 1)[0] for line in script.read_text().splitlines()]
    assert any(re.search(r"\bmake\s+test(?![\w-])", line) for line in commands), (
        ".ci/run does not run `make test` (outside comments)"
    )


@pytest.mark.parametrize("target", ["test-backends", "test-browser", "test-kit", "test-mutants"])
def test_ci_runs_target_after_make_test(target):
    """.ci/run runs `make test-backends` (JAX, PyTorch), `make test-browser`, `make test-kit` and `make test-mutants` after `make test`."""
    commands = [line.split("#", 1)[0] for line in (REPO / ".ci" / "run").read_text().splitlines()]
    test = [i for i, line in enumerate(commands) if re.search(r"\bmake\s+test(?![\w-])", line)]
    found = [i for i, line in enumerate(commands) if re.search(rf"\bmake\s+{target}\b", line)]
    assert found, f".ci/run does not run `make {target}` (outside comments)"
    assert test and min(found) > min(test), f".ci/run must run `make {target}` after `make test`"


# --------------------------------------------------------------------------------------------
# Stated requirements have visible tests (issue 18)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_every_exercise_has_a_visible_mutant_or_a_reason(chapter):
    """Each exercise has a mutant marked visible=True — a broken requirement the visible tests must
    catch, as tests/notebooks/test_visible_mutants.py checks in `make test-mutants` — or
    NO_VISIBLE_MUTANT in tests/notebooks/mutants/m<chapter>.py says why it has none."""
    from tests.notebooks.mutants import MUTANTS, NO_VISIBLE_MUTANT

    exercises = {nbgrader(c)["grade_id"] for c in source_notebook(chapter).cells if is_solution_code(c)}
    visible = {m.grade_id for m in MUTANTS if m.chapter == chapter and m.visible}
    reasons = {gid: why for (ch, gid), why in NO_VISIBLE_MUTANT.items() if ch == chapter}
    module = f"tests/notebooks/mutants/m{chapter}.py"
    assert all(isinstance(m.visible, bool) for m in MUTANTS if m.chapter == chapter), (
        f"{module}: visible must be True or False")
    unknown = sorted((visible | set(reasons)) - exercises)
    assert not unknown, f"{module}: not exercises of {source_name(chapter)}: {unknown}"
    stale = sorted(visible & set(reasons))
    assert not stale, f"{module}: NO_VISIBLE_MUTANT gives a reason for {stale}, which has a visible mutant"
    empty = sorted(gid for gid, why in reasons.items() if not (isinstance(why, str) and why.strip()))
    assert not empty, f"{module}: NO_VISIBLE_MUTANT must give a reason (a sentence) for {empty}"
    missing = sorted(exercises - visible - set(reasons))
    assert not missing, (
        f"{module}: no mutant marked visible=True for {missing}: mark one the visible tests catch "
        f"(a requirement the markdown states), or say why not in NO_VISIBLE_MUTANT"
    )
