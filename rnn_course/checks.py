"""Checks that test cells call: each failure says what is wrong, where, and the likely cause.

A failing check raises ``CheckFailure`` (an ``AssertionError``) whose message names the output,
the position (with shape letters: N batch, T time, D input, H hidden, V vocabulary), the
expected and received numbers, and a hint where a mistake is typical. A wrong *type* from the
student (None, a list, a string, the wrong shape, NaN) fails a check the same way; it never
crashes the grader. Bad arguments from the *test author* raise ``TypeError``/``ValueError``.

Every function a failure passes through sets ``__tracebackhide__``: IPython (and pytest) leave
its frame out of the traceback, so a student sees the test cell's line and the message, not
this module's internals.

Example:
    h = checks.call(rnn_forward, x, h0, params, name="rnn_forward")
    checks.check_close(h, expected, name="h", dims="NTH")
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Sequence

import numpy as np

from rnn_course.backend import to_numpy, unwrap

__all__ = [
    "CheckFailure",
    "call",
    "check_array",
    "check_shape",
    "check_finite",
    "check_close",
    "check_probabilities",
    "check_tuple",
    "check_keys",
    "check_list",
    "check_scalar",
    "check_int",
    "check_raises",
    "check_gradient",
    "check_true",
]

_PRECISION = 6

# The hint when an answer is the expected one read backwards in time.
REVERSED_IN_TIME = ("the values are in reverse time order: store step t at index t (not T-1-t), "
                    "and check the direction of the loop.")


class CheckFailure(AssertionError):
    """A student's answer is wrong; the message explains what and where.

    ``diagnosis`` is the bug in a few words without the student's values (the hint when the check
    has one, else the first line of the message): what ``rnn-course report`` groups a class by.
    """

    def __init__(self, message: str = "", diagnosis: str | None = None):
        super().__init__(message)
        self.fixed = diagnosis is not None   # the check's own words (no student value in them)
        self.diagnosis = diagnosis if diagnosis is not None else str(message).split("\n", 1)[0]


def _fail(message: str, hint: str | None = None) -> None:
    __tracebackhide__ = True
    if hint:
        message = f"{message}\nHint: {hint}"
    raise CheckFailure(message, diagnosis=hint)  # your answer failed a check: the message below says why


def _fmt(value) -> str:
    return np.array2string(
        np.asarray(value), precision=_PRECISION, suppress_small=False, threshold=8, edgeitems=2
    )


def _where(index: Sequence[int], dims: str | None) -> str:
    if not index:
        return "[]"
    if dims and len(dims) == len(index):
        return "[" + ", ".join(f"{d}={i}" for d, i in zip(dims, index)) + "]"
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _check_dims(dims: str | None, ndim: int, argument: str = "dims") -> None:
    __tracebackhide__ = True
    if dims is not None and (not isinstance(dims, str) or len(dims) != ndim):
        raise ValueError(
            f"{argument} must be a string of {ndim} shape letters (e.g. 'NTH'); received: {dims!r}"
        )


def call(fn: Callable, *args, name: str | None = None, hint: str | None = None, **kwargs):
    """Call a student's function; turn "not implemented" and crashes into a clear failure.

    Args:
        fn: the student's function.
        *args, **kwargs: passed on. Arrays are copied first, so an in-place edit by the
            student cannot change the test's inputs.
        name: how to call the function in messages (default: ``fn.__name__``).
        hint: the likely cause to print when the function crashes (e.g. the index a typical
            slip runs past).

    Returns:
        whatever ``fn`` returns.
    """
    __tracebackhide__ = True
    if not callable(fn):
        _fail(f"{name or 'the answer'} must be a function; received: {type(fn).__name__}")
    label = name or getattr(fn, "__name__", "the function")
    args = tuple(_copy(a) for a in args)
    kwargs = {k: _copy(v) for k, v in kwargs.items()}
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailure(
            f"{label} is not implemented yet: replace `raise NotImplementedError()` "
            "with your code.", diagnosis=f"{label} is not implemented yet"
        ) from None
    except CheckFailure:
        raise
    except Exception as exc:
        raise CheckFailure(
            f"{label}(...) raised {_type_name(exc)}: {exc}\n" + _student_lines(exc)
            + (f"\nHint: {hint}" if hint else ""),
            diagnosis=f"{label}(...) raised {_type_name(exc)}",  # not the student's own message
        ) from exc


def _type_name(exc: BaseException) -> str:
    """The exception's type as the student's code raised it (see rnn_course.student_side)."""
    return getattr(exc, "type_name", None) or type(exc).__name__


def _student_lines(exc: BaseException) -> str:
    """Where the student's code raised: the traceback above (one kernel) or its lines (graded)."""
    lines = getattr(exc, "lines", None)
    if lines and exc.__cause__ is None:  # from the sandbox: no traceback object came with it
        return "In your code:\n" + "\n".join(lines)
    return "The traceback above points at the line in your code."


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def check_array(received, name: str, dtype_kind: str = "f") -> np.ndarray:
    """Check that ``received`` is a numeric array (numpy, or a framework tensor); return it.

    Args:
        received: the student's value.
        name: the output's name for messages, e.g. "h_next".
        dtype_kind: allowed numpy dtype kinds ("f" float, "c" complex, "i"/"u" integer,
            "b" bool).

    Returns:
        ``received`` as a numpy array.
    """
    __tracebackhide__ = True
    if received is None:
        _fail(
            f"{name} is None.",
            "did your function reach a `return` statement, and does it return this value?",
        )
    if isinstance(received, (list, tuple)):
        _fail(
            f"{name} is a {type(received).__name__} of length {len(received)}; expected a numpy "
            "array.",
            "build the result with numpy operations, or convert it with np.array(...) / "
            "np.stack(...).",
        )
    if isinstance(received, (str, bytes, dict, set)):
        _fail(f"{name} is a {type(received).__name__}; expected a numpy array.")
    received = _unwrap_tensor(received)
    try:
        array = np.asarray(received)
    except Exception as exc:
        _fail(f"{name} cannot be read as a numpy array ({type(exc).__name__}: {exc}).")
    if array.dtype.kind not in dtype_kind:
        kinds = {"f": "float", "c": "complex", "i": "int", "u": "unsigned int", "b": "bool"}
        wanted = " or ".join(kinds.get(k, k) for k in dtype_kind)
        hint = None
        if array.dtype.kind == "c" and "c" not in dtype_kind:
            hint = ("the result is complex (np.linalg.eigvals gives complex eigenvalues): take the modulus "
                    "np.abs(...) or the real part .real where a real number is meant.")
        elif "f" in dtype_kind:
            hint = "create it with a float dtype (np.zeros(shape), not dtype=int)."
        _fail(f"{name} has dtype {array.dtype}; expected a {wanted} array.", hint)
    return array


