"""The format layer: MNIST's layout, the CSV and IDX readers that check a file against it, and the
assignment's split.

Everything here works on bytes and arrays already in memory (or on a reader of rows); where the
bytes come from is the source layer's business (``fastmlp.data.sources``).

The split is the assignment's, unshuffled: the first 80% of the training file (48,000 rows)
train, the rest (12,000) validate; the test file (10,000 rows) tests. Images come back as
(N, 784) floats in [0, 1] (pixels / 255), labels as int64.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from .._memory import aligned_empty
from ..errors import DataCorruptError

N_PIXELS = 784
N_CLASSES = 10
MNIST_ROWS = {"train": 60_000, "test": 10_000}  # rows of each file
TRAIN_FRACTION = Fraction(4, 5)  # exact: 60,000 rows -> 48,000 train, 12,000 validation
IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # unsigned bytes, 3 or 1 dimensions
ANY_SIZE_HINT = "for other data of this layout pass --allow-any-size (allow_any_size=True)"

RowReader = Callable[[int, int], np.ndarray]  # (start, stop) -> uint8 image rows [start, stop)


class MnistSplit(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class RawMnist(NamedTuple):
    """The two files as uint8 images (N, 784) and uint8 labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def expected_rows(split: str, allow_any_size: bool) -> int | None:
    """The rows MNIST's ``split`` file ("train" or "test") must hold, or None if any size is allowed."""
    return None if allow_any_size else MNIST_ROWS[split]


# --- readers ------------------------------------------------------------------------------


def _csv_row_error(name: str, row: int, first_line: int, problem: str) -> DataCorruptError:
    """An error naming the file, the data row (1-based) and the line of the file it is on."""
    return DataCorruptError(f"{name}: row {row} (line {row + first_line - 1}): {problem}")


