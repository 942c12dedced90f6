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
def tanh_forward(z: _F, out: _F) -> None: ...
def tanh_backward(dout: _F, a: _F, out: _F) -> None: ...
def softmax_forward(scores: _F, out: _F) -> None: ...
def softmax_backward(dprobs: _F, probs: _F, out: _F) -> None: ...
def cross_entropy_forward(probs: _F, y: _I) -> float: ...
def softmax_cross_entropy(scores: _F, y: _I, probs: _F) -> float: ...
def softmax_cross_entropy_backward(probs: _F, y: _I, out: _F) -> None: ...
def correct_count(scores: _F, y: _I) -> int: ...
def sgd_update(param: _F, grad: _F, velocity: _F | None, lr: float, reg: float, momentum: float) -> None: ...
def nesterov_update(param: _F, grad: _F, velocity: _F, lr: float, reg: float, momentum: float) -> None: ...
def adam_update(
    param: _F,
    grad: _F,
    m: _F,
    v: _F,
    step_size: float,
    reg: float,
    beta1: float,
    beta2: float,
    epsilon: float,
) -> None: ...
def output_loss(
    loss: int, scores: _F, labels: _I | None, values: _F | None, weights: _F | None, out: _F
) -> float: ...
def loss_gradient(
    out: _F, labels: _I | None, values: _F | None, weights: _F | None, dscores: _F, norm: float
) -> None: ...

class NativeModel:
    """backends._epoch.NativeModel's arrays: per layer weights (fan_in, fan_out), bias (fan_out,) or
    None, a backends.tables.ACTIVATIONS code, the step's buffers or None (updated in place); the
    loss row's code and the update count (1,) int64 or None."""

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

def count_nonzeros(x: _F, indptr: _I, column_nnz: _I) -> None: ...
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
