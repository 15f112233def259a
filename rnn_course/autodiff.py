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

To differentiate with respect to Keras variables as they are (a model's weights), use
``value_and_gradients(fn, model.trainable_variables)`` with a function of no arguments.
float64 stays float64 on every backend (``backend.keep_float64``).
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


def _jax_call(grad_fn: Callable, *args):
    """``jax.jit(grad_fn)(*args)``: compiled, a Keras recurrent layer differentiates about twice as
    fast as op by op (measured: chapter 04's Jacobian oracle, 3.5 s instead of 5-9 s). Under JAX
    the function cannot branch in Python on the values of its arguments, jitted or not.
    """
    import jax

    return jax.jit(grad_fn)(*args)


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

    from rnn_course.backend import keep_float64

    keep_float64()
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

        grad_fn = jax.value_and_grad(fn, argnums=tuple(range(len(arrays))))
        value, grads = _jax_call(grad_fn, *[jax.numpy.asarray(a) for a in arrays])
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


def value_and_gradients(fn: Callable, variables) -> tuple[float, list[np.ndarray]]:
    """Value of ``fn()`` and its gradient with respect to each Keras variable, by the backend.

    Args:
        fn: function of no arguments returning a scalar tensor; it uses the variables, e.g.
            ``lambda: keras.ops.mean(keras.ops.square(model(x) - y))``.
        variables: list of trainable ``keras.Variable`` (e.g. ``model.trainable_variables``).

    Returns:
        (value, grads): the float value, and one numpy array per variable, of its shape. A
        variable the value does not depend on gets zeros.

    Example:
        cost, grads = autodiff.value_and_gradients(lambda: loss(model(x), y), model.trainable_variables)
    """
    import keras

    from rnn_course.backend import keep_float64

    keep_float64()
    variables = list(variables)
    if not variables:
        raise ValueError("value_and_gradients needs at least one variable")
    for i, v in enumerate(variables):
        if not isinstance(v, keras.Variable):
            raise TypeError(f"variables[{i}] must be a keras.Variable; received: {type(v).__name__}")
    shapes = [tuple(v.shape) for v in variables]

    def numpy_grads(grads):
        return [np.zeros(s, dtype=v.dtype) if g is None else keras.ops.convert_to_numpy(g)
                for s, v, g in zip(shapes, variables, grads)]

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch([v.value for v in variables])
            value = fn()
        grads = tape.gradient(value, [v.value for v in variables])
        return float(keras.ops.convert_to_numpy(value)), numpy_grads(grads)
    if backend == "jax":
        import jax

        def stateless(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn()

        value, grads = _jax_call(jax.value_and_grad(stateless), [v.value for v in variables])
        return float(value), numpy_grads(grads)
    if backend == "torch":
        import torch

        value = fn()
        grads = torch.autograd.grad(value, [v.value for v in variables], allow_unused=True)
        return float(value.detach().cpu()), numpy_grads(grads)
    raise NotImplementedError(f"value_and_gradients supports tensorflow, jax and torch; backend is {backend!r}")
