"""Arrays aligned to 64 bytes (a cache line; two AVX2 vectors).

Eigen's vectorised reductions and small products peel off leading elements until an address is
aligned, so the order of a sum, and with it the last bit of the result, depends on where an
array happens to sit in memory. fastmlp keeps every array it hands to compiled code aligned,
which makes results repeatable bit for bit from run to run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container
from typing import Any

import numpy as np

ALIGNMENT = 64


def _address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def is_aligned(array: np.ndarray) -> bool:
    return _address(array) % ALIGNMENT == 0


def aligned_empty(shape: Any, dtype: Any) -> np.ndarray:
    """Like ``np.empty``, but the data starts on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + ALIGNMENT, dtype=np.uint8)
    start = -_address(raw) % ALIGNMENT
    aligned: np.ndarray = raw[start : start + nbytes].view(dtype).reshape(shape)
    return aligned


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


def _is_ready(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return is_aligned(value)
    if isinstance(value, (list, tuple)):
        return all(_is_ready(item) for item in value)
    return True


def call_aligned(function: Callable[..., Any], *args: Any, as_is: Container[int] = ()) -> Any:
    """``function(*args)`` with every array argument (also inside lists) 64-byte aligned.

    Arrays fastmlp allocates are aligned already, so usually nothing is copied. A misaligned array
    from a caller is copied in and, if writable (an output or a parameter updated in place), copied
    back afterwards. Positions in ``as_is`` are passed unchanged: arrays the compiled code reads with
    no alignment-sensitive arithmetic, such as the native epoch's x, which would cost more to copy
    than the epoch itself.
    """
    if all(_is_ready(arg) for i, arg in enumerate(args) if i not in as_is):  # the usual case
        return function(*args)
    copies: list[tuple[np.ndarray, np.ndarray]] = []

    def fix(value: Any) -> Any:
        if isinstance(value, np.ndarray) and not is_aligned(value):
            copy = aligned(value)
            copies.append((value, copy))
            return copy
        if isinstance(value, (list, tuple)):
            return [fix(item) for item in value]
        return value

    result = function(*[arg if i in as_is else fix(arg) for i, arg in enumerate(args)])
    for original, copy in copies:
        if original.flags.writeable:
            np.copyto(original, copy)
    return result
