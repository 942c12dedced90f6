"""GEMM for compiled Numba code, through the very OpenBLAS that NumPy ships with.

Numba's own ``np.dot`` needs SciPy (it calls ``scipy.linalg.cython_blas``), which fastmlp does not
depend on, and it would bring a second BLAS with a second thread pool. Instead we declare NumPy's
bundled ``scipy_cblas_{s,d}gemm64_`` as an external symbol: the compiled code links to it by name,
so ``cache=True`` still works (a ctypes pointer would make the functions uncachable), and
``threadpoolctl`` limits the one BLAS pool that both the numpy and the numba backends use.
If NumPy was built against another BLAS (MKL, Accelerate, ...), ``gemm`` falls back to plain loops
ordered so that the inner loop is contiguous and vectorises; ``HAVE_BLAS`` says which one is live.

All arrays passed to ``gemm`` must be C-contiguous (the callers only pass validated arrays or leading
rows of C-contiguous buffers).
"""

from __future__ import annotations

import ctypes
from typing import Any

import llvmlite.binding as llvm
import numpy as np
from numba import njit, types
from threadpoolctl import threadpool_info

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _find_numpy_openblas() -> tuple[str, str] | None:
    """(library path, symbol prefix) of NumPy's ILP64 OpenBLAS, or None."""
    for info in threadpool_info():
        path = info.get("filepath", "")
        if info.get("internal_api") != "openblas" or "scipy_openblas64" not in path:
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(lib, "scipy_cblas_sgemm64_") and hasattr(lib, "scipy_cblas_dgemm64_"):
            return path, "scipy_cblas_"
    return None


_found = _find_numpy_openblas()
HAVE_BLAS = _found is not None


def _declare(name: str, scalar: Any) -> Any:
    i64, ptr = types.int64, types.uintp
    signature = types.void(
        types.int32, types.int32, types.int32, i64, i64, i64, scalar, ptr, i64, ptr, i64, scalar, ptr, i64
    )
    return types.ExternalFunction(name, signature)


if _found is not None:
    llvm.load_library_permanently(_found[0])
    _sgemm = _declare(_found[1] + "sgemm64_", types.float32)
    _dgemm = _declare(_found[1] + "dgemm64_", types.float64)

    @njit(cache=True)
    def gemm(trans_a: bool, trans_b: bool, a: Any, b: Any, c: Any) -> None:
        """c = op(a) @ op(b), op = transpose if trans_*; c (M, N), op(a) (M, K), op(b) (K, N)."""
        M, N = c.shape
        K = a.shape[0] if trans_a else a.shape[1]
        ta = _TRANS if trans_a else _NO_TRANS
        tb = _TRANS if trans_b else _NO_TRANS
        lda, ldb = a.shape[1], b.shape[1]
        if c.itemsize == 4:
            _sgemm(_ROW_MAJOR, ta, tb, M, N, K, np.float32(1.0), a.ctypes.data, lda,
                   b.ctypes.data, ldb, np.float32(0.0), c.ctypes.data, N)  # fmt: skip
        else:
            _dgemm(_ROW_MAJOR, ta, tb, M, N, K, 1.0, a.ctypes.data, lda,
                   b.ctypes.data, ldb, 0.0, c.ctypes.data, N)  # fmt: skip

else:

    @njit(cache=True)
    def gemm(trans_a: bool, trans_b: bool, a: Any, b: Any, c: Any) -> None:
        """c = op(a) @ op(b) by loops (no usable BLAS found); same contract as the BLAS version."""
        M, N = c.shape
        K = a.shape[0] if trans_a else a.shape[1]
        c[:, :] = 0
        for i in range(M):
            for k in range(K):
                a_ik = a[k, i] if trans_a else a[i, k]
                if trans_b:
                    for j in range(N):
                        c[i, j] += a_ik * b[j, k]
                else:
                    for j in range(N):
                        c[i, j] += a_ik * b[k, j]
