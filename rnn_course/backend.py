"""What differs between the Keras backends (TensorFlow, JAX, PyTorch) and devices, in one place.

The chapters write their maths with ``keras.ops`` and run on whichever backend ``KERAS_BACKEND``
selects; the few things that cannot be written that way live here (and in ``autodiff`` and
``training`` for gradients):

* ``keep_float64()``: Keras 3 computes float64 inputs in float32 on JAX and PyTorch (its type
  promotion maps 64-bit results to 32 bits, as JAX does without x64). The course's autodiff
  oracles compare hand-derived gradients in float64 at 1e-7; float32 would blur them to 1e-3.
* ``gpu_count()``, ``on_gpu(tensor)``: what the backend sees and where a tensor lives.
* ``set_tf32(enabled)``: TensorFloat-32 matmuls (Ampere and newer GPUs) lose precision; the
  chapters compare GPU results with CPU references, so ``env.setup`` turns it off.

Example:
    from rnn_course import backend
    backend.name(), backend.gpu_count()
"""

from __future__ import annotations

BACKENDS = ("tensorflow", "jax", "torch")


def name() -> str:
    """The Keras backend in use: "tensorflow", "jax" or "torch"."""
    import keras

    return keras.backend.backend()


def keep_float64() -> None:
    """Make Keras keep float64 results in float64 on every backend (idempotent).

    Keras 3.15 maps a float64 result type to float32 unless the backend is TensorFlow
    (``keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE``), so ``keras.ops.matmul`` of two
    float64 tensors is float32 on JAX and PyTorch. This restores float64 for float64 inputs
    only: float32 models (the default, ``keras.config.floatx()``) are unaffected. On JAX it
    also needs ``jax_enable_x64``, which ``import rnn_course`` requests (``JAX_ENABLE_X64``)
    and this function sets if JAX is already loaded.
    """
    backend = name()
    if backend == "tensorflow":
        return
    from keras.src.backend.common import dtypes

    dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"
    if backend == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)


def gpu_count() -> int:
    """Number of GPUs the Keras backend sees (0 on a CPU-only machine)."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        return len(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        try:
            return len(jax.devices("gpu"))
        except RuntimeError:  # no GPU platform: jaxlib without CUDA, or no device
            return 0
    if backend == "torch":
        import torch

        return torch.cuda.device_count()
    return 0


def device_name() -> str:
    """The name of the first GPU ("NVIDIA H100 80GB HBM3", ...), or "CPU"."""
    if not gpu_count():
        return "CPU"
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        return details.get("device_name", "GPU")
    if backend == "jax":
        import jax

        return jax.devices("gpu")[0].device_kind
    import torch

    return torch.cuda.get_device_name(0)


def on_gpu(tensor) -> bool:
    """Whether a backend tensor (or a Keras variable) lives on a GPU."""
    value = getattr(tensor, "value", tensor)  # a keras.Variable holds its tensor in .value
    backend = name()
    if backend == "tensorflow":
        return "GPU" in (getattr(value, "device", "") or "").upper()
    if backend == "jax":
        return any(d.platform == "gpu" for d in value.devices())
    if backend == "torch":
        return value.device.type == "cuda"
    return False


def set_tf32(enabled: bool) -> None:
    """Allow or forbid TensorFloat-32 in float32 matmuls and convolutions (GPU only; harmless on CPU)."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(enabled)
    elif backend == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", None if enabled else "highest")
    elif backend == "torch":
        import torch

        if hasattr(torch.backends, "fp32_precision"):  # torch >= 2.9; the old flags are deprecated
            precision = "tf32" if enabled else "ieee"
            torch.backends.cuda.matmul.fp32_precision = precision
            torch.backends.cudnn.fp32_precision = precision
        else:
            torch.backends.cuda.matmul.allow_tf32 = enabled
            torch.backends.cudnn.allow_tf32 = enabled


def tf32_enabled() -> bool:
    """Whether float32 matmuls may use TensorFloat-32 (what ``set_tf32`` set)."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.experimental.tensor_float_32_execution_enabled())
    if backend == "jax":
        import jax

        return jax.config.jax_default_matmul_precision not in ("highest", "float32")
    if backend == "torch":
        import torch

        if hasattr(torch.backends, "fp32_precision"):
            return torch.backends.cuda.matmul.fp32_precision == "tf32"
        return bool(torch.backends.cuda.matmul.allow_tf32)
    return False


def unwrap(value):
    """A framework tensor (TensorFlow, JAX, PyTorch on any device, tracking gradients or not) as
    numpy; anything else unchanged.

    ``np.asarray`` alone fails on a PyTorch tensor that requires grad or lives on a GPU, and a
    Keras layer's output under the torch backend is such a tensor.
    """
    import numpy as np

    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy") and not isinstance(value, (np.ndarray, np.generic)):
        return value.numpy()
    if type(value).__module__.startswith("jax"):
        return np.asarray(value)
    return value


def to_numpy(value, dtype=None):
    """A tensor of any backend or an array-like as a numpy array (see :func:`unwrap`)."""
    import numpy as np

    return np.asarray(unwrap(value), dtype=dtype)
