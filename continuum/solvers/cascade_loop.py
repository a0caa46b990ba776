"""The compiled loop of a cascade with a lumped primary and size-structured sites.

It does in one Numba call what :class:`~continuum.solvers.cascade.CascadeSolver` does
stretch by stretch in Python for the general case (spatial primaries or sites): SSP-RK(4,3) on
the tumour up to the next cohort boundary, the circulation in closed form, the arrivals
shared among the sites, the sites' step. For cohorts of virtual patients, where Python's
overhead per stretch would otherwise cost as much as the integration.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from numba import njit

from continuum.kernels.circulation import (
    CLEARED,
    KILLED_IMMUNE,
    advance_circulation,
    advance_clusters,
)
from continuum.kernels.colonies import book_shedding
from continuum.kernels.colony_ode import sites_step
from continuum.kernels.lumped import shedding_rates
from continuum.solvers.loops import SSPRK43, STATUS_OK, Control, _remaining, advance_explicit


class CascadeSites(NamedTuple):
    """What follows the lumped primary: its circulation and the secondary sites."""

    scalars: np.ndarray
    """The cascade's whole scalar vector (the tumour's kernel integrates a view of it)."""
    cascade: np.ndarray
    """Positions and constants, :data:`CASCADE_CONSTANTS`."""
    shares: np.ndarray
    """(n_sites, 3) the sites' shares of the three sources."""
    offsets: np.ndarray
    """(n_sites,) where each site's block starts in ``scalars``."""
    site_params: np.ndarray
    """(n_sites, n_parameters) the sites' parameter rows (``colonies.SITE_PARAMETERS``)."""
    circulation: np.ndarray
    """``(k_clear, k_ext, k_LN, k_LB, therapy rate on circulating cells, k_nk)`` [1/day]."""
    n_cohorts: int


@njit(cache=True)
def _shedding(scalars, mu, alpha, lymph_fraction, out, offset):
    """The lumped tumour's shedding into blood and lymph [cells/day] (``lumped``'s law),
    into ``out[offset]`` and ``out[offset + 2]``."""
    _, to_blood, to_lymph = shedding_rates(scalars[0], mu, alpha, lymph_fraction)
    out[offset] = to_blood
    out[offset + 2] = to_lymph


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
    "cluster_ctc",  # the first of the six cluster scalars
    "cluster_fraction",
    "cluster_clearance",
    "cluster_seeding",
    "transit_survival",  # of single cells on their way to the first bed
    "cluster_transit_survival",
    "cluster_nk_shielding",
)
N_CLUSTER = 6  # cluster_ctc and the five cumulative cluster scalars after it


@njit(cache=True)
def _nk_share(clearance, k_nk):
    """The natural-killer cells' share ``k_nk / (clearance + k_nk)`` of the deaths in
    blood (0 when neither acts)."""
    total = clearance + k_nk
    return k_nk / total if total > 0.0 else 0.0


@njit(cache=True)
def _split_clusters(scalars, cascade, circulation, shed, rates):
    """Take the clustered fraction ``cluster_fraction`` out of the cells entering blood
    (``shed[0]`` [cells], ``rates[0:2]`` [cells/day]), and book the cells that die on the
    way to the first capillary bed (survival ``transit_survival`` for single cells,
    ``cluster_transit_survival`` for clusters): single cells as ``cleared`` and
    ``killed_immune`` in the ratio ``k_clear : k_nk``, clustered cells as
    ``cluster_cleared`` and ``cluster_killed_immune`` in the ratio ``clearance : (1 -
    nk_shielding) k_nk`` (``circulation`` as :attr:`CascadeSites.circulation`). Returns
    the surviving clustered cells and their inflow rates at the two ends: ``(cells,
    start, end)``."""
    fraction = cascade[13]
    clustered = fraction * shed[0]
    start, end = fraction * rates[0], fraction * rates[1]
    shed[0] -= clustered
    rates[0] -= start
    rates[1] -= end
    # deaths on the way to the first capillary bed (a rate times a transit time)
    survive, cluster_survive = cascade[16], cascade[17]
    c = int(cascade[12])
    dead = (1.0 - survive) * shed[0]
    share = _nk_share(circulation[0], circulation[5])
    scalars[1 + CLEARED] += (1.0 - share) * dead
    scalars[1 + KILLED_IMMUNE] += share * dead
    cluster_dead = (1.0 - cluster_survive) * clustered
    cluster_share = _nk_share(cascade[14], (1.0 - cascade[18]) * circulation[5])
    scalars[c + 1] += (1.0 - cluster_share) * cluster_dead
    scalars[c + 5] += cluster_share * cluster_dead
    shed[0] *= survive
    rates[0] *= survive
    rates[1] *= survive
    return clustered * cluster_survive, start * cluster_survive, end * cluster_survive


@njit(cache=True)
def _share_arrivals(sites, before, cluster_out, cluster_arrested):
    """The cells that left blood and lymph since ``before`` (the three sources' cumulative
    counts), and the clustered cells that extravasated or arrested, shared among the
    sites (``sites.shares``; the rest is booked ``unsited``). Returns the sites' single
    and clustered arrivals [cells]."""
    scalars, shares, cascade = sites.scalars, sites.shares, sites.cascade
    n_sites = sites.offsets.shape[0]
    sources = (int(cascade[2]), int(cascade[3]), int(cascade[4]))
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
    return arrivals, clusters


