"""Drop-in replacements for the course assignment's ``models``, ``optimizer`` and ``utils`` modules.

Assignment code runs on fastmlp's kernels after changing only its import lines::

    from fastmlp.compat import SoftmaxRegression, TwoLayerNet        # was: from models import ...
    from fastmlp.compat import SGD                                   # was: from optimizer import SGD
    from fastmlp.compat import (load_mnist_trainval, load_mnist_test, generate_batched_data,
                                train, evaluate, plot_curves)        # was: from utils import ...

(``fastmlp.compat.models``, ``.optimizer`` and ``.utils`` hold the same names, module by module.)

What holds, as in the assignment:

- **Numerics.** Models compute in float64 with the assignment's initialisation (``0.001 *
  randn`` from ``np.random.seed(1024)`` before each weight matrix, zero biases) and maths, so
  losses, gradients and updates agree with a float64 NumPy implementation of the assignment to
  about 1e-12. ``dtype="float32"`` is the documented fast option (about 1e-7 off per matrix).
- **weights and gradients.** Dicts keyed ``W1, b1, W2, b2`` (``W1`` only for
  SoftmaxRegression). ``gradients`` holds zeros of every parameter's shape from construction,
  so ``SGD.apply_regularization`` / ``update`` work on a fresh model; ``forward(X, y,
  mode="train")`` fills it. Arrays that user code assigns to either dict (float32, lists,
  non-contiguous views) are converted to the model's dtype and layout when they are used.
  ``copy.deepcopy(model)`` keeps a best model.
- **SGD.** ``update(model)`` does ``gradients[W] += reg * W`` for weight matrices, then
  ``p -= learning_rate * gradients[p]`` for every parameter, in place.
- **utils.** ``load_mnist_trainval()``, ``load_mnist_test()``, ``generate_batched_data(data,
  label, batch_size=32, shuffle=False, seed=None)``, ``train(epoch, batched_train_data,
  batched_train_label, model, optimizer, debug=True)``, ``evaluate(batched_test_data,
  batched_test_label, model, debug=True)``, ``plot_curves(train_loss_history,
  train_acc_history, valid_loss_history, valid_acc_history)`` (writes a PNG, headless). The
  loaders return NumPy arrays rather than lists; ``fastmlp.compat.utils`` says why.

Where it differs: ``train`` runs batches from ``generate_batched_data`` as native epochs (same
arithmetic, about 1e-15 relative per operation from another summation order), and models take
``backend`` and ``dtype`` keywords. docs/examples/assignment_style.py is a complete main script.
"""

from .models import BaseNetwork, SoftmaxRegression, TwoLayerNet
from .optimizer import SGD
from .utils import evaluate, generate_batched_data, load_mnist_test, load_mnist_trainval, plot_curves, train

__all__ = [
    "SGD",
    "BaseNetwork",
    "SoftmaxRegression",
    "TwoLayerNet",
    "evaluate",
    "generate_batched_data",
    "load_mnist_test",
    "load_mnist_trainval",
    "plot_curves",
    "train",
]
