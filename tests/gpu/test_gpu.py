"""On a GPU: the backend sees it, chapters 05-09 run on it, results agree with the CPU, grading works.

Marked ``gpu``; every test skips with the reason when the Keras backend sees no GPU
(tests/gpu/conftest.py), so CI and laptops report them as skipped, never as passed. On a GPU
machine: ``KERAS_BACKEND=torch python -m pytest -m gpu tests/gpu`` (docs/gpu.md), with any
backend. The measured differences go to build/reports/gpu_<backend>.json.

Tolerances (GPU vs CPU, TensorFloat-32 off as ``env.setup`` leaves it): the GPU sums in other
orders and cuDNN fuses the LSTM's gates, so float32 results differ by rounding only, a few ulps
per step compounded over T steps. They are stated here, once, and reported with the measured
differences.
"""

from __future__ import annotations

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from rnn_course import autodiff, backend, env, samples, training
from rnn_course.course import Course
from tests.reference.lstm import LSTMCell
from tests.reference.rnn_layers import Bidirectional, ElmanCell, JordanCell
from tests.unit.test_training import BatchLogs

pytestmark = pytest.mark.gpu

# float32 forward outputs and gradients, GPU vs CPU (T = 20 steps).
FLOAT32 = {"rtol": 1e-4, "atol": 1e-5}
# float64: rounding differences only.
FLOAT64 = {"rtol": 1e-10, "atol": 1e-12}
# Per-step losses of a short clipped training run (the chapter 05 setup, 20 SGD steps).
TRAINING = {"rtol": 1e-3, "atol": 1e-5}
GPU_CHAPTERS = ["05_clipping", "06_training_from_scratch", "07_custom_rnn_cell", "08_lstm", "09_bidirectional"]
N, T, D, H = 8, 20, 5, 16
MEASURED: dict = {}
# keras.device names. Keras 3.15 with PyTorch fails to create integer variables (a layer's seed
# state) under "cpu:0" (RuntimeError "Only Tensors of floating point ... can require
# gradients"); "cpu" works. "gpu" means "cuda" there.
CPU, GPU = ("cpu", "gpu") if keras.backend.backend() == "torch" else ("cpu:0", "gpu:0")


@pytest.fixture(scope="module", autouse=True)
def report(repo):
    """Write what the tests measured (differences, tolerances, device) after the module."""
    yield
    if MEASURED:
        folder = repo / "build" / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        MEASURED.update(backend=backend.name(), device=env.device(), device_name=backend.device_name(),
                        tolerances={"float32": FLOAT32, "float64": FLOAT64, "training": TRAINING})
        (folder / f"gpu_{backend.name()}.json").write_text(json.dumps(MEASURED, indent=1, default=str))


def worst(a, b) -> float:
    """Largest |a - b| / (1 + |b|) over all entries."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    return float(np.max(np.abs(a - b) / (1.0 + np.abs(b))))


def test_backend_sees_the_gpu(capsys):
    """env.setup() reports the GPU, with TF32 off by default."""
    info = env.setup(seed=0)
    assert info["device"].startswith("GPU"), info
    assert info["device_name"] not in ("CPU", "") and not info["device_name"].startswith("unknown"), info
    assert info["tf32"] is False, "env.setup() must turn TensorFloat-32 off (CPU references)"
    assert "device GPU" in capsys.readouterr().out
    MEASURED["setup"] = info


LAYERS = {
    # chapter: (factory, input dtype)
    "07 ElmanCell": lambda dtype: keras.layers.RNN(ElmanCell(H, dtype=dtype), return_sequences=True, dtype=dtype),
    "07 JordanCell": lambda dtype: keras.layers.RNN(JordanCell(H, 3, dtype=dtype), return_sequences=True,
                                                    dtype=dtype),
    "08 LSTMCell": lambda dtype: keras.layers.RNN(LSTMCell(H, dtype=dtype), return_sequences=True, dtype=dtype),
    "08 keras LSTM (cuDNN)": lambda dtype: keras.layers.LSTM(H, return_sequences=True, dtype=dtype),
    "09 Bidirectional(LSTMCell)": lambda dtype: Bidirectional(
        keras.layers.RNN(LSTMCell(H, dtype=dtype), return_sequences=True, dtype=dtype), dtype=dtype),
}


def run_layer(device, factory, dtype, weights, x, upstream):
    """Outputs, gradients (input weights) and placement of a layer built and run on ``device``."""
    with keras.device(device):
        keras.utils.set_random_seed(0)
        layer = factory(dtype)
        layer.build(x.shape)
        if weights is not None:
            layer.set_weights(weights)
        y = layer(x)
        _, grads = autodiff.value_and_gradients(
            lambda: keras.ops.sum(keras.ops.multiply(layer(x), upstream)), layer.trainable_variables)
        placed = [backend.on_gpu(y)] + [backend.on_gpu(v) for v in layer.weights]
    return layer.get_weights(), keras.ops.convert_to_numpy(y), grads, placed


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layers_run_on_the_gpu_and_agree_with_the_cpu(name, dtype):
    """The graded layers of chapters 07-09 run on the GPU; outputs and gradients match the CPU's."""
    env.setup(seed=0, verbose=False)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, T, D)).astype(dtype)
    upstream = rng.normal(size=(N, T, 2 * H if name.startswith("09") else H)).astype(dtype)
    if name.startswith("07 Jordan"):
        upstream = upstream[..., :3]
    weights, y_gpu, g_gpu, placed_gpu = run_layer(GPU, LAYERS[name], dtype, None, x, upstream)
    _, y_cpu, g_cpu, placed_cpu = run_layer(CPU, LAYERS[name], dtype, weights, x, upstream)
    assert all(placed_gpu), f"{name}: output/weights not on the GPU: {placed_gpu}"
    assert not any(placed_cpu), f"{name}: the CPU reference ran on the GPU: {placed_cpu}"
    tol = FLOAT32 if dtype == "float32" else FLOAT64
    diffs = {"outputs": worst(y_gpu, y_cpu), "gradients": max(worst(a, b) for a, b in zip(g_gpu, g_cpu))}
    MEASURED.setdefault("layers", {})[f"{name} {dtype}"] = diffs
    np.testing.assert_allclose(y_gpu, y_cpu, **tol, err_msg=f"{name} outputs, GPU vs CPU")
    for i, (a, b) in enumerate(zip(g_gpu, g_cpu)):
        np.testing.assert_allclose(a, b, rtol=tol["rtol"], atol=tol["atol"] * max(1.0, float(np.abs(b).max())),
                                   err_msg=f"{name} gradient of weight {i}, GPU vs CPU")


