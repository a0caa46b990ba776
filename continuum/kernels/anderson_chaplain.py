"""Pointwise kernels of the Anderson-Chaplain tumour-invasion model (nondimensional)."""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.registry import parameter_index

P = parameter_index(("d_n", "gamma", "eta", "d_m", "alpha", "beta"))
N, MATRIX, ENZYME = range(3)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def anderson_chaplain_point(u, maps, i0, i1, k, f, scalars, params, t):
    """Matrix degradation ``-eta m f`` and enzyme production/decay ``alpha n - beta m``."""
    # Branch-free: Numba's IR checks object to branches in functions inlined at IR level.
    n, matrix, enzyme = u[N, i0, i1, k], u[MATRIX, i0, i1, k], u[ENZYME, i0, i1, k]
    degradation = -params[P.eta] * enzyme * matrix
    production = params[P.alpha] * n - params[P.beta] * enzyme
    return (f == MATRIX) * degradation + (f == ENZYME) * production
