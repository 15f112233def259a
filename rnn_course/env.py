"""Reproducible, quiet set-up for every chapter: seeds, determinism, logs, device, fast mode.

Every chapter's first cell runs ``rnn_course.env.setup()``.

Fast mode shrinks training (fewer epochs, smaller data) so that a chapter executes in seconds.
It is on when ``RNN_COURSE_FAST`` is set to a true value ("1", "true", "yes"), or, when that
variable is unset, while nbgrader executes the notebook (nbgrader sets ``NBGRADER_EXECUTION``
to "autograde" or "validate"). ``RNN_COURSE_FAST=0`` forces it off.
"""

from __future__ import annotations

import os
import platform
import random
import sys
import warnings

import rnn_course  # noqa: F401  (sets the TensorFlow log variables before any TF import)

FAST_VAR = "RNN_COURSE_FAST"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def kernel_env() -> dict:
    """Environment for JupyterLab, nbgrader and the kernels they start: quiet TensorFlow.

    The caller's environment plus: this interpreter's bin/ first on PATH, the TensorFlow log
    variables (unless set), no inherited ``MPLBACKEND`` (kernels pick the inline backend),
    ``PYTHONHASHSEED=0`` (unless set).
    """
    env = dict(os.environ)
    # nbgrader shells out to `alembic` (the gradebook's migrations) by name: the environment's
    # bin/ must come first on PATH even when nobody activated the virtual environment.
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    # Kernels pick the inline backend themselves; an inherited MPLBACKEND=Agg would hide figures.
    env.pop("MPLBACKEND", None)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def grading() -> str | None:
    """Return "autograde" or "validate" while nbgrader executes the notebook, else None."""
    return os.environ.get("NBGRADER_EXECUTION") or None


def fast_mode() -> bool:
    """Return True when training should be shrunk (see the module docstring)."""
    value = os.environ.get(FAST_VAR)
    if value is None:
        return grading() is not None
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{FAST_VAR} must be one of {sorted(_TRUE | _FALSE - {''})}; received: {value!r}"
    )


def pick(full, fast):
    """Return ``fast`` in fast mode, else ``full``.

    Example:
        epochs = env.pick(full=30, fast=2)
    """
    return fast if fast_mode() else full


def device() -> str:
    """Return a short description of the device Keras computes on, e.g. "CPU" or "GPU (1)".

    With a GPU visible, Keras places layers, tensors and training on it by default, whatever
    the backend; ``backend.device_name()`` gives the GPU's model.
    """
    from rnn_course import backend

    try:
        n = backend.gpu_count()
    except Exception as exc:  # a broken driver must not stop a chapter from starting
        return f"unknown ({type(exc).__name__}: {exc})"
    return f"GPU ({n})" if n else "CPU"


def _device_name() -> str:
    from rnn_course import backend

    try:
        return backend.device_name()
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"


def _warnings_to_stdout() -> None:
    """Show Python warnings on stdout: nbgrader scores a test cell with stderr output as 0."""

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stdout.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show


class SetupInfo(dict):
    """What ``setup`` reports: a plain dict that a notebook cell does not echo.

    ``env.setup(seed=0)`` is the last line of every chapter's first cell; its summary is already
    printed, so the notebook shows no ``Out[1]: {...}`` repeating it. ``print(info)`` or
    ``dict(info)`` still shows everything.
    """

    def _ipython_display_(self) -> None:
        pass


def setup(seed: int = 0, verbose: bool = True, tf32: bool = False) -> dict:
    """Seed everything, make the backend deterministic and quiet, and report the environment.

    Works with every Keras backend (``KERAS_BACKEND``: tensorflow, the default, jax, torch).
    On a GPU, training and layers run there (Keras' default placement); TensorFloat-32 is off
    unless asked for, because the chapters compare GPU results with references computed in
    full float32 precision (on a CPU the switch changes nothing).

    Args:
        seed: non-negative int seeding Python's ``random``, numpy and the Keras backend.
        verbose: print backend, versions, device and mode.
        tf32: allow TensorFloat-32 matmuls on Ampere and newer GPUs (faster, ~1e-3 precision).

    Returns:
        dict (``SetupInfo``, not echoed by a notebook) with keys ``python``, ``numpy``,
        ``keras``, ``backend``, ``backend_version``, ``device``, ``device_name``, ``tf32``,
        ``seed``, ``fast_mode`` and ``grading``.

    Example:
        from rnn_course import env
        info = env.setup(seed=0)
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be a non-negative int; received: {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int; received: {seed}")
    late = rnn_course.IMPORTED_TOO_EARLY

    import numpy as np
    import keras

    from rnn_course import backend as backends

    backends.keep_float64()
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    backend = keras.backend.backend()
    backend_version = "?"
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
        tf.get_logger().setLevel("ERROR")
        backend_version = tf.__version__
    elif backend == "jax":
        import jax

        backend_version = jax.__version__
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        # One CPU thread: PyTorch runs Keras' recurrent loops op by op, and its worker threads
        # spin-wait between the course's tiny ops. Measured on 2 shared cores, chapter 08 in fast
        # mode: 104 s with the default 2 threads, 17 s with 1 (25 s with 2 on an idle machine).
        # GPU work is unaffected. RNN_COURSE_TORCH_THREADS=n overrides.
        torch.set_num_threads(int(os.environ.get("RNN_COURSE_TORCH_THREADS", "1")))
        backend_version = torch.__version__
    backends.set_tf32(tf32)
    if grading():
        _warnings_to_stdout()

    info = SetupInfo({
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": backend_version,
        "device": device(),
        "device_name": _device_name(),
        "tf32": backends.tf32_enabled(),
        "seed": seed,
        "fast_mode": fast_mode(),
        "grading": grading(),
    })
    if verbose:
        print(
            f"Python {info['python']} | numpy {info['numpy']} | Keras {info['keras']} "
            f"| backend {backend} {backend_version} | device {info['device']}"
            + (f" {info['device_name']}, TF32 {'on' if info['tf32'] else 'off'}"
               if info["device"].startswith("GPU") else "")
        )
        mode = "fast (training shrunk)" if info["fast_mode"] else "full"
        print(f"seed {seed} | mode {mode}" + (f" | nbgrader {info['grading']}" if grading() else ""))
        if late:
            print(
                f"Note: {', '.join(late)} was imported before rnn_course, so TensorFlow's start-up "
                "lines may have gone to stderr (and every fit/predict may log an E0000 line there). "
                "Import rnn_course first: restart the kernel and run this cell first."
            )
    return info
