"""Extreme but finite inputs: no overflow warnings (pytest turns warnings into errors), correct
limits, finite losses. Every backend."""

from __future__ import annotations

import numpy as np


def test_sigmoid_limits_without_warnings(backend, dtype):
    z = np.array([[-1e4, -710, -88, -20, 0, 20, 88, 710, 1e4]], dtype=dtype)
    a = backend.sigmoid_forward(z)
    assert np.all(np.isfinite(a))
    assert np.all((a >= 0) & (a <= 1))
    assert a[0, 4] == 0.5
    assert a[0, 0] == 0.0
    assert 0.0 <= float(a[0, 1]) < 1e-300  # exp(-710) is subnormal in float64, 0 in float32
    np.testing.assert_array_equal(a[0, [-1, -2, -3]], 1.0)
    assert 0 < a[0, 3] < 1e-8  # sigmoid(-20) = 2.06e-9 is representable in both dtypes
    np.testing.assert_allclose(a[0, 3], 1 / (1 + np.exp(20.0)), rtol=1e-6)


def test_softmax_of_huge_scores(backend, dtype):
    scores = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype=dtype)
    probs = backend.softmax_forward(scores)
    expected = np.array([[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], dtype=dtype)
    np.testing.assert_allclose(probs, expected, rtol=1e-6, atol=1e-30)
    loss, fused_probs = backend.softmax_cross_entropy(scores, np.array([1, 0, 2]))
    # Row losses by log-sum-exp by hand: 2e4, log 3, 2e4 + log 2.
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, (2e4 + np.log(3) + 2e4 + np.log(2)) / 3, rtol=1e-6)
    np.testing.assert_allclose(fused_probs, expected, rtol=1e-6, atol=1e-30)


def test_cross_entropy_finite_when_a_probability_underflows(backend, dtype):
    probs = np.array([[1.0, 0.0], [0.5, 0.5]], dtype=dtype)
    loss = backend.cross_entropy_forward(probs, np.array([1, 0]))
    tiny = np.finfo(dtype).tiny  # the documented clamp
    np.testing.assert_allclose(loss, (-np.log(tiny) + np.log(2)) / 2, rtol=1e-6)


def test_tanh_over_its_whole_range(backend, dtype):
    """Every magnitude from subnormal to overflow, both signs, and the points where the kernels
    switch formula (numba's float32 series below 1/16): within 8 units in the last place of the
    float64 value (computed as float64's tanh, then rounded), -0.0 kept, +-1 at the infinities, NaN
    through. The bound: Eigen's rational float tanh (cpp) reaches 5 ulp near saturation built with
    FMA and 7 for x86-64-v2 (2 million values from 1e-40 to 100), numba's 3, NumPy's 1; a formula
    that cancels near 0 is off by millions."""
    magnitudes = np.concatenate(
        [
            np.logspace(-40 if dtype == np.float32 else -300, 2, 400),
            [0.0625, np.nextafter(0.0625, 0), 9.0, 20.0],
        ]
    ).astype(dtype)
    z = np.concatenate([magnitudes, -magnitudes])[None, :]
    a = backend.tanh_forward(z)
    exact = np.tanh(z.astype(np.float64)).astype(dtype)
    ulp = np.spacing(np.abs(exact)).astype(np.float64)
    assert np.all(np.abs(a.astype(np.float64) - exact) <= 8 * ulp)
    special = backend.tanh_forward(np.array([[-0.0, np.inf, -np.inf, np.nan]], dtype=dtype))
    assert np.signbit(special[0, 0]) and special[0, 0] == 0
    np.testing.assert_array_equal(special[0, 1:3], [1.0, -1.0])
    assert np.isnan(special[0, 3])
