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

import numpy as np
from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.fv import PERIODIC
from continuum.kernels.internal import internal


@njit(cache=True, fastmath=FASTMATH, inline="always")
def minmod(a, b):
    """The minmod limiter: the smaller of two slopes of one sign, 0 for opposite signs.

    Compares signs instead of testing ``a b <= 0``: the product of two slopes of the far
    field (densities of 1e-160 ahead of a front) underflows to 0, which dropped the
    slope. A NaN slope gives NaN."""
    if a > 0.0 and b > 0.0:
        return min(a, b)
    if a < 0.0 and b < 0.0:
        return max(a, b)
    return 0.0 if a == a and b == b else a + b


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _index(i, n, periodic):
    if periodic:
        return i % n
    return min(max(i, 0), n - 1)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def upwind_flux(v, um, ul, ur, up):
    """Flux ``v u_face`` through the face between cells ``l`` and ``r`` of a line
    ``m, l, r, p``: the MUSCL value of the upwind side, ``u_l + minmod(u_l - u_m,
    u_r - u_l)/2`` for ``v >= 0``, ``u_r - minmod(u_r - u_l, u_p - u_r)/2`` otherwise."""
    if v >= 0.0:
        return v * (ul + 0.5 * minmod(ul - um, ur - ul))
    return v * (ur - 0.5 * minmod(ur - ul, up - ur))


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _minmod_selects(a, b):
    """``minmod`` written with selects only (``max(0, min(a, b)) + min(0, max(a, b))``),
    so that a loop of it vectorises; equal to ``minmod`` for finite slopes."""
    lo = a if a < b else b
    hi = b if a < b else a
    return (lo if lo > 0.0 else 0.0) + (hi if hi < 0.0 else 0.0)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _upwind_flux_selects(v, um, ul, ur, up):
    """``upwind_flux`` with both sides computed and weighted by ``max(v, 0)`` and
    ``min(v, 0)`` instead of a branch, so that a loop of it vectorises; equal to
    ``upwind_flux`` for finite densities."""
    v_up = v if v > 0.0 else 0.0
    v_down = v if v < 0.0 else 0.0
    left = ul + 0.5 * _minmod_selects(ul - um, ur - ul)
    right = ur - 0.5 * _minmod_selects(ur - ul, up - ur)
    return v_up * left + v_down * right


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _divergence_selects(chi, inv_h, w_lo, w_hi, a_lo, a_c, a_hi, m2, m1, c, p1, p2):
    """A cell's flux divergence ``(w_hi F_hi - w_lo F_lo) / h`` along a line, from the
    attractant at ``c-1, c, c+1`` and the density at ``c-2 .. c+2`` (``_upwind_flux_selects``
    faces; ``w`` 1 for an open face, 0 for a closed one)."""
    f_lo = _upwind_flux_selects(chi * (a_c - a_lo) * inv_h, m2, m1, c, p1)
    f_hi = _upwind_flux_selects(chi * (a_hi - a_c) * inv_h, m1, c, p1, p2)
    return (w_hi * f_hi - w_lo * f_lo) * inv_h


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _around(i, n, periodic):
    """Positions ``i-2, i-1, i, i+1, i+2`` along an axis of ``n`` cells (clamped to the
    grid, or wrapped on a periodic axis)."""
    return (
        _index(i - 2, n, periodic),
        _index(i - 1, n, periodic),
        i,
        _index(i + 1, n, periodic),
        _index(i + 2, n, periodic),
    )


