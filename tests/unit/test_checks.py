"""Unit tests for rnn_course.checks: right answers pass, wrong ones fail with a clear message."""

import numpy as np
import pytest

from rnn_course import checks
from rnn_course.checks import CheckFailure


def failure(fn, *args, **kwargs) -> str:
    """Run a check that must fail; return its message."""
    with pytest.raises(CheckFailure) as info:
        fn(*args, **kwargs)
    return str(info.value)


@pytest.fixture
def expected():
    """An (N, T, H) = (2, 3, 4) array with no zeros and no repeated values."""
    return np.linspace(-1.0, 1.0, 24).reshape(2, 3, 4)


def test_check_failure_is_an_assertion_error():
    assert issubclass(CheckFailure, AssertionError)


# --- check_close: right answers ---------------------------------------------------------------


def test_check_close_passes_and_returns_the_array(expected):
    received = expected.copy()
    out = checks.check_close(received, expected, name="h", dims="NTH")
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, expected)


def test_check_close_passes_within_tolerance(expected):
    received = expected * (1 + 1e-8)
    checks.check_close(received, expected, name="h", dims="NTH")


def test_check_close_accepts_float32_for_float64_expected(expected):
    out = checks.check_close(expected.astype(np.float32), expected, name="h", dims="NTH")
    assert out.dtype == np.float32


def backend_tensor(array, dtype=None):
    """The array as a tensor of the Keras backend in use (TensorFlow, JAX or PyTorch)."""
    import keras

    from rnn_course import backend

    backend.keep_float64()
    return keras.ops.convert_to_tensor(array, dtype=dtype)


def test_check_close_accepts_and_converts_a_backend_tensor(expected):
    out = checks.check_close(backend_tensor(expected), expected, name="h", dims="NTH")
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, expected)


def test_check_close_checks_the_values_of_a_backend_tensor(expected):
    message = failure(checks.check_close, backend_tensor(expected + 1.0), expected, name="h")
    assert "values differ" in message


def test_check_close_accepts_a_torch_tensor_that_tracks_gradients(expected):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (TensorFlow environment)")
    received = torch.tensor(expected, requires_grad=True) * 1.0
    np.testing.assert_array_equal(checks.check_close(received, expected, name="h"), expected)


# --- check_close: wrong values ----------------------------------------------------------------


def test_check_close_names_position_values_and_first_wrong_time_step(expected):
    received = expected.copy()
    received[0, 2, 1] += 0.5
    message = failure(checks.check_close, received, expected, name="h", dims="NTH")
    assert message.startswith("h: 1 of 24 values differ")
    want, got = expected[0, 2, 1], received[0, 2, 1]
    assert f"first at [N=0, T=2, H=1]: expected {want:.6g}, received {got:.6g}" in message
    assert "t=0..1 are right; t=2 is the first wrong one" in message
    assert "worst at" not in message  # the only wrong value is also the worst
    assert "Hint:" not in message
    # one wrong entry is not a sign flip, an offset or a scale factor
    for slip in ("sign", "offset", "scale", "transposed"):
        assert slip not in message


def test_check_close_reports_the_worst_value_apart_from_the_first(expected):
    received = expected.copy()
    received[0, 1, 0] += 0.1
    received[1, 2, 3] -= 2.0
    message = failure(checks.check_close, received, expected, name="h", dims="NTH")
    assert "2 of 24 values differ" in message
    assert "first at [N=0, T=1, H=0]" in message
    assert f"worst at [N=1, T=2, H=3]: expected {expected[1, 2, 3]:.6g}" in message
    assert "(error 2)" in message
    assert "t=1 is the first wrong one" in message


def test_check_close_says_when_the_first_time_step_is_wrong(expected):
    received = expected.copy()
    received[1, 0, 2] = 7.0
    message = failure(checks.check_close, received, expected, name="h", dims="NTH")
    assert "already the first time step t=0 is wrong" in message


def test_check_close_without_dims_gives_plain_indices(expected):
    received = expected.copy()
    received[1, 0, 3] = 5.0
    message = failure(checks.check_close, received, expected, name="h")
    assert "first at [1, 0, 3]" in message
    assert "time step" not in message


