"""rnn_course.lab: the `make lab` command line (the browser tests start the server itself)."""

from __future__ import annotations

import shutil
import stat

import pytest

from rnn_course import lab


def _course(folder, exchange_line=True):
    folder.mkdir(parents=True, exist_ok=True)
    text = "c = get_config()\n"
    if exchange_line:
        text = "import os\n" + text + 'c.Exchange.root = os.path.join(os.path.dirname(__file__), "exchange")\n'
    (folder / "nbgrader_config.py").write_text(text)
    return folder


def test_command_serves_root_with_the_course_inside(repo):
    argv = lab.command(repo, repo, ["--port=8899"])
    assert argv[1:4] == ["-m", "jupyter", "lab"]
    assert f"--ServerApp.root_dir={repo}" in argv
    assert "--ServerApp.ip=127.0.0.1" in argv
    assert "--LabApp.default_url=/lab/tree/notebooks" in argv  # students land on the release
    assert set(lab.OFFLINE) <= set(argv)
    assert argv[-1] == "--port=8899"


def test_command_takes_a_course_below_the_root(tmp_path):
    course = _course(tmp_path / "build" / "demo" / "course")
    argv = lab.command(tmp_path, course)
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in argv
    assert not any(a.startswith("--LabApp.default_url") for a in argv)  # no notebooks/ here


def test_command_rejects_a_course_outside_the_root(tmp_path):
    course = _course(tmp_path / "elsewhere")
    (tmp_path / "root").mkdir()
    with pytest.raises(ValueError, match="course must lie inside root"):
        lab.command(tmp_path / "root", course)


def test_command_rejects_a_folder_without_nbgrader_config(tmp_path):
    with pytest.raises(ValueError, match="nbgrader_config.py"):
        lab.command(tmp_path, tmp_path)


def test_command_rejects_a_missing_root(tmp_path):
    with pytest.raises(ValueError, match="root must be an existing folder"):
        lab.command(tmp_path / "missing", tmp_path)


def test_ensure_exchange_makes_the_configured_folder_writable_to_all(tmp_path):
    course = _course(tmp_path / "course")
    exchange = lab.ensure_exchange(course)
    assert exchange == course / "exchange" and exchange.is_dir()
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o777
    assert lab.ensure_exchange(course) == exchange  # a second start leaves it as it is


def test_ensure_exchange_leaves_nbgraders_default_alone(tmp_path):
    assert lab.ensure_exchange(_course(tmp_path / "course", exchange_line=False)) is None


def test_repository_config_puts_the_exchange_beside_it(repo, tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    assert lab.ensure_exchange(course) == course / "exchange"


def test_main_reports_a_bad_course_as_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        lab.main(["--root", str(tmp_path), "--course", str(tmp_path)])
    assert stop.value.code == 2
    assert "nbgrader_config.py" in capsys.readouterr().err


def test_environment_puts_the_mathjax_template_first_on_jupyter_path(monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", "/somewhere/else")
    env = lab.environment()
    first, rest = env["JUPYTER_PATH"].split(":", 1)
    assert first == str(lab.DATA_PATH) and rest == "/somewhere/else"
    macro = lab.DATA_PATH / "nbconvert" / "templates" / "base" / "mathjax.html.j2"
    assert "/static/jupyter_server_mathjax/MathJax.js" in macro.read_text()
    assert "MPLBACKEND" not in env  # kernels pick the inline backend themselves
