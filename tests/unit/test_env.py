"""Unit tests for rnn_course.env and the package import: fast mode, seeding, a quiet start."""

import os
import platform
import random
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import rnn_course
from rnn_course import env

REPO = Path(__file__).resolve().parents[2]
TF_VARS = ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")


@pytest.fixture
def no_mode_vars(monkeypatch):
    """Neither RNN_COURSE_FAST nor NBGRADER_EXECUTION set."""
    monkeypatch.delenv(env.FAST_VAR, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return monkeypatch


@pytest.fixture
def restore_global_state(no_mode_vars):
    """Undo what setup() changes process-wide, so that other tests see the usual state."""
    py_state, np_state = random.getstate(), np.random.get_state()
    showwarning = warnings.showwarning
    try:  # private TensorFlow API, used only to undo enable_op_determinism()
        from tensorflow.python.framework import config as tf_config

        determinism = tf_config.is_op_determinism_enabled()
    except (ImportError, AttributeError):
        tf_config = None
    yield no_mode_vars
    random.setstate(py_state)
    np.random.set_state(np_state)
    warnings.showwarning = showwarning
    if tf_config is not None and not determinism:
        tf_config.disable_op_determinism()


def run_python(code: str, **changes) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter at the repository root; changes=None removes a variable."""
    child_env = dict(os.environ)
    for key in (*TF_VARS, env.FAST_VAR, "NBGRADER_EXECUTION"):
        child_env.pop(key, None)
    for key, value in changes.items():
        if value is None:
            child_env.pop(key, None)
        else:
            child_env[key] = value
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=180,
    )


# --- fast_mode / grading / pick ---------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE", " 1 "])
def test_fast_mode_true_values(no_mode_vars, value):
    no_mode_vars.setenv(env.FAST_VAR, value)
    assert env.fast_mode() is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "False", ""])
def test_fast_mode_false_values(no_mode_vars, value):
    no_mode_vars.setenv(env.FAST_VAR, value)
    assert env.fast_mode() is False


def test_fast_mode_zero_overrides_grading(no_mode_vars):
    no_mode_vars.setenv("NBGRADER_EXECUTION", "autograde")
    no_mode_vars.setenv(env.FAST_VAR, "0")
    assert env.fast_mode() is False


@pytest.mark.parametrize("value", ["garbage", "2", "fast"])
def test_fast_mode_rejects_other_values(no_mode_vars, value):
    no_mode_vars.setenv(env.FAST_VAR, value)
    with pytest.raises(ValueError, match="RNN_COURSE_FAST") as info:
        env.fast_mode()
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("mode", ["autograde", "validate"])
def test_fast_mode_on_while_nbgrader_executes(no_mode_vars, mode):
    no_mode_vars.setenv("NBGRADER_EXECUTION", mode)
    assert env.fast_mode() is True
    assert env.grading() == mode


def test_fast_mode_off_by_default(no_mode_vars):
    assert env.fast_mode() is False
    assert env.grading() is None


def test_empty_nbgrader_execution_is_not_grading(no_mode_vars):
    no_mode_vars.setenv("NBGRADER_EXECUTION", "")
    assert env.grading() is None
    assert env.fast_mode() is False


def test_pick(no_mode_vars):
    assert env.pick(full=30, fast=2) == 30
    no_mode_vars.setenv(env.FAST_VAR, "1")
    assert env.pick(full=30, fast=2) == 2
    assert env.pick(30, 2) == 2


# --- device -----------------------------------------------------------------------------------


def test_device_is_a_short_description():
    assert re.fullmatch(r"CPU|GPU \(\d+\)", env.device())


def test_device_survives_a_broken_driver(monkeypatch):
    from rnn_course import backend

    def broken(*args, **kwargs):
        raise RuntimeError("driver gone")

    monkeypatch.setattr(backend, "gpu_count", broken)
    assert env.device() == "unknown (RuntimeError: driver gone)"


# --- setup ------------------------------------------------------------------------------------


def test_setup_returns_the_environment(restore_global_state):
    import keras

    info = env.setup(seed=7, verbose=False)
    assert set(info) == {
        "python", "numpy", "keras", "backend", "backend_version", "device", "device_name", "tf32",
        "seed", "fast_mode", "grading",
    }
    assert info["python"] == platform.python_version()
    assert info["numpy"] == np.__version__
    assert info["keras"] == keras.__version__
    assert info["backend"] == keras.backend.backend()
    assert info["backend_version"] not in ("", "?")
    assert info["device"] == env.device()
    assert info["tf32"] is False  # off by default: GPU results are compared with CPU references
    if info["device"] == "CPU":
        assert info["device_name"] == "CPU"
    assert info["seed"] == 7
    assert info["fast_mode"] is False
    assert info["grading"] is None


def test_setup_result_is_a_dict_a_notebook_does_not_echo(restore_global_state):
    """The first cell ends with env.setup(...): its printed summary, no Out[1] repeating it."""
    from IPython.core.formatters import DisplayFormatter

    info = env.setup(seed=3, verbose=False)
    assert isinstance(info, dict) and dict(info)["seed"] == 3
    assert DisplayFormatter().format(info) == ({}, {})
    assert "text/plain" in DisplayFormatter().format(dict(info))[0]


def test_setup_reports_grading_and_fast_mode(restore_global_state):
    restore_global_state.setenv("NBGRADER_EXECUTION", "autograde")
    info = env.setup(verbose=False)
    assert info["fast_mode"] is True
    assert info["grading"] == "autograde"


def test_setup_makes_random_draws_reproducible(restore_global_state):
    import keras

    def draws(seed):
        env.setup(seed, verbose=False)
        return (
            random.random(),
            np.random.rand(4),
            keras.ops.convert_to_numpy(keras.random.uniform((4,))),
        )

    first, again, other = draws(3), draws(3), draws(4)
    assert first[0] == again[0]
    np.testing.assert_array_equal(first[1], again[1])
    np.testing.assert_array_equal(first[2], again[2])
    # a different seed gives different draws, so the equalities above say something
    assert first[0] != other[0]
    assert not np.array_equal(first[1], other[1])
    assert not np.array_equal(first[2], other[2])


def test_setup_verbose_prints_to_stdout_only(restore_global_state, capsys):
    env.setup(seed=5)
    out, err = capsys.readouterr()
    assert "backend" in out and "seed 5 | mode full" in out
    assert err == ""
    env.setup(seed=5, verbose=False)
    assert capsys.readouterr() == ("", "")


def test_setup_routes_warnings_to_stdout_while_grading(restore_global_state, capsys):
    restore_global_state.setenv("NBGRADER_EXECUTION", "autograde")
    env.setup(verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a student warning", UserWarning)
    out, err = capsys.readouterr()
    assert "a student warning" in out
    assert err == ""


def _clean_run(code: str, tmp_path):
    """``code`` in a fresh interpreter whose environment has no TF_*, KERAS_* or RNN_COURSE_* variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "KERAS_", "RNN_COURSE_", "MPL"))}
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_rnn_course_first_keeps_stderr_empty_and_keras_first_is_named(tmp_path):
    """A student's own Python (no variables set): the chapters' import order is quiet, keras first is not."""
    pytest.importorskip("tensorflow", reason="TensorFlow is not installed (JAX/PyTorch environment)")
    fit = ("import numpy as np; m = keras.Sequential([keras.Input((3, 2)), keras.layers.SimpleRNN(2)]); "
           "m.compile('sgd', 'mse'); m.fit(np.zeros((4, 3, 2)), np.zeros((4, 2)), verbose=0); "
           "m.predict(np.zeros((1, 3, 2)), verbose=0)")
    first = _clean_run(f"from rnn_course import env\nimport keras\nenv.setup()\n{fit}", tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr == "" and "imported before rnn_course" not in first.stdout
    late = _clean_run(f"import keras\nfrom rnn_course import env\nenv.setup()\n{fit}", tmp_path)
    assert late.returncode == 0, late.stderr
    assert "Note: tensorflow, keras was imported before rnn_course" in late.stdout, late.stdout
    assert late.stderr != ""   # what the note warns of: TensorFlow's start-up lines


def test_no_note_when_the_environment_set_the_variables_first(restore_global_state, capsys, monkeypatch):
    """Under make, nbgrader and the grader the variables come first: keras imported early is harmless."""
    import rnn_course

    monkeypatch.setattr(rnn_course, "IMPORTED_TOO_EARLY", ())
    env.setup(verbose=True)
    assert "imported before rnn_course" not in capsys.readouterr().out


def test_setup_rejects_a_negative_seed():
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        env.setup(-1)


@pytest.mark.parametrize("seed", [1.5, True, "3", None, np.float64(2.0)])
def test_setup_rejects_a_seed_that_is_not_an_int(seed):
    with pytest.raises(TypeError, match="seed must be a non-negative int"):
        env.setup(seed)


# --- the package import and a quiet start, in fresh interpreters ------------------------------


def test_import_sets_the_tensorflow_log_variables():
    result = run_python(
        "import os, rnn_course; "
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], os.environ['TF_ENABLE_ONEDNN_OPTS'])"
    )
    assert result.returncode == 0, result.stderr
    level, onednn = result.stdout.split()
    assert int(level) >= 2  # 2 hides INFO and WARNING lines, 3 also ERROR lines
    assert onednn == "0"


