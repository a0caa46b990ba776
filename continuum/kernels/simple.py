"""Pointwise kernels of the verification models: heat, Fisher-KPP and pure taxis."""

from __future__ import annotations

from numba import njit

from continuum.kernels import registry
from continuum.kernels.flags import FASTMATH


@njit(cache=True, fastmath=FASTMATH)
def no_reaction_row(u, maps, i0, i1, scalars, params, t, rate, exports):
    """No pointwise terms."""


@njit(cache=True, fastmath=FASTMATH)
def no_scalar_rate(scalars, exports, params, t, dscalars):
    """No scalar compartments."""


@njit(cache=True, fastmath=FASTMATH)
def logistic_row(u, maps, i0, i1, scalars, params, t, rate, exports):
    """Logistic growth ``rho * u * (1 - u)`` of field 0; ``params = (D, rho)``."""
    rho = params[1]
    row = u[0, i0, i1]
    out = rate[0]
    for k in range(row.shape[0]):
        out[k] += rho * row[k] * (1.0 - row[k])


registry.register("heat", no_reaction_row, no_scalar_rate)
registry.register("fisher_kpp", logistic_row, no_scalar_rate)
registry.register("taxis", no_reaction_row, no_scalar_rate)
