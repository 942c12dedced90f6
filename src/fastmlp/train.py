"""The assignment's training protocol.

Each epoch: a permutation of the training rows from ``np.random.default_rng(seed)`` (one
generator per run, one permutation per epoch), batches of ``batch_size`` in that order (the last
may be smaller), and per batch forward, backward, update. Training loss is the mean of the batch
losses, training accuracy correct / seen, both from the forward pass before each update. Then
the validation rows are evaluated in batches of ``batch_size`` (loss: mean of batch losses). The
best model is the one after the epoch with the highest validation accuracy (first on ties); its
test accuracy is measured once, at the end.

A backend that declares a ``native_epoch`` (numba, cpp) runs each epoch in one call of its
``train_epoch`` / ``evaluate`` on the model's description (``Network.describe``, built once per
run; the contract is in ``backends._epoch``); otherwise the epoch is driven kernel by kernel from
here. Both paths do the same arithmetic (a test holds them together).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import _validate
from .backends._epoch import PassResult
from .errors import FastmlpTypeError, FastmlpValueError
from .models import Network
from .optim import Optimizer
from .progress import progress_bar

Array = np.ndarray


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    train_seconds: float
    eval_seconds: float


@dataclass
class TrainResult:
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0
    best_params: dict[str, np.ndarray] = field(default_factory=dict)
    test_acc: float = float("nan")
    diverged: bool = False
    interrupted: bool = False
    message: str = ""

    @property
    def best(self) -> dict[str, Any]:
        """``epoch, train_acc, val_acc, test_acc`` of the best epoch (empty before any epoch)."""
        if not self.best_epoch:
            return {}
        record = self.history[self.best_epoch - 1]
        return {
            "epoch": self.best_epoch,
            "train_acc": record.train_acc,
            "val_acc": record.val_acc,
            "test_acc": self.test_acc,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "history": [asdict(record) for record in self.history],
            "best": self.best,
            "diverged": self.diverged,
            "interrupted": self.interrupted,
            "message": self.message,
        }


def epoch_pass(
    model: Network,
    optimizer: Optimizer,
    x: np.ndarray,
    y: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    *,
    sample_weight: np.ndarray | None = None,
    native: bool = True,
) -> PassResult:
    """One training pass over ``x[order]`` in batches (the last may be shorter), updating the model.

    x (N, D), y the targets of the model's loss row (labels (N,) or values (N, K)), order (S,) row
    indices, sample_weight (N,) or None. A backend with a ``native_epoch`` runs it in one call on the
    model's description; ``native=False`` forces the kernel-by-kernel path (same arithmetic).
    Per batch, with the sklearn L2 form the loss includes ``0.5 reg sum W^2 / n``.
    """
    epoch = model.backend.native_epoch
    if native and epoch is not None:
        net = model.describe(optimizer)  # built once per run (and per learning-rate change), then reused
        return epoch.train_epoch(net, x, y, order, batch_size=batch_size, sample_weight=sample_weight)
    batches = (order[start : start + batch_size] for start in range(0, len(order), batch_size))
    return _kernel_pass(model, x, y, batches, sample_weight, optimizer)


def _kernel_pass(
    model: Network,
    x: np.ndarray,
    y: np.ndarray,
    batches: Iterable[np.ndarray | slice],
    sample_weight: np.ndarray | None,
    optimizer: Optimizer | None,
) -> PassResult:
    """The batches (row indices or slices of x) kernel by kernel: forward, and with an optimizer
    backward and its step (the loss then includes the sklearn L2 form's ``0.5 reg sum W^2 / n``)."""
    losses: list[float] = []
    row_weighted, correct = 0.0, 0
    for rows in batches:
        weights = None if sample_weight is None else sample_weight[rows]
        loss, hits = model.forward(x[rows], y[rows], weights)
        count = len(x[rows]) if isinstance(rows, slice) else len(rows)
        if optimizer is not None:
            loss += _l2_penalty(model, optimizer, model.batch_norm)
            optimizer.step(model, model.backward(), model.batch_norm)
        losses.append(loss)
        row_weighted += loss * count
        correct += hits
    # summed as np.mean sums, so loss_sum / batches is the mean the assignment's loop took
    return PassResult(float(np.sum(losses)), len(losses), correct, row_weighted)


def _l2_penalty(model: Network, optimizer: Optimizer, norm: float) -> float:
    """scikit-learn's ``0.5 alpha sum W^2 / n`` with ``l2="sklearn"`` (0 otherwise), in float64."""
    settings = optimizer.settings
    if settings.l2 != "sklearn" or settings.reg == 0.0:
        return 0.0
    weights = [p.ravel().astype(np.float64) for p in model.params.values() if p.ndim == 2]
    return 0.5 * settings.reg * sum(float(np.dot(w, w)) for w in weights) / norm


def evaluation_pass(
    model: Network,
    x: Array,
    y: Array,
    batch_size: int,
    *,
    sample_weight: Array | None = None,
    native: bool = True,
) -> PassResult:
    """The model's loss row over (x (N, D), y) in batches, in order; nothing is modified."""
    epoch = model.backend.native_epoch
    if native and epoch is not None:
        return epoch.evaluate(model.describe(), x, y, batch_size=batch_size, sample_weight=sample_weight)
    batches = (slice(start, start + batch_size) for start in range(0, len(x), batch_size))
    return _kernel_pass(model, x, y, batches, sample_weight, None)


def train_epoch(
    model: Network, optimizer: Optimizer, x: Array, y: Array, order: Array, batch_size: int, **options: Any
) -> tuple[float, float]:
    """``epoch_pass`` (its options: sample_weight, native) as the assignment measures an epoch:
    (mean batch loss, accuracy before the updates)."""
    result = epoch_pass(model, optimizer, x, y, order, batch_size, **options)
    return result.mean_loss, result.correct / len(order)


def evaluate(model: Network, x: Array, y: Array, batch_size: int, **options: Any) -> tuple[float, float]:
    """``evaluation_pass`` (options: sample_weight, native) as (mean batch loss, accuracy), in order."""
    result = evaluation_pass(model, x, y, batch_size, **options)
    return result.mean_loss, result.correct / len(x)


def _check_data(data: Any, model: Network) -> None:
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        if not hasattr(data, name):
            raise FastmlpTypeError(
                f"data must have x_train, y_train, x_val, y_val, x_test, y_test; missing {name}"
            )
    for split in ("train", "val", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        x = _validate.float_array(f"x_{split}", x, 2)
        if x.dtype != model.dtype:
            raise FastmlpTypeError(f"x_{split} must have the model's dtype {model.dtype}, got {x.dtype}")
        if x.shape[1] != model.input_size:
            raise FastmlpValueError(f"x_{split} must have {model.input_size} columns, got shape {x.shape}")
        _validate.labels(f"y_{split}", y, x.shape[0], model.num_classes)
        if split == "train" and not np.all(np.isfinite(x)):
            raise FastmlpValueError("x_train must be finite (it holds NaN or infinite values)")


def train(
    model: Network,
    optimizer: Optimizer,
    data: Any,
    *,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    progress: bool | None = None,
    native: bool = True,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> TrainResult:
    """Train ``model`` on ``data`` (x_train, y_train, x_val, y_val, x_test, y_test) by the protocol.

    ``progress``: a tqdm bar per epoch (None: only when stderr is a terminal). The best
    parameters are restored into ``model`` at the end. A NaN or infinite loss stops the run
    (``diverged``); Ctrl-C stops it too (``interrupted``); either way the best model so far is kept.
    """
    epochs, batch_size = (
        _validate.positive_int("epochs", epochs),
        _validate.positive_int("batch_size", batch_size),
    )
    seed = _validate.seed("seed", seed)
    _check_data(data, model)
    rng = np.random.default_rng(seed)
    result = TrainResult()
    best_val = -1.0
    bar = progress_bar(epochs, "epochs", "epoch", progress)
    # A diverging run overflows; that is detected from the loss below and reported once,
    # rather than as a stream of floating-point warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            for epoch in range(1, epochs + 1):
                order = rng.permutation(len(data.x_train))
                start = time.perf_counter()
                train_loss, train_acc = train_epoch(
                    model, optimizer, data.x_train, data.y_train, order, batch_size, native=native
                )
                middle = time.perf_counter()
                val_loss, val_acc = evaluate(model, data.x_val, data.y_val, batch_size, native=native)
                record = EpochRecord(
                    epoch,
                    train_loss,
                    train_acc,
                    val_loss,
                    val_acc,
                    middle - start,
                    time.perf_counter() - middle,
                )
                result.history.append(record)
                if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
                    result.diverged = True
                    result.message = (
                        f"training diverged at epoch {epoch} "
                        f"(train loss {train_loss}, validation loss {val_loss}); "
                        "try a smaller learning rate. The best model so far is kept."
                    )
                    break
                if val_acc > best_val:
                    best_val = val_acc
                    result.best_epoch = epoch
                    result.best_params = {name: p.copy() for name, p in model.params.items()}
                if bar is not None:
                    postfix = {
                        "loss": f"{train_loss:.4f}",
                        "acc": f"{train_acc:.4f}",
                        "val_acc": f"{val_acc:.4f}",
                    }
                    bar.set_postfix(postfix, refresh=False)
                    bar.update(1)
                if on_epoch is not None:
                    on_epoch(record)
        except KeyboardInterrupt:
            result.interrupted = True
            result.message = (
                f"interrupted after {len(result.history)} complete epochs; the best model so far is kept."
            )
        finally:
            if bar is not None:
                bar.close()
    if result.best_epoch:
        for name, value in result.best_params.items():
            model.params[name][...] = value
        result.test_acc = evaluate(model, data.x_test, data.y_test, batch_size, native=native)[1]
    return result
