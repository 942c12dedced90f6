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

# The assignment's own unit tests and main script, rebuilt: they import the assignment's
# modules, so they run only through tests/test_compat_assignment.py (see assignment/README.md).
collect_ignore = ["assignment"]


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


@pytest.fixture(autouse=True)
def _out_of_the_users_cache(request, monkeypatch, tmp_path_factory):
    """Unless a test is marked ``network``, it sees an empty private cache and no FASTMLP_DATA, so
    the default run never reads or writes the user's MNIST cache."""
    if request.node.get_closest_marker("network") is None:
        monkeypatch.setenv("FASTMLP_CACHE", str(tmp_path_factory.getbasetemp() / "private-cache"))
        monkeypatch.delenv("FASTMLP_DATA", raising=False)