def check_shape(received, shape: Sequence[int], name: str, dims: str | None = None,
                hint: str | None = None) -> np.ndarray:
    """Check an array's shape; return it as a numpy array.

    Args:
        received: the student's value.
        shape: expected shape, e.g. ``(N, T, H)`` as numbers.
        name: the output's name for messages.
        dims: the shape letters, e.g. "NTH", used in the message. Only with dims starting with
            N does a missing first axis read as a missing batch axis.
        hint: the likely cause to print when no layout slip explains the shape (e.g. for a
            weight: which weight has which shape).
    """
    __tracebackhide__ = True
    shape = tuple(int(s) for s in shape)
    _check_dims(dims, len(shape))
    array = check_array(received, name)
    if array.shape == shape:
        return array
    want = f"({', '.join(dims)}) = {shape}" if dims else str(shape)
    given, hint = hint, None
    if array.ndim == len(shape) and sorted(array.shape) == sorted(shape):
        hint = "the same sizes in another order: a transpose, or stacking along the wrong axis?"
    elif array.size == int(np.prod(shape)):
        hint = "the right number of values in the wrong layout: a reshape or a missing axis?"
    elif array.ndim == len(shape) - 1 and array.shape == shape[1:] and dims and dims[0] == "N":
        hint = "the batch axis is missing: did you keep only one example?"
    elif array.ndim == len(shape) + 1 and array.shape[1:] == shape:
        hint = "one axis too many at the front."
    hint = hint or given
    _fail(f"{name} must have shape {want}; received {array.shape}.", hint)


