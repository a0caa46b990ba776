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
from continuum.kernels.fv import PERIODIC


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


@njit(cache=True, fastmath=FASTMATH)
def _outer_axis_interior(rate_row, k0, k1, lo, hi, chi, inv_h, a_m, a_c, a_p, rows):
    """Subtract from ``rate_row[k0:k1]`` the taxis flux divergence along one outer axis,
    cells without a mask: ``rows`` are the density rows at ``i-2 .. i+2`` of that axis,
    ``a_m, a_c, a_p`` the attractant rows at ``i-1 .. i+1``, ``lo`` and ``hi`` whether the
    faces below and above the row are open. A loop of selects over aligned slices, which
    the compiler vectorises."""
    u_m2, u_m1, u_c, u_p1, u_p2 = rows
    w_lo, w_hi = (1.0 if lo else 0.0), (1.0 if hi else 0.0)
    out, am, ac, ap = rate_row[k0:k1], a_m[k0:k1], a_c[k0:k1], a_p[k0:k1]
    m2, m1, c, p1, p2 = u_m2[k0:k1], u_m1[k0:k1], u_c[k0:k1], u_p1[k0:k1], u_p2[k0:k1]
    for k in range(k1 - k0):
        f_lo = _upwind_flux_selects(chi * (ac[k] - am[k]) * inv_h, m2[k], m1[k], c[k], p1[k])
        f_hi = _upwind_flux_selects(chi * (ap[k] - ac[k]) * inv_h, m1[k], c[k], p1[k], p2[k])
        out[k] -= (w_hi * f_hi - w_lo * f_lo) * inv_h


@njit(cache=True, fastmath=FASTMATH)
def _contiguous_axis_interior(rate_row, k0, k1, chi, inv_h, a_row, u_row):
    """Subtract from ``rate_row[k0:k1]`` the taxis flux divergence along the contiguous
    axis, ``2 <= k0``, ``k1 <= n - 2``, cells without a mask (each face computed for the
    cells on both sides: the loop then carries nothing from one cell to the next and
    vectorises)."""
    out = rate_row[k0:k1]
    am, ac, ap = a_row[k0 - 1 : k1 - 1], a_row[k0:k1], a_row[k0 + 1 : k1 + 1]
    m2, m1, c = u_row[k0 - 2 : k1 - 2], u_row[k0 - 1 : k1 - 1], u_row[k0:k1]
    p1, p2 = u_row[k0 + 1 : k1 + 1], u_row[k0 + 2 : k1 + 2]
    for k in range(k1 - k0):
        f_lo = _upwind_flux_selects(chi * (ac[k] - am[k]) * inv_h, m2[k], m1[k], c[k], p1[k])
        f_hi = _upwind_flux_selects(chi * (ap[k] - ac[k]) * inv_h, m1[k], c[k], p1[k], p2[k])
        out[k] -= (f_hi - f_lo) * inv_h


