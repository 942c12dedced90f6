"""The assignment's ``utils`` module: ``load_csv``, the two loaders, ``generate_batched_data``,
``train`` (one epoch), ``evaluate`` and ``plot_curves``, with the assignment's signatures, return
types, printed lines and arithmetic.

Data: the loaders return what the assignment's return, lists (rows, and ``int`` labels), and read
``./data/mnist_train.csv`` and ``./data/mnist_test.csv`` where the assignment's ``get_data.sh``
puts them. A row is a ``list`` that reads its pixels from one float64 array shared by its split
(``fastmlp.compat._rows``), so the lists cost about 100 bytes a row rather than 25 KB.

The fast path: ``generate_batched_data`` returns lists of writable batch arrays, as the
assignment does, that also remember the rows they were cut from. ``train`` and ``evaluate`` run
such lists, with a compat model and compat's ``SGD``, as native passes over those rows (one
compiled call per run of batches; for the loaders' own lists the dataset's sparse structure is
built once and reused every epoch), with the arithmetic of the batch-by-batch loop. Anything
else goes through the assignment's loop, batch by batch: other batches, a list that was changed,
a student's own model or optimiser, ``learning_rate=0``. Batches your code changes in place:
the fast path checks each batch's first row and its labels against the rows it was cut from,
and falls back to the loop if any differs; a change confined to other rows of a batch is not
seen, so run such batches as ``train(epoch, list(batches), list(labels), ...)``.
"""

from __future__ import annotations

import itertools
import operator
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import _validate
from .. import train as fastmlp_train
from .._memory import aligned_empty
from ..data import formats, load_mnist
from ..errors import DataUnavailableError, FastmlpTypeError, FastmlpValueError
from ..optim import SGD as FastSGD
from . import _rows
from .models._network_model import _CompatModel
from .optimizer import SGD

__all__ = [
    "evaluate",
    "generate_batched_data",
    "load_csv",
    "load_mnist_test",
    "load_mnist_trainval",
    "plot_curves",
    "train",
]

ASSIGNMENT_DATA = Path("data")  # where the assignment's get_data.sh puts the CSV files (from the cwd)

# --- loading ------------------------------------------------------------------------------


def load_csv(path: str | os.PathLike[str]) -> tuple[list[list[float]], list[int]]:
    """``(data, labels)`` of an MNIST CSV file (label, then 784 pixels a row; a header row is
    skipped): data a list of rows of pixels / 255, labels a list of ``int``, as the assignment's.

    Raises DataUnavailableError if there is no such file, DataCorruptError naming the first
    faulty row.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise FastmlpTypeError(f"path must be a path (str or os.PathLike), got {type(path).__name__}")
    file = Path(path)
    if not file.is_file():
        raise DataUnavailableError(f"{file}: no such file (the assignment's get_data.sh puts MNIST in data/)")
    images, labels = formats.parse_csv(file.read_bytes(), str(file))
    return _rows.rows_of(_scaled(images)), labels.tolist()


def _scaled(images: np.ndarray) -> np.ndarray:
    """uint8 pixels (N, D) / 255 as float64, 64-byte aligned: the assignment's ``int(px) / 255``,
    the same correctly rounded quotient."""
    out = aligned_empty(images.shape, np.float64)
    np.divide(images, np.float64(255), out=out)
    return out


def _assignment_file(name: str, data_dir: Any) -> Path | None:
    """``./data/<name>`` when the loaders should read it: it exists and neither ``data_dir`` nor
    $FASTMLP_DATA names another directory."""
    if data_dir is not None or os.environ.get("FASTMLP_DATA"):
        return None
    file = ASSIGNMENT_DATA / name
    return file if file.is_file() else None


def load_mnist_trainval(
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[list[list[float]], list[int], list[list[float]], list[int]]:
    """``(train_data, train_label, val_data, val_label)``: the first 80% and the last 20% of the
    training file, as lists (see ``load_csv``), printing the assignment's two lines.

    The file: ``data_dir`` or $FASTMLP_DATA if given (as ``fastmlp.data.load_mnist``), else
    ``./data/mnist_train.csv`` if it exists (any number of rows, as the assignment reads it),
    else fastmlp's cache (downloaded on first use).
    """
    print("Loading training data...")
    file = _assignment_file("mnist_train.csv", data_dir)
    if file is not None:
        images, labels = formats.parse_csv(file.read_bytes(), str(file))
        cut = int(len(images) * formats.TRAIN_FRACTION)
        x_train, x_val = _scaled(images[:cut]), _scaled(images[cut:])
        y_train, y_val = labels[:cut].tolist(), labels[cut:].tolist()
    else:
        split = load_mnist(data_dir, dtype="float64", quiet=True)
        x_train, x_val = split.x_train, split.x_val
        y_train, y_val = split.y_train.tolist(), split.y_val.tolist()
    print(f"Training data loaded with {len(x_train) + len(x_val)} images")
    return _rows.rows_of(x_train), y_train, _rows.rows_of(x_val), y_val


def load_mnist_test(data_dir: str | os.PathLike[str] | None = None) -> tuple[list[list[float]], list[int]]:
    """``(test_data, test_label)``: the test file as lists, from ``./data/mnist_test.csv`` or as
    ``load_mnist_trainval`` finds it, printing the assignment's two lines."""
    print("Loading testing data...")
    file = _assignment_file("mnist_test.csv", data_dir)
    if file is not None:
        data, label = load_csv(file)
    else:
        split = load_mnist(data_dir, dtype="float64", quiet=True)
        data, label = _rows.rows_of(split.x_test), split.y_test.tolist()
    print(f"Testing data loaded with {len(data)} images")
    return data, label


