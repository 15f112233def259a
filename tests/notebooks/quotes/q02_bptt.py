"""Numbers quoted in chapter 02_bptt's prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Given

TOLERANCE = "the visible and hidden tests' tolerance (rnn_course.checks)"

QUOTES = [
    Given("| ≤ 1e-7 | right | | around 1e-4 | acceptable only where the function has kinks (ReLU, max) — not "
          "here | | > 1e-2 | wrong |", "CS231n's rule of thumb for gradient checks, cited"),
    Given("The tests accept a relative error below **1e-6**", TOLERANCE),
    Given("is held to 1e-6 relative error on every entry", TOLERANCE),
    Given("to better than 1e-6 relative error", TOLERANCE),
]
