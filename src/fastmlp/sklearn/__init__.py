"""Drop-in replacements for scikit-learn's ``MLPClassifier`` and ``MLPRegressor``.

    from fastmlp.sklearn import MLPClassifier   # instead of sklearn.neural_network's

Same parameters, attributes and results (to float rounding) for the same ``random_state``; the
training and prediction run in fastmlp's engine. Needs scikit-learn (``pip install
fastmlp[sklearn]``). When skl2onnx is installed (``fastmlp[onnx]``), importing this module
registers converters so that ``skl2onnx.to_onnx(model, X[:1])`` converts a fitted estimator.
"""

from __future__ import annotations

from ..errors import MissingDependencyError

try:
    import scipy.sparse  # noqa: F401
    import sklearn  # noqa: F401
except ImportError as error:
    raise MissingDependencyError(
        f'fastmlp.sklearn needs scikit-learn and scipy: pip install "fastmlp[sklearn]" ({error})'
    ) from error

from . import _onnx
from ._estimators import MLPClassifier, MLPRegressor

ONNX_REGISTERED = _onnx.register()  # True when skl2onnx is installed and knows both estimators

__all__ = ["ONNX_REGISTERED", "MLPClassifier", "MLPRegressor"]
