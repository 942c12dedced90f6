"""The assignment's ``utils`` module: data loading, batching, one training epoch, evaluation and
the learning-curve figure, with the assignment's signatures and arithmetic.

Lists or arrays: the assignment's loaders return Python lists of rows. Assignment code only
takes ``len`` of them, slices them, iterates over them and calls ``np.array`` on a slice, all of
which NumPy arrays do the same way, while a list of 48,000 lists of 784 Python floats would take
about 1 GB and seconds to build. So the loaders here return NumPy arrays (images (N, 784)
float64, labels (N,) int64). Code that concatenates two splits with ``+`` would add them
element-wise instead: use ``np.concatenate``.

``generate_batched_data`` returns lists of arrays, as the assignment does. Those lists also
remember the rows they were cut from, so that ``train`` and ``evaluate`` can run a whole pass of
a fastmlp model in one native call, with the same arithmetic as the batch-by-batch loop; any
other batches, models or optimisers go through the assignment's loop, batch by batch.
"""

from __future__ import annotations

import itertools
import operator
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import _validate
from .. import train as fastmlp_train
from ..data import load_mnist
from ..optim import SGD as FastSGD
from .models import _CompatModel
from .optimizer import SGD


def load_mnist_trainval(
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(train_data, train_label, val_data, val_label)``: the first 80% (48,000 rows) and the
    last 20% (12,000 rows) of MNIST's training file, pixels / 255 as float64 (N, 784), labels (N,)
    int64. ``data_dir`` as in ``fastmlp.data.load_mnist`` (default: $FASTMLP_DATA, the cache, or
    a download); the assignment's own ``data/`` folder with its two CSV files works as it is."""
    split = load_mnist(data_dir, dtype="float64", quiet=True)
    return split.x_train, split.y_train, split.x_val, split.y_val


def load_mnist_test(data_dir: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(test_data, test_label)``: MNIST's 10,000 test rows, as ``load_mnist_trainval``."""
    split = load_mnist(data_dir, dtype="float64", quiet=True)
    return split.x_test, split.y_test


@dataclass(eq=False)
class _Source:
    """The rows a batch list was cut from: batch i is ``data[order[i * batch_size : ...]]``."""

    data: np.ndarray
    label: np.ndarray
    order: np.ndarray
    batch_size: int
    shuffled: bool
    as_dtype: dict[np.dtype, np.ndarray] = field(default_factory=dict)

    def data_as(self, dtype: np.dtype) -> np.ndarray:
        """``data`` in the model's dtype, converted once (the native epoch's sparse index is
        cached per array, so the same array must come back every epoch)."""
        if self.data.dtype == dtype:
            return self.data
        if dtype not in self.as_dtype:
            self.as_dtype[dtype] = self.data.astype(dtype)
        return self.as_dtype[dtype]


class Batches(list[np.ndarray]):
    """A list of batch arrays that also knows the rows it was cut from (see the module docstring).

    The batch arrays are read-only, so they stay equal to those rows.
    """

    def __init__(self, arrays: Sequence[np.ndarray], source: _Source) -> None:
        super().__init__(arrays)
        self.source = source
        self._originals = tuple(arrays)

    def unchanged(self) -> bool:
        """Whether the list still holds exactly the batches it was made with."""
        return len(self) == len(self._originals) and all(map(operator.is_, self, self._originals))


def generate_batched_data(
    data: Any, label: Any, batch_size: int = 32, shuffle: bool = False, seed: int | None = None
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Cut (data (N, D), label (N,)) into batches of ``batch_size`` rows, the last one possibly
    smaller; every row appears exactly once. Returns ``(batched_data, batched_label)``, two lists
    of arrays.

    ``shuffle``: the rows in a random order first: ``np.random.RandomState(seed).permutation(N)``
    when ``seed`` is given (the permutation the assignment's ``np.random.seed(seed)`` gives,
    without touching NumPy's global generator), else ``np.random.permutation(N)`` from the global
    one, as in the assignment.
    """
    data, label = np.asarray(data), np.asarray(label)
    if data.ndim != 2:
        raise ValueError(f"data must be 2-D (N, D), got shape {data.shape}")
    if label.shape != (len(data),):
        raise ValueError(f"label must have shape ({len(data)},) to match data, got {label.shape}")
    if len(data) == 0:
        raise ValueError("data must have at least one row")
    batch_size = _validate.positive_int("batch_size", batch_size)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative int, got {seed!r}")
    if shuffle:
        order = (np.random.RandomState(seed) if seed is not None else np.random).permutation(len(data))
    else:
        order = np.arange(len(data))
    source = _Source(data, label, order.astype(np.int64), batch_size, shuffle)
    batched_data: list[np.ndarray] = []
    batched_label: list[np.ndarray] = []
    for start in range(0, len(data), batch_size):
        rows = order[start : start + batch_size]
        for batch, array in ((batched_data, data), (batched_label, label)):
            part = array[start : start + batch_size] if not shuffle else array[rows]
            part = part.view()
            part.flags.writeable = False
            batch.append(part)
    return Batches(batched_data, source), Batches(batched_label, source)


def _native_source(
    batched_data: Any, batched_label: Any, model: Any, optimizer: Any = None
) -> _Source | None:
    """The rows behind the batches if the whole pass may run natively, else None: batches from
    ``generate_batched_data`` unchanged, a compat model and SGD whose methods are not overridden."""
    if not (isinstance(batched_data, Batches) and isinstance(batched_label, Batches)):
        return None
    if batched_data.source is not batched_label.source or not (
        batched_data.unchanged() and batched_label.unchanged()
    ):
        return None
    if not isinstance(model, _CompatModel) or type(model).forward is not _CompatModel.forward:
        return None
    if optimizer is not None and (
        type(optimizer).update is not SGD.update
        or type(optimizer).apply_regularization is not SGD.apply_regularization
    ):
        return None
    return batched_data.source


def _spans(n_batches: int, debug: bool) -> list[tuple[int, int]]:
    """Runs of batches [first, stop) for one native call each: with ``debug`` every tenth batch
    alone (its loss is printed); the last batch always alone, through forward/update, so that
    ``model.gradients`` ends as the assignment's loop leaves it."""
    cuts = {0, n_batches - 1, n_batches}
    if debug:
        cuts |= {i for i in range(0, n_batches, 10)} | {i + 1 for i in range(0, n_batches, 10)}
    edges = sorted(c for c in cuts if 0 <= c <= n_batches)
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def _print_train(epoch: int, idx: int, n_batches: int, seconds: float, loss: float, accuracy: float) -> None:
    print(
        f"Epoch: [{epoch}][{idx}/{n_batches}]\tBatch Time {seconds:.3f} \t"
        f"Batch Loss {loss:.4f}\tTrain Accuracy {accuracy:.4f}\t"
    )


def train(
    epoch: int,
    batched_train_data: Sequence[Any],
    batched_train_label: Sequence[Any],
    model: Any,
    optimizer: Any,
    debug: bool = True,
) -> tuple[float, float]:
    """One epoch: for each batch ``model.forward`` then ``optimizer.update(model)``. Returns
    ``(epoch_loss, epoch_acc)``: the mean of the batch losses and correct / samples, as the
    assignment computes them. ``debug`` prints every tenth batch's loss and accuracy.

    Batches from ``generate_batched_data`` with a compat model and SGD run as a native epoch
    (same arithmetic, one call per run of batches); anything else runs batch by batch.
    """
    if len(batched_train_data) != len(batched_train_label) or not len(batched_train_data):
        raise ValueError(
            "batched_train_data and batched_train_label must be non-empty lists of the same length, "
            f"got {len(batched_train_data)} and {len(batched_train_label)}"
        )
    source = _native_source(batched_train_data, batched_train_label, model, optimizer)
    n_batches = len(batched_train_data)
    loss_sum, hits, samples = 0.0, 0, 0
    if source is None:
        spans = [(i, i + 1) for i in range(n_batches)]
    else:
        spans = _spans(n_batches, debug)
        network = model.network
        fast_sgd = FastSGD(optimizer.learning_rate, optimizer.reg)
        x = source.data_as(model.dtype)
    for first, stop in spans:
        start = time.perf_counter()
        if source is None or (stop == n_batches and first == n_batches - 1):
            xb, yb = batched_train_data[first], batched_train_label[first]
            loss, accuracy = model.forward(xb, yb)
            optimizer.update(model)
            count = len(xb)
            loss_sum += loss
        else:
            model.parameters()  # convert what user code assigned before the kernels see it
            rows = source.order[first * source.batch_size : stop * source.batch_size]
            loss, accuracy = fastmlp_train.train_epoch(
                network, fast_sgd, x, source.label, rows, source.batch_size
            )
            count = len(rows)
            loss_sum += loss * (stop - first)
        hits += round(accuracy * count)
        samples += count
        if debug and first % 10 == 0:
            _print_train(epoch, first, n_batches, time.perf_counter() - start, loss, accuracy)
    return loss_sum / n_batches, hits / samples


def evaluate(
    batched_test_data: Sequence[Any], batched_test_label: Sequence[Any], model: Any, debug: bool = True
) -> tuple[float, float]:
    """``(loss, accuracy)`` of ``model`` over the batches (``forward`` in ``mode='valid'``): the mean
    of the batch losses and correct / samples. ``debug`` prints every batch's accuracy."""
    if len(batched_test_data) != len(batched_test_label) or not len(batched_test_data):
        raise ValueError(
            "batched_test_data and batched_test_label must be non-empty lists of the same length, "
            f"got {len(batched_test_data)} and {len(batched_test_label)}"
        )
    source = _native_source(batched_test_data, batched_test_label, model)
    if source is not None and not source.shuffled and not debug:
        model.parameters()
        return fastmlp_train.evaluate(
            model.network, source.data_as(model.dtype), source.label, source.batch_size
        )
    loss_sum, hits, samples = 0.0, 0, 0
    for idx, (xb, yb) in enumerate(zip(batched_test_data, batched_test_label, strict=True)):
        loss, accuracy = model.forward(xb, yb, mode="valid")
        loss_sum += loss
        hits += round(accuracy * len(xb))
        samples += len(xb)
        if debug:
            print(f"Evaluate: [{idx}/{len(batched_test_data)}]\tBatch Accuracy {accuracy:.4f}\t")
    return loss_sum / len(batched_test_data), hits / samples


def plot_curves(
    train_loss_history: Sequence[float],
    train_acc_history: Sequence[float],
    valid_loss_history: Sequence[float],
    valid_acc_history: Sequence[float],
    path: str | os.PathLike[str] = "learning_curves.png",
) -> Path:
    """Write the learning-curve figure (loss and accuracy, training and validation, over epochs)
    to ``path`` as a PNG and return it; no display needed (matplotlib's Agg renderer)."""
    from ..plotting import plot_learning_curves

    histories = (train_loss_history, train_acc_history, valid_loss_history, valid_acc_history)
    lengths = {len(h) for h in histories}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(
            "the four histories must be non-empty and of one length, got lengths "
            f"{[len(h) for h in histories]}"
        )
    rows = [
        {"epoch": e, "train_loss": tl, "train_acc": ta, "val_loss": vl, "val_acc": va}
        for e, (tl, ta, vl, va) in enumerate(zip(*histories, strict=True), start=1)
    ]
    return plot_learning_curves(rows, path)
