"""Gradients from the Keras backend's own autodiff: the oracle for hand-derived backward passes.

One call for every backend: TensorFlow (``tf.GradientTape``), JAX (``jax.grad``) and PyTorch
(``torch.autograd``), chosen by ``keras.backend.backend()``. The function to differentiate takes
tensors and returns a scalar; write it with ``keras.ops`` and Keras layers. To differentiate
with respect to a layer's weights, pass them as arguments and run the layer with
``layer.stateless_call(weights, non_trainable, inputs)`` (``non_trainable``: the values of
``layer.non_trainable_variables``, e.g. the dropout seed state of a recurrent layer).

Example:
    layer = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float64")
    layer.build((None, T, D))
    def loss(x, Wx, Wh, bh):
        h, _ = layer.stateless_call([Wx, Wh, bh], [v.value for v in layer.non_trainable_variables], x)
        return keras.ops.sum(h * dh)
    value, (dx, dWx, dWh, dbh) = autodiff.value_and_grad(loss, x, Wx, Wh, bh)
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def _check_args(args) -> list[np.ndarray]:
    if not args:
        raise ValueError("value_and_grad needs at least one array to differentiate with respect to")
    arrays = []
    for i, a in enumerate(args):
        a = np.asarray(a)
        if a.dtype.kind != "f":
            raise TypeError(f"argument {i} must be a float array; received dtype {a.dtype}")
        arrays.append(a)
    return arrays


def value_and_grad(fn: Callable, *args) -> tuple[float, list[np.ndarray]]:
    """Value and gradient of a scalar function with respect to each of its arguments.

    Args:
        fn: function of len(args) tensors returning a scalar tensor.
        *args: float numpy arrays (their dtype is kept; use float64 for gradient checks).

    Returns:
        (value, grads): the float value, and one numpy array per argument, of its shape.
        An argument the value does not depend on gets zeros.
    """
    import keras

    arrays = _check_args(args)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(a) for a in arrays]
        with tf.GradientTape() as tape:
            for t in tensors:
                tape.watch(t)
            value = fn(*tensors)
        grads = tape.gradient(value, tensors)
        grads = [np.zeros_like(a) if g is None else np.asarray(g) for a, g in zip(arrays, grads)]
        return float(np.asarray(value)), grads
    if backend == "jax":
        import jax

        value, grads = jax.value_and_grad(fn, argnums=tuple(range(len(arrays))))(
            *[jax.numpy.asarray(a) for a in arrays])
        return float(value), [np.asarray(g) for g in grads]
    if backend == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        value = fn(*tensors)
        value.backward()
        grads = [np.zeros_like(a) if t.grad is None else t.grad.detach().cpu().numpy()
                 for a, t in zip(arrays, tensors)]
        return float(value.detach().cpu()), grads
    raise NotImplementedError(f"value_and_grad supports tensorflow, jax and torch; backend is {backend!r}")


def vjp(fn: Callable, args, upstream) -> list[np.ndarray]:
    """Vector-Jacobian product: gradients of ``sum(fn(*args) * upstream)`` w.r.t. each argument.

    Args:
        fn: function of len(args) tensors returning a tensor of the shape of ``upstream``.
        args: sequence of float numpy arrays.
        upstream: float array, the gradient of a loss with respect to ``fn``'s output.

    Returns:
        list of numpy arrays, one per argument.
    """
    import keras

    upstream = np.asarray(upstream)

    def scalar(*tensors):
        out = fn(*tensors)
        if tuple(out.shape) != upstream.shape:
            raise ValueError(f"upstream must have the shape of fn's output {tuple(out.shape)}; "
                             f"received: {upstream.shape}")
        return keras.ops.sum(out * keras.ops.convert_to_tensor(upstream, dtype=out.dtype))

    return value_and_grad(scalar, *args)[1]
