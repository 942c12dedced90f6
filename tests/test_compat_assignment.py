"""fastmlp.compat in the assignment's place: temporary ``models/``, ``optimizer/`` and ``utils.py``
in the assignment's layout, one-line modules that only re-export compat (``SHIMS``), imported as
assignment code imports them, checked against a float64 NumPy implementation of the assignment
written here, with the assignment's tolerance (the sum of absolute differences over a whole
array, to 7 decimal places) and, where compat promises it, to about 1e-12.

Three parts: compat's behaviour checked in this process; the assignment's own 15 unit tests and
its main.py (our rebuild in tests/assignment/, see its README) run by ``python -m unittest`` and
``python main.py`` in a temporary copy of the assignment (``project``), as a student runs them;
and the template's behaviour item by item (loaders, rows, shuffle, names, duck typing, in-place
regularisation, zero learning rate, return types, plotting, the fast path).

Data: small MNIST-like sets (tests/synthetic.py), as IDX files or as the assignment's
data/mnist_*.csv, in the default run; the real MNIST in the ``network`` tests (``pytest -m
network``; FASTMLP_CACHE is honoured).
"""

from __future__ import annotations

import copy
import importlib
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from synthetic import mnist_like, write_mnist_csv, write_mnist_like

import fastmlp
from fastmlp.errors import DataUnavailableError, FastmlpTypeError, FastmlpValueError

# --- the assignment, in plain float64 NumPy --------------------------------------------------


def ref_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def ref_sigmoid_dev(x):
    s = ref_sigmoid(x)
    return s * (1 - s)


def ref_relu(x):
    return np.maximum(x, 0)


def ref_relu_dev(x):
    return (x > 0).astype(np.float64)


def ref_softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ref_cross_entropy(probs, y):
    return -np.mean(np.log(probs[np.arange(len(y)), y]))


def ref_accuracy(probs, y):
    return np.sum(np.argmax(probs, axis=1) == y) / len(y)


def ref_weight(shape):
    # The assignment: np.random.seed(1024); 0.001 * np.random.randn(*shape). RandomState(1024) is
    # that same generator, without touching NumPy's global one.
    return 0.001 * np.random.RandomState(1024).randn(*shape)


class RefSoftmaxRegression:
    def __init__(self, input_size=784, num_classes=10):
        self.weights = {"W1": ref_weight((input_size, num_classes))}

    def forward(self, X, y):
        z = X @ self.weights["W1"]
        probs = ref_softmax(ref_relu(z))
        dscores = probs.copy()
        dscores[np.arange(len(y)), y] -= 1
        dscores /= len(y)
        grads = {"W1": X.T @ (dscores * ref_relu_dev(z))}
        return ref_cross_entropy(probs, y), ref_accuracy(probs, y), grads