def test_check_close_diagnoses_a_sign_flip(expected):
    message = failure(checks.check_close, -expected, expected, name="h", dims="NTH")
    assert "a sign is flipped" in message


def test_check_close_diagnoses_a_transpose():
    expected = np.arange(1.0, 10.0).reshape(3, 3)
    message = failure(checks.check_close, expected.T.copy(), expected, name="W", dims="DH")
    assert "received = expected transposed" in message


def test_check_close_diagnoses_a_constant_offset(expected):
    message = failure(checks.check_close, expected + 0.25, expected, name="h", dims="NTH")
    assert "received = expected + 0.25 everywhere: a constant offset" in message


def test_check_close_diagnoses_a_scale_factor(expected):
    message = failure(checks.check_close, 2.0 * expected, expected, name="h", dims="NTH")
    assert "received = 2 × expected everywhere: a scale factor" in message


def test_check_close_appends_the_given_hint(expected):
    message = failure(
        checks.check_close, expected + 1.0, expected, name="h", hint="did you add the bias twice?"
    )
    assert message.endswith("\nHint: did you add the bias twice?")


def test_check_close_uses_the_given_tolerances(expected):
    received = expected + 1e-3
    checks.check_close(received, expected, name="h", atol=1e-2)
    message = failure(checks.check_close, received, expected, name="h", atol=1e-4, rtol=0.0)
    assert "rtol=0, atol=0.0001" in message


# --- check_close: wrong shapes ----------------------------------------------------------------


def test_check_close_wrong_shape_with_transpose_hint(expected):
    received = expected.transpose(0, 2, 1).copy()
    message = failure(checks.check_close, received, expected, name="h", dims="NTH")
    assert "h must have shape (N, T, H) = (2, 3, 4); received (2, 4, 3)." in message
    assert "Hint:" in message and "transpose" in message


def test_check_close_missing_batch_axis(expected):
    message = failure(checks.check_close, expected[0], expected, name="h", dims="NTH")
    assert "received (3, 4)" in message
    assert "the batch axis is missing" in message


def test_check_shape_one_axis_too_many():
    message = failure(checks.check_shape, np.zeros((2, 3, 4)), (3, 4), name="h", dims="TH")
    assert "h must have shape (T, H) = (3, 4); received (2, 3, 4)." in message
    assert "one axis too many at the front" in message


def test_check_shape_reshape_hint():
    message = failure(checks.check_shape, np.zeros((2, 12)), (2, 3, 4), name="h", dims="NTH")
    assert "right number of values in the wrong layout" in message


def test_check_shape_without_dims_and_unrelated_shape():
    message = failure(checks.check_shape, np.zeros((5,)), (2, 3), name="y")
    assert message == "y must have shape (2, 3); received (5,)."


def test_check_shape_passes_and_returns_the_array():
    out = checks.check_shape(np.zeros((2, 3)), (2, 3), name="y", dims="NH")
    assert isinstance(out, np.ndarray) and out.shape == (2, 3)


# --- wrong student types fail as CheckFailure, never as another exception ---------------------


@pytest.mark.parametrize(
    ("received", "words"),
    [
        (None, ["h is None", "return"]),
        ([[0.0] * 4] * 3, ["h is a list of length 3", "expected a numpy array", "np.array"]),
        ((0.0, 1.0), ["h is a tuple of length 2", "expected a numpy array"]),
        ("h", ["h is a str", "expected a numpy array"]),
        ({"h": 1.0}, ["h is a dict", "expected a numpy array"]),
        ({1.0, 2.0}, ["h is a set"]),
        (np.zeros((2, 3, 4), dtype=np.int64), ["dtype int64", "expected a float array"]),
        (np.zeros((2, 3, 4), dtype=bool), ["dtype bool", "expected a float"]),
        (np.array([np.zeros(2), np.zeros(3)], dtype=object), ["dtype object"]),
        ((v for v in range(3)), ["dtype object"]),
        (object(), ["dtype object"]),
    ],
    ids=["None", "list", "tuple", "str", "dict", "set", "int-array", "bool-array",
         "ragged-object", "generator", "object"],
)
def test_check_close_wrong_types_fail_with_a_message(expected, received, words):
    message = failure(checks.check_close, received, expected, name="h", dims="NTH")
    for word in words:
        assert word in message


