"""MathJax inside each feedback page, so that its formulas are typeset without the internet.

nbgrader's feedback template loads MathJax from a CDN (it calls nbconvert's ``mathjax()`` macro
without a URL, so ``HTMLExporter.mathjax_url`` has no effect on it), and a page opened offline
shows raw TeX. A folder of MathJax beside the pages would not do either: ``nbgrader
release_feedback`` and ``fetch_feedback`` copy each page's HTML file alone (renamed, into the
exchange and then into the student's ``<chapter>/feedback/<timestamp>/``), nothing beside it.

So each page carries what it needs, taken from the MathJax 2.7 that is already installed
(``jupyter_server_mathjax``, the copy ``make lab`` serves): the core, the combined
``TeX-AMS-MML_HTMLorMML-full`` configuration (TeX input, the HTML-CSS output), ``Safe`` (no
``\\href{javascript:...}``, no ``\\style``, no ``\\class`` from a student's markdown), the
HTML-CSS font metrics for STIX-Web and the STIX-Web web fonts the chapters' formulas use, as
``data:`` URLs: 1.32 MB per page (measured; the installed copy is 12 MB), of which 0.58 MB are
the fonts. MathJax still asks for each file by name; a small hook (``LOADER``) answers from the
page's own table and records the name in ``window.rnnMathjaxServed``. A name the table lacks goes
to ``window.rnnMathjaxMissing`` and MathJax's own loader (``mathjax/<name>`` beside the page,
which offline fails after a timeout). ``window.rnnMathjaxDone`` is set once the page is typeset.

The page is nbgrader's ``feedback`` template with one file of this package before it on the
template path, ``templates/feedback/mathjax.html.j2`` (the macro, which calls :func:`html`
through a Jinja filter); :func:`feedback_options` are the options that put it there.

Example:
    mathjax.bundle_sizes()  # {"scripts": ..., "fonts": ..., "total": ...} in bytes
"""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
FILTER = "offline_mathjax"
ROOT = "mathjax"  # MathJax's root: a file missing from the page would be looked for there
CONFIG = ("TeX-AMS-MML_HTMLorMML-full.js", "Safe.js")
FONT_DIR = "fonts/HTML-CSS/STIX-Web/woff"
# STIX-Web fonts in the page, each as its metrics (a script) and its glyphs (a web font): the
# letters and operators in the styles TeX uses, the delimiter sizes, the blocks of symbols,
# arrows and accents, blackboard bold, script and typewriter. All the chapters' formulas (540,
# measured) need no other; a formula that does gets that font after a timeout, or not offline.
FONTS = (
    "Main-Regular", "Main-Bold", "Main-Italic", "Main-BoldItalic",
    "Normal-Italic", "Normal-Bold", "Normal-BoldItalic",
    "Size1-Regular", "Size2-Regular", "Size3-Regular", "Size4-Regular", "Size5-Regular",
    "Operators-Regular", "Variants-Regular", "Symbols-Regular", "Arrows-Regular",
    "Marks-Regular", "Misc-Regular", "DoubleStruck-Regular", "Script-Regular",
    "Latin-Regular", "Alphabets-Regular", "Monospace-Regular",
)
FONT_METRICS = "jax/output/HTML-CSS/fonts/STIX-Web"
# Scripts MathJax may ask for after start-up, as globs under its root: the configuration with
# TeX input and HTML-CSS output, Safe, the font tables, the output's and the operator
# dictionary's parts loaded on demand, and the TeX extensions a formula is likeliest to use.
SCRIPTS = (
    "config/TeX-AMS-MML_HTMLorMML-full.js", "config/Safe.js", "extensions/Safe.js",
    f"{FONT_METRICS}/fontdata.js", f"{FONT_METRICS}/fontdata-extra.js",
    "jax/output/HTML-CSS/autoload/*.js", "jax/element/mml/optable/*.js",
    *(f"extensions/TeX/{name}.js" for name in (
        "boldsymbol", "cancel", "color", "enclose", "bbox", "newcommand", "unicode", "verb", "HTML")),
)

# MathJax's own settings: $...$ and $$...$$ as nbconvert's template has them, STIX-Web fonts
# only (the ones this package holds), no messages box, and the loader hook installed before
# start-up (AuthorInit runs once MathJax.js has defined MathJax.Ajax).
LOADER = """
window.rnnMathjaxMissing = [];
window.rnnMathjaxServed = [];
window.MathJax = {
  root: %(root)s,
  config: %(config)s,
  messageStyle: "none",
  tex2jax: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
            processEscapes: true, processEnvironments: true},
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  displayAlign: "center",
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
               linebreaks: {automatic: true}},
  AuthorInit: function () {
    MathJax.Hub.Register.StartupHook("End", function () { window.rnnMathjaxDone = true; });
    var files = window.rnnMathjaxFiles, ajax = MathJax.Ajax, fetchJS = ajax.loader.JS;
    ajax.loader.JS = function (url, callback) {
      var name = this.fileName(url);
      if (!Object.prototype.hasOwnProperty.call(files, name)) {
        window.rnnMathjaxMissing.push(name);
        return fetchJS.call(this, url, callback);
      }
      window.rnnMathjaxServed.push(name);
      var script = document.createElement("script");
      this.loading[url] = {callback: callback, status: this.STATUS.OK, script: script,
                           timeout: setTimeout(MathJax.Callback(["loadTimeout", this, url]), this.timeout)};
      this.loading[url].message = MathJax.Message.File(name);  // loadComplete clears it
      script.text = files[name];  // ends with MathJax.Ajax.loadComplete(name)
      this.head.appendChild(script);
    };
    var styles = ajax.Styles;
    ajax.Styles = function (css, callback) {
      var face = css && css["@font-face"];
      if (face && face.src) {
        var font = String(face.src).match(/([A-Za-z0-9_-]+\\.woff)/);
        var name = font && "[MathJax]/%(font_dir)s/" + font[1];
        if (name && Object.prototype.hasOwnProperty.call(files, name)) {
          window.rnnMathjaxServed.push(name);
          face.src = "url('data:font/woff;base64," + files[name] + "') format('woff')";
        } else if (name) {
          window.rnnMathjaxMissing.push(name);
        }
      }
      return styles.call(this, css, callback);
    };
  }
};
"""


