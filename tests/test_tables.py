"""Every row of every engine table runs on every backend, native epochs included; a backend that
lacks a row fails by name. The NumPy reference rows are checked against central differences."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS
from tolerances import assert_close

import fastmlp
from fastmlp.backends import numpy_backend
from fastmlp.backends.tables import ACTIVATIONS
from fastmlp.models import MLP
from fastmlp.optim import SGD
from fastmlp.train import train_epoch

NATIVE = [name for name in BACKENDS if name != "numpy"]
KERNEL_ROWS = [row for row in ACTIVATIONS.values() if row.has_kernels]


def _inputs(dtype, shape=(7, 5), seed=0):
    """z away from relu's kink at 0 (so central differences see one side), and an upstream dout."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(0.05, 3.0, shape) * rng.choice([-1.0, 1.0], shape)
    return z.astype(dtype), rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("row", KERNEL_ROWS, ids=lambda row: row.name)
@pytest.mark.parametrize("name", BACKENDS)
def test_every_activation_row_has_its_kernels_on_every_backend(name, row, dtype):
    backend, reference = fastmlp.get_backend(name), numpy_backend
    for kernel in (row.forward_kernel, row.backward_kernel):
        assert hasattr(backend, kernel), f"backend {name} lacks {kernel} (activation row {row.name})"
    z, dout = _inputs(dtype)
    a = getattr(backend, row.forward_kernel)(z)
    assert_close(a, getattr(reference, row.forward_kernel)(z))
    cached = z if row.backward_reads == "z" else a
    expected = getattr(reference, row.backward_kernel)(dout, z if row.backward_reads == "z" else a)
    assert_close(getattr(backend, row.backward_kernel)(dout, cached), expected)


@pytest.mark.parametrize("row", KERNEL_ROWS, ids=lambda row: row.name)
def test_reference_activation_backward_is_the_derivative(row):
    # d/dz sum(dout * act(z)) by central differences, in float64
    z, dout = _inputs(np.float64)
    forward = getattr(numpy_backend, row.forward_kernel)
    step = 1e-6
    numeric = (forward(z + step) - forward(z - step)) / (2 * step) * dout
    cached = z if row.backward_reads == "z" else forward(z)
    np.testing.assert_allclose(
        getattr(numpy_backend, row.backward_kernel)(dout, cached), numeric, rtol=1e-6, atol=1e-8
    )


def _data(dtype, rows=90, features=12, classes=4, seed=2):
    rng = np.random.default_rng(seed)
    x = (rng.random((rows, features)) * (rng.random((rows, features)) < 0.5)).astype(dtype)
    return x, rng.integers(0, classes, rows)


@pytest.mark.parametrize("row", list(ACTIVATIONS.values()), ids=lambda row: row.name)
@pytest.mark.parametrize("name", NATIVE)
def test_every_activation_row_runs_in_every_native_epoch(name, row, dtype):
    backend = fastmlp.get_backend(name)
    assert backend.NATIVE_EPOCH, f"backend {name} has no native epoch"
    codes = getattr(getattr(backend, "_compiled", None), "activation_codes", None)
    if codes is not None:  # the compiled table (cpp/activations.hpp) has the row, with its code
        assert codes.get(row.name) == row.code, f"backend {name}'s compiled table lacks activation {row.name}"
    x, y = _data(dtype)
    order = np.random.default_rng(4).permutation(len(x))
    models = [MLP(12, [8, 6], 4, row.name, dtype=dtype, backend=b, seed=3) for b in ("numpy", name)]
    for model, native in zip(models, (False, True), strict=True):
        loss, _ = train_epoch(model, SGD(0.2, 1e-3, 0.9), x, y, order, 16, native=native)
        assert np.isfinite(loss)
    reference, ours = models
    for key, expected in reference.params.items():
        assert_close(ours.params[key], expected)
