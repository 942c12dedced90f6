"""Property-based parity: random shapes and values, every backend against the reference."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tolerances import assert_close

dims = st.integers(min_value=1, max_value=40)
dtypes = st.sampled_from([np.float32, np.float64])
finite = {"allow_nan": False, "allow_infinity": False, "min_value": -50, "max_value": 50, "width": 32}


@st.composite
def affine_case(draw):
    n, d, m = draw(dims), draw(dims), draw(dims)
    dtype = draw(dtypes)
    x = draw(arrays(dtype, (n, d), elements=st.floats(**finite)))
    w = draw(arrays(dtype, (d, m), elements=st.floats(**finite)))
    b = draw(arrays(dtype, (m,), elements=st.floats(**finite)))
    dout = draw(arrays(dtype, (n, m), elements=st.floats(**finite)))
    return x, w, b, dout


@st.composite
def scores_case(draw):
    n, c = draw(dims), draw(st.integers(min_value=1, max_value=12))
    dtype = draw(dtypes)
    scores = draw(arrays(dtype, (n, c), elements=st.floats(**finite)))
    y = draw(arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return scores, y


def _scale(*arrays_):
    # A sum of k products of values up to 50 carries rounding proportional to its magnitude.
    return max(1.0, max(float(np.abs(a).max()) for a in arrays_) ** 2 * max(a.shape[-1] for a in arrays_))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=affine_case())
def test_affine_parity(backend, reference, case):
    x, w, b, dout = case
    assert_close(backend.affine_forward(x, w, b), reference.affine_forward(x, w, b), scale=_scale(x, w))
    for got, want in zip(
        backend.affine_backward(dout, x, w), reference.affine_backward(dout, x, w), strict=True
    ):
        assert_close(got, want, scale=_scale(dout, x, w) * x.shape[0])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=scores_case())
def test_activation_and_softmax_parity(backend, reference, case):
    scores, y = case
    for name in ("relu_forward", "sigmoid_forward", "softmax_forward"):
        assert_close(getattr(backend, name)(scores), getattr(reference, name)(scores))
    probs = reference.softmax_forward(scores)
    assert_close(backend.softmax_backward(scores, probs), reference.softmax_backward(scores, probs), scale=50)
    loss, p = backend.softmax_cross_entropy(scores, y)
    ref_loss, ref_p = reference.softmax_cross_entropy(scores, y)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5, atol=1e-5)
    assert_close(p, ref_p)
    assert_close(backend.softmax_cross_entropy_backward(p, y), reference.softmax_cross_entropy_backward(p, y))
    assert backend.accuracy(scores, y) == reference.accuracy(scores, y)
