"""The reference GRU of chapter 08 (tests/reference/gru.py) against Keras.

numpy forward: against keras.layers.GRUCell (float64, reset_after=True). The Keras GRUCell
inside keras.layers.RNN: equal to keras.layers.GRU with copied weights (float32, 1e-5) for
sequences, states, go_backwards, initial states and right-padded masks; the same initial
weights as Keras with the same seeded initialisers; a .keras round trip. Also the facts the
chapter's tests build their diagnoses on: each typical mistake equals Keras' GRU with altered
weights.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tests.reference.gru import GRUCell, gru_cell_forward

SHAPES = [(1, 1, 1), (2, 3, 4), (3, 5, 2), (4, 4, 6)]   # (N, D, H)


def random_step(seed, N, D, H, scale=1.0):
    rng = np.random.default_rng(seed)
    x_t, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    params = {"kernel": rng.normal(size=(D, 3 * H)) * scale, "recurrent_kernel": rng.normal(size=(H, 3 * H)) * scale,
              "bias": rng.normal(size=(2, 3 * H)) * scale}
    return x_t, h_prev, params


def keras_step(x_t, h_prev, weights, reset_after=True):
    cell = keras.layers.GRUCell(h_prev.shape[1], reset_after=reset_after, dtype="float64")
    cell.build((None, x_t.shape[1]))
    cell.set_weights(weights)
    return keras.ops.convert_to_numpy(cell(x_t, [h_prev])[0])


@pytest.mark.parametrize("N, D, H", SHAPES)
def test_forward_matches_keras_gru_cell(N, D, H):
    x_t, h_prev, params = random_step(N * 100 + H, N, D, H)
    h_next, (_, _, z, r, h_tilde, _) = gru_cell_forward(x_t, h_prev, params)
    expected = keras_step(x_t, h_prev, [params["kernel"], params["recurrent_kernel"], params["bias"]])
    np.testing.assert_allclose(h_next, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(z * h_prev + (1 - z) * h_tilde, h_next, rtol=1e-12, atol=1e-14)
    assert np.all((z > 0) & (z < 1) & (r > 0) & (r < 1))


def test_typical_mistakes_equal_keras_with_altered_weights():
    """The chapter's diagnoses: each mistake, written in numpy, is Keras' GRU with other weights."""
    N, D, H = 3, 4, 5
    x_t, h_prev, params = random_step(7, N, D, H)
    k, u, b = params["kernel"], params["recurrent_kernel"], params["bias"]
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))
    a, m = np.split(x_t @ k + b[0], 3, axis=-1), np.split(h_prev @ u + b[1], 3, axis=-1)
    z, r = sig(a[0] + m[0]), sig(a[1] + m[1])
    h_tilde = np.tanh(a[2] + r * m[2])
    swap = lambda w: w[..., np.r_[H:2 * H, 0:H, 2 * H:3 * H]]
    flip = np.concatenate([-np.ones(H), np.ones(2 * H)])
    # z and r swapped
    r_swapped = np.tanh(a[2] + z * m[2])
    np.testing.assert_allclose(keras_step(x_t, h_prev, [swap(k), swap(u), swap(b)]),
                               r * h_prev + (1 - r) * r_swapped, atol=1e-12)
    # (1 - z) on the wrong term
    np.testing.assert_allclose(keras_step(x_t, h_prev, [k * flip, u * flip, b * flip]),
                               (1 - z) * h_prev + z * h_tilde, atol=1e-12)
    # reset before the product, both biases outside
    before = np.tanh(a[2] + (r * h_prev) @ u[:, 2 * H:] + b[1, 2 * H:])
    np.testing.assert_allclose(keras_step(x_t, h_prev, [k, u, b[0] + b[1]], reset_after=False),
                               z * h_prev + (1 - z) * before, atol=1e-12)
    # bias rows swapped: only the candidate changes
    rows = np.tanh(x_t @ k[:, 2 * H:] + b[1, 2 * H:] + r * (h_prev @ u[:, 2 * H:] + b[0, 2 * H:]))
    np.testing.assert_allclose(keras_step(x_t, h_prev, [k, u, b[::-1]]), z * h_prev + (1 - z) * rows, atol=1e-12)


def twin_layers(H, D, seed=0, **kwargs):
    """keras.layers.GRU and keras.layers.RNN(GRUCell) with the GRU's weights copied over."""
    builtin = keras.layers.GRU(H, **kwargs)
    builtin.build((None, None, D))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=w.shape).astype("float32") * 0.5 for w in builtin.get_weights()]
    builtin.set_weights(weights)
    custom = keras.layers.RNN(GRUCell(H), **kwargs)
    custom.build((None, None, D))
    custom.set_weights(weights)
    return builtin, custom


