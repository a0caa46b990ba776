"""Readable NumPy reference operators, used by tests to check the compiled kernels."""

from __future__ import annotations

import numpy as np

from continuum.boundary import DIRICHLET, PERIODIC


def laplacian(u, grid, kind, value):
    """Cell-centred 5/7-point Laplacian of ``u`` with the kernels' boundary rules.

    ``kind``/``value`` are one field's ``(3, 2)`` boundary arrays (padded axis order).
    """
    out = np.zeros_like(u)
    offset = 3 - grid.ndim
    for a in range(grid.ndim):
        h2 = grid.spacing[a] ** 2
        k_lo, k_hi = kind[offset + a]
        v_lo, v_hi = value[offset + a]
        if k_lo == PERIODIC:
            lo = np.roll(u, 1, axis=a)
            hi = np.roll(u, -1, axis=a)
        else:
            first = np.take(u, [0], axis=a)
            last = np.take(u, [-1], axis=a)
            ghost_lo = 2 * v_lo - first if k_lo == DIRICHLET else first
            ghost_hi = 2 * v_hi - last if k_hi == DIRICHLET else last
            lo = np.concatenate([ghost_lo, np.delete(u, -1, axis=a)], axis=a)
            hi = np.concatenate([np.delete(u, 0, axis=a), ghost_hi], axis=a)
        out += (lo - 2 * u + hi) / h2
    return out
