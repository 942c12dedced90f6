"""The loaders' images as the assignment returns them, lists of rows, without a float per pixel.

The assignment's ``load_csv`` returns a list of rows, each a Python ``list`` of 784 floats: for
MNIST's 70,000 images about 1.8 GB of float objects, and seconds to build. Here every row is a
``Row``: a ``list`` (``isinstance(row, list)``, ``len(row) == 784``) that holds no floats of its
own but reads them from one row of a float64 array shared by its split, about 100 bytes a row.

Reading it works as for a list: indexing, slicing, iteration, ``in``, comparison, ``+``, ``*``,
``repr``, ``copy``, pickling (as a plain list) and ``np.array(rows)`` (through ``__array__``).
Changing it (``row[i] = v``, ``append``, ``sort``, ...) first gives the row its own floats, as
an ordinary list, and then changes that copy: the shared array never changes, so every other row
and ``generate_batched_data``'s fast path (which reads the shared array directly) stay right.

What a ``Row`` cannot do: C code that reads a list's storage directly, bypassing its methods,
sees an empty list (``json.dumps(row)`` gives ``[]``); ``list(row)`` first makes it an ordinary
list.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any, SupportsIndex

import numpy as np


class _RowSlots(list[float]):
    """The layout ``Row`` and ``OwnRow`` share, so a row can turn from one into the other."""

    __slots__ = ("_array", "_index")
    _array: np.ndarray | None
    _index: int


class OwnRow(_RowSlots):
    """A row that was changed: an ordinary list of its own floats (the shared array left behind)."""

    __slots__ = ()


class Row(_RowSlots):
    """Row ``index`` of ``array`` (N, D) float64, read as a list of D Python floats."""

    __slots__ = ()

    def __init__(self, array: np.ndarray, index: int) -> None:  # no list.__init__: no storage
        self._array = array
        self._index = index

    # --- reading ---------------------------------------------------------------------------

    def _view(self) -> np.ndarray:
        assert self._array is not None  # a Row always has its array; OwnRow drops it
        view: np.ndarray = self._array[self._index]
        return view

    def _values(self) -> list[float]:
        values: list[float] = self._view().tolist()
        return values

    def __len__(self) -> int:
        assert self._array is not None
        return int(self._array.shape[1])

    def __iter__(self) -> Iterator[float]:
        return iter(self._values())

    def __reversed__(self) -> Iterator[float]:
        return reversed(self._values())

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return self._values()[key]
        index = operator.index(key)
        if not -len(self) <= index < len(self):
            raise IndexError("list index out of range")
        return self._view().item(index)

    def __contains__(self, value: object) -> bool:
        return value in self._values()

    def __eq__(self, other: object) -> bool:
        return self._values() == other

    def __ne__(self, other: object) -> bool:
        return self._values() != other

    def __lt__(self, other: Any) -> bool:
        return bool(self._values() < other)

    def __le__(self, other: Any) -> bool:
        return bool(self._values() <= other)

    def __gt__(self, other: Any) -> bool:
        return bool(self._values() > other)

    def __ge__(self, other: Any) -> bool:
        return bool(self._values() >= other)

    __hash__ = None  # type: ignore[assignment]  # as a list's

    def __add__(self, other: Any) -> Any:
        return self._values() + other

    def __radd__(self, other: Any) -> Any:
        return other + self._values()

    def __mul__(self, times: SupportsIndex) -> list[float]:
        return self._values() * times

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return repr(self._values())

    def copy(self) -> list[float]:
        return self._values()

    def count(self, value: Any) -> int:
        return self._values().count(value)

    def index(self, value: Any, *bounds: SupportsIndex) -> int:
        return self._values().index(value, *bounds)

    def __copy__(self) -> list[float]:
        return self._values()

    def __deepcopy__(self, memo: dict[int, Any]) -> list[float]:
        return self._values()

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[type, tuple[list[float]]]:
        return list, (self._values(),)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The row as an array: a copy when asked for one (``np.array(row)``), else a read-only
        view (``np.asarray(row)``; the array is shared by every row of the split)."""
        view = self._view()
        out: np.ndarray
        if dtype is not None and np.dtype(dtype) != view.dtype:
            out = view.astype(dtype)
        elif copy:
            out = view.copy()
        else:
            out = view.view()
            out.flags.writeable = False
        return out

    # --- changing: the row takes its own floats first ----------------------------------------

    def _own(self) -> OwnRow:
        values = self._values()
        self.__class__ = OwnRow  # type: ignore[assignment]  # the same layout (_RowSlots)
        self._array = None
        list.extend(self, values)
        return self  # type: ignore[return-value]  # now an OwnRow


def _changing(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def change(self: Row, *args: Any) -> Any:
        return method(self._own(), *args)

    change.__name__ = change.__qualname__ = name
    change.__doc__ = f"list.{name}, on the row's own floats (see the module docstring)"
    return change


for _name in (
    "__setitem__",
    "__delitem__",
    "__iadd__",
    "__imul__",
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "clear",
    "sort",
    "reverse",
):
    setattr(Row, _name, _changing(_name))


def rows_of(array: np.ndarray) -> list[list[float]]:
    """``array`` (N, D) as a list of N ``Row`` objects over it (the caller never writes to it)."""
    return [Row(array, i) for i in range(len(array))]


def shared_array(data: Sequence[Any]) -> tuple[np.ndarray, np.ndarray | None] | None:
    """If every element of ``data`` is an unchanged ``Row`` over one array: that array and the
    row indices (None when ``data`` is exactly the array's rows in order, the loaders' own
    list); else None."""
    if not isinstance(data, (list, tuple)) or not data or type(data[0]) is not Row:
        return None
    array = data[0]._array
    if not all(type(row) is Row and row._array is array for row in data):
        return None
    assert array is not None
    indices = np.fromiter((row._index for row in data), dtype=np.int64, count=len(data))
    if len(indices) == len(array) and np.array_equal(indices, np.arange(len(array))):
        return array, None
    return array, indices
