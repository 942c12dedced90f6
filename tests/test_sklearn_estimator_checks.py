"""scikit-learn's own estimator checks over fastmlp.sklearn's estimators, with no expected
failure: scikit-learn's defaults (adam) and the two other solvers."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn", reason="the sklearn extra is not installed")

from sklearn.utils.estimator_checks import parametrize_with_checks

from fastmlp.sklearn import MLPClassifier, MLPRegressor

# scikit-learn's MLP warns that 200 epochs did not converge on the checks' small random data (its
# own estimator does the same); the project's warnings-are-errors setting would fail them for it
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks(
    [
        MLPClassifier(),
        MLPRegressor(),
        MLPClassifier(solver="sgd"),
        MLPRegressor(solver="lbfgs"),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
