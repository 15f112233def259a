"""Unit tests for rnn_course.data: reproducible from seeds, right by independent checks, clear errors."""

import datetime
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_course import data

REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------------------------
# python_docstrings
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus():
    return data.python_docstrings(max_chars=60_000)


def test_docstrings_are_deterministic_and_truncated(corpus):
    assert len(corpus) == 60_000
    assert data.python_docstrings(max_chars=60_000) == corpus
    assert data.python_docstrings(max_chars=1_000) == corpus[:1_000]


def test_docstrings_are_prose_paragraphs(corpus):
    lines = corpus.split("\n")[:-1]          # the last line may be cut by max_chars
    assert len(lines) > 100
    for line in lines:
        assert len(line) >= 40 and line.isascii() and ">>>" not in line, line
        assert line == line.strip() and "  " not in line, repr(line)
    words = re.findall(r"[a-z]+", corpus)
    assert {"the", "of", "and", "is"} <= set(words)


def test_docstrings_start_with_the_first_module():
    first = data.python_docstrings(max_chars=5_000, modules=["textwrap"])
    assert first.startswith("Object for wrapping/filling text.")
    assert data.python_docstrings(modules=["textwrap"]) == data.python_docstrings(modules=("textwrap", "textwrap"))


def test_docstrings_do_not_depend_on_the_process():
    """Same corpus (checksum) in fresh interpreters with different hash seeds."""
    code = "from rnn_course import data; print(data.sha256(data.python_docstrings(max_chars=40_000)))"
    digests = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                             check=True)
        digests.add(out.stdout.strip())
    assert digests == {data.sha256(data.python_docstrings(max_chars=40_000))}


@pytest.mark.skipif(platform.python_version() not in data.CORPUS_SHA256,
                    reason="checksums recorded for other Python versions only")
@pytest.mark.parametrize("max_chars", [100_000, 250_000, None])
def test_docstrings_checksum(max_chars):
    """The corpus of chapter 10 is the one whose checksum data.CORPUS_SHA256 records."""
    expected = data.CORPUS_SHA256[platform.python_version()][max_chars]
    assert data.sha256(data.python_docstrings(max_chars=max_chars)) == expected


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        ({"max_chars": 0}, ValueError, "max_chars"),
        ({"max_chars": "10"}, TypeError, "max_chars"),
        ({"modules": "textwrap"}, TypeError, "modules"),
        ({"modules": []}, ValueError, "modules"),
        ({"modules": ["math"]}, RuntimeError, "math"),                  # built-in: no .py source
        ({"modules": ["no_such_module_xyz"]}, RuntimeError, "no_such_module_xyz"),
    ],
)
def test_docstrings_errors(kwargs, error, word):
    with pytest.raises(error, match=word):
        data.python_docstrings(**kwargs)


def test_sha256():
    assert data.sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    with pytest.raises(TypeError, match="text"):
        data.sha256(b"abc")


# ---------------------------------------------------------------------------------------------
# sentiment_reviews
# ---------------------------------------------------------------------------------------------

G = data.SENTIMENT_GRAMMAR


def clause_polarity(clause: str) -> int:
    """Label one clause by the grammar's rules, written independently of the generator."""
    words = clause.split()
    if words[0] == "i":
        if words[1:3] == ["did", "not"]:
            return int(words[3] in G["dislike"])
        return int(words[1] in G["liked"])
    adjective = words[-1]
    polarity = int(adjective in G["positive"])
    assert adjective in G["positive"] + G["negative"], clause
    return 1 - polarity if ("not" in words or "never" in words) else polarity


def review_polarity(review: str) -> int:
    for opener in sorted(G["opener"], key=len, reverse=True):
        if review.startswith(opener + " "):
            review = review[len(opener) + 1:]
            break
    if " but " in review:
        return clause_polarity(review.split(" but ")[1])
    clauses = review.split(" and ")
    polarities = {clause_polarity(c) for c in clauses}
    assert len(polarities) == 1, review
    return polarities.pop()


def test_reviews_follow_the_grammar():
    reviews, labels = data.sentiment_reviews(600, seed=3)
    assert labels.shape == (600,) and labels.dtype.kind == "i"
    assert [review_polarity(r) for r in reviews] == labels.tolist()
    assert 0.4 < labels.mean() < 0.6
    assert sum(" but " in r for r in reviews) > 100


def test_reviews_are_reproducible_and_noise_flips_only_labels():
    a, la = data.sentiment_reviews(300, seed=5)
    b, lb = data.sentiment_reviews(300, seed=5, label_noise=0.2)
    c, _ = data.sentiment_reviews(300, seed=6)
    assert a == b and a != c
    assert np.array_equal(la, data.sentiment_reviews(300, seed=5)[1])
    flipped = (la != lb).mean()
    assert 0.12 < flipped < 0.28
    assert np.array_equal(lb, data.sentiment_reviews(300, seed=5, label_noise=0.2)[1])


def test_but_reverses_with_order():
    """The same words in the other order give the other label."""
    reviews, labels = data.sentiment_reviews(400, seed=7)
    for review, label in zip(reviews, labels):
        if " but " in review and not any(review.startswith(o + " ") for o in G["opener"]):
            first, second = review.split(" but ")
            assert review_polarity(f"{second} but {first}") == 1 - label


