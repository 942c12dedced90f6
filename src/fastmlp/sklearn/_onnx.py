"""ONNX export: the fastmlp estimators registered with skl2onnx, when it is installed.

A fitted fastmlp estimator holds exactly scikit-learn's attributes (``coefs_``, ``intercepts_``,
``activation``, ``out_activation_``, ``classes_``) and computes scikit-learn's forward pass, so
skl2onnx's own MLP converters and shape calculators convert it; only the classes are new to
skl2onnx. ``register()`` runs on ``import fastmlp.sklearn``; afterwards
``skl2onnx.to_onnx(model, X[:1])`` converts a fitted ``MLPClassifier`` or ``MLPRegressor``.
"""

from __future__ import annotations

from typing import Any


def register() -> bool:
    """Register the converters; False (and nothing done) when skl2onnx is not installed."""
    try:
        from skl2onnx import update_registered_converter
        from skl2onnx.common.shape_calculator import (
            calculate_linear_classifier_output_shapes,
            calculate_linear_regressor_output_shapes,
        )
        from skl2onnx.operator_converters.multilayer_perceptron import (
            convert_sklearn_mlp_classifier,
            convert_sklearn_mlp_regressor,
        )
    except ImportError:
        return False
    from ._estimators import MLPClassifier, MLPRegressor

    # the options skl2onnx declares for scikit-learn's MLPClassifier converter
    classifier_options: dict[str, list[Any]] = {
        "zipmap": [True, False, "columns"],
        "output_class_labels": [False, True],
        "nocl": [True, False],
    }
    update_registered_converter(
        MLPClassifier,
        "FastmlpMLPClassifier",
        calculate_linear_classifier_output_shapes,
        convert_sklearn_mlp_classifier,
        options=classifier_options,
    )
    update_registered_converter(
        MLPRegressor,
        "FastmlpMLPRegressor",
        calculate_linear_regressor_output_shapes,
        convert_sklearn_mlp_regressor,
    )
    return True