def check_finite(received, name: str, dims: str | None = None) -> np.ndarray:
    """Check that an array has no NaN or infinity; return it."""
    __tracebackhide__ = True
    array = check_array(received, name)
    if dims is not None and not isinstance(dims, str):
        raise ValueError(f"dims must be a string of shape letters (e.g. 'NTH'); received: {dims!r}")
    if dims is not None and len(dims) != array.ndim:
        _fail(f"{name} must have {len(dims)} dimensions ({', '.join(dims)}); received shape {array.shape}.")
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        _fail(
            f"{name} has {int(bad.sum())} non-finite value(s) (NaN or inf); the first at "
            f"{_where(first, dims)} is {array[first]}.",
            "an overflow (exp of a large number?), a division by zero, or an uninitialised "
            "array (np.empty)?",
        )
    return array


def check_close(
    received,
    expected,
    name: str,
    dims: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    hint: str | None = None,
    mistakes: dict | None = None,
    backward: bool = False,
) -> np.ndarray:
    """Check type, shape, finiteness and values of an array against the expected one.

    On a mismatch the message gives how many entries are wrong, the first and the worst with
    expected and received values, the first wrong time step when ``dims`` has a "T", and a
    diagnosis of typical slips (sign, transpose, a constant offset, reversed along T) and of the
    known mistakes in ``mistakes`` whose values the received array equals. A known mistake, or
    else a reversal along T, replaces ``hint``: it names the bug more precisely.

    Args:
        received: the student's value.
        expected: the reference array (from an oracle or fixed values).
        name: the output's name for messages, e.g. "h".
        dims: shape letters of the array, e.g. "NTH".
        rtol, atol: tolerances as in ``np.allclose``.
        hint: the likely cause to print when the values differ.
        mistakes: known wrong answers, ``{diagnosis: the array that mistake gives}``, built by
            the test (e.g. an oracle with two gate blocks swapped); a received array within
            ``rtol``/``atol`` of one of them is diagnosed by name (and that name is the hint).
        backward: the values come from a backward recursion (BPTT: step T-1 first, then back in
            time), so the first wrong step is counted from t=T-1 going back.

    Returns:
        ``received`` as a numpy array.

    Example:
        checks.check_close(h, expected, name="h", dims="NH",
                           mistakes={"gates f, i swapped": oracle(swapped_weights)})
    """
    __tracebackhide__ = True
    expected = to_numpy(expected)
    _check_dims(dims, expected.ndim)
    if mistakes is not None and (not isinstance(mistakes, dict)
                                 or not all(isinstance(k, str) and k for k in mistakes)):
        raise TypeError(f"mistakes must be a dict diagnosis -> array; received: {mistakes!r}")
    array = check_shape(received, expected.shape, name, dims)
    array = check_finite(array, name, dims)
    close = np.isclose(array, expected, rtol=rtol, atol=atol)
    if close.all():
        return array
    err = np.abs(array.astype(np.float64) - expected)
    wrong = np.argwhere(~close)
    first = tuple(int(i) for i in wrong[0])
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(np.where(close, -1.0, err)), err.shape))
    lines = [
        f"{name}: {len(wrong)} of {expected.size} values differ from the expected ones "
        f"(rtol={rtol:g}, atol={atol:g}).",
        f"  first at {_where(first, dims)}: expected {expected[first]:.{_PRECISION}g}, "
        f"received {array[first]:.{_PRECISION}g}",
    ]
    if worst != first:
        lines.append(
            f"  worst at {_where(worst, dims)}: expected {expected[worst]:.{_PRECISION}g}, "
            f"received {array[worst]:.{_PRECISION}g} (error {err[worst]:.3g})"
        )
    if dims and "T" in dims and expected.shape[dims.index("T")] > 1:
        axis = dims.index("T")
        other = tuple(i for i in range(expected.ndim) if i != axis)
        ok_t = close.all(axis=other) if other else close
        last = len(ok_t) - 1
        if not backward:
            bad_t = int(np.argmin(ok_t))
            if bad_t > 0:
                right = "time step t=0 is" if bad_t == 1 else f"time steps t=0..{bad_t - 1} are"
                lines.append(f"  {right} right; t={bad_t} is the first wrong one.")
            else:
                lines.append("  already the first time step t=0 is wrong.")
        else:  # a backward recursion starts at t=T-1: errors made on the way grow going back
            bad_t = int(np.flatnonzero(~ok_t)[-1])
            if bad_t < last:
                right = f"t={last} is" if bad_t == last - 1 else f"t={bad_t + 1}..{last} are"
                lines.append(f"  {right} right; going back in time, t={bad_t} is the first wrong one.")
            else:
                lines.append(f"  already the last time step t={last}, where the backward recursion starts, is wrong.")
    diagnosis = _diagnose(array, expected, rtol, atol)
    if diagnosis:
        lines.append(f"  {diagnosis}")
    known = None
    for what, value in (mistakes or {}).items():
        value = to_numpy(value)
        if value.shape == array.shape and np.allclose(array, value, rtol=rtol, atol=atol):
            lines.append(f"  received = what this mistake gives: {what}.")
            known = known or what
    if known is None and dims and "T" in dims:
        axis = dims.index("T")
        flipped = np.flip(array, axis=axis)
        if expected.shape[axis] > 1 and np.allclose(flipped, expected, rtol=rtol, atol=atol):
            known = REVERSED_IN_TIME
            lines.append("  received = expected reversed along T (time).")
    _fail("\n".join(lines), known or hint)


