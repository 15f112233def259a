"""Numerical gradients by centred differences, and the relative error that compares them.

How to read ``rel_error`` between an analytic and a numerical gradient, in float64:
    <= 1e-7   good: the analytic gradient is right;
    ~1e-4     acceptable only where the function has kinks (ReLU, max, abs);
    > 1e-2    wrong.
In float32 a right gradient can show ~1e-2, so check gradients in float64.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from rnn_course.backend import to_numpy

GOOD = 1e-7
WRONG = 1e-2


def _as_float64_array(x, argument: str) -> np.ndarray:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{argument} must be a numpy array; received: {type(x).__name__}")
    if x.dtype != np.float64:
        raise TypeError(
            f"{argument} must have dtype float64 (finite differences in float32 are too noisy); "
            f"received: {x.dtype}"
        )
    return x


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function ``f`` at ``x`` by centred differences.

    ``df/dx_i ≈ (f(x + h e_i) - f(x - h e_i)) / (2h)``, one pair of calls per entry of ``x``.
    ``x`` is changed in place during the evaluation and restored afterwards, so ``f`` may close
    over it.

    Args:
        f: function of ``x`` returning a real number.
        x: float64 array of any shape.
        h: step size.

    Returns:
        array of the shape of ``x``.

    Example:
        x = np.array([1.0, 2.0])
        numerical_gradient(lambda v: float(np.sum(v ** 2)), x)   # ≈ [2., 4.]
    """
    x = _as_float64_array(x, "x")
    if not h > 0:
        raise ValueError(f"h must be positive; received: {h}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index", "zerosize_ok"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = float(f(x))
        x[i] = old - h
        minus = float(f(x))
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, upstream: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of ``sum(f(x) * upstream)`` with respect to ``x``, by centred differences.

    This is the vector-Jacobian product that a backward pass computes: ``upstream`` is the
    gradient of the loss with respect to the output of ``f``.

    Args:
        f: function of ``x`` returning an array of the shape of ``upstream``.
        x: float64 array of any shape.
        upstream: float64 array of the shape of ``f(x)``.
        h: step size.

    Returns:
        array of the shape of ``x``.
    """
    x = _as_float64_array(x, "x")
    upstream = _as_float64_array(upstream, "upstream")
    out = to_numpy(f(x))
    if out.shape != upstream.shape:
        raise ValueError(
            f"upstream must have the shape of f(x), {out.shape}; received: {upstream.shape}"
        )
    return numerical_gradient(lambda v: float(np.sum(to_numpy(f(v)) * upstream)), x, h)


def rel_error(a, b, floor: float = 1e-8) -> float:
    """Largest relative error ``|a - b| / max(floor, |a| + |b|)`` over all entries.

    Args:
        a, b: arrays (or numbers) of the same shape.
        floor: smallest denominator. Finite differences carry an absolute rounding noise of
            about 1e-11, so entries far smaller than the gradient's largest ones can show a
            large *relative* error; a floor of, say, 1e-4 times the largest entry compares
            those in absolute terms.

    Returns:
        float; see the module docstring for which values mean right and wrong.
    """
    a = to_numpy(a, dtype=np.float64)
    b = to_numpy(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; received: {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    if not floor > 0:
        raise ValueError(f"floor must be positive; received: {floor}")
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))))