def static_dir() -> Path:
    """jupyter_server_mathjax's MathJax 2.7 (MathJax.js and its folders)."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


@functools.lru_cache(maxsize=1)
def _files() -> tuple[str, dict]:
    """(MathJax.js, {"[MathJax]/path": script text, or a font's base64}) from the installed copy."""
    static = static_dir()
    files = {}
    for pattern in SCRIPTS:
        paths = sorted(static.glob(pattern))
        if not paths:
            raise FileNotFoundError(f"jupyter_server_mathjax has no {pattern} under {static}")
        for path in paths:
            name = path.relative_to(static).as_posix()
            files[f"[MathJax]/{name}"] = path.read_text(encoding="utf-8")
    for font in FONTS:
        family, style = font.split("-")
        metrics = f"{FONT_METRICS}/{family}/{style}/Main.js"
        files[f"[MathJax]/{metrics}"] = (static / metrics).read_text(encoding="utf-8")
        glyphs = f"{FONT_DIR}/STIXMathJax_{font}.woff"
        files[f"[MathJax]/{glyphs}"] = base64.b64encode((static / glyphs).read_bytes()).decode("ascii")
    return (static / "MathJax.js").read_text(encoding="utf-8"), files


def _json(value) -> str:
    """JSON that is safe inside a <script> element (no "</script>", no "<!--")."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("<", "\\u003c")


@functools.lru_cache(maxsize=1)
def html() -> str:
    """The <script> elements that typeset a page's $...$ without the network (about 1.3 MB).

    Each is marked ``data-rnn-course`` (a submission's own scripts are removed before the page is
    rendered, :mod:`.pages`; tests tell the two apart by this mark).
    """
    core, files = _files()
    loader = LOADER % {"root": _json(ROOT), "config": _json(list(CONFIG)), "font_dir": FONT_DIR}
    # MathJax.js runs from a JSON string too, so nothing in it can end the <script> element.
    return (
        "<!-- MathJax 2.7 (jupyter_server_mathjax), in the page: formulas typeset offline -->\n"
        f'<script data-rnn-course="mathjax-files">window.rnnMathjaxFiles = {_json(files)};</script>\n'
        f'<script data-rnn-course="mathjax-config">{loader}</script>\n'
        '<script data-rnn-course="mathjax">(function () { var s = document.createElement("script");'
        f" s.text = {_json(core)}; document.head.appendChild(s); }})();</script>\n"
    )


def offline_mathjax(url=None) -> str:
    """Jinja filter for the template's ``mathjax()`` macro: :func:`html` (any URL is ignored)."""
    return html()


def bundle_sizes() -> dict:
    """Bytes of what each page carries: MathJax's scripts, its fonts (base64), the whole HTML."""
    core, files = _files()
    fonts = sum(len(v) for k, v in files.items() if k.endswith(".woff"))
    scripts = len(core) + sum(len(v) for k, v in files.items() if not k.endswith(".woff"))
    return {"scripts": scripts, "fonts": fonts, "total": len(html().encode("utf-8"))}


def exporter_config() -> dict:
    """``HTMLExporter`` settings for nbgrader's feedback page with MathJax inside it.

    Our ``feedback/`` folder comes first, nbgrader's after it (nbgrader adds its own only when
    this trait is unset), so the page is nbgrader's but ``mathjax.html.j2`` is ours.
    """
    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"
    return {"extra_template_basedirs": [str(TEMPLATES), str(nbgrader_templates)],
            "filters": {FILTER: f"{__name__}.offline_mathjax"}}


def feedback_options() -> list[str]:
    """:func:`exporter_config` as ``nbgrader generate_feedback`` command-line options.

    A list is given as one option per item: traitlets reads ``--X.y=["a", "b"]`` as the list of
    one string for some traits (``HTMLExporter.extra_template_basedirs``, measured).
    """
    options = []
    for name, value in exporter_config().items():
        if isinstance(value, list):
            options += [f"--HTMLExporter.{name}={item}" for item in value]
        else:
            options.append(f"--HTMLExporter.{name}={json.dumps(value)}")
    return options
