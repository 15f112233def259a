"""Reference Keras layers of chapters 07 and 09: ElmanCell, JordanCell, Bidirectional.

Kept under tests/ (never in rnn_course, which ships to students): these are the answers the
chapters grade, written with ``keras.ops`` only so they run on every Keras backend. The unit
tests in tests/unit/test_reference_rnn_layers.py prove them equal to Keras' built-in layers
(SimpleRNN, Bidirectional) weight for weight, and that they survive a ``.keras`` round trip.

Weight layout (Keras'): kernel (D, H), recurrent_kernel (H, H), bias (H,). Shape letters: N
batch, T time, D input features, H hidden units, V output units of a Jordan cell.
"""

from __future__ import annotations

import keras
from keras import ops

PACKAGE = "rnn_course_reference"
MERGE_MODES = ("concat", "sum", "ave", "mul", None)


def _positive_int(value, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{argument} must be a positive int; received: {value!r}")
    return value


@keras.saving.register_keras_serializable(package=PACKAGE)
class ElmanCell(keras.layers.Layer):
    """Elman RNN cell for ``keras.layers.RNN``: h_t = activation(x_t W + h_{t-1} U + b).

    Args:
        units: H, the size of the hidden state (and of the output).
        activation: name or callable (default "tanh").
        **kwargs: passed to ``keras.layers.Layer`` (name, dtype, ...).

    Weights (created by ``build``): kernel (D, H), recurrent_kernel (H, H), bias (H,), the
    layout of ``keras.layers.SimpleRNNCell``, so ``set_weights(simple_rnn.get_weights())`` works.

    Example:
        layer = keras.layers.RNN(ElmanCell(16), return_sequences=True)
    """

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units")
        self.activation = keras.activations.get(activation)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        D = input_shape[-1]
        self.kernel = self.add_weight(shape=(D, self.units), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="orthogonal", name="recurrent_kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs, states):
        """One step: inputs (N, D), states [h_prev (N, H)] -> (h (N, H), [h])."""
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        h = self.activation(
            ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel) + self.bias)
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation)}


@keras.saving.register_keras_serializable(package=PACKAGE)
class JordanCell(keras.layers.Layer):
    """Jordan RNN cell: the previous *output* y_{t-1} is fed back, not the hidden state.

        h_t = activation(x_t W + y_{t-1} U + b),   y_t = output_activation(h_t W_y + b_y)

    Args:
        units: H, the size of the hidden layer.
        output_units: V, the size of the output y_t, which is also the state.
        activation: of the hidden layer (default "tanh").
        output_activation: of the output (default "softmax").
        **kwargs: passed to ``keras.layers.Layer``.

    Weights: kernel (D, H), recurrent_kernel (V, H), bias (H,), output_kernel (H, V),
    output_bias (V,). ``state_size`` and ``output_size`` are V; the initial state is y_0 = 0.
    """

    def __init__(self, units, output_units, activation="tanh", output_activation="softmax", **kwargs):
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units")
        self.output_units = _positive_int(output_units, "output_units")
        self.activation = keras.activations.get(activation)
        self.output_activation = keras.activations.get(output_activation)
        self.state_size = self.output_units
        self.output_size = self.output_units

    def build(self, input_shape):
        D, H, V = input_shape[-1], self.units, self.output_units
        self.kernel = self.add_weight(shape=(D, H), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(V, H), initializer="orthogonal",
                                                name="recurrent_kernel")
        self.bias = self.add_weight(shape=(H,), initializer="zeros", name="bias")
        self.output_kernel = self.add_weight(shape=(H, V), initializer="glorot_uniform",
                                             name="output_kernel")
        self.output_bias = self.add_weight(shape=(V,), initializer="zeros", name="output_bias")

    def call(self, inputs, states):
        """One step: inputs (N, D), states [y_prev (N, V)] -> (y (N, V), [y])."""
        y_prev = states[0] if isinstance(states, (list, tuple)) else states
        h = self.activation(
            ops.matmul(inputs, self.kernel) + ops.matmul(y_prev, self.recurrent_kernel) + self.bias)
        y = self.output_activation(ops.matmul(h, self.output_kernel) + self.output_bias)
        return y, [y]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "output_units": self.output_units,
            "activation": keras.activations.serialize(self.activation),
            "output_activation": keras.activations.serialize(self.output_activation),
        }