def _diagnose(received: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    """Name a typical slip when the received array is a simple transform of the expected."""

    def near(a, b):
        return a.shape == b.shape and np.allclose(a, b, rtol=max(rtol, 1e-6), atol=max(atol, 1e-8))

    if near(received, -expected):
        return "received = -expected everywhere: a sign is flipped."
    if received.ndim == 2 and received.shape[0] == received.shape[1] and near(received, expected.T):
        return "received = expected transposed."
    if expected.size > 1:
        offset = received - expected
        scale = 1e-9 + 1e-6 * np.abs(expected).max()
        if np.ptp(offset) < scale and np.abs(offset).max() > 100 * scale:
            return f"received = expected + {offset.flat[0]:.4g} everywhere: a constant offset."
        mask = np.abs(expected) > 1e-12
        if mask.any():
            ratio = received[mask] / expected[mask]
            if not np.any(received):
                return "received is all zeros: is the result ever filled in?"
            if np.ptp(ratio) < 1e-6 and not np.isclose(ratio[0], 1.0):
                return f"received = {ratio[0]:.4g} × expected everywhere: a scale factor."
    return None


def check_probabilities(received, name: str, axis: int = -1, dims: str | None = None, atol=1e-6):
    """Check that an array holds probability distributions along ``axis``; return it.

    Args:
        received: the student's value.
        name: the output's name for messages.
        axis: the axis that must sum to 1 (the vocabulary axis V).
        dims: shape letters, e.g. "NTV".
        atol: tolerance on the sums.
    """
    __tracebackhide__ = True
    array = check_finite(received, name, dims)
    if (array < -atol).any():
        first = tuple(int(i) for i in np.argwhere(array < -atol)[0])
        _fail(f"{name} has a negative probability {array[first]:.4g} at {_where(first, dims)}.")
    sums = array.sum(axis=axis)
    bad = np.argwhere(np.abs(sums - 1.0) > atol)
    if len(bad):
        where = tuple(int(i) for i in bad[0])
        letters = None
        if dims:
            ax = axis % array.ndim
            letters = dims[:ax] + dims[ax + 1 :]
        _fail(
            f"{name} must sum to 1 along axis {axis}"
            + (f" ({dims[axis % array.ndim]})" if dims else "")
            + f"; the sum at {_where(where, letters)} is {sums[where]:.6g}.",
            "normalise over the last axis, e.g. e / e.sum(axis=-1, keepdims=True).",
        )
    return array


def check_tuple(result, names: Sequence[str], function: str):
    """Check that a function returned a tuple with one item per name; return the tuple.

    Example:
        h_next, cache = checks.check_tuple(out, ("h_next", "cache"), "rnn_cell_forward")
    """
    __tracebackhide__ = True
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"names must be a sequence of strings; received: {names!r}")
    want = f"({', '.join(names)})"
    if result is None:
        _fail(f"{function} returned None; it must return {want}.", "is a `return` missing?")
    if not isinstance(result, tuple):
        _fail(
            f"{function} must return a tuple {want}; received a {type(result).__name__}.",
            f"write `return {', '.join(names)}`.",
        )
    if len(result) != len(names):
        _fail(f"{function} must return {len(names)} values {want}; received {len(result)}.")
    return result


def check_list(received, length: int, name: str) -> list:
    """Check that a value is a list of ``length`` items (e.g. one cache per time step); return it."""
    __tracebackhide__ = True
    if received is None:
        _fail(f"{name} is None; expected a list of {length} items.", "is a `return` missing?")
    if not isinstance(received, list):
        _fail(f"{name} must be a list of {length} items; received a {type(received).__name__}.")
    if len(received) != length:
        _fail(f"{name} must hold {length} items; received {len(received)}.")
    return received