# --- batching -----------------------------------------------------------------------------


@dataclass(eq=False)
class _Source:
    """The rows a batch list was cut from: batch i holds ``data[order[i * batch_size : ...]]``.

    ``data`` is an array nobody else writes to: the loaders' shared array, or a copy made for
    these batches; ``block`` is the memory of the batches themselves (writable, as in the
    assignment).
    """

    data: np.ndarray
    label: np.ndarray
    order: np.ndarray
    batch_size: int
    shuffled: bool
    block: np.ndarray
    label_block: np.ndarray
    as_dtype: dict[np.dtype, np.ndarray] = field(default_factory=dict)

    def data_as(self, dtype: np.dtype) -> np.ndarray:
        """``data`` in the model's dtype, converted once (the native epoch's sparse index is
        cached per array, so the same array must come back every call)."""
        if self.data.dtype == dtype:
            return self.data
        if dtype not in self.as_dtype:
            self.as_dtype[dtype] = self.data.astype(dtype)
        return self.as_dtype[dtype]

    def batches_hold_their_rows(self) -> bool:
        """Each batch's first row and every label still equal the rows they were cut from: a
        cheap check (under 1% of an epoch) that catches code that changed the batches as a whole."""
        firsts = self.order[:: self.batch_size]
        return np.array_equal(self.block[:: self.batch_size], self.data[firsts]) and np.array_equal(
            self.label_block, self.label[self.order]
        )


class Batches(list[np.ndarray]):
    """A list of batch arrays that also knows the rows it was cut from (see the module docstring)."""

    def __init__(self, arrays: Sequence[np.ndarray], source: _Source) -> None:
        super().__init__(arrays)
        self.source = source
        self._originals = tuple(arrays)

    def unchanged(self) -> bool:
        """Whether the list still holds exactly the batches it was made with."""
        return len(self) == len(self._originals) and all(map(operator.is_, self, self._originals))


def _data_array(data: Any) -> np.ndarray:
    """``data`` (N, D) as an array nobody else writes to: the loaders' shared array when ``data``
    is their list (or rows of it), else a copy."""
    shared = _rows.shared_array(data)
    if shared is not None:
        array, indices = shared
        return array if indices is None else array[indices]
    try:
        array = np.array(data)
    except (TypeError, ValueError) as error:
        raise FastmlpTypeError(f"data must be rows of numbers, got {type(data).__name__}") from error
    if array.ndim != 2 or array.dtype.kind not in "fiu":
        raise FastmlpValueError(
            f"data must be 2-D (N, D) numbers, got shape {array.shape}, dtype {array.dtype}"
        )
    return array


