r"""Implicit diffusion by line solves along each axis, in the Douglas increment form.

One implicit sub-step along axis ``a`` solves, on every grid line parallel to ``a``,

.. math::

    \delta^{new}_c - \frac{\Delta t}{h_a^2}\left[w_{c+1/2}(\delta^{new}_{c+1}-\delta^{new}_c)
    - w_{c-1/2}(\delta^{new}_c-\delta^{new}_{c-1})\right] = \delta_c,

a tridiagonal M-matrix system (Thomas algorithm; Sherman-Morrison for periodic lines) for
the *increment* ``delta`` of a step, with the face conductances of the explicit operator in
``diffusion.py`` and homogeneous boundary rules (the boundary data are already in the
explicit predictor). Sweeping the axes in turn on the increment of an explicit predictor,
``delta = prod_a (I - dt A_a)^{-1} dt F(u^n)``, is the Douglas (stabilizing-correction)
scheme with theta = 1 (Douglas & Gunn, Numer Math 1964, doi:10.1007/BF01386067; Hundsdorfer
& Verwer 2003, section IV.3): unconditionally stable, conservative under no-flux
conditions, first order in time, and, unlike plain operator splitting, its steady states
are exactly those of the discrete operator, however large the step. Lines are solved in
parallel.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from continuum.kernels import registry
from continuum.kernels.diffusion import coefficient
from continuum.kernels.flags import FASTMATH

NOFLUX, DIRICHLET, PERIODIC = 0, 1, 2


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


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def implicit_diffusion_axis(
    delta, u_old, f, axis, d, law, maps, mask, has_mask, bc_kind, lam, scratch
):
    """Solve ``(I - lam T_axis) x = delta[f]`` along ``axis`` and store ``x`` in ``delta[f]``.

    ``T_axis`` is the diffusion operator of field ``f`` along ``axis`` with homogeneous
    boundary rules; ``lam = dt / h_axis**2`` [day/mm^2]. The local coefficient is
    ``diffusion.coefficient`` (``d`` [mm^2/day] times the law's map and field factors and
    the mask) evaluated on ``u_old``, the state at the start of the step (linearly
    implicit). ``scratch`` is ``(threads, 7, n_axis)``.
    """
    n0, n1, n2 = delta.shape[1], delta.shape[2], delta.shape[3]
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
            coef[j] = coefficient(u_old, law, f, d, maps, mask, has_mask, a, b, c)
            rhs[j] = delta[f, a, b, c]
        for j in range(n):
            w_lo = _face(coef[j - 1], coef[j]) if j > 0 else 0.0
            w_hi = _face(coef[j], coef[j + 1]) if j < n - 1 else 0.0
            extra = 0.0
            if j == 0:
                if periodic:
                    w_lo = _face(coef[n - 1], coef[0])
                elif kind_lo == DIRICHLET:
                    extra = 2.0 * lam * coef[0]
            if j == n - 1:
                if periodic:
                    w_hi = _face(coef[n - 1], coef[0])
                elif kind_hi == DIRICHLET:
                    extra += 2.0 * lam * coef[n - 1]
            lower[j] = -lam * w_lo
            upper[j] = -lam * w_hi
            diag[j] = 1.0 + lam * (w_lo + w_hi) + extra
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
            delta[f, a, b, c] = rhs[j]


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def begin_increment(kind, fingerprint, u_old, u_new, f, dt, maps, params, t):
    """Turn ``u_new[f]`` into the step's increment, with its stiff part implicit.

    ``u_new[f] = (u_new[f] - u_old[f]) / (1 + dt R)``, ``R`` the model's ``stiff_rate`` at
    ``u_old``: for ``du/dt = s - R u`` alone this is backward Euler, and as a factor of the
    Douglas scheme it keeps the steady states exact.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    n0, n1, n2 = u_old.shape[1], u_old.shape[2], u_old.shape[3]
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for k in range(n2):
            stiff = registry.stiff_rate(kind, u_old, maps, i0, i1, k, f, params, t)
            u_new[f, i0, i1, k] = (u_new[f, i0, i1, k] - u_old[f, i0, i1, k]) / (1.0 + dt * stiff)


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def end_increment(u_old, u_new, f):
    """``u_new[f] += u_old[f]``: from the increment back to the new state."""
    n0, n1, n2 = u_old.shape[1], u_old.shape[2], u_old.shape[3]
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for k in range(n2):
            u_new[f, i0, i1, k] += u_old[f, i0, i1, k]


def line_scratch(shape3) -> np.ndarray:
    """Thread-local work space for :func:`implicit_diffusion_axis`."""
    return np.zeros((numba.config.NUMBA_NUM_THREADS, 7, max(shape3)))
