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
    """Return a short description of the device Keras computes on, e.g. "CPU" or "GPU (1)"."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            return f"GPU ({len(gpus)})" if gpus else "CPU"
        if backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform == "gpu"]
            return f"GPU ({len(gpus)})" if gpus else "CPU"
        if backend == "torch":
            import torch

            n = torch.cuda.device_count()
            return f"GPU ({n})" if n else "CPU"
    except Exception as exc:  # a broken driver must not stop a chapter from starting
        return f"unknown ({type(exc).__name__}: {exc})"
    return "CPU"


def _warnings_to_stdout() -> None:
    """Show Python warnings on stdout: nbgrader scores a test cell with stderr output as 0."""

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stdout.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show


def setup(seed: int = 0, verbose: bool = True) -> dict:
    """Seed everything, make TensorFlow deterministic and quiet, and report the environment.

    Args:
        seed: non-negative int seeding Python's ``random``, numpy and the Keras backend.
        verbose: print backend, versions, device and mode.

    Returns:
        dict with keys ``python``, ``numpy``, ``keras``, ``backend``, ``backend_version``,
        ``device``, ``seed``, ``fast_mode`` and ``grading``.

    Example:
        from rnn_course import env
        info = env.setup(seed=0)
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be a non-negative int; received: {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int; received: {seed}")
    late = "tensorflow" in sys.modules and not os.environ.get("TF_ENABLE_ONEDNN_OPTS")

    import numpy as np
    import keras

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
        backend_version = torch.__version__
    if grading():
        _warnings_to_stdout()

    info = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": backend_version,
        "device": device(),
        "seed": seed,
        "fast_mode": fast_mode(),
        "grading": grading(),
    }
    if verbose:
        print(
            f"Python {info['python']} | numpy {info['numpy']} | Keras {info['keras']} "
            f"| backend {backend} {backend_version} | device {info['device']}"
        )
        mode = "fast (training shrunk)" if info["fast_mode"] else "full"
        print(f"seed {seed} | mode {mode}" + (f" | nbgrader {info['grading']}" if grading() else ""))
        if late:
            print(
                "Note: TensorFlow was imported before rnn_course; its start-up log may have gone "
                "to stderr. Run this cell first after restarting the kernel."
            )
    return info
