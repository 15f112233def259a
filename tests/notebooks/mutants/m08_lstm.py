"""Mutants of chapter 08_lstm: each is the solution with one typical mistake."""

from tests.notebooks.mutants import NOT_YET_CHECKED, M

CH = "08_lstm"

MUTANTS = [
    # lstm_cell_forward
    M(CH, "lstm_cell_forward", "z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)",
      "z_f, z_i, z_c, z_o = np.split(z, 4, axis=-1)",
      {"test_lstm_cell_forward", "test_lstm_cell_cache", "test_lstm_cell_backward"},
      "gates in the wrong order (input and forget slices swapped)"),
    M(CH, "lstm_cell_forward", "g = np.tanh(z_c)", "g = 1.0 / (1.0 + np.exp(-z_c))",
      {"test_lstm_cell_forward", "test_lstm_cell_cache", "test_lstm_cell_backward"},
      "sigmoid instead of tanh for the candidate"),
    M(CH, "lstm_cell_forward", "c_next = f * c_prev + i * g", "c_next = c_prev + i * g",
      {"test_lstm_cell_forward", "test_lstm_cell_cache", "test_lstm_cell_backward"},
      "forget gate not applied to the old cell state"),
    M(CH, "lstm_cell_forward", "h_next = o * np.tanh(c_next)", "h_next = o * c_next",
      {"test_lstm_cell_forward", "test_lstm_cell_cache", "test_lstm_cell_backward"},
      "h = o * c without the tanh"),
    M(CH, "lstm_cell_forward", "cache = (x_t, h_prev, c_prev, i, f, g, o, c_next, params)",
      "cache = (x_t, h_prev, c_prev, f, i, g, o, c_next, params)",
      {"test_lstm_cell_cache", "test_lstm_cell_backward"}, "gates in the wrong order in the cache"),
    # lstm_cell_backward
    M(CH, "lstm_cell_backward", "dc = dc_next + dh_next * o", "dc = dh_next * o",
      {"test_lstm_cell_backward"}, "the dc_next path into c_next forgotten"),
    M(CH, "lstm_cell_backward", "(1.0 - tanh_c ** 2)", "(1.0 - c_next ** 2)",
      {"test_lstm_cell_backward"}, "derivative of tanh(c) written as 1 - c**2"),
    M(CH, "lstm_cell_backward", '"dc_prev": dc * f,', '"dc_prev": dc,',
      {"test_lstm_cell_backward"}, "dc_prev not multiplied by the forget gate"),
    M(CH, "lstm_cell_backward", "dg * (1 - g ** 2)", "dg * g * (1 - g)",
      {"test_lstm_cell_backward"}, "sigmoid derivative used for the tanh candidate"),
    # LSTMCell (Keras layer)
    M(CH, "lstm_cell_layer", "z_i, z_f, z_c, z_o = keras.ops.split(z, 4, axis=-1)",
      "z_i, z_c, z_f, z_o = keras.ops.split(z, 4, axis=-1)",
      {"test_lstm_layer_matches_keras"}, "gates in the wrong order (forget and candidate slices swapped)"),
    M(CH, "lstm_cell_layer", "keras.ops.ones((H,), dtype=dtype)", "keras.ops.zeros((H,), dtype=dtype)",
      {"test_lstm_layer_weights"}, "forget bias missing: unit_forget_bias does not start the forget slice at 1"),
    M(CH, "lstm_cell_layer", "c = f * c_prev + i * keras.ops.tanh(z_c)",
      "c = f * c_prev + i * keras.ops.sigmoid(z_c)",
      {"test_lstm_layer_matches_keras"}, "sigmoid instead of tanh for the candidate"),
    M(CH, "lstm_cell_layer", "self.state_size = [units, units]", "self.state_size = units",
      {"test_lstm_layer_weights", "test_lstm_layer_matches_keras", "test_lstm_layer_save"},
      "the state is [h] only, without c"),
    M(CH, "lstm_cell_layer", '"units": self.units,\n', "",
      {"test_lstm_layer_save"}, "get_config without units: the saved model cannot be loaded"),
    M(CH, "lstm_cell_layer", "z_i, z_f, z_c, z_o = keras.ops.split(z, 4, axis=-1)",
      "z_f, z_i, z_c, z_o = keras.ops.split(z, 4, axis=-1)",
      {"test_lstm_layer_matches_keras"}, "gates in colah's order f, i, c, o (input and forget slices swapped)"),
    # gru_cell_forward
    M(CH, "gru_cell_forward", "a_z, a_r, a_h = np.split(a, 3, axis=-1)\n    m_z, m_r, m_h = np.split(m, 3, axis=-1)",
      "a_r, a_z, a_h = np.split(a, 3, axis=-1)\n    m_r, m_z, m_h = np.split(m, 3, axis=-1)",
      {"test_gru_cell_forward", "test_gru_cell_cache"}, "gates z and r swapped"),
    M(CH, "gru_cell_forward", "h_tilde = np.tanh(a_h + r * m_h)",
      'H = h_prev.shape[1]\n    h_tilde = np.tanh(a_h + (r * h_prev) @ params["recurrent_kernel"][:, 2 * H:] '
      '+ params["bias"][1, 2 * H:])',
      {"test_gru_cell_forward", "test_gru_cell_cache"},
      "reset applied before the recurrent product (the textbook GRU, reset_after=False)"),
    M(CH, "gru_cell_forward", "h_next = z * h_prev + (1.0 - z) * h_tilde", "h_next = (1.0 - z) * h_prev + z * h_tilde",
      {"test_gru_cell_forward", "test_gru_cell_cache"}, "(1 - z) on the wrong term (colah's convention)"),
    M(CH, "gru_cell_forward",
      'a = x_t @ params["kernel"] + params["bias"][0]\n    m = h_prev @ params["recurrent_kernel"] + params["bias"][1]',
      'a = x_t @ params["kernel"] + params["bias"][1]\n    m = h_prev @ params["recurrent_kernel"] + params["bias"][0]',
      {"test_gru_cell_forward", "test_gru_cell_cache"}, "bias rows swapped"),
    M(CH, "gru_cell_forward", "cache = (x_t, h_prev, z, r, h_tilde, params)",
      "cache = (x_t, h_prev, r, z, h_tilde, params)", {"test_gru_cell_cache"}, "gates in the wrong order in the cache"),
    # GRUCell (Keras layer)
    M(CH, "gru_cell_layer", "z = keras.ops.sigmoid(a_z + m_z)\n        r = keras.ops.sigmoid(a_r + m_r)",
      "z = keras.ops.sigmoid(a_r + m_r)\n        r = keras.ops.sigmoid(a_z + m_z)",
      {"test_gru_layer_matches_keras"}, "gates z and r swapped"),
    M(CH, "gru_cell_layer", "h = z * h_prev + (1.0 - z) * h_tilde", "h = (1.0 - z) * h_prev + z * h_tilde",
      {"test_gru_layer_matches_keras"}, "(1 - z) on the wrong term (colah's convention)"),
    M(CH, "gru_cell_layer", "h_tilde = keras.ops.tanh(a_h + r * m_h)",
      "h_tilde = keras.ops.tanh(a_h + keras.ops.matmul(r * h_prev, self.recurrent_kernel[:, 2 * self.units:])\n"
      "                                 + self.bias[1, 2 * self.units:])",
      {"test_gru_layer_matches_keras"}, "reset applied before the recurrent product (reset_after=False)"),
    M(CH, "gru_cell_layer", "self.bias = self.add_weight(shape=(2, 3 * H),", "self.bias = self.add_weight(shape=(3 * H,),",
      {"test_gru_layer_weights", "test_gru_layer_matches_keras"},
      "one bias (3H,) as in reset_after=False instead of Keras' (2, 3H)"),
    M(CH, "gru_cell_layer", '"units": self.units,\n', "",
      {"test_gru_layer_save"}, "get_config without units: the saved model cannot be loaded"),
]

# Exercises without a mutant marked visible=True, and why (tests/unit/test_repo.py).
NO_VISIBLE_MUTANT = {
    "lstm_cell_forward": NOT_YET_CHECKED,
    "lstm_cell_backward": NOT_YET_CHECKED,
    "lstm_cell_layer": NOT_YET_CHECKED,
    "gru_cell_forward": NOT_YET_CHECKED,
    "gru_cell_layer": NOT_YET_CHECKED,
}
