"""ONNX export: the fastmlp estimators registered with skl2onnx, when it is installed.

A fitted fastmlp estimator holds exactly scikit-learn's attributes (``coefs_``, ``intercepts_``,
``activation``, ``out_activation_``, ``classes_``) and computes scikit-learn's forward pass, so
skl2onnx's own MLP converters and shape calculators convert it; only the classes are new to
skl2onnx. ``register()`` runs on ``import fastmlp.sklearn``; afterwards
``skl2onnx.to_onnx(model, X[:1])`` converts a fitted ``MLPClassifier`` or ``MLPRegressor``.

One addition: skl2onnx's MLP regressor converter has no exp output layer (``loss="poisson"``; it
fails with ``KeyError: 'exp'`` for scikit-learn's own estimator), so the regressor's converter
(``convert_regressor``) builds the graph with an identity output and applies ONNX's Exp to it.
"""

from __future__ import annotations

import copy
from typing import Any


def convert_regressor(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's MLP regressor converter, with scikit-learn's exp output (``loss="poisson"``):
    the scores through skl2onnx's own forward pass (an identity output), then Exp, then its
    (N, 1) reshape."""
    from skl2onnx.common._apply_operation import apply_reshape
    from skl2onnx.common.data_types import guess_proto_type
    from skl2onnx.operator_converters.multilayer_perceptron import _predict, convert_sklearn_mlp_regressor
    from skl2onnx.proto import onnx_proto

    model = operator.raw_operator
    if model.out_activation_ != "exp":
        convert_sklearn_mlp_regressor(scope, operator, container)
        return
    scores_model = copy.copy(model)  # the same layers, read by skl2onnx, with an identity output
    scores_model.out_activation_ = "identity"
    proto_dtype = guess_proto_type(operator.inputs[0].type)
    if proto_dtype != onnx_proto.TensorProto.DOUBLE:
        proto_dtype = onnx_proto.TensorProto.FLOAT  # skl2onnx's rule: float64 stays, all else float32
    scores = _predict(scope, operator.inputs[0].full_name, container, scores_model, proto_dtype)
    rates = scope.get_unique_variable_name("rates")
    container.add_node("Exp", scores, rates, name=scope.get_unique_operator_name("Exp"))
    apply_reshape(scope, rates, operator.output_full_names, container, desired_shape=(-1, 1))


def register() -> bool:
    """Register the converters; False (and nothing done) when skl2onnx is not installed."""
    try:
        from skl2onnx import update_registered_converter
        from skl2onnx.common.shape_calculator import (
            calculate_linear_classifier_output_shapes,
            calculate_linear_regressor_output_shapes,
        )
        from skl2onnx.operator_converters.multilayer_perceptron import convert_sklearn_mlp_classifier
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
        convert_regressor,
    )
    return True
