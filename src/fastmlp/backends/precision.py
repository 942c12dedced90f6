"""The GEMMs' input precision (``precision=`` of the models and ``backends._epoch.native_model``).

``PRECISIONS``: ``float32`` (the model's dtype throughout, the default) and ``bfloat16``: every
dense GEMM of the forward pass, dX and dW takes its two inputs rounded to bfloat16, the products
(exact in float32) summed in float32, on float32 models; the parameters, the bias, activations,
loss and the update stay float32 (master weights). The cpp native epoch runs it with AVX512_BF16
(VDPBF16PS) where the CPU has it; the kernel-by-kernel path (every backend, the numpy reference)
emulates it with ``round_to_bfloat16`` on each GEMM input, which the tests hold the native epoch to.
"""

from __future__ import annotations

import numpy as np

from ..errors import FastmlpTypeError, FastmlpValueError

PRECISIONS = ("float32", "bfloat16")

_SIGN, _EXPONENT, _MANTISSA = np.uint32(0x80000000), np.uint32(0x7F800000), np.uint32(0x007FFFFF)


def check_precision(precision: object, dtype: np.dtype, name: str = "precision") -> str:
    """``precision`` checked (a name of ``PRECISIONS``; bfloat16 only with float32 parameters)."""
    if not isinstance(precision, str):
        raise FastmlpTypeError(f"{name} must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision not in PRECISIONS:
        raise FastmlpValueError(f"{name} must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "bfloat16" and dtype != np.float32:
        raise FastmlpValueError(f"{name}='bfloat16' needs dtype float32 (master weights), got {dtype}")
    return precision


def round_to_bfloat16(a: np.ndarray) -> np.ndarray:
    """a (any shape, float32) rounded to the nearest bfloat16, as float32 (low 16 bits zero).

    As VCVTNE2PS2BF16 does it: ties to even; subnormal inputs as zero (sign kept); NaN stays a
    (quiet) NaN; values that round past the largest bfloat16 become infinite.
    """
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    exponent = bits & _EXPONENT
    nan = (exponent == _EXPONENT) & ((bits & _MANTISSA) != 0)
    flushed = np.where(exponent == 0, bits & _SIGN, bits)
    # ties to even: add 0x7FFF plus the lowest kept bit, then drop the low half (NaN apart: no carry)
    high = np.uint32(0xFFFF0000)
    rounded = (flushed + np.uint32(0x7FFF) + ((flushed >> np.uint32(16)) & np.uint32(1))) & high
    rounded = np.where(nan, (bits | np.uint32(0x00400000)) & high, rounded)
    result: np.ndarray = rounded.astype(np.uint32).view(np.float32).reshape(np.shape(a))
    return result
