"""Mutants of chapter 10_char_language_model: each is the solution with one typical mistake."""

from tests.notebooks.mutants import M

CH = "10_char_language_model"
SYMBOLS = "self.symbols = [UNK] + sorted(c for c, n in counts.items() if n >= min_count)"

MUTANTS = [
    M(CH, "vocabulary", SYMBOLS, SYMBOLS.replace("n >= min_count", "n > min_count"),
      {"test_vocabulary", "test_vocabulary_unk"}, "min_count read as 'more than'", visible=True,
      says="min_count is inclusive"),
    M(CH, "vocabulary", SYMBOLS, "self.symbols = sorted(c for c, n in counts.items() if n >= min_count) + [UNK]",
      {"test_vocabulary", "test_vocabulary_unk"}, "<unk> last instead of id 0"),
    M(CH, "vocabulary", "self._ids.get(c, 0) for c in text", "self._ids[c] for c in text",
      {"test_vocabulary_unk"}, "unknown characters raise KeyError instead of mapping to <unk>"),
    M(CH, "vocabulary", 'return "".join(UNK_CHAR if i == 0 else self.symbols[i] for i in ids)',
      'return "".join(self.symbols[i] for i in ids)', {"test_vocabulary_unk"},
      "id 0 decodes to the five characters '<unk>'"),
    M(CH, "sample", "logits = np.log(np.clip(probs, 0.0, None)) / temperature",
      "logits = np.log(np.clip(probs, 0.0, None))", {"test_sample_distribution"}, "temperature ignored"),
    M(CH, "sample", "logits = np.log(np.clip(probs, 0.0, None)) / temperature",
      "logits = np.log(np.clip(probs, 0.0, None)) * temperature", {"test_sample_distribution"},
      "temperature applied the wrong way round"),
    M(CH, "sample", "ids.append(next_id)", "ids = ids", {"test_sample_distribution"},
      "generated characters never fed back: the model always sees the seed", visible=True),
    M(CH, "sample", "model.predict(np.array([ids]))", "model.predict(np.array([ids[-1:]]))",
      {"test_sample_distribution"}, "only the last character fed to the model: all context lost",
      visible=True, says="ALL ids so far"),
    M(CH, "sample", "p /= p.sum()", "p = p / p.sum() if temperature != 1 else probs",
      {"test_sample_distribution"}, "no renormalisation at temperature 1: float32-rounded rows fail (hidden test)"),
    M(CH, "sample", "next_id = int(np.argmax(probs))",
      "next_id = int(rng.choice(len(probs), p=probs / probs.sum())) if rng is not None else int(np.argmax(probs))",
      {"test_sample_edge_cases"}, "temperature 0 samples from rng when one is given (hidden test)"),
    M(CH, "sample", "if not np.isfinite(temperature) or temperature < 0:", "if not np.isfinite(temperature):",
      {"test_sample_edge_cases"}, "negative temperatures accepted"),
    M(CH, "accuracy_by_prefix", "        else:\n            known = 0", "        else:\n            pass",
      {"test_accuracy_by_prefix"}, "the count of known letters never restarts at a new word"),
    M(CH, "accuracy_by_prefix", "k = min(known, max_known)", "k = known", {"test_accuracy_by_prefix"},
      "no 'max_known or more' group: long words overflow (hidden test)"),
    M(CH, "accuracy_by_prefix",
      "            k = min(known, max_known)\n            counts[k] += 1\n            hits[k] += correct[t]\n",
      "            if known <= max_known:\n                counts[known] += 1\n                hits[known] += correct[t]\n",
      {"test_accuracy_by_prefix"}, "letters beyond max_known dropped instead of counted in group max_known",
      visible=True, says="do not drop the letters beyond it"),
    M(CH, "accuracy_by_prefix", "accuracy = np.full(max_known + 1, np.nan)", "accuracy = np.zeros(max_known + 1)",
      {"test_accuracy_by_prefix"}, "empty groups report 0 instead of NaN"),
    M(CH, "accuracy_by_prefix", "if character.isalpha():", "if character.isalnum():", {"test_accuracy_by_prefix"},
      "digits counted as letters (hidden test)"),
]

# Exercises without a mutant marked visible=True, and why (tests/unit/test_repo.py).
NO_VISIBLE_MUTANT = {}
