"""Every kernel of every backend against the NumPy reference, float32 and float64.

Output buffers are pre-filled with NaN so a kernel that skips an element is caught, and every
input is checked unchanged afterwards.
"""

from __future__ import annotations

import numpy as np
import pytest
from tolerances import assert_close

# (N, D, M, C): the assignment's sizes at several batch sizes, plus odd sizes.
SHAPES = [
    (1, 784, 128, 10),
    (7, 784, 128, 10),
    (64, 784, 128, 10),
    (1000, 784, 128, 10),
    (3, 5, 2, 2),
    (13, 17, 9, 3),
]
SHAPE_IDS = [f"N{n}-D{d}-M{m}-C{c}" for n, d, m, c in SHAPES]
LABEL_DTYPES = (np.int8, np.uint8, np.int32, np.int64)


def _arrays(rng, dtype, *shapes, scale=1.0):
    return [(scale * rng.standard_normal(shape)).astype(dtype) for shape in shapes]


def _nan(shape, dtype):
    return np.full(shape, np.nan, dtype=dtype)


def _check(backend, reference, name, args, *, out_shape=None, scale=1.0):
    """Run kernel ``name`` on both backends (with and without out=) and compare."""
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    expected = getattr(reference, name)(*args)
    actual = getattr(backend, name)(*args)
    for arg, saved in zip(args, before, strict=True):
        if isinstance(arg, np.ndarray):
            np.testing.assert_array_equal(arg, saved, err_msg=f"{name} modified an input")
    if isinstance(expected, tuple):
        for a, e in zip(actual, expected, strict=True):
            _compare(a, e, scale)
    else:
        _compare(actual, expected, scale)
    if out_shape is not None:
        out = _nan(out_shape, expected.dtype)
        returned = getattr(backend, name)(*args, out=out)
        assert returned is out
        _compare(out, expected, scale)
    return actual


