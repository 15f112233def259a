"""Numbers quoted in chapter 00_setup's prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Computed, Given, Printed  # noqa: F401

QUOTES = [
]
