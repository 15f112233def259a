"""Numbers quoted in chapter 03_sequence_loss's prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Computed, Printed

WHOLE_TEXT = r"cost of the whole text T·J = +([\d.]+) nats"

QUOTES = [
    Printed("wins (49.8 vs", r"word-level:.*" + WHOLE_TEXT, 49.8, rel=0.002),
    Printed("vs 225.6 nats for the whole text", r"character-level:.*" + WHOLE_TEXT, 225.6, rel=0.0005),
    Printed("predicts about 4 times as many steps", r"characters per word \(with the space\): ([\d.]+)", 4, rel=0.05),
    Printed("must travel about 4 times as many steps", r"characters per word \(with the space\): ([\d.]+)", 4,
            rel=0.05),
    Computed("a 500-step sequence contributes about 100 times more", "500 / 5", 100),
]
