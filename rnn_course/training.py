"""A Keras model whose training step hands its gradients to you before the optimizer applies them.

A custom ``train_step`` is backend-specific in Keras 3: TensorFlow records a ``GradientTape``,
JAX differentiates a stateless function with ``jax.grad`` and returns the new state, PyTorch
calls ``loss.backward()``. ``GradientHookModel`` implements all three once; a chapter overrides
only ``process_gradients(grads)``, written with ``keras.ops``, to log norms or change the
gradients. ``model.fit`` then logs, at every batch, the loss of that batch (not Keras' running
mean over the epoch) and whatever ``process_gradients`` returned.

Example:
    class NormLogger(training.GradientHookModel):
        def process_gradients(self, grads):
            return grads, {"global_norm": training.global_norm(grads)}

    model = NormLogger(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1, global_clipnorm=1.0), loss="mse")
"""

from __future__ import annotations

import keras


def global_norm(tensors):
    """sqrt(sum of the squares of every entry of every tensor); ``None`` entries are skipped.

    Args:
        tensors: list of tensors or arrays, any shapes.

    Returns:
        scalar tensor of the backend (``float(...)`` gives the number).
    """
    squares = [keras.ops.sum(keras.ops.square(t)) for t in tensors if t is not None]
    if not squares:
        return keras.ops.convert_to_tensor(0.0)
    return keras.ops.sqrt(keras.ops.sum(keras.ops.stack(squares)))


class GradientHookModel(keras.Model):
    """A functional/subclassed ``keras.Model`` whose ``train_step`` calls ``process_gradients``.

    Override ``process_gradients(self, grads) -> (grads, logs)``: ``grads`` is the list of
    gradients of the batch loss, one per ``self.trainable_variables`` (in that order); return
    the gradients for the optimizer (changed or not) and a dict of scalar tensors to log. It
    runs inside the backend's compiled step: use ``keras.ops``, not numpy.
    """

    def process_gradients(self, grads):
        """Return (gradients to apply, dict of logs); the default changes and logs nothing."""
        return grads, {}

    def train_step(self, *args):
        backend = keras.backend.backend()
        if backend == "jax":
            return self._train_step_jax(*args)
        if backend == "tensorflow":
            return self._train_step_tensorflow(*args)
        if backend == "torch":
            return self._train_step_torch(*args)
        raise NotImplementedError(f"GradientHookModel supports tensorflow, jax and torch; backend is {backend!r}")

    def _train_step_tensorflow(self, data):
        import tensorflow as tf

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        grads = tape.gradient(loss, self.trainable_variables)
        grads, logs = self.process_gradients(list(grads))
        self.optimizer.apply(grads, self.trainable_variables)
        return {"loss": loss, **logs}

    def _train_step_torch(self, data):
        import torch

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        variables = list(self.trainable_variables)
        grads = [v.value.grad for v in variables]
        with torch.no_grad():
            grads, logs = self.process_gradients(grads)
            self.optimizer.apply(grads, variables)
        return {"loss": loss.detach(), **logs}

    def _train_step_jax(self, state, data):
        import jax

        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (_, aux), grads = grad_fn(trainable, non_trainable, metrics_vars, x, y, sample_weight,
                                  training=True, optimizer_variables=optimizer_vars)
        loss, _, non_trainable, metrics_vars = aux
        grads, logs = self.process_gradients(list(grads))
        trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads, trainable)
        return {"loss": loss, **logs}, (trainable, non_trainable, optimizer_vars, metrics_vars)
