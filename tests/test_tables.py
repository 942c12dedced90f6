"""Every row of every engine table runs on every backend, native epochs included; a backend that
lacks a row fails by name. The NumPy reference rows are checked against central differences."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS
from tolerances import TOLERANCES, assert_close

import fastmlp
from fastmlp.backends import _sparse, numpy_backend
from fastmlp.backends.tables import ACTIVATIONS, LOSSES, OPTIMIZERS
from fastmlp.errors import FastmlpValueError
from fastmlp.models import MLP
from fastmlp.optim import SGD, Adam, AdamSettings
from fastmlp.train import epoch_pass, train_epoch

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


def _data(dtype, rows=90, features=12, classes=4, seed=2, density=0.5):
    """x with ``density`` of its entries non-zero: the native epochs' layer 1 runs dense at 0.5 and
    over the non-zeros below backends._sparse.SPARSE_DENSITY (0.4)."""
    rng = np.random.default_rng(seed)
    x = (rng.random((rows, features)) * (rng.random((rows, features)) < density)).astype(dtype)
    return x, rng.integers(0, classes, rows)


@pytest.mark.parametrize("row", list(ACTIVATIONS.values()), ids=lambda row: row.name)
@pytest.mark.parametrize("name", NATIVE)
def test_every_activation_row_runs_in_every_native_epoch(name, row, dtype):
    backend = fastmlp.get_backend(name)
    assert backend.native_epoch is not None, f"backend {name} has no native epoch"
    if name == "cpp":  # the compiled table (cpp/activations.hpp) has the row, with its code
        from fastmlp.backends.cpp_backend import _compiled

        codes = _compiled.activation_codes
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


# --- losses ------------------------------------------------------------------------------------


def _targets(row, shape, dtype, rng):
    """Targets of a loss row: labels (N,), an (N, K) 0/1 indicator, (N, K) real values, or (N, K)
    counts for a row defined on y >= 0 only (Poisson draws: zeros included, xlogy's special case)."""
    if row.targets == "labels":
        return rng.integers(0, shape[1], shape[0])
    if row.targets == "indicator":
        return (rng.random(shape) < 0.5).astype(dtype)
    if row.nonnegative_targets:
        return rng.poisson(1.5, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("row", list(LOSSES.values()), ids=lambda row: row.name)
@pytest.mark.parametrize("name", BACKENDS)
def test_every_loss_row_has_its_kernels_on_every_backend(name, row, weighted, dtype):
    backend = fastmlp.get_backend(name)
    for kernel in (row.forward_kernel, row.backward_kernel):
        assert hasattr(backend, kernel), f"backend {name} lacks {kernel} (loss row {row.name})"
    if name == "cpp":  # the compiled table (cpp/losses.hpp) has the row, with its code
        from fastmlp.backends.cpp_backend import _compiled

        codes = _compiled.loss_codes
        assert codes.get(row.name) == row.code, f"backend {name}'s compiled table lacks loss {row.name}"
    rng = np.random.default_rng(7)
    scores = rng.standard_normal((9, 3)).astype(dtype)
    y = _targets(row, scores.shape, dtype, rng)
    weights = rng.random(9).astype(dtype) if weighted else None
    loss, outputs = getattr(backend, row.forward_kernel)(scores, y, weights)
    ref_loss, ref_outputs = getattr(numpy_backend, row.forward_kernel)(scores, y, weights)
    assert loss == pytest.approx(ref_loss, rel=TOLERANCES[np.dtype(dtype)]["rtol"])
    assert_close(outputs, ref_outputs)
    grad = getattr(backend, row.backward_kernel)(outputs, y, weights)
    assert_close(grad, getattr(numpy_backend, row.backward_kernel)(ref_outputs, y, weights))


@pytest.mark.parametrize("row", list(LOSSES.values()), ids=lambda row: row.name)
def test_reference_loss_backward_is_the_derivative(row):
    # d loss / d scores by central differences, in float64, with sample weights. scikit-learn's
    # squared-error gradient (s - y) / N is that of K times its reported loss (0.5 mean over k).
    rng = np.random.default_rng(8)
    scores = rng.standard_normal((6, 3))
    y = _targets(row, scores.shape, np.float64, rng)
    weights = rng.random(6) + 0.1
    forward = getattr(numpy_backend, row.forward_kernel)
    scale = scores.shape[1] if row.name == "squared_error" else 1
    step = 1e-6
    numeric = np.empty_like(scores)
    for index in np.ndindex(*scores.shape):
        up, down = scores.copy(), scores.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = scale * (forward(up, y, weights)[0] - forward(down, y, weights)[0]) / (2 * step)
    outputs = forward(scores, y, weights)[1]
    analytic = getattr(numpy_backend, row.backward_kernel)(outputs, y, weights)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_reference_losses_are_scikit_learns():
    # the loss values an estimator reports: scikit-learn's LOSS_FUNCTIONS on the same outputs
    from sklearn.neural_network._base import LOSS_FUNCTIONS

    rng = np.random.default_rng(9)
    scores = rng.standard_normal((8, 3))
    weights = rng.random(8)
    labels = rng.integers(0, 3, 8)
    loss, probs = numpy_backend.softmax_cross_entropy(scores, labels, weights)
    assert loss == pytest.approx(LOSS_FUNCTIONS["log_loss"](np.eye(3)[labels], probs, weights), rel=1e-12)
    indicator = (rng.random((8, 3)) < 0.5).astype(np.float64)
    loss, probs = numpy_backend.binary_cross_entropy(scores, indicator, weights)
    assert loss == pytest.approx(LOSS_FUNCTIONS["binary_log_loss"](indicator, probs, weights), rel=1e-12)
    values = rng.standard_normal((8, 3))
    loss, _ = numpy_backend.squared_error(scores, values, weights)
    assert loss == pytest.approx(LOSS_FUNCTIONS["squared_error"](values, scores, weights), rel=1e-12)
    counts = rng.poisson(1.5, (8, 3)).astype(np.float64)
    assert np.any(counts == 0)  # xlogy's 0 at y = 0 is exercised
    loss, outputs = numpy_backend.poisson_deviance(scores, counts, weights)
    np.testing.assert_array_equal(outputs, np.exp(scores))  # scikit-learn's inplace_exp
    assert loss == pytest.approx(LOSS_FUNCTIONS["poisson"](counts, outputs, weights), rel=1e-12)


NONNEGATIVE = [row for row in LOSSES.values() if row.nonnegative_targets]


@pytest.mark.parametrize("row", NONNEGATIVE, ids=lambda row: row.name)
@pytest.mark.parametrize("name", BACKENDS)
def test_loss_rows_on_nonnegative_targets_reject_a_negative_one(name, row, dtype):
    backend = fastmlp.get_backend(name)
    scores = np.zeros((4, 2), dtype)
    y = np.ones((4, 2), dtype)
    y[2, 1] = -0.5
    for kernel in (row.forward_kernel, row.backward_kernel):
        with pytest.raises(FastmlpValueError, match=rf"^y must be >= 0 for the {row.name} loss"):
            getattr(backend, kernel)(scores, y)
    model = MLP(2, [3], 2, "tanh", dtype=dtype, backend=name, seed=0, loss=row.name)
    x = np.ones((4, 2), dtype)
    for native in [False, True] if name != "numpy" else [False]:
        with pytest.raises(FastmlpValueError, match=rf"^y must be >= 0 for the {row.name} loss"):
            epoch_pass(model, SGD(0.1), x, y, np.arange(4), 2, native=native)


@pytest.mark.parametrize("name", BACKENDS)
def test_poisson_outputs_overflow_as_scikit_learns_without_a_crash(name, dtype):
    # exp is not clipped, in scikit-learn nor here: a score past log(max float) gives p = inf, the
    # loss inf (y = 0) or nan (inf - inf, y > 0); -inf-like scores give p = 0 and an infinite loss
    from sklearn.neural_network._base import LOSS_FUNCTIONS

    backend = fastmlp.get_backend(name)
    scores = np.array([[1000.0, 0.5], [0.25, -1000.0]], dtype)
    for counts, expected_loss in (([[0.0, 1.0], [2.0, 1.0]], np.inf), ([[3.0, 1.0], [2.0, 1.0]], np.nan)):
        y = np.array(counts, dtype)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            loss, outputs = backend.poisson_deviance(scores, y)
            theirs = LOSS_FUNCTIONS["poisson"](y, np.exp(scores), None)
            gradient = backend.poisson_deviance_backward(outputs, y)
        assert outputs[0, 0] == np.inf and outputs[1, 1] == 0.0
        np.testing.assert_array_equal(loss, expected_loss)
        np.testing.assert_array_equal(loss, theirs)
        assert gradient[0, 0] == np.inf and np.all(np.isfinite(gradient[:, 1:]))


# --- optimizers --------------------------------------------------------------------------------


def _step(backend, row, param, grad, buffers, t, reg):
    """One update by optimizer row ``row`` through ``backend``'s kernel (lr 0.1, momentum 0.9)."""
    kernel = getattr(backend, row.kernel)
    if row.name == "adam":
        step_size = 0.1 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        kernel(param, grad, buffers[0], buffers[1], step_size, reg, 0.9, 0.999, 1e-8)
    else:
        kernel(param, grad, 0.1, reg, 0.9, buffers[0])


@pytest.mark.parametrize("row", list(OPTIMIZERS.values()), ids=lambda row: row.name)
@pytest.mark.parametrize("name", BACKENDS)
def test_every_optimizer_row_has_its_kernel_on_every_backend(name, row, dtype):
    backend = fastmlp.get_backend(name)
    assert hasattr(backend, row.kernel), f"backend {name} lacks {row.kernel} (optimizer row {row.name})"
    rng = np.random.default_rng(10)
    start = rng.standard_normal((4, 3)).astype(dtype)
    params = [start.copy(), start.copy()]  # the backend's and the reference's
    buffers = [[np.zeros_like(params[0]) for _ in range(2)] for _ in range(2)]
    for t in range(1, 4):
        grad = rng.standard_normal((4, 3)).astype(dtype)
        for b, param, state in zip((backend, numpy_backend), params, buffers, strict=True):
            _step(b, row, param, grad, state, t, reg=1e-2)
    assert_close(params[0], params[1])
    assert_close(buffers[0][0], buffers[1][0])


@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_reference_sgd_steps_are_scikit_learns(nesterov):
    from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

    rng = np.random.default_rng(11)
    ours = rng.standard_normal((5, 4))
    theirs = [ours.copy()]
    velocity = np.zeros_like(ours)
    reference = SGDOptimizer(theirs, learning_rate_init=0.1, momentum=0.9, nesterov=nesterov)
    kernel = numpy_backend.nesterov_update if nesterov else numpy_backend.sgd_update
    for _ in range(4):
        grad = rng.standard_normal(ours.shape)
        kernel(ours, grad, 0.1, 0.0, 0.9, velocity)
        reference.update_params(theirs, [grad])
    np.testing.assert_allclose(ours, theirs[0], rtol=1e-13, atol=1e-15)


def test_reference_adam_steps_are_scikit_learns():
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

    rng = np.random.default_rng(12)
    ours = rng.standard_normal((5, 4))
    theirs = [ours.copy()]
    m, v = np.zeros_like(ours), np.zeros_like(ours)
    reference = AdamOptimizer(theirs, learning_rate_init=0.01)
    settings = AdamSettings(0.01)
    for t in range(1, 6):
        grad = rng.standard_normal(ours.shape)
        numpy_backend.adam_update(ours, grad, m, v, settings.step_size(t), 0.0, 0.9, 0.999, 1e-8)
        reference.update_params(theirs, [grad])
    np.testing.assert_allclose(ours, theirs[0], rtol=1e-13, atol=1e-15)


def test_schedules_are_scikit_learns():
    from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

    for schedule in ("constant", "invscaling", "adaptive"):
        ours = SGD(0.2, momentum=0.9, schedule=schedule, power_t=0.4)
        theirs = SGDOptimizer([np.zeros(1)], learning_rate_init=0.2, lr_schedule=schedule, power_t=0.4)
        for samples_seen in (100, 200, 300):
            ours.epoch_ended(samples_seen)
            theirs.iteration_ends(samples_seen)
            assert ours.learning_rate == theirs.learning_rate, schedule
        for _ in range(9):  # adaptive divides by 5 until lr <= 1e-6, then says stop
            assert ours.plateau() == theirs.trigger_stopping("", False), schedule
            assert ours.learning_rate == theirs.learning_rate, schedule


# --- every row in every native epoch -----------------------------------------------------------

STEPS = {  # each takes the L2 form and a factor on its learning rate
    "sgd": lambda l2, f: SGD(0.2 * f, 1e-2, 0.0, l2=l2),
    "sgd-momentum": lambda l2, f: SGD(0.2 * f, 1e-2, 0.9, l2=l2),
    "nesterov": lambda l2, f: SGD(0.2 * f, 1e-2, 0.9, nesterov=True, l2=l2),
    "adam": lambda l2, f: Adam(0.01 * f, 1e-2, l2=l2),
}
# exp outputs grow exponentially with a step's overshoot: at 0.2 with momentum 0.9 a Poisson fit
# here leaves exp's range (p = 0 or inf) within two epochs, so its SGD steps are 10x smaller
LEARNING_RATE_FACTOR = {"exp": 0.1}


@pytest.mark.parametrize("layer1", ["dense", "sparse"])
@pytest.mark.parametrize("form", ["assignment-unweighted", "sklearn-weighted"])
@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("row", list(LOSSES.values()), ids=lambda row: row.name)
@pytest.mark.parametrize("name", NATIVE)
def test_every_loss_and_optimizer_row_runs_in_every_native_epoch(name, row, step, form, layer1, dtype):
    # two epochs (Adam's t carries over) of a tanh MLP, native against numpy's kernel by kernel
    backend = fastmlp.get_backend(name)
    l2, weighting = form.split("-")
    rng = np.random.default_rng(13)
    x, _ = _data(dtype, density=0.5 if layer1 == "dense" else 0.15)
    assert (_sparse.choose(x, None, None) is None) == (layer1 == "dense")
    y = _targets(row, (len(x), 3), dtype, rng)
    weights = (rng.random(len(x)) + 0.2).astype(dtype) if weighting == "weighted" else None
    results, models, optimizers = [], [], []
    for b, native in (("numpy", False), (name, True)):
        model = MLP(12, [8, 6], 3, "tanh", dtype=dtype, backend=b, seed=3, loss=row.name)
        optimizer = STEPS[step](l2, LEARNING_RATE_FACTOR.get(row.output, 1.0))
        for epoch in range(2):
            order = np.random.default_rng(epoch).permutation(len(x))
            results.append(
                epoch_pass(model, optimizer, x, y, order, 16, sample_weight=weights, native=native)
            )
        models.append(model)
        optimizers.append(optimizer)
    assert backend.native_epoch is not None
    reference, ours = models
    for key, expected in reference.params.items():
        assert_close(ours.params[key], expected)
    for got, want in zip(results[2:], results[:2], strict=True):
        assert np.isfinite(want.loss_sum)
        assert (got.batches, got.correct) == (want.batches, want.correct)
        assert got.loss_sum == pytest.approx(want.loss_sum, rel=TOLERANCES[np.dtype(dtype)]["rtol"])
        assert got.row_weighted_loss == pytest.approx(
            want.row_weighted_loss, rel=TOLERANCES[np.dtype(dtype)]["rtol"]
        )
    assert optimizers[0].steps[0] == optimizers[1].steps[0] == 2 * 6