def merge_directions(y_forward, y_backward, merge_mode="concat"):
    """Combine the outputs of the two directions, both (N, T, H) or (N, H), in time order.

    Returns:
        concat: (..., 2H) forward first; sum, ave, mul: (..., H) elementwise; None: the pair.
    """
    if merge_mode == "concat":
        return ops.concatenate([y_forward, y_backward], axis=-1)
    if merge_mode == "sum":
        return y_forward + y_backward
    if merge_mode == "ave":
        return (y_forward + y_backward) / 2
    if merge_mode == "mul":
        return y_forward * y_backward
    if merge_mode is None:
        return (y_forward, y_backward)
    raise ValueError(f"merge_mode must be one of {MERGE_MODES}; received: {merge_mode!r}")


def _copy_layer(layer, name, **changes):
    """A fresh layer with ``layer``'s configuration (and new weights), renamed and changed."""
    config = layer.get_config()
    config.update(name=name, **changes)
    return type(layer).from_config(config)


# What Keras' Bidirectional verifies a given backward_layer shares with the forward layer.
COMMON_ATTRIBUTES = ("stateful", "return_sequences", "return_state")


def check_backward_layer(layer, backward_layer):
    """ValueError unless backward_layer can pair with layer, as keras.layers.Bidirectional requires.

    It must be a recurrent Keras layer whose go_backwards differs from layer's and whose
    stateful, return_sequences and return_state equal layer's.
    """
    if not isinstance(backward_layer, keras.layers.Layer) or not hasattr(backward_layer, "go_backwards"):
        # Keras: a ValueError for a non-layer; a layer without go_backwards fails later (AttributeError).
        raise ValueError(f"backward_layer must be a recurrent Keras layer; received: {backward_layer!r}")
    if backward_layer.go_backwards == layer.go_backwards:
        raise ValueError("backward_layer must have a go_backwards different from layer's; received: "
                         f"go_backwards={backward_layer.go_backwards} for both {layer.name} and {backward_layer.name}")
    for attribute in COMMON_ATTRIBUTES:
        ours, theirs = getattr(layer, attribute), getattr(backward_layer, attribute)
        if ours != theirs:
            raise ValueError(f"backward_layer must have the same {attribute} as layer; received: "
                             f"{attribute}={theirs} for backward_layer {backward_layer.name}, {ours} for layer {layer.name}")


