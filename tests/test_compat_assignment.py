"""fastmlp.compat in the assignment's place: temporary ``models``, ``optimizer`` and ``utils``
packages that only re-export compat, imported as assignment code imports them, checked against a
float64 NumPy implementation of the assignment written here, with the assignment's tolerance
(the sum of absolute differences over a whole array, to 7 decimal places) and, where compat
promises it, to about 1e-12.

Data: a small MNIST-like dataset (tests/synthetic.py) in the default run; the real MNIST in the
``network`` tests (``pytest -m network``; FASTMLP_CACHE is honoured).
"""

from __future__ import annotations

import copy
import importlib
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from synthetic import mnist_like, write_mnist_like

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

ASSIGNMENT_MODULES = {
    "models": "from fastmlp.compat.models import BaseNetwork, SoftmaxRegression, TwoLayerNet\n",
    "optimizer": "from fastmlp.compat.optimizer import SGD\n",
    "utils": (
        "from fastmlp.compat.utils import (\n    evaluate, generate_batched_data, load_mnist_test,"
        " load_mnist_trainval, plot_curves, train,\n)\n"
    ),
}


@pytest.fixture
def assignment(tmp_path, monkeypatch):
    """``models``, ``optimizer``, ``utils`` imported from packages that only re-export compat."""
    for name, source in ASSIGNMENT_MODULES.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(source)
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    modules = SimpleNamespace(**{name: importlib.import_module(name) for name in ASSIGNMENT_MODULES})
    yield modules
    for name in ASSIGNMENT_MODULES:
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
    net = assignment.models.BaseNetwork()
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
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, raw / 255)
    for got, raw in ((train_label, y_train[:cut]), (val_label, y_train[cut:]), (test_label, y_test)):
        np.testing.assert_array_equal(got, raw)


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
    np.random.seed(5)  # noqa: NPY002 - the assignment's way of seeding the shuffle
    np.testing.assert_array_equal(rows, data[np.random.permutation(50)])  # noqa: NPY002
    again, _ = generate(data, label, batch_size=16, shuffle=True, seed=5)
    np.testing.assert_array_equal(np.concatenate(again), rows)
    assert not np.array_equal(np.concatenate(generate(data, label, 16, True, 6)[0]), rows)
    with pytest.raises(ValueError, match="batch_size"):
        generate(data, label, batch_size=0)
    with pytest.raises(ValueError, match="label must have shape"):
        generate(data, label[:-1])


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
    assert train_loss == pytest.approx(ref_loss, rel=1e-10) and train_acc == ref_acc
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


def test_plot_curves_writes_a_png_headless(assignment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    path = assignment.utils.plot_curves([1.0, 0.5, 0.4], [0.5, 0.8, 0.9], [1.1, 0.6, 0.5], [0.4, 0.7, 0.8])
    assert (tmp_path / path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="one length"):
        assignment.utils.plot_curves([1.0], [0.5, 0.8], [1.1], [0.4])
