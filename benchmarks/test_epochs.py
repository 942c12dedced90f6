"""Whole training epochs: every backend against the assignment-style NumPy loop, the framework
peers (PyTorch eager, torch.compile, JAX jit + lax.scan; when installed) and the dense GEMM floor,
on real MNIST rows.

To keep the suite short an "epoch" here is the first 12,000 training rows
(188 batches of 64); per-batch work is the same as in the full 48,000-row epoch, so the ratios
are too. ``fastmlp bench`` times full epochs.

Each fastmlp epoch's timed result (loss and accuracy of the last round) is checked against the
NumPy backend's kernel-by-kernel trainer run through the same sequence of epochs outside the timing,
within tests/tolerances.py; each peer's loss must be finite.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import fastmlp
from fastmlp.benchmarking import epochs, peers
from fastmlp.benchmarking.affinity import pinned
from fastmlp.benchmarking.epochs import fastmlp_epoch_factory
from fastmlp.data import load_mnist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from tolerances import TOLERANCES  # the one tolerance table lives with the tests

ROWS = 12_000
THREADS = (1, 2)


@pytest.fixture(scope="module", params=["float32", "float64"])
def mnist(request):
    data = load_mnist(dtype=request.param, quiet=True)
    return data.x_train[:ROWS], data.y_train[:ROWS]


@pytest.fixture(params=THREADS, ids=lambda n: f"{n}T")
def threads(request):
    # fastmlp's own setting (its BLAS stays at one thread); the NumPy peers raise BLAS themselves.
    n = min(request.param, fastmlp.threads.max_threads())
    fastmlp.set_num_threads(n)
    yield n
    fastmlp.set_num_threads(1)


def _rounds(request) -> int:
    # pedantic() takes its rounds from the caller, not from --benchmark-min-rounds: pass that on.
    return request.config.getoption("benchmark_min_rounds")


def _time(benchmark, request, epoch, order, name, threads, batch, **info):
    """Time the epoch after a short warm-up one; returns the last timed epoch's result."""
    epoch(order[:256])  # warm-up: compilation, first touch of buffers
    dtype = info.pop("dtype")
    benchmark.group = (
        f"epoch of {len(order):,} rows, {dtype}, batch {batch}, {threads} thread{'s' if threads > 1 else ''}"
    )
    benchmark.name = name  # the group title says the rest; the JSON keeps the full test id
    benchmark.extra_info.update(threads=threads, rows=len(order), batch=batch, dtype=dtype, **info)
    calls = 0

    def counted(order):
        nonlocal calls
        calls += 1
        return epoch(order)

    result = benchmark.pedantic(counted, args=(order,), rounds=_rounds(request), iterations=1)
    # With --benchmark-disable pedantic() runs once; the reference replays as many epochs as ran.
    return result, calls


_references: dict[tuple[str, int, int], tuple[float, float]] = {}


def _reference_result(x, y, batch, order, rounds):
    """(loss, accuracy) of the last epoch of the same sequence on the NumPy reference, untimed."""
    key = (x.dtype.name, batch, rounds)
    if key not in _references:
        epoch = fastmlp_epoch_factory("numpy", x, y, batch)
        epoch(order[:256])
        for _ in range(rounds):
            result = epoch(order)
        _references[key] = result
    return _references[key]


@pytest.mark.parametrize("batch", [64, 1024])
@pytest.mark.parametrize("backend", ["numpy", "numba", "cpp"])
def test_fastmlp_epoch(benchmark, request, mnist, threads, batch, backend):
    x, y = mnist
    if backend == "numba":
        fastmlp.get_backend("numba").warmup()
    epoch = fastmlp_epoch_factory(backend, x, y, batch)
    order = np.random.default_rng(0).permutation(ROWS)
    with pinned(threads):
        (loss, accuracy), epochs_run = _time(
            benchmark,
            request,
            epoch,
            order,
            f"fastmlp {backend}",
            threads,
            batch,
            dtype=x.dtype.name,
            backend=backend,
        )
    expected_loss, expected_accuracy = _reference_result(x, y, batch, order, epochs_run)
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    # The loss is a mean over the epoch's batches, each a sum of fp rounding: a relative bound;
    # accuracy counts argmax hits, which rounding may flip for a row or two of 12,000.
    assert loss == pytest.approx(expected_loss, rel=TOLERANCES[x.dtype]["rtol"])
    assert abs(accuracy - expected_accuracy) <= 2 / ROWS


PEERS = ["assignment-numpy", "gemm-floor", *epochs.FRAMEWORK_PEERS]


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")
@pytest.mark.parametrize("batch", [64, 1024])
@pytest.mark.parametrize("peer", PEERS)
def test_peer_epoch(benchmark, request, mnist, threads, batch, peer):
    """Each peer from fastmlp's initialisation; its n-thread row runs pinned to n CPUs."""
    x, y = mnist
    init = peers.initial_params(x.shape[1], 128, 10, x.dtype)
    if peer in epochs.FRAMEWORK_PEERS:
        framework, build = epochs.FRAMEWORK_PEERS[peer]
        if not peers.installed(framework):
            pytest.skip(f"{framework} is not installed (pip install 'fastmlp[peers]' adds this peer)")
        if framework == "torch":
            import torch

            torch.set_num_threads(threads)
        trainer = build(x, y, init, batch)
        epoch = trainer.epoch
    elif peer == "assignment-numpy":
        epoch = peers.NumpyAssignment(x, y, init, batch).epoch
    else:

        def epoch(order):
            return peers.gemm_floor_epoch(x, order, batch)

    order = np.random.default_rng(0).permutation(ROWS)
    with pinned(threads), fastmlp.threads.blas_threads(threads):  # NumPy as its users run it
        epoch(order)  # warm-up over the timed shapes: jit / torch.compile compile here
        result, _ = _time(
            benchmark, request, epoch, order, f"peer {peer}", threads, batch, dtype=x.dtype.name, peer=peer
        )
    if peer != "gemm-floor":  # the floor only multiplies; it has no loss to return
        assert np.isfinite(result), f"{peer} returned the loss {result!r}"
