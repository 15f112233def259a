"""Mutants of chapter 02_bptt: each is the solution with one typical mistake."""

from tests.notebooks.mutants import M

MUTANTS = [
    M("02_bptt", "scalar_bptt", "upstream = local * w_rec", "upstream = local",
      {"test_scalar_bptt"}, "the recurrent factor w' dropped from the path product"),
    M("02_bptt", "scalar_bptt", "dw_rec_terms[k - 1] = local * O[k - 1]", "dw_rec_terms[k - 1] = local * O[k]",
      {"test_scalar_bptt"}, "immediate derivative uses O_k instead of O_{k-1}"),
    M("02_bptt", "rnn_cell_backward", "da = dh_next * (1 - h_next ** 2)", "da = dh_next * (1 - h_next)",
      {"test_rnn_cell_backward", "test_rnn_backward"}, "tanh derivative written as 1 - h instead of 1 - h²",
      visible=True, says="the derivative of tanh is 1 - tanh**2, so square the cached h_next"),
    M("02_bptt", "rnn_cell_backward", '"dh_prev": da @ params["Wh"].T', '"dh_prev": da @ params["Wh"]',
      {"test_rnn_cell_backward", "test_rnn_backward"}, "Wh not transposed in dh_prev", visible=True,
      says="dh_prev = da @ Wh.T: Wh is square (H, H), so the shapes do not catch a missing transpose"),
    M("02_bptt", "rnn_cell_backward", '"dbh": da.sum(axis=0)', '"dbh": da.mean(axis=0)',
      {"test_rnn_cell_backward"}, "bias gradient averaged over the batch instead of summed", visible=True,
      says="sum over the batch, like every weight gradient, not the mean"),
    M("02_bptt", "rnn_backward", 'dWh += grads_t["dWh"]', 'dWh = grads_t["dWh"]',
      {"test_rnn_backward"}, "gradient of Wh not summed over time (one step only)", visible=True,
      says="dWh is the sum over all T steps of each step's dWh (shared weights: +=, not =)"),
    M("02_bptt", "rnn_backward", "dh_t = dh[:, t, :] + dh_next", "dh_t = dh[:, t, :]",
      {"test_rnn_backward"}, "dh_next not added to the upstream dh (the gradient into the previous step lost)",
      visible=True, says="t=2 is right; going back in time, t=1 is the first wrong one"),
    M("02_bptt", "rnn_backward",
      "dh_next = np.zeros((N, H))\n    for t in reversed(range(T)):\n        dh_t = dh[:, t, :] + dh_next",
      "dh_next = dh[:, -1, :]\n    for t in reversed(range(T)):\n        dh_t = dh_next",
      {"test_rnn_backward"}, "the upstream dh used at the last step only (many-to-one assumed)",
      visible=True, says="t=2 is right; going back in time, t=1 is the first wrong one"),
    M("02_bptt", "rnn_backward", "for t in reversed(range(T)):", "for t in range(T):",
      {"test_rnn_backward"}, "walking forward in time instead of backward", visible=True,
      says="already the last time step t=2, where the backward recursion starts, is wrong"),
    # Hints that name the real bug (issue 18).
    M("02_bptt", "scalar_bptt", "upstream = local * w_rec", "upstream = upstream * w_rec",
      {"test_scalar_bptt"}, "f' missing from the running product (right at t=T-1, wrong going back)",
      visible=True, says="t=3 is right; going back in time, t=2 is the first wrong one"),
    M("02_bptt", "scalar_bptt",
      "dw_terms[k - 1] = local * x[k - 1]\n        dw_rec_terms[k - 1] = local * O[k - 1]",
      "dw_terms[T - k] = local * x[k - 1]\n        dw_rec_terms[T - k] = local * O[k - 1]",
      {"test_scalar_bptt"}, "terms stored in reverse order", visible=True, says="reversed along T"),
]

# Exercises without a mutant marked visible=True, and why (tests/unit/test_repo.py).
NO_VISIBLE_MUTANT = {}
