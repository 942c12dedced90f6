"""Whole training epochs: every backend against the assignment-style NumPy loop, the framework
peers (PyTorch eager, torch.compile, JAX jit + lax.scan; when installed) and the dense GEMM floor,
on real MNIST rows.

To stay inside the suite's 3-minute budget an "epoch" here is the first 12,000 training rows
(188 batches of 64); per-batch work is the same as in the full 48,000-row epoch, so the ratios
are too. ``fastmlp bench`` times full epochs.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastmlp
from fastmlp.benchmarking import epochs, peers
from fastmlp.benchmarking.affinity import pinned
from fastmlp.benchmarking.epochs import fastmlp_epoch_factory
from fastmlp.data import load_mnist

ROWS = 12_000
THREADS = (1, 2)


@pytest.fixture(scope="module", params=["float32", "float64"])
def mnist(request):
    data = load_mnist(dtype=request.param, quiet=True)
    return data.x_train[:ROWS], data.y_train[:ROWS]


@pytest.fixture(params=THREADS, ids=lambda n: f"{n}T")
def threads(request):
    from threadpoolctl import threadpool_limits

    n = min(request.param, fastmlp.threads.max_threads())
    fastmlp.set_num_threads(n)
    with threadpool_limits(limits=n, user_api="blas"):
        yield n
    fastmlp.set_num_threads(1)


def _time(benchmark, epoch, order, group, threads, **info):
    epoch(order[:256])  # warm-up: compilation, first touch of buffers
    benchmark.group = group
    benchmark.extra_info.update(threads=threads, rows=len(order), **info)
    benchmark.pedantic(epoch, args=(order,), rounds=3, iterations=1)


@pytest.mark.parametrize("batch", [64, 1024])
@pytest.mark.parametrize("backend", ["numpy", "numba", "cpp"])
def test_fastmlp_epoch(benchmark, mnist, threads, batch, backend):
    x, y = mnist
    if backend == "numba":
        fastmlp.get_backend("numba").warmup_epoch()
    epoch = fastmlp_epoch_factory(backend, x, y, batch)
    order = np.random.default_rng(0).permutation(ROWS)
    with pinned(threads):
        _time(benchmark, epoch, order, f"epoch {x.dtype} batch {batch} {threads}T", threads, backend=backend)


PEERS = ["assignment-numpy", "gemm-floor", *epochs.FRAMEWORK_PEERS]


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")
@pytest.mark.parametrize("batch", [64, 1024])
@pytest.mark.parametrize("peer", PEERS)
def test_peer_epoch(benchmark, mnist, threads, batch, peer):
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
    with pinned(threads):
        epoch(order)  # warm-up over the timed shapes: jit / torch.compile compile here
        _time(benchmark, epoch, order, f"epoch {x.dtype} batch {batch} {threads}T", threads, peer=peer)
