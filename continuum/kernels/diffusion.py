"""Conservative finite-volume diffusion on one grid row (explicit right-hand side).

Arrays are 4D, ``u[field, i0, i1, k]``: every grid is seen as 3D with leading axes of
length 1. A row is ``u[f, i0, i1, :]``, contiguous in ``k``.

The rate added to cell ``c`` is the divergence of the face fluxes,

.. math::

    \\frac{1}{h_a^2}\\sum_{a}\\left[w_{c+1/2}(u_{c+1}-u_c) - w_{c-1/2}(u_c-u_{c-1})\\right],

with face conductance ``w = D`` (constant coefficient) or the harmonic mean of the two
cells' coefficients (variable coefficient), multiplied by both cells' mask values. At a
boundary face: no-flux gives ``w = 0``; Dirichlet ``g`` uses the ghost value
``2 g - u_c`` (flux ``2 D (g - u_c) / h^2``); periodic wraps around. The scheme is second
order in space and conserves the total exactly under no-flux conditions (fluxes cancel in
pairs).
"""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH

NOFLUX, DIRICHLET, PERIODIC = 0, 1, 2


@njit(cache=True, fastmath=FASTMATH, inline="always")
def ghost_rule(kind, value, at_edge, n, i, step):
    """Affine rule for a neighbour value: ``u_nb = a * u[index] + b * u_c + g``.

    Returns ``(index, a, b, g)`` for the neighbour of cell ``i`` at ``i + step`` along an
    axis of length ``n``.
    """
    if not at_edge:
        return i + step, 1.0, 0.0, 0.0
    if kind == PERIODIC:
        return (i + step) % n, 1.0, 0.0, 0.0
    if kind == DIRICHLET:
        return i, 0.0, -1.0, 2.0 * value
    return i, 0.0, 1.0, 0.0


@njit(cache=True, fastmath=FASTMATH)
def add_diffusion_row(u, f, i0, i1, d, bc_kind, bc_val, inv_h2, rate_row):
    """Add ``d * laplacian(u[f])`` on row ``(i0, i1)`` to ``rate_row`` (constant ``d``)."""
    n0, n1, n2 = u.shape[1], u.shape[2], u.shape[3]
    row = u[f, i0, i1]
    c2 = d * inv_h2[2]
    for k in range(1, n2 - 1):
        rate_row[k] += c2 * (row[k - 1] - 2.0 * row[k] + row[k + 1])
    for k in (0, n2 - 1):
        jl, al, bl, gl = ghost_rule(bc_kind[f, 2, 0], bc_val[f, 2, 0], k == 0, n2, k, -1)
        jh, ah, bh, gh = ghost_rule(bc_kind[f, 2, 1], bc_val[f, 2, 1], k == n2 - 1, n2, k, 1)
        lo = al * row[jl] + bl * row[k] + gl
        hi = ah * row[jh] + bh * row[k] + gh
        rate_row[k] += c2 * (lo - 2.0 * row[k] + hi)
        if n2 == 1:
            break
    for axis in (0, 1):
        n = n0 if axis == 0 else n1
        if n == 1 and DIRICHLET not in (bc_kind[f, axis, 0], bc_kind[f, axis, 1]):
            continue
        i = i0 if axis == 0 else i1
        c = d * inv_h2[axis]
        jl, al, bl, gl = ghost_rule(bc_kind[f, axis, 0], bc_val[f, axis, 0], i == 0, n, i, -1)
        jh, ah, bh, gh = ghost_rule(bc_kind[f, axis, 1], bc_val[f, axis, 1], i == n - 1, n, i, 1)
        row_lo = u[f, jl, i1] if axis == 0 else u[f, i0, jl]
        row_hi = u[f, jh, i1] if axis == 0 else u[f, i0, jh]
        for k in range(n2):
            uc = row[k]
            lo = al * row_lo[k] + bl * uc + gl
            hi = ah * row_hi[k] + bh * uc + gh
            rate_row[k] += c * (lo - 2.0 * uc + hi)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _harmonic(a, b):
    s = a + b
    return 2.0 * a * b / s if s > 0.0 else 0.0


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _coefficient(d, dmap, mask, has_map, has_mask, i0, i1, k):
    value = d * dmap[i0, i1, k] if has_map else d
    if has_mask:
        value *= mask[i0, i1, k]
    return value


@njit(cache=True, fastmath=FASTMATH)
def add_diffusion_row_general(
    u, f, i0, i1, d, dmap, has_map, mask, has_mask, bc_kind, bc_val, inv_h2, rate_row
):
    """Variable-coefficient and/or masked diffusion on one row.

    The local coefficient is ``d * dmap`` (``dmap`` a static map of relative
    diffusivity) times the mask; face conductances are harmonic means, so a face between
    a tissue cell and an outside cell carries no flux.
    """
    shape = (u.shape[1], u.shape[2], u.shape[3])
    for k in range(shape[2]):
        idx = (i0, i1, k)
        uc = u[f, i0, i1, k]
        dc = _coefficient(d, dmap, mask, has_map, has_mask, i0, i1, k)
        if dc == 0.0:
            continue
        total = 0.0
        for axis in range(3):
            n = shape[axis]
            i = idx[axis]
            for side in range(2):
                step = 2 * side - 1
                at_edge = (i == 0) if side == 0 else (i == n - 1)
                kind = bc_kind[f, axis, side]
                if at_edge and kind == NOFLUX:
                    continue
                if at_edge and kind == DIRICHLET:
                    total += 2.0 * dc * (bc_val[f, axis, side] - uc) * inv_h2[axis]
                    continue
                j = (i + step) % n
                if axis == 0:
                    a, b, c = j, i1, k
                elif axis == 1:
                    a, b, c = i0, j, k
                else:
                    a, b, c = i0, i1, j
                dn = _coefficient(d, dmap, mask, has_map, has_mask, a, b, c)
                total += _harmonic(dc, dn) * (u[f, a, b, c] - uc) * inv_h2[axis]
        rate_row[k] += total