def test_check_close_int_backend_tensor_fails_on_dtype(expected):
    message = failure(checks.check_close, backend_tensor(np.zeros((2, 3, 4)), dtype="int32"), expected,
                      name="h")
    assert "dtype int32" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_close_non_finite_values(expected, bad):
    received = expected.copy()
    received[0, 1, 2] = bad
    message = failure(checks.check_close, received, expected, name="h", dims="NTH")
    assert "h has 1 non-finite value(s) (NaN or inf)" in message
    assert f"the first at [N=0, T=1, H=2] is {bad}" in message
    assert "Hint:" in message


# --- bad arguments from the test author -------------------------------------------------------


@pytest.mark.parametrize("dims", ["NT", "NTHX", ["N", "T", "H"]])
def test_check_close_rejects_bad_dims(expected, dims):
    with pytest.raises(ValueError, match="dims"):
        checks.check_close(expected, expected, name="h", dims=dims)


def test_check_shape_rejects_bad_dims():
    with pytest.raises(ValueError, match="dims"):
        checks.check_shape(np.zeros((2, 3)), (2, 3), name="y", dims="NTH")


def test_check_finite_rejects_bad_dims_type():
    with pytest.raises(ValueError, match="dims"):
        checks.check_finite(np.zeros((2, 3)), name="y", dims=("N", "H"))


# --- check_array / check_finite ---------------------------------------------------------------


def test_check_array_returns_a_numpy_array_for_a_scalar():
    out = checks.check_array(1.5, name="x")
    assert isinstance(out, np.ndarray) and out.shape == () and out == 1.5


def test_check_array_dtype_kind_can_ask_for_ints():
    out = checks.check_array(np.arange(3), name="ids", dtype_kind="iu")
    np.testing.assert_array_equal(out, [0, 1, 2])
    message = failure(checks.check_array, np.zeros(3), name="ids", dtype_kind="iu")
    assert "ids has dtype float64; expected a int or unsigned int array." in message


def test_check_finite_passes_and_returns():
    x = np.ones((2, 2))
    np.testing.assert_array_equal(checks.check_finite(x, name="x", dims="NH"), x)


def test_check_finite_counts_non_finite_values():
    x = np.ones((2, 3))
    x[0, 2] = np.nan
    x[1, 0] = np.inf
    message = failure(checks.check_finite, x, name="x", dims="NH")
    assert "x has 2 non-finite value(s)" in message
    assert "the first at [N=0, H=2] is nan" in message


def test_check_finite_student_array_of_wrong_rank_is_a_check_failure():
    failure(checks.check_finite, np.zeros((2, 3)), name="h", dims="NTH")


# --- check_probabilities ----------------------------------------------------------------------


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_check_probabilities_passes_and_returns():
    p = softmax(np.linspace(-2.0, 2.0, 24).reshape(2, 3, 4))
    np.testing.assert_array_equal(checks.check_probabilities(p, name="p", dims="NTV"), p)


def test_check_probabilities_negative_value():
    p = np.array([[0.5, 0.5, 0.0], [0.6, -0.1, 0.5]])
    message = failure(checks.check_probabilities, p, name="p", dims="NV")
    assert "p has a negative probability -0.1 at [N=1, V=1]." in message


def test_check_probabilities_rows_not_summing_to_one():
    p = softmax(np.linspace(-2.0, 2.0, 24).reshape(2, 3, 4))
    p[1, 2] *= 0.9
    message = failure(checks.check_probabilities, p, name="p", dims="NTV")
    assert "p must sum to 1 along axis -1 (V); the sum at [N=1, T=2] is 0.9." in message
    assert "Hint: normalise" in message


def test_check_probabilities_other_axis():
    p = np.array([[0.2, 0.5], [0.8, 0.4]])  # columns are distributions, except column 1
    message = failure(checks.check_probabilities, p, name="p", axis=0, dims="VN")
    assert "along axis 0 (V); the sum at [N=1] is 0.9" in message
    checks.check_probabilities(p[:, :1], name="p", axis=0, dims="VN")


