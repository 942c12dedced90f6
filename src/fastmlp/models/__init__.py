"""Models: the course's SoftmaxRegression and TwoLayerNet, and a general MLP."""

from .architectures import MLP, MODEL_TYPES, SoftmaxRegression, TwoLayerNet, build_model
from .network import Layer, Network
from .serialization import load_model, save_model

__all__ = [
    "MLP",
    "MODEL_TYPES",
    "Layer",
    "Network",
    "SoftmaxRegression",
    "TwoLayerNet",
    "build_model",
    "load_model",
    "save_model",
]
