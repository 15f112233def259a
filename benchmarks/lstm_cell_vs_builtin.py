"""Benchmark: an LSTM cell written with keras.ops inside keras.layers.RNN vs keras.layers.LSTM.

Times one forward + backward pass (the gradients of sum(outputs * upstream) with respect to the
input and every weight) of both layers, on the same shapes and the same weights, under the Keras
backend in use (``KERAS_BACKEND``) and on its default device (the GPU when there is one). Each
timing is the median of several calls, timed in alternation so that load from other processes
hits both layers alike, after a warm-up (tracing, compilation and the first calls are excluded).
Prints the device, the times and the ratio custom / built-in.

Compilation per backend: TensorFlow, ``tf.function`` with XLA (``jit_compile``) off and on; JAX,
``jax.jit`` (XLA; JAX has no useful uncompiled mode for a recurrent loop); PyTorch, eager (as
Keras runs it by default; ``torch.compile`` is not measured).

The custom cell is the reference answer of chapter 08 (tests/reference/lstm.py). On a CPU both
layers run the same generic loop (``keras.layers.RNN`` over the cell's step); on a GPU the
built-in LSTM switches to NVIDIA's fused cuDNN kernel when its arguments allow it, on every
backend (TensorFlow's own, ``jax.experimental.rnn``, ``torch.nn.LSTM``'s), except TensorFlow
with XLA on, which cannot compile cuDNN kernels: there it is built with ``use_cudnn=False``.

Run from the repository root:
    .venv/bin/python benchmarks/lstm_cell_vs_builtin.py
    KERAS_BACKEND=torch .venv-backends/bin/python benchmarks/lstm_cell_vs_builtin.py --repeats 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import rnn_course  # noqa: E402,F401  (quiet TensorFlow logs before it is imported)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=64, help="N, sequences per batch")
    parser.add_argument("--steps", type=int, default=50, help="T, time steps")
    parser.add_argument("--features", type=int, default=32, help="D, input features")
    parser.add_argument("--units", type=int, default=64, help="H, hidden units")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per configuration")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls first")
    args = parser.parse_args(argv)
    for name in ("batch", "steps", "features", "units", "repeats", "warmup"):
        value = getattr(args, name)
        if value < (0 if name == "warmup" else 1):
            parser.error(f"--{name} must be positive; received: {value}")
    return args


def gpu_available() -> bool:
    from rnn_course import backend

    return backend.gpu_count() > 0


def jit_modes(backend: str) -> list[bool]:
    """The compilation settings measured under each backend (see the module docstring)."""
    return {"tensorflow": [False, True], "jax": [True], "torch": [False]}[backend]


def make_layers(N, T, D, H, jit):
    """The two layers with the same weights: (name, layer) pairs."""
    import keras
    import numpy as np

    from tests.reference.lstm import LSTMCell

    # TensorFlow's cuDNN kernels cannot be compiled by XLA: with jit on a GPU, the generic loop.
    tf_xla = jit and keras.backend.backend() == "tensorflow"
    use_cudnn = False if (tf_xla and gpu_available()) else "auto"
    builtin = keras.layers.LSTM(H, return_sequences=True, use_cudnn=use_cudnn)
    custom = keras.layers.RNN(LSTMCell(H), return_sequences=True)
    for layer in (builtin, custom):
        layer.build((N, T, D))
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=w.shape).astype("float32") * 0.2 for w in builtin.get_weights()]
    builtin.set_weights(weights)
    custom.set_weights(weights)
    return [("custom LSTMCell in RNN", custom), ("keras.layers.LSTM", builtin)]


def forward_backward(layer, jit):
    """A function x, upstream -> (outputs, gradients w.r.t. x and every weight), compiled as the
    backend allows (``jit_modes``)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=jit, reduce_retracing=True)
        def step(x, upstream):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(y * upstream)
            return y, tape.gradient(loss, [x] + [v.value for v in layer.trainable_variables])

        return step
    if backend == "jax":
        import jax

        trainable = [v.value for v in layer.trainable_variables]
        non_trainable = [v.value for v in layer.non_trainable_variables]

        def loss(x, weights, upstream):
            y, _ = layer.stateless_call(weights, non_trainable, x)
            return keras.ops.sum(y * upstream), y

        grads = jax.jit(jax.grad(loss, argnums=(0, 1), has_aux=True))

        def step(x, upstream):
            (dx, dweights), y = grads(x, trainable, upstream)
            return y, [dx, *dweights]

        return step
    if backend == "torch":
        import torch

        def step(x, upstream):
            x = x.detach().requires_grad_(True)
            y = layer(x)
            weights = [v.value for v in layer.trainable_variables]
            return y.detach(), list(torch.autograd.grad((y * upstream).sum(), [x, *weights]))

        return step
    raise SystemExit(f"unsupported backend {backend!r}")


