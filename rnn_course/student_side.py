"""``student``: how a test cell reaches the student's code, in one process or across two.

A test cell never touches the student's functions and classes directly; it goes through the
handle ``student`` and gets back *data* (:mod:`rnn_course.channel`): arrays, numbers, strings,
lists, tuples and dicts of these. Any other object the student's side makes — a Keras layer, a
bound method — stays there; the test holds a :class:`Remote` for it and can read its
attributes or call it, again getting data or remotes back::

    h, cache = checks.call(student.rnn_cell_forward, x_t, h_prev, params)
    cell = checks.call(student.ElmanCell, 4)                       # a Remote
    layer = student.keras.layers.RNN(cell, return_sequences=True)  # built on the student's side
    checks.check_int(getattr(cell, "state_size", None), 4, "cell.state_size")

The same test cell runs in two worlds, unchanged:

* **one kernel** (JupyterLab, ``nbgrader validate``/``autograde``): the handle serves itself,
  in this process, through the same encoding, so a student sees exactly what the grader sees;
* **``rnn-course grade``**: the test cell runs in a trusted process that executes no student
  code (:mod:`rnn_course.grading.verdict`); each request crosses to the sandboxed kernel, which
  answers with data only. The expected values, the oracles and the comparisons never enter the
  sandbox; whatever the student's code does there can change its own answers, not the verdict.

An exception in the student's code comes back as :class:`StudentError` (also an instance of
the built-in type it had, e.g. ``NotImplementedError``), with the student's traceback lines.
"""

from __future__ import annotations

import base64
import builtins
import os
import sys
import tempfile
import traceback

import numpy as np

from rnn_course.channel import ChannelError, Reference, decode, encode

__all__ = ["student", "Remote", "StudentError", "SandboxStopped", "StudentSide", "serve"]

REPLY_MIME = "application/x-rnn-course-reply"
MAX_TRACEBACK_LINES = 40


class StudentError(Exception):
    """The student's code raised; ``type_name``, ``message`` and ``lines`` (its traceback) say how."""

    def __init__(self, type_name: str, message: str, lines: list | None = None):
        super().__init__(message)
        self.type_name, self.message, self.lines = type_name, message, list(lines or [])

    def __str__(self) -> str:
        return self.message


class SandboxStopped(BaseException):
    """The student's side stopped answering (a limit was hit, the kernel died); ends the test cell.

    A ``BaseException``: no ``except Exception`` in a test can take it for a wrong answer.
    """

    def __init__(self, label: str):
        super().__init__(label)
        self.label = label


_ERROR_CLASSES: dict = {}


def _error_class(type_name: str):
    """StudentError, mixed with the built-in exception of that name when there is one."""
    if type_name not in _ERROR_CLASSES:
        base = getattr(builtins, type_name, None)
        cls = StudentError
        if isinstance(base, type) and issubclass(base, Exception) and base is not Exception:
            try:
                cls = type(f"Student{type_name}", (StudentError, base), {"__module__": __name__})
            except TypeError:
                cls = StudentError
        _ERROR_CLASSES[type_name] = cls
    return _ERROR_CLASSES[type_name]


# --- the test's side -----------------------------------------------------------------------
class Remote:
    """An object on the student's side: read attributes (``r.units``) or call it (``r(x)``)."""

    __slots__ = ("_side", "_ref", "_label")

    def __init__(self, side: "StudentSide", ref: Reference, label: str):
        object.__setattr__(self, "_side", side)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_label", label)

    @property
    def __name__(self) -> str:  # what checks.call names in its messages
        return self._label

    @property
    def type_name(self) -> str:
        """The name of the object's type on the student's side (for messages)."""
        return self._ref.type_name

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._side._request({"op": "get", "ref": self._ref, "attr": name}, f"{self._label}.{name}")

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot set {name!r} on the student's object from a test")

    def __call__(self, *args, **kwargs):
        return self._side._request({"op": "call", "ref": self._ref, "args": list(args), "kwargs": kwargs},
                                   self._label)

    def __repr__(self) -> str:
        return f"<the student's {self._ref.type_name} {self._label!r}>"