@pytest.mark.parametrize(
    "kwargs, error, word",
    [({"n": 0}, ValueError, "n"), ({"n": 2.0}, TypeError, "n"), ({"n": 5, "seed": -1}, ValueError, "seed"),
     ({"n": 5, "seed": "1"}, TypeError, "seed"), ({"n": 5, "label_noise": 0.5}, ValueError, "label_noise"),
     ({"n": 5, "label_noise": -0.1}, ValueError, "label_noise")],
)
def test_reviews_errors(kwargs, error, word):
    with pytest.raises(error, match=word):
        data.sentiment_reviews(**kwargs)


# ---------------------------------------------------------------------------------------------
# seasonal_sales
# ---------------------------------------------------------------------------------------------


def test_sales_components():
    x = data.seasonal_sales(70, period=7, seed=1, trend=0.0, noise=0.0, level=50.0, amplitude=10.0)
    assert x.shape == (70,) and x.dtype == np.float64
    assert np.allclose(x[7:], x[:-7])                          # periodic
    assert np.isclose(np.ptp(x[:7]), 20.0)                     # peak to peak 2 * amplitude
    assert np.isclose(x[:7].mean(), 50.0)                      # the season has mean 0
    line = data.seasonal_sales(20, seed=1, amplitude=0.0, noise=0.0, level=3.0, trend=0.5)
    assert np.allclose(line, 3.0 + 0.5 * np.arange(20))
    noisy = data.seasonal_sales(5000, seed=2, amplitude=0.0, trend=0.0, level=0.0, noise=4.0)
    assert abs(noisy.std() - 4.0) < 0.2


def test_sales_reproducible():
    assert np.array_equal(data.seasonal_sales(100, seed=3), data.seasonal_sales(100, seed=3))
    assert not np.array_equal(data.seasonal_sales(100, seed=3), data.seasonal_sales(100, seed=4))


@pytest.mark.parametrize(
    "kwargs, error, word",
    [({"n_steps": 0}, ValueError, "n_steps"), ({"period": 1}, ValueError, "period"),
     ({"noise": -1.0}, ValueError, "noise"), ({"amplitude": float("nan")}, ValueError, "amplitude"),
     ({"trend": "up"}, TypeError, "trend"), ({"seed": 1.5}, TypeError, "seed")],
)
def test_sales_errors(kwargs, error, word):
    with pytest.raises(error, match=word):
        data.seasonal_sales(**kwargs)


# ---------------------------------------------------------------------------------------------
# human_dates, format_date
# ---------------------------------------------------------------------------------------------


def parse(text: str, name: str) -> datetime.date:
    """Read a human date back with datetime.strptime (independent of the generator)."""
    if name == "ordinal":
        return datetime.datetime.strptime(re.sub(r"(\d+)(st|nd|rd|th) of", r"\1", text), "%d %B %Y").date()
    if name == "us_numeric":
        month, day, yy = (int(v) for v in text.split("/"))
        return datetime.date(1900 + yy if yy >= 50 else 2000 + yy, month, day)
    formats = {"month_day_year": "%B %d, %Y", "day_mon_year": "%d %b %Y", "dotted": "%d.%m.%Y"}
    return datetime.datetime.strptime(text, formats[name]).date()


def test_dates_round_trip():
    inputs, targets, names = data.human_dates(500, seed=4)
    assert len(inputs) == len(targets) == len(names) == 500
    assert set(names) == set(data.DATE_FORMATS)
    for text, target, name in zip(inputs, targets, names):
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", target)
        assert parse(text, name) == datetime.date.fromisoformat(target), (text, target, name)
        assert "1950-01-01" <= target <= "2049-12-31"


def test_dates_reproducible_and_restricted():
    assert data.human_dates(50, seed=1) == data.human_dates(50, seed=1)
    assert data.human_dates(50, seed=1) != data.human_dates(50, seed=2)
    inputs, targets, names = data.human_dates(40, seed=1, formats=["dotted"], first="2000-01-01", last="2000-01-31")
    assert set(names) == {"dotted"} and all(t.startswith("2000-01-") for t in targets)


def test_format_examples():
    for name, example in data.DATE_FORMATS.items():
        assert data.format_date(datetime.date(1998, 5, 3), name) == example
    assert [data.format_date(datetime.date(2001, 1, d), "ordinal").split()[0] for d in (1, 2, 3, 11, 12, 13, 21, 22, 23)] \
        == ["1st", "2nd", "3rd", "11th", "12th", "13th", "21st", "22nd", "23rd"]


@pytest.mark.parametrize(
    "kwargs, error, word",
    [({"n": 0}, ValueError, "n"), ({"n": 3, "formats": ["iso"]}, ValueError, "formats"),
     ({"n": 3, "formats": "dotted"}, TypeError, "formats"), ({"n": 3, "first": "2001-13-01"}, ValueError, "first"),
     ({"n": 3, "first": "2001-01-02", "last": "2001-01-01"}, ValueError, "last"),
     ({"n": 3, "first": "1900-01-01"}, ValueError, "us_numeric")],
)
def test_dates_errors(kwargs, error, word):
    with pytest.raises(error, match=word):
        data.human_dates(**kwargs)


def test_format_date_errors():
    with pytest.raises(TypeError, match="date"):
        data.format_date("1998-05-03", "dotted")
    with pytest.raises(ValueError, match="name"):
        data.format_date(datetime.date(1998, 5, 3), "iso")
