"""Random shapes, dtypes, strides and values at every kernel of every backend: the result
matches the NumPy reference, or both raise the same ValueError/TypeError. Never a crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastmlp.backends._kernels import KERNELS

DTYPES = [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_, object]
KERNEL_ARITY = {  # kernel -> number of array arguments
    "affine_forward": 3,
    "affine_backward": 3,
    "relu_forward": 1,
    "relu_backward": 2,
    "sigmoid_forward": 1,
    "sigmoid_backward": 2,
    "softmax_forward": 1,
    "softmax_backward": 2,
    "cross_entropy_forward": 2,
    "softmax_cross_entropy": 2,
    "softmax_cross_entropy_backward": 2,
    "accuracy": 2,
    "sgd_update": 3,
    "poisson_deviance": 2,  # exp unclipped: inf, nan and huge scores give inf or nan, the same everywhere
    "poisson_deviance_backward": 2,
}


@st.composite
def arrays_(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(DTYPES))
    size = int(np.prod(shape)) if shape else 1
    element = st.one_of(
        st.floats(-1e3, 1e3, allow_nan=False),
        st.integers(0, 4).map(float),  # small integers make valid labels
        st.sampled_from([np.nan, np.inf, -np.inf]),
    )
    values = draw(st.lists(element, min_size=size, max_size=size))
    array = np.array(values, dtype=np.float64).reshape(shape)
    if np.dtype(dtype).kind in "iubO":
        array = np.asarray(np.nan_to_num(array, nan=0, posinf=7, neginf=-7))
    with np.errstate(all="ignore"):  # float16 overflows to inf here: that is a test input too
        array = array.astype(dtype)
    if array.ndim == 2 and array.shape[1] > 1 and draw(st.booleans()):
        array = array[:, ::2]  # a strided view
    if array.ndim >= 1 and array.shape[0] > 1 and draw(st.booleans()):
        array = array[::2]  # a strided view
    return array


def _call(module, kernel, arrays, copies=True):
    args = [a.copy() if copies else a for a in arrays]
    if kernel == "sgd_update":
        module.sgd_update(*args, 0.1)
        return args[0]
    return getattr(module, kernel)(*args)


def _same(got, want):
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _same(g, w)
    elif want is None:
        assert got is None
    elif isinstance(want, float):
        assert np.isclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True)
    else:
        assert got.dtype == want.dtype and got.shape == want.shape
        tol = 1e-3 if want.dtype == np.float32 else 1e-9
        finite = np.abs(want[np.isfinite(want)])
        scale = max(1.0, float(finite.max(initial=0.0)))  # rounding grows with the magnitude
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale * 1e3, equal_nan=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kernel=st.sampled_from(sorted(KERNEL_ARITY)), data=st.data())
def test_fuzz_every_kernel(backend, reference, kernel, data):
    arrays = [data.draw(arrays_()) for _ in range(KERNEL_ARITY[kernel])]
    try:
        with np.errstate(all="ignore"):
            want = _call(reference, kernel, arrays)
    except (ValueError, TypeError) as error:
        with pytest.raises(type(error)) as info:
            _call(backend, kernel, arrays)
        assert str(info.value) == str(error)
        return
    with np.errstate(all="ignore"):
        got = _call(backend, kernel, arrays)
    _same(got, want)


def test_native_kernels_survive_bad_input_in_a_subprocess():
    """The same kind of abuse in a child process, so a crash (segfault, abort) fails this test
    instead of killing the test run."""
    script = textwrap.dedent(
        """
        import inspect
        import numpy as np, fastmlp
        from fastmlp.backends._kernels import KERNELS
        rng = np.random.default_rng(0)
        shapes = [(0,), (3,), (0, 3), (3, 0), (2, 3), (3, 2), (1, 1), (2, 3, 4)]
        dtypes = [np.float32, np.float64, np.int64, np.float16, object]
        raised = ok = 0
        for name in ("cpp", "numba"):
            k = fastmlp.get_backend(name)
            for kernel in KERNELS:
                for _ in range(60):
                    args = []
                    for _ in range(3):
                        values = rng.standard_normal(shapes[rng.integers(len(shapes))])
                        args.append(values.astype(dtypes[rng.integers(len(dtypes))]))
                    try:
                        if kernel == "sgd_update":
                            k.sgd_update(args[0], args[1], 0.1)
                        else:
                            f = getattr(k, kernel)
                            count = len(inspect.signature(f).parameters) - sum(
                                p.kind == p.KEYWORD_ONLY for p in inspect.signature(f).parameters.values()
                            )
                            f(*args[: count if kernel != "affine_backward" else 3])
                        ok += 1
                    except (ValueError, TypeError):
                        raised += 1
        print(ok, raised)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    ok, raised = map(int, result.stdout.split())
    assert ok + raised == 2 * len(KERNELS) * 60 and raised > 0