class NormLogger(training.GradientHookModel):
    """Chapter 05's model: logs the global gradient norm before the optimizer clips it."""

    def process_gradients(self, grads):
        return grads, {"global_norm": training.global_norm(grads)}


def train_on(device, steps=20, batch=16):
    """The chapter 05 experiment (rho(Wh) = 1.3, T = 50, clipped SGD) on ``device``."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(steps * batch, 50, 1)).astype("float32")
    y = x[:, -1, :]
    with keras.device(device):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((50, 1))
        rnn = keras.layers.SimpleRNN(32, recurrent_initializer=keras.initializers.Orthogonal(gain=1.3, seed=1))
        model = NormLogger(inputs, keras.layers.Dense(1)(rnn(inputs)))
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.3, global_clipnorm=1.0), loss="mse")
        logs = BatchLogs()
        model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=[logs])
        placed = [backend.on_gpu(v) for v in model.weights]
    return logs.history, placed


def test_training_runs_on_the_gpu_and_agrees_with_the_cpu():
    """Chapter 05's clipped training runs on the GPU; its per-step losses match a CPU run."""
    env.setup(seed=0, verbose=False)
    gpu, placed_gpu = train_on(GPU)
    cpu, placed_cpu = train_on(CPU)
    assert all(placed_gpu), f"weights not on the GPU after fit: {placed_gpu}"
    assert not any(placed_cpu), f"the CPU reference trained on the GPU: {placed_cpu}"
    assert np.isfinite(gpu["loss"]).all() and gpu["global_norm"][0] > 1.0, gpu
    MEASURED["training"] = {"loss": worst(gpu["loss"], cpu["loss"]),
                            "global_norm": worst(gpu["global_norm"], cpu["global_norm"]),
                            "first_loss_gpu": gpu["loss"][0], "last_loss_gpu": gpu["loss"][-1]}
    np.testing.assert_allclose(gpu["loss"], cpu["loss"], **TRAINING, err_msg="per-step loss, GPU vs CPU")
    np.testing.assert_allclose(gpu["global_norm"], cpu["global_norm"], **TRAINING,
                               err_msg="per-step gradient norm, GPU vs CPU")


@pytest.fixture(scope="module")
def course(tmp_path_factory, repo):
    course = Course.create(tmp_path_factory.mktemp("gpu_course") / "course", repo)
    for chapter in GPU_CHAPTERS:
        course.generate(chapter)
    return course


@pytest.mark.parametrize("chapter", GPU_CHAPTERS)
def test_solution_autogrades_at_full_marks_on_the_gpu(course, chapter):
    """nbgrader autograde of the complete solution, kernel on the GPU: full marks, no stderr."""
    import nbformat

    release = nbformat.read(str(course.release(chapter)), as_version=4)
    solution = nbformat.read(str(course.source(chapter)), as_version=4)
    course.submit("complete", chapter, samples.fill(release, solution))
    course.autograde(chapter, "complete")
    score = course.scores(chapter)["complete"]
    MEASURED.setdefault("autograde", {})[chapter] = f"{score.auto:g} / {score.auto_max:g}"
    assert score.auto == score.auto_max > 0, f"{chapter}: {score.cells}"
    graded = nbformat.read(str(course.root / "autograded" / "complete" / chapter / f"{chapter}.ipynb"),
                           as_version=4)
    first = next(c for c in graded.cells if c.cell_type == "code")
    printed = "".join(o.get("text", "") for o in first.outputs if o.output_type == "stream")
    assert f"backend {backend.name()}" in printed and "device GPU" in printed, (
        f"{chapter}: the graded kernel did not report the GPU:\n{printed}")


def test_benchmark_runs_on_the_gpu(repo):
    """benchmarks/lstm_cell_vs_builtin.py on the GPU: both layers agree; the ratio is reported."""
    proc = subprocess.run([sys.executable, "benchmarks/lstm_cell_vs_builtin.py", "--repeats", "10"],
                          cwd=repo, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ", GPU" in proc.stdout and "summary: custom / built-in" in proc.stdout, proc.stdout
    MEASURED["benchmark"] = proc.stdout
    print(proc.stdout)
