"""The engine's concepts, one table each: a new activation is one row here plus its kernel pair in
every backend (numpy_backend, numba_backend._kernel_loops, cpp/kernels.cpp).

scikit-learn's ``neural_network._base.ACTIVATIONS`` / ``DERIVATIVES`` are the model: every row names
its forward and the derivative written in terms of what the backward needs (``z`` for relu, the
forward output ``a`` for sigmoid), and the model looks its rows up once. The integer ``code`` is
what compiled code sees (the Numba epoch takes it as a constant, the C++ epoch indexes its own
table ``cpp/activations.hpp`` with it; a test holds the two equal through ``_cpp.activation_codes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import FastmlpTypeError, FastmlpValueError


@dataclass(frozen=True)
class _Row:
    """What every row has: its canonical ``name`` and ``code`` (compiled code's number); its
    backward kernel is ``<name>_backward``."""

    name: str
    code: int

    @property
    def backward_kernel(self) -> str:
        return self.name + "_backward"  # takes the upstream gradient back through the row


@dataclass(frozen=True)
class ActivationRow(_Row):
    """One activation: ``name`` (canonical), ``code`` (compiled code's number), ``backward_reads``
    (what its backward kernel takes besides dout: ``"z"`` the input, ``"a"`` the output; None for
    identity, which has no kernels), ``aliases`` (other accepted names), ``formula`` (forward and
    derivative in one line)."""

    backward_reads: Literal["z", "a"] | None
    formula: str
    aliases: tuple[str, ...] = ()

    @property
    def has_kernels(self) -> bool:
        return self.backward_reads is not None

    @property
    def forward_kernel(self) -> str:
        return f"{self.name}_forward"


ACTIVATIONS: dict[str, ActivationRow] = {
    row.name: row
    for row in (
        ActivationRow("identity", 0, None, "a = z; dz = dout", aliases=("none",)),
        ActivationRow("relu", 1, "z", "a = max(z, 0); dz = dout * (z > 0)"),
        ActivationRow("sigmoid", 2, "a", "a = 1 / (1 + exp(-z)); dz = dout * a * (1 - a)", ("logistic",)),
        ActivationRow("tanh", 3, "a", "a = tanh(z); dz = dout * (1 - a^2)"),
    )
}
_BY_NAME = {alias: row for row in ACTIVATIONS.values() for alias in (row.name, *row.aliases)}
HIDDEN_ACTIVATIONS = tuple(_BY_NAME)  # every accepted name (a config's Model.activation)


def activation(name: str | ActivationRow | None, argument: str = "activation") -> ActivationRow:
    """The row called ``name`` (an alias too; None is identity)."""
    if isinstance(name, ActivationRow):
        return name
    if name is None:
        return ACTIVATIONS["identity"]
    if not isinstance(name, str):
        raise FastmlpTypeError(f"{argument} must be an activation name (str), got {type(name).__name__}")
    if name not in _BY_NAME:
        raise FastmlpValueError(f"{argument} must be one of {', '.join(_BY_NAME)}, got {name!r}")
    return _BY_NAME[name]


def activation_kernels() -> tuple[str, ...]:
    """The kernels the activation rows need from every backend: ``<name>_forward``, ``<name>_backward``."""
    return tuple(
        kernel
        for row in ACTIVATIONS.values()
        if row.has_kernels
        for kernel in (row.forward_kernel, row.backward_kernel)
    )


@dataclass(frozen=True)
class LossRow(_Row):
    """One output layer and its loss: ``output`` (the activation applied to the last layer's
    scores), ``targets`` (``"labels"`` (N,) int64 in [0, K), ``"indicator"`` (N, K) of 0 and 1,
    ``"values"`` (N, K) real), ``formula`` (the row loss; every row's gradient w.r.t. the scores is
    ``(output - target) * w / norm``, the canonical link), ``aliases``: scikit-learn's names,
    ``nonnegative_targets``: the loss is defined for targets >= 0 only (its kernels and the native
    epochs reject a negative one)."""

    output: str
    targets: Literal["labels", "indicator", "values"]
    formula: str
    aliases: tuple[str, ...] = ()
    nonnegative_targets: bool = False

    @property
    def forward_kernel(self) -> str:
        return self.name  # the loss and its outputs: softmax_cross_entropy(scores, y) etc.

    @property
    def nonnegative_for(self) -> str | None:
        """What ``_validate.target_values`` takes: this row's name where a negative target is an
        error (``nonnegative_targets``), else None."""
        return self.name if self.nonnegative_targets else None


LOSSES: dict[str, LossRow] = {
    row.name: row
    for row in (
        LossRow(
            "softmax_cross_entropy", 0, "softmax", "labels",
            "loss_n = logsumexp(s_n) - s_n,y_n", ("log_loss",),
        ),
        LossRow(
            "binary_cross_entropy", 1, "logistic", "indicator",
            "loss_n = -sum_k y log p + (1 - y) log(1 - p), p = sigmoid(s) clipped to [eps, 1 - eps]",
            ("binary_log_loss",),
        ),
        LossRow(
            "squared_error", 2, "identity", "values",
            "loss_n = 0.5 mean_k (s_nk - y_nk)^2 (gradient s - y, scikit-learn's convention)",
        ),
        LossRow(
            "poisson_deviance", 3, "exp", "values",
            "loss_n = sum_k xlogy(y, y / p) - y + p, p = exp(s) unclipped (half the Poisson deviance)",
            ("poisson",), nonnegative_targets=True,
        ),
    )
}  # fmt: skip
_LOSS_BY_NAME = {alias: row for row in LOSSES.values() for alias in (row.name, *row.aliases)}


def loss(name: str | LossRow, argument: str = "loss") -> LossRow:
    """The loss row called ``name`` (or one of its aliases)."""
    if isinstance(name, LossRow):
        return name
    if not isinstance(name, str):
        raise FastmlpTypeError(f"{argument} must be a loss name (str), got {type(name).__name__}")
    if name not in _LOSS_BY_NAME:
        raise FastmlpValueError(f"{argument} must be one of {', '.join(_LOSS_BY_NAME)}, got {name!r}")
    return _LOSS_BY_NAME[name]


@dataclass(frozen=True)
class OptimizerRow:
    """One step rule: ``code`` (compiled code's number), ``kernel`` (its update kernel in every
    backend), ``buffers`` (the state it keeps per parameter), ``formula``."""

    name: str
    code: int
    kernel: str
    buffers: tuple[str, ...]
    formula: str


OPTIMIZERS: dict[str, OptimizerRow] = {
    row.name: row
    for row in (
        OptimizerRow(
            "sgd", 0, "sgd_update", ("velocity",),
            "g = grad + reg p; p -= lr g, or v = momentum v - lr g; p += v",
        ),
        OptimizerRow(
            "nesterov", 1, "nesterov_update", ("velocity",),
            "g = grad + reg p; v = momentum v - lr g; p += momentum v - lr g",
        ),
        OptimizerRow(
            "adam", 2, "adam_update", ("m", "v"),
            "g = grad + reg p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; "
            "p -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)",
        ),
    )
}  # fmt: skip
