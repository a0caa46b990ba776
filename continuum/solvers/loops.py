"""Compiled time loops: each call advances the state from ``t`` to ``t_stop`` in Numba.

Python is entered only between output times, and the loops release the GIL, so a
background thread (the run-file writer) works while they run. Each loop returns
``(t, dt_next, steps, rejected, status)``; ``status`` is one of the ``STATUS_*`` codes.

Methods
-------
Forward Euler (``EULER``), first order, fixed step:
    :math:`u^{n+1} = u^n + \\Delta t\\, L(u^n)`.
SSP-RK3 (``SSPRK3``), third order, Shu & Osher (1988):
    :math:`u^{(1)} = u^n + \\Delta t L(u^n)`,
    :math:`u^{(2)} = \\tfrac34 u^n + \\tfrac14 (u^{(1)} + \\Delta t L(u^{(1)}))`,
    :math:`u^{n+1} = \\tfrac13 u^n + \\tfrac23 (u^{(2)} + \\Delta t L(u^{(2)}))`,
    with the embedded second-order (Heun) solution :math:`2u^{(2)} - u^n`, so the local
    error estimate is :math:`u^{n+1} - 2u^{(2)} + u^n`. Adaptive steps keep that below
    ``atol + rtol |u|`` and below the positivity limit of diffusion and taxis.
IMEX Euler with LOD diffusion (``advance_imex``), first order: explicit Euler for
    reactions and taxis, then backward-Euler line solves of each implicit field along each
    axis (see ``continuum.kernels.implicit``); the model's stiff fields (oxygen) take a
    full backward-Euler step instead, diffusion and stiff decay together, solved to
    tolerance (``solve_backward_euler``).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit

from continuum.kernels import registry
from continuum.kernels.implicit import implicit_diffusion_axis, solve_backward_euler
from continuum.kernels.stage import (
    STAT_ERROR,
    STAT_NONFINITE,
    STAT_TAXIS_RATE,
    column_max,
    stage_pass,
    sum_rows,
)

EULER, SSPRK3 = 0, 1
THIRD = 1.0 / 3.0
STATUS_OK, STATUS_NONFINITE, STATUS_UNSTABLE, STATUS_MAX_STEPS, STATUS_DT_UNDERFLOW = 0, 1, 2, 3, 4
STATUS_SOLVER = 5
MAX_SOLVER_ITERATIONS = 400


@njit(cache=True)
def _scalar_stage(
    kind,
    fingerprint,
    s_in,
    s_base,
    s_out,
    alpha,
    beta,
    dt,
    t,
    exports,
    cell_volume,
    params,
    totals,
    ds,
):
    """Scalar analogue of ``stage_pass``: ``s_out = alpha s_base + beta (s_in + dt f)``.

    Takes the kernel fingerprint too, so that its disk cache follows the model's kernels.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    sum_rows(exports, cell_volume, totals)
    registry.scalar_rate(kind, s_in, totals, params, t, ds)
    for i in range(s_out.shape[0]):
        s_out[i] = beta * (s_in[i] + dt * ds[i]) + alpha * s_base[i]


@njit(cache=True)
def _field_stage(
    kind, fingerprint, u_in, u_base, u_out, alpha, beta, dt, t, s, problem, rtol, atol, err, work
):
    """``stage_pass`` when the model has fields; nothing for a scalar-only (lumped) model,
    whose per-row statistics and exports then stay zero."""
    numba.literally(kind)
    numba.literally(fingerprint)
    if u_in.shape[0] > 0:
        stage_pass(
            kind,
            fingerprint,
            u_in,
            u_base,
            u_out,
            alpha,
            beta,
            dt,
            t,
            s,
            problem,
            rtol,
            atol,
            err,
            work,
        )


@njit(cache=True)
def _nonfinite(row_stats, scalars):
    if column_max(row_stats, STAT_NONFINITE) != 0.0:
        return True
    for x in scalars:
        if not np.isfinite(x):
            return True
    return False


@njit(cache=True)
def _remaining(t, t_stop):
    return t_stop - t > 1e-12 * max(1.0, abs(t_stop))


