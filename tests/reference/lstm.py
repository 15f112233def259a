"""Reference LSTM for chapter 08: numpy forward/backward of one step, and a Keras LSTMCell.

Kept under tests/ (never in rnn_course, which ships to students): the unit tests in
tests/unit/test_reference_lstm.py check it against keras.layers.LSTM, the backend's autodiff
and finite differences, and benchmarks/lstm_cell_vs_builtin.py times the Keras cell.

Weight layout is Keras': kernel Wx (D, 4H), recurrent_kernel Wh (H, 4H), bias bh (4H,), the
four gates stacked on the last axis in the order i (input), f (forget), c (candidate),
o (output). Row vectors: z = x_t Wx + h_prev Wh + bh.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = ["lstm_cell_forward", "lstm_cell_backward", "LSTMCell"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_cell_forward(x_t, h_prev, c_prev, params):
    """One LSTM step for a batch.

    Args:
        x_t: input, (N, D).
        h_prev: previous hidden state, (N, H).
        c_prev: previous cell state, (N, H).
        params: dict with "Wx" (D, 4H), "Wh" (H, 4H), "bh" (4H,), gates i, f, c, o.

    Returns:
        h_next (N, H), c_next (N, H), and cache = (x_t, h_prev, c_prev, i, f, g, o, c_next,
        params) where i, f, g, o are the gate activations (N, H) each.
    """
    Wx, Wh, bh = params["Wx"], params["Wh"], params["bh"]
    z = x_t @ Wx + h_prev @ Wh + bh
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
    i, f, g, o = _sigmoid(z_i), _sigmoid(z_f), np.tanh(z_c), _sigmoid(z_o)
    c_next = f * c_prev + i * g
    h_next = o * np.tanh(c_next)
    cache = (x_t, h_prev, c_prev, i, f, g, o, c_next, params)
    return h_next, c_next, cache


def lstm_cell_backward(dh_next, dc_next, cache):
    """Backward pass of one LSTM step.

    Args:
        dh_next: gradient of the loss with respect to h_next, (N, H).
        dc_next: gradient of the loss with respect to c_next from the later steps, (N, H).
        cache: from ``lstm_cell_forward``.

    Returns:
        dict with "dx_t" (N, D), "dh_prev" (N, H), "dc_prev" (N, H), "dWx" (D, 4H),
        "dWh" (H, 4H), "dbh" (4H,).
    """
    x_t, h_prev, c_prev, i, f, g, o, c_next, params = cache
    tanh_c = np.tanh(c_next)
    do = dh_next * tanh_c
    dc = dc_next + dh_next * o * (1.0 - tanh_c**2)
    di, df, dg = dc * g, dc * c_prev, dc * i
    dz = np.concatenate(
        [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=-1
    )
    return {
        "dx_t": dz @ params["Wx"].T,
        "dh_prev": dz @ params["Wh"].T,
        "dc_prev": dc * f,
        "dWx": x_t.T @ dz,
        "dWh": h_prev.T @ dz,
        "dbh": dz.sum(axis=0),
    }


@keras.saving.register_keras_serializable(package="rnn_course_reference")
class LSTMCell(keras.layers.Layer):
    """An LSTM cell for ``keras.layers.RNN``, written with ``keras.ops`` only.

    Weights named and shaped as ``keras.layers.LSTMCell``'s: ``kernel (D, 4H)``,
    ``recurrent_kernel (H, 4H)``, ``bias (4H,)``, gates i, f, c, o. The state is ``[h, c]``.

    Args:
        units: H, a positive int.
        unit_forget_bias: start the forget slice of the bias at 1 (the rest from
            ``bias_initializer``), as Keras does.
        kernel_initializer, recurrent_initializer, bias_initializer: Keras initializers.
        **kwargs: passed to ``keras.layers.Layer`` (name, dtype, ...).
    """

    def __init__(
        self,
        units,
        unit_forget_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"units must be a positive int; received: {units!r}")
        self.units = units
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        H = self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], 4 * H), name="kernel", initializer=self.kernel_initializer
        )
        self.recurrent_kernel = self.add_weight(
            shape=(H, 4 * H), name="recurrent_kernel", initializer=self.recurrent_initializer
        )
        bias_initializer = self.bias_initializer
        if self.unit_forget_bias:

            def bias_initializer(shape, dtype=None):
                return ops.concatenate([
                    self.bias_initializer((H,), dtype=dtype),
                    ops.ones((H,), dtype=dtype),
                    self.bias_initializer((2 * H,), dtype=dtype),
                ])

        self.bias = self.add_weight(shape=(4 * H,), name="bias", initializer=bias_initializer)

    def call(self, inputs, states):
        h_prev, c_prev = states[0], states[1]
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel) + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i, f, o = ops.sigmoid(z_i), ops.sigmoid(z_f), ops.sigmoid(z_o)
        c = f * c_prev + i * ops.tanh(z_c)
        h = o * ops.tanh(c)
        return h, [h, c]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
