"""Reference GRU for chapter 08: numpy forward of one step, and a Keras GRUCell.

Kept under tests/ (never in rnn_course, which ships to students): tests/unit/test_reference_gru.py
checks it against keras.layers.GRUCell and keras.layers.GRU.

Weight layout is Keras' with ``reset_after=True`` (its default): kernel (D, 3H),
recurrent_kernel (H, 3H), bias (2, 3H) (row 0 with the input, row 1 with the recurrent
product), slices z (update), r (reset), h (candidate). Row vectors:
a = x_t W + b[0], m = h_prev U + b[1]; z = sigmoid(a_z + m_z), r = sigmoid(a_r + m_r),
h_tilde = tanh(a_h + r * m_h), h = z * h_prev + (1 - z) * h_tilde.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = ["gru_cell_forward", "GRUCell"]


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_cell_forward(x_t, h_prev, params):
    """One GRU step for a batch.

    Args:
        x_t: input, (N, D).
        h_prev: previous hidden state, (N, H).
        params: dict with "kernel" (D, 3H), "recurrent_kernel" (H, 3H), "bias" (2, 3H).

    Returns:
        h_next (N, H), and cache = (x_t, h_prev, z, r, h_tilde, params), the gates (N, H) each.
    """
    a = x_t @ params["kernel"] + params["bias"][0]
    m = h_prev @ params["recurrent_kernel"] + params["bias"][1]
    (a_z, a_r, a_h), (m_z, m_r, m_h) = np.split(a, 3, axis=-1), np.split(m, 3, axis=-1)
    z, r = _sigmoid(a_z + m_z), _sigmoid(a_r + m_r)
    h_tilde = np.tanh(a_h + r * m_h)
    h_next = z * h_prev + (1.0 - z) * h_tilde
    return h_next, (x_t, h_prev, z, r, h_tilde, params)


@keras.saving.register_keras_serializable(package="rnn_course_reference")
class GRUCell(keras.layers.Layer):
    """A GRU cell (reset_after=True) for ``keras.layers.RNN``, written with ``keras.ops`` only.

    Weights named and shaped as ``keras.layers.GRUCell``'s: ``kernel (D, 3H)``,
    ``recurrent_kernel (H, 3H)``, ``bias (2, 3H)``, slices z, r, h. The state is ``h``.

    Args:
        units: H, a positive int.
        kernel_initializer, recurrent_initializer, bias_initializer: Keras initializers.
        **kwargs: passed to ``keras.layers.Layer`` (name, dtype, ...).
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"units must be a positive int; received: {units!r}")
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        H = self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], 3 * H), name="kernel",
                                      initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight(shape=(H, 3 * H), name="recurrent_kernel",
                                                initializer=self.recurrent_initializer)
        self.bias = self.add_weight(shape=(2, 3 * H), name="bias", initializer=self.bias_initializer)

    def call(self, inputs, states, training=None):
        h_prev = states[0]
        a = ops.matmul(inputs, self.kernel) + self.bias[0]
        m = ops.matmul(h_prev, self.recurrent_kernel) + self.bias[1]
        a_z, a_r, a_h = ops.split(a, 3, axis=-1)
        m_z, m_r, m_h = ops.split(m, 3, axis=-1)
        z, r = ops.sigmoid(a_z + m_z), ops.sigmoid(a_r + m_r)
        h = z * h_prev + (1.0 - z) * ops.tanh(a_h + r * m_h)
        return h, [h]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
