"""Numbers quoted in chapter 06_training_from_scratch's prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Given, Printed

SETTING = "a setting of the training run"
ONCE = ("measured once when the chapter was written (Keras' loop without the fix, float64 Adam), "
        "not printed by the notebook")

QUOTES = [
    Given("hold out the last 10 % for validation", SETTING),
    Printed("every character of the text (V ≈ 90)", r"60,000 characters, V = (\d+)", 90, rel=0.05),
    Given("(learning rate 0.01,", SETTING),
    Given("at temperature 0.5", SETTING),
    Given("Keras' global norm is 1.6 % too small", ONCE),
    Given("τ = 1.5 breaks down", "a temperature the chapter samples at"),
    Printed("log V ≈ 4.49 nats per character", r"uniform guess: log V = ([\d.]+)", 4.49, rel=0.002),
    Printed("ending near 2.0 on the training batches", r"final training loss: numpy ([\d.]+)", 2.0),
    Printed("and 2.32 on the validation text", r"validation loss ([\d.]+) nats per character", 2.32, rel=0.005),
    Printed("(perplexity about 10:", r"nats per character, perplexity ([\d.]+)", 10),
    Given("by about 7e-6 of its size (with float32-exact hyperparameters the runs agree to about 1e-15)", ONCE),
    Printed("(3e-6 after 20 steps,", r"first 20 steps ([\d.e-]+), all", 3e-6, rel=0.2),
    Printed("5e-5 after 280)", r"all 280 steps ([\d.e-]+)", 5e-5, rel=0.2),
    Given("the global norm was 1.6 % too small", ONCE),
]
