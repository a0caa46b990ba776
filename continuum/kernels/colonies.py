"""Secondary sites: dormant seeds and the size-structured colony density (MODEL.md, Stage 3).

The colony density ``rho(s, t)`` [colonies per cell] obeys

.. math::

    \\partial_t \\rho + \\partial_s \\big((\\varphi(t) G(s) - \\delta(t) s) \\rho\\big) = 0,
    \\qquad G(1) \\rho(1, t) = p S(t) + \\int \\beta(s) \\rho(s, t)\\, ds,

solved along its characteristics ``ds/dt = phi G(s) - delta s``. Clearance and therapy
kill **cells** (``delta`` [1/day] per cell: colonies shrink, they do not vanish whole);
``phi = max(0, 1 - M/C)`` slows growth as the site's burden ``M`` fills the organ's
capacity ``C`` [cells]. Both are held over a step, and for every growth law the
characteristic with a per-cell death rate is again closed-form (:func:`advance_log_size`;
Gompertz under death ``delta`` stays Gompertz with the plateau ``K e^{-delta/a}``).
Colonies that shrink below one cell are lost (booked as ``extinct``, or as ``removed``
in the share a therapy killed). A founder cell establishes a colony with probability
``p`` = ``establishment`` (survival of a birth-death process, ``1 - d0/b0``; Haeno et
al., Cell 2012); founders that do not are booked as ``extinct``.

Colonies are kept in cohorts by birth time: cohort ``i`` holds those born in ``[i w, (i+1)
w)`` as a count and the log of their mean size (the escalator-boxcar closure of de Roos:
joiners enter with the mean size, so the burden is kept). A cohort never exchanges colonies
with its neighbours, so nothing diffuses across sizes. Each cohort also carries the log
size of its *edge*, a colony born exactly at ``i w`` moved by the same characteristics;
counts above a size interpolate between a cohort's edge and the next cohort's (a colony
born now, one cell, for the open cohort), in log size.

Per site the scalar block holds (offsets ``SITE_*``): cumulative ``arrived``, ``failed``
(cells lost in failed seeding), the ``dormant`` pool, cumulative ``woken``, ``dormant_died``,
``founded`` and ``emitted`` (colonies founded by seeds and seeded by colonies),
``colony_born`` and ``colony_died`` (cells), the ``burden`` (cells in colonies), the
colony seeding ``emission`` rate [colonies/day], the number of ``colonies``, the cells a
therapy ``removed`` and the cells lost ``extinct``, the cells colonies ``shed`` into the
blood and their present ``shedding`` rate [cells/day] (``mu s^alpha`` per colony of at least
``e^shedding_from`` cells, like the primary's; shed cells are copies: colonies are not
depleted, the cells count as born), the site's ``effectors`` [cells], the cells they
killed (``immune_killed``) and the colonies' summed ``vascular_capacity`` [cells] (these
three from ``continuum.kernels.colony_ode``, the path of sites with effectors or vascular
capacities), then ``n`` cohort counts, ``n`` cohort log mean sizes, ``n`` cohort edge log
sizes, and ``n`` log mean and ``n`` edge log vascular capacities.
"""

from __future__ import annotations

import math

from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.internal import internal
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
    "extinct",
    "shed",
    "shedding",
    "effectors",
    "immune_killed",
    "vascular_capacity",
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
    EXTINCT,
    SHED,
    SHEDDING,
    EFFECTORS,
    IMMUNE_KILLED,
    VASCULAR_CAPACITY,
) = range(len(SITE_SCALARS))
# Arrays after the scalars, each ``n_cohorts`` long: counts, log mean sizes and edge log
# sizes, then the log vascular capacities [ln cells] of the mean colony and of the edge
# (an angiogenic site's colonies; ``continuum.kernels.colony_ode``).
COHORT_ARRAYS = (
    "cohort_colonies",
    "cohort_log_size",
    "cohort_edge_log_size",
    "cohort_log_capacity",
    "cohort_edge_log_capacity",
)

