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
# differently in the last bits and the difference grows over the epochs. Measured between an
# AVX-512 (x86-64-v4) build and an AVX2 (x86-64-v3) one, float32, all 55 runs of the reproduction:
# losses differ by at most 5e-9 relative in the 10-epoch SoftmaxRegression run the test retrains,
# 5e-7 in the 10-epoch TwoLayerNet runs and 2.4e-6 in the 50-epoch momentum run; accuracies by
# one row at most (2.1e-5), the best epochs' accuracies not at all. The bounds leave room for a
# few rows near the decision boundary changing their prediction (1e-3 is 12 of 12,000 rows).
COMMITTED_RUN_TOLERANCES = {"loss_rtol": 1e-5, "accuracy_atol": 1e-3}
