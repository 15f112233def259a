"""Numbers the chapters' prose quotes, and where each one comes from (issue 18).

A chapter's markdown says things like "the loss falls by a factor of about 130" or "validation
perplexity about 5.4". Such a number must be the one the notebook prints, or a number the prose
can stand by without running anything (a setting, arithmetic, a published result, the long run
nobody executes in CI). Each chapter module ``q<chapter>.py`` declares, for every such number,
one of:

* ``Printed(says, printed, value, rel=...)``: ``says`` is the markdown's words around the number
  (verbatim, whitespace aside), ``printed`` a regular expression whose group 1 finds the number
  in what the chapter prints in full mode (every code cell's stdout and text results, in order);
  tests/notebooks/test_execute.py checks the two agree within ``rel`` (relative) or ``abs`` (with
  ``bound="below"``/``"above"``: every match is at most/least ``value``, for "stays below 1e-8"; with ``combine``, an
  expression of the match's groups ``g``, for a ratio of two printed numbers).
* ``Computed(says, expr, value)``: arithmetic the reader can redo (``expr`` in Python, with
  ``math``); tests/unit/test_quoted_numbers.py evaluates it.
* ``Given(says, why)``: not measured here (a setting, a constant, a citation, the long run);
  ``why`` says which.

tests/unit/test_quoted_numbers.py also finds every number in the markdown that looks measured
(a decimal, a percentage, a power of ten, or a number after "about", "≈", "around", …) and fails
when none of a chapter's declarations covers it: prose cannot quote a new figure without saying
where it comes from.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import pkgutil
import re


@dataclasses.dataclass(frozen=True)
class Printed:
    says: str
    printed: str
    value: float
    rel: float = 0.05
    abs: float = 0.0
    bound: str = "near"   # "below"/"above": every match of ``printed`` is at most/least ``value``
    combine: str | None = None   # a Python expression in ``g``, the match's groups as floats ("g[1] / g[0]")

    def __post_init__(self):
        if self.bound not in ("near", "below", "above"):
            raise ValueError(f"bound must be 'near', 'below' or 'above', not {self.bound!r}")

    def number(self, match: re.Match) -> float:
        groups = [float(g.replace(",", "")) for g in match.groups()]
        return groups[0] if self.combine is None else eval(self.combine, {"__builtins__": {"max": max, "min": min}}, {"g": groups})


@dataclasses.dataclass(frozen=True)
class Computed:
    says: str
    expr: str
    value: float
    rel: float = 0.05


@dataclasses.dataclass(frozen=True)
class Given:
    says: str
    why: str


NUMBER = r"\d+(?:[ ,]\d{3})*(?:\.\d+)?(?:e-?\d+)?"
APPROX = r"(?:about|≈|~|around|roughly|nearly|almost|measured:?|printed:?)"
# What looks measured: a decimal, a percentage, a power of ten, or any number right after an
# approximation word ("about 16", "≈ 92", "below 1").
MEASURED = re.compile(
    rf"(?<![\w.])(?P<n>\d+\.\d+(?:e-?\d+)?|\d+e-?\d+|\d+ ?%)(?![\w.])"
    rf"|(?<![\w])(?:{APPROX}) (?P<m>\d+(?:[ ,]\d{{3}})*(?:\.\d+)?)(?![\w.])"
)


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces (markdown wraps lines anywhere)."""
    return re.sub(r"\s+", " ", text).strip()


def prose(markdown: str) -> str:
    """The markdown without math ($…$, $$…$$), code spans and HTML comments, whitespace normalised."""
    text = re.sub(r"<!--.*?-->", " ", markdown, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$]*\$", " ", text)
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    return normalise(text)


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text`` (thousands separated by spaces or commas allowed)."""
    return [float(m.group(0).replace(",", "").replace(" ", ""))
            for m in re.finditer(rf"(?<![\w.]){NUMBER}(?![\w])", text)]


def measured_tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, number) of every measured-looking number in ``text``."""
    found = []
    for match in MEASURED.finditer(text):
        group = "n" if match.group("n") else "m"
        found.append((match.start(group), match.end(group), match.group(group)))
    return found


def close(a: float, b: float, rel: float, abs_: float = 0.0) -> bool:
    return math.isfinite(a) and abs(a - b) <= max(abs_, rel * abs(b))


def chapter_quotes() -> dict[str, list]:
    """{chapter: [declarations]} from the modules q<chapter>.py in this package."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("q") and info.name[1:3].isdigit():
            module = importlib.import_module(f"{__name__}.{info.name}")
            found[info.name[1:]] = list(module.QUOTES)
    return found


def printed_text(notebook) -> str:
    """Everything the executed notebook's code cells printed or returned as text, in order."""
    parts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                parts.append(output.get("text", ""))
            elif "data" in output and "text/plain" in output["data"]:
                parts.append(output["data"]["text/plain"] + "\n")
    return "".join(parts)


def check_printed(chapter: str, notebook, declared: list | None = None) -> list[str]:
    """The disagreements between the chapter's ``Printed`` quotes (or ``declared``) and what ``notebook`` printed."""
    text = printed_text(notebook)
    problems = []
    for quote in chapter_quotes().get(chapter, []) if declared is None else declared:
        if not isinstance(quote, Printed):
            continue
        matches = list(re.finditer(quote.printed, text))
        if not matches:
            problems.append(f"{chapter}: nothing printed matches {quote.printed!r} (prose: {quote.says!r})")
            continue
        if quote.bound != "near":
            wrong = [m.group(0) for m in matches
                     if not (quote.number(m) <= quote.value if quote.bound == "below" else quote.number(m) >= quote.value)]
            if wrong:
                problems.append(f"{chapter}: the prose says {quote.bound} {quote.value:g} ({quote.says!r}) but the "
                                f"notebook printed {wrong}")
            continue
        match = matches[0]
        got = quote.number(match)
        if not close(got, quote.value, quote.rel, quote.abs):
            problems.append(f"{chapter}: the prose says {quote.value:g} ({quote.says!r}) but the notebook "
                            f"printed {got:g} ({match.group(0)!r}); allowed: rel {quote.rel:g}, abs {quote.abs:g}")
    return problems
