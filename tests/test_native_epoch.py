"""The native whole-epoch functions (cpp and numba) against the kernel-by-kernel NumPy reference:
dense and sparse layer 1, one and two threads, determinism, the sparse structure, and the
floating-point mode the cpp epoch restores."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import BACKENDS
from tolerances import assert_close

import fastmlp
from fastmlp.backends import _sparse, numpy_backend
from fastmlp.backends._epoch import native_model
from fastmlp.backends._sparse import sparse_rows
from fastmlp.errors import FastmlpTypeError, FastmlpValueError
from fastmlp.optim import SGDSettings
from fastmlp.threads import max_threads

NATIVE = [name for name in ("numba", "cpp") if name in BACKENDS]

THREADS = [n for n in (1, 2) if n <= max_threads()]
# (layer widths, activations, reg, momentum): the assignment's TwoLayerNet and a deeper ReLU MLP.
NETS = [
    ((20, 16, 5), ("sigmoid", "none"), 1e-3, 0.0),
    ((20, 12, 8, 5), ("relu", "relu", "none"), 0.1, 0.9),
]


@pytest.fixture(params=NATIVE)
def native(request):
    """A backend's native epoch (train_epoch / evaluate)."""
    return fastmlp.get_backend(request.param).native_epoch


@pytest.fixture(autouse=True)
def _restore_threads():
    before = fastmlp.get_num_threads()
    yield
    fastmlp.set_num_threads(before)


