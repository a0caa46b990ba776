"""Pointwise kernels of the Anderson-Chaplain tumour-invasion model (nondimensional)."""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH

# params = (d_n, gamma, eta, d_m, alpha, beta); fields 0 = n, 1 = f, 2 = m.


@njit(cache=True, fastmath=FASTMATH, inline="always")
def anderson_chaplain_point(u, maps, i0, i1, k, f, scalars, params, t):
    """Matrix degradation ``-eta m f`` and enzyme production/decay ``alpha n - beta m``."""
    # Branch-free: Numba's IR checks object to branches in functions inlined at IR level.
    n, matrix, enzyme = u[0, i0, i1, k], u[1, i0, i1, k], u[2, i0, i1, k]
    degradation = -params[2] * enzyme * matrix
    production = params[4] * n - params[5] * enzyme
    return (f == 1) * degradation + (f == 2) * production
