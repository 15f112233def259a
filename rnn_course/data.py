"""Offline data sets for the chapters: every one is generated here, reproducibly, from a seed.

Nothing downloads. Four sources:

* ``python_docstrings()`` — a real English corpus for the character-level language model of
  chapter 10: the prose paragraphs of the docstrings of a fixed list of pure-Python modules of
  the standard library, read from the student's own Python installation at run time (nothing
  is redistributed; the text is under the Python Software Foundation License). It is
  deterministic for a given Python version; ``sha256()`` gives its checksum to compare
  (``CORPUS_SHA256`` records the checksums measured with Python 3.11.7).
* ``sentiment_reviews()`` — short movie reviews from a documented template grammar with
  negation ("was not good") and contrast ("good but ... bad"), labelled by rule, so that word
  order matters (chapter 11).
* ``seasonal_sales()`` — a daily "sales" series: level, linear trend, a weekly pattern and
  Gaussian noise (chapter 11).
* ``human_dates()`` — dates written in several human formats ("3rd of May 1998", "05/03/98",
  ...) with their ISO form "1998-05-03" (chapter 11).

Shape letters: N examples, T time steps (or characters).
"""

from __future__ import annotations

import ast
import datetime
import hashlib
import importlib.util
import numbers
import re

import numpy as np

__all__ = [
    "DOCSTRING_MODULES",
    "CORPUS_SHA256",
    "python_docstrings",
    "sha256",
    "sentiment_reviews",
    "SENTIMENT_GRAMMAR",
    "seasonal_sales",
    "DATE_FORMATS",
    "format_date",
    "human_dates",
]


# ---------------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------------