def check_keys(received, keys: Sequence[str], name: str) -> dict:
    """Check that a dict has exactly the given keys; return it."""
    __tracebackhide__ = True
    if isinstance(keys, str) or not all(isinstance(k, str) for k in keys):
        raise TypeError(f"keys must be a sequence of strings; received: {keys!r}")
    if not isinstance(received, dict):
        _fail(f"{name} must be a dict with keys {sorted(keys)}; received: {type(received).__name__}.")
    missing = sorted(set(keys) - set(received))
    extra = sorted(set(received) - set(keys))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if extra:
            parts.append(f"unexpected {extra}")
        _fail(f"{name} must have keys {sorted(keys)}: " + ", ".join(parts) + ".")
    return received


def _unwrap_tensor(value):
    """A framework tensor (TensorFlow, PyTorch, JAX) as numpy; anything else, or a tensor that
    cannot be converted, unchanged (the checks then report it)."""
    try:
        return unwrap(value)
    except Exception:
        return value


def check_scalar(received, expected: float, name: str, rtol: float = 1e-6, atol: float = 1e-8, hint=None,
                 mistakes: dict | None = None):
    """Check a real number (a Python or numpy scalar, or a 0-d array); return it as float.

    ``mistakes`` (``{diagnosis: the number that mistake gives}``) works as in ``check_close``:
    a received number within tolerance of one is diagnosed by name, which replaces ``hint``.
    """
    __tracebackhide__ = True
    if mistakes is not None and (not isinstance(mistakes, dict) or not all(
            isinstance(k, str) and k and isinstance(v, numbers.Real) for k, v in mistakes.items())):
        raise TypeError(f"mistakes must be a dict diagnosis -> number; received: {mistakes!r}")
    if received is None:
        _fail(f"{name} is None.", "is a `return` missing?")
    received = _unwrap_tensor(received)
    if isinstance(received, (bool, np.bool_)) or not (
        isinstance(received, numbers.Real) or (isinstance(received, np.ndarray) and received.ndim == 0)
    ):
        _fail(f"{name} must be a number; received a {type(received).__name__}: {_fmt(received)}.")
    try:
        value = float(received)
    except (TypeError, ValueError):
        _fail(f"{name} must be a real number; received {_fmt(received)} of dtype {np.asarray(received).dtype}.")
    if not np.isfinite(value):
        _fail(f"{name} is {value}; expected {expected:.{_PRECISION}g}.")
    if not np.isclose(value, expected, rtol=rtol, atol=atol):
        message = f"{name} is {value:.{_PRECISION}g}; expected {expected:.{_PRECISION}g}."
        known = [what for what, v in (mistakes or {}).items() if np.isclose(value, v, rtol=rtol, atol=atol)]
        if known:
            message += f"\n  received = what this mistake gives: {known[0]}."
        _fail(message, known[0] if known else hint)
    return value


def check_int(received, expected: int, name: str, hint: str | None = None, mistakes: dict | None = None) -> int:
    """Check an exact integer answer (a Python or numpy int); return it.

    ``mistakes`` (``{diagnosis: the int that mistake gives}``) works as in ``check_scalar``: a
    received count equal to one is diagnosed by name, which replaces ``hint``.
    """
    __tracebackhide__ = True
    if mistakes is not None and (not isinstance(mistakes, dict) or not all(
            isinstance(k, str) and k and isinstance(v, numbers.Integral) and not isinstance(v, bool)
            for k, v in mistakes.items())):
        raise TypeError(f"mistakes must be a dict diagnosis -> int; received: {mistakes!r}")
    received = _unwrap_tensor(received)
    if isinstance(received, np.ndarray) and received.ndim == 0 and received.dtype.kind in "iu":
        received = received.item()
    if isinstance(received, (bool, np.bool_)) or not isinstance(received, numbers.Integral):
        if isinstance(received, float) and float(received).is_integer():
            _fail(f"{name} must be an int; received the float {received}.", "use // or int(...).")
        _fail(f"{name} must be an int; received a {type(received).__name__}: {received!r}.")
    if int(received) != int(expected):
        message = f"{name} is {int(received)}; expected {int(expected)}."
        known = [what for what, v in (mistakes or {}).items() if int(v) == int(received)]
        if known:
            message += f"\n  received = what this mistake gives: {known[0]}."
        _fail(message, known[0] if known else hint)
    return int(received)


