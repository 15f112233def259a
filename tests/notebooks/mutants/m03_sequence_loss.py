"""Mutants of chapter 03_sequence_loss: each is the solution with one typical mistake."""

from tests.notebooks.mutants import M

MUTANTS = [
    M("03_sequence_loss", "sequence_cross_entropy", "return float(np.sum(losses * mask) / count)",
      "return float(np.sum(losses * mask) / y_true.shape[0])", {"test_sequence_cross_entropy"},
      "the cost summed over time instead of averaged"),
    M("03_sequence_loss", "sequence_cross_entropy", "return float(np.sum(losses * mask) / count)",
      "return float(np.sum(losses) / count)", {"test_sequence_cross_entropy"},
      "padded steps kept in the numerator, divided by mask.sum()", visible=True,
      says="padded steps still counted in the sum"),
    M("03_sequence_loss", "sequence_cross_entropy", "count = mask.sum()", "count = mask.size",
      {"test_sequence_cross_entropy"}, "the mask ignored in the denominator"),
    M("03_sequence_loss", "sequence_cross_entropy", "losses = -np.log(np.clip(p, 1e-12, None))",
      "losses = -np.log(p)", {"test_sequence_cross_entropy"},
      "no clipping: a zero probability gives inf", visible=True),
    M("03_sequence_loss", "sequence_cross_entropy", "if y_true.size and (y_true.min() < 0 or y_true.max() >= V):",
      "if y_true.size and y_true.max() >= V:", {"test_sequence_cross_entropy_errors"},
      "negative ids accepted (hidden test)"),
    M("03_sequence_loss", "sequence_cross_entropy_grad", "return (probs - onehot) * mask[..., None] / mask.sum()",
      "return (probs - onehot) * mask[..., None] / (N * T)", {"test_sequence_cross_entropy_grad"},
      "the mask ignored in the denominator of the gradient"),
    M("03_sequence_loss", "sequence_cross_entropy_grad", "return (probs - onehot) * mask[..., None] / mask.sum()",
      "return (probs - onehot) / mask.sum()", {"test_sequence_cross_entropy_grad"},
      "padding steps get a gradient"),
    M("03_sequence_loss", "sequence_cross_entropy_grad", "e = np.exp(logits - logits.max(axis=-1, keepdims=True))",
      "e = np.exp(logits)", {"test_sequence_cross_entropy_grad"},
      "unstable softmax: NaN for logits near 1000", visible=True),
]

