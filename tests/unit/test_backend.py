"""rnn_course.backend: float64 on every backend, device queries, TF32, to_numpy."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from rnn_course import backend


def test_name_is_the_keras_backend():
    assert backend.name() == keras.backend.backend() in backend.BACKENDS


def test_float64_stays_float64():
    """Keras 3.15 computes float64 in float32 on JAX/PyTorch unless keep_float64() ran."""
    backend.keep_float64()
    a = keras.ops.convert_to_tensor(np.full((2, 2), 1.0 + 1e-12))
    product = keras.ops.matmul(a, a)
    assert backend.to_numpy(product).dtype == np.float64
    np.testing.assert_array_equal(backend.to_numpy(product), np.full((2, 2), 2 * (1.0 + 1e-12) ** 2))


def test_float32_stays_the_default():
    backend.keep_float64()
    x = keras.ops.ones((2, 2))
    assert keras.config.floatx() == "float32"
    assert backend.to_numpy(keras.ops.matmul(x, x)).dtype == np.float32


def test_on_a_cpu_nothing_is_on_a_gpu():
    if backend.gpu_count():
        pytest.skip("a GPU is visible (tests/gpu covers it)")
    assert backend.device_name() == "CPU"
    assert not backend.on_gpu(keras.ops.ones(3))
    assert not backend.on_gpu(keras.Variable(np.zeros(3)))


def test_set_tf32_round_trip():
    before = backend.tf32_enabled()
    try:
        backend.set_tf32(True)
        assert backend.tf32_enabled() is True
        backend.set_tf32(False)
        assert backend.tf32_enabled() is False
    finally:
        backend.set_tf32(before)


def test_to_numpy_of_tensors_that_track_gradients():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (TensorFlow environment)")
    t = torch.ones(3, requires_grad=True) * 2.0
    np.testing.assert_array_equal(backend.to_numpy(t), [2.0, 2.0, 2.0])
    assert backend.to_numpy([1, 2], dtype=float).dtype == np.float64
