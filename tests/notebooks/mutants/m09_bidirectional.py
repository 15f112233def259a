"""Mutants of chapter 09_bidirectional: each is the solution with one typical mistake."""

from tests.notebooks.mutants import M

CH = "09_bidirectional"

MUTANTS = [
    M(CH, "merge_directions", "return (y_forward + y_backward) / 2", "return y_forward + y_backward",
      {"test_merge_directions"}, "ave: the sum, not the mean"),
    M(CH, "merge_directions", "ops.concatenate([y_forward, y_backward], axis=-1)",
      "ops.concatenate([y_backward, y_forward], axis=-1)",
      {"test_merge_directions", "test_bidirectional_outputs"}, "concat: backward first"),
    M(CH, "merge_directions", "ops.concatenate([y_forward, y_backward], axis=-1)",
      "ops.concatenate([y_forward, y_backward], axis=1)",
      {"test_merge_directions", "test_bidirectional_outputs"}, "concat along time, not features"),
    M(CH, "merge_directions",
      '    raise ValueError(f"merge_mode must be one of {MERGE_MODES}; received: {merge_mode!r}")',
      "    return y_forward", {"test_merge_directions"}, "unknown merge_mode accepted silently", visible=True),
    M(CH, "merge_directions",
      '    raise ValueError(f"merge_mode must be one of {MERGE_MODES}; received: {merge_mode!r}")',
      "    return ops.concatenate([y_forward, y_backward], axis=-1)", {"test_merge_directions"},
      "an unknown merge_mode silently concatenates", visible=True),
    M(CH, "bidirectional", "y_rev = ops.flip(y_rev, axis=1)", "y_rev = y_rev",
      {"test_bidirectional_layers", "test_bidirectional_outputs", "test_bidirectional_state", "test_bidirectional_mask"},
      "backward outputs not reversed (every failing test says so: the backward direction's output is not reversed "
      "back along T)", visible=True),
    M(CH, "bidirectional", '            if hasattr(layer, "use_cudnn"):\n                copy.use_cudnn = layer.use_cudnn\n',
      "", {"test_bidirectional_layers"}, "use_cudnn=False lost: the copies come from the config alone", visible=True),
    M(CH, "bidirectional", "                copy.use_cudnn = layer.use_cudnn\n",
      "                self.forward_layer.use_cudnn = layer.use_cudnn\n",
      {"test_bidirectional_layers"}, "use_cudnn kept on the forward copy only", visible=True),
    M(CH, "bidirectional", "initial_state=backward_state, mask=mask,", "initial_state=backward_state, mask=None,",
      {"test_bidirectional_mask"}, "padding reversed into the front of the backward pass (no mask)", visible=True),
    M(CH, "bidirectional", "            copy.zero_output_for_mask = self.return_sequences\n", "",
      {"test_bidirectional_mask"}, "padded steps of returned sequences not zeroed", visible=True),
    M(CH, "bidirectional", "states = tuple(y[1:]) + tuple(y_rev[1:])", "states = tuple(y_rev[1:]) + tuple(y[1:])",
      {"test_bidirectional_state"}, "backward states before forward states", visible=True),
    M(CH, "bidirectional", "forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])",
      "backward_state, forward_state = list(initial_state[:half]), list(initial_state[half:])",
      {"test_bidirectional_state"}, "initial states swapped between the directions", visible=True),
    M(CH, "bidirectional", '"go_backwards": True})', '"go_backwards": False})',
      {"test_bidirectional_layers", "test_bidirectional_outputs", "test_bidirectional_state"},
      "the backward copy reads forwards", visible=True),
    M(CH, "bidirectional",
      '        self.forward_layer = type(layer).from_config({**layer.get_config(), "name": "forward_" + name,\n'
      '                                                      "go_backwards": False})\n',
      "        self.forward_layer = layer\n",
      {"test_bidirectional_layers"}, "the wrapped layer itself used as the forward copy", visible=True),
]

