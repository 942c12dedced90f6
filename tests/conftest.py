"""Shared test fixtures.

Kernel tests run on every backend of a normal install: numpy, numba and cpp. A backend that
fails to load makes its tests fail, not skip. For local work on a partial build only,
FASTMLP_TEST_BACKENDS=numpy,numba restricts the list (CI never sets it).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import fastmlp

ALL_BACKENDS = ("numpy", "numba", "cpp")
BACKENDS = tuple(
    name for name in os.environ.get("FASTMLP_TEST_BACKENDS", ",".join(ALL_BACKENDS)).split(",") if name
)
DTYPES = (np.float32, np.float64)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each backend module in turn; loading failure is a test failure."""
    return fastmlp.get_backend(request.param)


@pytest.fixture
def reference():
    return fastmlp.get_backend("numpy")


@pytest.fixture(params=DTYPES, ids=lambda d: np.dtype(d).name)
def dtype(request):
    return np.dtype(request.param)
