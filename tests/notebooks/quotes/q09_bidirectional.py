"""Numbers quoted in chapter 09_bidirectional's prose, and where each comes from (see __init__)."""

QUOTES = []   # its prose quotes no measured number
