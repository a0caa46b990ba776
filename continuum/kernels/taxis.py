"""Taxis (haptotaxis, chemotaxis) fluxes with upwinding and a minmod limiter.

For a density ``u`` moving up the gradient of an attractant ``a`` with sensitivity ``chi``,

.. math::

    \\partial_t u = -\\nabla\\cdot(\\chi\\, u\\, \\nabla a),

the flux through the face between cells ``c`` and ``c+1`` along an axis is

.. math::

    F_{c+1/2} = v^+ u^L_{c+1/2} + v^- u^R_{c+1/2},\\qquad
    v = \\chi\\,\\frac{a_{c+1} - a_c}{h},

with MUSCL states ``u^L = u_c + \\sigma_c/2`` and ``u^R = u_{c+1} - \\sigma_{c+1}/2``
and minmod slopes ``\\sigma``. The reconstructed face values lie in ``[u_c/2, 3u_c/2]``,
so a forward-Euler step keeps ``u >= 0`` when
``dt * (1.5 * sum_a (|v_{c-1/2}| + |v_{c+1/2}|) / h_a) <= 1``; this module reports that
rate so the solver can respect it (Chertock & Kurganov 2008, doi:10.1007/s00211-008-0188-0).
Faces on a non-periodic boundary and faces to cells outside the mask carry no taxis flux,
so the total of ``u`` is conserved exactly.
"""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.fv import PERIODIC, cell


@njit(cache=True, fastmath=FASTMATH, inline="always")
def minmod(a, b):
    """The minmod limiter: the smaller of two slopes of one sign, 0 for opposite signs."""
    if a * b <= 0.0:
        return 0.0
    return a if abs(a) < abs(b) else b


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _at(x, f, axis, i0, i1, k, j):
    a, b, c = cell(axis, i0, i1, k, j)
    return x[f, a, b, c]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _index(i, n, periodic):
    if periodic:
        return i % n
    return min(max(i, 0), n - 1)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _open(mask, axis, i0, i1, k, j):
    a, b, c = cell(axis, i0, i1, k, j)
    return mask[a, b, c]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _face_flux(u, f, a, chi, axis, where, left, periodic, inv_h, mask):
    """Upwind-limited flux through the face between ``left`` and ``left + 1`` along
    ``axis`` on the line through cell ``where = (i0, i1, k)``, and its speed ``|v|``
    [mm/day]: ``(flux [u mm/day], |v|)``. ``mask`` is empty for no mask."""
    i0, i1, k = where
    n = u.shape[1 + axis]
    right = left + 1
    if not periodic and (left < 0 or right > n - 1):
        return 0.0, 0.0
    if mask.size > 0:
        jl, jr = _index(left, n, periodic), _index(right, n, periodic)
        if _open(mask, axis, i0, i1, k, jl) * _open(mask, axis, i0, i1, k, jr) == 0:
            return 0.0, 0.0
    um = _at(u, f, axis, i0, i1, k, _index(left - 1, n, periodic))
    ul = _at(u, f, axis, i0, i1, k, _index(left, n, periodic))
    ur = _at(u, f, axis, i0, i1, k, _index(right, n, periodic))
    up = _at(u, f, axis, i0, i1, k, _index(right + 1, n, periodic))
    al = _at(u, a, axis, i0, i1, k, _index(left, n, periodic))
    ar = _at(u, a, axis, i0, i1, k, _index(right, n, periodic))
    v = chi * (ar - al) * inv_h
    if v >= 0.0:
        return v * (ul + 0.5 * minmod(ul - um, ur - ul)), abs(v)
    return v * (ur - 0.5 * minmod(ur - ul, up - ur)), abs(v)


@njit(cache=True, fastmath=FASTMATH)
def add_taxis_row(u, j, i0, i1, problem, rate_row):
    """Add ``-div(chi u_f grad u_a)`` [u/day] of taxis term ``j`` (row ``problem.taxis[j]``
    = ``(f, a, chi)``, chi [mm^2/day]) on row ``(i0, i1)`` of field ``f`` to ``rate_row``;
    return the max positivity rate [1/day].

    The returned rate ``1.5 * sum_a (|v_lo| + |v_hi|) / h_a`` bounds the explicit step:
    forward Euler keeps ``u_f >= 0`` for ``dt * rate <= 1``.
    """
    f = int(problem.taxis[j, 0])
    a = int(problem.taxis[j, 1])
    chi = problem.taxis[j, 2]
    bc_kind, inv_h, mask = problem.bc_kind, problem.inv_h, problem.mask
    shape = (u.shape[1], u.shape[2], u.shape[3])
    max_rate = 0.0
    for k in range(shape[2]):
        idx = (i0, i1, k)
        divergence = 0.0
        speed = 0.0
        for axis in range(3):
            n = shape[axis]
            if n == 1:
                continue
            periodic = bc_kind[f, axis, 0] == PERIODIC
            i = idx[axis]
            f_hi, v_hi = _face_flux(u, f, a, chi, axis, idx, i, periodic, inv_h[axis], mask)
            f_lo, v_lo = _face_flux(u, f, a, chi, axis, idx, i - 1, periodic, inv_h[axis], mask)
            divergence += (f_hi - f_lo) * inv_h[axis]
            speed += (v_hi + v_lo) * inv_h[axis]
        rate_row[k] -= divergence
        max_rate = max(max_rate, 1.5 * speed)
    return max_rate