@pytest.mark.parametrize(
    ("received", "words"),
    [
        (None, ["p is None"]),
        ([0.5, 0.5], ["p is a list"]),
        (np.array([0.5, np.nan]), ["non-finite"]),
        (np.array([1, 0]), ["dtype int64"]),
    ],
    ids=["None", "list", "nan", "int-array"],
)
def test_check_probabilities_wrong_types(received, words):
    message = failure(checks.check_probabilities, received, name="p")
    for word in words:
        assert word in message


def test_check_probabilities_student_array_of_wrong_rank_is_a_check_failure():
    failure(checks.check_probabilities, np.full((2, 3), 1 / 3), name="p", dims="NTV")


# --- check_tuple ------------------------------------------------------------------------------


def test_check_tuple_passes_and_returns_the_tuple():
    out = (np.zeros(2), {"x": 1})
    assert checks.check_tuple(out, ("h_next", "cache"), "rnn_cell_forward") is out


def test_check_tuple_none():
    message = failure(checks.check_tuple, None, ("h_next", "cache"), "rnn_cell_forward")
    assert "rnn_cell_forward returned None; it must return (h_next, cache)." in message
    assert "return" in message.split("Hint:")[1]


@pytest.mark.parametrize("result", [[1, 2], np.zeros(2), {"h_next": 1, "cache": 2}])
def test_check_tuple_not_a_tuple(result):
    message = failure(checks.check_tuple, result, ("h_next", "cache"), "rnn_cell_forward")
    assert "rnn_cell_forward must return a tuple (h_next, cache)" in message
    assert f"received a {type(result).__name__}" in message
    assert "Hint: write `return h_next, cache`." in message


def test_check_tuple_wrong_length():
    message = failure(checks.check_tuple, (1, 2, 3), ("h_next", "cache"), "rnn_cell_forward")
    assert "rnn_cell_forward must return 2 values (h_next, cache); received 3." in message


@pytest.mark.parametrize("names", ["h_next", ("h_next", 2)])
def test_check_tuple_rejects_bad_names(names):
    with pytest.raises(TypeError, match="names"):
        checks.check_tuple((1, 2), names, "f")


# --- check_keys -------------------------------------------------------------------------------


def test_check_keys_passes_and_returns_the_dict():
    grads = {"W": 1, "b": 2}
    assert checks.check_keys(grads, ["b", "W"], "grads") is grads


def test_check_keys_missing_and_extra():
    message = failure(checks.check_keys, {"W": 1, "z": 2}, ["W", "b"], "grads")
    assert "grads must have keys ['W', 'b']: missing ['b'], unexpected ['z']." in message
    assert "missing ['b']." in failure(checks.check_keys, {"W": 1}, ["W", "b"], "grads")
    extra = {"W": 1, "b": 2, "z": 3}
    assert "unexpected ['z']." in failure(checks.check_keys, extra, ["W", "b"], "grads")


@pytest.mark.parametrize("received", [None, [("W", 1)], "W"])
def test_check_keys_not_a_dict(received):
    message = failure(checks.check_keys, received, ["W", "b"], "grads")
    kind = type(received).__name__
    assert f"grads must be a dict with keys ['W', 'b']; received: {kind}." in message


def test_check_keys_rejects_keys_given_as_a_string():
    with pytest.raises(TypeError):
        checks.check_keys({"W": 1, "b": 2}, "Wb", "grads")


# --- check_scalar -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "received",
    [1.25, np.float64(1.25), np.float32(1.25), np.array(1.25)],
    ids=["float", "np.float64", "np.float32", "0-d"],
)
def test_check_scalar_passes_and_returns_a_float(received):
    out = checks.check_scalar(received, 1.25, "loss")
    assert type(out) is float and out == 1.25


def test_check_scalar_accepts_an_int():
    assert checks.check_scalar(2, 2.0, "loss") == 2.0


def test_check_scalar_wrong_value_with_hint():
    message = failure(checks.check_scalar, 2.5, 1.25, "loss", hint="average over T, not sum")
    assert message == "loss is 2.5; expected 1.25.\nHint: average over T, not sum"


def test_check_scalar_none():
    message = failure(checks.check_scalar, None, 1.25, "loss")
    assert "loss is None." in message and "return" in message


