"""Numbers quoted in chapter 10_char_language_model's prose, and where each comes from (see __init__)."""

from tests.notebooks.quotes import Computed, Given, Printed

LONG = "the long run (RNN_COURSE_LONG=1), measured when the chapter was written; CI does not run it"
GRU = r"validation perplexity: the GRU ([\d.]+)"
UNIGRAM = r"unigram ([\d.]+)\n"

QUOTES = [
    Given("hold out the last 10 % for validation", "a setting of the chapter"),
    Given("validation perplexity about 6.2 instead of 5.4, measured; try it",
          "a SimpleRNN(128) in place of the GRU, an exercise the notebook leaves to the reader"),
    Computed("with V ≈ 90 symbols there are V⁴ ≈ 65 million", "90 ** 4 / 1e6", 65),
    Printed("with V ≈ 90 symbols", r"vocabulary: V = (\d+) symbols", 90, rel=0.05),
    Printed("falls from V ≈ 92 (untrained)", r"vocabulary: V = (\d+) symbols", 92),
    Printed("to about 5.4 in three epochs", GRU, 5.4),
    Printed("(1.68 nats,", r"the character model: ([\d.]+) nats", 1.68),
    Printed("2.4 bits per character), less than", r"nats \(([\d.]+) bits\) per character", 2.4),
    Printed("less than a quarter of the unigram model's 23.9", UNIGRAM, 23.9),
    Given("reaches 4.2 on its own validation text (the last 10 % of the whole corpus, unigram 23.1): "
          "1.44 nats, 2.1 bits per character. Its training perplexity keeps falling to 2.9", LONG),
    Printed("is a 4-gram (k = 0.05): 5.80 on the default text",
            r"the 4-gram model, perplexity ([\d.]+) on validation", 5.80, rel=0.005),
    Printed("but only just (5.35)", GRU, 5.35, rel=0.01),
    Printed("are *worse* (6.58 and", r"\n 5 +([\d.]+) ", 6.58, rel=0.005),
    Printed("and 9.09), because", r"\n 6 +([\d.]+) ", 9.09, rel=0.005),
    Printed("because 10 % and", r"\n 5 +[\d.]+ +([\d.]+)%", 10, rel=0.1),
    Printed("and 19 % of their validation contexts", r"\n 6 +[\d.]+ +([\d.]+)%", 19, rel=0.05),
    Given("the 4-gram at 5.13", LONG),
    Given("τ = 0.5 is fluent and repetitive", "a temperature the chapter samples at"),
    Given("τ = 1.5 breaks down", "a temperature the chapter samples at"),
    Printed("almost 9 % of the validation words never", r"validation tokens never seen in training +[\d.]+% +([\d.]+)%",
            9, rel=0.05),
    Given("about 1.2–1.4 bits per character on standard English benchmarks",
          "published results on enwik8/text8-style benchmarks, cited not measured"),
    Printed("it levels off around 65 %", r"k = 6\+ letters known: accuracy ([\d.]+)%", 65, rel=0.05),
    Given("22 % for first letters, about 75 % from three known letters on", LONG),
    Printed("(almost 9 % here)", r"validation tokens never seen in training +[\d.]+% +([\d.]+)%", 9, rel=0.05),
    Printed("a validation perplexity of about 5.4 per character", GRU, 5.4),
    Printed("far below the unigram model's 23.9", UNIGRAM, 23.9),
    Given("(4.2 in the long run)", LONG),
]
