"""checks.check_gradient, checks.check_true and the known mistakes of checks.check_close."""

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
    assert message.endswith("Hint: slices i, f, c, o")


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
