"""Matplotlib figures for the chapters; safe without a display.

Each function returns the ``Figure``. In Jupyter the inline backend shows it at the end of the
cell; elsewhere (tests, CI) nothing opens a window: pick a non-interactive backend with
``MPLBACKEND=Agg`` (the Makefile does) or call ``headless()`` first.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from rnn_course.backend import to_numpy


def headless() -> None:
    """Switch matplotlib to the Agg backend unless a notebook or ``MPLBACKEND`` chose one."""
    import matplotlib

    if "MPLBACKEND" not in os.environ and "inline" not in matplotlib.get_backend():
        matplotlib.use("Agg")


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _labels(labels, n: int, argument: str) -> list[str]:
    labels = [str(v) for v in labels]
    if len(labels) != n:
        raise ValueError(f"{argument} must have {n} entries; received: {len(labels)}")
    return labels


def plot_step_probabilities(
    probs,
    vocab: Sequence[str],
    inputs: Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    title: str = "Output probabilities per time step",
):
    """Heatmap of a model's output distribution at every time step of one sequence.

    Args:
        probs: array (T, V), each row a distribution over the vocabulary.
        vocab: the V symbols, in the order of the columns of ``probs``.
        inputs: optional T input symbols, written under the time axis.
        targets: optional T target symbols, outlined in the heatmap.
        title: the figure title.

    Returns:
        matplotlib Figure.
    """
    probs = to_numpy(probs, dtype=float)
    if probs.ndim != 2:
        raise ValueError(f"probs must have shape (T, V); received: {probs.shape}")
    T, V = probs.shape
    vocab = _labels(vocab, V, "vocab")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * T, 1.0 + 0.6 * V))
    image = ax.imshow(probs.T, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    for t in range(T):
        for v in range(V):
            ax.text(t, v, f"{probs[t, v]:.2f}", ha="center", va="center",
                    color="white" if probs[t, v] > 0.6 else "black", fontsize=9)
    if targets is not None:
        targets = _labels(targets, T, "targets")
        for t, symbol in enumerate(targets):
            if symbol in vocab:
                ax.add_patch(plt.Rectangle((t - 0.5, vocab.index(symbol) - 0.5), 1, 1,
                                           fill=False, edgecolor="crimson", linewidth=2))
    ticks = [f"t={t}" for t in range(T)]
    if inputs is not None:
        inputs = _labels(inputs, T, "inputs")
        ticks = [f"t={t}\nin '{s}'" for t, s in enumerate(inputs)]
    ax.set_xticks(range(T), ticks)
    ax.set_yticks(range(V), [f"'{s}'" for s in vocab])
    ax.set_xlabel("time step t (input symbol)")
    ax.set_ylabel("predicted next symbol")
    ax.set_title(title + (" (outlined: target)" if targets is not None else ""))
    fig.colorbar(image, ax=ax, label="probability")
    fig.tight_layout()
    return fig


def plot_hidden_states(h, title: str = "Hidden state over time", symbols: Sequence[str] | None = None):
    """Heatmap of one sequence's hidden states, units against time.

    Args:
        h: array (T, H) of hidden states.
        title: the figure title.
        symbols: optional T input symbols for the time axis.

    Returns:
        matplotlib Figure.
    """
    h = to_numpy(h, dtype=float)
    if h.ndim != 2:
        raise ValueError(f"h must have shape (T, H); received: {h.shape}")
    T, H = h.shape
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * T, 1.0 + 0.35 * H))
    image = ax.imshow(h.T, cmap="RdBu_r", vmin=-1.0, vmax=1.0, aspect="auto")
    ticks = [f"t={t}" for t in range(T)]
    if symbols is not None:
        ticks = [f"t={t}\n'{s}'" for t, s in enumerate(_labels(symbols, T, "symbols"))]
    ax.set_xticks(range(T), ticks)
    ax.set_yticks(range(H), [f"unit {j}" for j in range(H)])
    ax.set_xlabel("time step t")
    ax.set_ylabel("hidden unit")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="activation")
    fig.tight_layout()
    return fig


def plot_curves(curves: dict, title: str, xlabel: str, ylabel: str, logy: bool = False):
    """Line plot of named series (e.g. a loss per epoch, a gradient norm per step).

    Args:
        curves: mapping name -> 1-D sequence of values (x is the index), or -> (x, y).
        title, xlabel, ylabel: the figure's labels.
        logy: use a logarithmic y axis.

    Returns:
        matplotlib Figure.
    """
    if not isinstance(curves, dict) or not curves:
        raise TypeError(f"curves must be a non-empty dict name -> values; received: {type(curves).__name__}")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    for label, values in curves.items():
        if isinstance(values, tuple) and len(values) == 2 and np.ndim(values[0]) == 1:
            x, y = to_numpy(values[0], dtype=float), to_numpy(values[1], dtype=float)
        else:
            y = to_numpy(values, dtype=float)
            x = np.arange(y.shape[0]) if y.ndim == 1 else y
        if y.ndim != 1 or x.shape != y.shape:
            raise ValueError(f"curves[{label!r}] must be 1-D values or (x, y) of equal length")
        ax.plot(x, y, marker="o" if len(y) <= 30 else None, label=str(label))
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
