"""Drop-in replacements for the course assignment's ``models``, ``optimizer`` and ``utils`` modules.

Assignment code runs on fastmlp's kernels after changing only its import lines, module by module
as the assignment lays them out::

    from fastmlp.compat.models import SoftmaxRegression, TwoLayerNet   # was: from models import ...
    from fastmlp.compat.models._base_network import _baseNetwork        # was: from models._base_network ...
    from fastmlp.compat.optimizer import SGD                            # was: from optimizer import SGD
    from fastmlp.compat.optimizer._base_optimizer import _BaseOptimizer
    from fastmlp.compat.utils import load_mnist_trainval, ...           # was: from utils import ...

(``models.softmax_regression``, ``models.two_layer_nn`` and ``optimizer.sgd`` are there too, and
``fastmlp.compat`` itself re-exports the public names.)

What holds, as in the assignment:

- **Numerics.** Models compute in float64 with the assignment's initialisation (``0.001 *
  randn`` from ``np.random.seed(1024)`` before each weight matrix, on NumPy's global generator,
  zero biases) and maths, so losses, gradients and updates agree with a float64 NumPy
  implementation of the assignment to about 1e-12. ``dtype="float32"`` is the documented fast
  option (about 1e-7 off per matrix). Scalars come back as ``numpy.float64``.
- **weights and gradients.** Dicts keyed ``W1, b1, W2, b2`` (``W1`` only for
  SoftmaxRegression). ``gradients`` holds zeros of every parameter's shape from construction;
  ``forward(X, y, mode="train")`` fills it. What user code assigns to either dict (float32,
  lists, non-contiguous views) is converted to the model's dtype and layout once, into the dict,
  when it is used. ``copy.deepcopy(model)`` keeps a best model.
- **SGD.** ``update(model)`` does ``gradients[W] += reg * W`` for weight matrices, in place,
  then ``p -= learning_rate * gradients[p]`` for every parameter, in place, on any model with the
  assignment's dicts (a student's own model too); ``learning_rate=0`` is allowed.
- **utils.** ``load_csv``, ``load_mnist_trainval``, ``load_mnist_test`` (lists, ``int`` labels,
  ``./data/mnist_*.csv`` first, the assignment's printed lines), ``generate_batched_data``
  (writable batches, Python's ``random.shuffle``), ``train`` and ``evaluate`` (the assignment's
  printed lines), ``plot_curves`` (two pyplot figures, headless-safe, returns None).

What differs is listed in the README's drop-in section; ``train``'s fast path is described in
``fastmlp.compat.utils``. docs/examples/assignment_style.py is a complete main script.
"""

from . import utils
from .models import BaseNetwork, SoftmaxRegression, TwoLayerNet, _baseNetwork
from .optimizer import SGD, _BaseOptimizer
from .utils import *  # noqa: F403 - the utilities' public names are utils.__all__, declared once there

__all__ = ["SGD", "BaseNetwork", "SoftmaxRegression", "TwoLayerNet", "_BaseOptimizer", "_baseNetwork"]
__all__ += utils.__all__
