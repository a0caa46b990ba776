"""The compiled loop of a cascade with a lumped primary and size-structured sites.

It does in one Numba call what :class:`~continuum.solvers.cascade.CascadeSolver` does
stretch by stretch in Python for the general case (spatial primaries or sites): SSP-RK3 on
the tumour up to the next cohort boundary, the circulation in closed form, the arrivals
shared among the sites, the sites' step. For cohorts of virtual patients, where Python's
overhead per stretch would otherwise cost as much as the integration.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit

from continuum.kernels.circulation import CLEARED, advance_circulation, advance_clusters
from continuum.kernels.colonies import book_shedding, sites_step
from continuum.solvers.loops import SSPRK3, STATUS_OK, _remaining, advance_explicit


@njit(cache=True)
def _shedding(scalars, mu, alpha, lymph_fraction, out, offset):
    """The lumped tumour's shedding into blood and lymph [cells/day], into ``out``."""
    size = scalars[0]
    shedding = mu * size**alpha if size > 0.0 else 0.0
    out[offset] = shedding - lymph_fraction * shedding
    out[offset + 2] = lymph_fraction * shedding


# Entries of the ``cascade`` vector: positions in the scalar vector, then constants.
CASCADE_CONSTANTS = (
    "shed_blood",
    "shed_lymph",
    "extravasated",
    "node_arrested",
    "first_pass",
    "unsited",
    "sites_time",
    "cohort_days",
    "mu",
    "alpha",
    "lymph_fraction",
    "first_pass_fraction",
    "cluster_ctc",  # the first of the five cluster scalars
    "cluster_fraction",
    "cluster_clearance",
    "cluster_seeding",
    "transit_survival",  # of single cells on their way to the first bed
    "cluster_transit_survival",
)


@njit(cache=True)
def settle_stretch(
    scalars,
    cascade,
    shed,
    rates,
    t0,
    t1,
    cohort,
    n_cohorts,
    shares,
    offsets,
    site_params,
    circulation,
):
    """What follows a lumped primary's stretch ``[t0, t1]`` [day]: the circulation in
    closed form and the sites.

    ``shed`` = cells the tumour shed into blood and lymph in the stretch, ``rates`` =
    (blood at the start, at the end, lymph at the start, at the end) [cells/day]. The
    colonies' shedding joins the venous blood (held over the stretch); a fraction
    ``cluster_fraction`` of the cells entering blood travels in clusters; a fraction
    ``transit_survival`` reaches the first capillary bed alive (the rest is cleared). The
    clusters have their own compartment (clearance ``cluster_clearance``, the same
    extravasation and first pass). The cells leaving blood and lymph are shared among the
    sites (``shares``; the rest is ``unsited``), where clustered cells seed
    ``cluster_seeding`` times as well (survival capped at 1), and the sites advance over
    the stretch.
    """
    h = t1 - t0
    n_sites = offsets.shape[0]
    sources = (int(cascade[2]), int(cascade[3]), int(cascade[4]))
    before = np.array([scalars[sources[0]], scalars[sources[1]], scalars[sources[2]]])
    from_sites = book_shedding(scalars, offsets, h)
    shed[0] += from_sites * h
    rates[0] += from_sites
    rates[1] += from_sites
    fraction = cascade[13]
    clustered = fraction * shed[0]
    start, end = fraction * rates[0], fraction * rates[1]
    shed[0] -= clustered
    rates[0] -= start
    rates[1] -= end
    # deaths on the way to the first capillary bed (cleared: a rate times a transit time)
    survive, cluster_survive = cascade[16], cascade[17]
    c = int(cascade[12])
    scalars[1 + CLEARED] += (1.0 - survive) * shed[0]
    scalars[c + 1] += (1.0 - cluster_survive) * clustered
    shed[0] *= survive
    rates[0] *= survive
    rates[1] *= survive
    clustered *= cluster_survive
    start *= cluster_survive
    end *= cluster_survive
    first_pass = cascade[11]
    advance_circulation(scalars, 1, shed, rates, h, circulation, first_pass)
    cluster_out, cluster_arrested = advance_clusters(
        scalars[c : c + 5],
        clustered,
        start,
        end,
        h,
        first_pass,
        cascade[14],
        circulation[1],
        circulation[4],
    )
    unsited = int(cascade[5])
    arrivals = np.zeros(n_sites)
    clusters = np.zeros(n_sites)
    for j in range(3):
        delta = scalars[sources[j]] - before[j]
        received = 0.0
        for k in range(n_sites):
            arrivals[k] += shares[k, j] * delta
            received += shares[k, j]
        scalars[unsited] += (1.0 - received) * delta
    received_out = 0.0
    received_first = 0.0
    for k in range(n_sites):
        clusters[k] = shares[k, 0] * cluster_out + shares[k, 2] * cluster_arrested
        received_out += shares[k, 0]
        received_first += shares[k, 2]
    scalars[unsited] += (1.0 - received_out) * cluster_out
    scalars[unsited] += (1.0 - received_first) * cluster_arrested
    sites_step(
        scalars, offsets, site_params, n_cohorts, cohort, t0, t1, arrivals, clusters, cascade[15]
    )