@njit(cache=True)
def settle_stretch(sites, shed, rates, t0, t1, cohort, primary, ode):
    """What follows a lumped primary's stretch ``[t0, t1]`` [day]: the circulation in
    closed form and the sites (``sites`` the :class:`CascadeSites`, ``cohort`` the cohort
    the colonies founded in the stretch join).

    ``shed`` = cells the tumour shed into blood and lymph in the stretch, ``rates`` =
    (blood at the start, at the end, lymph at the start, at the end) [cells/day]. The
    colonies' shedding joins the venous blood (held over the stretch); a fraction
    ``cluster_fraction`` of the cells entering blood travels in clusters; a fraction
    ``transit_survival`` reaches the first capillary bed alive (the rest is cleared or
    killed by NK cells). The clusters have their own compartment (clearance
    ``cluster_clearance``, NK killing ``(1 - cluster_nk_shielding) k_nk``, the same
    extravasation and first pass). The cells leaving blood and lymph are shared among the
    sites (``shares``; the rest is ``unsited``), where clustered cells seed
    ``cluster_seeding`` times as well (survival capped at 1), and the sites advance over
    the stretch, seeing the primary's ``primary`` cells (at ``t0``) in the body's tumour
    burden. ``ode`` (a literal) is :func:`~continuum.kernels.colony_ode.any_ode` of the
    sites: whether their ODE path is compiled.
    """
    numba.literally(ode)
    scalars, cascade, offsets = sites.scalars, sites.cascade, sites.offsets
    h = t1 - t0
    sources = (int(cascade[2]), int(cascade[3]), int(cascade[4]))
    before = np.array([scalars[sources[0]], scalars[sources[1]], scalars[sources[2]]])
    from_sites = book_shedding(scalars, offsets, h)
    shed[0] += from_sites * h
    rates[0] += from_sites
    rates[1] += from_sites
    clustered, start, end = _split_clusters(scalars, cascade, sites.circulation, shed, rates)
    first_pass = cascade[11]
    advance_circulation(scalars, 1, shed, rates, h, sites.circulation, first_pass)
    c = int(cascade[12])
    cluster_out, cluster_arrested = advance_clusters(
        scalars[c : c + N_CLUSTER],
        clustered,
        start,
        end,
        h,
        first_pass,
        cascade[14],
        sites.circulation[1],
        sites.circulation[4],
        (1.0 - cascade[18]) * sites.circulation[5],
    )
    arrivals, clusters = _share_arrivals(sites, before, cluster_out, cluster_arrested)
    sites_step(
        scalars,
        offsets,
        sites.site_params,
        sites.n_cohorts,
        cohort,
        t0,
        t1,
        arrivals,
        clusters,
        cascade[15],
        primary,
        ode,
    )


@njit(cache=True)
def _cohort_stretch(t0, t_stop, width, n_cohorts):
    """``(cohort, end)``: the cohort of births at ``t0`` [day] (a time within ``1e-9``
    of a boundary belongs to the next) and the end of its stretch, at most ``t_stop``."""
    cohort = math.floor(t0 / width)
    if (cohort + 1) * width - t0 <= 1e-9 * width:
        cohort += 1
    t_next = min((cohort + 1) * width, t_stop)
    return min(cohort, n_cohorts - 1), t_next


@njit(cache=True, nogil=True)
def advance_lumped_cascade(
    kind, fingerprint, ode, st, t, t_stop, dt, control, problem, work, sites
):
    """Advance a lumped cascade from ``t`` to ``t_stop`` [day].

    ``st``, ``control``, ``problem`` and ``work`` are those of the tumour's explicit loop
    (``loops.advance_explicit``; ``st.s`` is the view of ``sites.scalars`` the tumour's
    kernel integrates; ``control.max_steps`` counts for the whole call); ``sites`` the
    :class:`CascadeSites`, ``ode`` (a literal) whether a site takes the ODE path. Each
    stretch (up to a cohort boundary) takes adaptive SSP-RK(4,3)
    steps, then ends in :func:`settle_stretch`. Returns ``(t, dt, steps, rejected,
    status)`` like the other loops.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    numba.literally(ode)
    scalars, cascade = sites.scalars, sites.cascade
    shed_idx = np.array([int(cascade[0]), int(cascade[1])])
    mu, alpha, lymph_fraction = cascade[8], cascade[9], cascade[10]
    shed = np.empty(2)
    rates = np.empty(4)
    steps = 0
    rejected = 0
    status = STATUS_OK
    while _remaining(t, t_stop):
        t0 = t
        cohort, t_next = _cohort_stretch(t0, t_stop, cascade[7], sites.n_cohorts)
        for j in range(2):
            shed[j] = scalars[shed_idx[j]]
        primary = scalars[0]
        _shedding(scalars, mu, alpha, lymph_fraction, rates, 0)
        stretch = Control(
            SSPRK43,
            True,
            1e-14 * max(1.0, abs(t0)),
            control.max_steps - steps - rejected,
            0.0,
            control.rtol,
            control.atol,
        )
        t, dt, done, undone, status = advance_explicit(
            kind, fingerprint, st, t0, t_next, dt, stretch, problem, work
        )
        steps += done
        rejected += undone
        if status != STATUS_OK:
            break
        _shedding(scalars, mu, alpha, lymph_fraction, rates, 1)
        for j in range(2):
            shed[j] = scalars[shed_idx[j]] - shed[j]
        settle_stretch(sites, shed, rates, t0, t, cohort, primary, ode)
        scalars[int(cascade[6])] = t
    return t, dt, steps, rejected, status
