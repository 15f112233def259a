"""rnn_course.kit: the student kit holds the release and the student modules, never an answer."""

from __future__ import annotations

import ast
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from rnn_course import kit
from rnn_course.course import chapters, repo_root

REPO = repo_root()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return kit.build(tmp_path_factory.mktemp("kit") / "student-kit", REPO)


def _wheel(folder: Path) -> Path:
    (wheel,) = (folder / "wheels").glob("rnn_course-*.whl")
    return wheel


def test_the_kit_holds_the_release_the_wheel_and_how_to_install(built):
    folder = built.folder
    names = chapters(REPO)
    assert sorted(p.parent.name for p in (folder / "notebooks").glob("*/*.ipynb")) == names
    for name in names:
        assert (folder / "notebooks" / name / f"{name}.ipynb").read_bytes() == \
            (REPO / "notebooks" / name / f"{name}.ipynb").read_bytes()
    top = sorted(p.name for p in folder.iterdir())
    assert top == ["README.md", "environment.yml", "notebooks", "requirements.txt", "wheels"]
    readme = (folder / "README.md").read_text()
    assert "python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt" in readme
    assert ".venv/bin/python -m rnn_course.lab" in readme
    assert all(f"notebooks/{n}/{n}.ipynb" in readme for n in names)
    requirements = (folder / "requirements.txt").read_text().splitlines()
    assert requirements[-1] == f"./wheels/{_wheel(folder).name}"
    pins = [line for line in requirements if "==" in line]
    assert "tensorflow_cpu==2.21.0" in pins and "nbgrader==0.9.6" in pins
    assert not [line for line in pins if line.startswith(("pytest==", "playwright=="))]
    assert "-r requirements.txt" in (folder / "environment.yml").read_text()
    with zipfile.ZipFile(built.archive) as archive:
        assert f"{folder.name}/notebooks/00_setup/00_setup.ipynb" in archive.namelist()
        assert f"{folder.name}/wheels/{_wheel(folder).name}" in archive.namelist()


def test_the_wheel_holds_the_student_modules_only(built):
    with zipfile.ZipFile(_wheel(built.folder)) as wheel:
        modules = sorted(n[len("rnn_course/"):-3] for n in wheel.namelist() if n.endswith(".py"))
        metadata = wheel.read("rnn_course-0.1.0.dist-info/METADATA").decode()
    assert modules == sorted(kit.STUDENT_MODULES)
    assert "grading" not in " ".join(modules) and "Requires-Dist: keras==3.15.1" in metadata


def test_a_built_kit_scans_clean_and_earlier_answers_given_later_are_reported(built):
    leaks, given_later = kit.scan(built.folder, REPO)
    assert leaks == []
    # Chapter 06 gives chapter 05's clipping as code of its own (so it goes out after 05 is due).
    assert "05_clipping" in given_later["06_training_from_scratch"]
    assert all(earlier < later for later, found in given_later.items() for earlier in found)


def test_the_scan_finds_every_kind_of_leak(built, tmp_path):
    folder = tmp_path / "kit"
    shutil.copytree(built.folder, folder)
    secrets = kit.Secrets(REPO)
    secret = [(line, chapter, kind) for line, (chapter, kind) in secrets.solution.items()
              if line not in secrets.all_given]  # no chapter shows these lines anywhere
    answer = next(line for line, chapter, kind in secret if chapter == "05_clipping" and kind == "solution")
    hidden = next(line for line, _, kind in secret if kind == "hidden test")
    reference = next(iter(secrets.reference))
    (folder / "README.md").write_text((folder / "README.md").read_text() + f"\n    {answer}\n")
    (folder / "notes.txt").write_text(f"{hidden}\n{reference}\n")
    release = folder / "notebooks" / "05_clipping" / "05_clipping.ipynb"
    notebook = json.loads(release.read_text())
    notebook["cells"][-1]["source"] = [answer]
    release.write_text(json.dumps(notebook))
    (folder / "solutions").mkdir()
    (folder / "solutions" / "x.txt").write_text("")
    wheel = _wheel(folder)
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("rnn_course/grading/verdict.py", "")
        archive.writestr("rnn_course/samples.py", "")
    leaks = "\n".join(kit.scan(folder, REPO)[0])
    assert f"README.md: holds a line of 05_clipping's solution: {answer[:60]!r}" in leaks
    assert "notebooks/05_clipping/05_clipping.ipynb: holds a line of 05_clipping's solution" in leaks
    assert "notes.txt: holds a line of" in leaks and "hidden test" in leaks
    assert "notes.txt: holds a line of tests/reference/" in leaks
    assert "solutions/x.txt: a folder of the instructor's" in leaks
    assert f"{wheel.relative_to(folder)}!rnn_course/grading/verdict.py: not a student module" in leaks
    assert "!rnn_course/samples.py: not a student module" in leaks


def test_build_refuses_a_kit_that_leaks(tmp_path, monkeypatch):
    monkeypatch.setattr(kit, "scan", lambda folder, repo: (["x: a leak"], {}))
    with pytest.raises(kit.KitError, match="x: a leak"):
        kit.build(tmp_path / "kit", REPO, ["00_setup"], zip_it=False)
    assert not (tmp_path / "kit").exists()


def test_a_week_s_kit_and_bad_arguments(tmp_path):
    week = kit.build(tmp_path / "week1", REPO, ["00_setup", "01_rnn_forward"], zip_it=False)
    assert sorted(p.name for p in (week.folder / "notebooks").iterdir()) == ["00_setup", "01_rnn_forward"]
    assert week.archive is None and week.given_later == {}
    with pytest.raises(ValueError, match="chapters must be among"):
        kit.build(tmp_path / "k", REPO, ["99_nothing"])
    for inside in (REPO, REPO / "notebooks" / "kit", REPO.parent):
        with pytest.raises(ValueError, match="out must be"):
            kit.build(inside, REPO)


def test_the_wheel_is_the_same_byte_for_byte(built, tmp_path):
    again = kit.build_wheel(REPO, tmp_path)
    assert again.read_bytes() == _wheel(built.folder).read_bytes()


def _imports(path: Path):
    """rnn_course modules ``path`` imports, outside a ``try: ... except ImportError``."""
    guarded = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id == "ImportError"
                or isinstance(h.type, ast.Tuple) and any(getattr(e, "id", "") == "ImportError" for e in h.type.elts)
                for h in node.handlers):
            guarded.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rnn_course"):
            if node.module == "rnn_course":
                yield from (alias.name for alias in node.names)
            else:
                yield node.module.split(".")[1]
        elif isinstance(node, ast.Import):
            yield from (a.name.split(".")[1] for a in node.names if a.name.startswith("rnn_course."))


@pytest.mark.parametrize("module", kit.STUDENT_MODULES)
def test_student_modules_import_no_instructor_module(module):
    outside = set(_imports(REPO / "rnn_course" / f"{module}.py")) - set(kit.STUDENT_MODULES)
    assert not outside, f"rnn_course/{module}.py imports {sorted(outside)}, which the student kit lacks"


def test_cli_student_kit(tmp_path, capsys):
    from rnn_course import cli

    assert cli.main(["--course", str(REPO), "student-kit", str(tmp_path / "k"), "--chapters", "00_setup",
                     "--no-zip"]) == 0
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / "k")]
    assert cli.main(["--course", str(REPO), "student-kit", str(REPO / "solutions")]) == 1
    assert "out must be" in capsys.readouterr().err
