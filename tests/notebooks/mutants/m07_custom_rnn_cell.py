"""Mutants of chapter 07_custom_rnn_cell: each is the solution with one typical mistake."""

from tests.notebooks.mutants import M

CH = "07_custom_rnn_cell"

MUTANTS = [
    M(CH, "elman_cell", "ops.matmul(h_prev, self.recurrent_kernel) + self.bias",
      "ops.matmul(h_prev, self.recurrent_kernel)",
      {"test_elman_cell_step", "test_elman_rnn"}, "Elman: bias forgotten"),
    M(CH, "elman_cell", "ops.matmul(h_prev, self.recurrent_kernel)",
      "ops.matmul(h_prev, ops.transpose(self.recurrent_kernel))",
      {"test_elman_cell_step", "test_elman_rnn"}, "Elman: recurrent kernel transposed"),
    M(CH, "elman_cell", "shape=(D, self.units)", "shape=(self.units, D)",
      {"test_elman_cell_step", "test_elman_rnn"}, "Elman: kernel created as (H, D), not Keras' (D, H)"),
    M(CH, "elman_cell",
      'self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="orthogonal",\n'
      '                                                name="recurrent_kernel")\n'
      '        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")',
      'self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")\n'
      '        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="orthogonal",\n'
      '                                                name="recurrent_kernel")',
      {"test_elman_cell_step"}, "Elman: bias created before recurrent_kernel (weights in the wrong order)",
      visible=True, says="Keras' order is kernel, recurrent_kernel, bias"),
    M(CH, "elman_cell", "h = self.activation(z)", "h = ops.tanh(z)",
      {"test_elman_rnn"}, "Elman: the activation argument is ignored (tanh hard-coded)", visible=True),
    M(CH, "elman_cell",
      'config.update({"units": self.units, "activation": keras.activations.serialize(self.activation)})',
      'config.update({"units": self.units})',
      {"test_elman_serialization"}, "Elman: get_config forgets the activation", visible=True),
    M(CH, "jordan_cell", "return y, [y]", "return y, [h]",
      {"test_jordan_cell_step", "test_jordan_rnn"}, "Jordan: feeds back h instead of y", visible=True),
    M(CH, "jordan_cell", "self.state_size = output_units", "self.state_size = units",
      {"test_jordan_cell_step", "test_jordan_rnn"}, "Jordan: state size H instead of V"),
    M(CH, "jordan_cell", "y = self.output_activation(ops.matmul(h, self.output_kernel) + self.output_bias)",
      "y = ops.matmul(h, self.output_kernel) + self.output_bias",
      {"test_jordan_cell_step", "test_jordan_rnn"}, "Jordan: output activation forgotten"),
    M(CH, "jordan_cell", '"output_units": self.output_units,', "",
      {"test_jordan_rnn"}, "Jordan: get_config forgets output_units"),
]

