"""Every test under tests/gpu needs a GPU visible to the Keras backend; without one it skips.

The reason names the backend and what it saw, so a CPU run (CI, a laptop) reports the tests
as skipped, never as passed. `make test-gpu` runs them on a GPU machine (docs/gpu.md).
"""

from __future__ import annotations

import pytest


def no_gpu_reason() -> str | None:
    """Why the GPU tests cannot run here, or None when the backend sees a GPU."""
    import keras

    from rnn_course import backend

    try:
        n = backend.gpu_count()
    except Exception as exc:  # a broken driver: say so instead of failing every test
        return f"the {keras.backend.backend()} backend could not query its GPUs ({type(exc).__name__}: {exc})"
    if n:
        return None
    return (f"no GPU visible to the {keras.backend.backend()} backend (rnn_course.env.device() is "
            f"'CPU'); run `make test-gpu` on a GPU machine, see docs/gpu.md")


@pytest.fixture(autouse=True)
def requires_gpu():
    reason = no_gpu_reason()
    if reason:
        pytest.skip(reason)
