"""Colonies under the body's defences and the angiogenic switch: the sites' ODE path.

Where a site's colonies meet effector cells (``immune = 1``) or grow within their own
vascular capacity (growth law ``hahnfeldt``), a colony's characteristic is no longer in
closed form: the per-cell death rate follows the effectors ``E`` of the site, which follow
the colonies' burden. Over a stretch the site's colonies, their cohorts' edges and ``E``
are then integrated together, by Dormand-Prince 5(4) with error control to
``ODE_RTOL`` (:func:`site_ode_step`). Along a colony of ``s = e^x`` cells with vascular
capacity ``k = e^kappa`` [cells]

.. math::

    \\dot x &= \\varphi\\, G(s, k)/s - \\delta - \\kappa_E(E, s), \\qquad
        \\kappa_E = n_E E\\, (1 + s/s_h)^{-1/3}, \\\\
    \\dot \\kappa &= b\\, s/k - d\\, I^{2/3} - r_{aa}, \\qquad
        I = (s + \\iota (M_{body} - s)) / c, \\\\
    \\dot E &= \\sigma + \\rho E T/(\\eta + T) - \\mu E T - \\delta_E E,

``G`` the site's growth law (Hahnfeldt: ``G = a s ln(k/s)``; other laws do not read
``k``), ``phi = max(0, 1 - T/C)`` the room left in the organ, ``delta`` the clearance and
therapy rate, ``kappa_E`` the killing by effectors: mass action ``n_E E`` per cell
(Kuznetsov et al., Bull Math Biol 1994) limited to the surface of colonies larger than
``s_h`` = ``shielding`` cells (``s^(2/3)`` cells are reachable: the per-cell rate falls as
``s^(-1/3)``; 0 for none). ``T`` is the site's colony burden [cells], ``b`` =
``stimulation`` [1/day], ``d`` = ``inhibition`` [1/(day mm^2)], ``r_aa`` an
anti-angiogenic therapy [1/day] (Hahnfeldt et al., Cancer Res 1999), ``I`` the volume
[mm^3] whose inhibitors act on the colony: its own, plus a share ``iota`` =
``systemic`` of the rest of the body's tumour burden ``M_body`` (primary and every site,
held over the stretch; Benzekry, Gandolfi & Hahnfeldt, PLoS ONE 2014), ``c`` =
``CELLS_PER_MM3``. The effectors follow Kuznetsov et al. (1994): a source ``sigma``,
recruitment ``rho`` stimulated by the burden (half-maximal at ``eta`` cells), inactivation
(exhaustion) ``mu`` by the burden, death ``delta_E``; an immunotherapy multiplies the
killing by ``1 + therapy_kill`` and the exhaustion by ``1 - therapy_exhaustion``.

New colonies (founders and colonies' seeding) join the open cohort continuously: its
count ``N``, cells ``S`` and capacities ``N k`` are integrated with the colonies of mean
size, the closure of the closed-form path. The cells lost to effectors are booked
``immune_killed`` (the share an immunotherapy adds, ``therapy_kill / (1 +
therapy_kill)``, as ``removed``), those lost to ``delta`` as ``colony_died`` / ``removed``
like the closed-form path; births are what is left of the burden's change, so the site's
budget holds to round-off whatever the integrator's error.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit
from numba.extending import overload

from continuum.kernels.arrays import copy_into
from continuum.kernels.colonies import (
    BURDEN,
    COLONIES,
    COLONY_BORN,
    COLONY_DIED,
    EFFECTORS,
    EMISSION,
    EMITTED,
    EXTINCT,
    FOUNDED,
    IMMUNE_KILLED,
    P_A,
    P_A1,
    P_B,
    P_CAPACITY,
    P_CLEARANCE,
    P_EFFECTOR_DEATH,
    P_EFFECTOR_SOURCE,
    P_ESTABLISHMENT,
    P_EXHAUSTION,
    P_GAMMA,
    P_IMMUNE,
    P_INHIBITION,
    P_K,
    P_KILL,
    P_LAW,
    P_RECRUITMENT,
    P_RECRUITMENT_HALF,
    P_SHIELDING,
    P_STIMULATION,
    P_SYSTEMIC,
    P_THERAPY,
    P_THERAPY_EXHAUSTION,
    P_THERAPY_KILL,
    P_THERAPY_VASCULAR,
    REMOVED,
    SHEDDING,
    SITE_SCALARS,
    VASCULAR_CAPACITY,
    colony_emission,
    colony_shedding,
    seed_site,
    site_step,
)
from continuum.kernels.lumped import (
    BERTALANFFY,
    EXPONENTIAL,
    GOMPERTZ,
    HAHNFELDT,
    LOGISTIC,
    POWER,
)
from continuum.units import CELLS_PER_MM3

ODE_RTOL = 1e-10
"""Relative error per step of the Dormand-Prince integration of a site's colonies."""
MAX_STEPS = 1_000_000

