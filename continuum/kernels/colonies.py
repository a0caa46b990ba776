"""Secondary sites: dormant seeds and the size-structured colony density (MODEL.md, Stage 3).

The colony density obeys

.. math::

    \\partial_t \\rho + \\partial_s (G(s) \\rho) = -c \\rho, \\qquad
    G(s_0) \\rho(s_0, t) = S(t) + \\int \\beta(s) \\rho(s, t)\\, ds,

solved along its characteristics. Every colony grows by the same autonomous law from one
cell, so a colony born at ``tau`` has size ``X(t - tau)`` with ``X`` the closed-form
solution of ``dX/da = G(X)``, ``X(0) = 1`` (:func:`log_size_at_age`). Colonies are kept in
cohorts by birth time: cohort ``i`` holds those born in ``[origin + i w, origin + (i+1) w)``
as a count and an effective birth time: the one whose characteristic passes through the
members' mean size when they join (the escalator-boxcar closure of de Roos, exact for
linear growth: the burden is kept as the cells are added). A cohort never exchanges
colonies with its neighbours, so nothing diffuses across sizes; sizes are exact on the
characteristics, and the resolution of the size distribution is the spread of birth
times in one cohort.

Per site the scalar block holds (offsets ``SITE_*``): cumulative ``arrived``, ``failed``
(cells lost in failed seeding), the ``dormant`` pool, cumulative ``woken``, ``dormant_died``,
``founded`` (colonies founded by seeds), ``emitted`` (colonies seeded by colonies),
``colony_born`` and ``colony_died`` (cells), the ``burden`` (cells in colonies), the
colony seeding ``emission`` rate [colonies/day], the number of ``colonies`` and the cells
a systemic therapy ``removed``, then ``n`` cohort counts and ``n`` cohort birth times.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.lumped import (
    BERTALANFFY,
    EXPONENTIAL,
    GOMPERTZ,
    LOGISTIC,
    POWER,
)

SITE_SCALARS = (
    "arrived",
    "failed",
    "dormant",
    "woken",
    "dormant_died",
    "founded",
    "emitted",
    "colony_born",
    "colony_died",
    "burden",
    "emission",
    "colonies",
    "removed",
)
(
    ARRIVED,
    FAILED,
    DORMANT,
    WOKEN,
    DORMANT_DIED,
    FOUNDED,
    EMITTED,
    COLONY_BORN,
    COLONY_DIED,
    BURDEN,
    EMISSION,
    COLONIES,
    REMOVED,
) = range(len(SITE_SCALARS))

# Columns of a site's parameter row.
SITE_PARAMETERS = (
    "law",
    "a",
    "K",
    "gamma",
    "b",
    "a1",
    "survival",
    "dormancy",
    "wake",
    "dormant_death",
    "clearance",
    "seeding_m",
    "seeding_alpha",
    "detection",
    "spatial",
    "therapy",
    "therapy_dormant",
)
(
    P_LAW,
    P_A,
    P_K,
    P_GAMMA,
    P_B,
    P_A1,
    P_SURVIVAL,
    P_DORMANCY,
    P_WAKE,
    P_DORMANT_DEATH,
    P_CLEARANCE,
    P_SEEDING_M,
    P_SEEDING_ALPHA,
    P_DETECTION,
    P_SPATIAL,
    P_THERAPY,
    P_THERAPY_DORMANT,
) = range(len(SITE_PARAMETERS))


@njit(cache=True, fastmath=FASTMATH)
def log_size_at_age(law, a, capacity, gamma, b, a1, age):
    """``ln X(age)``: the closed-form characteristic ``dX/da = G(X)`` from ``X(0) = 1`` cell.

    exponential ``X = e^{a t}``; logistic ``X = K / (1 + (K - 1) e^{-a t})``; Gompertz
    ``ln X = ln K (1 - e^{-a t})``; von Bertalanffy ``X^{1-g} = a/b + (1 - a/b)
    e^{-(1-g) b t}`` (power law: ``X^{1-g} = 1 + (1-g) a t``); exponential-linear: ``e^{a
    t}`` up to ``a1/a`` cells, then linear at ``a1`` cells/day.
    """
    if age <= 0.0:
        return 0.0
    if law == EXPONENTIAL:
        return a * age
    if law == LOGISTIC:
        return math.log(capacity) - math.log1p((capacity - 1.0) * math.exp(-a * age))
    if law == GOMPERTZ:
        return -math.log(capacity) * math.expm1(-a * age)
    if law == BERTALANFFY or law == POWER:
        loss = b if law == BERTALANFFY else 0.0
        if gamma == 1.0:
            return (a - loss) * age
        k = 1.0 - gamma
        if loss > 0.0:
            y = a / loss + (1.0 - a / loss) * math.exp(-k * loss * age)
        else:
            y = 1.0 + k * a * age
        if y <= 0.0:
            return -math.inf
        return math.log(y) / k
    switch = a1 / a if a > 0.0 else 0.0  # exponential-linear
    if switch <= 1.0:
        return math.log(1.0 + a1 * age)
    switch_age = math.log(switch) / a
    if age <= switch_age:
        return a * age
    return math.log(switch + a1 * (age - switch_age))


@njit(cache=True, fastmath=FASTMATH)
def age_at_size(law, a, capacity, gamma, b, a1, size):
    """The age [day] at which a colony started from one cell reaches ``size`` cells
    (the inverse of :func:`log_size_at_age`); ``inf`` if it never does."""
    if size <= 1.0:
        return 0.0
    if law == EXPONENTIAL:
        return math.log(size) / a if a > 0.0 else math.inf
    if law == LOGISTIC:
        if a <= 0.0 or size >= capacity:
            return math.inf
        return -math.log((capacity / size - 1.0) / (capacity - 1.0)) / a
    if law == GOMPERTZ:
        if a <= 0.0 or size >= capacity:
            return math.inf
        return -math.log1p(-math.log(size) / math.log(capacity)) / a
    if law == BERTALANFFY or law == POWER:
        loss = b if law == BERTALANFFY else 0.0
        if gamma == 1.0:
            rate = a - loss
            return math.log(size) / rate if rate > 0.0 else math.inf
        k = 1.0 - gamma
        y = size**k
        if loss > 0.0:
            limit = a / loss
            if a <= loss or y >= limit:
                return math.inf
            return -math.log((y - limit) / (1.0 - limit)) / (k * loss)
        return (y - 1.0) / (k * a) if a > 0.0 else math.inf
    switch = a1 / a if a > 0.0 else 0.0  # exponential-linear
    if a1 <= 0.0:
        return math.inf
    if switch <= 1.0:
        return (size - 1.0) / a1
    switch_age = math.log(switch) / a
    if size <= switch:
        return math.log(size) / a
    return switch_age + (size - switch) / a1


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _size_and_emission(p, age):
    """Size ``X(age)`` [cells] and emission ``beta(X) = m X^alpha`` [colonies/day]."""
    log_x = log_size_at_age(p[P_LAW], p[P_A], p[P_K], p[P_GAMMA], p[P_B], p[P_A1], age)
    return math.exp(log_x), p[P_SEEDING_M] * math.exp(p[P_SEEDING_ALPHA] * log_x)


@njit(cache=True, fastmath=FASTMATH)
def _dormant_step(dormant, inflow, wake, death, h):
    """Exact dormant pool after ``h`` days with constant inflow ``inflow`` [cells/day]:
    ``dZ/dt = inflow - (w + d) Z``. Returns ``(Z(h), integral of Z over the step)``."""
    rate = wake + death
    if rate * h < 1e-8:  # series of the exact solution, to round-off
        integral = dormant * h * (1.0 - 0.5 * rate * h) + inflow * h * h * (0.5 - rate * h / 6.0)
    else:
        phi = -math.expm1(-rate * h) / rate  # integral of exp(-rate t) over the step
        integral = dormant * phi + inflow * (h - phi) / rate
    return dormant + inflow * h - rate * integral, integral


@njit(cache=True, fastmath=FASTMATH)
def site_step(block, p, n_cohorts, cohort, t0, t1, arrivals):
    """Advance one site's block from ``t0`` to ``t1`` [day] (within one cohort's births).

    ``arrivals`` cells arrive, spread evenly over the step. A fraction ``survival`` seeds;
    of the seeds a fraction ``dormancy`` enters the dormant pool (exact exponential
    solution), the rest and the woken cells found colonies of one cell. Existing colonies
    die at rate ``clearance``, grow along the characteristic and seed new colonies at
    ``beta(s) = m s^alpha`` (Simpson's rule over the step). New colonies join cohort
    ``cohort`` with the size of a colony born at the step's mid time. A systemic therapy
    adds its rate ``therapy`` to the colonies' death rate (whole colonies die, as in the
    death term of the colony equation) and ``therapy_dormant`` to the dormant cells';
    what it kills is booked in ``removed``. Cells are booked so that ``burden + dormant +
    failed + dormant_died + colony_died + removed - colony_born - arrived`` stays constant
    to round-off: ``colony_born`` is the change of burden plus colony
    deaths minus the cells founding colonies (net growth, and colonies seeded by colonies).
    A spatial site (``spatial = 1``) stops after the dormant pool and ``founded``: its
    founders enter its tissue fields, which grow colonies under their own model.
    """
    h = t1 - t0
    counts = block[len(SITE_SCALARS) : len(SITE_SCALARS) + n_cohorts]
    births = block[len(SITE_SCALARS) + n_cohorts : len(SITE_SCALARS) + 2 * n_cohorts]
    seeds = p[P_SURVIVAL] * arrivals
    block[ARRIVED] += arrivals
    block[FAILED] += arrivals - seeds
    dormant, integral = _dormant_step(
        block[DORMANT],
        p[P_DORMANCY] * seeds / h,
        p[P_WAKE],
        p[P_DORMANT_DEATH] + p[P_THERAPY_DORMANT],
        h,
    )
    woken = p[P_WAKE] * integral
    block[DORMANT] = dormant
    block[WOKEN] += woken
    block[DORMANT_DIED] += p[P_DORMANT_DEATH] * integral
    block[REMOVED] += p[P_THERAPY_DORMANT] * integral
    founders = (1.0 - p[P_DORMANCY]) * seeds + woken
    block[FOUNDED] += founders
    if p[P_SPATIAL] != 0.0:  # the founders join the site's tissue fields (the caller)
        return
    # Existing colonies over the step: sizes and emission at the middle and the end.
    mid = t0 + 0.5 * h
    burden_mid = 0.0
    burden_end = 0.0
    emission_mid = 0.0
    emission_end = 0.0
    colonies = 0.0
    open_burden = 0.0  # the open cohort's share of burden_end and emission_end
    open_emission = 0.0
    for i in range(cohort + 1):
        n = counts[i]
        if n == 0.0:
            continue
        x, beta = _size_and_emission(p, mid - births[i])
        burden_mid += n * x
        emission_mid += n * beta
        x, beta = _size_and_emission(p, t1 - births[i])
        burden_end += n * x
        emission_end += n * beta
        colonies += n
        if i == cohort:
            open_burden = n * x
            open_emission = n * beta
    death = p[P_CLEARANCE] + p[P_THERAPY]
    survive_half = math.exp(-0.5 * death * h)
    survive = survive_half * survive_half
    emitted = (
        h / 6.0 * (block[EMISSION] + 4.0 * survive_half * emission_mid + survive * emission_end)
    )
    lost_cells = (
        death * h / 6.0 * (block[BURDEN] + 4.0 * survive_half * burden_mid + survive * burden_end)
    )
    treated = p[P_THERAPY] / death * lost_cells if death > 0.0 else 0.0
    # Survivors, and the new colonies in cohort ``cohort`` (born at the step's middle);
    # the closed cohorts keep their end-of-step sizes, the open one is re-evaluated.
    for i in range(cohort + 1):
        counts[i] *= survive
    burden = survive * (burden_end - open_burden)
    emission = survive * (emission_end - open_emission)
    colonies *= survive
    new = founders + emitted
    total = counts[cohort] + new
    if new > 0.0:
        older = survive * open_burden
        mean = (older + new * _size_and_emission(p, t1 - mid)[0]) / total
        births[cohort] = t1 - age_at_size(
            p[P_LAW], p[P_A], p[P_K], p[P_GAMMA], p[P_B], p[P_A1], mean
        )
    counts[cohort] = total
    colonies += new
    if total > 0.0:
        x, beta = _size_and_emission(p, t1 - births[cohort])
        burden += total * x
        emission += total * beta
    grown = burden - block[BURDEN] + lost_cells - founders
    block[REMOVED] += treated
    if grown >= 0.0:
        block[COLONY_BORN] += grown
        block[COLONY_DIED] += lost_cells - treated
    else:  # net shrinkage: booked as deaths
        block[COLONY_DIED] += lost_cells - treated - grown
    block[EMITTED] += emitted
    block[BURDEN] = burden
    block[EMISSION] = emission
    block[COLONIES] = colonies


@njit(cache=True)
def sites_step(scalars, offsets, params, n_cohorts, cohort, t0, t1, arrivals):
    """:func:`site_step` for every site: block ``k`` starts at ``scalars[offsets[k]]``."""
    size = len(SITE_SCALARS) + 2 * n_cohorts
    for k in range(offsets.shape[0]):
        block = scalars[offsets[k] : offsets[k] + size]
        site_step(block, params[k], n_cohorts, cohort, t0, t1, arrivals[k])


@njit(cache=True)
def cohort_sizes(p, counts, births, t, out):
    """Sizes ``X(t - birth)`` [cells] of the cohorts (0 where a cohort is empty)."""
    for i in range(counts.shape[0]):
        if counts[i] > 0.0:
            out[i] = math.exp(
                log_size_at_age(
                    p[P_LAW], p[P_A], p[P_K], p[P_GAMMA], p[P_B], p[P_A1], t - births[i]
                )
            )
        else:
            out[i] = 0.0


@njit(cache=True)
def count_above(p, counts, origin, width, t, min_size):
    """Colonies larger than ``min_size`` cells at time ``t``.

    Cohort ``i`` holds colonies born in ``[origin + i w, min(origin + (i+1) w, t))``, taken
    as spread evenly over that span: the colonies born before ``t - age(min_size)`` count.
    """
    if min_size <= 1.0:
        return counts.sum()
    age = age_at_size(p[P_LAW], p[P_A], p[P_K], p[P_GAMMA], p[P_B], p[P_A1], min_size)
    latest = t - age
    total = 0.0
    for i in range(counts.shape[0]):
        if counts[i] == 0.0:
            continue
        start = origin + i * width
        end = min(origin + (i + 1) * width, t)
        if latest >= end:
            total += counts[i]
        elif latest > start:
            total += counts[i] * (latest - start) / (end - start)
    return total


def empty_block(n_cohorts: int) -> np.ndarray:
    """A site's scalar block with no cells and no colonies."""
    return np.zeros(len(SITE_SCALARS) + 2 * n_cohorts)


@njit(cache=True)
def counts_above(p, counts, origin, width, t, min_sizes, out):
    """:func:`count_above` for each of ``min_sizes`` into ``out`` (one compiled call for
    a frame's size distribution)."""
    for j in range(min_sizes.shape[0]):
        out[j] = count_above(p, counts, origin, width, t, min_sizes[j])
