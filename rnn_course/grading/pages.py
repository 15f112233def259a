"""Pages that are safe to open: graded notebooks without live code, feedback without hidden tests.

nbgrader renders the autograded notebook twice: as the student's feedback page
(``nbgrader generate_feedback``) and as the instructor's formgrader page. Both insert markdown
cells and rich outputs into the page as they are, so a ``<script>`` or an ``onerror=`` in a
submission would run in the reader's browser (in the formgrader: with the instructor's session).

:func:`sanitize_notebook` is applied to every executed notebook before it is written to
``autograded/``: after it, a page rendered from the notebook holds nothing from the submission
that can run code. The policy is bleach's (the sanitiser nbconvert's ``SanitizeHTML`` wraps),
used directly because ``SanitizeHTML`` on its own falls short here (measured with nbconvert
7.17): it cleans a markdown cell's *source* before markdown is rendered, so
``[x](javascript:...)`` comes out as a live link (nbconvert's renderer allows every protocol)
and ``a < b`` in code or maths is shown as ``&lt;``; and it keeps ``text/latex`` and
``application/json``. Here the markdown is rendered first, with nbconvert's own renderer, and
checked:

* a markdown cell whose rendering bleach leaves byte for byte unchanged is kept as written (all
  the chapters' cells are); any other is shown as its source in a code block, under a note;
* outputs keep ``text/plain``, ``image/png`` and ``image/jpeg``, and ``text/html`` or
  ``text/markdown`` that bleach leaves unchanged (tables); every other type is dropped
  (``application/javascript``, ``image/svg+xml``, widget views, ``text/latex`` ...);
* ids are allowed on headings only, and never one of the page's or a grade's (the formgrader
  finds each score box by ``$("#" + grade_id)``; a heading's id comes from its text); classes
  only as nbconvert's renderer writes them (anchor links, Pygments), not the formgrader's;
* metadata that templates print is limited to what nbgrader and nbconvert need, with
  ``grade_id`` (which nbgrader's templates print unescaped) restricted to letters, digits,
  ``_``, ``-`` and ``.``.

:func:`hide_hidden_tests` is for the feedback only (the formgrader keeps them); the
:class:`SanitizePage` and :class:`HideHiddenTests` preprocessors put both functions into
``nbgrader generate_feedback`` (see :meth:`rnn_course.course.Course.generate_feedback`).
"""

from __future__ import annotations

import copy
import functools

import bleach
import nbformat
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.filters.ansi import strip_ansi
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

SAFE_OUTPUT_TYPES = ("text/plain", "image/png", "image/jpeg")
ATTACHMENT_TYPES = ("image/png", "image/jpeg", "image/gif")

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"  # nbgrader's ClearHiddenTests delimiters (substring of a line)
HIDDEN_END = "END HIDDEN TESTS"
HIDDEN_NOTE = "# Hidden tests ran here; their code is shown after the deadline."
TRACEBACK_NOTE = "(traceback lines from the hidden tests are not shown)"
UNSAFE_NOTE = ("*The grader shows this cell as text: it contained HTML or links that could run "
               "code in a web page.*")

_TAGS = bleach.ALLOWED_TAGS | {
    "p", "div", "span", "pre", "code", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "img",
    "sub", "sup", "del", "s", "u", "dl", "dt", "dd", "details", "summary",
}
# Element ids of nbgrader's feedback and formgrader pages. The formgrader binds each score box
# with $("#" + grade_id): an earlier element with that id (a heading's id comes from its text)
# would take the box's place, so ids are for headings only and never a page's or a grade's.
PAGE_IDS = ("top", "toc", "notebook", "notebook-container", "statusmessage", "cell-id=")


def _allowed_class(value: str) -> bool:
    """The classes nbconvert's renderer writes: anchor links, Pygments' highlighting."""
    return all(c in ("anchor-link", "highlight") or c.startswith("hl-") or (len(c) <= 3 and c.isalnum())
               for c in value.split())


