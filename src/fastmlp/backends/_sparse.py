"""The non-zeros of an input matrix, for the native epochs' sparse layer 1 (cpp and numba).

MNIST pixels are 81% zeros. Layer 1's forward GEMM ``x @ W`` and its weight gradient ``x^T dz``
then do 5x less arithmetic when x is walked as compressed rows (CSR) instead of as a dense matrix.
The structure is built once per dataset (``sparse_rows``) and cached per x array, and the native
epochs choose it automatically when under ``SPARSE_DENSITY`` of x is non-zero.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _validate
from .._memory import aligned_empty, aligned_zeros
from ..errors import FastmlpTypeError, FastmlpValueError

# Below this fraction of non-zero inputs layer 1 runs over the non-zeros (measured on MNIST, 19%
# non-zeros: the sparse epoch is several times faster; the sparse kernels do about 2x the work per
# non-zero of a dense GEMM, so the break-even lies near 50%).
SPARSE_DENSITY = 0.4
# Column numbers are stored in 2 bytes; wider inputs take the dense path.
MAX_COLUMNS = 1 << 16


@dataclass(frozen=True, eq=False)
class SparseRows:
    """Where the non-zeros of x (N, D) are, in compressed-row (CSR) form, built by sparse_rows.

    Row n has its non-zeros at columns indices[k] for k in [indptr[n], indptr[n+1]), ascending,
    and their values are values[k]. indptr (N + 1,) int64, indices (nnz,) uint16, values (nnz,) of
    x's dtype or None, column_nnz (D,) int64 (non-zeros per column, used to balance threads),
    density = nnz / (N * D). The native epochs read the compact values instead of x's dense rows
    (4 or 8 bytes per non-zero instead of the cache lines of x around it: the sparse layer 1 was
    bound by streaming x); with values None they read x's rows, the same numbers in the same order,
    so the same bits. The values cost 4 bytes per non-zero in float32, 8 in float64, and the
    2-byte column numbers 2 more, on top of x: the training epoch, run many times, keeps values,
    the evaluation passes (once per epoch, fewer rows) do without (``choose``). Column numbers in
    2 bytes: at most MAX_COLUMNS columns. The arrays are checked once, here, so that compiled code
    can trust every index.
    """

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray | None
    column_nnz: np.ndarray
    density: float

    def __post_init__(self) -> None:
        rows, columns = self.shape
        indptr, indices = self.indptr, self.indices
        for name in ("indptr", "indices", "values", "column_nnz"):
            if not isinstance(getattr(self, name), np.ndarray) and not (
                name == "values" and self.values is None
            ):
                raise FastmlpTypeError(
                    f"{name} must be a numpy.ndarray, got {type(getattr(self, name)).__name__}"
                )
        if indptr.dtype != np.int64 or indptr.shape != (rows + 1,) or indptr[0] != 0:
            raise FastmlpValueError(f"indptr must be int64 of shape ({rows + 1},) starting at 0")
        if columns > MAX_COLUMNS:
            raise FastmlpValueError(f"the sparse path takes at most {MAX_COLUMNS} columns, x has {columns}")
        if indices.dtype != np.uint16 or indices.ndim != 1 or indptr[-1] != indices.shape[0]:
            raise FastmlpValueError("indices must be 1-D uint16 with indptr[-1] entries")
        if np.any(np.diff(indptr) < 0) or (indices.size and indices.max() >= columns):
            raise FastmlpValueError(f"indptr must not decrease and indices must lie in [0, {columns})")
        values = self.values
        if values is not None and (
            values.dtype not in _validate.FLOAT_DTYPES or values.shape != indices.shape
        ):
            raise FastmlpValueError("values must be float32 or float64 with one entry per index")
        if self.column_nnz.dtype != np.int64 or self.column_nnz.shape != (columns,):
            raise FastmlpValueError(f"column_nnz must be int64 of shape ({columns},)")

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """(indptr, indices, values or None, column_nnz), the form the compiled epoch takes."""
        return self.indptr, self.indices, self.values, self.column_nnz


# Rows per step of the NumPy scan: its temporaries (a boolean mask, int64 positions) stay near 3 MB.
_CHUNK_ROWS = 1024


def _compiled_scan() -> Any:
    """The compiled module whose ``count_nonzeros`` / ``compress_rows`` scan x (``_cpp.pyi``), or
    None where the extension is not built (the NumPy scan then gives the same arrays)."""
    if TYPE_CHECKING:
        from .. import _cpp

        return _cpp
    try:
        from .. import _isa

        return _isa.load()
    except ImportError:
        return None


def _count_nonzeros(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """indptr (N + 1,) int64, the running count of x's non-zeros per row from 0, column_nnz (D,)
    int64, the non-zeros per column, and whether every value of x is finite (read in the same
    pass); x (N, D) validated, D <= MAX_COLUMNS. x != 0 is a non-zero."""
    rows, columns = x.shape
    indptr = aligned_zeros(rows + 1, np.int64)
    column_nnz = aligned_zeros(columns, np.int64)
    compiled = _compiled_scan()
    if compiled is not None:  # one pass in C++, about a tenth of the NumPy scan's time on MNIST
        finite = compiled.count_nonzeros(x, indptr, column_nnz)
        return indptr, column_nnz, finite
    finite = True
    for start in range(0, rows, _CHUNK_ROWS):
        chunk = x[start : start + _CHUNK_ROWS]
        mask = chunk != 0
        np.cumsum(np.count_nonzero(mask, axis=1), out=indptr[start + 1 : start + 1 + len(mask)])
        indptr[start + 1 : start + 1 + len(mask)] += indptr[start]
        column_nnz += np.count_nonzero(mask, axis=0)
        finite = finite and bool(np.isfinite(chunk).all())
    return indptr, column_nnz, finite


def column_counts(indices: np.ndarray, columns: int) -> np.ndarray:
    """The non-zeros per column (columns,) int64 of a CSR's column numbers ``indices`` (nnz,) uint16,
    each < columns (else FastmlpValueError): compiled where the extension is built (about a third
    of numpy.bincount's time on MNIST, a share of a short fit on a CSR X), else numpy.bincount."""
    if not isinstance(indices, np.ndarray) or indices.dtype != np.uint16 or indices.ndim != 1:
        raise FastmlpTypeError("indices must be a 1-D numpy.ndarray of uint16 column numbers")
    if not isinstance(columns, int) or isinstance(columns, bool) or not 0 < columns <= MAX_COLUMNS:
        raise FastmlpValueError(f"columns must be an int in [1, {MAX_COLUMNS}], got {columns!r}")
    counts = aligned_zeros(columns, np.int64)
    compiled = _compiled_scan()
    if compiled is not None:
        try:
            compiled.count_columns(np.ascontiguousarray(indices), counts)
        except ValueError as error:
            raise FastmlpValueError(f"indices must lie in [0, {columns})") from error
        return counts
    if indices.size and int(indices.max()) >= columns:
        raise FastmlpValueError(f"indices must lie in [0, {columns})")
    counts[...] = np.bincount(indices, minlength=columns)
    return counts


def _compress_rows(x: np.ndarray, indptr: np.ndarray, values: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The column numbers (nnz,) uint16 of x's non-zeros row by row, ascending, and a copy of their
    values (nnz,) when ``values``; indptr from ``_count_nonzeros(x)``."""
    rows = x.shape[0]
    indices = aligned_empty(int(indptr[-1]), np.uint16)
    copy = aligned_empty(int(indptr[-1]), x.dtype) if values else None
    compiled = _compiled_scan()
    if compiled is not None:
        compiled.compress_rows(x, indptr, indices, copy)
        return indices, copy
    for start in range(0, rows, _CHUNK_ROWS):
        chunk = x[start : start + _CHUNK_ROWS]
        k = slice(indptr[start], indptr[start + len(chunk)])
        found = np.nonzero(chunk)
        indices[k] = found[1]
        if copy is not None:
            copy[k] = chunk[found]
    return indices, copy


def sparse_rows(x: Any, values: bool = True) -> SparseRows:
    """The CSR of x (N, D), float32 or float64: pass it as ``x_sparse=`` for that same x.

    ``values``: keep a compact copy of the non-zero values (faster epochs, 4 or 8 bytes per
    non-zero); False leaves them in x (``SparseRows.values`` None).
    """
    x = _validate.float_array("x", x, 2)
    if not isinstance(values, bool):
        raise FastmlpTypeError(f"values must be True or False, got {values!r}")
    if x.shape[1] > MAX_COLUMNS:
        raise FastmlpValueError(f"the sparse path takes at most {MAX_COLUMNS} columns, x has {x.shape[1]}")
    indptr, column_nnz, _ = _count_nonzeros(x)
    return _compress(x, indptr, column_nnz, values)


def _compress(x: np.ndarray, indptr: np.ndarray, column_nnz: np.ndarray, values: bool) -> SparseRows:
    indices, copy = _compress_rows(x, indptr, values)
    density = float(indptr[-1]) / max(1, x.size)
    return SparseRows((int(x.shape[0]), int(x.shape[1])), indptr, indices, copy, column_nnz, density)


# x arrays seen by the native epochs -> their CSR (or None when dense), so the structure is built
# once per dataset, not once per epoch. Keyed by id(x); the weak reference drops the entry with x.
# x must not be modified in place between calls: the native epochs read the values cached here,
# not x (pass sparse=False or a fresh x_sparse if it is). The last item: whether x's values are all
# finite, where the count found out (None where no count was made here).
_cache: dict[int, tuple[weakref.ref[np.ndarray], int, SparseRows | None, bool | None]] = {}


def _cached_sparse_rows(x: np.ndarray, force: bool, values: bool) -> SparseRows | None:
    """A cached structure without values serves where values are not needed; one with values
    serves both (an x evaluated and then trained on gets its values then, and keeps them)."""
    key = id(x)
    entry = _cache.get(key)
    address = x.__array_interface__["data"][0]
    if entry is not None and entry[0]() is x and entry[1] == address:
        found = entry[2]
        if found is None and not force:
            return None
        if found is not None and (found.values is not None or not values):
            return found
    finite = None
    if force:
        found = sparse_rows(x, values)
    elif x.shape[1] > MAX_COLUMNS:
        found = None
    else:  # the count that measures the density is the structure's first pass
        indptr, column_nnz, finite = _count_nonzeros(x)
        density = float(indptr[-1]) / max(1, x.size)
        found = _compress(x, indptr, column_nnz, values) if density < SPARSE_DENSITY else None

    def forget(_: weakref.ref[np.ndarray]) -> None:
        _cache.pop(key, None)

    _cache[key] = (weakref.ref(x, forget), address, found, finite)
    return found


def scanned_finite(x: Any) -> bool | None:
    """Whether every value of x (N, D) is finite, read from the count of its non-zeros that the
    native epochs make of an x anyway to choose between the sparse and the dense layer 1. The count
    (and the CSR, where x is sparse enough) is cached for x as the epochs' own (with values, as
    training wants them), so epochs on this same x do not read it again: checking a training x this
    way reads it once less than a separate check. None where that count does not apply (x not a
    C-contiguous float32 or float64 matrix, or more than MAX_COLUMNS columns)."""
    if not (
        isinstance(x, np.ndarray)
        and x.ndim == 2
        and x.dtype in (np.float32, np.float64)
        and x.flags.c_contiguous
        and x.shape[1] <= MAX_COLUMNS
    ):
        return None
    _cached_sparse_rows(x, force=False, values=True)
    entry = _cache.get(id(x))
    return None if entry is None else entry[3]


def choose(
    x: np.ndarray, sparse: bool | None, x_sparse: SparseRows | None, values: bool = True
) -> SparseRows | None:
    """The CSR layer 1 should run over for the validated x, or None for the dense path.

    ``sparse``: True forces the sparse path, False the dense one, None decides by density.
    ``x_sparse``: a prebuilt ``sparse_rows(x)`` (used as given, with or without values); otherwise
    the structure is built and cached, with a copy of the values when ``values`` (training).
    """
    if sparse is not None and not isinstance(sparse, bool):
        raise FastmlpTypeError(f"sparse must be True, False or None, got {sparse!r}")
    if x_sparse is not None:
        if not isinstance(x_sparse, SparseRows):
            raise FastmlpTypeError("x_sparse must come from sparse_rows(x)")
        if x_sparse.shape != x.shape:
            raise FastmlpValueError(f"x_sparse describes a {x_sparse.shape} array, x is {x.shape}")
        if x_sparse.values is not None and x_sparse.values.dtype != x.dtype:
            raise FastmlpValueError(f"x_sparse holds {x_sparse.values.dtype} values, x is {x.dtype}")
    if sparse is False:
        return None
    if x_sparse is None:
        return _cached_sparse_rows(x, force=sparse is True, values=values)
    if sparse is None and x_sparse.density >= SPARSE_DENSITY:
        return None
    return x_sparse
