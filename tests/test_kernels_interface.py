"""Every backend offers exactly the reference's kernels, with the same signatures, and the
registry behaves as documented."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import pytest
from conftest import BACKENDS

import fastmlp
from fastmlp import backends
from fastmlp.backends import numpy_backend
from fastmlp.backends._kernels import KERNELS


def test_every_backend_has_every_kernel_and_the_reference_lists_them(backend, reference):
    assert numpy_backend.__all__ == list(KERNELS)
    missing = [name for name in KERNELS if not callable(getattr(backend, name, None))]
    assert not missing, f"backend {backend.name} lacks {missing}"


def test_same_signatures(backend, reference):
    for name in KERNELS:
        ours = inspect.signature(getattr(backend, name))
        theirs = inspect.signature(getattr(reference, name))
        assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
            (p.name, p.kind, p.default) for p in theirs.parameters.values()
        ], name


def test_every_backend_loads_in_a_normal_install():
    # ALL_BACKENDS unless narrowed by FASTMLP_TEST_BACKENDS for local work (see conftest).
    assert [name for name in fastmlp.available_backends() if name in BACKENDS] == list(BACKENDS)


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown backend 'fortran'; valid backends: numpy, numba, cpp"):
        fastmlp.get_backend("fortran")
    with pytest.raises(TypeError, match="name must be a backend name"):
        fastmlp.get_backend(3)


def test_set_backend_and_environment(monkeypatch):
    monkeypatch.setattr(backends, "_default", None)
    monkeypatch.setenv("FASTMLP_BACKEND", "numpy")
    assert fastmlp.default_backend() == "numpy"
    assert fastmlp.get_backend() is fastmlp.get_backend("numpy")
    monkeypatch.setenv("FASTMLP_BACKEND", "nope")
    with pytest.raises(ValueError, match="FASTMLP_BACKEND"):
        fastmlp.default_backend()
    fastmlp.set_backend(BACKENDS[-1])
    assert fastmlp.default_backend() == BACKENDS[-1]
    with pytest.raises(ValueError, match="unknown backend"):
        fastmlp.set_backend("nope")
    assert fastmlp.default_backend() == BACKENDS[-1]


def test_set_num_threads_validates():
    with pytest.raises(ValueError, match="n must be between 1"):
        fastmlp.set_num_threads(0)
    with pytest.raises(TypeError, match="n must be an int"):
        fastmlp.set_num_threads(1.5)
    fastmlp.set_num_threads(1)
    assert fastmlp.get_num_threads() == 1


def test_blas_runs_on_one_thread_after_import():
    # In a fresh process: importing fastmlp alone must leave NumPy's BLAS at one thread.
    import subprocess
    import sys

    script = (
        "import fastmlp; from threadpoolctl import threadpool_info; "
        "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[1]"


def test_blas_stays_at_one_thread_whatever_the_budget():
    # The numpy and numba backends' batch-sized GEMMs run in NumPy's BLAS: one thread at any budget
    # (fastmlp.threads); blas_threads(n) raises it for one block only.
    from threadpoolctl import threadpool_info

    def blas_counts():
        return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}

    before = fastmlp.get_num_threads()
    try:
        fastmlp.set_num_threads(fastmlp.threads.max_threads())
        assert blas_counts() == {1}
        n = fastmlp.threads.max_threads()
        with fastmlp.threads.blas_threads(n):
            assert blas_counts() == {n}
        assert blas_counts() == {1}
        with pytest.raises(ValueError, match="n must be between 1"):
            with fastmlp.threads.blas_threads(0):
                pass
    finally:
        fastmlp.set_num_threads(before)


@pytest.mark.skipif("cpp" not in BACKENDS, reason="FASTMLP_TEST_BACKENDS excludes cpp")
def test_default_backend_is_cpp_and_loads_nothing_else():
    # Finding the default must not import Numba (about 65 MB of resident memory) when cpp loads.
    code = "import sys, fastmlp; print(fastmlp.default_backend(), 'numba' in sys.modules)"
    env = {key: value for key, value in os.environ.items() if key != "FASTMLP_BACKEND"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.split() == ["cpp", "False"]
