"""Numbers quoted in chapter 04_vanishing_exploding's prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Computed, Given, Printed

SETTING = "a setting of the experiment"

QUOTES = [
    Given("A factor of 1.1 per step — a weight only 10 % too large", "the example's weight"),
    Computed("amplifies the gradient by about 117 over 50 steps", "1.1 ** 50", 117),
    Computed("and 13 781 over 100", "1.1 ** 100", 13781, rel=0.001),
    Printed("and 13 781 over 100", r"w = 1\.1: w\^50 = [\d.]+, w\^100 = ([\d.e+]+)", 13781, rel=0.001),
    Given("a factor 0.9 leaves", "the example's weight"),
    Computed("leaves about 0.005 and", "0.9 ** 50", 0.005, rel=0.05),
    Computed("and 0.00003. Neither", "0.9 ** 100", 0.00003, rel=0.15),
    Given("of sizes between 0.01 and 100", SETTING),
    Given("(scale 0.1, so the units stay near the linear part", SETTING),
    Given("a constant prediction scores the variance, about 1)", "the variance of the standard normal target"),
    Given("orthogonal × 1.8", SETTING),
    Given("learning rate 0.01", SETTING),
    Printed("the logged gradient norms fall by about 5× per layer",
            r"'rnn1': '([\d.e-]+)', 'rnn2': '[\d.e-]+', 'rnn3': '([\d.e-]+)'", 5, rel=0.2,
            combine="(g[1] / g[0]) ** 0.5"),
    Computed("(1.1⁵⁰ ≈ 117,", "1.1 ** 50", 117),
    Computed("0.9⁵⁰ ≈ 0.005)", "0.9 ** 50", 0.005, rel=0.05),
]
