"""rnn_course.grading.mathjax: the feedback page carries its MathJax, and needs no network for it.

Pages are rendered with nbgrader's feedback template as ``generate_feedback`` configures it plus
this package's options, without a gradebook (the real command runs in
``tests/notebooks/test_feedback_offline.py``; the browser test opens its page offline).
"""

from __future__ import annotations

import copy
import json
import os
import re

import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from rnn_course.course import feedback_options
from rnn_course.grading import mathjax

FORMULA = r"$h_t = \tanh(x_t W_x + h_{t-1} W_h + b_h)$"
# A MathJax (or any other) file fetched over the network.
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
TABLE = re.compile(r"window\.rnnMathjaxFiles = (\{.*?\});</script>", re.S)


def render(nb, options: dict | None = None) -> str:
    """nbgrader's feedback page of ``nb`` (GenerateFeedback's exporter settings, then ``options``)."""
    import nbgrader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    formgrader = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader")
    config = Config()
    config.HTMLExporter.template_name = "feedback"
    config.HTMLExporter.extra_template_basedirs = [os.path.join(formgrader, "templates")]
    config.HTMLExporter.extra_template_paths = [
        os.path.join(formgrader, "static", "node_modules", "bootstrap", "dist", "css")]
    for name, value in (options or {}).items():
        setattr(config.HTMLExporter, name, value)
    resources = {"nbgrader": {"notebook": "chapter", "score": 1.0, "max_score": 2.0, "late_penalty": 0}}
    page, _ = HTMLExporter(config=config).from_notebook_node(copy.deepcopy(nb), resources=resources)
    return page


@pytest.fixture(scope="module")
def notebook():
    nb = new_notebook()
    nb.cells = [new_markdown_cell(f"The update: {FORMULA}.")]
    return nb


@pytest.fixture(scope="module")
def page(notebook) -> str:
    return render(notebook, mathjax.exporter_config())


def table(page: str) -> dict:
    match = TABLE.search(page)
    assert match, "the page holds no table of MathJax files"
    return json.loads(match.group(1))


def test_nbgraders_own_page_loads_mathjax_from_a_cdn(notebook):
    """What this fixes: without the options the page fetches MathJax (so the check can fail)."""
    plain = render(notebook)
    assert REMOTE.search(plain) and "mathjax" in plain.lower()
    assert "rnnMathjaxFiles" not in plain


def test_page_fetches_nothing_and_holds_mathjax(page):
    assert page.count(mathjax.html()) == 1, "MathJax is in the page, once"
    # The rest of the page: MathJax's own code names mathjax.org in strings (its About box).
    rest = page.replace(mathjax.html(), "")
    assert not REMOTE.search(rest), REMOTE.search(rest)
    assert not re.search(r"https?://[^\s\"']*mathjax", rest, re.I), "a MathJax URL is left in the page"
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, re.I), "the page loads a script file"
    assert FORMULA in rest, "the formula reaches the page as TeX for MathJax to typeset"
    core, _ = mathjax._files()
    assert json.dumps(core).replace("<", "\\u003c") in page, "MathJax.js is in the page"


def test_every_file_the_page_names_is_in_its_table(page):
    """The configuration MathJax is told to load, Safe, and each font's metrics and glyphs."""
    files = table(page)
    config = json.loads(re.search(r"config: (\[.*?\])", page).group(1))
    assert config == ["TeX-AMS-MML_HTMLorMML-full.js", "Safe.js"], "Safe stays on (no \\href{javascript:})"
    for name in config:
        assert f"[MathJax]/config/{name}" in files
    assert "[MathJax]/extensions/Safe.js" in files
    for font in mathjax.FONTS:
        family, style = font.split("-")
        assert f"[MathJax]/{mathjax.FONT_METRICS}/{family}/{style}/Main.js" in files, font
        assert f"[MathJax]/{mathjax.FONT_DIR}/STIXMathJax_{font}.woff" in files, font
    for name, text in files.items():
        assert text, f"{name} is empty"
        if name.endswith(".js"):  # each script tells MathJax it is loaded, under the name it is asked for
            assert "loadComplete" in text, name
    # Every table entry is a file of the installed MathJax 2.7.
    static = mathjax.static_dir()
    for name in files:
        assert (static / name.removeprefix("[MathJax]/")).is_file(), name


def test_bundle_is_trimmed(page):
    """The page carries about 1.3 MB of MathJax, not jupyter_server_mathjax's 12 MB."""
    sizes = mathjax.bundle_sizes()
    assert sizes["total"] == len(mathjax.html().encode())
    assert 1_000_000 < sizes["total"] < 1_500_000, sizes
    assert len(page.encode()) - sizes["total"] < 400_000, "the rest is nbgrader's page"
    files = table(page)
    assert not any("/MathML/" in n or "/a11y/" in n or "/localization/" in n or "mhchem" in n for n in files)


def test_generate_feedback_options_reach_the_exporter():
    """nbgrader's command line, parsed as generate_feedback parses it, configures the exporter so."""
    from nbconvert import HTMLExporter
    from nbgrader.apps import GenerateFeedbackApp

    app = GenerateFeedbackApp()
    app.parse_command_line(feedback_options())
    exporter = HTMLExporter(config=app.config)
    expected = mathjax.exporter_config()
    assert exporter.extra_template_basedirs == expected["extra_template_basedirs"]
    assert exporter.filters == expected["filters"]
    assert expected["extra_template_basedirs"][0] == str(mathjax.TEMPLATES)
    assert expected["extra_template_basedirs"][1].endswith(os.path.join("formgrader", "templates"))
    assert (mathjax.TEMPLATES / "feedback" / "mathjax.html.j2").is_file()


def test_script_text_cannot_end_its_element(page):
    """Nothing in the table or in MathJax.js closes its <script> element early (it is JSON)."""
    _, files = mathjax._files()
    assert any("</" in text for text in files.values()), "the check would see nothing"
    assert table(page) == files
    core = page[page.index(" s.text = ") : page.index("document.head.appendChild(s); })();</script>")]
    assert "</script" not in core.lower() and "<!--" not in core