def generate_batched_data(
    data: Any, label: Any, batch_size: int = 32, shuffle: bool = False, seed: int | None = None
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Cut (data (N, D), label (N,)) into batches of ``batch_size`` rows, the last one possibly
    smaller; every row appears exactly once. Returns ``(batched_data, batched_label)``, two lists
    of writable arrays, as the assignment's.

    ``shuffle``: the rows in the order Python's ``random.shuffle`` gives a list of N items, from
    the global ``random`` generator, as in the assignment; ``seed`` first calls
    ``random.seed(seed)``, as the assignment's template does (also for ``seed=0``, which the
    template's ``if seed:`` skips).
    """
    array = _data_array(data)
    labels = np.array(label)
    if labels.shape != (len(array),) or labels.dtype.kind not in "iu":
        raise FastmlpValueError(
            f"label must be {len(array)} integers to match data, "
            f"got shape {labels.shape}, dtype {labels.dtype}"
        )
    if len(array) == 0:
        raise FastmlpValueError("data must have at least one row")
    batch_size = _validate.positive_int("batch_size", batch_size)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise FastmlpTypeError(f"seed must be None or an int, got {type(seed).__name__}")
    if shuffle:
        if seed is not None:
            random.seed(int(seed))
        positions = list(range(len(array)))
        random.shuffle(positions)
        order = np.array(positions, dtype=np.int64)
        block, label_block = array[order], labels[order]
    else:
        order = np.arange(len(array), dtype=np.int64)
        block, label_block = array.copy(), labels.copy()
    source = _Source(array, labels, order, batch_size, bool(shuffle), block, label_block)
    starts = range(0, len(array), batch_size)
    return (
        Batches([block[s : s + batch_size] for s in starts], source),
        Batches([label_block[s : s + batch_size] for s in starts], source),
    )


# --- one epoch, evaluation ----------------------------------------------------------------


def _native_source(
    batched_data: Any, batched_label: Any, model: Any, optimizer: Any = None
) -> _Source | None:
    """The rows behind the batches if the whole pass may run natively, else None: batches from
    ``generate_batched_data``, unchanged, with a compat model and compat's SGD (lr > 0) whose
    methods are not overridden."""
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
        or optimizer.learning_rate <= 0
    ):
        return None
    source = batched_data.source
    return source if source.batches_hold_their_rows() else None


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


def _check_batches(data: Sequence[Any], label: Sequence[Any], names: str) -> None:
    if len(data) != len(label) or not len(data):
        raise FastmlpValueError(
            f"{names} must be non-empty lists of the same length, got {len(data)} and {len(label)}"
        )


def train(
    epoch: int,
    batched_train_data: Sequence[Any],
    batched_train_label: Sequence[Any],
    model: Any,
    optimizer: Any,
    debug: bool = True,
) -> tuple[np.float64, np.float64]:
    """One epoch: for each batch ``model.forward`` then ``optimizer.update(model)``. Returns
    ``(epoch_loss, epoch_acc)`` as ``numpy.float64``: the mean of the batch losses and the sum of
    accuracy * batch size over the samples, as the assignment computes them. ``debug`` prints
    every tenth batch's loss and accuracy, then the epoch's average accuracy.

    Batches from ``generate_batched_data`` with a compat model and SGD run as native passes
    (the fast path; see the module docstring); anything else runs batch by batch.
    """
    _check_batches(batched_train_data, batched_train_label, "batched_train_data and batched_train_label")
    source = _native_source(batched_train_data, batched_train_label, model, optimizer)
    n_batches = len(batched_train_data)
    epoch_loss, hits, count_samples = np.float64(0.0), np.float64(0.0), 0
    if source is None:
        spans = [(i, i + 1) for i in range(n_batches)]
    else:
        spans = _spans(n_batches, debug)
        fast_sgd = FastSGD(optimizer.learning_rate, optimizer.reg)
        x = source.data_as(model.dtype)
    for first, stop in spans:
        start = time.perf_counter()
        if source is None or (stop == n_batches and first == n_batches - 1):
            xb, yb = batched_train_data[first], batched_train_label[first]
            loss, accuracy = model.forward(xb, yb)
            optimizer.update(model)
            count = len(xb)
            epoch_loss += loss
            hits += accuracy * count
        else:
            model.parameters()  # convert what user code assigned before the kernels see it
            rows = source.order[first * source.batch_size : stop * source.batch_size]
            loss, accuracy = fastmlp_train.train_epoch(
                model.network, fast_sgd, x, source.label, rows, source.batch_size
            )
            count = len(rows)
            epoch_loss += loss * (stop - first)
            hits += round(accuracy * count)  # the correct predictions, an integer
        count_samples += count
        if debug and first % 10 == 0:
            _print_train(epoch, first, n_batches, time.perf_counter() - start, loss, accuracy)
    epoch_loss /= n_batches
    epoch_acc = hits / count_samples
    if debug:
        print(f"* Average Accuracy of Epoch {epoch} is: {epoch_acc:.4f}")
    return np.float64(epoch_loss), np.float64(epoch_acc)


def evaluate(
    batched_test_data: Sequence[Any], batched_test_label: Sequence[Any], model: Any, debug: bool = True
) -> tuple[np.float64, np.float64]:
    """``(loss, accuracy)`` of ``model`` over the batches (``forward`` in ``mode='valid'``), as
    ``numpy.float64``: the mean of the batch losses and correct / samples. ``debug`` prints every
    batch's accuracy."""
    _check_batches(batched_test_data, batched_test_label, "batched_test_data and batched_test_label")
    source = _native_source(batched_test_data, batched_test_label, model)
    if source is not None and not source.shuffled and not debug:
        model.parameters()
        loss, accuracy = fastmlp_train.evaluate(
            model.network, source.data_as(model.dtype), source.label, source.batch_size
        )
        return np.float64(loss), np.float64(accuracy)
    epoch_loss, hits, count_samples = np.float64(0.0), np.float64(0.0), 0
    for idx, (xb, yb) in enumerate(zip(batched_test_data, batched_test_label, strict=True)):
        loss, accuracy = model.forward(xb, yb, mode="valid")
        epoch_loss += loss
        hits += accuracy * len(xb)
        count_samples += len(xb)
        if debug:
            print(f"Evaluate: [{idx}/{len(batched_test_data)}]\tBatch Accuracy {accuracy:.4f}\t")
    return np.float64(epoch_loss / len(batched_test_data)), np.float64(hits / count_samples)


# --- the learning curves ------------------------------------------------------------------


def plot_curves(
    train_loss_history: Sequence[float],
    train_acc_history: Sequence[float],
    valid_loss_history: Sequence[float],
    valid_acc_history: Sequence[float],
    path: str | os.PathLike[str] | None = None,
) -> None:
    """Draw the assignment's two figures with pyplot, loss (training and validation) and
    accuracy (training and validation) over epochs, and show them; returns None, as the
    assignment's. Without a display (matplotlib's Agg renderer) nothing is shown and the figures
    stay open for ``plt.savefig``. ``path``, a fastmlp addition: also write fastmlp's two-panel
    PNG of the same curves there.
    """
    histories = (train_loss_history, train_acc_history, valid_loss_history, valid_acc_history)
    lengths = {len(h) for h in histories}
    if len(lengths) != 1 or 0 in lengths:
        raise FastmlpValueError(
            "the four histories must be non-empty and of one length, got lengths "
            f"{[len(h) for h in histories]}"
        )
    import matplotlib.pyplot as plt

    epochs = range(len(train_loss_history))
    for title, ylabel, curves in (
        ("Loss Curve", "Loss", (train_loss_history, valid_loss_history)),
        ("Accuracy Curve", "Accuracy", (train_acc_history, valid_acc_history)),
    ):
        _, axes = plt.subplots()
        axes.plot(epochs, curves[0], label="train")
        axes.plot(epochs, curves[1], label="valid")
        axes.set_title(title)
        axes.set_xlabel("Epochs")
        axes.set_ylabel(ylabel)
        axes.legend()
    plt.show()  # returns at once without a display (Agg)
    if path is not None:
        from ..plotting import plot_learning_curves

        rows = [
            {"epoch": e, "train_loss": tl, "train_acc": ta, "val_loss": vl, "val_acc": va}
            for e, (tl, ta, vl, va) in enumerate(zip(*histories, strict=True), start=1)
        ]
        plot_learning_curves(rows, path)
