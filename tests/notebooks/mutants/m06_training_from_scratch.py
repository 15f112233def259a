"""Mutants of chapter 06_training_from_scratch: each is the solution with one typical mistake."""

from tests.notebooks.mutants import NOT_YET_CHECKED, M

CH = "06_training_from_scratch"

MUTANTS = [
    M(CH, "word_embedding", "np.add.at(dW, x, dout)", "dW[x] += dout",
      {"test_word_embedding_backward"}, "dW[x] += dout: repeated ids keep only one of their gradients"),
    M(CH, "word_embedding", "    if x.size and (x.min() < 0 or x.max() >= V):\n", "    if False:\n",
      {"test_word_embedding_forward"}, "no ValueError for ids outside [0, V) (W[x] wraps -1 around silently)"),
    M(CH, "word_embedding", "    if x.dtype.kind not in \"iu\":\n", "    if False:\n",
      {"test_word_embedding_forward"}, "float ids accepted (no TypeError naming x)"),
    M(CH, "temporal_affine", "dWy = np.einsum(\"nth,ntv->hv\", h, dout)", "dWy = np.einsum(\"nth,ntv->vh\", h, dout)",
      {"test_temporal_affine_backward"}, "transposed dWy (V, H)"),
    M(CH, "temporal_affine", "dby = dout.sum(axis=(0, 1))", "dby = dout.sum(axis=0)",
      {"test_temporal_affine_backward"}, "dby summed over the batch but not over time"),
    M(CH, "temporal_affine", "    if h.ndim != 3 or h.shape[2] != Wy.shape[0]:\n", "    if False:\n",
      {"test_temporal_affine_forward"}, "no ValueError naming h and Wy for shapes that do not fit"),
    M(CH, "char_rnn", "clipped, self.grad_norm = clip_by_global_norm([grads[k] for k in names], self.max_norm)",
      "clipped, self.grad_norm = [grads[k] for k in names], float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))",
      {"test_char_rnn", "test_training_matches_keras"}, "forgets to clip the gradients"),
    M(CH, "char_rnn", "dlogits = sequence_cross_entropy_grad(y, logits, mask)",
      "dlogits = sequence_cross_entropy_grad(y, logits, mask) * x.shape[1]",
      {"test_char_rnn", "test_training_matches_keras"}, "gradient of the cost summed over time instead of averaged"),
    M(CH, "char_rnn", "dlogits = sequence_cross_entropy_grad(y, logits, mask)",
      "dlogits = sequence_cross_entropy_grad(y, logits)",
      {"test_char_rnn"}, "the mask forgotten in the backward pass"),
    M(CH, "char_rnn", "dW_embed = word_embedding_backward(demb, emb_cache)",
      "dW_embed = np.zeros_like(p[\"W_embed\"]); dW_embed[x] += demb",
      {"test_char_rnn", "test_training_matches_keras"}, "the embedding gradient with dW[x] += (repeated ids lost)"),
    M(CH, "sgd_step", "return {k: params[k] - lr * grads[k] for k in params}",
      "return {k: params[k] + lr * grads[k] for k in params}",
      {"test_sgd_step"}, "gradient ascent: + instead of -"),
    M(CH, "sgd_step", "return {k: params[k] - lr * grads[k] for k in params}",
      "return {k: params[k] - grads[k] for k in params}",
      {"test_sgd_step"}, "the learning rate ignored"),
    M(CH, "adam_step", "alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)", "alpha = lr",
      {"test_adam_step", "test_training_matches_keras"}, "Adam without bias correction"),
    M(CH, "adam_step", "(np.sqrt(v[k]) + epsilon)", "np.sqrt(v[k] + epsilon)",
      {"test_adam_step"}, "epsilon inside the square root"),
    M(CH, "adam_step", "new_params[k] = params[k] - alpha * m[k] / (np.sqrt(v[k]) + epsilon)",
      "new_params[k] = params[k] - lr * (m[k] / (1 - beta_1 ** t)) / (np.sqrt(v[k] / (1 - beta_2 ** t)) + epsilon)",
      {"test_adam_step"}, "the paper's Algorithm 1 (epsilon added to the bias-corrected sqrt(v)), not Keras' formula"),
    M(CH, "adam_step", "t = state[\"t\"] + 1", "t = 1",
      {"test_adam_step", "test_training_matches_keras"}, "the step count never advances (bias correction of step 1 forever)"),
    M(CH, "sample", "            logits, h = model.step(np.array([next_id]), h)\n",
      "            h = None\n            for i in list(seed_ids) + out:\n"
      "                logits, h = model.step(np.array([i]), h)\n",
      {"test_sample_greedy"}, "re-runs the whole prefix from h0 for every new character"),
    M(CH, "sample", "            logits, h = model.step(np.array([next_id]), h)\n",
      "            logits, h = model.step(np.array([next_id]), None)\n",
      {"test_sample_greedy"}, "feeds only the last character, from h0 (the state is lost)"),
    M(CH, "sample", "            z = z / temperature\n", "            z = z * temperature\n",
      {"test_sample_temperature"}, "temperature multiplies the logits instead of dividing them"),
    M(CH, "sample", "            p = np.exp(z - z.max())\n", "            p = np.exp(z)\n",
      {"test_sample_temperature"}, "no max subtracted: a tiny temperature overflows (hidden test)"),
]

# Exercises without a mutant marked visible=True, and why (tests/unit/test_repo.py).
NO_VISIBLE_MUTANT = {
    "word_embedding": NOT_YET_CHECKED,
    "temporal_affine": NOT_YET_CHECKED,
    "char_rnn": NOT_YET_CHECKED,
    "sgd_step": NOT_YET_CHECKED,
    "adam_step": NOT_YET_CHECKED,
    "sample": NOT_YET_CHECKED,
}