class RefTwoLayerNet:
    def __init__(self, input_size=784, num_classes=10, hidden_size=128):
        self.weights = {
            "W1": ref_weight((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": ref_weight((hidden_size, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def forward(self, X, y):
        w = self.weights
        z1 = X @ w["W1"] + w["b1"]
        a1 = ref_sigmoid(z1)
        probs = ref_softmax(a1 @ w["W2"] + w["b2"])
        dscores = probs.copy()
        dscores[np.arange(len(y)), y] -= 1
        dscores /= len(y)
        dz1 = dscores @ w["W2"].T * ref_sigmoid_dev(z1)
        grads = {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dscores, "b2": dscores.sum(axis=0)}
        return ref_cross_entropy(probs, y), ref_accuracy(probs, y), grads


def ref_update(model, grads, learning_rate, reg):
    for name, weight in model.weights.items():
        grad = grads[name] + reg * weight if name.startswith("W") else grads[name]
        weight -= learning_rate * grad


def ref_epoch(model, batches, labels, learning_rate, reg):
    loss_sum, hits = 0.0, 0
    for xb, yb in zip(batches, labels, strict=True):
        loss, accuracy, grads = model.forward(xb, yb)
        ref_update(model, grads, learning_rate, reg)
        loss_sum += loss
        hits += accuracy * len(xb)
    return loss_sum / len(batches), hits / sum(len(xb) for xb in batches)


# --- comparison -----------------------------------------------------------------------------


def assert_assignment_close(actual, expected, what=""):
    """The assignment's check, and compat's float64 promise (about 1e-12 relative)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, what
    if actual.ndim:
        assert actual.dtype == np.float64, what
    difference = float(np.sum(np.abs(actual - expected)))
    assert round(difference, 7) == 0, f"{what}: sum |difference| = {difference}"
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    assert float(np.max(np.abs(actual - expected))) <= 1e-12 * scale, f"{what}: beyond 1e-12 relative"


# --- the assignment's modules, made of compat --------------------------------------------------

# One-line modules in the assignment's layout that only re-export compat: what a user of the
# assignment puts in place of its models/, optimizer/ and utils.py.
SHIMS = {
    "models/__init__.py": "from fastmlp.compat.models import SoftmaxRegression, TwoLayerNet  # noqa: F401\n",
    "models/_base_network.py": "from fastmlp.compat.models._base_network import _baseNetwork  # noqa: F401\n",
    "models/softmax_regression.py": (
        "from fastmlp.compat.models.softmax_regression import SoftmaxRegression  # noqa: F401\n"
    ),
    "models/two_layer_nn.py": "from fastmlp.compat.models.two_layer_nn import TwoLayerNet  # noqa: F401\n",
    "optimizer/__init__.py": "from fastmlp.compat.optimizer import SGD  # noqa: F401\n",
    "optimizer/_base_optimizer.py": (
        "from fastmlp.compat.optimizer._base_optimizer import _BaseOptimizer  # noqa: F401\n"
    ),
    "optimizer/sgd.py": "from fastmlp.compat.optimizer.sgd import SGD  # noqa: F401\n",
    "utils.py": "from fastmlp.compat.utils import *  # noqa: F403\n",
}
SHIM_MODULES = (
    "models",
    "models._base_network",
    "models.softmax_regression",
    "models.two_layer_nn",
    "optimizer",
    "optimizer._base_optimizer",
    "optimizer.sgd",
    "utils",
)


def write_shims(directory: Path) -> None:
    for name, source in SHIMS.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(source)


@pytest.fixture
def assignment(tmp_path, monkeypatch):
    """The assignment's modules, imported in this process from the one-line shims."""
    write_shims(tmp_path)
    for name in SHIM_MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    modules = SimpleNamespace(
        **{name.replace(".", "_"): importlib.import_module(name) for name in SHIM_MODULES}
    )
    yield modules
    for name in SHIM_MODULES:
        sys.modules.pop(name, None)


@pytest.fixture(scope="module")
def mnist_like_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mnist-like")
    write_mnist_like(directory)
    return directory


@pytest.fixture
def synthetic_split(assignment, mnist_like_dir):
    train_data, train_label, val_data, val_label = assignment.utils.load_mnist_trainval(mnist_like_dir)
    return train_data, train_label, val_data, val_label


@pytest.fixture(scope="module")
def real_split():
    """The real MNIST through the compat loaders (cache or download: network tests only)."""
    from fastmlp.compat import load_mnist_trainval

    return load_mnist_trainval()


# --- the helpers ------------------------------------------------------------------------------


def test_helpers_match_the_assignment(assignment):
    net = assignment.models__base_network._baseNetwork()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 10)) * 4
    y = rng.integers(0, 10, 16)
    probs = ref_softmax(x)
    assert_assignment_close(net.sigmoid(x), ref_sigmoid(x), "sigmoid")
    assert_assignment_close(net.sigmoid_dev(x), ref_sigmoid_dev(x), "sigmoid_dev")
    assert_assignment_close(net.ReLU(x), ref_relu(x), "ReLU")
    assert_assignment_close(net.ReLU_dev(x), ref_relu_dev(x), "ReLU_dev")
    assert_assignment_close(net.softmax(x), probs, "softmax")
    assert_assignment_close(net.cross_entropy_loss(probs, y), ref_cross_entropy(probs, y), "cross-entropy")
    assert net.compute_accuracy(probs, y) == ref_accuracy(probs, y)
    assert 0 < ref_accuracy(probs, y) < 1  # a check that could fail either way


# --- a fresh model, the optimiser ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["SoftmaxRegression", "TwoLayerNet"])
def test_fresh_model_has_the_assignments_weights_and_zero_gradients(assignment, name):
    model = getattr(assignment.models, name)()
    reference = {"SoftmaxRegression": RefSoftmaxRegression, "TwoLayerNet": RefTwoLayerNet}[name]()
    assert list(model.weights) == list(reference.weights)
    for key, weight in reference.weights.items():
        assert_assignment_close(model.weights[key], weight, key)
        np.testing.assert_array_equal(model.gradients[key], np.zeros_like(weight))


def test_regularisation_on_a_fresh_model(assignment):
    model = assignment.models.TwoLayerNet()
    optimizer = assignment.optimizer.SGD(learning_rate=1e-4, reg=1e-3)
    optimizer.apply_regularization(model)
    reference = RefTwoLayerNet()
    for key in ("W1", "W2"):
        assert_assignment_close(model.gradients[key], 1e-3 * reference.weights[key], key)
    for key in ("b1", "b2"):
        np.testing.assert_array_equal(model.gradients[key], 0.0)


@pytest.mark.parametrize("assigned_as", ["float64", "float32", "list", "transposed"])
def test_one_sgd_step_with_gradients_assigned_by_user_code(assignment, assigned_as):
    model = assignment.models.TwoLayerNet()
    optimizer = assignment.optimizer.SGD(learning_rate=1e-4, reg=1e-3)
    reference = RefTwoLayerNet()
    rng = np.random.RandomState(1024)
    fake = {key: rng.randn(*weight.shape) for key, weight in reference.weights.items()}
    for key, gradient in fake.items():
        if assigned_as == "float32":
            fake[key] = gradient = gradient.astype(np.float32)
        model.gradients[key] = {
            "float64": gradient,
            "float32": gradient,
            "list": gradient.tolist(),
            "transposed": np.asfortranarray(gradient),
        }[assigned_as]
    fake = {k: v.astype(np.float64) for k, v in fake.items()}  # a copy: update adds reg * W in place
    optimizer.update(model)
    ref_update(reference, fake, 1e-4, 1e-3)
    for key, weight in reference.weights.items():
        assert model.weights[key].dtype == np.float64
        assert_assignment_close(model.weights[key], weight, key)


def test_weights_assigned_by_user_code_are_used(assignment):
    model = assignment.models.TwoLayerNet(input_size=6, num_classes=3, hidden_size=4)
    reference = RefTwoLayerNet(input_size=6, num_classes=3, hidden_size=4)
    rng = np.random.default_rng(3)
    for key, weight in reference.weights.items():
        weight[...] = rng.standard_normal(weight.shape)
        model.weights[key] = weight.astype(np.float32).astype(np.float64).tolist()  # a list
        weight[...] = weight.astype(np.float32)
    x, y = rng.random((5, 6)), rng.integers(0, 3, 5)
    loss, accuracy = model.forward(x, y)
    ref_loss, ref_accuracy_, grads = reference.forward(x, y)
    assert_assignment_close(loss, ref_loss, "loss")
    assert accuracy == ref_accuracy_
    for key, grad in grads.items():
        assert_assignment_close(model.gradients[key], grad, key)
    model.weights["W1"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"weights\['W1'\] must have shape \(6, 4\)"):
        model.forward(x, y)


# --- loss and gradients at initialisation ------------------------------------------------------


def check_initial_loss_and_gradients(assignment, x, y):
    x, y = np.array(x), np.array(y)  # the loaders' lists, as the assignment's NumPy code takes them
    for name, ref_class in (("SoftmaxRegression", RefSoftmaxRegression), ("TwoLayerNet", RefTwoLayerNet)):
        model = getattr(assignment.models, name)()
        loss, accuracy = model.forward(x, y, mode="train")
        ref_loss, ref_acc, grads = ref_class().forward(x, y)
        assert_assignment_close(loss, ref_loss, f"{name} loss")
        assert accuracy == ref_acc
        assert list(model.gradients) == list(grads)
        for key, grad in grads.items():
            assert np.any(grad != 0), f"{name} {key}: a vacuous comparison"
            assert_assignment_close(model.gradients[key], grad, f"{name} {key}")


def test_initial_loss_and_gradients_on_a_synthetic_batch(assignment, synthetic_split):
    train_data, train_label, _, _ = synthetic_split
    check_initial_loss_and_gradients(assignment, train_data[:64], train_label[:64])


@pytest.mark.network
def test_initial_loss_and_gradients_on_a_real_mnist_batch(assignment, real_split):
    train_data, train_label, _, _ = real_split
    check_initial_loss_and_gradients(assignment, train_data[:64], train_label[:64])


# --- the loaders and the batches ----------------------------------------------------------------


def test_loaders_split_and_scale_like_the_assignment(assignment, mnist_like_dir):
    x_train, y_train, x_test, y_test = mnist_like(n_train=60_000, n_test=10_000)  # as written
    train_data, train_label, val_data, val_label = assignment.utils.load_mnist_trainval(mnist_like_dir)
    test_data, test_label = assignment.utils.load_mnist_test(mnist_like_dir)
    cut = int(len(x_train) * 0.8)
    for got, raw in ((train_data, x_train[:cut]), (val_data, x_train[cut:]), (test_data, x_test)):
        assert type(got) is list and len(got) == len(raw)
        np.testing.assert_array_equal(np.array(got), raw / 255)
    for got, raw in ((train_label, y_train[:cut]), (val_label, y_train[cut:]), (test_label, y_test)):
        assert type(got) is list and all(type(t) is int for t in got)
        assert got == raw.tolist()


def test_generate_batched_data(assignment):
    data = np.arange(100.0).reshape(50, 2)
    label = np.arange(50)
    generate = assignment.utils.generate_batched_data
    batches, labels = generate(data, label, batch_size=16)
    assert [len(b) for b in batches] == [16, 16, 16, 2] == [len(b) for b in labels]
    np.testing.assert_array_equal(np.concatenate(batches), data)  # in order without shuffle
    shuffled, shuffled_labels = generate(data, label, batch_size=16, shuffle=True, seed=5)
    rows = np.concatenate(shuffled)
    np.testing.assert_array_equal(np.sort(rows[:, 0]), data[:, 0])  # every row exactly once
    np.testing.assert_array_equal(rows[:, 0] / 2, np.concatenate(shuffled_labels))  # rows keep their labels
    again, _ = generate(data, label, batch_size=16, shuffle=True, seed=5)
    np.testing.assert_array_equal(np.concatenate(again), rows)
    assert not np.array_equal(np.concatenate(generate(data, label, 16, True, 6)[0]), rows)
    with pytest.raises(FastmlpValueError, match="batch_size"):
        generate(data, label, batch_size=0)
    with pytest.raises(FastmlpValueError, match="label must be 50 integers"):
        generate(data, label[:-1])
    with pytest.raises(FastmlpTypeError, match="seed"):
        generate(data, label, shuffle=True, seed="5")


def python_shuffle(n, seed=None):
    """The permutation the assignment's ``random.shuffle`` gives n rows (after ``random.seed``)."""
    if seed is not None:
        random.seed(seed)
    order = list(range(n))
    random.shuffle(order)
    return order


@pytest.mark.parametrize("seed", [None, 1024, 0])
def test_shuffle_follows_pythons_random_shuffle(assignment, seed):
    data, label = np.arange(200.0).reshape(100, 2), np.arange(100)
    random.seed(99)  # the state a script may be in; seed=None shuffles from it, as the assignment
    expected = python_shuffle(100, seed)
    next_draw = random.random()
    random.seed(99)
    batches, labels = assignment.utils.generate_batched_data(data, label, 32, shuffle=True, seed=seed)
    assert np.concatenate(labels).tolist() == expected
    np.testing.assert_array_equal(np.concatenate(batches), data[expected])
    assert random.random() == next_draw  # the global generator is where the assignment leaves it


def test_batches_are_writable_copies(assignment, synthetic_split):
    train_data, train_label, _, _ = synthetic_split
    before = np.array(train_data[:40])
    for shuffle in (False, True):
        batches, labels = assignment.utils.generate_batched_data(
            train_data[:40], train_label[:40], 16, shuffle
        )
        for batch, batch_labels in zip(batches, labels, strict=True):
            assert batch.flags.writeable and batch_labels.flags.writeable
            batch *= 2.0  # the assignment's batches are its own arrays: this changes nothing else
            batch_labels[:] = 0
    np.testing.assert_array_equal(np.array(train_data[:40]), before)
    array = np.arange(12.0).reshape(6, 2)
    batches, _ = assignment.utils.generate_batched_data(array, np.zeros(6, int), 4)
    batches[0][0, 0] = -1.0
    assert array[0, 0] == 0.0


# --- one epoch ----------------------------------------------------------------------------------


def run_epoch(assignment, name, split, batch_size, learning_rate, debug=False, as_lists=False):
    train_data, train_label, val_data, val_label = split
    utils = assignment.utils
    model = getattr(assignment.models, name)()
    optimizer = assignment.optimizer.SGD(learning_rate=learning_rate, reg=1e-3)
    batches, labels = utils.generate_batched_data(train_data, train_label, batch_size, shuffle=True, seed=0)
    if as_lists:  # plain lists of arrays: the batch-by-batch path
        batches, labels = list(batches), list(labels)
    train_loss, train_acc = utils.train(0, batches, labels, model, optimizer, debug=debug)
    val_batches, val_labels = utils.generate_batched_data(val_data, val_label, batch_size)
    val_loss, val_acc = utils.evaluate(val_batches, val_labels, model, debug=debug)
    return model, (train_loss, train_acc, val_loss, val_acc), (batches, labels)


@pytest.mark.parametrize("name", ["SoftmaxRegression", "TwoLayerNet"])
def test_one_epoch_learns_and_matches_numpy(assignment, synthetic_split, name):
    # The synthetic set is small (150 batches of 32), so TwoLayerNet, which starts slowly from
    # its 0.001-scaled weights, gets a larger learning rate than the assignment's 0.1.
    learning_rate = {"SoftmaxRegression": 0.1, "TwoLayerNet": 0.5}[name]
    model, (train_loss, train_acc, _, val_acc), (batches, labels) = run_epoch(
        assignment, name, synthetic_split, 32, learning_rate
    )
    assert val_acc > 0.3 and train_acc > 0.3
    reference = {"SoftmaxRegression": RefSoftmaxRegression, "TwoLayerNet": RefTwoLayerNet}[name]()
    ref_loss, ref_acc = ref_epoch(reference, batches, labels, learning_rate, 1e-3)
    assert train_loss == pytest.approx(ref_loss, rel=1e-12) and train_acc == pytest.approx(ref_acc, rel=1e-12)
    for key, weight in reference.weights.items():
        assert_assignment_close(model.weights[key], weight, key)
    _, _, ref_grads = reference.forward(batches[-1], labels[-1])  # the last batch's, after its update
    assert set(model.gradients) == set(ref_grads)


@pytest.mark.network
@pytest.mark.parametrize("name", ["SoftmaxRegression", "TwoLayerNet"])
def test_one_epoch_on_real_mnist_beats_the_assignments_bar(assignment, real_split, name):
    _, (_, train_acc, _, val_acc), _ = run_epoch(assignment, name, real_split, 64, 0.1)
    assert val_acc > 0.3 and train_acc > 0.3


def test_native_passes_match_the_batch_by_batch_loop(assignment, synthetic_split, capsys):
    native, native_metrics, _ = run_epoch(assignment, "TwoLayerNet", synthetic_split, 32, 0.5)
    loop, loop_metrics, _ = run_epoch(assignment, "TwoLayerNet", synthetic_split, 32, 0.5, as_lists=True)
    debug, debug_metrics, _ = run_epoch(assignment, "TwoLayerNet", synthetic_split, 32, 0.5, debug=True)
    np.testing.assert_allclose(native_metrics, loop_metrics, rtol=1e-12)
    np.testing.assert_allclose(debug_metrics, native_metrics, rtol=1e-12)
    for key in native.weights:
        assert_assignment_close(native.weights[key], loop.weights[key], key)
        np.testing.assert_array_equal(debug.weights[key], native.weights[key])  # same batches, same calls
        assert_assignment_close(native.gradients[key], loop.gradients[key], key)  # the last batch's
    printed = capsys.readouterr().out.splitlines()
    n_batches = -(-len(synthetic_split[0]) // 32)
    assert [line.split("\t")[0] for line in printed if line.startswith("Epoch")] == [
        f"Epoch: [0][{i}/{n_batches}]" for i in range(0, n_batches, 10)
    ]
    assert sum(line.startswith("Evaluate") for line in printed) == -(-len(synthetic_split[2]) // 32)
    assert f"* Average Accuracy of Epoch 0 is: {debug_metrics[1]:.4f}" in printed


def test_deepcopy_keeps_a_best_model(assignment, synthetic_split):
    model, _, (batches, labels) = run_epoch(assignment, "TwoLayerNet", synthetic_split, 32, 0.5)
    best = copy.deepcopy(model)
    before = {k: v.copy() for k, v in best.weights.items()}
    assignment.utils.train(1, batches, labels, model, assignment.optimizer.SGD(0.5, 1e-3), debug=False)
    for key, weight in before.items():
        np.testing.assert_array_equal(best.weights[key], weight)
        assert not np.array_equal(model.weights[key], weight)
    assert best.forward(batches[0], labels[0], mode="test") == copy.deepcopy(best).forward(
        batches[0], labels[0], mode="test"
    )


def test_plot_curves_draws_the_assignments_two_figures_headless(assignment, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")
    monkeypatch.delenv("DISPLAY", raising=False)
    before = set(plt.get_fignums())
    try:
        histories = ([1.0, 0.5, 0.4], [0.5, 0.8, 0.9], [1.1, 0.6, 0.5], [0.4, 0.7, 0.8])
        assert assignment.utils.plot_curves(*histories) is None
        figures = [plt.figure(n) for n in sorted(set(plt.get_fignums()) - before)]
        assert [f.axes[0].get_title() for f in figures] == ["Loss Curve", "Accuracy Curve"]
        drawn = [[list(line.get_ydata()) for line in f.axes[0].get_lines()] for f in figures]
        assert drawn == [[histories[0], histories[2]], [histories[1], histories[3]]]
        assert list((tmp_path / "run").iterdir()) == []  # nothing written, as the assignment's
        assignment.utils.plot_curves(*histories, path=tmp_path / "curves.png")  # fastmlp's option
        assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        for n in set(plt.get_fignums()) - before:
            plt.close(n)
    with pytest.raises(FastmlpValueError, match="one length"):
        assignment.utils.plot_curves([1.0], [0.5, 0.8], [1.1], [0.4])


# --- the assignment's own unit tests and main script, on the shims ------------------------------

ASSIGNMENT = Path(__file__).resolve().parent / "assignment"
N_TRAIN_ROWS, N_TEST_ROWS = 25_000, 2_000  # enough for one epoch of either model to pass 0.3
OWN_TESTS = {
    "test_activation": ["test_sigmoid", "test_sigmoid_dev", "test_relu", "test_relu_dev", "test_softmax"],
    "test_loading": ["test_load_mnist", "test_generate_batch"],
    "test_loss": ["test_ce_loss", "test_accuracy"],
    "test_network": ["test_one_layer_softmax_relu", "test_two_layer_net"],
    "test_training": ["test_regularization", "test_sgd", "test_one_layer_train", "test_two_layer_train"],
}


def write_expectations(tests: Path, x_train: np.ndarray, y_train: np.ndarray) -> None:
    """The .npy files the assignment's tests compare with, from the float64 reference above."""
    batch, label = x_train[:64] / 255, y_train[:64].astype(np.int64)
    for name, files in {"softmax_grad_check": (), "twolayer_grad_check": (), "sgd": ()}.items():
        (tests / name).mkdir(parents=True, exist_ok=True)
        del files
    np.save(tests / "softmax_grad_check/test_batch.npy", batch)
    np.save(tests / "softmax_grad_check/test_label.npy", label)
    loss, _, grads = RefSoftmaxRegression().forward(batch, label)
    np.save(tests / "softmax_grad_check/expected_loss.npy", loss)
    np.save(tests / "softmax_grad_check/softmax_relu_grad.npy", grads["W1"])
    loss, _, grads = RefTwoLayerNet().forward(batch, label)
    np.save(tests / "twolayer_grad_check/expected_loss.npy", loss)
    for key, grad in grads.items():
        np.save(tests / f"twolayer_grad_check/{key.lower()}.npy", grad)
    model = RefSoftmaxRegression()
    ref_update(model, {"W1": np.random.RandomState(467).randn(784, 10)}, 1e-4, 1e-3)
    np.save(tests / "sgd/sgd_updated_weights.npy", model.weights["W1"])


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the assignment: its own tests and main.py, the shims in place of models/,
    optimizer/ and utils.py, a synthetic MNIST-like data/mnist_{train,test}.csv."""
    root = tmp_path_factory.mktemp("assignment")
    write_shims(root)
    (root / "tests").mkdir()
    for module in OWN_TESTS:
        (root / "tests" / f"{module}.py").write_text((ASSIGNMENT / f"{module}.py").read_text())
    (root / "main.py").write_text((ASSIGNMENT / "main.py").read_text())
    x_train, y_train, x_test, y_test = mnist_like(n_train=N_TRAIN_ROWS, n_test=N_TEST_ROWS, seed=1)
    (root / "data").mkdir()
    write_mnist_csv(root / "data/mnist_train.csv", x_train, y_train)
    write_mnist_csv(root / "data/mnist_test.csv", x_test, y_test)
    write_expectations(root / "tests", x_train, y_train)
    (root / "configs").mkdir()
    (root / "configs/config_twolayer.yaml").write_text(
        "Train:\n  batch_size: 64\n  learning_rate: 0.5\n  reg: 0.001\n  epochs: 2\n  debug: True\n"
        "Model:\n  type: TwoLayerNet\n  hidden_size: 128\n"
    )
    return SimpleNamespace(root=root, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def run_in(project_root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """``python command`` in the assignment's folder, as a student runs it: no FASTMLP_DATA, an
    empty cache (so only ./data can serve), no display."""
    env = {k: v for k, v in os.environ.items() if k not in ("FASTMLP_DATA", "DISPLAY", "MPLBACKEND")}
    env["FASTMLP_CACHE"] = str(project_root / "no-cache")
    return subprocess.run(
        [sys.executable, *command], cwd=project_root, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_assignments_own_15_unit_tests_pass_on_the_shims(project):
    done = run_in(project.root, "-m", "unittest", "discover", "-s", "tests", "-v")
    report = done.stderr
    assert done.returncode == 0, report + done.stdout
    assert "Ran 15 tests" in report and report.rstrip().endswith("OK")
    for module, names in OWN_TESTS.items():
        for name in names:
            assert (
                f"{name} ({module}." in report
                and "... ok" in report.split(f"{name} ({module}.")[1].split("\n")[0]
            )
    assert not (project.root / "no-cache").exists()  # ./data served every load


def test_the_assignments_main_script_runs_and_prints_its_lines(project):
    done = run_in(project.root, "main.py", "--config", "configs/config_twolayer.yaml")
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[:2] == ["Loading training data...", f"Training data loaded with {N_TRAIN_ROWS} images"]
    assert out[2:4] == ["Loading testing data...", f"Testing data loaded with {N_TEST_ROWS} images"]
    n_batches = -(-int(N_TRAIN_ROWS * 0.8) // 64)
    for epoch in (0, 1):
        batch_lines = [line for line in out if line.startswith(f"Epoch: [{epoch}][")]
        assert [line.split("\t")[0] for line in batch_lines] == [
            f"Epoch: [{epoch}][{i}/{n_batches}]" for i in range(0, n_batches, 10)
        ]
        average = [line for line in out if line.startswith(f"* Average Accuracy of Epoch {epoch} is: ")]
        assert len(average) == 1 and 0.3 < float(average[0].rsplit(" ", 1)[1]) <= 1
    assert sum(line.startswith("* Validation Accuracy: ") for line in out) == 2
    final = [line for line in out if line.startswith("Final Accuracy on Test Data: ")]
    assert len(final) == 1 and float(final[0].rsplit(" ", 1)[1]) > 0.3
    assert not (project.root / "no-cache").exists()


# --- the template's behaviour, item by item -------------------------------------------------------


def test_loaders_read_the_assignments_data_folder_first_and_print_its_lines(
    assignment, project, monkeypatch, capsys
):
    monkeypatch.chdir(project.root)
    monkeypatch.delenv("FASTMLP_DATA", raising=False)
    monkeypatch.setenv("FASTMLP_CACHE", str(project.root / "no-cache"))

    def no_fetch(*args, **kwargs):
        raise AssertionError("the loaders went past ./data to the cache")

    monkeypatch.setattr("fastmlp.data.sources.fetch", no_fetch)
    train_data, train_label, val_data, val_label = assignment.utils.load_mnist_trainval()
    test_data, test_label = assignment.utils.load_mnist_test()
    assert capsys.readouterr().out.splitlines() == [
        "Loading training data...",
        f"Training data loaded with {N_TRAIN_ROWS} images",
        "Loading testing data...",
        f"Testing data loaded with {N_TEST_ROWS} images",
    ]
    cut = int(N_TRAIN_ROWS * 0.8)
    assert len(train_data) == cut and len(val_data) == N_TRAIN_ROWS - cut
    np.testing.assert_array_equal(np.array(val_data), project.x_train[cut:] / 255)
    np.testing.assert_array_equal(np.array(test_data), project.x_test / 255)
    assert train_label + val_label == project.y_train.tolist() and test_label == project.y_test.tolist()
    assert len(train_data + val_data) == N_TRAIN_ROWS  # lists concatenate, as the assignment's
    monkeypatch.setenv("FASTMLP_DATA", str(project.root / "tests"))  # named: it wins over ./data
    with pytest.raises(DataUnavailableError, match="holds neither the two CSV files"):
        assignment.utils.load_mnist_test()


def test_load_csv_is_the_assignments(assignment, tmp_path):
    images, labels = mnist_like(n_train=5, n_test=1)[:2]
    write_mnist_csv(tmp_path / "plain.csv", images, labels)
    write_mnist_csv(tmp_path / "header.csv", images, labels, header=True)  # the wheel's files
    for name in ("plain.csv", "header.csv"):
        data, label = assignment.utils.load_csv(tmp_path / name)
        assert label == [int(v) for v in labels] and all(type(v) is int for v in label)
        assert [list(row) for row in data] == [[int(px) / 255 for px in image] for image in images]
    with pytest.raises(DataUnavailableError, match="no such file"):
        assignment.utils.load_csv(tmp_path / "missing.csv")


def test_rows_are_lists_that_share_one_array(assignment, synthetic_split):
    train_data, _, _, _ = synthetic_split
    row, other = train_data[0], train_data[1]
    values = np.array(row).tolist()
    assert isinstance(row, list) and len(row) == 784 and list(row) == values and row == values
    assert row[5] == values[5] and row[-1] == values[-1] and row[2:9] == values[2:9]
    assert repr(row) == repr(values) and row + [1.0] == [*values, 1.0] and [1.0] + row == [1.0, *values]  # noqa: RUF005
    assert (max(row) in row) and row.count(0.0) == values.count(0.0) and sorted(row) == sorted(values)
    assert pickle.loads(pickle.dumps(row)) == values and copy.deepcopy(row) == values
    view = np.asarray(row)
    with pytest.raises(ValueError, match="read-only"):
        view[0] = 1.0  # the array every row reads from is never written through a row
    before = np.array(other)
    row[0] = 0.25  # a change: the row takes its own floats, like any list
    row.append(1.0)
    assert row[0] == 0.25 and len(row) == 785 and row[1:784] == values[1:]
    np.testing.assert_array_equal(np.array(other), before)
    assert train_data[0] is row  # still the list's element, now an ordinary list
    batches, _ = assignment.utils.generate_batched_data(train_data[1:3], [0, 1], 2)
    np.testing.assert_array_equal(batches[0][0], before)


def test_building_a_model_reseeds_numpys_global_generator(assignment):
    for name, shapes in (("SoftmaxRegression", [(784, 10)]), ("TwoLayerNet", [(784, 128), (128, 10)])):
        expected = np.random.RandomState(1024)
        for shape in shapes:  # the assignment: seed(1024) before each weight matrix, then randn
            expected.seed(1024)
            expected.randn(*shape)
        np.random.seed(5)  # noqa: NPY002
        model = getattr(assignment.models, name)()
        assert np.array_equal(np.random.randn(4), expected.randn(4))  # noqa: NPY002
        for key in model.weights:
            model.weights[key][...] = 3.0
        model._weight_init()  # the assignment's hook, where the assignment has it
        for key, weight in {"SoftmaxRegression": RefSoftmaxRegression, "TwoLayerNet": RefTwoLayerNet}[
            name
        ]().weights.items():
            np.testing.assert_array_equal(model.weights[key], weight)
            np.testing.assert_array_equal(model.gradients[key], 0.0)


def test_every_name_the_template_defines(assignment):
    from models._base_network import _baseNetwork  # through the shims, as assignment code imports
    from optimizer._base_optimizer import _BaseOptimizer

    assert issubclass(assignment.models.TwoLayerNet, _baseNetwork)
    assert issubclass(assignment.models_softmax_regression.SoftmaxRegression, _baseNetwork)
    assert issubclass(assignment.optimizer.SGD, _BaseOptimizer)
    assert callable(assignment.utils.load_csv) and hasattr(
        assignment.models.SoftmaxRegression(), "_weight_init"
    )
    base = _BaseOptimizer(learning_rate=0.1, reg=0.5)
    model = assignment.models.SoftmaxRegression(input_size=4, num_classes=2)
    before = model.weights["W1"].copy()
    base.update(model)  # the base optimiser's update does nothing
    np.testing.assert_array_equal(model.weights["W1"], before)
    base.apply_regularization(model)
    np.testing.assert_array_equal(model.gradients["W1"], 0.5 * before)
    with pytest.raises(NotImplementedError):
        _baseNetwork().forward(np.zeros((1, 784)), np.zeros(1, int))


class StudentSoftmaxRegression:
    """A student's own model, the way the assignment's models are written: plain NumPy, the
    compat helpers from ``_baseNetwork`` (built below as a subclass)."""

    @staticmethod
    def make(base):
        class Model(base):
            def __init__(self, input_size=784, num_classes=10):
                super().__init__(input_size, num_classes)
                self._weight_init()

            def _weight_init(self):
                np.random.seed(1024)  # noqa: NPY002
                self.weights["W1"] = 0.001 * np.random.randn(self.input_size, self.num_classes)  # noqa: NPY002
                self.gradients["W1"] = np.zeros((self.input_size, self.num_classes))

            def forward(self, X, y, mode="train"):
                z = X @ self.weights["W1"]
                probs = self.softmax(self.ReLU(z))
                loss, accuracy = self.cross_entropy_loss(probs, y), self.compute_accuracy(probs, y)
                if mode == "train":
                    dscores = probs.copy()
                    dscores[np.arange(len(y)), y] -= 1
                    self.gradients["W1"] = X.T @ (dscores / len(y) * self.ReLU_dev(z))
                return loss, accuracy

        return Model


class StudentSGD:
    """A student's own optimiser, the assignment's way."""

    def __init__(self, learning_rate=1e-4, reg=1e-3):
        self.learning_rate, self.reg = learning_rate, reg

    def apply_regularization(self, model):
        for key in model.weights:
            if key.startswith("W"):
                model.gradients[key] += self.reg * model.weights[key]

    def update(self, model):
        self.apply_regularization(model)
        for key in model.weights:
            model.weights[key] -= self.learning_rate * model.gradients[key]


def test_compat_sgd_trains_a_students_own_model(assignment, synthetic_split):
    from models._base_network import _baseNetwork

    train_data, train_label, _, _ = synthetic_split
    batches, labels = assignment.utils.generate_batched_data(train_data[:640], train_label[:640], 64, True, 3)
    student = StudentSoftmaxRegression.make(_baseNetwork)()
    loss, acc = assignment.utils.train(
        0, batches, labels, student, assignment.optimizer.SGD(0.1, 1e-3), False
    )
    reference = RefSoftmaxRegression()
    ref_loss, ref_acc = ref_epoch(reference, batches, labels, 0.1, 1e-3)
    assert loss == pytest.approx(ref_loss, rel=1e-12) and acc == pytest.approx(ref_acc, rel=1e-12)
    assert_assignment_close(student.weights["W1"], reference.weights["W1"], "W1")
    plain = SimpleNamespace(
        weights={"W": np.ones((2, 2)), "b": np.ones(2)}, gradients={"W": np.ones((2, 2)), "b": np.ones(2)}
    )
    assignment.optimizer.SGD(learning_rate=0.5, reg=0.25).update(plain)  # any object with the dicts
    np.testing.assert_array_equal(plain.weights["W"], 1 - 0.5 * (1 + 0.25))
    np.testing.assert_array_equal(plain.weights["b"], 0.5)
    with pytest.raises(FastmlpTypeError, match="weights and gradients dicts"):
        assignment.optimizer.SGD().update(object())


def test_compat_models_train_with_a_students_own_sgd(assignment, synthetic_split):
    train_data, train_label, _, _ = synthetic_split
    batches, labels = assignment.utils.generate_batched_data(train_data[:640], train_label[:640], 64, True, 3)
    model = assignment.models.TwoLayerNet()
    loss, acc = assignment.utils.train(0, batches, labels, model, StudentSGD(0.5, 1e-3), debug=False)
    reference = RefTwoLayerNet()
    ref_loss, ref_acc = ref_epoch(reference, batches, labels, 0.5, 1e-3)
    assert loss == pytest.approx(ref_loss, rel=1e-12) and acc == pytest.approx(ref_acc, rel=1e-12)
    for key, weight in reference.weights.items():
        assert_assignment_close(model.weights[key], weight, key)


def unaligned(array):
    """A C-contiguous copy of ``array`` whose data starts 8 bytes past a 64-byte boundary."""
    raw = np.empty(array.nbytes + 128, dtype=np.uint8)
    start = (-raw.ctypes.data % 64) + 8
    out = raw[start : start + array.nbytes].view(array.dtype).reshape(array.shape)
    out[...] = array
    assert out.ctypes.data % 64 == 8 and out.flags.c_contiguous
    return out


@pytest.mark.parametrize("assigned_as", ["aligned", "unaligned", "float32", "fortran", "list"])
def test_regularisation_changes_the_gradients_dict_in_place(assignment, assigned_as):
    model = assignment.models.SoftmaxRegression()
    gradient = np.random.default_rng(1).standard_normal((784, 10))
    assigned = {
        "aligned": fastmlp._memory.aligned(gradient.copy()),
        "unaligned": unaligned(gradient),
        "float32": gradient.astype(np.float32),
        "fortran": np.asfortranarray(gradient),
        "list": gradient.tolist(),
    }[assigned_as]
    model.gradients["W1"] = assigned
    expected = np.asarray(assigned, dtype=np.float64) + 1e-3 * model.weights["W1"]
    optimizer = assignment.optimizer.SGD(learning_rate=1e-4, reg=1e-3)
    optimizer.apply_regularization(model)
    held = model.gradients["W1"]
    if assigned_as in ("aligned", "unaligned"):  # float64, C order: the array itself, whatever its address
        assert held is assigned
    np.testing.assert_array_equal(held, expected)
    optimizer.apply_regularization(model)  # converted once: now changed in place in the dict
    assert model.gradients["W1"] is held
    np.testing.assert_array_equal(held, expected + 1e-3 * model.weights["W1"])


def test_zero_learning_rate_is_a_no_op_step(assignment, synthetic_split):
    model = assignment.models.TwoLayerNet()
    before = {k: v.copy() for k, v in model.weights.items()}
    optimizer = assignment.optimizer.SGD(learning_rate=0, reg=1e-3)
    train_data, train_label, _, _ = synthetic_split
    batches, labels = assignment.utils.generate_batched_data(train_data[:256], train_label[:256], 64)
    assignment.utils.train(0, batches, labels, model, optimizer, debug=False)
    for key, weight in before.items():
        np.testing.assert_array_equal(model.weights[key], weight)
    assert np.any(model.gradients["W1"] != 0)  # the batches were run
    with pytest.raises(FastmlpValueError, match="learning_rate must be >= 0"):
        assignment.optimizer.SGD(learning_rate=-0.1)


def test_scalars_are_numpy_float64(assignment, synthetic_split):
    train_data, train_label, _, _ = synthetic_split
    model = assignment.models.SoftmaxRegression()
    x, y = np.array(train_data[:8]), np.array(train_label[:8])
    probs = model.softmax(x @ model.weights["W1"])
    results = [*model.forward(x, y), model.cross_entropy_loss(probs, y), model.compute_accuracy(probs, y)]
    for native in (True, False):
        batches, labels = assignment.utils.generate_batched_data(train_data[:128], train_label[:128], 64)
        if not native:
            batches, labels = list(batches), list(labels)
        results += assignment.utils.train(
            0, batches, labels, model, assignment.optimizer.SGD(0.1), debug=False
        )
        results += assignment.utils.evaluate(batches, labels, model, debug=False)
    assert [type(r) for r in results] == [np.float64] * len(results)


def test_the_fast_path_sees_batches_changed_as_a_whole(assignment, synthetic_split):
    train_data, train_label, _, _ = synthetic_split
    batches, labels = assignment.utils.generate_batched_data(
        train_data[:1280], train_label[:1280], 64, True, 1
    )
    for batch in batches:
        batch *= 0.5  # an in-place change of every batch
    for label in labels[:3]:
        label[:] = 0
    changed = assignment.models.TwoLayerNet()
    result = assignment.utils.train(0, batches, labels, changed, assignment.optimizer.SGD(0.5), debug=False)
    reference = RefTwoLayerNet()
    expected = ref_epoch(reference, batches, labels, 0.5, 1e-3)
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    for key, weight in reference.weights.items():
        assert_assignment_close(changed.weights[key], weight, key)
