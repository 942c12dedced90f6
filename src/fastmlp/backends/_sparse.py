"""The non-zeros of an input matrix, for the native epochs' sparse layer 1 (cpp and numba).

MNIST pixels are 81% zeros. Layer 1's forward GEMM ``x @ W`` and its weight gradient ``x^T dz``
then do 5x less arithmetic when x is walked as compressed rows (CSR) instead of as a dense matrix.
The structure is built once per dataset (``sparse_rows``) and cached per x array, and the native
epochs choose it automatically when under ``SPARSE_DENSITY`` of x is non-zero.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._memory import aligned
from . import _checks

# Below this fraction of non-zero inputs layer 1 runs over the non-zeros (measured on MNIST, 19%
# non-zeros: the sparse epoch is several times faster; the sparse kernels do about 2x the work per
# non-zero of a dense GEMM, so the break-even lies near 50%).
SPARSE_DENSITY = 0.4


@dataclass(frozen=True, eq=False)
class SparseRows:
    """The non-zeros of x (N, D) in compressed-row (CSR) form, built once per dataset by sparse_rows.

    Row n holds values[k] at column indices[k] for k in [indptr[n], indptr[n+1]), columns ascending.
    indptr (N + 1,) int64, indices (nnz,) int32, values (nnz,) of x's dtype, column_nnz (D,) int64
    (non-zeros per column, used to balance threads), density = nnz / (N * D).
    """

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    column_nnz: np.ndarray
    density: float

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, indices, values, column_nnz), the form the compiled epochs take."""
        return self.indptr, self.indices, self.values, self.column_nnz


def sparse_rows(x: Any) -> SparseRows:
    """The CSR of x (N, D), float32 or float64: pass it as ``x_sparse=`` for that same x."""
    x = _checks.float_array("x", x, 2)
    mask = x != 0
    indptr = np.zeros(x.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.count_nonzero(mask, axis=1), out=indptr[1:])
    indices = np.nonzero(mask)[1].astype(np.int32)
    values = np.ascontiguousarray(x[mask])
    column_nnz = np.count_nonzero(mask, axis=0).astype(np.int64)
    density = float(indptr[-1]) / max(1, x.size)
    # aligned once here, so that the cpp backend never copies them per call (fastmlp._memory)
    return SparseRows(
        (int(x.shape[0]), int(x.shape[1])),
        aligned(indptr), aligned(indices), aligned(values), aligned(column_nnz), density,
    )  # fmt: skip


# x arrays seen by the native epochs -> their CSR (or None when dense), so the structure is built
# once per dataset, not once per epoch. Keyed by id(x); the weak reference drops the entry with x.
# x must not be modified in place between calls (pass sparse=False or a fresh x_sparse if it is).
_cache: dict[int, tuple[weakref.ref[np.ndarray], int, SparseRows | None]] = {}


def _cached_sparse_rows(x: np.ndarray, force: bool) -> SparseRows | None:
    key = id(x)
    entry = _cache.get(key)
    address = x.__array_interface__["data"][0]
    if entry is not None and entry[0]() is x and entry[1] == address and (entry[2] is not None or not force):
        return entry[2]
    if force:
        found: SparseRows | None = sparse_rows(x)
    else:
        density = np.count_nonzero(x) / max(1, x.size)
        found = sparse_rows(x) if density < SPARSE_DENSITY else None

    def forget(_: weakref.ref[np.ndarray]) -> None:
        _cache.pop(key, None)

    _cache[key] = (weakref.ref(x, forget), address, found)
    return found


def choose(x: np.ndarray, sparse: bool | None, x_sparse: SparseRows | None) -> SparseRows | None:
    """The CSR layer 1 should run over for the validated x, or None for the dense path.

    ``sparse``: True forces the sparse path, False the dense one, None decides by density.
    ``x_sparse``: a prebuilt ``sparse_rows(x)``; otherwise the structure is built and cached.
    """
    if sparse is not None and not isinstance(sparse, bool):
        raise TypeError(f"sparse must be True, False or None, got {sparse!r}")
    if x_sparse is not None:
        if not isinstance(x_sparse, SparseRows):
            raise TypeError("x_sparse must come from sparse_rows(x)")
        if x_sparse.shape != x.shape or x_sparse.values.dtype != x.dtype:
            raise ValueError(
                f"x_sparse describes a {x_sparse.shape} {x_sparse.values.dtype} array, x is {x.shape} {x.dtype}"
            )
    if sparse is False:
        return None
    if x_sparse is None:
        return _cached_sparse_rows(x, force=sparse is True)
    if sparse is None and x_sparse.density >= SPARSE_DENSITY:
        return None
    return x_sparse
