# Stub for the compiled module fastmlp._cpp (cpp/bindings.cpp). Every function exists for float32 and
# float64 arrays; arrays must be C-contiguous and of the exact dtype (no conversion), labels int64.
# Private: use fastmlp.backends.cpp_backend, which validates arguments and allocates outputs.
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from fastmlp.backends.interface import RawCalls

_F = npt.NDArray[np.floating]
_I = npt.NDArray[np.int64]

openmp: bool
isa: str  # "native", "generic", "x86-64-v2", "x86-64-v3" or "x86-64-v4" (fastmlp._isa)
arch_flags: str

def cpu_supports(level: str) -> bool: ...
def cpu_has_bf16() -> bool: ...
def gemm_bf16(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...

# The kernels: their signatures are fastmlp.backends.interface.RawCalls's, declared once there.
_kernels: RawCalls
affine_forward = _kernels.affine_forward
affine_backward = _kernels.affine_backward
relu_forward = _kernels.relu_forward
relu_backward = _kernels.relu_backward
sigmoid_forward = _kernels.sigmoid_forward
sigmoid_backward = _kernels.sigmoid_backward
tanh_forward = _kernels.tanh_forward
tanh_backward = _kernels.tanh_backward
softmax_forward = _kernels.softmax_forward
softmax_backward = _kernels.softmax_backward
cross_entropy_forward = _kernels.cross_entropy_forward
softmax_cross_entropy = _kernels.softmax_cross_entropy
softmax_cross_entropy_backward = _kernels.softmax_cross_entropy_backward
correct_count = _kernels.correct_count
sgd_update = _kernels.sgd_update
nesterov_update = _kernels.nesterov_update
adam_update = _kernels.adam_update
output_loss = _kernels.output_loss
loss_gradient = _kernels.loss_gradient

class NativeModel:
    """backends._epoch.NativeModel's arrays: per layer weights (fan_in, fan_out), bias (fan_out,) or
    None, a backends.tables.ACTIVATIONS code, the step's buffers or None (updated in place); the
    loss row's code and the update count (1,) int64 or None; bf16: the dense GEMMs with bfloat16
    inputs (cpu_has_bf16() only)."""

    def __init__(
        self,
        weights: Sequence[_F],
        biases: Sequence[_F | None],
        activations: Sequence[int],
        weight_velocities: Sequence[_F | None],
        bias_velocities: Sequence[_F | None],
        weight_seconds: Sequence[_F | None],
        bias_seconds: Sequence[_F | None],
        loss: int,
        steps: _I | None,
        bf16: bool = False,
    ) -> None: ...

class StepSettings:
    """One training step's settings (fastmlp.optim: SGDSettings, AdamSettings)."""

    # Read-only, as the binding (def_readonly): a step's settings are fixed once made.
    @property
    def rule(self) -> int: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def reg(self) -> float: ...
    @property
    def momentum(self) -> float: ...
    @property
    def beta1(self) -> float: ...
    @property
    def beta2(self) -> float: ...
    @property
    def epsilon(self) -> float: ...
    @property
    def reg_per_batch(self) -> bool: ...
    def __init__(
        self,
        rule: int,
        learning_rate: float,
        reg: float,
        momentum: float,
        beta1: float,
        beta2: float,
        epsilon: float,
        reg_per_batch: bool,
    ) -> None: ...

class SparseRows:
    """backends._sparse.SparseRows: indptr (N + 1,), indices (nnz,), values (nnz,) or None (read x),
    column_nnz (D,)."""

    def __init__(
        self, indptr: _I, indices: npt.NDArray[np.uint16], values: _F | None, column_nnz: _I
    ) -> None: ...

activation_codes: dict[str, int]  # cpp/activations.hpp's rows: name -> code (backends.tables)
loss_codes: dict[str, int]  # cpp/losses.hpp's rows (backends.tables.LOSSES)
rule_codes: dict[str, int]  # cpp/epoch.hpp's step rules (backends.tables.OPTIMIZERS)

def count_nonzeros(x: _F, indptr: _I, column_nnz: _I) -> bool: ...
def count_columns(indices: npt.NDArray[np.uint16], column_nnz: _I) -> None: ...
def compress_rows(x: _F, indptr: _I, indices: npt.NDArray[np.uint16], values: _F | None) -> None: ...
def train_epoch(
    x: _F,
    labels: _I | None,
    values: _F | None,
    sample_weight: _F | None,
    order: _I,
    net: NativeModel,
    step: StepSettings,
    batch_size: int,
    sparse: SparseRows | None,
    threads: int,
) -> tuple[float, int, int, float]: ...
def evaluate(
    x: _F,
    labels: _I | None,
    values: _F | None,
    sample_weight: _F | None,
    net: NativeModel,
    batch_size: int,
    sparse: SparseRows | None,
    threads: int,
) -> tuple[float, int, int, float]: ...
def set_num_threads(n: int) -> None: ...  # Eigen's pool for a single kernel (cpp_backend: 1)
def get_num_threads() -> int: ...
def set_team_policy(policy: str) -> None: ...
def build_info() -> dict[str, str | list[str]]:
    """compiler, compile_flags, isa_level, isa_features (see fastmlp.build)."""
