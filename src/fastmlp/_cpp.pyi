# Stub for the compiled module fastmlp._cpp (cpp/bindings.cpp). Every function exists for float32 and
# float64 arrays; arrays must be C-contiguous and of the exact dtype (no conversion), labels int64.
# Private: use fastmlp.backends.cpp_backend, which validates arguments and allocates outputs.
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_F = npt.NDArray[np.floating]
_I = npt.NDArray[np.int64]

openmp: bool
isa: str  # "native", "generic", "x86-64-v2", "x86-64-v3" or "x86-64-v4" (fastmlp._isa)
arch_flags: str

def cpu_supports(level: str) -> bool: ...
def affine_forward(x: _F, w: _F, b: _F | None, out: _F) -> None: ...
def affine_backward(dout: _F, x: _F, w: _F, dx: _F | None, dw: _F, db: _F | None) -> None: ...
def relu_forward(z: _F, out: _F) -> None: ...
def relu_backward(dout: _F, z: _F, out: _F) -> None: ...
def sigmoid_forward(z: _F, out: _F) -> None: ...
def sigmoid_backward(dout: _F, a: _F, out: _F) -> None: ...
def softmax_forward(scores: _F, out: _F) -> None: ...
def softmax_backward(dprobs: _F, probs: _F, out: _F) -> None: ...
def cross_entropy_forward(probs: _F, y: _I) -> float: ...
def softmax_cross_entropy(scores: _F, y: _I, probs: _F) -> float: ...
def softmax_cross_entropy_backward(probs: _F, y: _I, out: _F) -> None: ...
def correct_count(scores: _F, y: _I) -> int: ...
def sgd_update(param: _F, grad: _F, velocity: _F | None, lr: float, reg: float, momentum: float) -> None: ...
def train_epoch(
    x: _F,
    y: _I,
    order: _I,
    weights: Sequence[_F],
    biases: Sequence[_F | None],
    activations: Sequence[str],
    weight_velocities: Sequence[_F | None],
    bias_velocities: Sequence[_F | None],
    batch_size: int,
    lr: float,
    reg: float,
    momentum: float,
    sparse_indptr: _I | None,
    sparse_indices: npt.NDArray[np.int32] | None,
    sparse_values: _F | None,
    sparse_column_nnz: _I | None,
) -> tuple[float, int, int]: ...
def evaluate(
    x: _F,
    y: _I,
    weights: Sequence[_F],
    biases: Sequence[_F | None],
    activations: Sequence[str],
    batch_size: int,
    sparse_indptr: _I | None,
    sparse_indices: npt.NDArray[np.int32] | None,
    sparse_values: _F | None,
    sparse_column_nnz: _I | None,
) -> tuple[float, int, int]: ...
def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def build_info() -> dict[str, str | list[str]]:
    """compiler, compile_flags, isa_level, isa_features (see fastmlp.build)."""