# Columns of a site's parameter row.
SITE_PARAMETERS = (
    "law",
    "a",
    "K",
    "gamma",
    "b",
    "a1",
    "survival",
    "establishment",
    "dormancy",
    "wake",
    "dormant_death",
    "clearance",
    "capacity",
    "seeding_m",
    "seeding_alpha",
    "shedding_mu",
    "shedding_alpha",
    "shedding_from",
    "detection",
    "spatial",
    "therapy",
    "therapy_dormant",
    "stimulation",
    "inhibition",
    "systemic",
    "immune",
    "effector_source",
    "recruitment",
    "recruitment_half",
    "exhaustion",
    "effector_death",
    "kill",
    "shielding",
    "therapy_vascular",
    "therapy_kill",
    "therapy_exhaustion",
)
(
    P_LAW,
    P_A,
    P_K,
    P_GAMMA,
    P_B,
    P_A1,
    P_SURVIVAL,
    P_ESTABLISHMENT,
    P_DORMANCY,
    P_WAKE,
    P_DORMANT_DEATH,
    P_CLEARANCE,
    P_CAPACITY,
    P_SEEDING_M,
    P_SEEDING_ALPHA,
    P_SHEDDING_MU,
    P_SHEDDING_ALPHA,
    P_SHEDDING_FROM,
    P_DETECTION,
    P_SPATIAL,
    P_THERAPY,
    P_THERAPY_DORMANT,
    P_STIMULATION,
    P_INHIBITION,
    P_SYSTEMIC,
    P_IMMUNE,
    P_EFFECTOR_SOURCE,
    P_RECRUITMENT,
    P_RECRUITMENT_HALF,
    P_EXHAUSTION,
    P_EFFECTOR_DEATH,
    P_KILL,
    P_SHIELDING,
    P_THERAPY_VASCULAR,
    P_THERAPY_KILL,
    P_THERAPY_EXHAUSTION,
) = range(len(SITE_PARAMETERS))


@internal(fastmath=FASTMATH)
def _relaxation_weight(rate, h):
    """``(1 - e^{-rate h}) / rate`` [day], ``h`` in the limit ``rate -> 0``."""
    z = rate * h
    if abs(z) < 1e-10:
        return h * (1.0 - 0.5 * z)
    return -math.expm1(-z) / rate


@internal(fastmath=FASTMATH)
def _exponential_linear(a, a1, death, log_size, h):
    """``ln s(h)`` for ``ds/dt = min(a s, a1) - death s``: exponential below the switch
    size ``a1/a``, linear above it, each piece exact, crossings found in closed form."""
    switch = a1 / a if a > 0.0 else 0.0
    size = math.exp(log_size)
    if size < switch:
        rate = a - death
        if rate <= 0.0 or log_size + rate * h <= math.log(switch):
            return log_size + rate * h
        h -= (math.log(switch) - log_size) / rate  # reaches the switch within the step
        size = switch
    if death == 0.0:
        return math.log(size + a1 * h)
    level = a1 / death  # the linear piece relaxes to a1 / death
    if level < switch and size > level:  # falls back below the switch
        cross = math.log((size - level) / (switch - level)) / death if size > switch else 0.0
        if cross < h:
            return math.log(switch) + (a - death) * (h - cross)
    return math.log(level + (size - level) * math.exp(-death * h))


@njit(cache=True, fastmath=FASTMATH)
def advance_log_size(law, a, capacity, gamma, b, a1, death, log_size, h):
    """``ln s(h)`` on the characteristic ``ds/dt = G(s) - death s`` from ``ln s(0) =
    log_size`` (``-inf`` once a colony has no cells left), in closed form.

    exponential ``(a - d)``; logistic: ``r = a - d``, ``1/s`` relaxes as ``(1/s)' = a/K -
    r/s``; Gompertz: ``ln s`` relaxes at rate ``a`` to ``ln K - d/a``; von Bertalanffy
    ``a s^g - (b + d) s`` (power law: ``b = 0``): ``s^{1-g}`` relaxes at rate ``(1-g)(b + d)``
    to ``a / (b + d)``; exponential-linear: see :func:`_exponential_linear`. ``a``, ``b``,
    ``a1`` [1/day, cells^(1-g)/day, cells/day], ``death`` [1/day], ``h`` [day].
    """
    if h <= 0.0 or log_size == -math.inf:
        return log_size
    if law == EXPONENTIAL:
        return log_size + (a - death) * h
    if law == LOGISTIC:
        rate = a - death
        inverse = math.exp(-log_size - rate * h) + a / capacity * _relaxation_weight(rate, h)
        return -math.log(inverse)
    if law == GOMPERTZ:
        if a == 0.0:
            return log_size - death * h
        plateau = math.log(capacity) - death / a
        return plateau + (log_size - plateau) * math.exp(-a * h)
    if law == BERTALANFFY or law == POWER:
        loss = (b if law == BERTALANFFY else 0.0) + death
        if gamma == 1.0:
            return log_size + (a - loss) * h
        k = 1.0 - gamma
        z = math.exp(k * log_size)
        if loss > 0.0:
            level = a / loss
            z = level + (z - level) * math.exp(-k * loss * h)
        else:
            z += k * a * h
        return math.log(z) / k if z > 0.0 else -math.inf
    return _exponential_linear(a, a1, death, log_size, h)


