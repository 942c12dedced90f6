"""A software prefetch for compiled Numba code (LLVM's ``llvm.prefetch``; Numba has none built in).

The sparse forward pass reads the non-zero values of its batch rows, which are scattered pieces
of arrays far larger than the caches (MNIST's 48,000 training rows hold 29 MB of values): each
row's values arrive as a string of cache misses that the hardware prefetchers cannot foresee. A
hint for the next row's values, given while the current row is computed, lets them arrive in the
meantime. A prefetch only warms the cache: it never faults and changes no result.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# llvm.prefetch(address, rw, locality, cache type): a read, kept in every cache level, of data
_READ, _KEEP_IN_ALL_LEVELS, _DATA = 0, 3, 1


def _prefetch_typing(typingctx: Any, array: Any, index: Any) -> Any:
    """The typing and the LLVM code of ``prefetch``."""
    if not (isinstance(array, types.Array) and array.ndim == 1 and isinstance(index, types.Integer)):
        return None
    signature = types.void(array, index)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        array_type = sig.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        item_pointer: Any = cgutils.get_item_pointer  # untyped in Numba
        address = item_pointer(context, builder, array_type, view, [args[1]], wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        # declare_intrinsic names the pointer type as this LLVM spells it (p0 or p0i8)
        function = builder.module.declare_intrinsic("llvm.prefetch", [byte_pointer], function_type)
        hint = [i32(_READ), i32(_KEEP_IN_ALL_LEVELS), i32(_DATA)]
        builder.call(function, [builder.bitcast(address, byte_pointer), *hint])
        return context.get_dummy_value()

    return signature, codegen


# Typed as Any: mypy reads the intrinsic object's own call signature (typing context first), not
# the one compiled code sees.
prefetch: Any = intrinsic(_prefetch_typing)
prefetch.__doc__ = "prefetch(array, index): hint that array[index] (1-D array, index >= 0) is read soon."