@njit(cache=True, nogil=True)
def advance_lumped_cascade(
    kind,
    fingerprint,
    u,
    s,
    ua,
    ub,
    sa,
    sb,
    t,
    t_stop,
    dt,
    max_steps,
    rtol,
    atol,
    problem,
    cell_volume,
    work,
    totals,
    ds,
    scalars,
    cascade,
    shares,
    offsets,
    site_params,
    circulation,
    n_cohorts,
):
    """Advance a lumped cascade from ``t`` to ``t_stop`` [day].

    ``s`` is the view of ``scalars`` the tumour's kernel integrates; ``cascade`` holds
    positions and constants (:data:`CASCADE_CONSTANTS`); ``shares`` (n_sites, 3) the
    sites' shares of the three sources; ``circulation`` = (k_clear, k_ext, k_LN, k_LB,
    therapy rate on circulating cells). Each stretch ends in :func:`settle_stretch`.
    Returns
    ``(t, dt, steps, rejected, status)`` like the other loops.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    shed_idx = np.array([int(cascade[0]), int(cascade[1])])
    clock = int(cascade[6])
    width = cascade[7]
    mu, alpha, lymph_fraction = cascade[8], cascade[9], cascade[10]
    shed = np.empty(2)
    rates = np.empty(4)
    steps = 0
    rejected = 0
    status = STATUS_OK
    while _remaining(t, t_stop):
        t0 = t
        cohort = math.floor(t0 / width)
        if (cohort + 1) * width - t0 <= 1e-9 * width:
            cohort += 1
        t_next = min((cohort + 1) * width, t_stop)
        cohort = min(cohort, n_cohorts - 1)
        for j in range(2):
            shed[j] = scalars[shed_idx[j]]
        _shedding(scalars, mu, alpha, lymph_fraction, rates, 0)
        t, dt, done, undone, status = advance_explicit(
            kind,
            fingerprint,
            SSPRK3,
            True,
            u,
            s,
            ua,
            ub,
            sa,
            sb,
            t0,
            t_next,
            dt,
            1e-14 * max(1.0, abs(t0)),
            max_steps - steps - rejected,
            0.0,
            rtol,
            atol,
            problem,
            cell_volume,
            work,
            totals,
            ds,
        )
        steps += done
        rejected += undone
        if status != STATUS_OK:
            break
        _shedding(scalars, mu, alpha, lymph_fraction, rates, 1)
        for j in range(2):
            shed[j] = scalars[shed_idx[j]] - shed[j]
        settle_stretch(
            scalars,
            cascade,
            shed,
            rates,
            t0,
            t,
            cohort,
            n_cohorts,
            shares,
            offsets,
            site_params,
            circulation,
        )
        scalars[clock] = t
    return t, dt, steps, rejected, status
