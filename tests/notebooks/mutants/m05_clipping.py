"""Mutants of chapter 05_clipping: each is the solution with one typical mistake."""

from tests.notebooks.mutants import M

CH = "05_clipping"

MUTANTS = [
    M(CH, "clip_by_value", "np.clip(g, clip_min, clip_max)", "np.clip(g, clip_max, clip_min)",
      {"test_clip_by_value"}, "clip_by_value with swapped bounds", visible=True),
    M(CH, "clip_by_value", "    if clip_min > clip_max:\n", "    if False:\n",
      {"test_clip_by_value"}, "no error for clip_min > clip_max (hidden test)"),
    M(CH, "clip_by_value", "    if not isinstance(grads, (list, tuple)):\n", "    if False:\n",
      {"test_clip_by_value"}, "a single array silently accepted as a list of rows (hidden test)"),
    M(CH, "clip_by_norm", "scale = max_norm / np.maximum(norm, max_norm)", "scale = max_norm / norm",
      {"test_clip_by_norm"}, "clip_by_norm that always rescales (also: zero gradient -> NaN)"),
    M(CH, "clip_by_norm", "np.sqrt(np.sum(np.square(g)))", "np.sqrt(np.sum(np.square(g), axis=-1, keepdims=True))",
      {"test_clip_by_norm"}, "norm per row instead of over the whole array"),
    M(CH, "clip_by_norm", "scale = max_norm / np.maximum(norm, max_norm)",
      "scale = max_norm / norm if norm > max_norm else 1.0",
      {"test_clip_by_norm"}, "a branch that lets a NaN gradient through partly finite", visible=True),
    M(CH, "clip_by_global_norm", "clipped = [g * scale for g in grads]",
      "clipped = [g * (max_norm / np.maximum(np.sqrt(np.sum(np.square(g))), max_norm)) for g in grads]",
      {"test_clip_by_global_norm"}, "global norm computed per tensor", visible=True),
    M(CH, "clip_by_global_norm", "return clipped, float(global_norm)",
      "return clipped, float(min(global_norm, max_norm))",
      {"test_clip_by_global_norm"}, "returns the norm after clipping instead of before"),
    M(CH, "clip_by_global_norm", "np.sqrt(sum(np.sum(np.square(g)) for g in grads))",
      "sum(np.sqrt(np.sum(np.square(g))) for g in grads)",
      {"test_clip_by_global_norm"}, "global norm as the sum of the tensor norms"),
]

