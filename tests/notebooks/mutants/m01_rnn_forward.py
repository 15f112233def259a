"""Mutants of chapter 01_rnn_forward: each is the solution with one typical mistake."""

from tests.notebooks.mutants import M

MUTANTS = [
    M("01_rnn_forward", "rnn_cell_forward", "h_prev @ Wh + bh)", "h_prev @ Wh)",
      {"test_rnn_cell_forward", "test_rnn_forward"}, "bias forgotten", visible=True),
    M("01_rnn_forward", "rnn_cell_forward", "h_prev @ Wh + bh)", "h_prev @ Wh.T + bh)",
      {"test_rnn_cell_forward", "test_rnn_forward"}, "recurrent kernel transposed"),
    M("01_rnn_forward", "rnn_cell_forward", "np.tanh(", "np.maximum(0.0, ",
      {"test_rnn_cell_forward", "test_rnn_forward"}, "ReLU instead of tanh"),
    M("01_rnn_forward", "rnn_cell_forward", "cache = (x_t, h_prev, h_next, params)",
      "cache = (h_prev, x_t, h_next, params)", {"test_rnn_cell_cache"}, "cache in the wrong order"),
    M("01_rnn_forward", "rnn_forward", "rnn_cell_forward(x[:, t, :], h_t, params)",
      "rnn_cell_forward(x[:, t, :], h0, params)", {"test_rnn_forward"},
      "the state is never carried forward", visible=True),
    M("01_rnn_forward", "rnn_forward", "np.stack(states, axis=1)", "np.stack(states, axis=0)",
      {"test_rnn_forward"}, "time-major (T, N, H) instead of batch-major"),
    M("01_rnn_forward", "softmax", "shifted = z - np.max(z, axis=-1, keepdims=True)", "shifted = z",
      {"test_softmax"}, "unstable softmax: right on small logits, NaN near 1000", visible=True),
    M("01_rnn_forward", "softmax", "e / np.sum(e, axis=-1, keepdims=True)", "e / np.sum(e)",
      {"test_softmax", "test_rnn_output"}, "normalised over the whole array"),
    M("01_rnn_forward", "rnn_output", 'h @ params["Wy"] + params["by"]', 'h @ params["Wy"]',
      {"test_rnn_output"}, "output bias forgotten", visible=True, says="y without the output bias by"),
    # Hints that name the real bug (issue 18).
    M("01_rnn_forward", "softmax", "e / np.sum(e, axis=-1, keepdims=True)", "e / np.sum(e, axis=-1)",
      {"test_softmax"}, "row sums without keepdims (broadcast along the wrong axis)", visible=True,
      says="np.sum without keepdims=True"),
    M("01_rnn_forward", "rnn_forward", "rnn_cell_forward(x[:, t, :], h_t, params)",
      "rnn_cell_forward(x[t], h_t, params)", {"test_rnn_forward"}, "time-major index x[t] instead of x[:, t]",
      visible=True, says="x indexed time-major"),
]