@njit(cache=True, fastmath=FASTMATH)
def log_size_at_age(law, a, capacity, gamma, b, a1, age):
    """``ln X(age)``: a colony of one cell after ``age`` days of undisturbed growth."""
    return advance_log_size(law, a, capacity, gamma, b, a1, 0.0, 0.0, age)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _advance(p, phi, death, log_size, h):
    """:func:`advance_log_size` with the site's law, its growth scaled by ``phi``."""
    return advance_log_size(
        p[P_LAW],
        phi * p[P_A],
        p[P_K],
        p[P_GAMMA],
        phi * p[P_B],
        phi * p[P_A1],
        death,
        log_size,
        h,
    )


@njit(cache=True, fastmath=FASTMATH, inline="always")
def colony_emission(p, log_size):
    """Colony seeding ``beta(s) = m s^alpha`` [colonies/day] of a colony of ``e^log_size``."""
    return p[P_SEEDING_M] * math.exp(p[P_SEEDING_ALPHA] * log_size)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def colony_shedding(p, log_size):
    """Shedding ``mu s^alpha`` [cells/day] of a vascularised colony of ``e^log_size``
    cells (0 below ``e^shedding_from``)."""
    if log_size < p[P_SHEDDING_FROM]:
        return 0.0
    return p[P_SHEDDING_MU] * math.exp(p[P_SHEDDING_ALPHA] * log_size)


@internal(fastmath=FASTMATH)
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


@internal(fastmath=FASTMATH)
def _burden_after(p, counts, logs, cohort, phi, death, h):
    """Cells in the colonies of cohorts ``0..cohort`` after ``h`` days at ``phi``."""
    burden = 0.0
    for i in range(cohort + 1):
        if counts[i] > 0.0:
            burden += counts[i] * math.exp(_advance(p, phi, death, logs[i], h))
    return burden


@internal(fastmath=FASTMATH)
def growth_factor(p, counts, logs, cohort, burden, death, h):
    """``phi = max(0, 1 - burden / capacity)``: the growth left in the organ, held over the
    step; where a fast step would overfill the organ, the largest ``phi`` that ends it at
    the capacity (bisection: the burden grows with ``phi``)."""
    phi = max(0.0, 1.0 - burden / p[P_CAPACITY])
    # per-cell growth G(s)/s is at most a (a ln K for Gompertz) for s >= 1: most steps
    # cannot reach the capacity, and need no look ahead
    fastest = p[P_A] * math.log(p[P_K]) if p[P_LAW] == GOMPERTZ else p[P_A]
    if phi == 0.0 or burden * math.exp(phi * fastest * h) <= p[P_CAPACITY]:
        return phi
    if _burden_after(p, counts, logs, cohort, phi, death, h) <= p[P_CAPACITY]:
        return phi
    low, high = 0.0, phi
    for _ in range(50):
        middle = 0.5 * (low + high)
        if _burden_after(p, counts, logs, cohort, middle, death, h) <= p[P_CAPACITY]:
            low = middle
        else:
            high = middle
    return low


