"""Support code for the rnn-course chapters: set-up, checks, gradient checks, plots.

This package ships to students with the notebooks, so it never holds the answer to a graded
exercise: answers live only in ``solutions/``.
"""

import os as _os
import sys as _sys

# What was imported before this package, when the TensorFlow log variables were not already set
# (then TensorFlow's start-up lines went to stderr before we could quiet them): env.setup() says so.
# Empty under `make`, nbgrader and the grader, whose environments set the variables first.
IMPORTED_TOO_EARLY = tuple(
    name for name in ("tensorflow", "keras", "jax", "torch") if name in _sys.modules
) if "TF_CPP_MIN_LOG_LEVEL" not in _os.environ else ()

# Before anything can import TensorFlow: keep its C++ logs off stderr, where nbgrader would
# score a test cell 0. Measured with TF 2.21 on CPU: TF_CPP_MIN_LOG_LEVEL does not silence the
# oneDNN notice at import (absl logs it before initialisation), TF_ENABLE_ONEDNN_OPTS=0 does
# (and makes CPU results reproducible); with op determinism on, `model.fit` logs a harmless
# "E0000 ... use_unbounded_threadpool" error line that only level 3 silences.
for _key, _value in (("TF_CPP_MIN_LOG_LEVEL", "3"), ("TF_ENABLE_ONEDNN_OPTS", "0")):
    _os.environ.setdefault(_key, _value)

# The other backends and GPUs, also before their import (each only when not already set):
# JAX computes in float64 only with x64 on (the float64 autodiff oracles need it; float32
# stays the default dtype); TensorFlow and JAX would otherwise take (almost) all GPU memory at
# start-up, which fails as soon as two kernels share a GPU (nbgrader, a hub); PyTorch's
# deterministic mode needs a fixed cuBLAS workspace on CUDA (else it raises, or warns on stderr).
for _key, _value in (
    ("JAX_ENABLE_X64", "1"),
    ("XLA_PYTHON_CLIENT_PREALLOCATE", "false"),
    ("TF_FORCE_GPU_ALLOW_GROWTH", "true"),
    ("CUBLAS_WORKSPACE_CONFIG", ":4096:8"),
):
    _os.environ.setdefault(_key, _value)

__version__ = "0.1.0"