@internal(fastmath=FASTMATH)
def _outer_axis_interior(rate_row, k0, k1, lo, hi, chi, inv_h, u, f, a, xs, ys):
    """Subtract from ``rate_row[k0:k1]`` the taxis flux divergence of field ``f`` up
    attractant ``a`` along one outer axis, cells without a mask: the line's five rows
    ``i-2 .. i+2`` are ``u[:, xs[m], ys[m]]``; ``lo`` and ``hi`` whether the faces below
    and above the row are open.

    A loop of selects that the compiler vectorises. It indexes ``u`` itself with unsigned
    positions: no row views (each costs atomic reference counting) and no wraparound
    test for negative indices in the loop."""
    w_lo, w_hi = (1.0 if lo else 0.0), (1.0 if hi else 0.0)
    f_, a_ = np.uint64(f), np.uint64(a)
    x0, x1, x2 = np.uint64(xs[0]), np.uint64(xs[1]), np.uint64(xs[2])
    x3, x4 = np.uint64(xs[3]), np.uint64(xs[4])
    y0, y1, y2 = np.uint64(ys[0]), np.uint64(ys[1]), np.uint64(ys[2])
    y3, y4 = np.uint64(ys[3]), np.uint64(ys[4])
    for k in range(np.uint64(k0), np.uint64(k1)):
        a_lo, a_c, a_hi = u[a_, x1, y1, k], u[a_, x2, y2, k], u[a_, x3, y3, k]
        m2, m1, c = u[f_, x0, y0, k], u[f_, x1, y1, k], u[f_, x2, y2, k]
        p1, p2 = u[f_, x3, y3, k], u[f_, x4, y4, k]
        rate_row[k] -= _divergence_selects(
            chi, inv_h, w_lo, w_hi, a_lo, a_c, a_hi, m2, m1, c, p1, p2
        )


@internal(fastmath=FASTMATH)
def _contiguous_axis_interior(rate_row, k0, k1, chi, inv_h, u, f, a, i0, i1):
    """Subtract from ``rate_row[k0:k1]`` the taxis flux divergence along the contiguous
    axis of row ``(i0, i1)``, ``2 <= k0``, ``k1 <= n - 2``, cells without a mask. Each
    face is computed for the cells on both sides, so the loop carries nothing from one
    cell to the next and vectorises (indexing as in ``_outer_axis_interior``)."""
    f_, a_, r0, r1 = np.uint64(f), np.uint64(a), np.uint64(i0), np.uint64(i1)
    one, two = np.uint64(1), np.uint64(2)
    for k in range(np.uint64(k0), np.uint64(k1)):
        a_lo, a_c, a_hi = u[a_, r0, r1, k - one], u[a_, r0, r1, k], u[a_, r0, r1, k + one]
        m2, m1, c = u[f_, r0, r1, k - two], u[f_, r0, r1, k - one], u[f_, r0, r1, k]
        p1, p2 = u[f_, r0, r1, k + one], u[f_, r0, r1, k + two]
        rate_row[k] -= _divergence_selects(chi, inv_h, 1.0, 1.0, a_lo, a_c, a_hi, m2, m1, c, p1, p2)


@internal(fastmath=FASTMATH)
def _interior_speed(k0, k1, chi, inv_h, weights, u, a, i0, i1, below, above):
    """``1.5 max_k sum_a (|v_lo| + |v_hi|) / h_a`` over cells ``k0 .. k1-1`` of row
    ``(i0, i1)`` without a mask (``2 <= k0``, ``k1 <= n - 2``), for attractant ``a``:
    ``below``, ``above`` the positions of the neighbour rows along the two outer axes,
    ``weights`` 1 or 0 for their open and closed faces (lo, hi of axis 0, then of axis
    1), ``inv_h`` the three ``1/h_a``."""
    w0l, w0h, w1l, w1h = weights
    h0, h1, h2 = inv_h[0], inv_h[1], inv_h[2]
    a_, r0, r1, one = np.uint64(a), np.uint64(i0), np.uint64(i1), np.uint64(1)
    b0, b1 = np.uint64(below[0]), np.uint64(below[1])
    t0, t1 = np.uint64(above[0]), np.uint64(above[1])
    fastest = 0.0
    for k in range(np.uint64(k0), np.uint64(k1)):
        c = u[a_, r0, r1, k]
        up0, down0 = u[a_, t0, r1, k] - c, c - u[a_, b0, r1, k]
        up1, down1 = u[a_, r0, t1, k] - c, c - u[a_, r0, b1, k]
        up2, down2 = u[a_, r0, r1, k + one] - c, c - u[a_, r0, r1, k - one]
        speed = (w0h * abs(chi * up0 * h0) + w0l * abs(chi * down0 * h0)) * h0
        speed += (w1h * abs(chi * up1 * h1) + w1l * abs(chi * down1 * h1)) * h1
        speed += (abs(chi * up2 * h2) + abs(chi * down2 * h2)) * h2
        fastest = fastest if fastest >= speed else speed
    return 1.5 * fastest


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _face(is_open, chi, inv_h, al, ar, um, ul, ur, up):
    """Flux [u mm/day] and speed ``|v|`` [mm/day] of the face between cells ``l`` and
    ``r`` (attractant ``al``, ``ar``; density ``um, ul, ur, up`` along the line), with
    ``v = chi (a_r - a_l) / h``; a closed face carries none.

    Takes scalars only: an array passed to an inlined function in a cell loop costs a
    reference-count increment and decrement per cell (atomic operations, several times
    the arithmetic)."""
    if not is_open:
        return 0.0, 0.0
    v = chi * (ar - al) * inv_h
    return upwind_flux(v, um, ul, ur, up), abs(v)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _outer_terms(lo, hi, chi, inv_h, a_m, a_c, a_p, u_m2, u_m1, u_c, u_p1, u_p2):
    """Along an outer axis, cell ``c``'s share of the flux divergence ``(F_hi - F_lo) / h``
    and of the speed sum ``(|v_lo| + |v_hi|) / h`` from its faces below (``lo`` open)
    and above (``hi`` open), given the attractant at ``c-1, c, c+1`` and the density at
    ``c-2 .. c+2``."""
    f_lo, v_lo = _face(lo, chi, inv_h, a_m, a_c, u_m2, u_m1, u_c, u_p1)
    f_hi, v_hi = _face(hi, chi, inv_h, a_c, a_p, u_m1, u_c, u_p1, u_p2)
    return (f_hi - f_lo) * inv_h, (v_hi + v_lo) * inv_h


