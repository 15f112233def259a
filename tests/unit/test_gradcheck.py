"""Unit tests for rnn_course.gradcheck: numerical gradients against known analytic ones."""

import numpy as np
import pytest

from rnn_course import gradcheck
from rnn_course.gradcheck import numerical_gradient, numerical_gradient_array, rel_error


@pytest.fixture
def x():
    """A (3, 4) float64 array in [-1, 1] with no zeros (so relative errors are well defined)."""
    return np.linspace(-1.0, 1.0, 12).reshape(3, 4)


def test_thresholds_are_ordered():
    assert 0 < gradcheck.GOOD < gradcheck.WRONG < 1


# --- numerical_gradient -----------------------------------------------------------------------


def test_numerical_gradient_of_sum_of_squares(x):
    grad = numerical_gradient(lambda v: float(np.sum(v**2)), x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    assert rel_error(grad, 2 * x) < 1e-8


def test_numerical_gradient_of_sin(x):
    grad = numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    assert rel_error(grad, np.cos(x)) < 1e-8


def test_numerical_gradient_of_a_matrix_product(x):
    B = np.linspace(-0.5, 1.5, 20).reshape(4, 5)
    C = np.cos(np.arange(15.0)).reshape(3, 5)
    grad = numerical_gradient(lambda A: float(np.sum((A @ B) * C)), x)
    assert rel_error(grad, C @ B.T) < 1e-8


def test_numerical_gradient_of_a_scalar_input():
    grad = numerical_gradient(lambda v: float(v**3), np.array(2.0))
    assert grad.shape == () and rel_error(grad, 12.0) < 1e-8


def test_numerical_gradient_accepts_a_numpy_scalar_from_f():
    x = np.array([1.0, -2.0])
    grad = numerical_gradient(lambda v: np.sum(v**2), x)
    assert rel_error(grad, 2 * x) < 1e-8


def test_numerical_gradient_restores_x(x):
    before = x.copy()
    numerical_gradient(lambda v: float(np.sum(np.exp(v))), x, h=1e-3)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_lets_f_close_over_x(x):
    """f may ignore its argument and read x from the enclosing scope: x is changed in place."""
    grad = numerical_gradient(lambda _: float(np.sum(x**2)), x)
    assert rel_error(grad, 2 * x) < 1e-8


def test_numerical_gradient_uses_h():
    # for f(x) = x**3 the centred difference is 3x**2 + h**2 exactly
    x = np.array([1.0])
    grad = numerical_gradient(lambda v: float(v[0] ** 3), x, h=0.1)
    assert grad[0] == pytest.approx(3.0 + 0.01, rel=1e-12)


def test_numerical_gradient_works_on_a_non_contiguous_view():
    base = np.arange(1.0, 13.0).reshape(3, 4)
    view = base.T
    grad = numerical_gradient(lambda v: float(np.sum(v * np.arange(3.0))), view)
    np.testing.assert_allclose(grad, np.broadcast_to(np.arange(3.0), (4, 3)), atol=1e-9)


@pytest.mark.parametrize(
    "bad",
    [np.ones(3, dtype=np.float32), np.ones(3, dtype=np.int64), [1.0, 2.0], 1.0],
    ids=["float32", "int64", "list", "float"],
)
def test_numerical_gradient_rejects_non_float64_arrays(bad):
    with pytest.raises(TypeError, match="x must"):
        numerical_gradient(lambda v: float(np.sum(v)), bad)


@pytest.mark.parametrize("h", [0.0, -1e-5, float("nan")])
def test_numerical_gradient_rejects_non_positive_h(x, h):
    with pytest.raises(ValueError, match="h must be positive"):
        numerical_gradient(lambda v: float(np.sum(v)), x, h=h)


def test_numerical_gradient_of_an_empty_array():
    grad = numerical_gradient(lambda v: float(np.sum(v)), np.zeros((0, 3)))
    assert grad.shape == (0, 3)


# --- numerical_gradient_array -----------------------------------------------------------------


def test_numerical_gradient_array_of_a_matrix_product(x):
    W = np.linspace(-1.0, 2.0, 20).reshape(4, 5)
    G = np.sin(np.arange(15.0)).reshape(3, 5)
    dx = numerical_gradient_array(lambda v: v @ W, x, G)
    assert dx.shape == x.shape
    assert rel_error(dx, G @ W.T) < 1e-8


def test_numerical_gradient_array_of_tanh(x):
    G = np.cos(np.arange(12.0)).reshape(3, 4)
    dx = numerical_gradient_array(np.tanh, x, G)
    assert rel_error(dx, G * (1 - np.tanh(x) ** 2)) < 1e-8


def test_numerical_gradient_array_restores_x(x):
    before = x.copy()
    numerical_gradient_array(np.exp, x, np.ones_like(x))
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_array_shape_mismatch(x):
    W = np.ones((4, 5))
    with pytest.raises(ValueError, match=r"upstream must have the shape of f\(x\), \(3, 5\)"):
        numerical_gradient_array(lambda v: v @ W, x, np.ones((5, 3)))


def test_numerical_gradient_array_rejects_float32_upstream(x):
    with pytest.raises(TypeError, match="upstream"):
        numerical_gradient_array(np.tanh, x, np.ones(x.shape, dtype=np.float32))


def test_numerical_gradient_array_rejects_float32_x(x):
    with pytest.raises(TypeError, match="x must"):
        numerical_gradient_array(np.tanh, x.astype(np.float32), np.ones_like(x))


def test_numerical_gradient_array_rejects_a_list_x_first():
    with pytest.raises(TypeError, match="x must"):
        numerical_gradient_array(lambda v: v * 2, [1.0, 2.0], np.ones(2))


# --- rel_error --------------------------------------------------------------------------------


def test_rel_error_of_equal_arrays_is_zero(x):
    assert rel_error(x, x.copy()) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_rel_error_known_values():
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)
    assert rel_error(1.0, -1.0) == pytest.approx(1.0)  # opposite signs: the largest possible
    # the largest over entries: 0.2 / 4.2 beats 0.01 / 2.01
    assert rel_error([1.0, 2.0], [1.01, 2.2]) == pytest.approx(0.2 / 4.2)
    # near zero the denominator is floored at 1e-8
    assert rel_error(0.0, 1e-9) == pytest.approx(0.1)