def test_import_keeps_values_already_set():
    result = run_python(
        "import os, rnn_course; "
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], os.environ['TF_ENABLE_ONEDNN_OPTS'])",
        TF_CPP_MIN_LOG_LEVEL="1",
        TF_ENABLE_ONEDNN_OPTS="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1"]


def test_setup_in_a_fresh_process_writes_nothing_to_stderr():
    """nbgrader scores a test cell that writes to stderr as 0: set-up and a first op stay quiet."""
    result = run_python(
        "import rnn_course.env as e; e.setup(); "
        "import keras; print(float(keras.ops.sum(keras.random.uniform((2, 3)))))"
    )
    assert result.returncode == 0, result.stderr
    assert "backend" in result.stdout
    assert result.stderr == "", f"stderr was not empty:\n{result.stderr}"


def test_setup_runs_pytorch_on_one_cpu_thread(restore_global_state, monkeypatch):
    """PyTorch's CPU threads spin-wait between the course's tiny ops: one thread by default."""
    import keras

    if keras.backend.backend() != "torch":
        pytest.skip("PyTorch backend only")
    import torch

    threads = torch.get_num_threads()
    try:
        monkeypatch.delenv("RNN_COURSE_TORCH_THREADS", raising=False)
        env.setup(verbose=False)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("RNN_COURSE_TORCH_THREADS", "2")
        env.setup(verbose=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