@njit(cache=True, fastmath=FASTMATH)
def _interior_speed(k0, k1, chi, inv_h, weights, axis0, axis1, a_row):
    """``1.5 max_k sum_a (|v_lo| + |v_hi|) / h_a`` over cells ``k0 .. k1-1`` without a
    mask (``2 <= k0``, ``k1 <= n - 2``): ``axis0``, ``axis1`` the attractant rows at
    ``i-1 .. i+1`` of the outer axes, ``weights`` 1 or 0 for their open and closed faces
    (lo, hi of axis 0, then of axis 1), ``inv_h`` the three ``1/h_a``."""
    w0l, w0h, w1l, w1h = weights
    h0, h1, h2 = inv_h[0], inv_h[1], inv_h[2]
    pa, a0, qa = axis0[0][k0:k1], axis0[1][k0:k1], axis0[2][k0:k1]
    ra, b0, sa = axis1[0][k0:k1], axis1[1][k0:k1], axis1[2][k0:k1]
    am, ac, ap = a_row[k0 - 1 : k1 - 1], a_row[k0:k1], a_row[k0 + 1 : k1 + 1]
    fastest = 0.0
    for k in range(k1 - k0):
        speed = (w0h * abs(chi * (qa[k] - a0[k]) * h0) + w0l * abs(chi * (a0[k] - pa[k]) * h0)) * h0
        speed += (
            w1h * abs(chi * (sa[k] - b0[k]) * h1) + w1l * abs(chi * (b0[k] - ra[k]) * h1)
        ) * h1
        speed += (abs(chi * (ap[k] - ac[k]) * h2) + abs(chi * (ac[k] - am[k]) * h2)) * h2
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


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _row(x, f, axis, i0, i1, j):
    """Row (along the contiguous axis) of field ``f`` at position ``j`` of outer ``axis``
    on the line through row ``(i0, i1)``."""
    return x[f, j, i1] if axis == 0 else x[f, i0, j]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _outer_rows(u, f, a, axis, i0, i1, n, periodic):
    """The rows an outer ``axis`` contributes to row ``i`` (``i0`` or ``i1``): field ``f``
    at ``i-2 .. i+2`` and attractant ``a`` at ``i-1 .. i+1`` (clamped to the grid, or
    wrapped on a periodic axis)."""
    i = i0 if axis == 0 else i1
    return (
        _row(u, f, axis, i0, i1, _index(i - 2, n, periodic)),
        _row(u, f, axis, i0, i1, _index(i - 1, n, periodic)),
        _row(u, f, axis, i0, i1, i),
        _row(u, f, axis, i0, i1, _index(i + 1, n, periodic)),
        _row(u, f, axis, i0, i1, _index(i + 2, n, periodic)),
        _row(u, a, axis, i0, i1, _index(i - 1, n, periodic)),
        _row(u, a, axis, i0, i1, i),
        _row(u, a, axis, i0, i1, _index(i + 1, n, periodic)),
    )


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _mask_rows(mask, axis, i0, i1, n, periodic):
    """Rows of ``mask`` at ``i-1, i, i+1`` of outer ``axis`` (``mask`` non-empty)."""
    i = i0 if axis == 0 else i1
    below, above = _index(i - 1, n, periodic), _index(i + 1, n, periodic)
    if axis == 0:
        return mask[below, i1], mask[i, i1], mask[above, i1]
    return mask[i0, below], mask[i0, i], mask[i0, above]


