"""The assignment's ``optimizer/_base_optimizer.py``: ``_BaseOptimizer``, which holds the
hyper-parameters and applies the L2 penalty to any model with the assignment's dicts."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import _validate
from ...errors import FastmlpTypeError
from ..models._network_model import _CompatModel


class _BaseOptimizer:  # the assignment's name
    """``learning_rate`` and ``reg`` (both >= 0; 0 is allowed, as in the assignment), and
    ``apply_regularization``. ``update`` is the subclass's (``SGD``); here it does nothing.

    A model is anything with the assignment's ``weights`` and ``gradients`` dicts: compat's own
    models, a student's model, or a subclass of ``_baseNetwork``.
    """

    def __init__(self, learning_rate: float = 1e-4, reg: float = 1e-3) -> None:
        self.learning_rate = _validate.real_number("learning_rate", learning_rate, minimum=0.0)
        self.reg = _validate.real_number("reg", reg, minimum=0.0)

    def update(self, model: Any) -> None:
        """The subclass's step; the base optimiser leaves the model as it is."""

    def apply_regularization(self, model: Any) -> None:
        """``gradients[W] += reg * weights[W]`` for every weight matrix (biases, 1-D, are not
        regularised), in place on the array in ``model.gradients``, as the assignment's ``+=``."""
        if isinstance(model, _CompatModel):
            for name, weight in model.parameters().items():
                if weight.ndim == 2:
                    gradient = model.gradient(name)  # what user code assigned, converted once, in the dict
                    gradient += weight.dtype.type(self.reg) * weight
            return
        weights, gradients = _assignment_dicts(model)
        for name, weight in weights.items():
            if np.ndim(weight) == 2:
                gradients[name] += self.reg * weight


def _assignment_dicts(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``model.weights`` and ``model.gradients``, or a FastmlpTypeError saying what is missing."""
    weights, gradients = getattr(model, "weights", None), getattr(model, "gradients", None)
    if not isinstance(weights, dict) or not isinstance(gradients, dict):
        raise FastmlpTypeError(
            "model must have the assignment's weights and gradients dicts, got "
            f"{type(model).__name__} (weights: {type(weights).__name__}, "
            f"gradients: {type(gradients).__name__})"
        )
    return weights, gradients