@internal(fastmath=FASTMATH)
def add_taxis_row(u, j, i0, i1, problem, rate_row):
    """Add ``-div(chi u_f grad u_a)`` [u/day] of taxis term ``j`` (row ``problem.taxis[j]``
    = ``(f, a, chi)``, chi [mm^2/day]) on row ``(i0, i1)`` of field ``f`` to ``rate_row``;
    return the max positivity rate [1/day].

    The returned rate ``1.5 * sum_a (|v_lo| + |v_hi|) / h_a`` bounds the explicit step:
    forward Euler keeps ``u_f >= 0`` for ``dt * rate <= 1``. Without a mask, the cells at
    least two from the row's ends go through branch-free loops that vectorise, one per
    axis (``_outer_axis_interior``, ``_contiguous_axis_interior``, ``_interior_speed``);
    the others, and every cell of a masked grid, through the cell loop below, which
    computes each face of the contiguous axis once (the flux above cell ``k`` is the one
    below ``k + 1``). Neither takes views of rows: ``u`` and the mask are indexed at the
    neighbour positions.
    """
    f = int(problem.taxis[j, 0])
    a = int(problem.taxis[j, 1])
    chi = problem.taxis[j, 2]
    bc_kind, mask = problem.bc_kind, problem.mask
    h0, h1, h2 = problem.inv_h[0], problem.inv_h[1], problem.inv_h[2]
    n0, n1, n2 = u.shape[1], u.shape[2], u.shape[3]
    has_mask = mask.size > 0
    periodic0 = bc_kind[f, 0, 0] == PERIODIC
    periodic1 = bc_kind[f, 1, 0] == PERIODIC
    periodic2 = bc_kind[f, 2, 0] == PERIODIC
    # whether the faces below and above the row are open along the outer axes
    below0, above0 = n0 > 1 and (periodic0 or i0 > 0), n0 > 1 and (periodic0 or i0 < n0 - 1)
    below1, above1 = n1 > 1 and (periodic1 or i1 > 0), n1 > 1 and (periodic1 or i1 < n1 - 1)
    x0, x1, _, x3, x4 = _around(i0, n0, periodic0)  # neighbour positions along axis 0
    y0, y1, _, y3, y4 = _around(i1, n1, periodic1)  # and along axis 1
    max_rate = 0.0
    interior = not has_mask and n2 >= 5  # cells 2 .. n2-3 vectorised
    if interior:
        if n0 > 1:
            xs, ys = (x0, x1, i0, x3, x4), (i1, i1, i1, i1, i1)
            _outer_axis_interior(rate_row, 2, n2 - 2, below0, above0, chi, h0, u, f, a, xs, ys)
        if n1 > 1:
            xs, ys = (i0, i0, i0, i0, i0), (y0, y1, i1, y3, y4)
            _outer_axis_interior(rate_row, 2, n2 - 2, below1, above1, chi, h1, u, f, a, xs, ys)
        _contiguous_axis_interior(rate_row, 2, n2 - 2, chi, h2, u, f, a, i0, i1)
        weights = (
            1.0 if below0 else 0.0,
            1.0 if above0 else 0.0,
            1.0 if below1 else 0.0,
            1.0 if above1 else 0.0,
        )
        max_rate = _interior_speed(
            2, n2 - 2, chi, problem.inv_h, weights, u, a, i0, i1, (x1, y1), (x3, y3)
        )
    flux_below, speed_below = 0.0, 0.0
    if periodic2:  # the face between the last and the first cell
        flux_below, speed_below = _face(
            n2 > 1 and (not has_mask or mask[i0, i1, n2 - 1] * mask[i0, i1, 0] != 0),
            chi,
            h2,
            u[a, i0, i1, n2 - 1],
            u[a, i0, i1, 0],
            u[f, i0, i1, (n2 - 2) % n2],
            u[f, i0, i1, n2 - 1],
            u[f, i0, i1, 0],
            u[f, i0, i1, 1 % n2],
        )
    k = 0
    while k < n2:
        if interior and k == 2:  # skip the vectorised cells; the face below n2-2 anew
            k = n2 - 2
            flux_below, speed_below = _face(
                True,
                chi,
                h2,
                u[a, i0, i1, k - 1],
                u[a, i0, i1, k],
                u[f, i0, i1, k - 2],
                u[f, i0, i1, k - 1],
                u[f, i0, i1, k],
                u[f, i0, i1, k + 1],
            )
        inside = not has_mask or mask[i0, i1, k] != 0
        divergence = 0.0
        speed = 0.0
        if n0 > 1:
            lo = below0 and (not has_mask or (mask[x1, i1, k] != 0 and inside))
            hi = above0 and (not has_mask or (mask[x3, i1, k] != 0 and inside))
            d, v = _outer_terms(
                lo,
                hi,
                chi,
                h0,
                u[a, x1, i1, k],
                u[a, i0, i1, k],
                u[a, x3, i1, k],
                u[f, x0, i1, k],
                u[f, x1, i1, k],
                u[f, i0, i1, k],
                u[f, x3, i1, k],
                u[f, x4, i1, k],
            )
            divergence += d
            speed += v
        if n1 > 1:
            lo = below1 and (not has_mask or (mask[i0, y1, k] != 0 and inside))
            hi = above1 and (not has_mask or (mask[i0, y3, k] != 0 and inside))
            d, v = _outer_terms(
                lo,
                hi,
                chi,
                h1,
                u[a, i0, y1, k],
                u[a, i0, i1, k],
                u[a, i0, y3, k],
                u[f, i0, y0, k],
                u[f, i0, y1, k],
                u[f, i0, i1, k],
                u[f, i0, y3, k],
                u[f, i0, y4, k],
            )
            divergence += d
            speed += v
        if n2 > 1:
            right = _index(k + 1, n2, periodic2)
            last = not periodic2 and k == n2 - 1
            hi = not last and (not has_mask or (mask[i0, i1, right] != 0 and inside))
            flux_above, speed_above = _face(
                hi,
                chi,
                h2,
                u[a, i0, i1, k],
                u[a, i0, i1, right],
                u[f, i0, i1, _index(k - 1, n2, periodic2)],
                u[f, i0, i1, k],
                u[f, i0, i1, right],
                u[f, i0, i1, _index(k + 2, n2, periodic2)],
            )
            divergence += (flux_above - flux_below) * h2
            speed += (speed_above + speed_below) * h2
            flux_below, speed_below = flux_above, speed_above
        rate_row[k] -= divergence
        max_rate = max(max_rate, 1.5 * speed)
        k += 1
    return max_rate
