"""Reductions over the grid with a fixed summation order."""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH


@njit(cache=True, fastmath=FASTMATH)
def integrate_fields(u, mask, cell_volume, out):
    """``out[f] = cell_volume * sum(u[f] * mask)`` for every field of ``u (n_fields, n0, n1, n2)``.

    Each row is summed, then the row sums are added in row order (a fixed order, as the
    parallel loops use). One thread: this runs once per frame, and a parallel loop costs
    a second more of compilation than it saves. ``mask`` is empty for no mask.
    """
    n_fields, n0, n1, n2 = u.shape
    out[:] = 0.0
    has_mask = mask.size > 0
    for i0 in range(n0):
        for i1 in range(n1):
            for f in range(n_fields):
                total = 0.0
                if has_mask:
                    for k in range(n2):
                        total += u[f, i0, i1, k] * mask[i0, i1, k]
                else:
                    for k in range(n2):
                        total += u[f, i0, i1, k]
                out[f] += total
    for f in range(n_fields):
        out[f] *= cell_volume