@njit(cache=True, fastmath=FASTMATH)
def add_taxis_row(u, j, i0, i1, problem, rate_row):
    """Add ``-div(chi u_f grad u_a)`` [u/day] of taxis term ``j`` (row ``problem.taxis[j]``
    = ``(f, a, chi)``, chi [mm^2/day]) on row ``(i0, i1)`` of field ``f`` to ``rate_row``;
    return the max positivity rate [1/day].

    The returned rate ``1.5 * sum_a (|v_lo| + |v_hi|) / h_a`` bounds the explicit step:
    forward Euler keeps ``u_f >= 0`` for ``dt * rate <= 1``. The neighbour rows of the
    outer axes are looked up once per row. Without a mask, the cells at least two from
    the row's ends go through branch-free loops that vectorise, one per axis
    (``_outer_axis_interior``, ``_contiguous_axis_interior``, ``_interior_speed``); the
    others, and every cell of a masked grid, through the cell loop below, which computes
    each face of the contiguous axis once (the flux above cell ``k`` is the one below
    ``k + 1``).
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
    below0, above0 = periodic0 or i0 > 0, periodic0 or i0 < n0 - 1
    below1, above1 = periodic1 or i1 > 0, periodic1 or i1 < n1 - 1
    # rows i-2 .. i+2 of the field and i-1 .. i+1 of the attractant along axes 0 and 1
    p2, p1, p0, q1, q2, pa, a0, qa = _outer_rows(u, f, a, 0, i0, i1, n0, periodic0)
    r2, r1, r0, s1, s2, ra, b0, sa = _outer_rows(u, f, a, 1, i0, i1, n1, periodic1)
    u_row, a_row = p0, a0
    mask_row = mask[i0, i1] if has_mask else u_row
    pm, p0m, qm = _mask_rows(mask, 0, i0, i1, n0, periodic0) if has_mask else (pa, a0, qa)
    rm, r0m, sm = _mask_rows(mask, 1, i0, i1, n1, periodic1) if has_mask else (ra, b0, sa)
    flux_below, speed_below = 0.0, 0.0
    if periodic2:  # the face between the last and the first cell
        flux_below, speed_below = _face(
            n2 > 1 and (not has_mask or mask_row[n2 - 1] * mask_row[0] != 0),
            chi,
            h2,
            a_row[n2 - 1],
            a_row[0],
            u_row[(n2 - 2) % n2],
            u_row[n2 - 1],
            u_row[0],
            u_row[1 % n2],
        )
    max_rate = 0.0
    interior = not has_mask and n2 >= 5  # cells 2 .. n2-3 vectorised
    if interior:
        if n0 > 1:
            rows0 = (p2, p1, p0, q1, q2)
            _outer_axis_interior(rate_row, 2, n2 - 2, below0, above0, chi, h0, pa, a0, qa, rows0)
        if n1 > 1:
            rows1 = (r2, r1, r0, s1, s2)
            _outer_axis_interior(rate_row, 2, n2 - 2, below1, above1, chi, h1, ra, b0, sa, rows1)
        _contiguous_axis_interior(rate_row, 2, n2 - 2, chi, h2, a_row, u_row)
        weights = (
            1.0 if below0 and n0 > 1 else 0.0,
            1.0 if above0 and n0 > 1 else 0.0,
            1.0 if below1 and n1 > 1 else 0.0,
            1.0 if above1 and n1 > 1 else 0.0,
        )
        max_rate = _interior_speed(
            2, n2 - 2, chi, problem.inv_h, weights, (pa, a0, qa), (ra, b0, sa), a_row
        )
    k = 0
    while k < n2:
        if interior and k == 2:  # skip the vectorised cells; the face below n2-2 anew
            k = n2 - 2
            flux_below, speed_below = _face(
                True,
                chi,
                h2,
                a_row[k - 1],
                a_row[k],
                u_row[k - 2],
                u_row[k - 1],
                u_row[k],
                u_row[k + 1],
            )
        divergence = 0.0
        speed = 0.0
        if n0 > 1:
            lo = below0 and (not has_mask or pm[k] * p0m[k] != 0)
            hi = above0 and (not has_mask or p0m[k] * qm[k] != 0)
            d, v = _outer_terms(
                lo, hi, chi, h0, pa[k], a0[k], qa[k], p2[k], p1[k], p0[k], q1[k], q2[k]
            )
            divergence += d
            speed += v
        if n1 > 1:
            lo = below1 and (not has_mask or rm[k] * r0m[k] != 0)
            hi = above1 and (not has_mask or r0m[k] * sm[k] != 0)
            d, v = _outer_terms(
                lo, hi, chi, h1, ra[k], b0[k], sa[k], r2[k], r1[k], r0[k], s1[k], s2[k]
            )
            divergence += d
            speed += v
        if n2 > 1:
            right = _index(k + 1, n2, periodic2)
            hi = (periodic2 or k < n2 - 1) and (not has_mask or mask_row[k] * mask_row[right] != 0)
            flux_above, speed_above = _face(
                hi,
                chi,
                h2,
                a_row[k],
                a_row[right],
                u_row[_index(k - 1, n2, periodic2)],
                u_row[k],
                u_row[right],
                u_row[_index(k + 2, n2, periodic2)],
            )
            divergence += (flux_above - flux_below) * h2
            speed += (speed_above + speed_below) * h2
            flux_below, speed_below = flux_above, speed_above
        rate_row[k] -= divergence
        max_rate = max(max_rate, 1.5 * speed)
        k += 1
    return max_rate
