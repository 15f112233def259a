"""Deliberately wrong solutions: each must lose points in the named test cells.

A mutant is the solution notebook with one edit in one solution cell; the edit must apply
exactly once (``rnn_course.samples.mutate`` refuses otherwise), so a mutant cannot silently
equal the solution after the solution changes.
"""

from __future__ import annotations

import dataclasses
import zlib


@dataclasses.dataclass(frozen=True)
class Mutant:
    chapter: str
    grade_id: str          # the solution cell to edit
    find: str
    replace: str
    loses: frozenset       # test cells (grade_id) that must score below their maximum
    why: str

    @property
    def student(self) -> str:
        tag = zlib.crc32(f"{self.find}->{self.replace}".encode()) % 10**6
        return f"mutant-{self.grade_id}-{tag:06d}".replace("_", "-")


def M(chapter, grade_id, find, replace, loses, why):
    return Mutant(chapter, grade_id, find, replace, frozenset(loses), why)


MUTANTS = [
    M("00_setup", "one_hot", "if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):",
      "if ids.size and ids.max() >= vocab_size:", {"test_one_hot_errors"},
      "negative ids accepted (they index from the end); only the hidden test tries -1"),
    M("00_setup", "one_hot", "return np.eye(vocab_size)[ids]", "return np.eye(vocab_size)[ids.T]",
      {"test_one_hot"}, "batch and time axes swapped"),
    M("00_setup", "count_parameters", "D * H + H * H + H + H * V + V", "D * H + H + H * V + V",
      {"test_count_parameters"}, "recurrent kernel Wh forgotten"),
    M("01_rnn_forward", "rnn_cell_forward", "h_prev @ Wh + bh)", "h_prev @ Wh)",
      {"test_rnn_cell_forward", "test_rnn_forward"}, "bias forgotten"),
    M("01_rnn_forward", "rnn_cell_forward", "h_prev @ Wh + bh)", "h_prev @ Wh.T + bh)",
      {"test_rnn_cell_forward", "test_rnn_forward"}, "recurrent kernel transposed"),
    M("01_rnn_forward", "rnn_cell_forward", "np.tanh(", "np.maximum(0.0, ",
      {"test_rnn_cell_forward", "test_rnn_forward"}, "ReLU instead of tanh"),
    M("01_rnn_forward", "rnn_cell_forward", "cache = (x_t, h_prev, h_next, params)",
      "cache = (h_prev, x_t, h_next, params)", {"test_rnn_cell_cache"}, "cache in the wrong order"),
    M("01_rnn_forward", "rnn_forward", "rnn_cell_forward(x[:, t, :], h_t, params)",
      "rnn_cell_forward(x[:, t, :], h0, params)", {"test_rnn_forward"},
      "the state is never carried forward"),
    M("01_rnn_forward", "rnn_forward", "np.stack(states, axis=1)", "np.stack(states, axis=0)",
      {"test_rnn_forward"}, "time-major (T, N, H) instead of batch-major"),
    M("01_rnn_forward", "softmax", "shifted = z - np.max(z, axis=-1, keepdims=True)", "shifted = z",
      {"test_softmax"}, "unstable softmax: right on small logits, NaN near 1000 (hidden test)"),
    M("01_rnn_forward", "softmax", "e / np.sum(e, axis=-1, keepdims=True)", "e / np.sum(e)",
      {"test_softmax", "test_rnn_output"}, "normalised over the whole array"),
    M("01_rnn_forward", "rnn_output", 'h @ params["Wy"] + params["by"]', 'h @ params["Wy"]',
      {"test_rnn_output"}, "output bias forgotten"),
]