@pytest.mark.parametrize(
    "received", [True, "1.25", [1.25], np.array([1.25]), {"loss": 1.25}, 1.25 + 0j],
    ids=["bool", "str", "list", "1-element-array", "dict", "complex"],
)
def test_check_scalar_not_a_number(received):
    message = failure(checks.check_scalar, received, 1.25, "loss")
    assert f"loss must be a number; received a {type(received).__name__}" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_check_scalar_non_finite(bad):
    message = failure(checks.check_scalar, bad, 1.25, "loss")
    assert f"loss is {bad}; expected 1.25." in message


def test_check_scalar_accepts_a_backend_scalar():
    assert checks.check_scalar(backend_tensor(1.25, dtype="float64"), 1.25, "loss") == 1.25


@pytest.mark.parametrize(
    "received",
    [np.array("abc"), np.array(None), np.array(1 + 2j)],
    ids=["str", "object", "complex"],
)
def test_check_scalar_non_numeric_0d_array_is_a_check_failure(received):
    failure(checks.check_scalar, received, 1.25, "loss")


# --- check_int --------------------------------------------------------------------------------


@pytest.mark.parametrize("received", [3, np.int64(3), np.int32(3)])
def test_check_int_passes_and_returns_an_int(received):
    out = checks.check_int(received, 3, "n")
    assert type(out) is int and out == 3


def test_check_int_wrong_value_with_hint():
    message = failure(checks.check_int, 4, 3, "n", hint="count the padding")
    assert message == "n is 4; expected 3.\nHint: count the padding"


@pytest.mark.parametrize("received", [3.0, np.float64(3.0)])
def test_check_int_whole_float_gets_a_hint_about_int(received):
    message = failure(checks.check_int, received, 3, "n")
    assert "n must be an int; received the float 3.0." in message
    assert "int" in message.split("Hint:")[1]


@pytest.mark.parametrize(
    ("received", "words"),
    [
        (3.5, "received a float: 3.5"),
        (True, "received a bool"),
        (None, "received a NoneType"),
        ("3", "received a str"),
    ],
)
def test_check_int_wrong_types(received, words):
    message = failure(checks.check_int, received, 3, "n")
    assert "n must be an int" in message and words in message


# --- check_raises -----------------------------------------------------------------------------


def needs_positive(t, *, scale=1):
    if t <= 0:
        raise ValueError(f"T must be positive; received: {t}")
    return t * scale


def test_check_raises_passes_and_returns_the_exception():
    exc = checks.check_raises(needs_positive, -1, mentions=["POSITIVE", "received"])
    assert isinstance(exc, ValueError) and "received: -1" in str(exc)


def test_check_raises_forwards_keyword_arguments():
    checks.check_raises(needs_positive, 0, scale=2)
    with pytest.raises(CheckFailure):
        checks.check_raises(needs_positive, 2, scale=2)


def test_check_raises_message_missing_a_mention():
    message = failure(checks.check_raises, needs_positive, -1, mentions=["positive", "shape"])
    assert "needs_positive raised ValueError as it should, but its message" in message
    assert "does not mention ['shape']" in message


def test_check_raises_wrong_exception_type():
    def f(t):
        raise TypeError("bad t")

    message = failure(checks.check_raises, f, 1, exception=ValueError)
    assert message == "f raised TypeError: bad t; expected ValueError."


def test_check_raises_accepts_another_exception_type():
    def f():
        raise KeyError("x")

    assert isinstance(checks.check_raises(f, exception=KeyError), KeyError)


def test_check_raises_no_exception():
    message = failure(checks.check_raises, needs_positive, 5, name="validate")
    assert message == "validate returned without raising; expected ValueError for this input."


def test_check_raises_not_implemented():
    def f(t):
        raise NotImplementedError()

    assert "f is not implemented yet" in failure(checks.check_raises, f, 1)


# --- call -------------------------------------------------------------------------------------


def test_call_returns_the_result_and_forwards_arguments():
    def f(a, b, *, c):
        return a + b * c

    assert checks.call(f, 1, 2, c=3) == 7


