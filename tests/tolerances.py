"""The one table of tolerances for comparing a backend with the NumPy reference.

Backends may sum in a different order (BLAS blocking, fused loops), so results differ by
rounding: a few units in the last place per accumulated term. The GEMMs sum up to 784 products,
hence the looser float32 bound.
"""

from __future__ import annotations

import numpy as np

TOLERANCES = {
    np.dtype(np.float32): {"rtol": 2e-4, "atol": 2e-6},
    np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-13},
}


def assert_close(actual, expected, dtype=None, scale: float = 1.0):
    """Assert ``actual`` matches ``expected`` within the tolerance of its dtype.

    ``scale`` widens the absolute tolerance for results whose magnitude is large (a GEMM output
    is a sum of D terms); callers pass the typical magnitude, never a fudge factor.
    """
    dtype = np.dtype(dtype if dtype is not None else np.asarray(expected).dtype)
    tol = TOLERANCES[dtype]
    np.testing.assert_allclose(actual, expected, rtol=tol["rtol"], atol=tol["atol"] * scale)


# Runs compared with committed run JSONs (docs/reproduction/runs) made by another build or on a CPU
# with other vector features: -march=native compiles other vector code there, so sums round
# differently in the last bits and the difference grows a little over the epochs. Measured between
# this AVX-512 build and the committed AVX2 one (SoftmaxRegression, float32, 10 epochs): losses
# differ by at most 5e-9 relative, accuracies not at all. The bounds leave room for a few rows near
# the decision boundary changing their prediction (1e-3 is 12 of the 12,000 validation rows).
COMMITTED_RUN_TOLERANCES = {"loss_rtol": 1e-5, "accuracy_atol": 1e-3}
