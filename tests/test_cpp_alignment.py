"""The compiled kernels give the same bits wherever the caller's arrays sit in memory.

Where an array starts decides where Eigen's vectorised sums peel off their first elements, so every
float array reaches a compiled kernel 64-byte aligned: the binding (cpp/bindings.cpp, ``Aligned``)
uses an aligned array in place and copies a misaligned one into an aligned buffer, and back if the
kernel writes it. Here each raw call of ``fastmlp._cpp`` runs on the same values twice, once in
aligned arrays and once in arrays that start 1, 2 or 4 elements (4 to 32 bytes) past a cache line, and the
outputs and in-place updates must agree bit for bit (and reach the caller's own arrays).
"""

from __future__ import annotations

import numpy as np
import pytest

from fastmlp import _memory
from fastmlp.backends import cpp_backend
from fastmlp.backends.tables import LOSSES

RAW = cpp_backend._RAW


def _placed(values: np.ndarray, offset: int) -> np.ndarray:
    """A C-contiguous copy of ``values`` whose data starts ``offset`` bytes past a 64-byte boundary."""
    raw = np.empty(values.nbytes + 2 * _memory.ALIGNMENT, dtype=np.uint8)
    start = -_memory._address(raw) % _memory.ALIGNMENT + offset
    array = raw[start : start + values.nbytes].view(values.dtype).reshape(values.shape)
    array[...] = values
    return array


def _inputs(dtype: type) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    n, d, m = 37, 29, 11  # no dimension a multiple of a vector: every kernel has a scalar tail
    return {
        "x": rng.standard_normal((n, d)).astype(dtype),
        "w": rng.standard_normal((d, m)).astype(dtype),
        "b": rng.standard_normal(m).astype(dtype),
        "z": rng.standard_normal((n, m)).astype(dtype),
        "dout": rng.standard_normal((n, m)).astype(dtype),
        "probs": rng.dirichlet(np.ones(m), n).astype(dtype),
        "targets": (rng.random((n, m)) > 0.5).astype(dtype),
        "weights": rng.random(n).astype(dtype) + 0.5,
        "grad": rng.standard_normal((d, m)).astype(dtype),
        "m": rng.standard_normal((d, m)).astype(dtype),
        "v": rng.random((d, m)).astype(dtype),
        "out": np.zeros((n, m), dtype),
        "dx": np.zeros((n, d), dtype),
        "dw": np.zeros((d, m), dtype),
        "db": np.zeros(m, dtype),
    }


def _calls():
    """(name, call, the arrays it writes): each call takes the dict of arrays and returns its value."""
    labels = np.random.default_rng(8).integers(0, 11, 37)
    bce = LOSSES["binary_cross_entropy"].code
    return [
        ("affine_forward", lambda a: RAW.affine_forward(a["x"], a["w"], a["b"], a["z"]), ("z",)),
        (
            "affine_backward",
            lambda a: RAW.affine_backward(a["dout"], a["x"], a["w"], a["dx"], a["dw"], a["db"]),
            ("dx", "dw", "db"),
        ),
        ("relu_forward", lambda a: RAW.relu_forward(a["z"], a["out"]), ("out",)),
        ("relu_backward", lambda a: RAW.relu_backward(a["dout"], a["z"], a["out"]), ("out",)),
        ("sigmoid_forward", lambda a: RAW.sigmoid_forward(a["z"], a["out"]), ("out",)),
        ("sigmoid_backward", lambda a: RAW.sigmoid_backward(a["dout"], a["probs"], a["out"]), ("out",)),
        ("tanh_forward", lambda a: RAW.tanh_forward(a["z"], a["out"]), ("out",)),
        ("tanh_backward", lambda a: RAW.tanh_backward(a["dout"], a["probs"], a["out"]), ("out",)),
        ("softmax_forward", lambda a: RAW.softmax_forward(a["z"], a["out"]), ("out",)),
        ("softmax_backward", lambda a: RAW.softmax_backward(a["dout"], a["probs"], a["out"]), ("out",)),
        ("cross_entropy_forward", lambda a: RAW.cross_entropy_forward(a["probs"], labels), ()),
        ("softmax_cross_entropy", lambda a: RAW.softmax_cross_entropy(a["z"], labels, a["out"]), ("out",)),
        (
            "softmax_cross_entropy_backward",
            lambda a: RAW.softmax_cross_entropy_backward(a["probs"], labels, a["out"]),
            ("out",),
        ),
        ("correct_count", lambda a: RAW.correct_count(a["z"], labels), ()),
        (
            "output_loss",
            lambda a: RAW.output_loss(bce, a["z"], None, a["targets"], a["weights"], a["out"]),
            ("out",),
        ),
        (
            "loss_gradient",
            lambda a: RAW.loss_gradient(a["probs"], None, a["targets"], a["weights"], a["out"], 3.0),
            ("out",),
        ),
        ("sgd_update", lambda a: RAW.sgd_update(a["w"], a["grad"], a["m"], 0.1, 1e-3, 0.9), ("w", "m")),
        (
            "nesterov_update",
            lambda a: RAW.nesterov_update(a["w"], a["grad"], a["m"], 0.1, 1e-3, 0.9),
            ("w", "m"),
        ),
        (
            "adam_update",
            lambda a: RAW.adam_update(a["w"], a["grad"], a["m"], a["v"], 1e-3, 1e-3, 0.9, 0.999, 1e-8),
            ("w", "m", "v"),
        ),
    ]


CALLS = _calls()


def test_every_raw_call_is_covered():
    """A new kernel must be added here (its name in the raw calls of the compiled backends)."""
    from fastmlp.backends._kernels import CALLS as RAW_CALLS

    assert sorted(name for name, _, _ in CALLS) == sorted(RAW_CALLS)


@pytest.mark.parametrize("elements", [1, 2, 4])
@pytest.mark.parametrize(("name", "call", "written"), CALLS, ids=[name for name, _, _ in CALLS])
def test_misaligned_arrays_give_the_aligned_bits(name, call, written, elements, dtype):
    offset = elements * np.dtype(dtype).itemsize  # 4 to 32 bytes past a cache line
    values = _inputs(dtype)
    aligned = {key: _placed(array, 0) for key, array in values.items()}
    misaligned = {key: _placed(array, offset) for key, array in values.items()}
    assert all(not _memory.is_aligned(array) for array in misaligned.values())

    expected, result = call(aligned), call(misaligned)

    assert result == expected
    for key in values:  # what the kernel writes reaches the caller's arrays; the rest is untouched
        assert misaligned[key].tobytes() == aligned[key].tobytes(), key
        if key not in written:
            assert misaligned[key].tobytes() == values[key].tobytes(), key
    for key in written:
        assert aligned[key].tobytes() != values[key].tobytes(), f"{name} wrote nothing into {key}"