@keras.saving.register_keras_serializable(package=PACKAGE)
class Bidirectional(keras.layers.Layer):
    """Run a recurrent layer over the sequence forwards and backwards; merge the two outputs.

    Like ``keras.layers.Bidirectional`` (and equal to it weight for weight): a forward copy and
    a backward copy (``go_backwards=True``) of ``layer``, each with its own weights. Both get
    the mask, so for right-padded sequences the backward pass starts at each sequence's last
    real token: reversed, the padding comes first, and masked steps leave the state at its
    initial value. Returned sequences of the backward copy are flipped back into time order.

    Args:
        layer: a recurrent layer (``keras.layers.RNN`` or a subclass); go_backwards=False
            unless a backward_layer is given.
        merge_mode: "concat", "sum", "ave", "mul" or None (return both outputs).
        weights: accepted and ignored, as by Keras 3: its Bidirectional stores the first half
            as ``forward_layer.initial_weights`` and the second half on the backward layer,
            and nothing ever reads them (use ``set_weights`` after ``build``).
        backward_layer: optional recurrent layer used, itself (not a copy), as the backward
            layer instead of a copy of ``layer``: its go_backwards must differ from layer's and
            its stateful, return_sequences and return_state equal them (else a ValueError, as
            in Keras). ``get_config`` carries it and ``from_config`` rebuilds it.
        **kwargs: passed to ``keras.layers.Layer``.

    ``get_weights()``: the forward copy's weights, then the backward layer's, as in Keras.
    Also as in Keras: ``stateful``, ``states`` and ``reset_state()`` for stateful layers,
    ``compute_output_shape``, ``use_cudnn`` of ``layer`` set on both directions, outputs in the
    wrapper's compute dtype, and a ``ValueError`` for a layer with go_backwards=True and no
    backward_layer. ``compute_mask`` gives one mask per output (Keras' raises a TypeError for a
    stateful layer with return_state).
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        # As Keras: ValueError for anything but a layer, and for a layer that already reads
        # backwards (Keras would make two backward copies and refuse them).
        if not isinstance(layer, keras.layers.Layer) or not hasattr(layer, "go_backwards"):
            raise ValueError(f"layer must be a recurrent Keras layer; received: {layer!r}")
        if backward_layer is None and layer.go_backwards:
            raise ValueError("layer must have go_backwards=False: the wrapper makes the backward copy itself; "
                             f"received: go_backwards=True for {layer.name}")
        if backward_layer is not None:
            check_backward_layer(layer, backward_layer)
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {MERGE_MODES}; received: {merge_mode!r}")
        super().__init__(**kwargs)
        # The forward copy keeps layer's go_backwards, as in Keras (True only beside a given
        # backward_layer that reads forwards, a pair Keras accepts).
        self.forward_layer = _copy_layer(layer, f"forward_{layer.name.removeprefix('forward_')}")
        if backward_layer is None:
            backward_layer = _copy_layer(layer, f"backward_{layer.name.removeprefix('backward_')}", go_backwards=True)
        self.backward_layer = backward_layer
        for copy in (self.forward_layer, self.backward_layer):
            # As Keras does: padded steps of returned sequences are zeros in both directions.
            copy.zero_output_for_mask = copy.return_sequences
            # use_cudnn is an attribute, not in get_config: a copy from the config would say "auto".
            if hasattr(layer, "use_cudnn"):
                copy.use_cudnn = layer.use_cudnn
        self.merge_mode = merge_mode
        if weights:   # as Keras 3: kept, never applied
            half = len(weights) // 2
            self.forward_layer.initial_weights = weights[:half]
            self.backward_layer.initial_weights = weights[half:]
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def build(self, sequences_shape, initial_state_shape=None):
        for copy in (self.forward_layer, self.backward_layer):
            if not copy.built:
                copy.build(sequences_shape)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask, training=training)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask, training=training)
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        # As Keras: the outputs in the wrapper's compute dtype (e.g. float16 under mixed precision).
        y, y_rev = ops.cast(y, self.compute_dtype), ops.cast(y_rev, self.compute_dtype)
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)
        output = merge_directions(y, y_rev, self.merge_mode)
        if self.return_state:
            return (output if self.merge_mode is None else (output,)) + states
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        """The shapes call returns, from the forward copy's: (N, T, 2H) or (N, 2H) for concat, ..."""
        shape = self.forward_layer.compute_output_shape(sequences_shape)
        state_shapes = ()
        if self.return_state:
            shape, state_shapes = shape[0], tuple(shape[1:])
        shape = tuple(shape)
        if self.merge_mode == "concat":
            shape = shape[:-1] + (None if shape[-1] is None else 2 * shape[-1],)
        outputs = (shape, shape) if self.merge_mode is None else (shape,)
        if not self.return_state:
            return outputs if self.merge_mode is None else shape
        return outputs + state_shapes + state_shapes

    @property
    def states(self):
        """The forward copy's states, then the backward copy's (stateful layers); else None."""
        if self.forward_layer.states and self.backward_layer.states:
            return tuple(self.forward_layer.states) + tuple(self.backward_layer.states)
        return None

    def reset_state(self):
        """Zero the states of both copies; an AttributeError unless the layer is stateful (as Keras)."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        """The older name of reset_state, kept by Keras."""
        self.reset_state()

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.merge_mode is None:
            output_mask = (output_mask, output_mask)
        else:
            output_mask = (output_mask,)
        if self.return_state:
            n_states = len(self.forward_layer.state_size) * 2
            output_mask = output_mask + (None,) * n_states
        return output_mask if len(output_mask) > 1 else output_mask[0]

    def get_config(self):
        """As Keras': the base config, merge_mode, the forward copy as "layer" and the backward layer."""
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": keras.saving.serialize_keras_object(self.forward_layer),
                "backward_layer": keras.saving.serialize_keras_object(self.backward_layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"], custom_objects=custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = keras.saving.deserialize_keras_object(
                config["backward_layer"], custom_objects=custom_objects)
        return cls(**config)
