"""Mutants of chapter 00_setup: each is the solution with one typical mistake."""

from tests.notebooks.mutants import M

MUTANTS = [
    M("00_setup", "one_hot", "if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):",
      "if ids.size and ids.max() >= vocab_size:", {"test_one_hot_errors"},
      "negative ids accepted (they index from the end)", visible=True,
      says="negative ids are out of range too"),
    M("00_setup", "one_hot", "return np.eye(vocab_size)[ids]", "return np.eye(vocab_size)[ids.T]",
      {"test_one_hot"}, "batch and time axes swapped", visible=True, says="a transpose"),
    M("00_setup", "count_parameters", "D * H + H * H + H + H * V + V", "D * H + H + H * V + V",
      {"test_count_parameters"}, "recurrent kernel Wh forgotten", visible=True,
      says="the recurrent kernel Wh (H, H) is not counted"),
]

# Exercises without a mutant marked visible=True, and why (tests/unit/test_repo.py).
NO_VISIBLE_MUTANT = {}
