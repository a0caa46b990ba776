"""Scalar kernels of the lumped primary tumour: growth laws, shedding, circulating cells."""

from __future__ import annotations

import math

from numba import njit

from continuum.kernels.circulation import (
    BORN,
    DIED,
    N_CIRCULATION,
    REMOVED,
    CirculationRates,
    TumourFluxes,
    circulation_rates,
)
from continuum.kernels.flags import FASTMATH
from continuum.kernels.registry import parameter_index

EXPONENTIAL, LOGISTIC, GOMPERTZ, BERTALANFFY, POWER, EXPONENTIAL_LINEAR, HAHNFELDT = range(7)

# The parameter table of LumpedPrimary, then the therapy rates [1/day] a treatment
# schedule sets: on the tumour's cells, on circulating cells.
P = parameter_index(
    (
        *("law", "a", "K", "gamma", "b", "a1", "mu", "alpha", "lymph_fraction"),
        *("k_clear", "k_ext", "k_LN", "k_LB", "first_pass", "shedding_loss"),
        *("therapy_cells", "therapy_circulating"),
    )
)
THERAPY_CELLS, THERAPY_CIRCULATING = P.therapy_cells, P.therapy_circulating
# scalars = (tumor_cells, then the circulation block: blood_ctc, lymph_ctc, born, died,
#            cleared, extravasated, node_arrested, first_pass, removed)


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


@njit(cache=True, fastmath=FASTMATH, inline="always")
def shedding_rates(p, mu, alpha, lymph_fraction):
    """Shedding ``J = mu P^alpha`` [cells/day] of a tumour of ``P`` cells (0 for ``P <= 0``;
    ``mu`` [cells^(1-alpha)/day]), and its split ``(J, into blood, into lymph)``, a
    fraction ``lymph_fraction`` into lymph."""
    total = mu * p**alpha if p > 0.0 else 0.0
    to_lymph = lymph_fraction * total
    return total, total - to_lymph, to_lymph


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _tumour_rates(scalars, params):
    """``(dP/dt, births, deaths, killed by therapy, shed into blood, shed into lymph)``
    [cells/day]."""
    p = scalars[0]
    growth = growth_rate(
        int(params[P.law]), p, params[P.a], params[P.K], params[P.gamma], params[P.b], params[P.a1]
    )
    shed, to_blood, to_lymph = shedding_rates(
        p, params[P.mu], params[P.alpha], params[P.lymph_fraction]
    )
    kept = (1.0 - params[P.shedding_loss]) * shed
    treated = params[P.therapy_cells] * p
    return (
        growth - shed + kept - treated,
        max(growth, 0.0) + kept,
        max(-growth, 0.0),
        treated,
        to_blood,
        to_lymph,
    )


@njit(cache=True, fastmath=FASTMATH)
def lumped_scalar_rate(scalars, exports, params, t, dscalars):
    """dP/dt = g(P) - l J - r P, shedding J = mu P^alpha split into lymph
    (``lymph_fraction``) and blood, ``r`` the therapy rate on the tumour's cells (its kills
    booked in ``removed``); the circulation block of ``continuum.kernels.circulation``
    for the rest.

    ``l`` = ``shedding_loss`` is the fraction of shed cells the tumour loses (1: they leave
    it; 0: emission does not deplete it, as in Iwata et al. 2000, the cells shed counting
    as born). ``born`` integrates the positive part of ``g(P)`` plus ``(1 - l) J`` and
    ``died`` the negative part of ``g``, so that ``P + B + L + cleared + extravasated +
    node_arrested + first_pass + died + removed - born`` stays constant.
    """
    rate, births, deaths, treated, to_blood, to_lymph = _tumour_rates(scalars, params)
    dscalars[0] = rate
    tumour = TumourFluxes(to_blood, to_lymph, births, deaths, treated)
    rates = CirculationRates(
        params[P.k_clear],
        params[P.k_ext],
        params[P.k_LN],
        params[P.k_LB],
        params[P.first_pass],
        params[P.therapy_circulating],
    )
    circulation_rates(scalars, 1, tumour, rates, dscalars)


@njit(cache=True, fastmath=FASTMATH)
def lumped_shedding_rate(scalars, exports, params, t, dscalars):
    """The tumour of :func:`lumped_scalar_rate` alone: its circulation block stays still
    (a cascade advances it exactly, see ``continuum.solvers.circulation``) and the cells
    shed into blood and lymph accumulate in the two scalars after the block."""
    rate, births, deaths, treated, to_blood, to_lymph = _tumour_rates(scalars, params)
    for i in range(scalars.shape[0]):
        dscalars[i] = 0.0
    dscalars[0] = rate
    dscalars[1 + BORN] = births
    dscalars[1 + DIED] = deaths
    dscalars[1 + REMOVED] = treated
    dscalars[1 + N_CIRCULATION] = to_blood
    dscalars[2 + N_CIRCULATION] = to_lymph
