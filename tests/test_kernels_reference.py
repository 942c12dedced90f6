"""The NumPy reference checked against mathematics, independent of any other backend:
central finite differences for every backward kernel (float64), and two facts from the course's
theory part about softmax."""

from __future__ import annotations

import numpy as np
import pytest

import fastmlp

ref = fastmlp.get_backend("numpy")
EPS = 1e-6


def numerical_gradient(f, x, dout):
    """d/dx of sum(f(x) * dout) by central differences, one element at a time."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + EPS
        plus = np.sum(f(x) * dout)
        x[index] = saved - EPS
        minus = np.sum(f(x) * dout)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * EPS)
    return grad


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def test_affine_backward_by_finite_differences(rng):
    x, w, b = rng.standard_normal((5, 7)), rng.standard_normal((7, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((5, 3))
    dx, dw, db = ref.affine_backward(dout, x, w)
    np.testing.assert_allclose(
        dx, numerical_gradient(lambda v: ref.affine_forward(v, w, b), x, dout), rtol=1e-7, atol=1e-8
    )
    np.testing.assert_allclose(
        dw, numerical_gradient(lambda v: ref.affine_forward(x, v, b), w, dout), rtol=1e-7, atol=1e-8
    )
    np.testing.assert_allclose(
        db, numerical_gradient(lambda v: ref.affine_forward(x, w, v), b, dout), rtol=1e-7, atol=1e-8
    )


def test_relu_backward_by_finite_differences(rng):
    z = rng.standard_normal((4, 6))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from the kink, where the derivative is undefined
    dout = rng.standard_normal(z.shape)
    expected = numerical_gradient(ref.relu_forward, z, dout)
    np.testing.assert_allclose(ref.relu_backward(dout, z), expected, rtol=1e-7, atol=1e-8)


def test_sigmoid_backward_by_finite_differences(rng):
    z = 3 * rng.standard_normal((4, 6))
    dout = rng.standard_normal(z.shape)
    expected = numerical_gradient(ref.sigmoid_forward, z, dout)
    np.testing.assert_allclose(
        ref.sigmoid_backward(dout, ref.sigmoid_forward(z)), expected, rtol=1e-6, atol=1e-9
    )


def test_softmax_backward_by_finite_differences(rng):
    scores = 2 * rng.standard_normal((4, 5))
    dprobs = rng.standard_normal(scores.shape)
    expected = numerical_gradient(ref.softmax_forward, scores, dprobs)
    got = ref.softmax_backward(dprobs, ref.softmax_forward(scores))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


def test_softmax_cross_entropy_backward_by_finite_differences(rng):
    scores = 2 * rng.standard_normal((6, 4))
    y = rng.integers(0, 4, 6)
    expected = numerical_gradient(
        lambda s: np.array(ref.softmax_cross_entropy(s, y)[0]), scores, np.array(1.0)
    )
    _, probs = ref.softmax_cross_entropy(scores, y)
    np.testing.assert_allclose(ref.softmax_cross_entropy_backward(probs, y), expected, rtol=1e-6, atol=1e-9)


def test_fused_loss_equals_softmax_then_cross_entropy(rng):
    scores = 2 * rng.standard_normal((6, 4))
    y = rng.integers(0, 4, 6)
    loss, probs = ref.softmax_cross_entropy(scores, y)
    assert loss == pytest.approx(ref.cross_entropy_forward(ref.softmax_forward(scores), y), rel=1e-12)
    # Independent: -log of the softmax written out by hand for each row.
    by_hand = np.mean(
        [np.log(np.sum(np.exp(row))) - row[label] for row, label in zip(scores, y, strict=True)]
    )
    assert loss == pytest.approx(by_hand, rel=1e-12)
    np.testing.assert_allclose(probs, ref.softmax_forward(scores), rtol=1e-14)


# --- theory facts -------------------------------------------------------------------------


def test_softmax_jacobian_is_diag_s_minus_s_s_transposed(rng):
    scores = rng.standard_normal((1, 6))
    s = ref.softmax_forward(scores)[0]
    formula = np.diag(s) - np.outer(s, s)
    # Jacobian assembled row by row from the vector-Jacobian product with unit vectors.
    from_vjp = np.array([ref.softmax_backward(np.eye(6)[i : i + 1], s[None, :])[0] for i in range(6)])
    np.testing.assert_allclose(from_vjp, formula, rtol=1e-12, atol=1e-15)
    # Jacobian by central finite differences: column j is d softmax / d score_j.
    by_differences = np.empty((6, 6))
    for j in range(6):
        step = np.zeros((1, 6))
        step[0, j] = EPS
        by_differences[:, j] = (
            ref.softmax_forward(scores + step)[0] - ref.softmax_forward(scores - step)[0]
        ) / (2 * EPS)
    np.testing.assert_allclose(by_differences, formula, rtol=1e-6, atol=1e-9)


def _objective(x, y):
    """x . y + H(y), with H the Shannon entropy (0 log 0 = 0)."""
    positive = y > 0
    return float(x @ y - np.sum(y[positive] * np.log(y[positive])))


def test_softmax_maximises_linear_plus_entropy_over_the_simplex(rng):
    x = 2 * rng.standard_normal(7)
    s = ref.softmax_forward(x[None, :])[0]
    best = _objective(x, s)
    # The maximum value is log-sum-exp(x): an identity derived independently of softmax_forward.
    assert best == pytest.approx(np.log(np.sum(np.exp(x))), rel=1e-12)
    for y in rng.dirichlet(np.ones(7), size=2000):
        assert _objective(x, y) <= best + 1e-12
    # Stationarity on the simplex: log y_i - x_i is the same for every i.
    gap = np.log(s) - x
    np.testing.assert_allclose(gap, np.full(7, gap[0]), atol=1e-12)
