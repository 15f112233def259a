"""Every number the prose quotes says where it comes from (tests/notebooks/quotes/, issue 18).

The printed ones are compared with the executed chapter in tests/notebooks/test_execute.py;
here: each declaration's words are in the chapter's markdown, each computed number is right,
and no measured-looking number of the markdown is left undeclared.
"""

from __future__ import annotations

import json
import math
import re

import pytest

from tests.conftest import CHAPTERS
from tests.notebooks import quotes
from tests.notebooks.quotes import Computed, Given, Printed

DECLARED = quotes.chapter_quotes()


def markdown_of(repo, chapter: str) -> list[str]:
    notebook = json.loads((repo / "solutions" / chapter / f"{chapter}.ipynb").read_text())
    return [quotes.prose("".join(cell["source"])) for cell in notebook["cells"] if cell["cell_type"] == "markdown"]


def test_every_chapter_has_a_quotes_module():
    assert sorted(DECLARED) == sorted(CHAPTERS) or set(CHAPTERS) <= set(DECLARED), (
        f"chapters without tests/notebooks/quotes/q<chapter>.py: {sorted(set(CHAPTERS) - set(DECLARED))}"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_declared_words_are_in_the_prose(repo, chapter):
    cells = markdown_of(repo, chapter)
    for quote in DECLARED.get(chapter, []):
        says = quotes.normalise(quote.says)
        assert any(says in cell for cell in cells), (
            f"{chapter}: the prose no longer says {says!r}: update tests/notebooks/quotes/q{chapter}.py"
        )
        if isinstance(quote, (Printed, Computed)):
            assert any(math.isclose(n, quote.value) for n in quotes.numbers_in(says)), (
                f"{chapter}: {says!r} does not write the declared value {quote.value:g}"
            )
        if isinstance(quote, Given):
            assert len(quote.why) >= 8, f"{chapter}: say why {says!r} is not measured here"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_computed_numbers_are_right(chapter):
    for quote in DECLARED.get(chapter, []):
        if isinstance(quote, Computed):
            got = eval(quote.expr, {"math": math, "__builtins__": {}})   # our own declarations, no input
            assert quotes.close(got, quote.value, quote.rel), (
                f"{chapter}: {quote.says!r} says {quote.value:g}, but {quote.expr} = {got:.6g}"
            )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_measured_number_is_undeclared(repo, chapter):
    """A decimal, a percentage or an "about N" in the markdown must be covered by a declaration."""
    undeclared = []
    says = [quotes.normalise(q.says) for q in DECLARED.get(chapter, [])]
    for cell in markdown_of(repo, chapter):
        covered = [(m.start(), m.end()) for s in says for m in re.finditer(re.escape(s), cell)]
        for start, end, number in quotes.measured_tokens(cell):
            if not any(a <= start and end <= b for a, b in covered):
                undeclared.append(f"{number!r} in …{cell[max(0, start - 60):end + 30]}…")
    assert not undeclared, (
        f"{chapter}: numbers in the prose that no declaration in tests/notebooks/quotes/q{chapter}.py "
        "covers (Printed if the notebook prints it, Computed for arithmetic, Given for a setting, a "
        "citation or the long run):\n  " + "\n  ".join(undeclared)
    )


def test_the_checker_catches_a_wrong_number():
    """check_printed on a fabricated notebook: right, off by more than rel, and not printed at all."""
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="loss factor 127.4\n")]
    for value, expected in ((130, 0), (100, 1)):
        declared = [Printed("about 1", r"loss factor ([\d.]+)", value, rel=0.1)]
        assert len(quotes.check_printed("x", notebook, declared)) == expected, value
    declared = [Printed("about 1", r"perplexity ([\d.]+)", 5.4)]
    assert "nothing printed matches" in quotes.check_printed("x", notebook, declared)[0]


def test_measured_looking_numbers_are_found():
    text = quotes.prose("falls by a factor of about 100 in 200 steps, from $10^3$ to 5.4, 9 % and `0.5`; T = 20")
    assert [number for _, _, number in quotes.measured_tokens(text)] == ["100", "5.4", "9 %"]
