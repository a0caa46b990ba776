"""Scalar kernels of the lumped primary tumour: growth laws, shedding, circulating cells."""

from __future__ import annotations

import math

from numba import njit

from continuum.kernels import registry
from continuum.kernels.flags import FASTMATH
from continuum.kernels.simple import no_reaction_point, no_reaction_row

EXPONENTIAL, LOGISTIC, GOMPERTZ, BERTALANFFY, POWER, EXPONENTIAL_LINEAR = range(6)

# params = (law, a, K, gamma, b, a1, mu, alpha, k_clear)
# scalars = (tumor_cells, blood_ctc, born, shed, cleared)


@njit(cache=True, fastmath=FASTMATH)
def growth_rate(law, p, a, capacity, gamma, b, a1):
    """Net growth dP/dt [cells/day] of a tumour of ``p`` cells under one of the laws."""
    if p <= 0.0:
        return 0.0
    if law == EXPONENTIAL:
        return a * p
    if law == LOGISTIC:
        return a * p * (1.0 - p / capacity)
    if law == GOMPERTZ:
        return a * p * math.log(capacity / p)
    if law == BERTALANFFY:
        return a * p**gamma - b * p
    if law == POWER:
        return a * p**gamma
    return min(a * p, a1)  # exponential-linear (Benzekry et al. 2014)


@njit(cache=True, fastmath=FASTMATH)
def lumped_scalar_rate(scalars, exports, params, t, dscalars):
    """dP/dt = g(P) - J, J = mu P^alpha; dB/dt = J - k_clear B; cumulative born/shed/cleared.

    ``born`` integrates the net growth ``g(P)`` (negative when a tumour shrinks), so that
    ``P + B + shed_cleared - born`` stays equal to the initial ``P + B``.
    """
    p = scalars[0]
    blood = scalars[1]
    growth = growth_rate(int(params[0]), p, params[1], params[2], params[3], params[4], params[5])
    shedding = params[6] * p ** params[7] if p > 0.0 else 0.0
    cleared = params[8] * blood
    dscalars[0] = growth - shedding
    dscalars[1] = shedding - cleared
    dscalars[2] = growth
    dscalars[3] = shedding
    dscalars[4] = cleared


registry.register("lumped_primary", no_reaction_point, no_reaction_row, lumped_scalar_rate, False)