def parse_csv(text: bytes, name: str, expected_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``label, 784 pixels`` (header optional) -> images (N, 784) uint8, labels (N,) uint8.

    Raises DataCorruptError naming the first faulty row: a row that is not 785 values (the last
    one "truncated"), a label outside 0..9, a pixel outside 0..255, or, with ``expected_rows``,
    a file with another number of rows.
    """
    lines = text.replace(b"\r", b"").split(b"\n")
    first_line = 1  # the line of the file that holds data row 1
    if lines[0][:1].isalpha():  # a header row such as "label,1x1,1x2,..."
        lines, first_line = lines[1:], 2
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        expected = f"{expected_rows} rows" if expected_rows else "at least one row"
        raise DataCorruptError(f"{name}: holds no data rows (header only or empty), expected {expected}")
    widths = np.fromiter((line.count(b",") + 1 for line in lines), dtype=np.int64, count=len(lines))
    wrong = np.flatnonzero(widths != N_PIXELS + 1)
    if wrong.size:
        i = int(wrong[0])
        found = int(widths[i]) if lines[i] else 0
        if i == len(lines) - 1 and found < N_PIXELS + 1:
            raise _csv_row_error(
                name, i + 1, first_line, f"truncated: the file ends after {found} of the row's 785 values"
            )
        raise _csv_row_error(name, i + 1, first_line, f"{found} values, expected 785 (label and 784 pixels)")
    # One flat parse of the whole file is ~20x faster than np.loadtxt.
    try:
        values = np.array(b",".join(lines).split(b","), dtype=np.int16)
    except (ValueError, OverflowError):
        for i, line in enumerate(lines):  # the slow search for the culprit, on the error path only
            for column, field in enumerate(line.split(b",")):
                if not field.strip().lstrip(b"-").isdigit() or abs(int(field)) > 255:
                    what = "label" if column == 0 else f"pixel {column}"
                    raise _csv_row_error(
                        name,
                        i + 1,
                        first_line,
                        f"{what} is {field.decode(errors='replace')!r}, "
                        f"expected an integer in {'0..9' if column == 0 else '0..255'}",
                    ) from None
        raise
    table = values.reshape(-1, N_PIXELS + 1)
    labels, pixels = table[:, 0], table[:, 1:]
    bad_label = np.flatnonzero((labels < 0) | (labels >= N_CLASSES))
    if bad_label.size:
        i = int(bad_label[0])
        raise _csv_row_error(name, i + 1, first_line, f"label {labels[i]}, expected 0..{N_CLASSES - 1}")
    bad_pixel = np.flatnonzero(((pixels < 0) | (pixels > 255)).ravel())
    if bad_pixel.size:
        i, column = divmod(int(bad_pixel[0]), N_PIXELS)
        raise _csv_row_error(
            name, i + 1, first_line, f"pixel {column + 1} is {pixels[i, column]}, expected 0..255"
        )
    if expected_rows is not None and len(table) != expected_rows:
        ending = "truncated at a line boundary?" if len(table) < expected_rows else "extra rows?"
        raise DataCorruptError(
            f"{name}: {len(table)} rows, expected {expected_rows} ({ending}); {ANY_SIZE_HINT}"
        )
    return np.ascontiguousarray(pixels, dtype=np.uint8), labels.astype(np.uint8)


def parse_idx(data: bytes, name: str, kind: str, expected_records: int | None = None) -> np.ndarray:
    """An IDX file of unsigned bytes -> images (N, 784) if ``kind`` is "images", labels (N,) if "labels".

    Raises DataCorruptError for a wrong magic number, images not 28x28, a record count other
    than ``expected_records``, a body shorter ("truncated") or longer than the header declares,
    or a label outside 0..9.
    """
    magic = IDX_MAGIC[kind]
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < 4 or int.from_bytes(data[:4], "big") != magic:
        found = f"0x{int.from_bytes(data[:4], 'big'):08x}" if len(data) >= 4 else f"only {len(data)} bytes"
        raise DataCorruptError(
            f"{name}: magic number {found}, expected 0x{magic:08x} (IDX {kind}, unsigned bytes)"
        )
    if len(data) < header:
        raise DataCorruptError(f"{name}: truncated: the file ends inside its {header}-byte header")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    count = shape[0]
    if kind == "images" and shape[1:] != (28, 28):
        raise DataCorruptError(f"{name}: images of {shape[1]}x{shape[2]} pixels, expected 28x28")
    if count == 0:
        raise DataCorruptError(f"{name}: the header declares no records")
    if expected_records is not None and count != expected_records:
        raise DataCorruptError(
            f"{name}: the header declares {count} records, expected {expected_records}; {ANY_SIZE_HINT}"
        )
    record = N_PIXELS if kind == "images" else 1
    body = len(data) - header
    if body < count * record:
        complete, partial = divmod(body, record)
        detail = (
            f"record {complete + 1} ends after {partial} of its {record} bytes"
            if partial
            else (f"the file ends after record {complete}")
        )
        raise DataCorruptError(f"{name}: truncated: {detail}; the header declares {count} records")
    if body > count * record:
        raise DataCorruptError(
            f"{name}: {body - count * record} bytes after the last of the {count} records the header declares"
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header)
    if kind == "images":
        return array.reshape(count, N_PIXELS)
    bad = np.flatnonzero(array >= N_CLASSES)
    if bad.size:
        raise DataCorruptError(
            f"{name}: record {bad[0] + 1}: label {array[bad[0]]}, expected 0..{N_CLASSES - 1}"
        )
    return array


# --- the split ----------------------------------------------------------------------------

# Rows converted to floats per step: the uint8 block read for them stays about 3 MB.
_CONVERT_ROWS = 4096


def _float_images(read: RowReader, start: int, stop: int, dtype: np.dtype) -> np.ndarray:
    """Rows [start, stop) of uint8 images as ``dtype`` in [0, 1], converted a block at a time."""
    out = aligned_empty((stop - start, N_PIXELS), dtype)  # see fastmlp._memory
    for a in range(start, stop, _CONVERT_ROWS):
        b = min(a + _CONVERT_ROWS, stop)
        # pixels / 255, computed in dtype
        np.divide(read(a, b), dtype.type(255), out=out[a - start : b - start], dtype=dtype)
    return out


def split_rows(
    train: tuple[int, RowReader],
    test: tuple[int, RowReader],
    y_train: np.ndarray,
    y_test: np.ndarray,
    dtype: np.dtype,
) -> MnistSplit:
    """The assignment's split of images given as (rows, reader of rows [a, b)) and their labels."""
    (n_rows, read_train), (n_test, read_test) = train, test
    n_train = int(n_rows * TRAIN_FRACTION)  # exact in fractions, rounded down
    labels = y_train.astype(np.int64), y_test.astype(np.int64)
    return MnistSplit(
        _float_images(read_train, 0, n_train, dtype),
        labels[0][:n_train],
        _float_images(read_train, n_train, n_rows, dtype),
        labels[0][n_train:],
        _float_images(read_test, 0, n_test, dtype),
        labels[1],
    )


def split(raw: RawMnist, dtype: str | np.dtype = "float32") -> MnistSplit:
    """The assignment's split of the raw files, images scaled to [0, 1] in ``dtype``."""

    def rows_of(x: np.ndarray) -> tuple[int, RowReader]:
        return len(x), lambda a, b: x[a:b]

    return split_rows(rows_of(raw.x_train), rows_of(raw.x_test), raw.y_train, raw.y_test, np.dtype(dtype))