@njit(cache=True, fastmath=FASTMATH, inline="always")
def seed_site(block, p, arrivals, clustered, cluster_seeding, h):
    """Seeding of ``arrivals`` single and ``clustered`` clustered cells over ``h`` days
    (see :func:`site_step`): books ``arrived``, ``failed`` and the dormant pool (exact
    exponential solution); returns the founders [cells], the seeds that did not go
    dormant plus the woken cells."""
    seeds = p[P_SURVIVAL] * arrivals + min(1.0, cluster_seeding * p[P_SURVIVAL]) * clustered
    block[ARRIVED] += arrivals + clustered
    block[FAILED] += arrivals + clustered - seeds
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
    return (1.0 - p[P_DORMANCY]) * seeds + woken


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _move_colonies(p, counts, logs, edges, cohort, phi, death, h):
    """Move the colonies of cohorts ``0..cohort`` (and the cohorts' edges) along their
    characteristics over ``h`` days; colonies below one cell are lost. Returns ``(burden
    and emission at the middle of the step, burden [cells], emission [colonies/day],
    shedding [cells/day] and colonies at its end, cells lost)``; the end values leave out
    the open cohort ``cohort``, which newcomers join first."""
    burden_mid = 0.0
    emission_mid = 0.0
    burden = 0.0
    emission = 0.0
    shedding = 0.0
    colonies = 0.0
    lost = 0.0
    for i in range(cohort + 1):
        edges[i] = _advance(p, phi, death, edges[i], h)
        n = counts[i]
        if n == 0.0:
            continue
        mid = _advance(p, phi, death, logs[i], 0.5 * h)
        logs[i] = _advance(p, phi, death, mid, 0.5 * h)
        burden_mid += n * math.exp(mid)
        emission_mid += n * colony_emission(p, mid)
        if logs[i] < 0.0:  # below one cell: the colonies are lost
            lost += n * math.exp(logs[i])
            counts[i] = 0.0
        elif i < cohort:  # the open cohort is added after the newcomers joined it
            burden += n * math.exp(logs[i])
            emission += n * colony_emission(p, logs[i])
            shedding += n * colony_shedding(p, logs[i])
            colonies += n
    return burden_mid, emission_mid, burden, emission, shedding, colonies, lost


