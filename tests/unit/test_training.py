"""rnn_course.training.GradientHookModel: the same training step on every backend."""

from __future__ import annotations

import keras
import numpy as np

from rnn_course import autodiff, training


class BatchLogs(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.history = {}

    def on_train_batch_end(self, batch, logs=None):
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))


def data(n=24, T=5):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, T, 2)).astype("float32")
    return x, x[:, -1, :1] * 2.0


def model_of(cls, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((5, 2))
    return cls(inputs, keras.layers.Dense(1)(keras.layers.SimpleRNN(4)(inputs)))


class NormLogger(training.GradientHookModel):
    def process_gradients(self, grads):
        return grads, {"global_norm": training.global_norm(grads)}


def test_fit_logs_the_batch_loss_and_the_hook_logs():
    """Per-batch loss (not Keras' running mean) and the pre-clip global norm, as autodiff gives them."""
    x, y = data()
    model = model_of(NormLogger)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")  # weights stay put
    logs = BatchLogs()
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[logs])
    assert len(logs.history["loss"]) == len(logs.history["global_norm"]) == 3
    for b in range(3):
        xb, yb = x[8 * b: 8 * b + 8], y[8 * b: 8 * b + 8]

        def cost():
            return keras.ops.mean(keras.ops.square(keras.ops.subtract(model(xb), yb)))

        value, grads = autodiff.value_and_gradients(cost, model.trainable_variables)
        np.testing.assert_allclose(logs.history["loss"][b], value, rtol=1e-5)
        norm = np.sqrt(sum(float(np.sum(g.astype("float64") ** 2)) for g in grads))
        np.testing.assert_allclose(logs.history["global_norm"][b], norm, rtol=1e-4)


def test_default_hook_trains_like_plain_keras():
    """Without a hook the step equals Keras' own train_step (same weights after SGD)."""
    x, y = data()
    ours, theirs = model_of(training.GradientHookModel), model_of(keras.Model)
    theirs.set_weights(ours.get_weights())
    for m in (ours, theirs):
        m.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
        m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


class Frozen(training.GradientHookModel):
    def process_gradients(self, grads):
        return [keras.ops.zeros_like(g) for g in grads], {}


def test_gradients_returned_by_the_hook_are_the_ones_applied():
    x, y = data()
    model = model_of(Frozen)
    before = model.get_weights()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_global_norm():
    value = training.global_norm([np.array([3.0, 4.0]), None, np.array([[12.0]])])
    assert float(keras.ops.convert_to_numpy(value)) == 13.0
    assert float(keras.ops.convert_to_numpy(training.global_norm([]))) == 0.0
