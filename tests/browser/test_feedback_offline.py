"""A student's feedback page, opened with no network, shows its formulas typeset.

The page ``rnn-course feedback`` makes for one graded sample of 00_setup is copied alone into a
folder of its own, as nbgrader's ``release_feedback`` and ``fetch_feedback`` copy it, and opened
from disk in Chromium with every request but the page's own ``file:`` refused. The chapter's
formula must be typeset by MathJax (HTML-CSS output, ``span.MathJax``) with STIX-Web glyphs the
page carries, none in error and none left as raw TeX; and Safe must have defused the student's
``\\href{javascript:...}`` and ``\\style``/``\\class``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.notebooks.test_feedback_offline import FORMULA, graded_feedback

TYPESET_S = 60  # a few seconds when idle; generous for a shared machine


@pytest.fixture(scope="module")
def fetched(tmp_path_factory, repo):
    """The feedback page, alone in a folder (what fetch_feedback leaves a student)."""
    page = graded_feedback(tmp_path_factory.mktemp("feedback"), repo)
    folder = tmp_path_factory.mktemp("fetched") / "00_setup" / "feedback" / "2026-01-01 00:00:00.000000 UTC"
    folder.mkdir(parents=True)
    return Path(shutil.copy(page, folder / "00_setup.html"))


def test_feedback_page_typesets_formulas_offline(fetched, page, shots):
    refused = []

    def offline(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(fetched.as_uri())
    page.wait_for_function("window.rnnMathjaxDone === true", timeout=TYPESET_S * 1000)
    state = page.evaluate("""() => {
        const cells = [...document.querySelectorAll('.text_cell_render')];
        return {
            text: cells.map(c => c.innerText).join('\\n'),
            typeset: document.querySelectorAll('.text_cell_render span.MathJax').length,
            tex: [...document.querySelectorAll('script[type^="math/tex"]')].map(s => s.textContent),
            errors: document.querySelectorAll('.MathJax .merror, .MathJax_Error').length,
            links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
                .filter(h => h.replace(/\\s/g, '').toLowerCase().startsWith('javascript:')),
            styled: document.querySelectorAll('.pwn52, [style*="position: fixed"]').length,
            fonts: [...document.fonts].filter(f => f.family.includes('STIXMathJax') && f.status === 'loaded')
                .map(f => f.family),
            missing: window.rnnMathjaxMissing,
        };
    }""")
    shots(page, "feedback-offline")
    shots(page.locator(".text_cell_render", has=page.locator("span.MathJax")).nth(1), "typeset-formula")
    assert refused == [], f"the page asked the network for {refused}"
    assert errors == [], errors
    assert FORMULA in state["tex"], f"MathJax did not take the chapter's formula: {state['tex']}"
    assert state["typeset"] >= 3 and state["errors"] == 0, state
    assert "\\tanh" not in state["text"] and "$" not in state["text"], "raw TeX left on the page"
    assert state["fonts"], "no STIX-Web font was loaded: glyphs come from the system's fonts"
    assert state["missing"] == [], f"MathJax asked for files the page does not hold: {state['missing']}"
    assert state["links"] == [] and state["styled"] == 0, f"Safe is off: {state}"
