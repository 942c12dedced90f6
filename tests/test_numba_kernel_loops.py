"""The float32 exp of the numba sigmoid (``numba_backend._kernel_loops``) against exp in float64."""

from __future__ import annotations

import numpy as np
from numba import njit

from fastmlp.backends.numba_backend import _kernel_loops


@njit(cache=False)
def _exp_each(x, out):
    for i in range(x.shape[0]):
        out[i] = _kernel_loops._exp_nonpositive_f32(x[i])


def _exp(x: np.ndarray) -> np.ndarray:
    out = np.full_like(x, -1.0)
    _exp_each(x, out)
    return out


def test_exp_is_within_two_ulp_down_to_the_smallest_normal():
    log_tiny = np.log(np.finfo(np.float32).tiny)
    x = np.linspace(log_tiny, 0.0, 200_001, dtype=np.float32)
    x = x[x >= log_tiny]  # the float32 rounding of the end point may fall below it
    exact = np.exp(x.astype(np.float64))
    ulps = np.abs(_exp(x) - exact) / np.spacing(exact.astype(np.float32))
    assert ulps.max() <= 2.0


def test_exp_limits():
    x = np.array([0.0, -0.0, -88.0, -104.0, -1e4, -np.inf, np.nan], dtype=np.float32)
    e = _exp(x)
    assert e[0] == 1.0 and e[1] == 1.0
    np.testing.assert_array_equal(e[2:6], 0.0)  # subnormal or smaller results are flushed to 0
    assert np.isnan(e[6])