def _data(dtype, rows=150, density=0.2, seed=0):
    """Inputs with mostly-zero rows (as MNIST pixels), and one all-zero row and column."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 20)) * (rng.random((rows, 20)) < density)
    x[3] = 0.0
    x[:, 7] = 0.0
    y = rng.integers(0, 5, rows)
    return x.astype(dtype), y


def _params(widths, dtype, seed=1):
    rng = np.random.default_rng(seed)
    weights = [(0.5 * rng.standard_normal((a, b))).astype(dtype) for a, b in itertools.pairwise(widths)]
    biases = [(0.1 * rng.standard_normal(b)).astype(dtype) for b in widths[1:]]
    return weights, biases


def _net(weights, biases, activations=("sigmoid", "none"), lr=None, reg=0.0, momentum=0.0, **velocities):
    """The layer description the native epochs take; with SGD settings when ``lr`` is given."""
    sgd = None if lr is None else SGDSettings(lr, reg, momentum)
    return native_model(weights, biases, activations, step=sgd, **velocities)


def _zero_velocities(weights, biases, momentum):
    """Zero velocity buffers for ``_net`` when momentum is used, else none."""
    if not momentum:
        return {}
    return {
        "weight_velocities": [np.zeros_like(p) for p in weights],
        "bias_velocities": [np.zeros_like(p) for p in biases],
    }


def _reference_epoch(x, y, order, weights, biases, activations, batch_size, lr, reg, momentum):
    """The same epoch through numpy_backend's kernels, one call at a time."""
    nb = numpy_backend
    forward = {"relu": nb.relu_forward, "sigmoid": nb.sigmoid_forward}
    wv = [np.zeros_like(w) for w in weights]
    bv = [np.zeros_like(b) for b in biases]
    loss_sum, batches, correct = 0.0, 0, 0
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        xb, yb = x[rows], y[rows]
        inputs, zs, outs = [], [], []
        a = xb
        for w, b, act in zip(weights, biases, activations, strict=True):
            inputs.append(a)
            z = nb.affine_forward(a, w, b)
            a = forward[act](z) if act != "none" else z
            zs.append(z)
            outs.append(a)
        loss, probs = nb.softmax_cross_entropy(a, yb)
        loss_sum, batches = loss_sum + loss, batches + 1
        correct += int(np.sum(np.argmax(a, axis=1) == yb))
        grad = nb.softmax_cross_entropy_backward(probs, yb)
        for layer in reversed(range(len(weights))):
            act = activations[layer]
            if act == "relu":
                grad = nb.relu_backward(grad, zs[layer])
            elif act == "sigmoid":
                grad = nb.sigmoid_backward(grad, outs[layer])
            dx, dw, db = nb.affine_backward(grad, inputs[layer], weights[layer], need_dx=layer > 0)
            vw = wv[layer] if momentum else None
            vb = bv[layer] if momentum else None
            nb.sgd_update(weights[layer], dw, lr, reg, momentum, vw)
            nb.sgd_update(biases[layer], db, lr, 0.0, momentum, vb)
            grad = dx
    return loss_sum, batches, correct, wv, bv


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("net", NETS, ids=["two_layer_sigmoid", "relu_mlp_momentum"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_native_epoch_matches_the_kernel_by_kernel_reference(native, dtype, net, sparse, threads):
    widths, activations, reg, momentum = net
    fastmlp.set_num_threads(threads)
    x, y = _data(dtype)
    order = np.random.default_rng(2).permutation(len(x))[:140]  # 140 rows: a short last batch
    ref_w, ref_b = _params(widths, dtype)
    ref_loss, ref_batches, ref_correct, ref_wv, ref_bv = _reference_epoch(
        x, y, order, ref_w, ref_b, activations, 32, 0.2, reg, momentum
    )
    w, b = _params(widths, dtype)
    velocities = _zero_velocities(w, b, momentum)
    net = _net(w, b, activations, lr=0.2, reg=reg, momentum=momentum, **velocities)
    result = native.train_epoch(net, x, y, order, batch_size=32, sparse=sparse)
    loss, batches, correct = result.loss_sum, result.batches, result.correct
    assert batches == ref_batches == 5
    assert correct == ref_correct
    assert_close(loss, ref_loss, dtype, scale=10.0)
    for got, want in zip(w + b, ref_w + ref_b, strict=True):
        assert_close(got, want, dtype)
    if momentum:
        got_velocities = velocities["weight_velocities"] + velocities["bias_velocities"]
        for got, want in zip(got_velocities, ref_wv + ref_bv, strict=True):
            assert_close(got, want, dtype)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("sparse", [False, True])
def test_epoch_is_deterministic_for_a_thread_count(native, sparse, threads):
    fastmlp.set_num_threads(threads)
    x, y = _data(np.float32, rows=400)
    order = np.random.default_rng(3).permutation(len(x))
    results = []
    for _ in range(2):
        w, b = _params((20, 16, 5), np.float32)
        out = native.train_epoch(_net(w, b, lr=0.1), x, y, order, batch_size=64, sparse=sparse)
        results.append((out, w, b))
    assert results[0][0] == results[1][0]
    for first, second in zip(results[0][1] + results[0][2], results[1][1] + results[1][2], strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_evaluate_matches_the_reference(native, dtype, sparse, threads):
    fastmlp.set_num_threads(threads)
    x, y = _data(dtype)
    w, b = _params((20, 16, 5), dtype)
    result = native.evaluate(_net(w, b), x, y, batch_size=64, sparse=sparse)
    loss, batches, correct = result.loss_sum, result.batches, result.correct
    expected_loss, expected_correct = 0.0, 0
    for start in range(0, len(x), 64):
        xb, yb = x[start : start + 64], y[start : start + 64]
        scores = numpy_backend.affine_forward(
            numpy_backend.sigmoid_forward(numpy_backend.affine_forward(xb, w[0], b[0])), w[1], b[1]
        )
        expected_loss += numpy_backend.softmax_cross_entropy(scores, yb)[0]
        expected_correct += int(np.sum(np.argmax(scores, axis=1) == yb))
    assert batches == 3
    assert correct == expected_correct
    assert_close(loss, expected_loss, dtype, scale=10.0)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sklearns_penalty_is_the_sum_of_squares_to_the_weights_precision(native, dtype, sparse, threads):
    # scikit-learn's objective adds 0.5 reg sum W^2 / n to every batch's loss. A learning rate of
    # 1e-30 leaves every weight as it is, so each batch adds the same sum and the data losses of
    # reg = 0 and reg = 1e4 are the same numbers: the losses differ by the penalties alone, here
    # checked against a float64 sum of the squares. 20-650-10: sums over whole runs of lanes and
    # the squares left over in both matrices (the compiled sum's float lanes, cpp/epoch.cpp).
    fastmlp.set_num_threads(threads)
    x, y = _data(dtype)
    order = np.random.default_rng(4).permutation(len(x))[:140]  # batches of 32, 32, 32, 32, 12
    totals = {}
    for reg in (0.0, 1e4):
        w, b = _params((20, 650, 10), dtype)
        settings = SGDSettings(1e-30, reg, l2="sklearn")
        net = native_model(w, b, ("relu", "none"), step=settings)
        totals[reg] = native.train_epoch(net, x, y, order, batch_size=32, sparse=sparse).loss_sum
        unchanged = _params((20, 650, 10), dtype)[0]
        assert all(np.array_equal(got, want) for got, want in zip(w, unchanged, strict=True))
    squares = sum(float(np.sum(m.astype(np.float64) ** 2)) for m in w)
    expected = sum(0.5 * 1e4 * squares / rows for rows in (32, 32, 32, 32, 12))
    rtol = 1e-6 if dtype == np.float32 else 1e-12  # float32: a few roundings of a float sum of 32 squares
    np.testing.assert_allclose(totals[1e4] - totals[0.0], expected, rtol=rtol)


@pytest.mark.parametrize("chunk_rows", [7, 4096])  # several chunks with a short last one, and one chunk
def test_sparse_rows_describe_the_non_zeros_of_x(monkeypatch, chunk_rows):
    monkeypatch.setattr(_sparse, "_CHUNK_ROWS", chunk_rows)
    x, _ = _data(np.float64, rows=30)
    rows = sparse_rows(x)
    rebuilt = np.zeros_like(x)
    for n in range(x.shape[0]):
        k = slice(rows.indptr[n], rows.indptr[n + 1])
        assert np.all(np.diff(rows.indices[k]) > 0)  # columns ascending within a row
        rebuilt[n, rows.indices[k]] = rows.values[k]
    np.testing.assert_array_equal(rebuilt, x)  # every non-zero is listed (a zero listed would be harmless)
    assert rows.indptr[-1] == np.count_nonzero(x)
    np.testing.assert_array_equal(rows.column_nnz, np.count_nonzero(x, axis=0))
    assert rows.density == pytest.approx(np.count_nonzero(x) / x.size)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_compiled_scan_gives_the_numpy_scans_arrays(monkeypatch, dtype):
    """count_nonzeros / compress_rows (C++) against the NumPy scan they replace, on rows with no
    non-zero, a full row, -0.0 (a zero), NaN and inf (non-zeros, as x != 0 counts them)."""
    if _sparse._compiled_scan() is None:
        pytest.skip("the compiled extension is not built: only the NumPy scan exists")
    x, _ = _data(dtype, rows=40)
    x[3] = 0.0
    x[5] = 1.5
    x[7, :4] = [-0.0, np.nan, np.inf, -np.inf]
    compiled = sparse_rows(x)
    monkeypatch.setattr(_sparse, "_compiled_scan", lambda: None)
    reference = sparse_rows(x)
    for name in ("indptr", "indices", "column_nnz"):
        np.testing.assert_array_equal(getattr(compiled, name), getattr(reference, name), err_msg=name)
    assert compiled.values.dtype == reference.values.dtype == dtype
    np.testing.assert_array_equal(compiled.values, reference.values)  # NaN equal to NaN here
    assert compiled.density == reference.density
    assert sparse_rows(x, values=False).values is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("columns", [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 784])
def test_the_compiled_scan_matches_numpy_at_every_width(monkeypatch, dtype, columns):
    """Rows as wide as one vector of each dtype, one lane more or less, several vectors and a
    partial last one (the AVX-512 compress's masked tail), with zeros and non-zeros spread."""
    if _sparse._compiled_scan() is None:
        pytest.skip("the compiled extension is not built: only the NumPy scan exists")
    rng = np.random.default_rng(columns)
    x = (rng.standard_normal((33, columns)) * (rng.random((33, columns)) < 0.4)).astype(dtype)
    x[0] = 0.0
    x[1] = 2.0
    compiled = sparse_rows(x)
    monkeypatch.setattr(_sparse, "_compiled_scan", lambda: None)
    reference = sparse_rows(x)
    np.testing.assert_array_equal(compiled.indptr, reference.indptr)
    np.testing.assert_array_equal(compiled.indices, reference.indices)
    np.testing.assert_array_equal(compiled.values, reference.values)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compress_rows_writes_no_more_than_each_rows_room(dtype):
    """An indptr that gives a row less room than it has non-zeros (not from count_nonzeros of this
    x) gets that row's first non-zeros and nothing past its room: the row after it starts where
    indptr says, and what no row claims stays as it was."""
    compiled = _sparse._compiled_scan()
    if compiled is None:
        pytest.skip("the compiled extension is not built")
    x = np.ones((2, 37), dtype)
    sentinel = 999
    for room in (5, 20):  # within the first vector of 16 (8) columns, and in a later one
        indptr = np.array([0, room, room + 50], np.int64)
        indices = np.full(room + 50, sentinel, np.uint16)
        values = np.full(room + 50, -1.0, dtype)
        compiled.compress_rows(x, indptr, indices, values)
        np.testing.assert_array_equal(indices[:room], np.arange(room))
        np.testing.assert_array_equal(indices[room : room + 37], np.arange(37))
        assert (indices[room + 37 :] == sentinel).all()
        assert (values[: room + 37] == 1.0).all() and (values[room + 37 :] == -1.0).all()


def test_the_compiled_scan_refuses_arrays_that_do_not_fit_x():
    compiled = _sparse._compiled_scan()
    if compiled is None:
        pytest.skip("the compiled extension is not built")
    x = np.eye(3, dtype=np.float32)
    with pytest.raises(ValueError, match="indptr"):
        compiled.count_nonzeros(x, np.zeros(3, np.int64), np.zeros(3, np.int64))
    indices = np.zeros(3, np.uint16)
    with pytest.raises(ValueError, match="must not decrease"):
        compiled.compress_rows(x, np.array([0, 2, 1, 3], np.int64), indices, None)
    with pytest.raises(ValueError, match="indices"):
        compiled.compress_rows(x, np.array([0, 1, 2, 4], np.int64), indices, None)


@pytest.mark.parametrize("compiled", [True, False])
def test_column_counts_are_numpys_bincount(monkeypatch, compiled):
    """column_counts (a CSR's non-zeros per column: compiled, or numpy.bincount without the
    extension) on runs of one column, the last column, sizes not a multiple of the four counts,
    no entries; a column number out of range or a wrong array is refused, naming the argument."""
    if not compiled:
        monkeypatch.setattr(_sparse, "_compiled_scan", lambda: None)
    elif _sparse._compiled_scan() is None:
        pytest.skip("the compiled extension is not built")
    rng = np.random.default_rng(3)
    for size, columns in ((4099, 37), (8, 1), (0, 5), (1001, 65536)):
        indices = rng.integers(0, columns, size).astype(np.uint16)
        if size > 100:
            indices[10:60] = columns - 1  # a run of the last column
        counts = _sparse.column_counts(indices, columns)
        assert counts.dtype == np.int64 and counts.shape == (columns,)
        np.testing.assert_array_equal(counts, np.bincount(indices, minlength=columns))
    with pytest.raises(FastmlpValueError, match=r"indices must lie in \[0, 4\)"):
        _sparse.column_counts(np.array([0, 3, 4, 1, 2], np.uint16), 4)
    with pytest.raises(FastmlpTypeError, match="indices"):
        _sparse.column_counts(np.array([0, 1], np.int32), 4)
    with pytest.raises(FastmlpValueError, match="columns"):
        _sparse.column_counts(np.array([0, 1], np.uint16), 0)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("indptr", np.array([0, 2, 1, 3], np.int64), "must not decrease"),
        ("indptr", np.array([1, 2, 3, 3], np.int64), "starting at 0"),
        ("indptr", np.array([0, 1, 2], np.int64), "shape"),
        ("indices", np.array([0, 1, 9], np.uint16), r"in \[0, 4\)"),
        ("indices", np.array([0, 1, 2], np.int32), "uint16"),
        ("indices", np.array([[0, 1, 2]], np.uint16), "1-D"),
        ("column_nnz", np.zeros(3, np.int64), "column_nnz"),
        ("values", np.ones(2), "one entry per index"),
        ("values", np.ones(3, np.int64), "float32 or float64"),
    ],
)
def test_a_hand_made_sparse_structure_is_checked_before_compiled_code_sees_it(field, value, message):
    good = {
        "indptr": np.array([0, 1, 2, 3], np.int64),
        "indices": np.array([0, 1, 2], np.uint16),
        "values": np.ones(3),
        "column_nnz": np.array([1, 1, 1, 0], np.int64),
    }
    with pytest.raises(ValueError, match=message):
        _sparse.SparseRows((3, 4), **{**good, field: value}, density=0.25)
    with pytest.raises(TypeError, match=f"{field} must be a numpy.ndarray"):
        _sparse.SparseRows((3, 4), **{**good, field: value.tolist()}, density=0.25)


def test_given_sparse_rows_must_describe_x(native):
    x, y = _data(np.float32)
    w, b = _params((20, 16, 5), np.float32)
    other = sparse_rows(x[:10])
    with pytest.raises(ValueError, match="x_sparse"):
        native.evaluate(_net(w, b), x, y, batch_size=8, x_sparse=other)
    with pytest.raises(TypeError, match="sparse"):
        native.evaluate(_net(w, b), x, y, batch_size=8, sparse="yes")
    wide = sparse_rows(x.astype(np.float64))  # same pattern, values of another dtype
    with pytest.raises(ValueError, match="x_sparse holds float64 values"):
        native.evaluate(_net(w, b), x, y, batch_size=8, x_sparse=wide)


def test_explicit_sparse_rows_give_the_cached_paths_numbers(native):
    x, y = _data(np.float32)
    order = np.arange(len(x))
    w1, b1 = _params((20, 16, 5), np.float32)
    w2, b2 = _params((20, 16, 5), np.float32)
    first = native.train_epoch(_net(w1, b1, lr=0.1), x, y, order, batch_size=16, sparse=True)
    given = sparse_rows(x)
    second = native.train_epoch(_net(w2, b2, lr=0.1), x, y, order, batch_size=16, x_sparse=given, sparse=True)
    assert first == second
    np.testing.assert_array_equal(w1[0], w2[0])


@pytest.mark.skipif("cpp" not in BACKENDS, reason="FASTMLP_TEST_BACKENDS excludes cpp")
def test_subnormal_mode_is_restored_after_the_native_call():
    # The cpp epoch flushes subnormals to zero while it runs; afterwards NumPy must see them again.
    x, y = _data(np.float32)
    w, b = _params((20, 16, 5), np.float32)
    fastmlp.get_backend("cpp").native_epoch.train_epoch(
        _net(w, b, lr=0.1), x, y, np.arange(len(x)), batch_size=16
    )
    tiny = np.array([np.finfo(np.float32).tiny], dtype=np.float32)
    assert (tiny / np.float32(4))[0] > 0


@pytest.mark.parametrize("sparse", [False, True])
def test_results_do_not_depend_on_where_x_sits(native, sparse):
    # The cpp backend reads x without an aligned copy (only its rows are copied, or its CSR read):
    # the same values at a misaligned address must give the same bits.
    x, y = _data(np.float32, rows=200)
    shifted = np.empty(x.size + 3, np.float32)[3:].reshape(x.shape)
    shifted[...] = x
    order = np.random.default_rng(4).permutation(len(x))
    results = []
    for data in (x, shifted):
        w, b = _params((20, 16, 5), np.float32)
        trained = native.train_epoch(
            _net(w, b, lr=0.1, reg=1e-3), data, y, order, batch_size=32, sparse=sparse
        )
        evaluated = native.evaluate(_net(w, b), data, y, batch_size=32, sparse=sparse)
        results.append((trained, evaluated, w, b))
    assert results[0][:2] == results[1][:2]
    for first, second in zip(results[0][2] + results[0][3], results[1][2] + results[1][3], strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("offset", [1, 3])
def test_results_do_not_depend_on_where_the_csr_sits(native, offset):
    # fastmlp.sklearn hands the epochs a CSR's own arrays, wherever they start (no aligned copies):
    # the compiled epochs read them one number at a time, so the bits must not move with them.
    x, y = _data(np.float32, rows=200)
    rows = sparse_rows(x)

    def shifted(a):
        view = np.empty(a.size + offset, a.dtype)[offset:]
        view[...] = a
        return view

    moved = _sparse.SparseRows(
        rows.shape,
        *(shifted(a) for a in rows.arrays),
        rows.density,  # type: ignore[arg-type]
    )
    assert all(a.__array_interface__["data"][0] % 64 for a in moved.arrays if a is not None)
    order = np.random.default_rng(4).permutation(len(x))
    results = []
    for csr in (rows, moved):
        w, b = _params((20, 16, 5), np.float32)
        trained = native.train_epoch(
            _net(w, b, lr=0.1, reg=1e-3, momentum=0.9, **_zero_velocities(w, b, 0.9)),
            x,
            y,
            order,
            batch_size=32,
            x_sparse=csr,
        )
        evaluated = native.evaluate(_net(w, b), x, y, batch_size=32, x_sparse=csr)
        results.append((trained, evaluated, w, b))
    assert results[0][:2] == results[1][:2]
    for first, second in zip(results[0][2] + results[0][3], results[1][2] + results[1][3], strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("threads", THREADS)
def test_sparse_epoch_with_batches_of_more_than_64_rows(native, threads):
    # The C++ regrouping keeps one bit per batch row in 64-bit words: 130 rows span three words.
    fastmlp.set_num_threads(threads)
    x, y = _data(np.float64, rows=300)
    order = np.random.default_rng(5).permutation(len(x))
    ref_w, ref_b = _params((20, 16, 5), np.float64)
    ref_loss, ref_batches, ref_correct, _, _ = _reference_epoch(
        x, y, order, ref_w, ref_b, ("sigmoid", "none"), 130, 0.2, 1e-3, 0.0
    )
    w, b = _params((20, 16, 5), np.float64)
    result = native.train_epoch(_net(w, b, lr=0.2, reg=1e-3), x, y, order, batch_size=130, sparse=True)
    loss, batches, correct = result.loss_sum, result.batches, result.correct
    assert (batches, correct) == (ref_batches, ref_correct) == (3, ref_correct)
    assert_close(loss, ref_loss, np.float64, scale=10.0)
    for got, want in zip(w + b, ref_w + ref_b, strict=True):
        assert_close(got, want, np.float64)


def test_inputs_wider_than_the_sparse_index_take_the_dense_path(native):
    # Column numbers are 2 bytes: above MAX_COLUMNS the automatic choice is the dense path, and
    # asking for the sparse one is an error naming the limit.
    rng = np.random.default_rng(6)
    columns = _sparse.MAX_COLUMNS + 1
    x = np.zeros((4, columns), np.float32)
    x[:, rng.integers(0, columns, 10)] = 1.0
    y = np.array([0, 1, 0, 1])
    w, b = [np.zeros((columns, 2), np.float32)], [np.zeros(2, np.float32)]
    assert _sparse.choose(x, None, None) is None
    result = native.evaluate(_net(w, b, ["none"]), x, y, batch_size=2)
    assert result.batches == 2 and result.loss_sum == pytest.approx(2 * np.log(2), rel=1e-6)
    with pytest.raises(ValueError, match="at most 65536 columns"):
        native.evaluate(_net(w, b, ["none"]), x, y, batch_size=2, sparse=True)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("net", NETS, ids=["two_layer_sigmoid", "relu_mlp_momentum"])
def test_values_read_from_x_give_the_compact_values_bits(native, net, dtype, threads):
    """A structure without its values copy (values None: read x) trains and evaluates to the same
    bits as one with it: the same numbers summed in the same order."""
    widths, activations, reg, momentum = net
    fastmlp.set_num_threads(threads)
    x, y = _data(dtype, rows=300)
    order = np.random.default_rng(4).permutation(len(x))[:290]
    results = []
    for with_values in (True, False):
        given = sparse_rows(x, values=with_values)
        assert (given.values is None) is not with_values
        w, b = _params(widths, dtype)
        velocities = _zero_velocities(w, b, momentum)
        layered = _net(w, b, activations, lr=0.2, reg=reg, momentum=momentum, **velocities)
        trained = native.train_epoch(layered, x, y, order, batch_size=32, x_sparse=given, sparse=True)
        evaluated = native.evaluate(layered, x, y, batch_size=64, x_sparse=given, sparse=True)
        results.append((trained, evaluated, w, b))
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]
    for first, second in zip(results[0][2] + results[0][3], results[1][2] + results[1][3], strict=True):
        np.testing.assert_array_equal(first, second)


def test_training_caches_the_values_and_evaluation_reads_x(native):
    x, y = _data(np.float32, rows=200)
    held_out, y_held_out = _data(np.float32, rows=100, seed=5)
    w, b = _params((20, 16, 5), np.float32)
    layered = _net(w, b, lr=0.1)
    native.train_epoch(layered, x, y, np.arange(len(x)), batch_size=32)
    native.evaluate(layered, held_out, y_held_out, batch_size=32)
    assert _sparse._cache[id(x)][2].values is not None
    assert _sparse._cache[id(held_out)][2].values is None
    # evaluating the training rows reuses their structure, values and all, instead of a second one
    native.evaluate(layered, x, y, batch_size=32)
    assert _sparse._cache[id(x)][2].values is not None
    # training on rows seen only by evaluation so far gives them their values
    native.train_epoch(layered, held_out, y_held_out, np.arange(len(held_out)), batch_size=32)
    assert _sparse._cache[id(held_out)][2].values is not None


def test_sparse_rows_without_values():
    x, _ = _data(np.float64, rows=30)
    kept, bare = sparse_rows(x), sparse_rows(x, values=False)
    assert bare.values is None
    np.testing.assert_array_equal(bare.indptr, kept.indptr)
    np.testing.assert_array_equal(bare.indices, kept.indices)
    with pytest.raises(TypeError, match="values must be True or False"):
        sparse_rows(x, values="no")
