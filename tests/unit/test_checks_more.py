"""checks.check_gradient, checks.check_true, the known mistakes of checks.check_close and the hints
that must name the real bug (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_course import checks


def test_right_gradient_passes_and_returns_the_error():
    g = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    assert checks.check_gradient(g + 1e-12, g, name="dW", dims="DH") < 1e-9


def test_wrong_gradient_fails_with_error_position_and_diagnosis():
    g = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    with pytest.raises(checks.CheckFailure) as info:
        checks.check_gradient(2 * g, g, name="dWh", dims="HH", hint="sum over time")
    message = str(info.value)
    assert "dWh: relative error" in message and "wrong" in message
    assert "worst at [H=" in message
    assert "2 × expected" in message
    assert "Hint: sum over time" in message


def test_wrong_types_and_shapes_fail_as_check_failures():
    g = np.ones((2, 3))
    for bad in (None, [1.0, 2.0], np.ones((3, 2)), np.full((2, 3), np.nan)):
        with pytest.raises(checks.CheckFailure):
            checks.check_gradient(bad, g, name="dW", dims="DH")


def test_tolerance_is_respected():
    g = np.ones(4)
    checks.check_gradient(g * (1 + 1e-5), g, name="db", tol=1e-4)
    with pytest.raises(checks.CheckFailure, match="suspicious"):
        checks.check_gradient(g * (1 + 1e-5), g, name="db", tol=1e-7)


def test_floor_compares_tiny_entries_in_absolute_terms():
    expected = np.array([1.0, 2e-6])
    received = np.array([1.0, 2e-6 + 1e-11])   # finite-difference noise on a tiny entry
    with pytest.raises(checks.CheckFailure):
        checks.check_gradient(received, expected, name="g")
    assert checks.check_gradient(received, expected, name="g", floor=1e-4) < 1e-6


def test_noise_is_not_diagnosed_as_a_constant_offset():
    expected = np.linspace(1e-6, 3e-6, 4)
    with pytest.raises(checks.CheckFailure) as info:
        checks.check_gradient(expected + 1e-11, expected, name="g", tol=1e-9)
    assert "constant offset" not in str(info.value)


def test_check_true_passes_and_fails_with_the_message():
    checks.check_true(1 + 1 == 2, "arithmetic is broken")
    with pytest.raises(checks.CheckFailure, match="the two directions share one kernel") as info:
        checks.check_true(False, "the two directions share one kernel.", hint="build two copies")
    assert "Hint: build two copies" in str(info.value)


def test_check_true_rejects_bad_arguments():
    with pytest.raises(TypeError, match="message"):
        checks.check_true(True, "")
    with pytest.raises(TypeError, match="condition"):
        checks.check_true(np.array([True, False]), "ambiguous")


def test_check_close_names_a_known_mistake_that_the_answer_equals():
    expected = np.linspace(-1.0, 1.0, 8).reshape(2, 4)
    swapped = expected[:, ::-1].copy()
    mistakes = {"gates in the order f, i, c, o": swapped, "no bias": expected + 5.0}
    with pytest.raises(checks.CheckFailure) as info:
        checks.check_close(swapped, expected, name="h", dims="NH", hint="slices i, f, c, o", mistakes=mistakes)
    message = str(info.value)
    assert "received = what this mistake gives: gates in the order f, i, c, o." in message
    assert "no bias" not in message
    # The known mistake names the bug more precisely than the generic hint: it replaces it.
    assert message.endswith("Hint: gates in the order f, i, c, o")
    assert info.value.diagnosis == "gates in the order f, i, c, o" and info.value.fixed


def test_check_close_ignores_mistakes_when_right_or_unlike_any():
    expected = np.linspace(-1.0, 1.0, 6)
    checks.check_close(expected, expected, name="h", mistakes={"swap": expected[::-1]})
    with pytest.raises(checks.CheckFailure) as info:
        checks.check_close(expected * 3, expected, name="h", mistakes={"swap": expected[::-1],
                                                                        "other shape": np.ones(2)})
    assert "this mistake" not in str(info.value)


def test_check_close_rejects_bad_mistakes():
    with pytest.raises(TypeError, match="mistakes"):
        checks.check_close(np.ones(2), np.ones(2), name="h", mistakes=[np.ones(2)])


def fail(fn, *args, **kwargs) -> checks.CheckFailure:
    with pytest.raises(checks.CheckFailure) as info:
        fn(*args, **kwargs)
    return info.value


def test_a_complex_result_is_called_complex_not_an_int_dtype():
    exc = fail(checks.check_close, np.array([[0.5j, 0.0], [0.0, -0.5j]]), np.eye(2), name="scaled W")
    assert "dtype complex128" in str(exc)
    assert "the result is complex" in exc.diagnosis and "np.abs" in exc.diagnosis
    assert "dtype=int" not in str(exc)
    assert "dtype=int" in str(fail(checks.check_array, np.zeros(3, dtype=int), name="h"))


def test_a_missing_first_axis_is_a_batch_axis_only_when_the_dims_say_n():
    weight_hint = "weights in the order kernel (D, H), recurrent_kernel (H, H), bias (H,)."
    exc = fail(checks.check_shape, np.zeros(4), (4, 4), name="weight 'bias'", dims="HH", hint=weight_hint)
    assert "batch axis" not in str(exc) and exc.diagnosis == weight_hint
    assert "batch axis" not in str(fail(checks.check_shape, np.zeros(4), (4, 4), name="w"))
    assert "the batch axis is missing" in str(fail(checks.check_shape, np.zeros(4), (3, 4), name="h", dims="NH"))
    # A layout slip the check recognises still wins over the caller's hint.
    assert "transpose" in str(fail(checks.check_shape, np.zeros((4, 3)), (3, 4), name="w", hint=weight_hint))


def test_first_wrong_step_of_a_backward_recursion_counts_from_the_end():
    expected = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    grown = expected * np.array([1.9, 1.6, 1.3, 1.1, 1.0])     # right at T-1, worse going back
    message = str(fail(checks.check_close, grown, expected, name="dw_terms", dims="T", backward=True))
    assert "t=4 is right; going back in time, t=3 is the first wrong one." in message
    assert "t=0 is wrong" not in message
    message = str(fail(checks.check_close, expected * np.array([1, 1.1, 1.3, 1, 1]), expected,
                       name="dw_terms", dims="T", backward=True))
    assert "t=4 is right" not in message and "t=3..4 are right; going back in time, t=2" in message
    message = str(fail(checks.check_close, expected + 1e-3 * np.eye(5)[4], expected, name="g", dims="T",
                       backward=True))
    assert "already the last time step t=4" in message
    # Forward quantities are unchanged.
    assert "already the first time step t=0 is wrong" in str(fail(checks.check_close, grown, expected,
                                                                   name="h", dims="T"))


def test_reversed_along_t_is_diagnosed_and_replaces_the_hint():
    expected = np.linspace(-1.0, 1.0, 24).reshape(2, 3, 4)
    exc = fail(checks.check_close, expected[:, ::-1], expected, name="h", dims="NTH", hint="feed h forward")
    assert "received = expected reversed along T (time)." in str(exc)
    assert exc.diagnosis == checks.REVERSED_IN_TIME and "feed h forward" not in str(exc)
    exc = fail(checks.check_close, expected[::-1], expected, name="h", dims="NTH", hint="feed h forward")
    assert "reversed" not in str(exc) and exc.diagnosis == "feed h forward"


def test_check_scalar_names_a_known_mistake():
    mistakes = {"padded steps still counted in the sum": 2.0, "divided by N*T": 0.5}
    exc = fail(checks.check_scalar, 2.0, 1.0, name="J", hint="generic", mistakes=mistakes)
    assert "received = what this mistake gives: padded steps still counted in the sum." in str(exc)
    assert exc.diagnosis == "padded steps still counted in the sum"
    assert fail(checks.check_scalar, 3.0, 1.0, name="J", hint="generic", mistakes=mistakes).diagnosis == "generic"
    assert checks.check_scalar(1.0, 1.0, name="J", mistakes=mistakes) == 1.0
    with pytest.raises(TypeError, match="mistakes"):
        checks.check_scalar(1.0, 1.0, name="J", mistakes={"x": "a"})


def test_check_int_names_a_known_mistake():
    mistakes = {"the recurrent kernel Wh (H, H) is not counted": 31}
    exc = fail(checks.check_int, 31, 40, name="count", hint="generic", mistakes=mistakes)
    assert "count is 31; expected 40.\n  received = what this mistake gives: the recurrent kernel" in str(exc)
    assert exc.diagnosis == "the recurrent kernel Wh (H, H) is not counted"
    assert fail(checks.check_int, 37, 40, name="count", hint="generic", mistakes=mistakes).diagnosis == "generic"
    assert checks.check_int(40, 40, name="count", mistakes=mistakes) == 40
    with pytest.raises(TypeError, match="mistakes"):
        checks.check_int(40, 40, name="count", mistakes={"x": 3.0})


def test_check_raises_hint_when_nothing_is_raised():
    def accepts_everything(t):
        return t

    exc = fail(checks.check_raises, accepts_everything, -1, name="f(-1)", hint="negative values must raise too")
    assert str(exc) == ("f(-1) returned without raising; expected ValueError for this input.\n"
                        "Hint: negative values must raise too")
    assert exc.diagnosis == "negative values must raise too"
