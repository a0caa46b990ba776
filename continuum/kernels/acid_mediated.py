"""Pointwise kernels of the Gatenby-Gawlinski acid-mediated invasion model."""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH

# params = (delta_1, rho_2, Delta_2, delta_3); fields 0 = normal, 1 = tumor, 2 = acid.


@njit(cache=True, fastmath=FASTMATH, inline="always")
def acid_mediated_point(u, maps, i0, i1, k, f, scalars, params, t):
    """Logistic growth, acid killing of normal cells, acid production and washout."""
    # Branch-free: Numba's IR checks object to branches in functions inlined at IR level.
    normal, tumor, acid = u[0, i0, i1, k], u[1, i0, i1, k], u[2, i0, i1, k]
    normal_rate = normal * (1.0 - normal) - params[0] * acid * normal
    tumor_rate = params[1] * tumor * (1.0 - tumor)
    acid_rate = params[3] * (tumor - acid)
    return (f == 0) * normal_rate + (f == 1) * tumor_rate + (f == 2) * acid_rate
