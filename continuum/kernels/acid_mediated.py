"""Pointwise kernels of the Gatenby-Gawlinski acid-mediated invasion model."""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.registry import parameter_index

P = parameter_index(("delta_1", "rho_2", "Delta_2", "delta_3"))
NORMAL, TUMOR, ACID = range(3)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def acid_mediated_point(u, maps, i0, i1, k, f, scalars, params, t):
    """Logistic growth, acid killing of normal cells, acid production and washout."""
    # Branch-free: Numba's IR checks object to branches in functions inlined at IR level.
    normal, tumor, acid = u[NORMAL, i0, i1, k], u[TUMOR, i0, i1, k], u[ACID, i0, i1, k]
    normal_rate = normal * (1.0 - normal) - params[P.delta_1] * acid * normal
    tumor_rate = params[P.rho_2] * tumor * (1.0 - tumor)
    acid_rate = params[P.delta_3] * (tumor - acid)
    return (f == NORMAL) * normal_rate + (f == TUMOR) * tumor_rate + (f == ACID) * acid_rate