@functools.lru_cache(maxsize=64)
def _cleaner(reserved_ids: frozenset) -> bleach.Cleaner:
    def allowed(tag: str, name: str, value: str) -> bool:
        if name == "title":
            return True
        if name == "class":
            return _allowed_class(value)
        if name == "id":
            return tag in ("h1", "h2", "h3", "h4", "h5", "h6") and not value.startswith(
                PAGE_IDS + tuple(reserved_ids))
        if tag in ("th", "td"):
            return name in ("style", "align")  # mistune's column alignment
        if tag == "ol":
            return name == "start"
        if tag == "img":
            return name in ("src", "alt", "width", "height")
        if tag == "a" and name == "href":
            # data: URLs are for images (attachments); bleach has one protocol list for all tags.
            return not "".join(ch for ch in value if ch > " ").lower().startswith("data:")
        return False

    return bleach.Cleaner(
        tags=_TAGS, attributes=allowed, protocols={"http", "https", "mailto", "data", "attachment"},
        strip=False, strip_comments=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=["text-align"]),
    )


def is_safe_html(html: str, reserved_ids=()) -> bool:
    """Whether an HTML fragment is exactly what bleach, with this module's policy, makes of it.

    Args:
        html: the fragment as the page would receive it.
        reserved_ids: prefixes no element id may have (the notebook's grade_ids).

    Returns:
        True when cleaning changes nothing, so the page gets bleach's own output.
    """
    return _cleaner(frozenset(reserved_ids)).clean(html) == html


def render_markdown(source: str, attachments: dict | None = None) -> str:
    """Markdown to HTML with the renderer nbconvert's HTML templates use (maths kept for MathJax).

    Args:
        source: a markdown cell's source.
        attachments: the cell's attachments ({name: {mimetype: base64}}).

    Returns:
        the HTML fragment.
    """
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=False, attachments=attachments or {})
    return MarkdownWithMath(renderer=renderer).render(source)


def _safe_markdown(source: str, attachments: dict | None = None, reserved_ids=()) -> bool:
    try:
        return is_safe_html(render_markdown(source, attachments), reserved_ids)
    except Exception:  # a broken reference (missing attachment) would fail the whole page
        return False


def as_code_block(source: str) -> str:
    """Markdown showing ``source`` verbatim: a note and a fenced code block nothing escapes from."""
    longest = run = 0
    for ch in source:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{UNSAFE_NOTE}\n\n{fence}text\n{source.rstrip()}\n{fence}\n"


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def _scalar(value) -> bool:
    return isinstance(value, (bool, int, float, str)) or value is None


