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

from continuum.kernels.circulation import advance_circulation
from continuum.kernels.colonies import book_shedding, sites_step
from continuum.solvers.loops import SSPRK3, STATUS_OK, _remaining, advance_explicit


@njit(cache=True)
def _shedding(scalars, mu, alpha, lymph_fraction, out, offset):
    """The lumped tumour's shedding into blood and lymph [cells/day], into ``out``."""
    size = scalars[0]
    shedding = mu * size**alpha if size > 0.0 else 0.0
    out[offset] = shedding - lymph_fraction * shedding
    out[offset + 2] = lymph_fraction * shedding


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

    ``s`` is the view of ``scalars`` the tumour's kernel integrates. ``cascade`` holds
    positions and constants: ``(shed_blood, shed_lymph, extravasated, node_arrested,
    first_pass, unsited, sites_time, cohort width [day], mu, alpha, lymph_fraction,
    first-pass fraction)``; ``shares`` (n_sites, 3) the sites'
    shares of the three sources; ``circulation`` = (k_clear, k_ext, k_LN, k_LB, therapy
    rate on circulating cells). Returns
    ``(t, dt, steps, rejected, status)`` like the other loops.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    shed_idx = np.array([int(cascade[0]), int(cascade[1])])
    sources = np.array([int(cascade[2]), int(cascade[3]), int(cascade[4])])
    unsited, clock = int(cascade[5]), int(cascade[6])
    width = cascade[7]
    mu, alpha, lymph_fraction, first_pass = cascade[8], cascade[9], cascade[10], cascade[11]
    n_sites = offsets.shape[0]
    before = np.empty(3)
    shed = np.empty(2)
    rates = np.empty(4)
    arrivals = np.empty(n_sites)
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
        for j in range(3):
            before[j] = scalars[sources[j]]
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
        # the colonies' shedding joins the venous blood, and meets the first bed too
        from_sites = book_shedding(scalars, offsets, t - t0)
        shed[0] += from_sites * (t - t0)
        rates[0] += from_sites
        rates[1] += from_sites
        advance_circulation(scalars, 1, shed, rates, t - t0, circulation, first_pass)
        for k in range(n_sites):
            arrivals[k] = 0.0
        for j in range(3):
            delta = scalars[sources[j]] - before[j]
            received = 0.0
            for k in range(n_sites):
                arrivals[k] += shares[k, j] * delta
                received += shares[k, j]
            scalars[unsited] += (1.0 - received) * delta
        sites_step(scalars, offsets, site_params, n_cohorts, cohort, t0, t, arrivals)
        scalars[clock] = t
    return t, dt, steps, rejected, status