def check_raises(
    fn: Callable,
    *args,
    exception: type[BaseException] | tuple = ValueError,
    mentions: Sequence[str] = (),
    name: str | None = None,
    hint: str | None = None,
    **kwargs,
) -> BaseException:
    """Check that ``fn(*args, **kwargs)`` raises ``exception`` whose message mentions words.

    ``hint`` is the likely cause to print when ``fn`` returns without raising (e.g. which bound
    of a range is not checked).

    Returns:
        the raised exception.
    """
    __tracebackhide__ = True
    label = name or getattr(fn, "__name__", "the function")
    try:
        fn(*args, **kwargs)
    except NotImplementedError:
        _fail(f"{label} is not implemented yet: replace `raise NotImplementedError()` with your code.")
    except exception as exc:
        text = str(exc)
        missing = [m for m in mentions if m.lower() not in text.lower()]
        if missing:
            _fail(
                f"{label} raised {_type_name(exc)} as it should, but its message "
                f"{text!r} does not mention {missing}."
            )
        return exc
    except Exception as exc:
        _fail(f"{label} raised {_type_name(exc)}: {exc}; expected {_names(exception)}.")
    _fail(f"{label} returned without raising; expected {_names(exception)} for this input.", hint)


def _names(exception) -> str:
    if isinstance(exception, tuple):
        return " or ".join(e.__name__ for e in exception)
    return exception.__name__


def check_gradient(
    received,
    expected,
    name: str,
    dims: str | None = None,
    tol: float = 1e-6,
    hint: str | None = None,
    floor: float = 1e-8,
) -> float:
    """Check a gradient by its relative error to a reference (autodiff or finite differences).

    Relative error ``max |a - b| / max(floor, |a| + |b|)`` (``rnn_course.gradcheck.rel_error``);
    in float64, <= 1e-7 means right and > 1e-2 wrong.

    Args:
        received: the student's gradient.
        expected: the reference gradient.
        name: e.g. "dWh".
        dims: shape letters, e.g. "HH".
        tol: the largest relative error accepted.
        hint: the likely cause to print on failure.
        floor: smallest denominator of the relative error (see ``gradcheck.rel_error``).

    Returns:
        the relative error.
    """
    __tracebackhide__ = True
    from rnn_course.gradcheck import rel_error

    expected = to_numpy(expected, dtype=np.float64)
    _check_dims(dims, expected.ndim)
    array = check_shape(received, expected.shape, name, dims)
    array = check_finite(array, name, dims)
    error = rel_error(array, expected, floor)
    if error <= tol or expected.size == 0:
        return error
    rel = np.abs(array - expected) / np.maximum(floor, np.abs(array) + np.abs(expected))
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(rel), rel.shape))
    verdict = "wrong" if error > 1e-2 else "suspicious"
    lines = [
        f"{name}: relative error {error:.3g} > {tol:g} ({verdict}; in float64 a right gradient "
        "reaches <= 1e-7).",
        f"  worst at {_where(worst, dims)}: expected {expected[worst]:.{_PRECISION}g}, "
        f"received {array[worst]:.{_PRECISION}g}",
    ]
    diagnosis = _diagnose(array, expected, 1e-6, 1e-8)
    if diagnosis:
        lines.append(f"  {diagnosis}")
    _fail("\n".join(lines), hint)


def check_true(condition, message: str, hint: str | None = None) -> None:
    """Fail with ``message`` (and ``hint``) unless ``condition`` is true.

    For properties no other check expresses (two layers must not share weights, a flag must
    be set). Write the message as the diagnosis a student reads: what is wrong and where.

    Example:
        checks.check_true(a.kernel is not b.kernel, "the two directions share one kernel.")
    """
    __tracebackhide__ = True
    if not isinstance(message, str) or not message:
        raise TypeError(f"message must be a non-empty string; received: {message!r}")
    try:
        ok = bool(condition)
    except Exception as exc:  # e.g. the truth value of an array is ambiguous
        raise TypeError(f"condition must be a truth value; received {type(condition).__name__}: {exc}") from None
    if not ok:
        _fail(message, hint)
