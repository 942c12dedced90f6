"""The thread budget (fastmlp.threads): results never depend on it.

Every backend gives the same bits at 1, 2, 3 and 4 threads (more threads than this machine has
cores is fine for bits), and so does the C++ epoch whether each batch runs on the whole team, on
its leader alone, or alternately on one and the other (runtime.hpp's TeamSchedule switches
during a run on a busy machine). Speed is measured in ``fastmlp bench``, never here.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS
from synthetic import mnist_like

import fastmlp
from fastmlp.models import MLP
from fastmlp.optim import SGD
from fastmlp.train import evaluate, train_epoch

THREAD_COUNTS = (1, 2, 3, 4)
# How the cpp epoch's leader picks the whole team or itself for a batch (cpp's set_team_policy).
CPP_POLICIES = ("measured", "whole-team", "alternate")
# A TwoLayerNet as the assignment trains it, and a deeper ReLU net with momentum.
NETS = {
    "twolayer-sigmoid": ((64,), "sigmoid", 1e-3, 0.0),
    "deep-relu-momentum": ((48, 24), "relu", 1e-2, 0.9),
}


@pytest.fixture
def oversubscribed(monkeypatch):
    """Let set_num_threads take up to 4 threads on any machine; restore the budget afterwards."""
    before = fastmlp.get_num_threads()
    monkeypatch.setattr(fastmlp.threads, "max_threads", lambda: max(THREAD_COUNTS))
    yield
    fastmlp.set_num_threads(before)


@pytest.fixture
def cpp_policy():
    """Set the cpp epoch's team policy; back to "measured" afterwards."""
    from fastmlp import _isa

    compiled = _isa.load()
    yield compiled.set_team_policy
    compiled.set_team_policy("measured")


def _mnist_like(dtype: str, rows: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    x, y, _, _ = mnist_like(n_train=rows, n_test=10, seed=4)
    return (x / 255.0).astype(dtype), y.astype(np.int64)


def _run(backend: str, net: str, dtype: str, threads: int, epochs: int = 2, batch_size: int = 64) -> list:
    """Train ``net`` for ``epochs`` on ``threads`` threads; every loss, accuracy and parameter."""
    hidden, activation, reg, momentum = NETS[net]
    fastmlp.set_num_threads(threads)
    x, y = _mnist_like(dtype)
    model = MLP(784, hidden, 10, activation, dtype=dtype, backend=backend, seed=3)
    optimizer = SGD(0.1, reg=reg, momentum=momentum)
    rng = np.random.default_rng(0)
    results: list = []
    for _ in range(epochs):
        # 1000 rows in batches of 64: the last batch of each epoch has 40 rows
        results.append(train_epoch(model, optimizer, x, y, rng.permutation(len(x)), batch_size))
        results.append(evaluate(model, x, y, batch_size))
    return results + [model.params[name].copy() for name in sorted(model.params)]


def _assert_same_bits(first: list, other: list, label: str) -> None:
    assert len(first) == len(other)
    for a, b in zip(first, other, strict=True):
        if isinstance(a, np.ndarray):
            assert a.tobytes() == b.tobytes(), f"{label}: parameters differ"
        else:
            assert a == b, f"{label}: {a} != {b}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("net", list(NETS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_thread_count_gives_the_same_bits(oversubscribed, backend, net, dtype):
    one = _run(backend, net, dtype, threads=1)
    for threads in THREAD_COUNTS[1:]:
        _assert_same_bits(one, _run(backend, net, dtype, threads), f"{backend} at {threads} threads")


@pytest.mark.skipif("cpp" not in BACKENDS, reason="FASTMLP_TEST_BACKENDS excludes cpp")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("net", list(NETS))
def test_cpp_switching_between_team_and_leader_keeps_the_bits(oversubscribed, cpp_policy, net, dtype):
    cpp_policy("whole-team")
    one = _run("cpp", net, dtype, threads=1)
    for policy in CPP_POLICIES:
        cpp_policy(policy)
        for threads in THREAD_COUNTS[1:]:
            _assert_same_bits(one, _run("cpp", net, dtype, threads), f"cpp, {policy}, {threads} threads")


@pytest.mark.parametrize("sparse", [False, True], ids=["dense-layer1", "sparse-layer1"])
@pytest.mark.parametrize("backend", [name for name in ("numba", "cpp") if name in BACKENDS])
def test_native_epoch_dense_and_sparse_layer_one(oversubscribed, cpp_policy, backend, sparse):
    # Both paths of layer 1 (the trainer picks sparse for MNIST-like inputs): dense splits the
    # 784 rows of W1's gradient between threads, sparse splits its columns by non-zeros.
    native = fastmlp.get_backend(backend).native_epoch
    if backend == "cpp":
        cpp_policy("alternate")
    x, y = _mnist_like("float32", rows=500)
    order = np.random.default_rng(1).permutation(len(x))

    def run(threads):
        fastmlp.set_num_threads(threads)
        model = MLP(784, (40,), 10, "sigmoid", dtype="float32", backend=backend, seed=5)
        net = model.describe(SGD(0.1, reg=1e-3))
        totals = [native.train_epoch(net, x, y, order, batch_size=50, sparse=sparse) for _ in range(2)]
        return totals + [model.params[name].copy() for name in sorted(model.params)]

    one = run(1)
    for threads in THREAD_COUNTS[1:]:
        _assert_same_bits(one, run(threads), f"{backend}, sparse={sparse}, {threads} threads")


@pytest.mark.skipif("cpp" not in BACKENDS, reason="FASTMLP_TEST_BACKENDS excludes cpp")
def test_cpp_bits_with_batches_smaller_than_the_team(oversubscribed, cpp_policy):
    # A batch of 3 rows on 4 threads: the team is cut to the batch, some threads own no rows.
    cpp_policy("alternate")
    one = _run("cpp", "deep-relu-momentum", "float32", threads=1, epochs=1, batch_size=3)
    _assert_same_bits(
        one, _run("cpp", "deep-relu-momentum", "float32", threads=4, epochs=1, batch_size=3), "batch 3"
    )


@pytest.mark.skipif("cpp" not in BACKENDS, reason="FASTMLP_TEST_BACKENDS excludes cpp")
def test_cpp_team_policy_is_checked(cpp_policy):
    with pytest.raises(ValueError, match="policy must be one of measured, whole-team, alternate"):
        cpp_policy("fastest")
