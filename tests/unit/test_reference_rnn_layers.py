"""The reference layers of chapters 07 and 09 (tests/reference/rnn_layers.py) against Keras.

ElmanCell in keras.layers.RNN equals keras.layers.SimpleRNN, and Bidirectional equals
keras.layers.Bidirectional, weight for weight (float64 within 1e-6 or better, float32 within
1e-5); JordanCell equals an explicit numpy loop; every layer survives get_config/from_config
and a .keras save/load round trip. Bidirectional also matches Keras side by side in what a user
touches besides the outputs: the errors it raises, use_cudnn, stateful states and reset_state,
compute_output_shape, the output dtype and mask, a given backward_layer (outputs, errors, config)
and weights= (accepted and ignored, as by Keras 3).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from tests.reference.rnn_layers import (  # noqa: E402
    Bidirectional,
    ElmanCell,
    JordanCell,
    merge_directions,
)

TOL = {"float64": 1e-6, "float32": 1e-5}
MERGE_MODES = ["concat", "sum", "ave", "mul", None]


def as_list(out):
    return [keras.ops.convert_to_numpy(o) for o in out] if isinstance(out, (list, tuple)) else [keras.ops.convert_to_numpy(out)]


def assert_all_close(received, expected, tol, what=""):
    received, expected = as_list(received), as_list(expected)
    assert len(received) == len(expected), f"{what}: {len(received)} outputs, expected {len(expected)}"
    for i, (r, e) in enumerate(zip(received, expected)):
        assert r.shape == e.shape, f"{what} output {i}: shape {r.shape}, expected {e.shape}"
        err = float(np.max(np.abs(r.astype(np.float64) - e))) if r.size else 0.0
        assert err <= tol, f"{what} output {i}: max error {err:.3g} > {tol:g}"


def right_padded_mask(lengths, T):
    return np.arange(T)[None, :] < keras.ops.convert_to_numpy(lengths)[:, None]


def random_weights(layer, rng, scale=0.5):
    layer.set_weights([rng.normal(size=w.shape) * scale for w in layer.get_weights()])


# --------------------------------------------------------------------------------------------
# ElmanCell
# --------------------------------------------------------------------------------------------

ELMAN_SETTINGS = [
    dict(return_sequences=True),
    dict(return_sequences=False),
    dict(return_state=True),
    dict(return_sequences=True, return_state=True),
    dict(go_backwards=True),
    dict(go_backwards=True, return_sequences=True, return_state=True),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("settings", ELMAN_SETTINGS, ids=lambda s: ",".join(s) or "default")
def test_elman_cell_equals_simple_rnn(dtype, settings):
    rng = np.random.default_rng(len(settings) + (dtype == "float32"))
    N, T, D, H = 3, 6, 4, 5
    simple = keras.layers.SimpleRNN(H, dtype=dtype, **settings)
    simple.build((None, T, D))
    random_weights(simple, rng)
    layer = keras.layers.RNN(ElmanCell(H, dtype=dtype), dtype=dtype, **settings)
    layer.build((None, T, D))
    layer.set_weights(simple.get_weights())
    x = rng.normal(size=(N, T, D)).astype(dtype)
    mask = right_padded_mask([T, 2, 1], T)
    h0 = rng.normal(size=(N, H)).astype(dtype)
    assert_all_close(layer(x), simple(x), TOL[dtype], "no mask")
    assert_all_close(layer(x, mask=mask), simple(x, mask=mask), TOL[dtype], "right-padded mask")
    assert_all_close(layer(x, initial_state=[h0]), simple(x, initial_state=[h0]), TOL[dtype], "h0")


def test_elman_cell_weights_are_named_and_shaped_as_keras():
    cell = ElmanCell(7)
    cell.build((None, 3))
    assert [w.name for w in cell.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [tuple(w.shape) for w in cell.weights] == [(3, 7), (7, 7), (7,)]
    assert cell.state_size == 7 and cell.output_size == 7


def test_elman_cell_relu_activation_equals_simple_rnn():
    rng = np.random.default_rng(7)
    simple = keras.layers.SimpleRNN(4, activation="relu", return_sequences=True, dtype="float64")
    simple.build((None, 5, 2))
    random_weights(simple, rng)
    layer = keras.layers.RNN(ElmanCell(4, activation="relu", dtype="float64"), return_sequences=True,
                             dtype="float64")
    layer.build((None, 5, 2))
    layer.set_weights(simple.get_weights())
    x = rng.normal(size=(2, 5, 2))
    assert_all_close(layer(x), simple(x), 1e-12, "relu")


def test_elman_cell_config_round_trip():
    cell = ElmanCell(6, activation="relu", name="elman")
    config = cell.get_config()
    assert config["units"] == 6 and config["activation"] == "relu"
    clone = ElmanCell.from_config(config)
    assert clone.units == 6 and clone.activation is keras.activations.relu and clone.name == "elman"
    assert keras.saving.get_registered_name(ElmanCell) == "rnn_course_reference>ElmanCell"


@pytest.mark.parametrize("units", [0, -1, 2.5, True, "4"])
def test_elman_cell_rejects_bad_units(units):
    with pytest.raises(ValueError, match="units"):
        ElmanCell(units)


# --------------------------------------------------------------------------------------------
# JordanCell
# --------------------------------------------------------------------------------------------


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def jordan_numpy(x, weights, mask=None, y0=None):
    """Explicit loop: h_t = tanh(x_t W + y_{t-1} U + b), y_t = softmax(h_t Wy + by)."""
    W, U, b, Wy, by = weights
    N, T, _ = x.shape
    y_prev = np.zeros((N, Wy.shape[1])) if y0 is None else y0
    ys = []
    for t in range(T):
        y = softmax(np.tanh(x[:, t] @ W + y_prev @ U + b) @ Wy + by)
        if mask is not None:  # Keras' RNN masking: keep the state, repeat the last output
            y = np.where(mask[:, t, None], y, y_prev)
        ys.append(y)
        y_prev = y
    return np.stack(ys, axis=1)


@pytest.mark.parametrize("N,T,D,H,V", [(1, 1, 1, 1, 2), (3, 6, 4, 5, 3), (2, 4, 3, 2, 6)])
def test_jordan_cell_equals_numpy_loop(N, T, D, H, V):
    rng = np.random.default_rng(N * 100 + T)
    layer = keras.layers.RNN(JordanCell(H, V, dtype="float64"), return_sequences=True, dtype="float64")
    layer.build((None, T, D))
    assert [tuple(w.shape) for w in layer.weights] == [(D, H), (V, H), (H,), (H, V), (V,)]
    weights = [rng.normal(size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    x = rng.normal(size=(N, T, D))
    assert_all_close(layer(x), jordan_numpy(x, weights), 1e-12, "Jordan")
    mask = right_padded_mask(rng.integers(1, T + 1, size=N), T)
    assert_all_close(layer(x, mask=mask), jordan_numpy(x, weights, mask), 1e-12, "Jordan masked")
    cell = layer.cell
    assert cell.state_size == V and cell.output_size == V


def test_jordan_cell_feeds_back_the_output_not_the_hidden_state():
    """With H == V the two feedbacks have the same shapes; only y_{t-1} gives the loop's values."""
    rng = np.random.default_rng(3)
    N, T, D, H = 2, 5, 3, 4
    layer = keras.layers.RNN(JordanCell(H, H, dtype="float64"), return_sequences=True, dtype="float64")
    layer.build((None, T, D))
    weights = [rng.normal(size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    x = rng.normal(size=(N, T, D))
    W, U, b, Wy, by = weights
    h, ys = np.zeros((N, H)), []
    for t in range(T):  # the wrong recurrence: h fed back
        h = np.tanh(x[:, t] @ W + h @ U + b)
        ys.append(softmax(h @ Wy + by))
    wrong = np.stack(ys, axis=1)
    right = keras.ops.convert_to_numpy(layer(x))
    assert np.abs(right - jordan_numpy(x, weights)).max() < 1e-12
    assert np.abs(right - wrong).max() > 1e-3


def test_jordan_cell_config_round_trip():
    cell = JordanCell(5, 3, activation="relu", output_activation="sigmoid")
    config = cell.get_config()
    assert (config["units"], config["output_units"]) == (5, 3)
    assert (config["activation"], config["output_activation"]) == ("relu", "sigmoid")
    clone = JordanCell.from_config(config)
    assert clone.output_activation is keras.activations.sigmoid


# --------------------------------------------------------------------------------------------
# Bidirectional
# --------------------------------------------------------------------------------------------


def test_merge_directions():
    a = np.arange(6.0).reshape(1, 2, 3)
    b = np.full((1, 2, 3), 2.0)
    assert keras.ops.convert_to_numpy(merge_directions(a, b, "concat")).shape == (1, 2, 6)
    np.testing.assert_allclose(merge_directions(a, b, "sum"), a + b)
    np.testing.assert_allclose(merge_directions(a, b, "ave"), (a + b) / 2)
    np.testing.assert_allclose(merge_directions(a, b, "mul"), a * b)
    pair = merge_directions(a, b, None)
    assert isinstance(pair, tuple) and pair[0] is a and pair[1] is b
    with pytest.raises(ValueError, match="merge_mode"):
        merge_directions(a, b, "max")


def pair(layer_cls, H, merge_mode, T, D, rng, dtype="float32", **settings):
    """keras.layers.Bidirectional and the reference, built, with the same random weights."""
    inner = getattr(keras.layers, layer_cls)(H, dtype=dtype, **settings)
    theirs = keras.layers.Bidirectional(inner, merge_mode=merge_mode, dtype=dtype)
    ours = Bidirectional(inner, merge_mode=merge_mode, dtype=dtype)
    theirs.build((None, T, D))
    ours.build((None, T, D))
    random_weights(theirs, rng)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("settings", [
    dict(return_sequences=True),
    dict(return_sequences=False),
    dict(return_sequences=True, return_state=True),
    dict(return_state=True),
], ids=lambda s: ",".join(s))
def test_bidirectional_equals_keras(dtype, merge_mode, settings):
    rng = np.random.default_rng(11)
    N, T, D, H = 3, 5, 4, 3
    theirs, ours = pair("SimpleRNN", H, merge_mode, T, D, rng, dtype, **settings)
    x = rng.normal(size=(N, T, D)).astype(dtype)
    mask = right_padded_mask([T, 3, 1], T)
    assert_all_close(ours(x), theirs(x), TOL[dtype], f"{merge_mode}")
    assert_all_close(ours(x, mask=mask), theirs(x, mask=mask), TOL[dtype], f"{merge_mode}, mask")


@pytest.mark.parametrize("layer_cls", ["LSTM", "GRU"])
def test_bidirectional_wraps_lstm_and_gru(layer_cls):
    rng = np.random.default_rng(5)
    N, T, D, H = 2, 4, 3, 5
    theirs, ours = pair(layer_cls, H, "concat", T, D, rng, return_sequences=True, return_state=True)
    x = rng.normal(size=(N, T, D)).astype("float32")
    mask = right_padded_mask([2, T], T)
    assert_all_close(ours(x), theirs(x), 1e-5, layer_cls)
    assert_all_close(ours(x, mask=mask), theirs(x, mask=mask), 1e-5, f"{layer_cls}, mask")


def test_bidirectional_backward_pass_starts_at_the_last_real_token():
    """Padded or not, a sequence's outputs at its real steps are the same."""
    rng = np.random.default_rng(9)
    T, D, H, length = 6, 3, 4, 4
    inner = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float64")
    ours = Bidirectional(inner, dtype="float64")
    ours.build((None, T, D))
    random_weights(ours, rng)
    x = rng.normal(size=(1, T, D))
    padded = keras.ops.convert_to_numpy(ours(x, mask=right_padded_mask([length], T)))
    trimmed = keras.ops.convert_to_numpy(ours(x[:, :length]))
    np.testing.assert_allclose(padded[:, :length], trimmed, atol=1e-12)
    np.testing.assert_array_equal(padded[:, length:], 0.0)


def test_bidirectional_has_two_copies_with_their_own_weights():
    inner = keras.layers.SimpleRNN(3, return_sequences=True)
    ours = Bidirectional(inner)
    ours.build((None, 4, 2))
    assert ours.forward_layer is not inner and ours.backward_layer is not inner
    assert not ours.forward_layer.go_backwards and ours.backward_layer.go_backwards
    assert len(ours.get_weights()) == 6
    forward_ids = {id(w) for w in ours.forward_layer.weights}
    assert not forward_ids & {id(w) for w in ours.backward_layer.weights}


@pytest.mark.parametrize("merge_mode", ["bogus", "max"])
def test_bidirectional_rejects_unknown_merge_mode(merge_mode):
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(keras.layers.SimpleRNN(2), merge_mode=merge_mode)


def test_bidirectional_config_round_trip():
    ours = Bidirectional(keras.layers.SimpleRNN(3, return_sequences=True), merge_mode="ave", name="bi")
    config = ours.get_config()
    clone = Bidirectional.from_config(config)
    assert clone.merge_mode == "ave" and clone.return_sequences and clone.name == "bi"
    assert clone.forward_layer.name == ours.forward_layer.name
    assert clone.backward_layer.go_backwards


# Side by side with keras.layers.Bidirectional: what a user touches besides the outputs (issue 18).


@pytest.mark.parametrize("layer", [keras.layers.SimpleRNN(2, go_backwards=True), "SimpleRNN", keras.layers.Dense(2)],
                         ids=["go_backwards", "a string", "Dense"])
def test_bidirectional_raises_value_error_where_keras_does(layer):
    # Keras refuses a backward layer (two backward copies) and a non-layer with a ValueError.
    # Dense has no go_backwards: Keras fails later (KeyError); the reference says why at once.
    if not isinstance(layer, keras.layers.Dense):
        with pytest.raises(ValueError):
            keras.layers.Bidirectional(layer)
    with pytest.raises(ValueError, match="go_backwards" if isinstance(layer, keras.layers.Layer)
                       and hasattr(layer, "go_backwards") else "recurrent Keras layer"):
        Bidirectional(layer)


@pytest.mark.parametrize("layer_cls", ["LSTM", "GRU"])
@pytest.mark.parametrize("use_cudnn", [False, True, "auto"])
def test_bidirectional_keeps_use_cudnn_on_both_copies(layer_cls, use_cudnn):
    inner = getattr(keras.layers, layer_cls)(3, use_cudnn=use_cudnn)
    theirs, ours = keras.layers.Bidirectional(inner), Bidirectional(inner)
    for name in ("forward_layer", "backward_layer"):
        assert getattr(ours, name).use_cudnn == getattr(theirs, name).use_cudnn == use_cudnn
    # use_cudnn is not in get_config: a clone from the config says "auto", in Keras as here.
    clone_theirs = keras.layers.Bidirectional.from_config(theirs.get_config())
    clone_ours = Bidirectional.from_config(ours.get_config())
    assert clone_ours.forward_layer.use_cudnn == clone_theirs.forward_layer.use_cudnn == "auto"


@pytest.mark.parametrize("layer_cls", ["SimpleRNN", "LSTM"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_stateful_states_and_reset_state_equal_keras(layer_cls, return_sequences):
    rng = np.random.default_rng(21)
    N, T, D, H = 3, 4, 2, 3
    inner = getattr(keras.layers, layer_cls)(H, stateful=True, return_sequences=return_sequences)
    theirs, ours = keras.layers.Bidirectional(inner), Bidirectional(inner)
    assert ours.stateful and theirs.stateful
    for layer in (theirs, ours):
        layer.build((N, T, D))
    random_weights(theirs, rng)
    ours.set_weights(theirs.get_weights())
    assert len(ours.states) == len(theirs.states) == (4 if layer_cls == "LSTM" else 2)
    batches = [rng.normal(size=(N, T, D)).astype("float32") for _ in range(3)]
    for i, x in enumerate(batches):
        if i == 2:
            theirs.reset_state()
            ours.reset_state()
            assert_all_close(list(ours.states), list(theirs.states), 0.0, "states after reset_state")
        assert_all_close(ours(x), theirs(x), 1e-5, f"batch {i}")
        assert_all_close(list(ours.states), list(theirs.states), 1e-5, f"states after batch {i}")
    assert np.abs(keras.ops.convert_to_numpy(ours.states[0])).max() > 0.0   # the states did move
    ours.reset_states()
    assert all(not np.any(keras.ops.convert_to_numpy(s)) for s in ours.states)


def test_bidirectional_without_stateful_has_no_states_and_cannot_reset():
    theirs, ours = keras.layers.Bidirectional(keras.layers.GRU(2)), Bidirectional(keras.layers.GRU(2))
    for layer in (theirs, ours):
        layer.build((None, 3, 2))
        assert layer.states is None and not layer.stateful
        with pytest.raises(AttributeError, match="stateful"):
            layer.reset_state()


@pytest.mark.parametrize("layer_cls", ["SimpleRNN", "LSTM"])
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("settings", [
    dict(return_sequences=True), dict(return_sequences=False),
    dict(return_sequences=True, return_state=True), dict(return_state=True),
], ids=lambda s: ",".join(s))
def test_bidirectional_output_shapes_equal_keras(layer_cls, merge_mode, settings):
    inner = getattr(keras.layers, layer_cls)(3, **settings)
    theirs = keras.layers.Bidirectional(inner, merge_mode=merge_mode)
    ours = Bidirectional(inner, merge_mode=merge_mode)
    for shape in [(None, 5, 4), (2, None, 4)]:
        assert ours.compute_output_shape(shape) == theirs.compute_output_shape(shape)
    # In a functional model (symbolic inputs) and on real inputs.
    def flat(out):
        return list(out) if isinstance(out, (list, tuple)) else [out]

    symbolic = flat(ours(keras.Input((5, 4))))
    assert [tuple(t.shape) for t in symbolic] == [tuple(t.shape) for t in flat(theirs(keras.Input((5, 4))))]
    eager = flat(ours(np.zeros((2, 5, 4), "float32")))
    assert [tuple(t.shape)[1:] for t in eager] == [tuple(t.shape)[1:] for t in symbolic]


def test_bidirectional_outputs_are_in_the_wrappers_compute_dtype():
    inner = keras.layers.SimpleRNN(3, return_sequences=True, return_state=True)
    x = np.ones((2, 4, 3), "float32")
    for layer in (keras.layers.Bidirectional(inner, dtype="float64"), Bidirectional(inner, dtype="float64")):
        assert [keras.backend.standardize_dtype(t.dtype) for t in layer(x)] == ["float64", "float32", "float32"]


def test_bidirectional_output_mask_equals_keras_without_return_state():
    mask = right_padded_mask([3, 1], 3)
    for merge_mode in MERGE_MODES:
        for return_sequences in [True, False]:
            inner = keras.layers.SimpleRNN(2, return_sequences=return_sequences)
            theirs = keras.layers.Bidirectional(inner, merge_mode=merge_mode)
            ours = Bidirectional(inner, merge_mode=merge_mode)
            got, want = ours.compute_mask(None, mask), theirs.compute_mask(None, mask)
            assert type(got) is type(want) and len(as_list(got)) == len(as_list(want))
            for g, w in zip(as_list(got), as_list(want)):
                assert (g is None and w is None) or np.array_equal(g, w)


# backward_layer= and weights=, side by side with keras.layers.Bidirectional (issue 18).


def twin(layer):
    """A second, unbuilt layer with the same config: Keras uses a given backward_layer itself."""
    return keras.layers.deserialize(keras.layers.serialize(layer))


BACKWARD_PAIRS = {
    "relu backward": (keras.layers.SimpleRNN(3, return_sequences=True, dtype="float64"),
                      keras.layers.SimpleRNN(3, activation="relu", return_sequences=True, go_backwards=True,
                                             dtype="float64")),
    "LSTM forward, GRU backward": (keras.layers.LSTM(3, dtype="float64"),
                                   keras.layers.GRU(2, go_backwards=True, dtype="float64")),
    "layer backwards, backward_layer forwards": (
        keras.layers.SimpleRNN(2, go_backwards=True, return_sequences=True, dtype="float64"),
        keras.layers.SimpleRNN(2, return_sequences=True, dtype="float64")),
    "return_state, other units": (
        keras.layers.LSTM(3, return_sequences=True, return_state=True, dtype="float64"),
        keras.layers.LSTM(2, return_sequences=True, return_state=True, go_backwards=True, dtype="float64")),
}


def backward_pair(layer, backward, merge_mode, T, D, rng):
    """Keras' Bidirectional and the reference with a given backward layer (each its own), same weights."""
    mine = twin(backward)
    theirs = keras.layers.Bidirectional(layer, merge_mode=merge_mode, backward_layer=backward, dtype="float64")
    ours = Bidirectional(layer, merge_mode=merge_mode, backward_layer=mine, dtype="float64")
    assert theirs.backward_layer is backward and ours.backward_layer is mine   # the layer itself, not a copy
    for wrapper in (theirs, ours):
        wrapper.build((None, T, D))
    random_weights(theirs, rng)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
@pytest.mark.parametrize("case", list(BACKWARD_PAIRS))
def test_bidirectional_with_backward_layer_equals_keras(case, merge_mode):
    layer, backward = (twin(x) for x in BACKWARD_PAIRS[case])
    if merge_mode == "sum" and layer.units != backward.units:
        pytest.skip("sum needs the same units in both directions")
    rng = np.random.default_rng(31)
    N, T, D = 3, 5, 4
    theirs, ours = backward_pair(layer, backward, merge_mode, T, D, rng)
    assert ours.backward_layer.go_backwards == theirs.backward_layer.go_backwards != ours.forward_layer.go_backwards
    x = rng.normal(size=(N, T, D))
    mask = right_padded_mask([T, 3, 1], T)
    assert_all_close(ours(x), theirs(x), 1e-6, case)
    assert_all_close(ours(x, mask=mask), theirs(x, mask=mask), 1e-6, f"{case}, mask")
    # Ignoring backward_layer would give other outputs: the test can tell.
    shapes = [[tuple(w.shape) for w in side.weights] for side in (theirs.forward_layer, theirs.backward_layer)]
    if shapes[0] == shapes[1] and not layer.go_backwards:
        plain = Bidirectional(layer, merge_mode=merge_mode, dtype="float64")
        plain.build((None, T, D))
        plain.set_weights(theirs.get_weights())
        assert max(np.max(np.abs(p - t)) for p, t in zip(as_list(plain(x)), as_list(theirs(x)))) > 1e-3


def test_bidirectional_with_built_backward_layer_keeps_its_weights_as_keras():
    rng = np.random.default_rng(32)
    backward = keras.layers.SimpleRNN(2, go_backwards=True)
    backward.build((None, 4, 3))
    random_weights(backward, rng)
    mine = twin(backward)
    mine.build((None, 4, 3))
    mine.set_weights(backward.get_weights())
    theirs = keras.layers.Bidirectional(keras.layers.SimpleRNN(2), backward_layer=backward)
    ours = Bidirectional(keras.layers.SimpleRNN(2), backward_layer=mine)
    for wrapper in (theirs, ours):
        wrapper.build((None, 4, 3))
    assert len(ours.get_weights()) == len(theirs.get_weights()) == 6
    assert_all_close(ours.get_weights()[3:], theirs.get_weights()[3:], 0.0, "the backward layer's weights")


@pytest.mark.parametrize("backward", [
    "SimpleRNN",
    keras.layers.SimpleRNN(2),
    keras.layers.SimpleRNN(2, go_backwards=True, return_sequences=True),
    keras.layers.SimpleRNN(2, go_backwards=True, stateful=True),
    keras.layers.SimpleRNN(2, go_backwards=True, return_state=True),
], ids=["a string", "go_backwards the same", "return_sequences", "stateful", "return_state"])
def test_bidirectional_refuses_a_backward_layer_where_keras_does(backward):
    with pytest.raises(ValueError):
        keras.layers.Bidirectional(keras.layers.SimpleRNN(2), backward_layer=backward)
    attribute = ("recurrent Keras layer" if isinstance(backward, str) else
                 "go_backwards" if not backward.go_backwards else
                 next(a for a in ("return_sequences", "stateful", "return_state") if getattr(backward, a)))
    with pytest.raises(ValueError, match=f"backward_layer.*{attribute}"):
        Bidirectional(keras.layers.SimpleRNN(2), backward_layer=backward)


def test_bidirectional_refuses_a_backward_layer_that_is_not_recurrent():
    # Keras fails on Dense with an AttributeError (no go_backwards); the reference says why at once.
    with pytest.raises(AttributeError):
        keras.layers.Bidirectional(keras.layers.SimpleRNN(2), backward_layer=keras.layers.Dense(2))
    with pytest.raises(ValueError, match="backward_layer must be a recurrent Keras layer"):
        Bidirectional(keras.layers.SimpleRNN(2), backward_layer=keras.layers.Dense(2))


def test_bidirectional_sets_use_cudnn_on_a_given_backward_layer_as_keras():
    # Keras sets layer's use_cudnn on the given backward layer too, whatever that layer said.
    for use_cudnn in (False, "auto"):
        got = []
        for cls in (keras.layers.Bidirectional, Bidirectional):
            backward = keras.layers.LSTM(2, go_backwards=True, use_cudnn=not use_cudnn)
            got.append(cls(keras.layers.LSTM(2, use_cudnn=use_cudnn), backward_layer=backward).backward_layer.use_cudnn)
        assert got == [use_cudnn, use_cudnn]


def test_bidirectional_config_carries_the_backward_layer_as_keras(tmp_path):
    rng = np.random.default_rng(33)
    layer, backward = (twin(x) for x in BACKWARD_PAIRS["relu backward"])
    theirs, ours = backward_pair(layer, backward, "concat", 5, 4, rng)
    config_theirs, config_ours = theirs.get_config(), ours.get_config()
    assert set(config_ours) == set(config_theirs)
    assert config_ours["backward_layer"]["config"] == config_theirs["backward_layer"]["config"]
    x = rng.normal(size=(2, 5, 4))
    clone_theirs = keras.layers.Bidirectional.from_config(config_theirs)
    clone_ours = Bidirectional.from_config(config_ours)
    assert clone_ours.backward_layer.activation is keras.activations.relu
    assert clone_ours.backward_layer.name == clone_theirs.backward_layer.name
    for clone in (clone_theirs, clone_ours):
        clone.build((None, 5, 4))
        clone.set_weights(theirs.get_weights())
    assert_all_close(clone_ours(x), theirs(x), 1e-6, "clone from the config")
    assert_all_close(clone_theirs(x), theirs(x), 1e-6, "Keras' clone from the config")
    # Without a backward_layer, get_config carries the backward copy too (as Keras'), and the
    # clone's copies keep their names.
    plain = Bidirectional(keras.layers.SimpleRNN(2, name="rnn"))
    assert set(plain.get_config()) == set(keras.layers.Bidirectional(keras.layers.SimpleRNN(2)).get_config())
    clone = Bidirectional.from_config(plain.get_config())
    assert (clone.forward_layer.name, clone.backward_layer.name) == ("forward_rnn", "backward_rnn")
    # And a .keras file keeps it.
    model = keras.Sequential([keras.Input((5, 4)), ours])
    loaded = round_trip(model, x, tmp_path)
    assert loaded.layers[0].backward_layer.activation is keras.activations.relu


def test_bidirectional_accepts_and_ignores_weights_as_keras():
    # Keras 3 keeps weights= as initial_weights on the two layers and never applies them: the
    # built wrapper has fresh weights. The reference does the same; if a later Keras applies
    # them, this test says so.
    shapes = [(3, 2), (2, 2), (2,)]
    weights = [np.full(shape, 7.0, "float32") for shape in shapes] + [np.full(shape, -7.0, "float32") for shape in shapes]
    theirs = keras.layers.Bidirectional(keras.layers.SimpleRNN(2), weights=weights)
    ours = Bidirectional(keras.layers.SimpleRNN(2), weights=weights)
    for wrapper in (theirs, ours):
        wrapper.build((None, 4, 3))
        assert len(wrapper.get_weights()) == 6
        assert not any(np.allclose(np.abs(w), 7.0) for w in wrapper.get_weights())
        assert_all_close(list(wrapper.forward_layer.initial_weights), weights[:3], 0.0, "forward initial_weights")
        assert_all_close(list(wrapper.backward_layer.initial_weights), weights[3:], 0.0, "backward initial_weights")
    assert "weights" not in ours.get_config() and "weights" not in theirs.get_config()


# --------------------------------------------------------------------------------------------
# .keras round trips
# --------------------------------------------------------------------------------------------


def round_trip(model, x, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert_all_close(loaded.predict(x, verbose=0), model.predict(x, verbose=0), 0.0, "reloaded")
    return loaded


def test_elman_and_jordan_models_save_and_load(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    inputs = keras.Input((None, 3))
    elman = keras.layers.RNN(ElmanCell(4), return_sequences=True)(inputs)
    jordan = keras.layers.RNN(JordanCell(4, 3))(elman)
    model = keras.Model(inputs, jordan)
    random_weights(model, rng)
    loaded = round_trip(model, x, tmp_path)
    assert any(isinstance(layer.cell, ElmanCell) for layer in loaded.layers if hasattr(layer, "cell"))


def test_bidirectional_model_with_mask_saves_and_loads(tmp_path):
    rng = np.random.default_rng(2)
    model = keras.Sequential([
        keras.Input((6,), dtype="int32"),
        keras.layers.Embedding(8, 4, mask_zero=True),
        Bidirectional(keras.layers.RNN(ElmanCell(3), return_sequences=True), merge_mode="sum"),
        Bidirectional(keras.layers.SimpleRNN(2)),
        keras.layers.Dense(2),
    ])
    random_weights(model, rng)
    x = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 1, 2]])
    loaded = round_trip(model, x, tmp_path)
    assert isinstance(loaded.layers[1], Bidirectional)