@njit(cache=True, nogil=True)
def advance_explicit(
    kind,
    fingerprint,
    method,
    adaptive,
    u,
    s,
    ua,
    ub,
    sa,
    sb,
    t,
    t_stop,
    dt,
    dt_min,
    max_steps,
    diffusion_rate,
    rtol,
    atol,
    problem,
    cell_volume,
    work,
    totals,
    ds,
):
    """Advance with forward Euler or SSP-RK3 from ``t`` to ``t_stop`` (see module doc).

    ``diffusion_rate`` = ``2 sum_a max(D) / h_a^2`` [1/day]: forward Euler and SSP-RK3
    preserve positivity for ``dt * (diffusion_rate + taxis_rate) <= 1``.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    params = problem[1]
    row_stats, exports = work[2], work[1]
    swapped = False
    steps = 0
    rejected = 0
    status = STATUS_OK
    while _remaining(t, t_stop):
        if steps + rejected >= max_steps:
            status = STATUS_MAX_STEPS
            break
        h = min(dt, t_stop - t)
        if t_stop - t - h <= 1e-12 * max(1.0, abs(t_stop)):
            h = t_stop - t
        _field_stage(
            kind, fingerprint, u, u, ua, 0.0, 1.0, h, t, s, problem, rtol, atol, False, work
        )
        _scalar_stage(
            kind, fingerprint, s, s, sa, 0.0, 1.0, h, t, exports, cell_volume, params, totals, ds
        )
        taxis_rate = column_max(row_stats, STAT_TAXIS_RATE)
        if _nonfinite(row_stats, sa):
            status = STATUS_NONFINITE
            u, ua = ua, u
            s, sa = sa, s
            swapped = not swapped
            break
        if h * (diffusion_rate + taxis_rate) > 1.0 + 1e-12:
            if not adaptive:
                status = STATUS_UNSTABLE
                break
            dt = 0.9 / (diffusion_rate + taxis_rate)
            rejected += 1
            if dt < dt_min:
                status = STATUS_DT_UNDERFLOW
                break
            continue
        if method == EULER:
            u, ua = ua, u
            s, sa = sa, s
            swapped = not swapped
            t += h
            steps += 1
            continue
        _field_stage(
            kind, fingerprint, ua, u, ub, 0.75, 0.25, h, t + h, sa, problem, rtol, atol, False, work
        )
        _scalar_stage(
            kind,
            fingerprint,
            sa,
            s,
            sb,
            0.75,
            0.25,
            h,
            t + h,
            exports,
            cell_volume,
            params,
            totals,
            ds,
        )
        taxis_rate = max(taxis_rate, column_max(row_stats, STAT_TAXIS_RATE))
        mid = t + 0.5 * h
        _field_stage(
            kind,
            fingerprint,
            ub,
            u,
            ua,
            THIRD,
            1 - THIRD,
            h,
            mid,
            sb,
            problem,
            rtol,
            atol,
            True,
            work,
        )
        _scalar_stage(
            kind,
            fingerprint,
            sb,
            s,
            sa,
            THIRD,
            1 - THIRD,
            h,
            mid,
            exports,
            cell_volume,
            params,
            totals,
            ds,
        )
        taxis_rate = max(taxis_rate, column_max(row_stats, STAT_TAXIS_RATE))
        if _nonfinite(row_stats, sa):
            status = STATUS_NONFINITE
            u, ua = ua, u
            s, sa = sa, s
            swapped = not swapped
            break
        err = column_max(row_stats, STAT_ERROR)
        for i in range(s.shape[0]):
            e = abs(sa[i] - 2.0 * sb[i] + s[i]) / (atol + rtol * max(abs(sa[i]), abs(s[i])))
            err = max(err, e)
        limit = 0.9 / (diffusion_rate + taxis_rate) if diffusion_rate + taxis_rate > 0 else np.inf
        if not adaptive:
            if h * (diffusion_rate + taxis_rate) > 1.0 + 1e-12:
                status = STATUS_UNSTABLE
                break
            u, ua = ua, u
            s, sa = sa, s
            swapped = not swapped
            t += h
            steps += 1
            continue
        factor = 5.0 if err == 0.0 else min(5.0, max(0.2, 0.9 * err ** (-1.0 / 3.0)))
        if err > 1.0 or h * (diffusion_rate + taxis_rate) > 1.0 + 1e-12:
            dt = min(h * factor, limit)
            rejected += 1
            if dt < dt_min:
                status = STATUS_DT_UNDERFLOW
                break
            continue
        u, ua = ua, u
        s, sa = sa, s
        swapped = not swapped
        t += h
        steps += 1
        proposal = min(h * factor, limit)
        dt = max(dt, proposal) if h < dt else proposal
        dt = min(dt, limit)
    if swapped:
        ua[...] = u
        sa[:] = s
    return t, dt, steps, rejected, status


@njit(cache=True, parallel=True)
def _first_order_error(new, old, rate_prev, rate_new, h, have_prev, rtol, atol, row_stats):
    """Local error estimate of a first-order step, and the new mean rate.

    With the mean rates ``r_n = (u^{n+1} - u^n) / h_n``, the local error of a first-order
    step is about ``h_n^2 |u''| / 2 ~ h_n |r_n - r_{n-1}| / 2`` (divided difference).
    ``r_n`` is written to ``rate_new``; returns the max of the error / tolerance.
    """
    n_fields, n0, n1, n2 = new.shape
    for r in numba.prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        value = 0.0
        for f in range(n_fields):
            for k in range(n2):
                a = new[f, i0, i1, k]
                b = old[f, i0, i1, k]
                rate = (a - b) / h
                if have_prev:
                    e = 0.5 * h * abs(rate - rate_prev[f, i0, i1, k])
                    value = max(value, e / (atol + rtol * max(abs(a), abs(b))))
                rate_new[f, i0, i1, k] = rate
        row_stats[r, STAT_ERROR] = value
    return column_max(row_stats, STAT_ERROR)


@njit(cache=True, nogil=True)
def advance_imex(
    kind,
    fingerprint,
    adaptive,
    u,
    s,
    ua,
    sa,
    t,
    t_stop,
    dt,
    dt_min,
    max_steps,
    diffusion_rate,
    rtol,
    atol,
    problem,
    implicit_diffusivity,
    stiff,
    cell_volume,
    work,
    totals,
    ds,
    line_scratch,
    stiff_work,
    stiff_stats,
    rates,
    history,
):
    """IMEX Euler: explicit reactions and taxis, LOD backward-Euler diffusion.

    ``problem`` is the solver's tuple with the *explicit* diffusivities (zero for the fields
    with ``implicit_diffusivity > 0``, which diffuse implicitly). With ``adaptive``, the step
    keeps the local error estimate of ``_first_order_error`` within ``atol + rtol |u|`` and
    the explicit terms within their positivity limit. ``rates[history[1]]`` (the
    previous mean rate of the fields; the other slot takes the new one) and ``history[0]``
    (1 once it is valid) carry the estimator's memory from call to call.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    maps, params, _, diffusivity_law, bc_kind, bc_val, inv_h, _, _, mask = problem
    row_stats, exports = work[2], work[1]
    swapped = False
    steps = 0
    rejected = 0
    status = STATUS_OK
    has_mask = mask.size > 0
    n_fields = u.shape[0]
    while _remaining(t, t_stop):
        if steps + rejected >= max_steps:
            status = STATUS_MAX_STEPS
            break
        h = min(dt, t_stop - t)
        if t_stop - t - h <= 1e-12 * max(1.0, abs(t_stop)):
            h = t_stop - t
        _field_stage(
            kind, fingerprint, u, u, ua, 0.0, 1.0, h, t, s, problem, rtol, atol, False, work
        )
        _scalar_stage(
            kind, fingerprint, s, s, sa, 0.0, 1.0, h, t, exports, cell_volume, params, totals, ds
        )
        registry.scalar_relax(kind, s, sa, totals, params, t, h)
        explicit_rate = diffusion_rate + column_max(row_stats, STAT_TAXIS_RATE)
        if h * explicit_rate > 1.0 + 1e-12:
            if not adaptive:
                status = STATUS_UNSTABLE
                break
            dt = 0.9 / explicit_rate
            rejected += 1
            if dt < dt_min:
                status = STATUS_DT_UNDERFLOW
                break
            continue
        failed = -1
        for f in range(n_fields):
            if stiff[f]:
                iterations = solve_backward_euler(
                    kind,
                    fingerprint,
                    u,
                    ua,
                    f,
                    h,
                    t,
                    implicit_diffusivity[f],
                    problem,
                    rtol,
                    atol,
                    MAX_SOLVER_ITERATIONS,
                    line_scratch,
                    stiff_work,
                    stiff_stats,
                )
                if iterations < 0:
                    failed = f
                    break
                continue
            d = implicit_diffusivity[f]
            if d == 0.0:
                continue
            for axis in range(3):
                lam = h * inv_h[axis] * inv_h[axis]
                implicit_diffusion_axis(
                    ua,
                    f,
                    axis,
                    d,
                    diffusivity_law,
                    maps,
                    mask,
                    has_mask,
                    bc_kind,
                    bc_val,
                    lam,
                    line_scratch,
                )
        if failed >= 0:
            status = STATUS_SOLVER
            break
        if _nonfinite(row_stats, sa):
            status = STATUS_NONFINITE
            u, ua = ua, u
            s, sa = sa, s
            swapped = not swapped
            break
        if adaptive:
            current = int(history[1])
            err = _first_order_error(
                ua,
                u,
                rates[current],
                rates[1 - current],
                h,
                history[0] != 0.0,
                rtol,
                atol,
                row_stats,
            )
            if history[0] == 0.0:
                factor = 1.0
            else:
                factor = 5.0 if err == 0.0 else min(5.0, max(0.2, 0.9 / np.sqrt(err)))
            if err > 1.0:
                dt = h * factor
                rejected += 1
                if dt < dt_min:
                    status = STATUS_DT_UNDERFLOW
                    break
                continue
            history[0] = 1.0
            history[1] = 1 - current
            proposal = h * factor
            dt = max(dt, proposal) if h < dt else proposal
            if explicit_rate > 0.0:
                dt = min(dt, 0.9 / explicit_rate)
        u, ua = ua, u
        s, sa = sa, s
        swapped = not swapped
        t += h
        steps += 1
    if swapped:
        ua[...] = u
        sa[:] = s
    return t, dt, steps, rejected, status
