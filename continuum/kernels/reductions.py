"""Parallel reductions over the grid with a fixed summation order."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from continuum.kernels.flags import FASTMATH


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def integrate_fields(u, mask, cell_volume, out):
    """``out[f] = cell_volume * sum(u[f] * mask)`` for every field of ``u (n_fields, n0, n1, n2)``.

    Rows are summed in parallel into a per-row array and then added in row order, so the
    result does not depend on the number of threads. ``mask`` is empty for no mask.
    """
    n_fields, n0, n1, n2 = u.shape
    rows = np.zeros((n0 * n1, n_fields))
    has_mask = mask.size > 0
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for f in range(n_fields):
            total = 0.0
            if has_mask:
                for k in range(n2):
                    total += u[f, i0, i1, k] * mask[i0, i1, k]
            else:
                for k in range(n2):
                    total += u[f, i0, i1, k]
            rows[r, f] = total
    for f in range(n_fields):
        total = 0.0
        for r in range(n0 * n1):
            total += rows[r, f]
        out[f] = total * cell_volume