def _compare(actual, expected, scale):
    if expected is None:
        assert actual is None
        return
    if isinstance(expected, float):
        assert isinstance(actual, float)
        assert actual == pytest.approx(expected, rel=2e-5, abs=1e-6)
        return
    assert isinstance(actual, np.ndarray)
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    assert_close(actual, expected, scale=scale)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("with_bias", [True, False])
def test_affine_forward(backend, reference, dtype, shape, with_bias):
    n, d, m, _ = shape
    rng = np.random.default_rng(n * 31 + d)
    x, w, b = _arrays(rng, dtype, (n, d), (d, m), (m,))
    args = [x, w, b] if with_bias else [x, w]
    _check(backend, reference, "affine_forward", args, out_shape=(n, m), scale=np.sqrt(d))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize(
    ("need_dx", "has_bias"), [(True, True), (False, True), (True, False), (False, False)]
)
def test_affine_backward(backend, reference, dtype, shape, need_dx, has_bias):
    n, d, m, _ = shape
    rng = np.random.default_rng(n * 7 + m)
    dout, x, w = _arrays(rng, dtype, (n, m), (n, d), (d, m))
    dx, _dw, db = _check(
        backend, reference, "affine_backward", [dout, x, w, need_dx, has_bias], scale=np.sqrt(max(n, d))
    )
    assert (dx is None) == (not need_dx)
    assert (db is None) == (not has_bias)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_relu(backend, reference, dtype, shape):
    n, _, m, _ = shape
    rng = np.random.default_rng(n + m)
    z, dout = _arrays(rng, dtype, (n, m), (n, m))
    z[:, 0] = 0.0  # the derivative at exactly 0 is taken as 0
    _check(backend, reference, "relu_forward", [z], out_shape=(n, m))
    _check(backend, reference, "relu_backward", [dout, z], out_shape=(n, m))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_sigmoid(backend, reference, dtype, shape):
    n, _, m, _ = shape
    rng = np.random.default_rng(n + 2 * m)
    (z,) = _arrays(rng, dtype, (n, m), scale=10.0)
    (dout,) = _arrays(rng, dtype, (n, m))
    a = _check(backend, reference, "sigmoid_forward", [z], out_shape=(n, m))
    _check(backend, reference, "sigmoid_backward", [dout, a], out_shape=(n, m))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_softmax(backend, reference, dtype, shape):
    n, _, _, c = shape
    rng = np.random.default_rng(n + c)
    scores, dprobs = _arrays(rng, dtype, (n, c), (n, c), scale=3.0)
    probs = _check(backend, reference, "softmax_forward", [scores], out_shape=(n, c))
    assert_close(probs.sum(axis=1), np.ones(n, dtype))
    _check(backend, reference, "softmax_backward", [dprobs, probs], out_shape=(n, c))


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("label_dtype", LABEL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_cross_entropy_family(backend, reference, dtype, shape, label_dtype):
    n, _, _, c = shape
    rng = np.random.default_rng(n * c)
    (scores,) = _arrays(rng, dtype, (n, c), scale=3.0)
    y = rng.integers(0, c, n).astype(label_dtype)
    probs = reference.softmax_forward(scores)
    _check(backend, reference, "cross_entropy_forward", [probs, y])
    _check(backend, reference, "softmax_cross_entropy", [scores, y])
    _check(backend, reference, "softmax_cross_entropy_backward", [probs, y], out_shape=(n, c))
    _check(backend, reference, "accuracy", [scores, y])


def test_accuracy_counts_exactly(backend, dtype):
    # Independent expectation: rows built so that exactly 3 of 5 arg-maxes hit their label.
    scores = np.array([[5, 0, 0], [0, 5, 0], [0, 0, 5], [5, 0, 0], [0, 5, 0]], dtype=dtype)
    y = np.array([0, 1, 2, 1, 2])
    assert backend.accuracy(scores, y) == 3 / 5


@pytest.mark.parametrize("shape", [(784, 128), (128,), (10,), (3, 5)], ids=str)
@pytest.mark.parametrize(("reg", "momentum"), [(0.0, 0.0), (1e-3, 0.0), (0.0, 0.9), (1e-4, 0.9)])
def test_sgd_update(backend, reference, dtype, shape, reg, momentum):
    rng = np.random.default_rng(len(shape))
    param, grad, velocity = _arrays(rng, dtype, shape, shape, shape)
    results = []
    for module in (reference, backend):
        p, v = param.copy(), velocity.copy()
        g = grad.copy()
        module.sgd_update(p, g, 0.1, reg=reg, momentum=momentum, velocity=v if momentum else None)
        np.testing.assert_array_equal(g, grad)
        results.append((p, v))
    (p_ref, v_ref), (p_got, v_got) = results
    assert p_got.dtype == dtype
    assert_close(p_got, p_ref)
    assert_close(v_got, v_ref)


def test_sgd_update_matches_the_formula(backend, dtype):
    # Expected values written out by hand from the documented formulas.
    param = np.array([1.0, -2.0], dtype=dtype)
    grad = np.array([0.5, 0.5], dtype=dtype)
    velocity = np.array([0.1, 0.0], dtype=dtype)
    backend.sgd_update(param, grad, 0.1, reg=0.5, momentum=0.9, velocity=velocity)
    # g = grad + 0.5 * param = [1.0, -0.5]; v = 0.9 v - 0.1 g = [-0.01, 0.05]; p += v
    assert_close(velocity, np.array([-0.01, 0.05], dtype=dtype))
    assert_close(param, np.array([0.99, -1.95], dtype=dtype))


def test_non_contiguous_inputs_are_accepted(backend, reference, dtype):
    rng = np.random.default_rng(5)
    big_x, big_w = _arrays(rng, dtype, (20, 30), (30, 12))
    x, w = big_x[::2, ::2], big_w[::2, ::3]
    assert not x.flags.c_contiguous
    assert_close(
        backend.affine_forward(x, w),
        reference.affine_forward(np.ascontiguousarray(x), np.ascontiguousarray(w)),
    )
    z = big_x[:, ::3]
    assert_close(backend.sigmoid_forward(z), reference.sigmoid_forward(np.ascontiguousarray(z)))


@pytest.mark.parametrize("offset", [1, 2, 3, 5])
def test_results_do_not_depend_on_memory_position(backend, dtype, offset):
    # Same values at another address (a view shifted by `offset` elements): the bits must match,
    # or training would not be repeatable from run to run.
    rng = np.random.default_rng(offset)
    dout, x, w = _arrays(rng, dtype, (13, 9), (13, 11), (11, 9))
    scores = _arrays(rng, dtype, (13, 10))[0]
    y = rng.integers(0, 10, 13)

    def shifted(a):
        buffer = np.empty(a.size + offset, a.dtype)
        view = buffer[offset:].reshape(a.shape)
        view[...] = a
        return view

    for got, want in zip(
        backend.affine_backward(shifted(dout), shifted(x), shifted(w)),
        backend.affine_backward(dout, x, w),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)
    assert backend.softmax_cross_entropy(shifted(scores), y)[0] == backend.softmax_cross_entropy(scores, y)[0]
    np.testing.assert_array_equal(
        backend.affine_forward(shifted(x), shifted(w)), backend.affine_forward(x, w)
    )
