"""Pointwise kernels of the verification models: heat, Fisher-KPP and pure taxis."""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.registry import parameter_index

FISHER = parameter_index(("diffusivity", "growth_rate"))


@njit(cache=True, fastmath=FASTMATH)
def no_reaction_row(u, maps, i0, i1, scalars, params, t, rate, exports):
    """No pointwise terms."""


@njit(cache=True, fastmath=FASTMATH)
def no_scalar_rate(scalars, exports, params, t, dscalars):
    """No scalar compartments."""


@njit(cache=True, fastmath=FASTMATH, inline="always")
def no_reaction_point(u, maps, i0, i1, k, f, scalars, params, t):
    """No pointwise terms."""
    return 0.0


@njit(cache=True, fastmath=FASTMATH, inline="always")
def logistic_point(u, maps, i0, i1, k, f, scalars, params, t):
    """Logistic growth ``rho * u * (1 - u)`` of field 0 (``rho`` = ``growth_rate``)."""
    x = u[0, i0, i1, k]
    return params[FISHER.growth_rate] * x * (1.0 - x)