def _int(value, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {minimum}; received: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; received: {value}")
    return int(value)


def _real(value, name: str, minimum: float | None = None, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; received: {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; received: {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; received: {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}; received: {value}")
    return value


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a non-negative int; received: {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int; received: {seed}")
    return np.random.default_rng(int(seed))


# ---------------------------------------------------------------------------------------------
# A real text corpus from the standard library's docstrings
# ---------------------------------------------------------------------------------------------

#: Pure-Python standard-library modules (no platform-specific docstrings, none frozen) whose
#: docstrings make the corpus, in this order.
DOCSTRING_MODULES = (
    "textwrap", "difflib", "heapq", "bisect", "calendar", "random", "statistics", "fractions",
    "string", "fnmatch", "functools", "contextlib", "dataclasses", "enum", "argparse",
    "logging", "threading", "queue", "shutil", "tempfile", "subprocess", "tarfile", "zipfile",
    "pathlib", "inspect", "typing", "unittest.case", "doctest", "pdb", "pydoc", "json",
    "csv", "urllib.parse", "http.client", "email.message", "collections", "copy", "pickle",
    "sched", "secrets", "base64", "gzip", "gettext", "smtplib", "ftplib", "imaplib", "mailbox",
    "optparse", "getopt", "trace", "timeit", "tokenize", "configparser", "weakref",
    "selectors", "socketserver", "html.parser", "shlex", "cmd", "code", "glob", "filecmp",
    "uuid", "ipaddress", "_pydecimal", "numbers", "operator", "graphlib", "mimetypes",
    "plistlib", "pprint", "reprlib", "ast", "dis", "traceback", "warnings",
)

#: Checksums of ``python_docstrings(max_chars)`` measured with Python 3.11.7 (CPython, Linux),
#: by ``max_chars`` (None: the whole corpus, 514,878 characters).
CORPUS_SHA256 = {
    "3.11.7": {
        None: "efea2f5ad05ab5c115dc12a47b58fea208219aa64ea1a395410b5023bd998021",
        250_000: "0a64dae7085a729d6a53ef0e82a7799a489c2aa24e69b57e5273d66f63a5b980",
        100_000: "fdb8d74b3a82cc9e0c2a188320ab62ce70b8fee715643fee653e6897e157b91b",
    },
}

_PROSE = re.compile(r"[A-Za-z ]")


def _docstrings(module: str) -> list[str]:
    """Docstrings of a module, its classes and functions, in source order (by line)."""
    spec = importlib.util.find_spec(module)
    origin = getattr(spec, "origin", None) if spec is not None else None
    if not origin or not origin.endswith(".py"):
        raise RuntimeError(
            f"the source of the standard-library module {module!r} is not available "
            f"(origin: {origin!r}); python_docstrings() reads the .py files of the standard library"
        )
    with open(origin, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc:
                found.append((getattr(node, "lineno", 0), doc))
    found.sort(key=lambda item: item[0])
    return [doc for _, doc in found]


def _prose_paragraphs(doc: str) -> list[str]:
    """The paragraphs of a docstring that read as English prose, whitespace collapsed."""
    kept = []
    for paragraph in re.split(r"\n\s*\n", doc):
        if ">>>" in paragraph or paragraph.lstrip().startswith("..."):
            continue                                  # doctest examples are code, not prose
        text = " ".join(line.strip() for line in paragraph.splitlines()).strip()
        text = re.sub(r"\s+", " ", text)
        if len(text) < 40 or not text.isascii():
            continue
        if len(_PROSE.findall(text)) < 0.85 * len(text):
            continue                                  # tables, signatures, code
        kept.append(text)
    return kept


def python_docstrings(max_chars: int | None = None, modules=DOCSTRING_MODULES) -> str:
    """A real English corpus: prose from the docstrings of the Python standard library.

    For each module of ``modules`` in order, the docstrings of the module, its classes and its
    functions are read from the module's source file in source order; a docstring is split
    into paragraphs (at blank lines); paragraphs with doctest examples (``>>>``), shorter than
    40 characters, with non-ASCII characters, or with less than 85 % letters and spaces are
    dropped; the rest have their whitespace collapsed to single spaces. The corpus is the kept
    paragraphs, one per line ("\\n" after each). Deterministic for a given Python version;
    compare ``sha256(corpus)`` across machines. Licence: Python Software Foundation License
    (read at run time from the local installation, not redistributed).

    Args:
        max_chars: keep only the first ``max_chars`` characters (None: all of it, about half a
            megabyte with Python 3.11).
        modules: names of pure-Python standard-library modules.

    Returns:
        str of T characters.

    Raises:
        TypeError, ValueError: bad ``max_chars`` or ``modules``.
        RuntimeError: a module's source file is missing (an installation without .py files).
    """
    if max_chars is not None:
        max_chars = _int(max_chars, "max_chars", minimum=1)
    if isinstance(modules, str) or not all(isinstance(m, str) for m in modules):
        raise TypeError(f"modules must be a sequence of module names; received: {modules!r}")
    modules = list(dict.fromkeys(modules))
    if not modules:
        raise ValueError("modules must name at least one module; received an empty sequence")
    parts = []
    size = 0
    for module in modules:
        for doc in _docstrings(module):
            for paragraph in _prose_paragraphs(doc):
                parts.append(paragraph + "\n")
                size += len(paragraph) + 1
        if max_chars is not None and size >= max_chars:
            break
    text = "".join(parts)
    return text if max_chars is None else text[:max_chars]


def sha256(text: str) -> str:
    """Hex SHA-256 of a text encoded as UTF-8 (to compare corpora across machines)."""
    try:
        encoded = text.encode("utf-8")
    except AttributeError:
        raise TypeError(f"text must be a str to hash; received: {type(text).__name__}") from None
    return hashlib.sha256(encoded).hexdigest()


# ---------------------------------------------------------------------------------------------
# Sentiment: reviews from a template grammar
# ---------------------------------------------------------------------------------------------

#: The word lists of the review grammar (see ``sentiment_reviews``).
SENTIMENT_GRAMMAR = {
    "subject": ("the film", "the movie", "the plot", "the acting", "the ending", "the music",
                "the cast", "the script", "the story", "the dialogue", "the director",
                "the camera work"),
    "positive": ("good", "great", "excellent", "wonderful", "brilliant", "fun", "moving",
                 "superb", "clever", "beautiful"),
    "negative": ("bad", "awful", "boring", "terrible", "dull", "weak", "poor", "messy",
                 "silly", "predictable"),
    "adverb": ("very", "really", "quite", "truly", "rather"),
    "liked": ("loved", "liked", "enjoyed", "adored"),
    "disliked": ("hated", "disliked", "regretted"),
    "like": ("like", "enjoy", "love"),
    "dislike": ("hate", "dislike", "mind"),
    "opener": ("honestly", "overall", "in short", "to be fair", "frankly", "well"),
}


def _clause(rng: np.random.Generator, polarity: int) -> str:
    """One clause with the given polarity (1 positive, 0 negative)."""
    g = SENTIMENT_GRAMMAR
    subject = g["subject"][rng.integers(len(g["subject"]))]
    kind = rng.integers(4)
    if kind == 0:                          # "the plot was (very) good"
        adjective = g["positive" if polarity else "negative"]
        words = ["was"]
        if rng.random() < 0.4:
            words.append(g["adverb"][rng.integers(len(g["adverb"]))])
        return " ".join([subject, *words, adjective[rng.integers(len(adjective))]])
    if kind == 1:                          # "the plot was not good": negation flips
        adjective = g["negative" if polarity else "positive"]
        negation = ("was not", "was never", "was not at all")[rng.integers(3)]
        return f"{subject} {negation} {adjective[rng.integers(len(adjective))]}"
    if kind == 2:                          # "i loved the plot"
        verbs = g["liked" if polarity else "disliked"]
        return f"i {verbs[rng.integers(len(verbs))]} {subject}"
    if polarity:                           # "i did not hate the plot"
        verb = g["dislike"][rng.integers(len(g["dislike"]))]
        return f"i did not {verb} {subject}"
    verb = g["like"][rng.integers(len(g["like"]))]   # "i did not like the plot"
    return f"i did not {verb} {subject}"


def sentiment_reviews(n: int, seed: int = 0, label_noise: float = 0.0):
    """Short movie reviews with labels (1 positive, 0 negative), from a template grammar.

    Grammar (word lists in ``SENTIMENT_GRAMMAR``). A *clause* is one of
      * ``<subject> was [<adverb>] <adjective>`` — polarity of the adjective;
      * ``<subject> was not|was never|was not at all <adjective>`` — the opposite polarity;
      * ``i <liked-verb>|<disliked-verb> <subject>`` — polarity of the verb;
      * ``i did not <like>|<dislike> <subject>`` — the opposite of the verb's polarity.
    A *review* is ``[<opener>] <clause>`` (40 %), ``[<opener>] <clause> and <clause>`` with
    both clauses of the review's polarity (30 %), or ``[<opener>] <clause> but <clause>`` with
    clauses of opposite polarity, labelled by the clause after "but" (30 %). So "the plot was
    good but the acting was bad" is negative and "the acting was bad but the plot was good"
    positive: the same words, and only their order tells them apart. Polarities are balanced
    (each review is positive with probability 1/2).

    Args:
        n: number of reviews N.
        seed: non-negative int; the same seed gives the same reviews.
        label_noise: probability in [0, 0.5) that a label is flipped (a mislabelled review, as
            real data sets have). The reviews themselves do not depend on it: with the same
            seed, ``label_noise=0`` gives the same texts and their true labels.

    Returns:
        reviews: list of N str (lower case words separated by single spaces).
        labels: int array (N,) of 0/1.
    """
    n = _int(n, "n", minimum=1)
    label_noise = _real(label_noise, "label_noise", minimum=0.0)
    if label_noise >= 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5); received: {label_noise}")
    rng = _rng(seed)
    g = SENTIMENT_GRAMMAR
    reviews, labels = [], np.zeros(n, dtype=np.int64)
    for i in range(n):
        polarity = int(rng.integers(2))
        form = rng.random()
        if form < 0.4:
            text = _clause(rng, polarity)
        elif form < 0.7:
            text = f"{_clause(rng, polarity)} and {_clause(rng, polarity)}"
        else:
            text = f"{_clause(rng, 1 - polarity)} but {_clause(rng, polarity)}"
        if rng.random() < 0.25:
            text = f"{g['opener'][rng.integers(len(g['opener']))]} {text}"
        reviews.append(text)
        labels[i] = polarity
    flips = _rng(seed + 1_000_003).random(n) < label_noise   # its own stream: texts unchanged
    labels = np.where(flips, 1 - labels, labels)
    return reviews, labels


# ---------------------------------------------------------------------------------------------
# Time series: daily sales with trend, weekly season and noise
# ---------------------------------------------------------------------------------------------


def seasonal_sales(
    n_steps: int = 730,
    period: int = 7,
    seed: int = 0,
    level: float = 100.0,
    trend: float = 0.05,
    amplitude: float = 20.0,
    noise: float = 4.0,
) -> np.ndarray:
    """A daily "sales" series: level + trend * t + a repeating season + Gaussian noise.

    ``x[t] = level + trend * t + season[t % period] + noise * e_t`` with ``e_t ~ N(0, 1)``.
    The season is one fixed random profile of ``period`` values (drawn from the seed), centred
    to mean 0 and scaled to a peak-to-peak range of ``2 * amplitude``.

    Args:
        n_steps: length T of the series.
        period: season length in steps (7: a weekly pattern in daily data); >= 2.
        seed: non-negative int; the same seed gives the same series.
        level, trend, amplitude, noise: the components above (amplitude, noise >= 0).

    Returns:
        float array (T,).
    """
    n_steps = _int(n_steps, "n_steps", minimum=1)
    period = _int(period, "period", minimum=2)
    level = _real(level, "level")
    trend = _real(trend, "trend")
    amplitude = _real(amplitude, "amplitude", minimum=0.0)
    noise = _real(noise, "noise", minimum=0.0)
    rng = _rng(seed)
    profile = rng.normal(size=period)
    profile -= profile.mean()
    profile *= 2 * amplitude / max(np.ptp(profile), 1e-12)
    t = np.arange(n_steps)
    return level + trend * t + profile[t % period] + noise * rng.normal(size=n_steps)


# ---------------------------------------------------------------------------------------------
# Dates in human formats, and their ISO form
# ---------------------------------------------------------------------------------------------

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


#: The human formats, by name, with an example for 3 May 1998. Numeric formats with slashes
#: are month first (US); with dots, day first: the format, not the model, decides.
DATE_FORMATS = {
    "ordinal": "3rd of May 1998",
    "us_numeric": "05/03/98",
    "month_day_year": "May 3, 1998",
    "day_mon_year": "3 May 1998",
    "dotted": "3.5.1998",
}


def format_date(date: datetime.date, name: str) -> str:
    """Write a date in one of the human formats of ``DATE_FORMATS``.

    Two-digit years ("us_numeric") stand for 1950-2049: 50-99 are 19xx, 00-49 are 20xx.

    Example:
        format_date(datetime.date(1998, 5, 3), "ordinal")  # '3rd of May 1998'
    """
    if not isinstance(date, datetime.date):
        raise TypeError(f"date must be a datetime.date; received: {date!r}")
    if name not in DATE_FORMATS:
        raise ValueError(f"name must be one of {sorted(DATE_FORMATS)}; received: {name!r}")
    d, m, y = date.day, date.month, date.year
    if name == "ordinal":
        return f"{_ordinal(d)} of {_MONTHS[m - 1]} {y}"
    if name == "us_numeric":
        return f"{m:02d}/{d:02d}/{y % 100:02d}"
    if name == "month_day_year":
        return f"{_MONTHS[m - 1]} {d}, {y}"
    if name == "day_mon_year":
        return f"{d} {_MONTHS[m - 1][:3]} {y}"
    return f"{d}.{m}.{y}"


def human_dates(n: int, seed: int = 0, formats=None, first: str = "1950-01-01",
                last: str = "2049-12-31"):
    """Dates drawn uniformly from [first, last], each written in a random human format.

    Args:
        n: number of examples N.
        seed: non-negative int; the same seed gives the same examples.
        formats: names from ``DATE_FORMATS`` to draw from, uniformly (None: all of them).
        first, last: the range of dates, ISO strings (inclusive). Keep it within 1950-2049
            when "us_numeric" (two-digit years) is among the formats.

    Returns:
        inputs: list of N human-readable str, e.g. "3rd of May 1998".
        targets: list of N ISO str "YYYY-MM-DD", e.g. "1998-05-03".
        names: list of N format names, one per example.
    """
    n = _int(n, "n", minimum=1)
    formats = list(DATE_FORMATS) if formats is None else formats
    if isinstance(formats, str) or not formats:
        raise TypeError(f"formats must be a non-empty sequence of format names; received: {formats!r}")
    for name in formats:
        if name not in DATE_FORMATS:
            raise ValueError(f"formats must name entries of DATE_FORMATS {sorted(DATE_FORMATS)}; "
                             f"received: {name!r}")
    dates = []
    for label, value in (("first", first), ("last", last)):
        try:
            dates.append(datetime.date.fromisoformat(value))
        except (TypeError, ValueError):
            raise ValueError(f"{label} must be an ISO date 'YYYY-MM-DD'; received: {value!r}") from None
    start, end = (d.toordinal() for d in dates)
    if end < start:
        raise ValueError(f"last must not come before first; received first={first!r}, last={last!r}")
    if "us_numeric" in formats and (dates[0].year < 1950 or dates[1].year > 2049):
        raise ValueError("first and last must lie within 1950-2049 when formats include "
                         f"'us_numeric' (two-digit years); received {first!r} to {last!r}")
    rng = _rng(seed)
    days = rng.integers(start, end + 1, size=n)
    picks = rng.integers(len(formats), size=n)
    inputs, targets, names = [], [], []
    for day, pick in zip(days, picks):
        date = datetime.date.fromordinal(int(day))
        name = formats[int(pick)]
        inputs.append(format_date(date, name))
        targets.append(date.isoformat())
        names.append(name)
    return inputs, targets, names
