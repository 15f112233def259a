"""Numbers quoted in chapter 08_lstm's prose, and where each comes from (see __init__)."""

import math

from tests.notebooks.quotes import Computed, Given, Printed

SIGMA_1 = f"1 / (1 + {math.e!r} ** -1)"
TOLERANCE = "the visible and hidden tests' tolerance (rnn_course.checks)"
CPU = "CPU timings on the course's 2-core test machine, measured when written; machine-dependent, never asserted"

QUOTES = [
    Given("The tests accept **1e-6**", TOLERANCE),
    Printed("stays below 1e-8 against finite differences", r"relative error vs finite differences: ([\d.e-]+)",
            1e-8, bound="below"),
    Printed("and 1e-12 against autodiff", r"relative error vs autodiff of keras.layers.LSTM: ([\d.e-]+)",
            1e-12, bound="below"),
    Given("the 1e-6 bar is the same", TOLERANCE),
    Computed("predicts the mean, 1.0", "2 * 0.5", 1.0),
    Computed("Anything near 0.167", "2 / 12", 0.167),
    Printed("Anything near 0.167", r"test MSE of always predicting 1\.0: ([\d.]+)", 0.167),
    Given("learning rate 0.01", "a setting of the experiment"),
    Computed("with forget gates at 0.73", SIGMA_1, 0.73),
    Given("range from about 2× to 10×", "speed-ups reported for cuDNN's fused kernels, cited"),
    Given("(Keras 3.15, ", "the Keras version the chapter was written for (the lock pins it)"),
    Given("the ratio custom / built-in was 1.00–1.14 with off and 0.99–1.34 with it on", CPU),
    Given("(Keras 3.15, ,", "the Keras version the chapter was written for (the lock pins it)"),
    Given("its CPU seconds were 10–45 % above the LSTMs'", CPU),
    Computed("f ≈ σ(1) ≈ 0.73 at the start", SIGMA_1, 0.73),
    Computed("0.73^50 ≈ 1e-7", f"({SIGMA_1}) ** 50", 1e-7, rel=1.0),
    Computed("f up to 0.98", "59 / 60", 0.98),
    Given("equals within 1e-5 in float32", TOLERANCE),
    Printed("(dark, about 0.03)", r"input gate \[[^]]*\] at the markers, ([\d.]+) elsewhere", 0.03, rel=0.2),
]
