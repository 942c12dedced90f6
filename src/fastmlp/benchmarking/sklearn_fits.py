"""``fastmlp bench --sklearn``: fit time of fastmlp.sklearn's MLPClassifier against scikit-learn's
own, for the same parameters, the whole process pinned to one CPU.

Each case fits both estimators ``repeats`` times, alternating (scikit-learn, fastmlp, scikit-learn,
...) so that a neighbour's load falls on both; the minimum of each is reported with their ratio
and both validation accuracies (the fits are the same to float rounding, so they agree).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import FastmlpValueError
from .affinity import pinned

# The configuration: 784-128-10 (MNIST) or 100-128-1 (tabular, binary), 3 epochs, batch
# 64; sgd with momentum 0.9 (scikit-learn's Nesterov default), or adam; every other parameter
# scikit-learn's default (alpha 1e-4).
SGD = dict(solver="sgd", momentum=0.9, learning_rate_init=0.01, batch_size=64)
ADAM = dict(solver="adam", batch_size=64)
COMMON = dict(hidden_layer_sizes=(128,), max_iter=3, random_state=0)


@dataclass(frozen=True)
class Case:
    """One row: a label, the data set's name, the estimator's parameters and issue 20's target
    speed-up for it (None: no target)."""

    label: str
    data: str  # "mnist", "mnist-csr" or "tabular"
    params: dict[str, Any] = field(default_factory=dict)
    target: float | None = None


CASES = (
    Case("MNIST dense, sgd", "mnist", SGD, 5.0),
    Case("MNIST dense, adam", "mnist", ADAM, 5.0),
    Case("MNIST CSR, sgd", "mnist-csr", SGD, 10.0),
    Case("MNIST CSR, adam", "mnist-csr", ADAM, 5.0),
    Case("make_classification(50_000, 100), sgd", "tabular", SGD),
    Case("make_classification(50_000, 100), adam", "tabular", ADAM, 5.0),
)
# A target counts as met only with the same accuracy as scikit-learn's, within this much.
SAME_ACCURACY = 0.005


@dataclass(frozen=True)
class FitTiming:
    """Minimum fit seconds of each estimator, and each one's validation accuracy; ``fastmlp``
    None (and ``note`` the reason) where fastmlp's engine cannot train the case yet."""

    case: Case
    sklearn_seconds: float
    sklearn_accuracy: float
    fastmlp_seconds: float | None
    fastmlp_accuracy: float | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.fastmlp_seconds is None else self.sklearn_seconds / self.fastmlp_seconds

    @property
    def verdict(self) -> str:
        """The row against its case's target: "met (>= 5x)" or "missed (>= 5x)", "-" without a
        target; missed too where the accuracies differ by more than SAME_ACCURACY."""
        target = self.case.target
        if target is None:
            return "-"
        if self.ratio is None or self.fastmlp_accuracy is None:
            return f"not timed (>= {target:g}x)"
        same = abs(self.fastmlp_accuracy - self.sklearn_accuracy) <= SAME_ACCURACY
        return f"{'met' if self.ratio >= target and same else 'missed'} (>= {target:g}x)"


def datasets(mnist: Any, dtype: Any = np.float32) -> dict[str, tuple[Any, Any, Any, Any]]:
    """(X_train, y_train, X_val, y_val) per data name: MNIST's split as given, its CSR, and a
    50,000 x 100 binary make_classification split 40,000 / 10,000."""
    import scipy.sparse as sp
    from sklearn.datasets import make_classification

    X, y = make_classification(50_000, 100, n_informative=40, random_state=0)
    X = X.astype(dtype)
    csr = sp.csr_matrix(mnist.x_train)
    return {
        "mnist": (mnist.x_train, mnist.y_train, mnist.x_val, mnist.y_val),
        "mnist-csr": (csr, mnist.y_train, sp.csr_matrix(mnist.x_val), mnist.y_val),
        "tabular": (X[:40_000], y[:40_000], X[40_000:], y[40_000:]),
    }


def _timed_fit(estimator: Any, X: Any, y: Any) -> float:
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def time_fits(
    data: dict[str, tuple[Any, Any, Any, Any]], cases: tuple[Case, ...] = CASES, repeats: int = 2
) -> list[FitTiming]:
    """Time every case, both estimators alternating, all on one CPU."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier

    from ..sklearn import MLPClassifier

    results = []
    with pinned(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 3 epochs do not converge
        for case in cases:
            X, y, X_val, y_val = data[case.data]
            params = {**COMMON, **case.params}
            ours: Any = MLPClassifier(n_threads=1, **params)
            theirs = SklearnMLPClassifier(**params)
            note = ""
            try:
                ours.fit(X[:256], y[:256])  # compiles (Numba) and loads outside the timing
            except FastmlpValueError as error:
                ours, note = None, str(error)
            sklearn_times, fastmlp_times = [], []
            for _ in range(repeats):
                # a fresh copy of X for every fit: nothing cached for one array (the engine keeps
                # the non-zero structure of an X it has seen) carries over into the next timing
                sklearn_times.append(_timed_fit(theirs, X.copy(), y))
                if ours is not None:
                    fastmlp_times.append(_timed_fit(ours, X.copy(), y))
            results.append(
                FitTiming(
                    case,
                    min(sklearn_times),
                    float(theirs.score(X_val, y_val)),
                    None if ours is None else min(fastmlp_times),
                    None if ours is None else float(ours.score(X_val, y_val)),
                    note,
                )
            )
    return results


def markdown(results: list[FitTiming], *, repeats: int, build: str) -> str:
    """The table: seconds, the same-run ratio and both accuracies per case."""
    lines = [
        f"Build: {build}",
        "",
        f"Fit time, 3 epochs, 784-128-10 (tabular: 100-128-1), batch 64, one CPU, minimum of {repeats} "
        "alternating fits; accuracy on the validation rows. Target: issue 20's speed-up, met only with "
        f"the accuracies within {SAME_ACCURACY}.",
        "",
        "| case | scikit-learn s | fastmlp s | speed-up | accuracy scikit-learn | accuracy fastmlp "
        "| target |",
        "|---|---|---|---|---|---|---|",
    ]
    notes = []
    for r in results:
        if r.fastmlp_seconds is None:
            notes.append(f"- {r.case.label}: {r.note}")
            row = (
                f"| {r.case.label} | {r.sklearn_seconds:.2f} | - | - | {r.sklearn_accuracy:.4f} | - "
                f"| {r.verdict} |"
            )
            lines.append(row)
            continue
        lines.append(
            f"| {r.case.label} | {r.sklearn_seconds:.2f} | {r.fastmlp_seconds:.2f} | {r.ratio:.1f}x "
            f"| {r.sklearn_accuracy:.4f} | {r.fastmlp_accuracy:.4f} | {r.verdict} |"
        )
    if notes:
        lines += ["", "Not timed (fastmlp's engine cannot train them):", *notes]
    return "\n".join(lines) + "\n"
