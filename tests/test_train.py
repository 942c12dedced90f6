"""The trainer: the protocol, bit-for-bit repeatability, the native epoch against the
kernel-by-kernel path, divergence and interruption."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import blobs

import fastmlp
from fastmlp.models import MLP, SoftmaxRegression, TwoLayerNet
from fastmlp.optim import SGD
from fastmlp.runs import run_config
from fastmlp.train import evaluate, train, train_epoch

DATA = blobs()


def _run(backend, seed=0, dtype="float64", native=True, momentum=0.0):
    data = blobs(dtype=dtype)
    model = TwoLayerNet(20, 16, 4, dtype=dtype, backend=backend, init="he", seed=5)
    result = train(
        model, SGD(0.5, reg=1e-3, momentum=momentum), data, epochs=4, batch_size=32, seed=seed, native=native
    )
    return model, result


def test_learns_and_reports_the_protocol(backend):
    model, result = _run(backend)
    assert [r.epoch for r in result.history] == [1, 2, 3, 4]
    assert result.history[-1].val_acc > 0.9  # well-separated clusters
    best = max(range(4), key=lambda i: (result.history[i].val_acc, -i))  # first maximum
    assert result.best["epoch"] == best + 1
    assert result.best["val_acc"] == result.history[best].val_acc
    # The best parameters are restored, and the test accuracy is theirs.
    assert result.best["test_acc"] == evaluate(model, DATA.x_test, DATA.y_test, 32)[1]
    timings = [(r.train_seconds, r.eval_seconds) for r in result.history]
    assert all(isinstance(t, float) and t >= 0 for pair in timings for t in pair)  # recorded, not judged
    assert not result.diverged


def test_repeatable_bit_for_bit(backend):
    first_model, first = _run(backend, seed=3)
    second_model, second = _run(backend, seed=3)
    assert [(r.train_loss, r.val_loss, r.val_acc) for r in first.history] == [
        (r.train_loss, r.val_loss, r.val_acc) for r in second.history
    ]
    for name in first_model.params:
        np.testing.assert_array_equal(first_model.params[name], second_model.params[name])
    _, other = _run(backend, seed=4)
    assert other.history[0].train_loss != first.history[0].train_loss


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("architecture", ["softmax", "two-layer", "mlp"])
@pytest.mark.parametrize("name", ["numba", "cpp"])
def test_native_epoch_matches_kernel_path(name, dtype, momentum, architecture):
    backend = fastmlp.get_backend(name)
    results = []
    for native in (True, False):
        model = {
            "softmax": lambda: SoftmaxRegression(20, 4, dtype=dtype, backend=backend, init="he"),
            "two-layer": lambda: TwoLayerNet(20, 16, 4, dtype=dtype, backend=backend, init="he"),
            "mlp": lambda: MLP(20, [16, 8], 4, dtype=dtype, backend=backend),
        }[architecture]()
        data = blobs(dtype=dtype)
        optimizer = SGD(0.3, reg=1e-3, momentum=momentum)
        order = np.random.default_rng(1).permutation(len(data.x_train))
        loss, acc = train_epoch(model, optimizer, data.x_train, data.y_train, order, 50, native=native)
        val = evaluate(model, data.x_val, data.y_val, 50, native=native)
        results.append((loss, acc, val, {k: v.copy() for k, v in model.params.items()}))
    (loss_n, acc_n, val_n, params_n), (loss_k, acc_k, val_k, params_k) = results
    tol = {"float32": 2e-5, "float64": 1e-12}[dtype]
    assert loss_n == pytest.approx(loss_k, rel=tol)
    assert acc_n == acc_k
    assert val_n[0] == pytest.approx(val_k[0], rel=tol) and val_n[1] == val_k[1]
    for name in params_k:
        np.testing.assert_allclose(params_n[name], params_k[name], rtol=tol, atol=tol * 1e-2, err_msg=name)


def test_every_backend_declares_whether_it_has_a_native_epoch():
    for name in ("cpp", "numba"):
        epoch = fastmlp.get_backend(name).native_epoch
        assert epoch is not None and callable(epoch.train_epoch) and callable(epoch.evaluate)
    reference = fastmlp.get_backend("numpy")
    assert reference.native_epoch is None  # the reference stays plain
    assert not hasattr(reference, "train_epoch")


def test_the_model_description_is_built_once_per_run():
    model = TwoLayerNet(20, 16, 4, dtype="float32", backend="numpy", init="he")
    optimizer = SGD(0.1, momentum=0.9)
    net = model.describe(optimizer)
    assert model.describe(optimizer) is net  # reused while the same arrays and settings are in place
    assert net.weights[0] is model.params["W1"] and net.weight_velocities is not None
    assert net.weight_velocities[0] is optimizer.velocities["W1"]
    assert [row.name for row in net.activations] == ["sigmoid", "identity"]
    assert model.describe() is not net and model.describe().step is None
    assert model.describe(SGD(0.1)) is not net  # another optimizer, another description


def test_divergence_stops_and_keeps_the_best(backend):
    data = blobs(dtype=np.float32)
    model = MLP(20, [16], 4, dtype="float32", backend=backend, seed=5)
    result = train(model, SGD(1e30), data, epochs=5, batch_size=32)  # float32 overflows at once
    assert result.diverged
    assert "diverged" in result.message
    assert len(result.history) < 5 or not np.isfinite(result.history[-1].train_loss)


def test_interrupt_keeps_the_epochs_so_far(backend):
    data = blobs()
    model = TwoLayerNet(20, 16, 4, dtype="float64", backend=backend, init="he", seed=5)

    def stop_after_two(record):
        if record.epoch == 2:
            raise KeyboardInterrupt

    result = train(model, SGD(0.5), data, epochs=5, batch_size=32, on_epoch=stop_after_two)
    assert result.interrupted and len(result.history) == 2 and result.best["epoch"] in (1, 2)
    assert np.isfinite(result.test_acc)


def test_bad_training_arguments():
    model = TwoLayerNet(20, 16, 4, dtype="float64", backend="numpy")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        train(model, SGD(0.1), DATA, epochs=1, batch_size=0)
    with pytest.raises(TypeError, match="epochs must be an int"):
        train(model, SGD(0.1), DATA, epochs=1.5, batch_size=8)
    bad = DATA._replace(x_train=np.where(DATA.x_train > 0.9, np.nan, DATA.x_train))
    with pytest.raises(ValueError, match="x_train must be finite"):
        train(model, SGD(0.1), bad, epochs=1, batch_size=8)
    with pytest.raises(TypeError, match="x_val must have the model's dtype float64"):
        train(model, SGD(0.1), DATA._replace(x_val=DATA.x_val.astype(np.float32)), epochs=1, batch_size=8)


def test_run_config_record():
    config = {
        "Train": {"epochs": 2, "batch_size": 32},
        "Model": {"type": "MLP", "hidden_sizes": [8], "input_size": 20},
    }
    with pytest.raises(ValueError, match=r"unknown key Model\.input_size"):
        run_config(config, DATA, backend="numpy", dtype="float64")
    config["Model"].pop("input_size")
    data = blobs(features=784, n_train=100, n_val=50, n_test=50)
    record = run_config(config, data, backend="numpy", dtype="float64", seed=1).record
    assert sorted(record) == sorted(
        [
            "config",
            "backend",
            "dtype",
            "threads",
            "seed",
            "build_info",
            "history",
            "best",
            "diverged",
            "interrupted",
            "message",
        ]
    )
    assert record["build_info"] == fastmlp.build_info()
    assert len(record["history"]) == 2 and set(record["best"]) == {
        "epoch",
        "train_acc",
        "val_acc",
        "test_acc",
    }


def test_protocol_matches_a_loop_written_from_the_assignment():
    """Two epochs replayed by a plain NumPy loop written from the assignment's text (and the
    documented shuffle: one default_rng(seed) per run, one permutation per epoch)."""
    data = blobs(n_train=250, n_val=90, n_test=70)
    batch, lr, reg, seed = 32, 0.5, 1e-3, 7
    model = TwoLayerNet(20, 16, 4, dtype="float64", backend="numpy")
    result = train(model, SGD(lr, reg=reg), data, epochs=2, batch_size=batch, seed=seed)

    w1 = 0.001 * np.random.RandomState(1024).randn(20, 16)
    w2 = 0.001 * np.random.RandomState(1024).randn(16, 4)
    b1, b2 = np.zeros(16), np.zeros(4)

    def forward(x):
        a1 = 1 / (1 + np.exp(-(x @ w1 + b1)))
        scores = a1 @ w2 + b2
        p = np.exp(scores - scores.max(1, keepdims=True))
        return a1, scores, p / p.sum(1, keepdims=True)

    def loss_of(p, y):
        return -np.mean(np.log(p[np.arange(len(y)), y]))

    rng = np.random.default_rng(seed)
    for record in result.history:
        order = rng.permutation(len(data.x_train))
        losses, correct = [], 0
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            x, y = data.x_train[rows], data.y_train[rows]
            a1, scores, p = forward(x)
            losses.append(loss_of(p, y))
            correct += np.sum(scores.argmax(1) == y)
            ds = p.copy()
            ds[np.arange(len(y)), y] -= 1
            ds /= len(y)
            dz1 = (ds @ w2.T) * a1 * (1 - a1)
            grads = [a1.T @ ds + reg * w2, ds.sum(0), x.T @ dz1 + reg * w1, dz1.sum(0)]
            for param, grad in zip([w2, b2, w1, b1], grads, strict=True):
                param -= lr * grad
        assert record.train_loss == pytest.approx(np.mean(losses), rel=1e-10)
        assert record.train_acc == correct / len(order)
        val_losses = [
            loss_of(forward(data.x_val[s : s + batch])[2], data.y_val[s : s + batch])
            for s in range(0, len(data.x_val), batch)
        ]
        assert record.val_loss == pytest.approx(np.mean(val_losses), rel=1e-10)
        assert record.val_acc == np.mean(forward(data.x_val)[1].argmax(1) == data.y_val)
