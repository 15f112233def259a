"""Numbers quoted in chapter 11_applications' prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Computed, Given, Printed

LONG = "the long run (RNN_COURSE_LONG=1), measured when the chapter was written; CI does not run it"
ASSERTED = "the bound the notebook asserts"
GRU = r"GRU: test accuracy ([\d.]+)%"
BOW = r"bag of words: test accuracy ([\d.]+)%"
EXACT = r"exact-match accuracy, greedy decoding: +([\d.]+)%"
NAIVE_VS_GRUS = (r"seasonal naive: MAE over 7 days ([\d.]+).*\n.*one-step GRU, iterated: MAE over 7 days ([\d.]+)"
                 r".*\n.*many-to-many GRU: MAE over 7 days ([\d.]+)")

QUOTES = [
    Given("the labels carry noise: 3 % of them are flipped", "a setting of the data generator"),
    Printed("tops out around 72 %", BOW, 72),
    Printed("The GRU gets about 97 % of the test labels right", GRU, 97),
    Given("as good as it gets: 3 % of the labels are flipped", "a setting of the data generator"),
    Given("(The notebook asserts > 90 %", ASSERTED),
    Printed("(about 97 % here)", GRU, 97),
    Given("the first 75 % of the days", "a setting of the split"),
    Printed("get within about 10 % of the noise floor",
            r"noise alone: ([\d.]+)\)(?:.*\n)*?.*many-to-many GRU: MAE over 7 days ([\d.]+)", 10, rel=0.25,
            combine="100 * (g[1] / g[0] - 1)"),
    Computed("(0.8 σ ≈ 3.2 for Gaussian noise of σ = 4", "4 * (2 / math.pi) ** 0.5", 3.2),
    Computed("(0.8 σ ≈", "(2 / math.pi) ** 0.5", 0.8),
    Printed("(0.8 σ ≈ 3.2", r"noise alone: ([\d.]+)\)", 3.2, rel=0.01),
    Printed("greedy decoding gets about 96 % of the held-out dates", EXACT, 96),
    Printed("every format above 90 %", r"\n +\w+: ([\d.]+)%(?=\n)", 90, bound="above"),
    Given("the notebook asserts at least 80 % (and 40 % in the fast mode", ASSERTED),
    Printed("GRU ≈ 97 % (the noise ceiling)", GRU, 97),
    Printed("bag of words ≈ 72 %", BOW, 72),
    Printed("beat seasonal naive by 15–20 % in MAE", NAIVE_VS_GRUS, 15, bound="above",
            combine="100 * (1 - max(g[1], g[2]) / g[0])"),
    Printed("beat seasonal naive by 15–20 % in MAE", NAIVE_VS_GRUS, 20, bound="below",
            combine="100 * (1 - min(g[1], g[2]) / g[0])"),
    Printed("≈ 96 % exact match on held-out dates", EXACT, 96),
    Given("(long run: 100 %)", LONG),
]