def _is_id(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 200 and all(
        ch.isascii() and (ch.isalnum() or ch in "_-.") for ch in value)


# nbgrader's cell metadata, each key with the type it must have (nbgrader's templates print some).
_NBGRADER_KEYS = {"grade": bool, "solution": bool, "locked": bool, "task": bool, "grade_id": str,
                  "points": (int, float), "schema_version": int, "checksum": str, "cell_type": str}


def _typed(value, kind) -> bool:
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


def _cell_metadata(metadata) -> dict:
    metadata = metadata if isinstance(metadata, dict) else {}
    kept = {}
    grader = metadata.get("nbgrader")
    if isinstance(grader, dict) and _is_id(grader.get("grade_id", "x")):
        kept["nbgrader"] = {k: v for k, v in grader.items()
                            if k in _NBGRADER_KEYS and _typed(v, _NBGRADER_KEYS[k])}
    tags = metadata.get("tags")
    if isinstance(tags, list):
        kept["tags"] = [t for t in tags if _is_id(t)]
    for key in ("deletable", "editable"):
        if isinstance(metadata.get(key), bool):
            kept[key] = metadata[key]
    ours = metadata.get("rnn_course")
    if isinstance(ours, dict):
        kept["rnn_course"] = {k: v for k, v in ours.items() if isinstance(k, str) and _scalar(v)}
    return kept


def _count(value):
    return value if _typed(value, int) else None


def _output(output, reserved_ids=()) -> dict | None:
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return nbformat.v4.new_output("stream", name=name, text=_text(output.get("text")))
    if kind == "error":
        traceback = [t for t in output.get("traceback", []) if isinstance(t, str)] \
            if isinstance(output.get("traceback"), list) else []
        return nbformat.v4.new_output("error", ename=_text(output.get("ename")),
                                      evalue=_text(output.get("evalue")), traceback=traceback)
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    kept, dropped = {}, []
    for mimetype, value in data.items():
        text = _text(value)
        if mimetype in SAFE_OUTPUT_TYPES and text:
            kept[mimetype] = text
        elif mimetype == "text/html" and is_safe_html(text, reserved_ids):
            kept[mimetype] = text
        elif mimetype == "text/markdown" and _safe_markdown(text, None, reserved_ids):
            kept[mimetype] = text
        else:
            dropped.append(str(mimetype)[:80])
    if not kept:
        kept["text/plain"] = f"[output removed by the grader: {', '.join(dropped) or 'empty'}]"
    metadata = {}
    raw = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
    for mimetype in ("image/png", "image/jpeg"):
        size = raw.get(mimetype)
        if mimetype in kept and isinstance(size, dict):
            size = {k: v for k, v in size.items() if k in ("width", "height")
                    and isinstance(v, (int, float)) and not isinstance(v, bool)}
            if size:
                metadata[mimetype] = size
    if kind == "execute_result":
        return nbformat.v4.new_output(kind, data=kept, metadata=metadata,
                                      execution_count=_count(output.get("execution_count")))
    return nbformat.v4.new_output(kind, data=kept, metadata=metadata)


def _cell(cell, reserved_ids=()) -> nbformat.NotebookNode | None:
    if not isinstance(cell, dict):
        return None
    kind, source = cell.get("cell_type"), _text(cell.get("source"))
    extra = {"id": cell["id"]} if _is_id(cell.get("id")) else {}
    metadata = _cell_metadata(cell.get("metadata"))
    if kind == "code":
        new = nbformat.v4.new_code_cell(source, metadata=metadata, **extra)
        new.execution_count = _count(cell.get("execution_count"))
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        new.outputs = [o for o in (_output(o, reserved_ids) for o in outputs) if o is not None]
        return new
    if kind == "markdown":
        attachments = {}
        raw = cell.get("attachments") if isinstance(cell.get("attachments"), dict) else {}
        for name, bundle in raw.items():
            if _is_id(name) and isinstance(bundle, dict):
                images = {m: _text(v) for m, v in bundle.items() if m in ATTACHMENT_TYPES and _text(v)}
                if images:
                    attachments[name] = images
        new = nbformat.v4.new_markdown_cell(source, metadata=metadata, **extra)
        if _safe_markdown(source, attachments, reserved_ids):
            if attachments:
                new.attachments = attachments
        else:
            new.source = as_code_block(source)
        return new
    if kind == "raw":  # no raw_mimetype: nbconvert's HTML templates leave the cell out
        return nbformat.v4.new_raw_cell(source, metadata=metadata, **extra)
    return None


def sanitize_notebook(nb) -> nbformat.NotebookNode:
    """A copy of a notebook that nbconvert's HTML pages can show without running its content.

    Args:
        nb: nbformat v4 notebook (node or plain dict), for example an executed submission. It is
            not modified.

    Returns:
        a new nbformat v4 node: the same cells in the same order, with unsafe markdown shown as
        text, only safe output types, and only the metadata nbgrader and nbconvert need.

    Example:
        graded = pages.sanitize_notebook(graded)  # just before nbformat.write to autograded/
    """
    new = nbformat.v4.new_notebook()
    metadata = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    for key, required in (("kernelspec", ("name", "display_name")), ("language_info", ("name",))):
        value = metadata.get(key)
        if isinstance(value, dict) and all(isinstance(value.get(k), str) for k in required):
            new.metadata[key] = {k: copy.deepcopy(v) for k, v in value.items()
                                 if isinstance(k, str) and (_scalar(v) or k == "codemirror_mode")}
    cells = nb.get("cells") if isinstance(nb.get("cells"), list) else []
    grade_ids = frozenset(
        c["metadata"]["nbgrader"]["grade_id"] for c in cells
        if isinstance(c, dict) and isinstance(c.get("metadata"), dict)
        and isinstance(c["metadata"].get("nbgrader"), dict)
        and _is_id(c["metadata"]["nbgrader"].get("grade_id")))
    new.cells = [c for c in (_cell(c, grade_ids) for c in cells) if c is not None]
    return new


# hidden tests ---------------------------------------------------------------------------------
def _hidden_lines(source: str) -> tuple[str, set[int]]:
    """(source with each hidden region replaced by HIDDEN_NOTE, 1-based numbers of hidden lines)."""
    kept, hidden, inside = [], set(), False
    for number, line in enumerate(source.split("\n"), start=1):
        if HIDDEN_BEGIN in line and not inside:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            kept.append(indent + HIDDEN_NOTE)
        if inside:
            hidden.add(number)
            if HIDDEN_END in line:
                inside = False
        else:
            kept.append(line)
    return "\n".join(kept), hidden


def _frame_cell(entry: str):
    """The execution count an IPython traceback frame names ("Cell In[7], line 3"), or None."""
    first = strip_ansi(entry).lstrip().split("\n", 1)[0]
    for prefix in ("Cell In[", "Input In ["):
        if first.startswith(prefix):
            number = first[len(prefix):].split("]", 1)[0]
            return int(number) if number.isdigit() else None
    return None


def _quoted_lines(entry: str):
    """(line number, code) of each source line an IPython frame quotes ("----> 5 code")."""
    for line in strip_ansi(entry).split("\n")[1:]:
        text = line.lstrip()
        if text.startswith("---->"):
            text = text[5:].lstrip()
        number, _, code = text.partition(" ")
        if number.isdigit():
            yield int(number), code.strip()


def _quotes_hidden(entry: str, hidden_by_count: dict, hidden_code: set) -> bool:
    """Whether a traceback entry quotes hidden-test code.

    A frame naming a test cell ("Cell In[7]") is checked by line number against the cell's hidden
    lines; any entry is also checked by content (quoted code equal to a hidden line), which covers
    other traceback formats and execution counts that do not match the notebook's.
    """
    count = _frame_cell(entry)
    if count in hidden_by_count:
        quoted = list(_quoted_lines(entry))
        if not quoted or any(n in hidden_by_count[count] for n, _ in quoted):
            return True
    lines = [line.strip() for line in strip_ansi(entry).split("\n")]
    return any(line in hidden_code for line in lines) or any(
        code in hidden_code for _, code in _quoted_lines(entry))


def hide_hidden_tests(nb) -> nbformat.NotebookNode:
    """A copy of a graded notebook whose test cells show no hidden-test code.

    In each code cell that is not an answer (nbgrader solution cell), the lines from
    ``### BEGIN HIDDEN TESTS`` to ``### END HIDDEN TESTS`` (inclusive; to the end of the cell when
    the end marker is missing, as nbgrader's delimiters: any line containing them) become one
    comment, :data:`HIDDEN_NOTE`. Outputs stay, so a failed check's message and its hint still
    reach the student; but IPython tracebacks quote the source around the failing line, so a
    traceback frame that quotes a hidden line is replaced by :data:`TRACEBACK_NOTE`. Frames in
    the student's own cells and the final ``Error: message`` line are kept.

    Args:
        nb: nbformat v4 notebook, graded (its test cells hold the hidden tests). Not modified.

    Returns:
        a new nbformat v4 node.
    """
    new = nbformat.from_dict(copy.deepcopy(dict(nb)))
    hidden_by_count, hidden_code = {}, set()
    for cell in new.cells:
        # Every code cell but the student's answers: a test cell keeps its hidden tests even if
        # its nbgrader metadata was lost on the way.
        answer = cell.get("metadata", {}).get("nbgrader", {}).get("solution")
        if cell.get("cell_type") != "code" or answer:
            continue
        source = _text(cell.get("source"))
        cell.source, hidden = _hidden_lines(source)
        if not hidden:
            continue
        lines = source.split("\n")
        hidden_code.update(c for c in (lines[n - 1].strip() for n in hidden) if len(c) >= 4)
        if isinstance(cell.get("execution_count"), int):
            hidden_by_count[cell.execution_count] = hidden
    if not hidden_code:
        return new
    for cell in new.cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") != "error":
                continue
            kept = []
            for entry in output.get("traceback", []):
                if not _quotes_hidden(entry, hidden_by_count, hidden_code):
                    kept.append(entry)
                elif not kept or kept[-1] != TRACEBACK_NOTE:
                    kept.append(TRACEBACK_NOTE)
            output.traceback = kept
    return new


class SanitizePage(Preprocessor):
    """nbconvert preprocessor: :func:`sanitize_notebook` (for pages rendered from any notebook)."""

    enabled = Bool(True, help="on: nbgrader registers preprocessors as they are").tag(config=True)

    def preprocess(self, nb, resources):
        return sanitize_notebook(nb), resources


class HideHiddenTests(Preprocessor):
    """nbconvert preprocessor: :func:`hide_hidden_tests` (feedback before the deadline)."""

    enabled = Bool(True, help="on: nbgrader registers preprocessors as they are").tag(config=True)

    def preprocess(self, nb, resources):
        return hide_hidden_tests(nb), resources
