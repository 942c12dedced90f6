"""SGD: L2 on weight matrices only, every parameter stepped, momentum as specified."""

from __future__ import annotations

import numpy as np
import pytest

from fastmlp.models import TwoLayerNet
from fastmlp.optim import SGD, Adam


def test_regularisation_touches_weight_matrices_only(backend):
    model = TwoLayerNet(4, 3, 2, dtype="float64", backend=backend, init="he", seed=1)
    model.params["b1"][...] = 2.0
    before = {k: v.copy() for k, v in model.params.items()}
    grads = {k: np.zeros_like(v) for k, v in model.params.items()}
    SGD(0.1, reg=0.5).step(model, grads)
    np.testing.assert_allclose(model.params["W1"], before["W1"] * (1 - 0.1 * 0.5), rtol=1e-15)
    np.testing.assert_array_equal(model.params["b1"], before["b1"])


def test_every_parameter_steps_with_momentum(backend):
    model = TwoLayerNet(4, 3, 2, dtype="float64", backend=backend, init="he", seed=1)
    before = {k: v.copy() for k, v in model.params.items()}
    grads = {k: np.ones_like(v) for k, v in model.params.items()}
    optimizer = SGD(0.1, momentum=0.9)
    optimizer.step(model, grads)
    optimizer.step(model, grads)
    # v1 = -0.1, v2 = 0.9 * -0.1 - 0.1 = -0.19; total change -0.29 for every element.
    for name, value in model.params.items():
        np.testing.assert_allclose(value, before[name] - 0.29, rtol=1e-14, err_msg=name)


def test_bad_hyperparameters():
    # the messages of the one declaration (hyperparameters.PARAMETER_CONSTRAINTS), naming the argument
    with pytest.raises(ValueError, match=r"learning_rate must be > 0"):
        SGD(0.0)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        SGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="reg must be >= 0"):
        SGD(0.1, reg=-1)
    with pytest.raises(TypeError, match="learning_rate must be int or float"):
        SGD("0.1")
    with pytest.raises(ValueError, match=r"beta2 must be in \[0, 1\)"):
        Adam(beta2=1.0)
    with pytest.raises(ValueError, match="epsilon must be > 0"):
        Adam(epsilon=0.0)
    with pytest.raises(ValueError, match="l2 must be one of assignment, sklearn"):
        SGD(0.1, l2="l1")
    with pytest.raises(ValueError, match="schedule must be one of constant, invscaling, adaptive"):
        SGD(0.1, schedule="cosine")
    model = TwoLayerNet(4, 3, 2, backend="numpy")
    with pytest.raises(ValueError, match="grads must have the keys"):
        SGD(0.1).step(model, {"W1": np.zeros((4, 3), np.float32)})
