"""Numbers quoted in chapter 05_clipping's prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Given, Printed

CLIPPED = r"global norm ≤ 1\.0:\n.*"   # the clipped run's block of the experiment's printout
EXPERIMENT = "section 7's setting"

QUOTES = [
    Given("orthogonal matrix times 1.3, so every eigenvalue has modulus 1.3", EXPERIMENT),
    Given("a constant prediction scores about 1", "the variance of the standard normal targets"),
    Printed("the gradient norm — about 16 at the first step", r"pre-clip gradient norm: step 0 ([\d.]+)", 16),
    Printed("loss falls by a factor of about 130 in 200 steps",
            CLIPPED + r"the loss fell by a factor of ([\d.]+)", 130, rel=0.1),
    Printed("its spectral radius stayed at about 1.3", CLIPPED + r"\n.*\n.*ρ\(Wh\) after ([\d.]+)", 1.3),
    Printed("from about 15 to below 1", r"‖dh_T/dh_0‖ before ([\d.]+)", 15),
    Printed("pre-clip gradient norm started around 16", CLIPPED + r"\n  pre-clip gradient norm: step 0 ([\d.]+)", 16),
    Given("every eigenvalue of modulus 1.3 and T = 100", EXPERIMENT),
    Given("tanh tempers 1.3^(T−t)", EXPERIMENT),
    Printed("‖∂h_T/∂h_0‖ was still about 15", r"‖dh_T/dh_0‖ before ([\d.]+)", 15),
    Given("the threshold of 1.0 clips nearly every step", "the question's setting"),
    Given("a threshold of about 200 (T times the averaged one)", "T = 200 times 1.0, the question's setting"),
    Given("SGD at 0.3", EXPERIMENT),
    Given("global-norm clipping at 1.0", EXPERIMENT),
]
