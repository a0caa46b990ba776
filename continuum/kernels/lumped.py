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
from continuum.units import CELLS_PER_MM3

EXPONENTIAL, LOGISTIC, GOMPERTZ, BERTALANFFY, POWER, EXPONENTIAL_LINEAR, HAHNFELDT = range(7)

# The parameter table of LumpedPrimary, then the therapy rates [1/day] a treatment
# schedule sets: on the tumour's cells, on circulating cells, and the anti-angiogenic
# rate on the vascular capacity (Hahnfeldt's ``e g(t)``; no schedule sets it yet).
P = parameter_index(
    (
        *("law", "a", "K", "gamma", "b", "a1", "mu", "alpha", "lymph_fraction"),
        *("k_clear", "k_ext", "k_LN", "k_LB", "k_nk", "first_pass", "shedding_loss"),
        *("stimulation", "inhibition"),
        *("therapy_cells", "therapy_circulating", "therapy_vascular"),
    )
)
THERAPY_CELLS, THERAPY_CIRCULATING = P.therapy_cells, P.therapy_circulating
THERAPY_VASCULAR = P.therapy_vascular
# scalars = (tumor_cells, then the circulation block: blood_ctc, lymph_ctc, born, died,
#            cleared, extravasated, node_arrested, first_pass, removed, killed_immune;
#            LumpedShedding's shed_blood, shed_lymph; last the vascular_capacity)
VASCULAR = 1 + N_CIRCULATION
VASCULAR_SHEDDING = 3 + N_CIRCULATION


@njit(cache=True, fastmath=FASTMATH)
def growth_rate(law, p, a, capacity, gamma, b, a1):
    """Net growth dP/dt [cells/day] of a tumour of ``p`` cells under one of the laws
    (``capacity`` [cells]: the carrying capacity; for Hahnfeldt's law, the current vascular
    capacity ``Kv``, in whose Gompertz form ``a p ln(Kv/p)`` the tumour grows)."""
    if p <= 0.0:
        return 0.0
    if law == EXPONENTIAL:
        return a * p
    if law == LOGISTIC:
        return a * p * (1.0 - p / capacity)
    if law == GOMPERTZ or law == HAHNFELDT:
        return a * p * math.log(capacity / p)
    if law == BERTALANFFY:
        return a * p**gamma - b * p
    if law == POWER:
        return a * p**gamma
    return min(a * p, a1)  # exponential-linear (Benzekry et al. 2014)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def vascular_rate(p, capacity, stimulation, inhibition, therapy):
    """dKv/dt [cells/day] of the vascular capacity ``Kv`` = ``capacity`` [cells] of a
    tumour of ``p`` cells (Hahnfeldt et al., Cancer Res 1999;59:4770, in cells):

    .. math:: dK_v/dt = b P - d K_v (P/c)^{2/3} - e K_v

    ``b`` = ``stimulation`` [1/day], ``d`` = ``inhibition`` [1/(day mm^2)] acting through
    the tumour's volume ``P/c`` [mm^3] (``c`` = ``CELLS_PER_MM3``), ``e`` = ``therapy``
    the anti-angiogenic rate [1/day]."""
    size = max(p, 0.0)
    volume = size / CELLS_PER_MM3
    return stimulation * size - (inhibition * volume ** (2.0 / 3.0) + therapy) * capacity


@njit(cache=True, fastmath=FASTMATH, inline="always")
def shedding_rates(p, mu, alpha, lymph_fraction):
    """Shedding ``J = mu P^alpha`` [cells/day] of a tumour of ``P`` cells (0 for ``P <= 0``;
    ``mu`` [cells^(1-alpha)/day]), and its split ``(J, into blood, into lymph)``, a
    fraction ``lymph_fraction`` into lymph."""
    total = mu * p**alpha if p > 0.0 else 0.0
    to_lymph = lymph_fraction * total
    return total, total - to_lymph, to_lymph


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _tumour_rates(scalars, params, vascular):
    """``(dP/dt, births, deaths, killed by therapy, shed into blood, shed into lymph,
    dKv/dt)`` [cells/day]; ``scalars[vascular]`` is the vascular capacity ``Kv``, which
    moves under Hahnfeldt's law only (the others read the fixed ``K``)."""
    p = scalars[0]
    law = int(params[P.law])
    capacity = params[P.K]
    d_capacity = 0.0
    if law == HAHNFELDT:
        capacity = scalars[vascular]
        d_capacity = vascular_rate(
            p, capacity, params[P.stimulation], params[P.inhibition], params[P.therapy_vascular]
        )
    growth = growth_rate(law, p, params[P.a], capacity, params[P.gamma], params[P.b], params[P.a1])
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
        d_capacity,
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
    ``died`` the negative part of ``g``, so that ``P + B + L + cleared + killed_immune +
    extravasated + node_arrested + first_pass + died + removed - born`` stays constant.

    The last scalar, the vascular capacity ``Kv`` [cells], follows :func:`vascular_rate`
    under Hahnfeldt's law (``g = a P ln(Kv/P)``) and stays still under the others.
    """
    rate, births, deaths, treated, to_blood, to_lymph, d_capacity = _tumour_rates(
        scalars, params, VASCULAR
    )
    dscalars[0] = rate
    dscalars[VASCULAR] = d_capacity
    tumour = TumourFluxes(to_blood, to_lymph, births, deaths, treated)
    rates = CirculationRates(
        params[P.k_clear],
        params[P.k_ext],
        params[P.k_LN],
        params[P.k_LB],
        params[P.first_pass],
        params[P.therapy_circulating],
        params[P.k_nk],
    )
    circulation_rates(scalars, 1, tumour, rates, dscalars)


@njit(cache=True, fastmath=FASTMATH)
def lumped_shedding_rate(scalars, exports, params, t, dscalars):
    """The tumour of :func:`lumped_scalar_rate` alone: its circulation block stays still
    (a cascade advances it exactly, see ``continuum.solvers.circulation``) and the cells
    shed into blood and lymph accumulate in the two scalars after the block, the vascular
    capacity after them."""
    rate, births, deaths, treated, to_blood, to_lymph, d_capacity = _tumour_rates(
        scalars, params, VASCULAR_SHEDDING
    )
    for i in range(scalars.shape[0]):
        dscalars[i] = 0.0
    dscalars[0] = rate
    dscalars[1 + BORN] = births
    dscalars[1 + DIED] = deaths
    dscalars[1 + REMOVED] = treated
    dscalars[1 + N_CIRCULATION] = to_blood
    dscalars[2 + N_CIRCULATION] = to_lymph
    dscalars[VASCULAR_SHEDDING] = d_capacity
