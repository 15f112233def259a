"""Unit tests for rnn_course.plotting: labelled figures, clear errors, no display needed."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from rnn_course import plotting  # noqa: E402

T, V, H = 4, 3, 5


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def probs():
    z = np.linspace(-2.0, 2.0, T * V).reshape(T, V)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def assert_labelled(fig):
    """A Figure whose main axes have a title and labelled x and y axes; return those axes."""
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title().strip()
    assert ax.get_xlabel().strip()
    assert ax.get_ylabel().strip()
    return ax


def tick_texts(labels):
    return [label.get_text() for label in labels]


# --- plot_step_probabilities ------------------------------------------------------------------


def test_step_probabilities_is_a_labelled_figure(probs):
    fig = plotting.plot_step_probabilities(probs, vocab="abc")
    ax = assert_labelled(fig)
    assert ax.get_title() == "Output probabilities per time step"
    assert tick_texts(ax.get_yticklabels()) == ["'a'", "'b'", "'c'"]
    assert tick_texts(ax.get_xticklabels()) == [f"t={t}" for t in range(T)]
    values = [text.get_text() for text in ax.texts]
    assert len(values) == T * V
    assert f"{probs[0, 0]:.2f}" in values and f"{probs[T - 1, V - 1]:.2f}" in values
    assert not [p for p in ax.patches if isinstance(p, Rectangle)]


def test_step_probabilities_with_inputs_and_targets(probs):
    fig = plotting.plot_step_probabilities(
        probs,
        vocab=["a", "b", "c"],
        inputs="abca",
        targets=["b", "c", "a", "z"],
        title="Next symbol",
    )
    ax = assert_labelled(fig)
    assert ax.get_title() == "Next symbol (outlined: target)"
    assert tick_texts(ax.get_xticklabels())[1] == "t=1\nin 'b'"
    outlined = [p for p in ax.patches if isinstance(p, Rectangle)]
    # "z" is not in the vocabulary, so only 3 of the 4 targets are outlined
    assert sorted(p.get_xy() for p in outlined) == [(-0.5, 0.5), (0.5, 1.5), (1.5, -0.5)]


@pytest.mark.parametrize("shape", [(T * V,), (1, T, V)])
def test_step_probabilities_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"probs must have shape \(T, V\)"):
        plotting.plot_step_probabilities(np.full(shape, 0.5), vocab="abc")


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"vocab": "ab"}, "vocab"),
        ({"vocab": "abc", "inputs": "abc"}, "inputs"),
        ({"vocab": "abc", "targets": ["a"] * (T + 1)}, "targets"),
    ],
)
def test_step_probabilities_rejects_wrong_numbers_of_labels(probs, kwargs, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must have \d+ entries"):
        plotting.plot_step_probabilities(probs, **kwargs)


# --- plot_hidden_states -----------------------------------------------------------------------


def test_hidden_states_is_a_labelled_figure():
    h = np.tanh(np.linspace(-3.0, 3.0, T * H).reshape(T, H))
    fig = plotting.plot_hidden_states(h, title="h over time", symbols="abcd")
    ax = assert_labelled(fig)
    assert ax.get_title() == "h over time"
    assert tick_texts(ax.get_yticklabels()) == [f"unit {j}" for j in range(H)]
    assert tick_texts(ax.get_xticklabels())[3] == "t=3\n'd'"
    np.testing.assert_array_equal(ax.images[0].get_array(), h.T)


def test_hidden_states_default_title():
    fig = plotting.plot_hidden_states(np.zeros((T, H)))
    assert assert_labelled(fig).get_title() == "Hidden state over time"


@pytest.mark.parametrize("shape", [(H,), (2, T, H)])
def test_hidden_states_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"h must have shape \(T, H\)"):
        plotting.plot_hidden_states(np.zeros(shape))


def test_hidden_states_rejects_wrong_number_of_symbols():
    with pytest.raises(ValueError, match="symbols must have 4 entries; received: 3"):
        plotting.plot_hidden_states(np.zeros((T, H)), symbols="abc")


# --- plot_curves ------------------------------------------------------------------------------


def test_curves_is_a_labelled_figure():
    fig = plotting.plot_curves(
        {"train": [3.0, 2.0, 1.5], "val": ([0, 2], [3.1, 2.4])}, "Loss", "epoch", "loss"
    )
    ax = assert_labelled(fig)
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Loss", "epoch", "loss")
    assert [line.get_label() for line in ax.get_lines()] == ["train", "val"]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [0, 1, 2])
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), [0, 2])
    assert ax.get_legend() is not None
    assert ax.get_yscale() == "linear"


def test_curves_logy():
    curves = {"norm": np.logspace(0, 3, 50)}
    fig = plotting.plot_curves(curves, "Gradient norm", "step", "norm", logy=True)
    assert assert_labelled(fig).get_yscale() == "log"


@pytest.mark.parametrize(
    "curves", [[1.0, 2.0], None, {}, np.ones(3)], ids=["list", "None", "empty", "array"]
)
def test_curves_rejects_a_non_dict(curves):
    with pytest.raises(TypeError, match="curves must be a non-empty dict"):
        plotting.plot_curves(curves, "Loss", "epoch", "loss")


@pytest.mark.parametrize(
    "values", [np.ones((3, 2)), ([0, 1, 2], [1.0, 2.0]), ([[0, 1]], [[1.0, 2.0]])],
    ids=["2-D", "x-y-mismatch", "x-y-2-D"],
)
def test_curves_rejects_bad_values_naming_the_curve(values):
    with pytest.raises(ValueError, match=r"curves\['loss'\]"):
        plotting.plot_curves({"loss": values}, "Loss", "epoch", "loss")


def test_curves_rejects_a_scalar_value_naming_the_curve():
    with pytest.raises(ValueError, match=r"curves\['loss'\]"):
        plotting.plot_curves({"loss": 1.0}, "Loss", "epoch", "loss")


# --- headless ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mplbackend", "current", "switches"),
    [
        (None, "tkagg", True),
        ("Agg", "tkagg", False),
        (None, "module://matplotlib_inline.backend_inline", False),
    ],
)
def test_headless(monkeypatch, mplbackend, current, switches):
    calls = []
    monkeypatch.setattr(matplotlib, "use", lambda backend, *a, **k: calls.append(backend))
    monkeypatch.setattr(matplotlib, "get_backend", lambda: current)
    if mplbackend is None:
        monkeypatch.delenv("MPLBACKEND", raising=False)
    else:
        monkeypatch.setenv("MPLBACKEND", mplbackend)
    plotting.headless()
    assert calls == (["Agg"] if switches else [])
