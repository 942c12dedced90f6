"""The assignment's ``models`` package, module by module as the assignment lays it out:
``_base_network._baseNetwork`` (also ``BaseNetwork``), ``softmax_regression.SoftmaxRegression``,
``two_layer_nn.TwoLayerNet``."""

from ._base_network import BaseNetwork, _baseNetwork
from .softmax_regression import SoftmaxRegression
from .two_layer_nn import TwoLayerNet

__all__ = ["BaseNetwork", "SoftmaxRegression", "TwoLayerNet", "_baseNetwork"]
