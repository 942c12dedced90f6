"""The C++ backend's GEMMs (cpp/gemm.cpp) against NumPy at edge shapes, and their operation order.

forward = x w (gemm_nn), dW = x^T dout (gemm_tn), dX = dout w^T (gemm_nt), through the public
affine kernels. Shapes straddle the micro-kernel's tiles (rows 8 / 12 / 24 x columns 16 / 32 / 48
floats with AVX-512, 6 / 12 x 8 / 16 with AVX2), its k block (256 floats, 128 doubles) and its
column block (1008 floats), and include 1 and odd sizes. The bound is the textbook one for a sum of
K products in any order, |error| <= K eps (|a| |b|)_ij (Higham, Accuracy and Stability, 3.5): a
wrong product or a lost term breaks it by far more.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastmlp
from fastmlp.backends.cpp_backend import BACKEND as cpp

# (N, K, M): N rows of the output, K summed, M columns.
SHAPES = [
    (1, 1, 1),
    (1, 784, 10),
    (7, 13, 5),
    (8, 300, 48),
    (17, 257, 33),
    (25, 129, 17),
    (33, 1, 97),
    (64, 784, 128),
    (100, 520, 10),
    (9, 70, 1030),
    (256, 1024, 10),
]


def _bound(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    eps = np.finfo(a.dtype).eps
    k = a.shape[1]
    return k * eps * (np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64))) + np.finfo(a.dtype).tiny


def _check(actual: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    exact = a.astype(np.float64) @ b.astype(np.float64)
    error = np.abs(actual.astype(np.float64) - exact)
    bound = _bound(a, b)
    worst = np.unravel_index(np.argmax(error - bound), error.shape)
    assert np.all(error <= bound), f"error {error[worst]:.3g} > bound {bound[worst]:.3g} at {worst}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n", "k", "m"), SHAPES)
def test_gemms_match_numpy_within_the_summation_bound(n, k, m, dtype):
    rng = np.random.default_rng(n * 1_000_003 + k * 1009 + m)
    x = rng.standard_normal((n, k)).astype(dtype)  # forward: x (N, K) @ w (K, M)
    w = rng.standard_normal((k, m)).astype(dtype)
    dout = rng.standard_normal((n, m)).astype(dtype)
    x_before, w_before, dout_before = x.copy(), w.copy(), dout.copy()
    out = cpp.affine_forward(x, w, None)
    _check(out, x, w)
    dx, dw, _ = cpp.affine_backward(dout, x, w, need_dx=True, has_bias=False)
    assert dx is not None
    _check(dw, x.T, dout)  # dW = x^T dout: (K, N) @ (N, M)
    _check(dx, dout, w.T)  # dX = dout w^T: (N, M) @ (M, K)
    for after, before in ((x, x_before), (w, w_before), (dout, dout_before)):
        np.testing.assert_array_equal(after, before)


def _own_gemm() -> bool:
    return str(fastmlp.build_info().get("gemm", "")).startswith("fastmlp")


@pytest.mark.skipif(not _own_gemm(), reason="the order holds for fastmlp's GEMM (this build uses Eigen's)")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_row_gets_the_same_bits_in_any_block_of_rows(dtype, threads):
    # What the native epoch relies on to give the same bits at any thread count: a row of the output
    # (forward, dX) or of dW does not depend on which rows are computed with it.
    rng = np.random.default_rng(5)
    n, k, m = 50, 300, 70
    x = rng.standard_normal((n, k)).astype(dtype)
    w = rng.standard_normal((k, m)).astype(dtype)
    dout = rng.standard_normal((n, m)).astype(dtype)
    with fastmlp.threads.thread_budget(threads):
        whole = cpp.affine_forward(x, w, None)
        dx, dw, _ = cpp.affine_backward(dout, x, w, need_dx=True, has_bias=False)
        for start, stop in ((0, 1), (0, 16), (16, 50), (7, 8), (49, 50), (3, 40)):
            np.testing.assert_array_equal(cpp.affine_forward(x[start:stop], w, None), whole[start:stop])
            part_dx, _, _ = cpp.affine_backward(
                dout[start:stop], x[start:stop], w, need_dx=True, has_bias=False
            )
            assert part_dx is not None and dx is not None
            np.testing.assert_array_equal(part_dx, dx[start:stop])
            # dW's rows are x's columns: the same rows of dW from a block of x's columns
            _, part_dw, _ = cpp.affine_backward(
                dout, np.ascontiguousarray(x[:, start:stop]), w[start:stop], False, False
            )
            np.testing.assert_array_equal(part_dw, dw[start:stop])