class StudentSide:
    """The handle: ``student.<name>`` is the student's global of that name, as data or a Remote."""

    def __init__(self):
        self._transport = None

    def use(self, transport) -> None:
        """Send requests with ``transport(bytes) -> bytes`` (the grader's trusted process); None: local."""
        self._transport = transport

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._request({"op": "get", "name": name}, name)

    def scratch_path(self, filename: str) -> str:
        """A path on the student's side, in a fresh temporary folder, for a file to save and load."""
        return self._request({"op": "path", "name": str(filename)}, "scratch_path")

    def _request(self, request: dict, label: str):
        __tracebackhide__ = True
        message = encode(request, refer=_sendable)
        if self._transport is None:
            reply = _SERVER.handle(message)
        else:
            reply = self._transport(message)
        answer = decode(reply, resolve=lambda ref: Remote(self, ref, f"{label}()" if request["op"] == "call" else label))
        if not isinstance(answer, dict) or not ({"ok"} == set(answer) or {"error"} == set(answer)):
            raise ChannelError("a malformed reply from the student's side")
        if "ok" in answer:
            return answer["ok"]
        error = answer["error"]
        if not isinstance(error, dict):
            raise ChannelError("a malformed error from the student's side")
        type_name = str(error.get("type", "Exception"))[:100]
        lines = [str(line)[:2000] for line in error.get("lines", [])][:MAX_TRACEBACK_LINES] \
            if isinstance(error.get("lines"), list) else []
        exc = _error_class(type_name)(type_name, str(error.get("message", ""))[:5000], lines)
        original = _SERVER.last_exception if self._transport is None else None
        _SERVER.last_exception = None
        raise exc from original


student = StudentSide()


def _sendable(value):
    if type(value) is Remote:
        return value._ref
    raise ChannelError(f"a {type(value).__name__} object cannot be sent to the student's side "
                       "(only data, and the student's own objects)")


# --- the student's side --------------------------------------------------------------------
def _namespace() -> dict:
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821
        return shell.user_ns
    except NameError:
        return sys.modules["__main__"].__dict__


def _is_tensor(value) -> bool:
    root = type(value).__module__.split(".")[0]
    if root not in ("tensorflow", "jax", "jaxlib", "torch"):
        return False
    try:
        import keras

        return bool(keras.ops.is_tensor(value))
    except Exception:
        return False


class _Server:
    """Answers requests with the student's objects: runs in the kernel that holds them."""

    def __init__(self):
        self.objects: dict = {}
        self.last_exception = None
        self._folders: list = []

    def _refer(self, value):
        if _is_tensor(value):
            import keras

            return np.asarray(keras.ops.convert_to_numpy(value))
        if type(value).__name__ == "TensorShape" and hasattr(value, "as_list"):
            try:  # a weight's .shape under TensorFlow: its dimensions, as a tuple
                return tuple(value.as_list())
            except ValueError:  # unknown rank
                pass
        number = len(self.objects) + 1
        self.objects[number] = value
        return Reference(number, type(value).__name__[:100])

    def _resolve(self, ref: Reference):
        if ref.number not in self.objects:
            raise ChannelError(f"no object number {ref.number} on the student's side")
        return self.objects[ref.number]

    def handle(self, message: bytes) -> bytes:
        """One request's bytes in, the reply's bytes out; never raises."""
        try:
            request = decode(message, resolve=self._resolve)
            result = self._run(request)
        except BaseException as exc:  # the student's code may raise anything, SystemExit included
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.last_exception = exc
            return self._error(exc)
        try:
            return encode({"ok": result}, refer=self._refer)
        except ChannelError as exc:
            self.last_exception = exc
            return self._error(ChannelError(f"the result cannot be sent to the test: {exc}"))
        except BaseException as exc:  # a tensor that fails to convert, ...
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.last_exception = exc
            return self._error(exc)

    def _run(self, request):
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            raise ChannelError("a malformed request")
        op = request["op"]
        if op == "get" and "name" in request:
            name = request["name"]
            namespace = _namespace()
            if not isinstance(name, str) or name not in namespace:
                raise NameError(f"name {name!r} is not defined in the notebook (run the cell that defines it)")
            return namespace[name]
        if op == "get":
            return getattr(self._target(request), str(request.get("attr")))
        if op == "call":
            args, kwargs = request.get("args", []), request.get("kwargs", {})
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ChannelError("a malformed call")
            return self._target(request)(*args, **kwargs)
        if op == "path":
            folder = tempfile.mkdtemp(prefix="rnn-course-")
            self._folders.append(folder)
            return os.path.join(folder, os.path.basename(str(request.get("name", "file"))) or "file")
        raise ChannelError(f"unknown request {op!r}")

    def _target(self, request):
        ref = request.get("ref")
        if ref is None or isinstance(ref, Reference):
            raise ChannelError("a request without its object")
        return ref

    @staticmethod
    def _error(exc: BaseException) -> bytes:
        lines = []
        tb = exc.__traceback__
        frames = [f for f in traceback.extract_tb(tb) if f.filename not in (__file__,)]
        for frame in frames[-MAX_TRACEBACK_LINES // 2:]:
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line}")
        try:
            message = str(exc)
        except Exception:
            message = "(the exception's message could not be read)"
        return encode({"error": {"type": type(exc).__name__[:100], "message": message[:5000], "lines": lines}})


_SERVER = _Server()


def serve(request_b64: str) -> None:
    """The grader's entry in the sandboxed kernel: answer one request, publish the reply as data."""
    from IPython.display import publish_display_data

    reply = _SERVER.handle(base64.b64decode(request_b64))
    publish_display_data({REPLY_MIME: base64.b64encode(reply).decode("ascii")})
