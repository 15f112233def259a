"""Numbers quoted in chapter 01_rnn_forward's prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Computed, Given, Printed  # noqa: F401

QUOTES = [
]