# Heads of the ODE state: effectors, then cells killed by effectors and by delta, colonies
# seeded by colonies (cumulative over the stretch).
Y_E, Y_IMMUNE, Y_DEATH, Y_EMITTED = range(4)
HEAD = 4

# Dormand-Prince 5(4) (Dormand & Prince, J Comput Appl Math 1980): nodes, stage weights,
# 5th-order weights and the difference to the embedded 4th order.
_C = np.array([0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0])
_A = np.array(
    [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
        [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
        [19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0, 0.0, 0.0],
        [9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0, 0.0],
        [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
    ]
)
_B = np.array(
    [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0, 0.0]
)
_E = np.array(
    [
        71.0 / 57600.0,
        0.0,
        -71.0 / 16695.0,
        71.0 / 1920.0,
        -17253.0 / 339200.0,
        22.0 / 525.0,
        -1.0 / 40.0,
    ]
)


@njit(cache=True)
def uses_ode(p) -> bool:
    """Whether a site's colonies need the ODE path (effectors or vascular capacity)."""
    return p[P_IMMUNE] != 0.0 or p[P_LAW] == HAHNFELDT


@njit(cache=True)
def growth_per_cell(p, phi, log_size, log_capacity):
    """``phi G(s, k) / s`` [1/day] of a colony of ``s = e^log_size`` cells (vascular
    capacity ``e^log_capacity`` for the Hahnfeldt law)."""
    law = p[P_LAW]
    a = p[P_A]
    if law == HAHNFELDT:
        return phi * a * (log_capacity - log_size)
    if law == EXPONENTIAL:
        return phi * a
    if law == LOGISTIC:
        return phi * a * (1.0 - math.exp(log_size) / p[P_K])
    if law == GOMPERTZ:
        return phi * a * (math.log(p[P_K]) - log_size)
    if law == BERTALANFFY:
        return phi * (a * math.exp((p[P_GAMMA] - 1.0) * log_size) - p[P_B])
    if law == POWER:
        return phi * a * math.exp((p[P_GAMMA] - 1.0) * log_size)
    return phi * min(a, p[P_A1] * math.exp(-log_size))  # exponential-linear


@njit(cache=True)
def kill_per_cell(p, effectors, log_size):
    """``n_E (1 + therapy_kill) E (1 + s/s_h)^(-1/3)`` [1/day]: killing of a colony's
    cells by ``effectors`` [cells] (0 without immunity)."""
    if p[P_IMMUNE] == 0.0:
        return 0.0
    rate = p[P_KILL] * (1.0 + p[P_THERAPY_KILL]) * effectors
    if p[P_SHIELDING] == 0.0:
        return rate
    return rate * (1.0 + math.exp(log_size) / p[P_SHIELDING]) ** (-1.0 / 3.0)


@njit(cache=True)
def capacity_rate(p, log_size, log_capacity, others):
    """``d kappa/dt`` [1/day] of a colony's log vascular capacity (0 unless Hahnfeldt):
    ``b s/k - d I^(2/3) - r_aa`` with ``I = (s + iota others) / c`` [mm^3], ``others`` the
    body's tumour cells outside the colony."""
    if p[P_LAW] != HAHNFELDT:
        return 0.0
    size = math.exp(log_size)
    inhibitors = (size + p[P_SYSTEMIC] * max(others, 0.0)) / CELLS_PER_MM3
    return (
        p[P_STIMULATION] * math.exp(log_size - log_capacity)
        - p[P_INHIBITION] * inhibitors ** (2.0 / 3.0)
        - p[P_THERAPY_VASCULAR]
    )


@njit(cache=True)
def effector_rate(p, effectors, burden):
    """``dE/dt = sigma + rho E T/(eta + T) - mu (1 - therapy_exhaustion) E T - delta_E E``
    [cells/day] (Kuznetsov et al. 1994) at a burden ``T`` [cells]."""
    if p[P_IMMUNE] == 0.0:
        return 0.0
    recruited = p[P_RECRUITMENT] * effectors * burden / (p[P_RECRUITMENT_HALF] + burden)
    exhausted = p[P_EXHAUSTION] * (1.0 - p[P_THERAPY_EXHAUSTION]) * effectors * burden
    return p[P_EFFECTOR_SOURCE] + recruited - exhausted - p[P_EFFECTOR_DEATH] * effectors


@njit(cache=True)
def _open_mean(y, o):
    """``(count, log mean size, log mean capacity)`` of the open cohort at ``y[o:o+3]``."""
    n = y[o]
    if n <= 0.0 or y[o + 1] <= 0.0 or y[o + 2] <= 0.0:
        return 0.0, 0.0, 0.0
    return n, math.log(y[o + 1] / n), math.log(y[o + 2] / n)


@njit(cache=True)
def colonies_rate(y, p, counts, closed, founding, body, dy):
    """The right-hand side of a site's colony ODE (layout in :func:`site_ode_step`):
    ``closed`` cohorts of ``counts`` colonies, founders joining at ``founding``
    [colonies/day]; ``body`` the rest of the body's tumour burden [cells]."""
    x0, k0 = HEAD, HEAD + closed
    e0, ek0 = HEAD + 2 * closed, HEAD + 3 * closed + 1
    o = HEAD + 4 * closed + 2
    n_open, x_open, k_open = _open_mean(y, o)
    burden = y[o + 1]
    for i in range(closed):
        if counts[i] > 0.0:
            burden += counts[i] * math.exp(y[x0 + i])
    phi = max(0.0, 1.0 - burden / p[P_CAPACITY])
    others = body + burden  # the body's tumour cells, less a colony's own
    death = p[P_CLEARANCE] + p[P_THERAPY]
    effectors = y[Y_E]
    killed = 0.0
    emission = 0.0
    for i in range(closed):
        dy[x0 + i] = 0.0
        dy[k0 + i] = 0.0
        if counts[i] > 0.0:
            x, k = y[x0 + i], y[k0 + i]
            kill = kill_per_cell(p, effectors, x)
            dy[x0 + i] = growth_per_cell(p, phi, x, k) - death - kill
            dy[k0 + i] = capacity_rate(p, x, k, others - math.exp(x))
            killed += counts[i] * kill * math.exp(x)
            emission += counts[i] * colony_emission(p, x)
    for i in range(closed + 1):  # the cohorts' edges, a colony born at each cohort's start
        x, k = y[e0 + i], y[ek0 + i]
        dy[e0 + i] = growth_per_cell(p, phi, x, k) - death - kill_per_cell(p, effectors, x)
        dy[ek0 + i] = capacity_rate(p, x, k, others - math.exp(x))
    joining = founding
    if n_open > 0.0:
        kill = kill_per_cell(p, effectors, x_open)
        grow = growth_per_cell(p, phi, x_open, k_open) - death - kill
        killed += kill * y[o + 1]
        emission += n_open * colony_emission(p, x_open)
        dy[o + 1] = grow * y[o + 1]
        dy[o + 2] = capacity_rate(p, x_open, k_open, others - math.exp(x_open)) * y[o + 2]
    else:
        dy[o + 1] = 0.0
        dy[o + 2] = 0.0
    joining += emission
    dy[o] = joining
    dy[o + 1] += joining  # newcomers of one cell,
    dy[o + 2] += joining * p[P_K]  # each with the initial capacity K
    dy[Y_E] = effector_rate(p, effectors, burden)
    dy[Y_IMMUNE] = killed
    dy[Y_DEATH] = death * burden
    dy[Y_EMITTED] = emission


@njit(cache=True)
def _dopri_step(y, p, counts, closed, founding, body, h, stages, trial, error):
    """One Dormand-Prince 5(4) step of size ``h`` from ``y`` into ``trial``; returns the
    error norm relative to ``ODE_RTOL`` (``<= 1``: accept)."""
    n = y.shape[0]
    for s in range(7):
        if s > 0:
            for j in range(n):
                acc = y[j]
                for r in range(s):
                    acc += h * _A[s, r] * stages[r, j]
                trial[j] = acc
            colonies_rate(trial, p, counts, closed, founding, body, stages[s])
    norm = 0.0
    for j in range(n):
        acc = y[j]
        err = 0.0
        for s in range(7):
            acc += h * _B[s] * stages[s, j]
            err += h * _E[s] * stages[s, j]
        trial[j] = acc
        error[j] = err
        ratio = abs(err) / (ODE_RTOL * max(1.0, abs(y[j]), abs(acc)))
        if not ratio <= norm:  # also takes a NaN, which rejects the step
            norm = ratio
    return norm


@njit(cache=True)
def integrate(y, p, counts, closed, founding, body, h):
    """Advance ``y`` in place over ``h`` days (adaptive Dormand-Prince 5(4), first same as
    last). Returns the number of accepted steps."""
    n = y.shape[0]
    stages = np.empty((7, n))
    trial = np.empty(n)
    error = np.empty(n)
    colonies_rate(y, p, counts, closed, founding, body, stages[0])
    t = 0.0
    dt = h
    accepted = 0
    for _ in range(MAX_STEPS):
        if h - t <= 1e-13 * h:
            break
        dt = min(dt, h - t)
        norm = _dopri_step(y, p, counts, closed, founding, body, dt, stages, trial, error)
        if not math.isfinite(norm):
            dt *= 0.1
            continue
        if norm <= 1.0:
            t += dt
            copy_into(y, trial)
            copy_into(stages[0], stages[6])
            accepted += 1
        factor = 0.9 * norm ** (-0.2) if norm > 0.0 else 5.0
        dt *= min(5.0, max(0.2, factor))
    if h - t > 1e-13 * h:
        raise RuntimeError("colony_ode.integrate: no convergence within MAX_STEPS steps")
    return accepted


@njit(cache=True)
def site_ode_step(block, p, n_cohorts, cohort, t0, t1, arrivals, clustered, cluster_seeding, body):
    """:func:`~continuum.kernels.colonies.site_step` for a (size-structured) site with
    effectors or vascular capacities: seeding and dormancy as there, then colonies, edges
    and effectors integrated together over ``[t0, t1]`` (see the module docstring). ``body`` is the
    tumour burden of the rest of the body [cells] (primary and other sites) at ``t0``.

    ODE state: ``E``, immune kills, other deaths, colonies emitted; the log sizes and log
    capacities of the closed cohorts ``0..cohort-1``; the log sizes and log capacities of
    the edges of cohorts ``0..cohort``; the open cohort's count, cells and capacities.
    """
    h = t1 - t0
    base = len(SITE_SCALARS)
    counts = block[base : base + n_cohorts]
    logs = block[base + n_cohorts : base + 2 * n_cohorts]
    edges = block[base + 2 * n_cohorts : base + 3 * n_cohorts]
    caps = block[base + 3 * n_cohorts : base + 4 * n_cohorts]
    edge_caps = block[base + 4 * n_cohorts : base + 5 * n_cohorts]
    founders = seed_site(block, p, arrivals, clustered, cluster_seeding, h)
    founded = p[P_ESTABLISHMENT] * founders
    block[FOUNDED] += founded
    block[EXTINCT] += founders - founded
    closed = cohort
    o = HEAD + 4 * closed + 2
    y = np.zeros(o + 3)
    y[Y_E] = block[EFFECTORS]
    copy_into(y[HEAD : HEAD + closed], logs[:closed])
    copy_into(y[HEAD + closed : HEAD + 2 * closed], caps[:closed])
    copy_into(y[HEAD + 2 * closed : HEAD + 3 * closed + 1], edges[: closed + 1])
    copy_into(y[HEAD + 3 * closed + 1 : o], edge_caps[: closed + 1])
    n_open = counts[cohort]
    if n_open > 0.0:
        y[o] = n_open
        y[o + 1] = n_open * math.exp(logs[cohort])
        y[o + 2] = n_open * math.exp(caps[cohort])
    before = block[BURDEN]
    integrate(y, p, counts[:closed], closed, founded / h, body, h)
    # write back, losing colonies below one cell
    lost = 0.0
    burden = 0.0
    emission = 0.0
    shedding = 0.0
    colonies = 0.0
    vascular = 0.0
    copy_into(logs[:closed], y[HEAD : HEAD + closed])
    copy_into(caps[:closed], y[HEAD + closed : HEAD + 2 * closed])
    copy_into(edges[: closed + 1], y[HEAD + 2 * closed : HEAD + 3 * closed + 1])
    copy_into(edge_caps[: closed + 1], y[HEAD + 3 * closed + 1 : o])
    counts[cohort] = y[o]
    if y[o] > 0.0:
        logs[cohort] = math.log(y[o + 1] / y[o]) if y[o + 1] > 0.0 else -math.inf
        caps[cohort] = math.log(y[o + 2] / y[o]) if y[o + 2] > 0.0 else -math.inf
    for i in range(cohort + 1):
        n = counts[i]
        if n == 0.0:
            continue
        if logs[i] < 0.0:  # below one cell: the colonies are lost
            lost += n * math.exp(logs[i])
            counts[i] = 0.0
            continue
        size = math.exp(logs[i])
        burden += n * size
        emission += n * colony_emission(p, logs[i])
        shedding += n * colony_shedding(p, logs[i])
        colonies += n
        if p[P_LAW] == HAHNFELDT:
            vascular += n * math.exp(caps[i])
    killed = y[Y_DEATH]
    immune = y[Y_IMMUNE]
    death = p[P_CLEARANCE] + p[P_THERAPY]
    treated_share = p[P_THERAPY] / death if death > 0.0 else 0.0
    boosted_share = p[P_THERAPY_KILL] / (1.0 + p[P_THERAPY_KILL])
    grown = burden - before + killed + immune + lost - founded
    block[REMOVED] += treated_share * (killed + lost) + boosted_share * immune
    block[EXTINCT] += (1.0 - treated_share) * lost
    block[COLONY_DIED] += (1.0 - treated_share) * killed
    block[IMMUNE_KILLED] += (1.0 - boosted_share) * immune
    if grown >= 0.0:
        block[COLONY_BORN] += grown
    else:
        block[COLONY_DIED] -= grown
    block[EMITTED] += y[Y_EMITTED]
    block[BURDEN] = burden
    block[EMISSION] = emission
    block[COLONIES] = colonies
    block[SHEDDING] = shedding
    block[EFFECTORS] = y[Y_E]
    block[VASCULAR_CAPACITY] = vascular


@njit(cache=True)
def sites_step(
    scalars,
    offsets,
    params,
    n_cohorts,
    cohort,
    t0,
    t1,
    arrivals,
    clustered,
    cluster_seeding,
    body,
    ode,
):
    """Every site over ``[t0, t1]``: block ``k`` starts at ``scalars[offsets[k]]``; the
    closed-form :func:`~continuum.kernels.colonies.site_step` or, with effectors or
    vascular capacities, :func:`site_ode_step`. ``body`` [cells] is the primary's tumour
    burden; each site sees it plus the other sites' burdens.

    ``ode`` (a literal, :func:`any_ode` of the parameter rows) says whether any site takes
    the ODE path; without it the ODE integrator is not even compiled, and a site that
    needs it raises ``ValueError``.
    """
    numba.literally(ode)
    size = len(SITE_SCALARS) + 5 * n_cohorts
    total = body
    for k in range(offsets.shape[0]):
        total += scalars[offsets[k] + BURDEN]
    for k in range(offsets.shape[0]):
        block = scalars[offsets[k] : offsets[k] + size]
        arrived = (arrivals[k], clustered[k], cluster_seeding)
        _site(block, params[k], n_cohorts, cohort, t0, t1, arrived, total - block[BURDEN], ode)


def any_ode(params) -> bool:
    """Whether any site row of ``params`` (``(n_sites, n_parameters)``) needs the ODE path."""
    return any(uses_ode(row) for row in params)


def _site(block, p, n_cohorts, cohort, t0, t1, arrived, others, ode):
    """One site of :func:`sites_step` (``arrived`` = arrivals, clustered arrivals, cluster
    seeding; ``others`` = the body's burden outside it) (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


@overload(_site, prefer_literal=True)
def _site_impl(block, p, n_cohorts, cohort, t0, t1, arrived, others, ode):
    if ode.literal_value:

        def with_ode(block, p, n_cohorts, cohort, t0, t1, arrived, others, ode):
            arrivals, clustered, seeding = arrived
            if uses_ode(p):
                site_ode_step(
                    block, p, n_cohorts, cohort, t0, t1, arrivals, clustered, seeding, others
                )
            else:
                site_step(block, p, n_cohorts, cohort, t0, t1, arrivals, clustered, seeding)

        return with_ode

    def closed_form(block, p, n_cohorts, cohort, t0, t1, arrived, others, ode):
        arrivals, clustered, seeding = arrived
        if uses_ode(p):
            raise ValueError("sites_step: a site needs the ODE path, but ode=False")
        site_step(block, p, n_cohorts, cohort, t0, t1, arrivals, clustered, seeding)

    return closed_form