def max_difference(a, b):
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    assert len(a) == len(b)
    return max(float(np.abs(keras.ops.convert_to_numpy(u) - keras.ops.convert_to_numpy(v)).max())
               for u, v in zip(a, b))


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_cell_in_rnn_equals_keras_gru(return_sequences, return_state, go_backwards):
    N, T, D, H = 3, 6, 4, 5
    kwargs = dict(return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards)
    builtin, custom = twin_layers(H, D, **kwargs)
    x = np.random.default_rng(1).normal(size=(N, T, D)).astype("float32")
    assert max_difference(custom(x), builtin(x)) < 1e-5


def test_cell_with_initial_state_equals_keras_gru():
    N, T, D, H = 2, 5, 3, 4
    builtin, custom = twin_layers(H, D, return_sequences=True, return_state=True)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(N, T, D)).astype("float32")
    state = [rng.normal(size=(N, H)).astype("float32")]
    assert max_difference(custom(x, initial_state=state), builtin(x, initial_state=state)) < 1e-5


@pytest.mark.parametrize("go_backwards", [False, True])
def test_cell_with_right_padded_mask_equals_keras_gru(go_backwards):
    N, T, D, H = 4, 7, 3, 5
    mask = np.arange(T)[None, :] < np.array([7, 4, 1, 5])[:, None]
    x = np.random.default_rng(3).normal(size=(N, T, D)).astype("float32")
    x[~mask] = 0.0
    builtin, custom = twin_layers(H, D, return_sequences=True, return_state=True, go_backwards=go_backwards)
    assert max_difference(custom(x, mask=mask), builtin(x, mask=mask)) < 1e-5


def test_weights_are_named_and_shaped_like_keras():
    D, H = 3, 5
    cell = GRUCell(H)
    cell.build((None, D))
    assert [w.path.split("/")[-1] for w in cell.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [tuple(w.shape) for w in cell.weights] == [(D, 3 * H), (H, 3 * H), (2, 3 * H)]
    assert cell.state_size == H and cell.output_size == H


def test_initial_weights_equal_keras_with_the_same_initialisers():
    D, H = 3, 4
    make = lambda: dict(kernel_initializer=keras.initializers.GlorotUniform(seed=11),
                        recurrent_initializer=keras.initializers.Orthogonal(seed=12),
                        bias_initializer=keras.initializers.RandomUniform(seed=13))
    builtin = keras.layers.GRUCell(H, **make())
    builtin.build((None, D))
    custom = GRUCell(H, **make())
    custom.build((None, D))
    for a, b in zip(builtin.get_weights(), custom.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_config_round_trip_and_bad_units():
    clone = GRUCell.from_config(GRUCell(7, bias_initializer="ones", name="my_cell").get_config())
    assert clone.units == 7 and clone.name == "my_cell"
    clone.build((None, 2))
    np.testing.assert_array_equal(clone.get_weights()[2], np.ones((2, 21)))
    for bad in (0, -3, 2.5, True, "4"):
        with pytest.raises(ValueError, match="units"):
            GRUCell(bad)


def test_keras_file_round_trip(tmp_path):
    N, T, D, H = 2, 5, 3, 4
    model = keras.Sequential([keras.Input((T, D)), keras.layers.RNN(GRUCell(H), return_sequences=True),
                              keras.layers.Dense(2)])
    x = np.random.default_rng(5).normal(size=(N, T, D)).astype("float32")
    path = tmp_path / "gru.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.layers[0].cell, GRUCell)
    assert max_difference(loaded(x), model(x)) < 1e-6
