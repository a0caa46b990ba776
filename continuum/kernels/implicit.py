"""Implicit diffusion by line solves along each axis (locally one-dimensional splitting).

One backward-Euler sub-step along axis ``a`` solves, on every grid line parallel to ``a``,

.. math::

    u^{new}_c - \\frac{\\Delta t}{h_a^2}\\left[w_{c+1/2}(u^{new}_{c+1}-u^{new}_c)
    - w_{c-1/2}(u^{new}_c-u^{new}_{c-1})\\right] = u_c,

a tridiagonal M-matrix system (Thomas algorithm; Sherman-Morrison for periodic lines),
with the same face conductances and boundary rules as the explicit operator in
``diffusion.py``. Sweeping the axes in turn is the LOD scheme BioFVM uses
(Ghaffarizadeh et al. 2016, doi:10.1093/bioinformatics/btv730): unconditionally stable,
positivity preserving, conservative under no-flux conditions, first order in time.
Lines are solved in parallel.

Fields a model declares stiff (``Model.stiff_fields``: oxygen, whose diffusion time over a
cell is seconds) take a full backward-Euler step instead, solved to tolerance by
:func:`solve_backward_euler`: splitting errors of LOD grow with ``dt D / h^2`` and are of
order one for such fields at the cells' time step.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from continuum.kernels import multigrid, registry
from continuum.kernels.diffusion import coefficient
from continuum.kernels.flags import FASTMATH

NOFLUX, DIRICHLET, PERIODIC = 0, 1, 2
ROUNDOFF = 64.0 * np.finfo(np.float64).eps


@njit(cache=True, fastmath=FASTMATH)
def thomas(lower, diag, upper, rhs, n, cprime):
    """Solve a tridiagonal system in place (``rhs`` becomes the solution)."""
    cprime[0] = upper[0] / diag[0]
    rhs[0] = rhs[0] / diag[0]
    for j in range(1, n):
        denom = diag[j] - lower[j] * cprime[j - 1]
        cprime[j] = upper[j] / denom
        rhs[j] = (rhs[j] - lower[j] * rhs[j - 1]) / denom
    for j in range(n - 2, -1, -1):
        rhs[j] -= cprime[j] * rhs[j + 1]


@njit(cache=True, fastmath=FASTMATH)
def cyclic_thomas(lower, diag, upper, rhs, n, cprime, z):
    """Periodic tridiagonal solve (Sherman-Morrison), ``n >= 3``.

    ``lower[0]`` couples row 0 to row ``n-1`` and ``upper[n-1]`` row ``n-1`` to row 0.
    """
    beta = lower[0]
    alpha = upper[n - 1]
    gamma = -diag[0]
    d0, dn = diag[0], diag[n - 1]
    diag[0] = d0 - gamma
    diag[n - 1] = dn - alpha * beta / gamma
    thomas(lower, diag, upper, rhs, n, cprime)
    z[:n] = 0.0
    z[0] = gamma
    z[n - 1] = alpha
    thomas(lower, diag, upper, z, n, cprime)
    fact = (rhs[0] + beta * rhs[n - 1] / gamma) / (1.0 + z[0] + beta * z[n - 1] / gamma)
    for j in range(n):
        rhs[j] -= fact * z[j]
    diag[0], diag[n - 1] = d0, dn


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _cell(axis, line, n1, n2, j):
    if axis == 2:
        i0 = line // n1
        return i0, line - i0 * n1, j
    if axis == 1:
        i0 = line // n2
        return i0, j, line - i0 * n2
    i1 = line // n2
    return j, i1, line - i1 * n2


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _face(dl, dr):
    s = dl + dr
    return 2.0 * dl * dr / s if s > 0.0 else 0.0


@njit(cache=True, fastmath=FASTMATH)
def implicit_diffusion_axis(
    u, f, axis, d, law, maps, mask, has_mask, bc_kind, bc_val, lam, scratch
):
    """Backward-Euler diffusion of field ``f`` along ``axis``, in place.

    ``lam = dt / h_axis**2`` [day/mm^2]; the local coefficient is ``diffusion.coefficient``
    (``d`` [mm^2/day] times the law's map and field factors and the mask), taken from the
    state before the sweep (linearly implicit). ``scratch`` is ``(threads, 7, n_axis)``.
    """
    no_diagonal = np.empty((0, 0, 0))
    line_solve_axis(
        u[f],
        u,
        f,
        axis,
        d,
        law,
        maps,
        mask,
        has_mask,
        bc_kind,
        bc_val,
        True,
        lam,
        1.0,
        no_diagonal,
        1.0,
        scratch,
    )


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def line_solve_axis(
    x,
    u,
    f,
    axis,
    d,
    law,
    maps,
    mask,
    has_mask,
    bc_kind,
    bc_val,
    with_bc,
    lam,
    omega,
    diag_add,
    scale,
    scratch,
):
    """Solve ``(omega + diag_add - lam T_axis) y = scale x`` on every line; ``x = y``.

    ``x`` is ``(n0, n1, n2)``; ``T_axis`` is the conservative diffusion operator of field
    ``f`` along ``axis`` with coefficients from ``u`` (see ``diffusion.coefficient``) and
    the boundary values ``bc_val`` when ``with_bc`` (homogeneous boundary data otherwise,
    for increments); ``diag_add`` is a per-cell diagonal or an empty array.
    """
    n0, n1, n2 = u.shape[1], u.shape[2], u.shape[3]
    has_add = diag_add.size > 0
    n = (n0, n1, n2)[axis]
    if n == 1:
        return
    n_lines = (n0 * n1 * n2) // n
    kind_lo, kind_hi = bc_kind[f, axis, 0], bc_kind[f, axis, 1]
    periodic = kind_lo == PERIODIC
    for line in prange(n_lines):
        buf = scratch[numba.get_thread_id()]
        lower, diag, upper, rhs, coef, cprime, z = (
            buf[0],
            buf[1],
            buf[2],
            buf[3],
            buf[4],
            buf[5],
            buf[6],
        )
        for j in range(n):
            a, b, c = _cell(axis, line, n1, n2, j)
            coef[j] = coefficient(u, law, f, d, maps, mask, has_mask, a, b, c)
            rhs[j] = scale * x[a, b, c]
        for j in range(n):
            w_lo = _face(coef[j - 1], coef[j]) if j > 0 else 0.0
            w_hi = _face(coef[j], coef[j + 1]) if j < n - 1 else 0.0
            extra = 0.0
            if j == 0:
                if periodic:
                    w_lo = _face(coef[n - 1], coef[0])
                elif kind_lo == DIRICHLET:
                    extra = 2.0 * lam * coef[0]
                    if with_bc:
                        rhs[0] += extra * bc_val[f, axis, 0]
            if j == n - 1:
                if periodic:
                    w_hi = _face(coef[n - 1], coef[0])
                elif kind_hi == DIRICHLET:
                    extra += 2.0 * lam * coef[n - 1]
                    if with_bc:
                        rhs[n - 1] += 2.0 * lam * coef[n - 1] * bc_val[f, axis, 1]
            lower[j] = -lam * w_lo
            upper[j] = -lam * w_hi
            diag[j] = omega + lam * (w_lo + w_hi) + extra
            if has_add:
                a, b, c = _cell(axis, line, n1, n2, j)
                diag[j] += diag_add[a, b, c]
        if periodic and n == 2:
            # Both faces join the same two cells.
            a00, a01 = diag[0], lower[0] + upper[0]
            a10, a11 = lower[1] + upper[1], diag[1]
            det = a00 * a11 - a01 * a10
            r0, r1 = rhs[0], rhs[1]
            rhs[0] = (a11 * r0 - a01 * r1) / det
            rhs[1] = (a00 * r1 - a10 * r0) / det
        elif periodic:
            cyclic_thomas(lower, diag, upper, rhs, n, cprime, z)
        else:
            thomas(lower, diag, upper, rhs, n, cprime)
        for j in range(n):
            a, b, c = _cell(axis, line, n1, n2, j)
            x[a, b, c] = rhs[j]


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def stiff_rates(kind, fingerprint, u, f, maps, params, t, out):
    """``out`` = the model's ``stiff_rate`` R of field ``f`` in every cell [1/day]."""
    numba.literally(kind)
    numba.literally(fingerprint)
    n0, n1, n2 = u.shape[1], u.shape[2], u.shape[3]
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for k in range(n2):
            out[i0, i1, k] = registry.stiff_rate(kind, u, maps, i0, i1, k, f, params, t)


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def coefficients(u, f, d, law, maps, mask, has_mask, out):
    """``out`` = the local diffusion coefficient of field ``f`` [mm^2/day] in every cell."""
    n0, n1, n2 = u.shape[1], u.shape[2], u.shape[3]
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for k in range(n2):
            out[i0, i1, k] = coefficient(u, law, f, d, maps, mask, has_mask, i0, i1, k)


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def backward_euler_residual(
    x,
    u_old,
    predictor,
    f,
    coef,
    rate_old,
    rate,
    dt,
    bc_kind,
    bc_val,
    inv_h2,
    rtol,
    atol,
    residual,
    row_stats,
):
    """Residual of the backward-Euler step of field ``f``, with row maxima.

    ``residual = predictor + dt (R_old u_old - R x) - x + dt T x``, where ``predictor`` is
    the explicit Euler predictor (which holds ``-R_old u_old``), ``R`` the stiff rate at
    the end of the step and ``T`` the diffusion operator with coefficients ``coef`` and the
    boundary values. Zero exactly at the solution of ``x = u_old + dt (T x - R x + the
    other reactions)``.
    ``row_stats[r, 0]`` gets the row maximum of ``|residual|``, ``row_stats[r, 1]`` that
    of ``|residual| / (atol + rtol |x|)``, less the round-off the residual's terms carry.
    """
    n0, n1, n2 = x.shape
    shape = (n0, n1, n2)
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        r_max = 0.0
        ratio = 0.0
        for k in range(n2):
            idx = (i0, i1, k)
            xc = x[i0, i1, k]
            dc = coef[i0, i1, k]
            total = 0.0
            size = 0.0  # magnitude of the flux terms, for the round-off floor
            if dc != 0.0:
                for axis in range(3):
                    n = shape[axis]
                    if n == 1:
                        continue
                    i = idx[axis]
                    for side in range(2):
                        at_edge = (i == 0) if side == 0 else (i == n - 1)
                        kind = bc_kind[f, axis, side]
                        if at_edge and kind == NOFLUX:
                            continue
                        if at_edge and kind == DIRICHLET:
                            flux = 2.0 * dc * (bc_val[f, axis, side] - xc) * inv_h2[axis]
                            total += flux
                            size += abs(flux)
                            continue
                        j = (i + 2 * side - 1) % n
                        if axis == 0:
                            a, b, c = j, i1, k
                        elif axis == 1:
                            a, b, c = i0, j, k
                        else:
                            a, b, c = i0, i1, j
                        w = _face(dc, coef[a, b, c])
                        flux = w * (x[a, b, c] - xc) * inv_h2[axis]
                        total += flux
                        size += abs(flux) + w * (abs(x[a, b, c]) + abs(xc)) * inv_h2[axis]
            value = (
                predictor[i0, i1, k]
                - xc
                + dt * (rate_old[i0, i1, k] * u_old[f, i0, i1, k] - rate[i0, i1, k] * xc)
                + dt * total
            )
            residual[i0, i1, k] = value
            r_max = max(r_max, abs(value))
            decay = dt * (
                rate[i0, i1, k] * abs(xc) + rate_old[i0, i1, k] * abs(u_old[f, i0, i1, k])
            )
            floor = ROUNDOFF * (abs(predictor[i0, i1, k]) + abs(xc) + decay + dt * size)
            ratio = max(ratio, max(abs(value) - floor, 0.0) / (atol + rtol * abs(xc)))
        row_stats[r, 0] = r_max
        row_stats[r, 1] = ratio


@njit(cache=True, fastmath=FASTMATH)
def solve_backward_euler(
    kind,
    fingerprint,
    u_old,
    predictor,
    f,
    dt,
    t,
    d,
    problem,
    rtol,
    atol,
    max_iterations,
    scratch,
    work,
    row_stats,
):
    """Backward-Euler step of field ``f`` (diffusion and stiff decay implicit), in place.

    Solves ``M x = b``, ``M = I + dt R - dt T`` (``R`` the model's ``stiff_rate`` taken
    from ``predictor``, where the fields before ``f`` already hold their new values: a
    quasi-static field then follows its drivers without a step of lag; ``T`` the diffusion
    operator with coefficients from ``u_old``; the other reactions stay in the explicit
    ``predictor[f]``, which receives ``x``), from ``x = u_old[f]``. ``M`` is
    an M-matrix whose rows exceed their off-diagonal sums by at least 1, so
    ``max|x - x*| <= max|residual|``. The iteration stops when the residual is at the
    round-off of its terms, or when the last correction was below ``0.1 (atol + rtol |x|)``
    in every cell (a tenth of the step-size control's tolerance; the error left is a
    multigrid contraction factor, about 0.1, times that).
    Corrections come from one tridiagonal solve per line in 1D (exact) and from multigrid
    V-cycles in 2D and 3D (``continuum.kernels.multigrid``).
    ``work`` is :func:`backward_euler_work`'s tuple. Returns the number of corrections, or
    -1 if ``max_iterations`` did not suffice.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    maps, params, _, law, bc_kind, bc_val, _, inv_h2, _, mask = problem
    has_mask = mask.size > 0
    (
        x,
        rate_old,
        rate,
        coef_levels,
        diag_levels,
        e_levels,
        r_levels,
        temp_levels,
        operator,
        offsets,
        shapes,
        inv_w_levels,
    ) = work
    n0, n1, n2 = u_old.shape[1], u_old.shape[2], u_old.shape[3]
    lines = 0
    line_axis = 0
    for axis in range(3):
        if (n0, n1, n2)[axis] > 1:
            lines += 1
            line_axis = axis
    coef = multigrid.level(coef_levels, offsets, shapes, 0)
    diagonal = multigrid.level(diag_levels, offsets, shapes, 0)
    rhs = multigrid.level(r_levels, offsets, shapes, 0)
    correction = multigrid.level(e_levels, offsets, shapes, 0)
    stiff_rates(kind, fingerprint, u_old, f, maps, params, t, rate_old)
    stiff_rates(kind, fingerprint, predictor, f, maps, params, t + dt, rate)
    coefficients(u_old, f, d, law, maps, mask, has_mask, coef)
    for i0 in range(n0):
        for i1 in range(n1):
            for k in range(n2):
                diagonal[i0, i1, k] = 1.0 + dt * rate[i0, i1, k]
                x[i0, i1, k] = u_old[f, i0, i1, k]
    if lines != 1:
        multigrid.prepare_levels(
            coef_levels, diag_levels, operator, offsets, shapes, inv_w_levels, bc_kind[f], dt
        )
    out = predictor[f]
    last_correction = np.inf
    for iteration in range(max_iterations + 1):
        backward_euler_residual(
            x,
            u_old,
            out,
            f,
            coef,
            rate_old,
            rate,
            dt,
            bc_kind,
            bc_val,
            inv_h2,
            rtol,
            atol,
            rhs,
            row_stats,
        )
        r_max = 0.0
        ratio = 0.0
        for r in range(row_stats.shape[0]):
            r_max = max(r_max, row_stats[r, 0])
            ratio = max(ratio, row_stats[r, 1])
        if ratio == 0.0 or last_correction <= 0.1:
            out[...] = x
            return iteration
        if iteration == max_iterations or r_max != r_max:
            break
        if lines == 1:
            line_solve_axis(
                rhs,
                u_old,
                f,
                line_axis,
                d,
                law,
                maps,
                mask,
                has_mask,
                bc_kind,
                bc_val,
                False,
                dt * inv_h2[line_axis],
                0.0,
                diagonal,
                1.0,
                scratch,
            )
            last_correction = _add(x, rhs, rtol, atol, row_stats)
        else:
            multigrid.v_cycle(
                e_levels, r_levels, temp_levels, operator, offsets, shapes, inv_w_levels
            )
            last_correction = _add(x, correction, rtol, atol, row_stats)
    return -1


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _add(x, delta, rtol, atol, row_stats):
    """``x += delta``; returns ``max |delta| / (atol + rtol |x|)``."""
    n0, n1, n2 = x.shape
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        ratio = 0.0
        for k in range(n2):
            x[i0, i1, k] += delta[i0, i1, k]
            ratio = max(ratio, abs(delta[i0, i1, k]) / (atol + rtol * abs(x[i0, i1, k])))
        row_stats[r, 1] = ratio
    largest = 0.0
    for r in range(n0 * n1):
        largest = max(largest, row_stats[r, 1])
    return largest


def line_scratch(shape3) -> np.ndarray:
    """Thread-local work space for :func:`implicit_diffusion_axis`."""
    return np.zeros((numba.config.NUMBA_NUM_THREADS, 7, max(shape3)))


def backward_euler_work(shape3, spacing3, needed: bool) -> tuple:
    """Work arrays of :func:`solve_backward_euler` (small dummies when no field needs them).

    ``(x, rate_old, rate, coef, diagonal, correction, rhs, temp, operator, offsets,
    shapes, inv_w)``: three grid arrays, five flat multigrid level buffers, the operator's
    four (face weights per axis, diagonal totals) and the level layout (inverse cell widths
    per level and axis).
    """
    if not needed:
        shape3 = (1, 1, 1)
    shapes, offsets, inv_w = multigrid.hierarchy(shape3, spacing3)
    size = int(offsets[-1])
    buffers = tuple(np.zeros(size) for _ in range(5))
    operator = tuple(np.zeros(size) for _ in range(4))
    grids = tuple(np.zeros(shape3) for _ in range(3))
    return (*grids, *buffers, operator, offsets, shapes, inv_w)
