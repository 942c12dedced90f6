"""Arrays aligned to 64 bytes (a cache line; two AVX2 vectors).

Eigen's vectorised reductions and small products peel off leading elements until an address is
aligned, so the order of a sum, and with it the last bit of the result, depends on where an
array happens to sit in memory. fastmlp keeps every array it hands to compiled code aligned,
which makes results repeatable bit for bit from run to run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

ALIGNMENT = 64


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def is_aligned(array: np.ndarray) -> bool:
    return _address(array) % ALIGNMENT == 0


def aligned_empty(shape: Any, dtype: Any) -> np.ndarray:
    """Like ``np.empty``, but the data starts on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + ALIGNMENT, dtype=np.uint8)
    start = -_address(raw) % ALIGNMENT
    return raw[start : start + nbytes].view(dtype).reshape(shape)


def aligned_zeros(shape: Any, dtype: Any) -> np.ndarray:
    array = aligned_empty(shape, dtype)
    array.fill(0)
    return array


def aligned(array: np.ndarray) -> np.ndarray:
    """``array`` itself if it is C-contiguous and aligned, else an aligned copy."""
    if array.flags.c_contiguous and is_aligned(array):
        return array
    copy = aligned_empty(array.shape, array.dtype)
    np.copyto(copy, array)
    return copy
