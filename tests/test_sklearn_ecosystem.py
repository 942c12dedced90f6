"""fastmlp.sklearn in scikit-learn's ecosystem: inputs of every kind, Pipeline and the searches
(with joblib workers and joblib's Dask backend), clone and pickle, the added parameters."""

from __future__ import annotations

import pickle
import warnings

import joblib
import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the sklearn extra is not installed")

from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neural_network import MLPClassifier as SklearnClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import fastmlp
from fastmlp.sklearn import MLPClassifier

SUPPORTED = dict(learning_rate_init=0.01, max_iter=8, random_state=0)  # adam, scikit-learn's default


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def data(n=240, d=10, classes=3):
    return make_classification(n, d, n_informative=6, n_classes=classes, random_state=1)


def test_pandas_columns_become_feature_names_in():
    pd = pytest.importorskip("pandas")
    X, y = data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = MLPClassifier(**SUPPORTED).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    np.testing.assert_array_equal(
        model.predict(frame), SklearnClassifier(**SUPPORTED).fit(frame, y).predict(frame)
    )
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X)  # scikit-learn's warning: fitted with names, predicted without


@pytest.mark.parametrize("kind", ["C", "F", "int", "memmap"])
def test_dense_layouts_and_integers_give_the_same_fit(kind, tmp_path):
    X, y = data()
    X = np.round(X * 4)  # integral values, so that the int64 copy is the same data
    reference = MLPClassifier(**SUPPORTED).fit(X, y)
    if kind == "F":
        given = np.asfortranarray(X)
    elif kind == "int":
        given = X.astype(np.int64)
    elif kind == "memmap":
        path = tmp_path / "x.npy"
        np.save(path, X)
        given = np.load(path, mmap_mode="r")
    else:
        given = np.ascontiguousarray(X)
    model = MLPClassifier(**SUPPORTED).fit(given, y)
    for mine, theirs in zip(model.coefs_, reference.coefs_, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_array_equal(model.predict_proba(given), reference.predict_proba(X))


def test_pipeline_and_searches_with_joblib_workers():
    X, y = data()
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(**SUPPORTED))
    grid = GridSearchCV(pipeline, {"mlpclassifier__alpha": [0.0, 1e-2]}, cv=2, n_jobs=2).fit(X, y)
    assert grid.best_estimator_.score(X, y) > 0.6
    # the same search in this process picks the same parameters with the same scores
    serial = GridSearchCV(pipeline, {"mlpclassifier__alpha": [0.0, 1e-2]}, cv=2, n_jobs=1).fit(X, y)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    space = {"learning_rate_init": [0.01, 0.1]}
    random = RandomizedSearchCV(MLPClassifier(**SUPPORTED), space, n_iter=2, cv=2, n_jobs=2, random_state=0)
    random.fit(X, y)
    assert set(random.cv_results_["param_learning_rate_init"]) == {0.01, 0.1}


def test_search_on_joblibs_dask_backend():
    distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed")
    X, y = data()
    search = GridSearchCV(MLPClassifier(**SUPPORTED), {"alpha": [0.0, 1e-2]}, cv=2)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None):
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
    serial = GridSearchCV(MLPClassifier(**SUPPORTED), {"alpha": [0.0, 1e-2]}, cv=2).fit(X, y)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])


def test_clone_pickle_and_joblib_dump_round_trip(tmp_path):
    X, y = data()
    model = MLPClassifier(backend="numpy", n_threads=1, **SUPPORTED).fit(X, y)
    fresh = clone(model)
    assert fresh.get_params() == model.get_params() and not hasattr(fresh, "coefs_")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    joblib.dump(model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), model.predict(X))


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_the_constructor_is_scikit_learns_then_backend_and_n_threads(name):
    import inspect

    import sklearn.neural_network

    import fastmlp.sklearn

    ours, theirs = getattr(fastmlp.sklearn, name), getattr(sklearn.neural_network, name)
    expected = {**theirs().get_params(), "backend": None, "n_threads": None}
    assert ours().get_params() == expected
    order = [*inspect.signature(theirs).parameters, "backend", "n_threads"]
    assert list(inspect.signature(ours).parameters) == order
    # positional parameters go where scikit-learn's go (the regressor's loss first)
    positional = ("poisson", (7,)) if name == "MLPRegressor" else ((7,), "tanh")
    made = ours(*positional, backend="numpy", n_threads=2).get_params()
    assert made == {**theirs(*positional).get_params(), "backend": "numpy", "n_threads": 2}
    with pytest.raises(TypeError, match="unexpected keyword argument 'hidden_layers'"):
        ours(hidden_layers=(3,))


def test_added_parameters_are_validated_and_keep_the_budget():
    X, y = data()
    with pytest.raises(ValueError, match="backend"):
        MLPClassifier(backend="cuda", **SUPPORTED).fit(X, y)
    with pytest.raises(ValueError, match="n_threads"):
        MLPClassifier(n_threads=0, **SUPPORTED).fit(X, y)
    before = fastmlp.get_num_threads()
    MLPClassifier(n_threads=2, **SUPPORTED).fit(X, y)
    assert fastmlp.get_num_threads() == before


def test_backends_agree():
    X, y = data()
    fits = {
        name: MLPClassifier(backend=name, **SUPPORTED).fit(X, y).predict_proba(X)
        for name in fastmlp.available_backends()
    }
    for name, probabilities in fits.items():
        np.testing.assert_allclose(probabilities, fits["numpy"], rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("backend", ["numba", "cpp"])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_each_epoch_is_native_calls_not_a_python_batch_loop(backend, layout, monkeypatch):
    """Dense X: one native call per epoch; CSR: one native call per epoch too, its compressed rows
    from the CSR (the engine's sparse layer 1), the dense x of the call a placeholder of zeros
    (never read: test_sklearn_parity's CSR fits equal scikit-learn's); never the kernel-by-kernel
    path."""
    scipy_sparse = pytest.importorskip("scipy.sparse")
    engine = fastmlp.get_backend(backend)
    native = engine.native_epoch
    assert native is not None
    calls = []
    real = native.train_epoch

    def counting(net, x, y, order, **options):
        calls.append((len(order), options.get("sparse"), options.get("x_sparse") is not None))
        if options.get("x_sparse") is not None:
            assert not np.any(x)  # the placeholder: X's values reach the epoch only as its CSR
        return real(net, x, y, order, **options)

    def no_kernel_by_kernel(*args, **options):
        raise AssertionError("the fit ran the kernel-by-kernel path")

    monkeypatch.setattr(native, "train_epoch", counting)
    monkeypatch.setattr(engine, "affine_forward", no_kernel_by_kernel)
    X, y = data(n=3000)
    X = scipy_sparse.csr_matrix(np.where(X > 0, X, 0.0)) if layout == "csr" else X
    model = MLPClassifier(backend=backend, solver="sgd", batch_size=10, max_iter=2, random_state=0)
    model.fit(X, y)
    if layout == "dense":
        assert calls == [(3000, None, False)] * 2
    else:  # the whole epoch's order in one call, sparse layer 1
        assert calls == [(3000, True, True)] * 2