@internal(fastmath=FASTMATH)
def site_step(block, p, n_cohorts, cohort, t0, t1, arrivals, clustered, cluster_seeding):
    """Advance one site's block from ``t0`` to ``t1`` [day] (within one cohort's births).

    ``arrivals`` single cells and ``clustered`` cells in clusters arrive, spread evenly
    over the step. A fraction ``survival`` of single cells seeds, ``min(1,
    cluster_seeding x survival)`` of clustered ones;
    of the seeds a fraction ``dormancy`` enters the dormant pool (exact exponential
    solution, wake-up ``wake``, death ``dormant_death`` + ``therapy_dormant``); the other
    seeds and the woken cells are founders, of which a fraction ``establishment`` founds
    colonies of one cell (the rest is ``extinct``). Colonies move along their
    characteristics under the per-cell death ``clearance + therapy`` and the organ's
    growth factor ``phi`` (held over the step, from the burden at ``t0``); the cells they
    lose are integrated by Simpson's rule (booked as ``colony_died``, the therapy's share as
    ``removed``), colonies falling below one cell are lost (``extinct``/``removed``), and
    colonies seed new ones at ``beta(s)`` (Simpson). New colonies join cohort ``cohort``
    with the size of a colony born at the step's mid time. Cells are booked so that
    ``burden + dormant + failed + dormant_died + colony_died + removed + extinct -
    colony_born - arrived`` stays constant to round-off. A spatial site (``spatial = 1``)
    stops after the dormant pool and ``founded``: its founders (cells) enter its tissue
    fields, which grow colonies under their own model.
    """
    h = t1 - t0
    base = len(SITE_SCALARS)
    counts = block[base : base + n_cohorts]
    logs = block[base + n_cohorts : base + 2 * n_cohorts]
    edges = block[base + 2 * n_cohorts : base + 3 * n_cohorts]
    founders = seed_site(block, p, arrivals, clustered, cluster_seeding, h)
    if p[P_SPATIAL] != 0.0:  # the founder cells join the site's tissue fields (the caller)
        block[FOUNDED] += founders
        return
    founded = p[P_ESTABLISHMENT] * founders
    block[FOUNDED] += founded
    block[EXTINCT] += founders - founded
    death = p[P_CLEARANCE] + p[P_THERAPY]
    treated_share = p[P_THERAPY] / death if death > 0.0 else 0.0
    phi = growth_factor(p, counts, logs, cohort, block[BURDEN], death, h)
    # Existing colonies: sizes and emission at the middle and the end of the step.
    burden_mid, emission_mid, burden, emission, shedding, colonies, lost = _move_colonies(
        p, counts, logs, edges, cohort, phi, death, h
    )
    n = counts[cohort]
    open_end = n * math.exp(logs[cohort]) if n > 0.0 else 0.0
    open_emission = n * colony_emission(p, logs[cohort]) if n > 0.0 else 0.0
    emitted = h / 6.0 * (block[EMISSION] + 4.0 * emission_mid + emission + open_emission)
    killed = death * h / 6.0 * (block[BURDEN] + 4.0 * burden_mid + burden + open_end + lost)
    # New colonies, born at the step's middle, join cohort ``cohort`` with their mean size.
    new = founded + emitted
    newborn = _advance(p, phi, death, 0.0, 0.5 * h)
    if new > 0.0 and newborn < 0.0:  # they die out within the step
        lost += new * math.exp(newborn)
    elif new > 0.0:
        counts[cohort] += new
        logs[cohort] = math.log((open_end + new * math.exp(newborn)) / counts[cohort])
    n = counts[cohort]
    if n > 0.0:
        burden += n * math.exp(logs[cohort])
        emission += n * colony_emission(p, logs[cohort])
        shedding += n * colony_shedding(p, logs[cohort])
        colonies += n
    grown = burden - block[BURDEN] + killed + lost - founded
    block[REMOVED] += treated_share * (killed + lost)
    block[EXTINCT] += (1.0 - treated_share) * lost
    block[COLONY_DIED] += (1.0 - treated_share) * killed
    if grown >= 0.0:
        block[COLONY_BORN] += grown
    else:  # net shrinkage beyond the deaths counted: booked as deaths
        block[COLONY_DIED] -= grown
    block[EMITTED] += emitted
    block[BURDEN] = burden
    block[EMISSION] = emission
    block[COLONIES] = colonies
    block[SHEDDING] = shedding


def block_size(n_cohorts: int) -> int:
    """Length of a size-structured site's scalar block."""
    return len(SITE_SCALARS) + len(COHORT_ARRAYS) * n_cohorts


@njit(cache=True)
def book_shedding(scalars, offsets, h):
    """Cells the sites' colonies shed into the blood over the next ``h`` days at their
    present rates (``shedding`` [cells/day], held over the stretch), booked in each site's
    ``shed``; returns the total rate [cells/day]."""
    total = 0.0
    for k in range(offsets.shape[0]):
        rate = scalars[offsets[k] + SHEDDING]
        scalars[offsets[k] + SHED] += rate * h
        total += rate
    return total


@njit(cache=True)
def count_above(counts, edges, min_size):
    """Colonies larger than ``min_size`` cells.

    Cohort ``i`` holds colonies born between the births of its edge (log size
    ``edges[i]``) and of the next cohort's (``edges[i + 1]``; for the open cohort, and
    beyond, 0: a colony born now), taken as spread evenly in log size between the two
    (the older edge is usually the larger; under effectors or vascular capacities it need
    not be, and the interval is taken either way).
    """
    if min_size <= 1.0:
        return counts.sum()
    level = math.log(min_size)
    total = 0.0
    n = counts.shape[0]
    for i in range(n):
        if counts[i] == 0.0:
            continue
        old = edges[i]
        young = edges[i + 1] if i + 1 < n else 0.0
        low, high = min(old, young), max(old, young)
        if low >= level:
            total += counts[i]
        elif high > level:
            total += counts[i] * (high - level) / (high - low)
    return total


@njit(cache=True)
def counts_above(counts, edges, min_sizes, out):
    """:func:`count_above` for each of ``min_sizes`` into ``out`` (one compiled call for
    a frame's size distribution)."""
    for j in range(min_sizes.shape[0]):
        out[j] = count_above(counts, edges, min_sizes[j])