def test_rel_error_is_symmetric(x):
    y = x + np.sin(x) * 1e-3
    assert rel_error(x, y) == rel_error(y, x)
    assert rel_error(x, y) > 0


def test_rel_error_returns_a_python_float():
    assert type(rel_error(np.ones(2), np.ones(2))) is float


def test_rel_error_of_empty_arrays_is_zero():
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_rel_error_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.ones((2, 3)), np.ones((3, 2)))


# --- the thresholds separate right from wrong gradients ---------------------------------------


def test_right_gradient_is_good_and_wrong_gradients_are_wrong(x):
    grad = numerical_gradient(lambda v: float(np.sum(v**2)), x)
    assert rel_error(grad, 2 * x) < gradcheck.GOOD
    assert rel_error(grad, x) > gradcheck.WRONG  # missing the factor 2
    assert rel_error(grad, -2 * x) > gradcheck.WRONG  # sign flipped


def test_wrong_vector_jacobian_product_is_wrong(x):
    W = np.linspace(-1.0, 2.0, 20).reshape(4, 5)
    G = np.sin(np.arange(15.0)).reshape(3, 5)
    dx = numerical_gradient_array(lambda v: v @ W, x, G)
    assert rel_error(dx, G @ W.T) < gradcheck.GOOD
    assert rel_error(dx, G @ np.ones_like(W).T) > gradcheck.WRONG  # W forgotten
