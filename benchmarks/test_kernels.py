"""One benchmark per kernel x backend x dtype x batch size at the assignment's sizes.

Grouped by kernel, dtype and batch so each table compares the three backends on the same work.
Every kernel is called once before timing (compilation, first-touch of the output buffer) and
then timed writing into a preallocated ``out=`` where the kernel has one, as the trainer calls it.
The timed result is then checked (finite, and equal to the NumPy reference computed outside the
timing within tests/tolerances.py), so a fast wrong kernel cannot pass. The updates (``IN_PLACE``)
change their parameter and buffers in place, so each of their rounds starts from fresh copies made
outside the timing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import C, D, H

import fastmlp
from fastmlp.backends._kernels import KERNELS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from tolerances import assert_close  # the one tolerance table lives with the tests


def _inputs(n: int, dtype: np.dtype) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)

    def normal(*shape: int, scale: float = 1.0) -> np.ndarray:
        return (scale * rng.standard_normal(shape)).astype(dtype)

    x = rng.random((n, D)).astype(dtype)
    scores = normal(n, C, scale=3.0)
    probs = fastmlp.get_backend("numpy").softmax_forward(scores)
    return {
        "x": x,
        "w1": normal(D, H, scale=0.01),
        "b1": normal(H),
        "z": normal(n, H, scale=3.0),
        "dz": normal(n, H),
        "scores": scores,
        "probs": probs,
        "dprobs": normal(n, C),
        "y": rng.integers(0, C, n),
        "out_h": np.empty((n, H), dtype),
        "out_c": np.empty((n, C), dtype),
        "grad": normal(D, H, scale=0.01),
        "velocity": np.zeros((D, H), dtype),
        "m": normal(D, H, scale=0.001),
        "v": (0.001 * normal(D, H, scale=0.01) ** 2).astype(dtype),
        "tanh": np.tanh(normal(n, H)),
        "y_indicator": (rng.random((n, C)) < 0.3).astype(dtype),
        "y_values": normal(n, C),
        "y_counts": rng.poisson(2.0, (n, C)).astype(dtype),
        "sigmoid_out": (1.0 / (1.0 + np.exp(-scores))).astype(dtype),
        "exp_out": np.exp(scores).astype(dtype),
    }


# kernel -> function(backend, inputs) -> a zero-argument call to time
CALLS = {
    "affine_forward": lambda k, a: lambda: k.affine_forward(a["x"], a["w1"], a["b1"], out=a["out_h"]),
    "affine_backward": lambda k, a: lambda: k.affine_backward(a["dz"], a["x"], a["w1"], need_dx=False),
    "relu_forward": lambda k, a: lambda: k.relu_forward(a["z"], out=a["out_h"]),
    "relu_backward": lambda k, a: lambda: k.relu_backward(a["dz"], a["z"], out=a["out_h"]),
    "sigmoid_forward": lambda k, a: lambda: k.sigmoid_forward(a["z"], out=a["out_h"]),
    "sigmoid_backward": lambda k, a: lambda: k.sigmoid_backward(a["dz"], a["z"], out=a["out_h"]),
    "softmax_forward": lambda k, a: lambda: k.softmax_forward(a["scores"], out=a["out_c"]),
    "softmax_backward": lambda k, a: lambda: k.softmax_backward(a["dprobs"], a["probs"], out=a["out_c"]),
    "cross_entropy_forward": lambda k, a: lambda: k.cross_entropy_forward(a["probs"], a["y"]),
    "softmax_cross_entropy": lambda k, a: lambda: k.softmax_cross_entropy(a["scores"], a["y"]),
    "softmax_cross_entropy_backward": lambda k, a: (
        lambda: k.softmax_cross_entropy_backward(a["probs"], a["y"], out=a["out_c"])
    ),
    "accuracy": lambda k, a: lambda: k.accuracy(a["scores"], a["y"]),
    "tanh_forward": lambda k, a: lambda: k.tanh_forward(a["z"], out=a["out_h"]),
    "tanh_backward": lambda k, a: lambda: k.tanh_backward(a["dz"], a["tanh"], out=a["out_h"]),
    "binary_cross_entropy": lambda k, a: lambda: k.binary_cross_entropy(a["scores"], a["y_indicator"]),
    "binary_cross_entropy_backward": lambda k, a: (
        lambda: k.binary_cross_entropy_backward(a["sigmoid_out"], a["y_indicator"], out=a["out_c"])
    ),
    "squared_error": lambda k, a: lambda: k.squared_error(a["scores"], a["y_values"]),
    "squared_error_backward": lambda k, a: (
        lambda: k.squared_error_backward(a["scores"], a["y_values"], out=a["out_c"])
    ),
    "poisson_deviance": lambda k, a: lambda: k.poisson_deviance(a["scores"], a["y_counts"]),
    "poisson_deviance_backward": lambda k, a: (
        lambda: k.poisson_deviance_backward(a["exp_out"], a["y_counts"], out=a["out_c"])
    ),
    "sgd_update": lambda k, a: (
        lambda: k.sgd_update(a["w1"], a["grad"], 1e-9, reg=1e-3, momentum=0.9, velocity=a["velocity"])
    ),
    "nesterov_update": lambda k, a: (
        lambda: k.nesterov_update(a["w1"], a["grad"], 1e-3, reg=1e-3, momentum=0.9, velocity=a["velocity"])
    ),
    "adam_update": lambda k, a: (
        lambda: k.adam_update(a["w1"], a["grad"], a["m"], a["v"], 1e-3, 1e-3, 0.9, 0.999, 1e-8)
    ),
}

# The kernels that change their arguments in place -> the inputs they change: each timed round
# starts from fresh copies of those, made outside the timing.
IN_PLACE = {
    "sgd_update": ("w1", "velocity"),
    "nesterov_update": ("w1", "velocity"),
    "adam_update": ("w1", "m", "v"),
}


# Checked when the suite is collected: a plain test would be skipped under --benchmark-only.
_UNCOVERED = set(CALLS) ^ set(KERNELS)
if _UNCOVERED:
    raise RuntimeError(
        f"CALLS must name every kernel of the interface exactly once; differs in {sorted(_UNCOVERED)}"
    )


def _assert_right(result, expected, dtype):
    """``result`` (an array, a float or a tuple of them) is finite and matches ``expected``."""
    results = result if isinstance(result, tuple) else (result,)
    expecteds = expected if isinstance(expected, tuple) else (expected,)
    for got, want in zip(results, expecteds, strict=True):
        assert (got is None) == (want is None)
        if want is None:
            continue
        assert np.all(np.isfinite(got)), "the timed kernel returned non-finite values"
        assert_close(got, want, dtype, scale=max(1.0, float(np.max(np.abs(want)))))


@pytest.mark.parametrize("kernel", list(CALLS))
def test_kernel(benchmark, backend, dtype, batch, kernel):
    reference = fastmlp.get_backend("numpy")
    name = backend.name
    benchmark.group = f"{kernel}, {dtype.name}, batch {batch}"
    # The group title says kernel, dtype and batch; the table's name column keeps only what
    # differs inside the group, so that each table fits 100 columns (the JSON keeps the full id).
    benchmark.name = name
    benchmark.extra_info.update(
        backend=name, kernel=kernel, dtype=dtype.name, batch=batch, threads=fastmlp.get_num_threads()
    )
    if kernel in IN_PLACE:
        changed = IN_PLACE[kernel]
        expected = _inputs(batch, dtype)
        CALLS[kernel](reference, expected)()
        inputs = _inputs(batch, dtype)

        def fresh_state():
            return (), {"state": {**inputs, **{name: inputs[name].copy() for name in changed}}}

        def step(state):
            CALLS[kernel](backend, state)()
            return tuple(state[name] for name in changed)

        step(**fresh_state()[1])
        result = benchmark.pedantic(step, setup=fresh_state, rounds=200, iterations=1)
        _assert_right(result, tuple(expected[name] for name in changed), dtype)
        return
    call = CALLS[kernel](backend, _inputs(batch, dtype))
    call()
    result = benchmark(call)
    _assert_right(result, CALLS[kernel](reference, _inputs(batch, dtype))(), dtype)