def test_call_not_implemented():
    def rnn_forward(x):
        raise NotImplementedError()

    with pytest.raises(CheckFailure) as info:
        checks.call(rnn_forward, np.zeros(2))
    assert "rnn_forward is not implemented yet" in str(info.value)
    assert "NotImplementedError" in str(info.value)


def test_call_turns_a_crash_into_a_check_failure_with_cause():
    def rnn_forward(x):
        return x[5]

    with pytest.raises(CheckFailure) as info:
        checks.call(rnn_forward, np.zeros(2))
    message = str(info.value)
    assert message.startswith(
        "rnn_forward(...) raised IndexError: index 5 is out of bounds for axis 0 with size 2"
    )
    assert isinstance(info.value.__cause__, IndexError)


def test_call_prints_the_hint_when_the_function_crashes():
    def forecast(x):
        return x[5]

    with pytest.raises(CheckFailure) as info:
        checks.call(forecast, np.zeros(2), hint="repeat the season: h % period")
    message = str(info.value)
    assert message.startswith("forecast(...) raised IndexError")
    assert message.endswith("\nHint: repeat the season: h % period")
    assert info.value.diagnosis == "forecast(...) raised IndexError"   # grouped by the crash, as without a hint
    assert checks.call(forecast, np.arange(6.0), hint="unused") == 5.0


def test_call_uses_the_given_name():
    message = failure(checks.call, lambda: {}["k"], name="lookup")
    assert message.startswith("lookup(...) raised KeyError: 'k'")


def test_call_passes_a_check_failure_through_unchanged():
    original = CheckFailure("inner check")

    def f():
        raise original

    with pytest.raises(CheckFailure) as info:
        checks.call(f)
    assert info.value is original


def test_call_not_a_function():
    message = failure(checks.call, None, name="rnn_forward")
    assert message == "rnn_forward must be a function; received: NoneType"


def test_call_copies_arrays_so_in_place_edits_do_not_leak():
    x = np.arange(3.0)
    params = {"W": np.ones((2, 2)), "nested": [np.zeros(2)]}
    hs = [np.ones(2)]
    seen = {}

    def student(x, params, hs, *, h0):
        seen["x"] = x.copy()
        x += 100
        params["W"][0, 0] = -5
        params["nested"][0][:] = 7
        params["new"] = 1
        hs[0] *= 3
        hs.append(None)
        h0[:] = 9
        return "done"

    h0 = np.zeros(2)
    assert checks.call(student, x, params, hs, h0=h0) == "done"
    np.testing.assert_array_equal(seen["x"], [0.0, 1.0, 2.0])  # the student saw the values
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(params["W"], np.ones((2, 2)))
    np.testing.assert_array_equal(params["nested"][0], np.zeros(2))
    assert set(params) == {"W", "nested"}
    np.testing.assert_array_equal(hs[0], np.ones(2))
    assert len(hs) == 1
    np.testing.assert_array_equal(h0, np.zeros(2))


def test_call_copies_arrays_inside_a_tuple():
    cache = (np.zeros(3), np.ones(3))

    def rnn_step_backward(dh, cache):
        cache[0][:] = 99
        return dh

    checks.call(rnn_step_backward, np.ones(3), cache)
    np.testing.assert_array_equal(cache[0], np.zeros(3))


def test_a_failure_shows_one_frame_of_checks_in_ipython():
    """IPython's traceback of a failing check: the test line, one checks.py frame, the message."""
    import sys

    from IPython.core.ultratb import VerboseTB

    def test_cell():
        h = checks.call(lambda x: x * 0.0, np.ones((2, 3)), name="f")
        checks.check_close(h, np.ones((2, 3)), name="h", dims="NH")

    try:
        test_cell()
    except checks.CheckFailure:
        text = VerboseTB(theme_name="nocolor").text(*sys.exc_info())
    else:
        raise AssertionError("check_close passed a wrong answer")
    frames = [line for line in text.splitlines() if line.startswith("File ")]
    shown = [line for line in frames if "rnn_course/checks.py" in line]
    assert len(shown) == 1 and "in _fail(" in shown[0], f"checks.py frames shown:\n{text}"
    assert "skipping hidden 1 frame" in text
    assert "h: 6 of 6 values differ" in text