def time_interleaved(fns: dict, args, warmup, repeats) -> dict:
    """Seconds per call of each function, timed in alternation (so load from other processes
    hits both alike): {name: [seconds, ...]}."""
    for fn in fns.values():
        for _ in range(warmup):
            _sync(fn(*args))
    times = {name: [] for name in fns}
    order = list(fns)
    for r in range(repeats):
        for name in (order if r % 2 == 0 else order[::-1]):
            start = time.perf_counter()
            _sync(fns[name](*args))
            times[name].append(time.perf_counter() - start)
    return times


def _sync(result):
    """Wait for asynchronous (GPU) work: fetch one number of every output."""
    from rnn_course.backend import to_numpy

    y, grads = result
    float(to_numpy(y[0, 0, 0]))
    for g in grads:
        float(to_numpy(g).flat[0])


def main(argv=None) -> int:
    args = parse_args(argv)
    import importlib

    import keras
    import numpy as np

    from rnn_course.backend import device_name, set_tf32, to_numpy

    backend = keras.backend.backend()
    set_tf32(False)   # as env.setup() leaves it in the chapters
    keras.utils.set_random_seed(0)
    version = importlib.import_module(backend).__version__
    if backend == "torch":   # one CPU thread, as env.setup() runs the chapters (see rnn_course/env.py)
        import os

        import torch

        torch.set_num_threads(int(os.environ.get("RNN_COURSE_TORCH_THREADS", "1")))
    N, T, D, H = args.batch, args.steps, args.features, args.units
    rng = np.random.default_rng(1)
    x = keras.ops.convert_to_tensor(rng.normal(size=(N, T, D)).astype("float32"))
    upstream = keras.ops.convert_to_tensor(rng.normal(size=(N, T, H)).astype("float32"))
    device = f"GPU ({device_name()})" if gpu_available() else "CPU"
    print(f"LSTM forward + backward, N={N} T={T} D={D} H={H}, {device}, backend "
          f"{backend} {version}, Keras {keras.__version__}; median of {args.repeats} "
          f"calls after {args.warmup} warm-up calls")
    results = {}
    for jit in jit_modes(backend):
        steps, outputs, first = {}, {}, {}
        for name, layer in make_layers(N, T, D, H, jit):
            steps[name] = forward_backward(layer, jit)
            start = time.perf_counter()
            outputs[name] = steps[name](x, upstream)
            first[name] = time.perf_counter() - start
        times = time_interleaved(steps, (x, upstream), args.warmup, args.repeats)
        medians = {name: statistics.median(t) for name, t in times.items()}
        for name, t in times.items():
            print(f"  jit_compile={str(jit):5}  {name:24} {1e3 * medians[name]:8.2f} ms "
                  f"(min {1e3 * min(t):.2f}, max {1e3 * max(t):.2f}; first call with "
                  f"tracing/compiling {first[name]:.1f} s)")
        (custom, out_c), (builtin, out_b) = outputs.items()
        diff = max(float(np.max(np.abs(to_numpy(a) - to_numpy(b)) / (1.0 + np.abs(to_numpy(b)))))
                   for a, b in zip([out_c[0], *out_c[1]], [out_b[0], *out_b[1]]))
        ratio = medians[custom] / medians[builtin]
        fastest = min(times[custom]) / min(times[builtin])
        results[jit] = ratio
        print(f"  jit_compile={str(jit):5}  ratio custom / built-in = {ratio:.2f} (medians; "
              f"{fastest:.2f} between the fastest calls); outputs and gradients agree to "
              f"{diff:.1e} (relative)")
    print(f"summary: custom / built-in = "
          + ", ".join(f"{r:.2f} with jit_compile={j}" for j, r in results.items())
          + f" ({backend}, {device})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
