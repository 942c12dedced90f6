"""The assignment's ``optimizer`` package, module by module as the assignment lays it out:
``_base_optimizer._BaseOptimizer`` and ``sgd.SGD``."""

from ._base_optimizer import _BaseOptimizer
from .sgd import SGD

__all__ = ["SGD", "_BaseOptimizer"]
