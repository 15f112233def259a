"""Numbers quoted in chapter 07_custom_rnn_cell's prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Computed, Given, Printed  # noqa: F401

QUOTES = [
]
