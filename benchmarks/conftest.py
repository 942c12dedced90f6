"""Shared benchmark setup: the assignment's sizes and every backend, compiled before timing."""

from __future__ import annotations

import numpy as np
import pytest

import fastmlp

BACKENDS = ("numpy", "numba", "cpp")
DTYPES = ("float32", "float64")
BATCHES = (64, 1024)
D, H, C = 784, 128, 10  # inputs, hidden units, classes


@pytest.fixture(params=BACKENDS)
def backend(request):
    module = fastmlp.get_backend(request.param)  # a missing backend fails here, loudly
    module.warmup()  # Numba: compile every kernel before anything is timed (a no-op elsewhere)
    return module


@pytest.fixture(params=DTYPES)
def dtype(request):
    return np.dtype(request.param)


@pytest.fixture(params=BATCHES, ids=lambda n: f"N{n}")
def batch(request):
    return request.param


@pytest.fixture(autouse=True)
def one_thread():
    fastmlp.set_num_threads(1)
    yield
    fastmlp.set_num_threads(1)
