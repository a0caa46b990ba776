"""Readable NumPy reference operators, used by tests to check the compiled kernels."""

from __future__ import annotations

import numpy as np

from continuum.boundary import DIRICHLET, PERIODIC


def laplacian(u, grid, kind, value):
    """Cell-centred 5/7-point Laplacian of ``u`` with the kernels' boundary rules.

    ``kind``/``value`` are one field's ``(3, 2)`` boundary arrays (padded axis order).
    """
    out = np.zeros_like(u)
    offset = 3 - grid.ndim
    for a in range(grid.ndim):
        h2 = grid.spacing[a] ** 2
        k_lo, k_hi = kind[offset + a]
        v_lo, v_hi = value[offset + a]
        if k_lo == PERIODIC:
            lo = np.roll(u, 1, axis=a)
            hi = np.roll(u, -1, axis=a)
        else:
            first = np.take(u, [0], axis=a)
            last = np.take(u, [-1], axis=a)
            ghost_lo = 2 * v_lo - first if k_lo == DIRICHLET else first
            ghost_hi = 2 * v_hi - last if k_hi == DIRICHLET else last
            lo = np.concatenate([ghost_lo, np.delete(u, -1, axis=a)], axis=a)
            hi = np.concatenate([np.delete(u, 0, axis=a), ghost_hi], axis=a)
        out += (lo - 2 * u + hi) / h2
    return out


def tissue(grid):
    """The mask as float 0/1 of the grid's shape (ones when the grid has no mask)."""
    if grid.mask is None:
        return np.ones(grid.shape)
    return grid.mask.astype(np.float64)


def _neighbours(u, axis, periodic):
    """``(lower, upper)`` neighbour values of every cell along ``axis``.

    Periodic axes wrap; otherwise the missing neighbour repeats the edge cell (its value
    is never used for a flux, only to build zero slopes and placeholders).
    """
    if periodic:
        return np.roll(u, 1, axis=axis), np.roll(u, -1, axis=axis)
    lo = np.concatenate([np.take(u, [0], axis=axis), np.delete(u, -1, axis=axis)], axis=axis)
    hi = np.concatenate([np.delete(u, 0, axis=axis), np.take(u, [-1], axis=axis)], axis=axis)
    return lo, hi


def _edge(shape, axis, side):
    """Boolean array marking the cells on the lower (``side = 0``) or upper face of ``axis``."""
    index = np.arange(shape[axis]) == (0 if side == 0 else shape[axis] - 1)
    view = [1] * len(shape)
    view[axis] = shape[axis]
    return np.broadcast_to(index.reshape(view), shape)


def harmonic_mean(a, b):
    """``2 a b / (a + b)``, and 0 where ``a + b = 0`` (a face to a cell that conducts nothing)."""
    total = a + b
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(2.0 * a * b, total, out=out, where=total > 0)
    return out


def diffusion(u, grid, kind, value, coefficient):
    r"""Finite-volume :math:`\nabla\cdot(D\nabla u)` with a cell-wise coefficient ``D``.

    ``coefficient`` is ``D`` in every cell [mm^2/day] (already multiplied by the mask and
    any relative map or law). The flux through the face between cells ``c`` and ``c'`` is
    ``D_f (u_c' - u_c) / h^2`` with the harmonic face mean
    ``D_f = 2 D_c D_c' / (D_c + D_c')`` (0 when both are 0), so a face to a masked cell
    (``D = 0``) carries nothing. Boundary faces (``kind``/``value``: one field's ``(3, 2)``
    arrays in padded axis order): no-flux carries nothing, Dirichlet ``g`` carries
    ``2 D_c (g - u_c) / h^2`` (the ghost value ``2 g - u_c``), periodic wraps around.
    """
    out = np.zeros_like(u, dtype=np.float64)
    d = np.broadcast_to(np.asarray(coefficient, dtype=np.float64), u.shape)
    offset = 3 - grid.ndim
    for a in range(grid.ndim):
        h2 = grid.spacing[a] ** 2
        periodic = kind[offset + a, 0] == PERIODIC
        u_lo, u_hi = _neighbours(u, a, periodic)
        d_lo, d_hi = _neighbours(d, a, periodic)
        for side, (u_nb, d_nb) in enumerate(((u_lo, d_lo), (u_hi, d_hi))):
            flux = harmonic_mean(d, d_nb) * (u_nb - u) / h2
            if not periodic:
                edge = _edge(u.shape, a, side)
                boundary = (
                    2.0 * d * (value[offset + a, side] - u) / h2
                    if kind[offset + a, side] == DIRICHLET
                    else np.zeros_like(u)
                )
                flux = np.where(edge, boundary, flux)
            out += flux
    return out


def minmod(a, b):
    """``a`` or ``b``, whichever is smaller in magnitude, where they share a sign; else 0."""
    return np.where(a * b <= 0.0, 0.0, np.where(np.abs(a) < np.abs(b), a, b))


def taxis(u, attractant, chi, grid, kind, mask=None):
    r"""Limited upwind taxis :math:`-\nabla\cdot(\chi\, u\, \nabla a)` (finite volume).

    Through the face between cells ``c`` and ``c + 1`` along an axis of width ``h``:

    .. math::

        F = v^+ \left(u_c + \tfrac12\sigma_c\right)
            + v^- \left(u_{c+1} - \tfrac12\sigma_{c+1}\right), \qquad v = \chi\,(a_{c+1} - a_c)/h,

    (MUSCL: the upwind cell's value extrapolated to the face) with the minmod slopes
    ``sigma_c = minmod(u_c - u_{c-1}, u_{c+1} - u_c)``. On a non-periodic axis the
    missing neighbour of an edge cell is the cell itself (zero slope there) and the
    boundary faces carry nothing; a periodic axis wraps. Faces to cells outside ``mask``
    carry nothing (masked cells keep the values ``u`` holds there, zero in a model's
    state, for the slopes). ``kind`` is the moving field's ``(3, 2)`` boundary kinds.
    The rate is ``-(F_{c+1/2} - F_{c-1/2})/h`` summed over the axes [units of u per day].
    """
    out = np.zeros_like(u, dtype=np.float64)
    inside = np.ones(u.shape) if mask is None else np.asarray(mask, dtype=np.float64)
    offset = 3 - grid.ndim
    for ax in range(grid.ndim):
        n = u.shape[ax]
        if n == 1:
            continue
        h = grid.spacing[ax]
        periodic = kind[offset + ax, 0] == PERIODIC
        u_lo, u_next = _neighbours(u, ax, periodic)
        slope = minmod(u - u_lo, u_next - u)
        _, slope_next = _neighbours(slope, ax, periodic)
        _, a_next = _neighbours(attractant, ax, periodic)
        _, inside_next = _neighbours(inside, ax, periodic)
        v = chi * (a_next - attractant) / h
        # flux through the upper face of every cell
        flux = np.where(v >= 0.0, v * (u + 0.5 * slope), v * (u_next - 0.5 * slope_next))
        flux = flux * (inside * inside_next != 0)
        if not periodic:
            flux = np.where(_edge(u.shape, ax, 1), 0.0, flux)
        flux_below = np.roll(flux, 1, axis=ax)
        if not periodic:
            flux_below = np.where(_edge(u.shape, ax, 0), 0.0, flux_below)
        out -= (flux - flux_below) / h
    return out


def taxis_rate_limit(attractant, chi, grid, kind, mask=None):
    """The positivity rate [1/day] of explicit taxis: ``1.5 max_c sum_a (|v_lo| + |v_hi|)
    / h_a`` over the cells, ``v = chi (a_{c+1} - a_c) / h`` on the open faces (as in
    :func:`taxis`: none on a non-periodic boundary or to a cell outside ``mask``).
    Forward Euler keeps the density non-negative for ``dt`` times it at most 1."""
    speed = np.zeros(attractant.shape)
    inside = np.ones(attractant.shape) if mask is None else np.asarray(mask, dtype=np.float64)
    offset = 3 - grid.ndim
    for ax in range(grid.ndim):
        if attractant.shape[ax] == 1:
            continue
        h = grid.spacing[ax]
        periodic = kind[offset + ax, 0] == PERIODIC
        _, a_next = _neighbours(attractant, ax, periodic)
        _, inside_next = _neighbours(inside, ax, periodic)
        v_hi = np.abs(chi * (a_next - attractant) / h) * (inside * inside_next != 0)
        if not periodic:
            v_hi = np.where(_edge(attractant.shape, ax, 1), 0.0, v_hi)
        v_lo = np.roll(v_hi, 1, axis=ax)
        if not periodic:
            v_lo = np.where(_edge(attractant.shape, ax, 0), 0.0, v_lo)
        speed += (v_lo + v_hi) / h
    return 1.5 * float(speed.max())


def krogh_shape(v):
    r"""Krogh-cylinder tissue resistance
    :math:`G(v) = (1 - v)/4 + \ln(1/v) / (2 (1 - v)) - 1/2` for ``0 < v < 1``; 0 for
    ``v >= 1`` and ``inf`` for ``v <= 0``."""
    v = np.asarray(v, dtype=np.float64)
    out = np.where(v <= 0.0, np.inf, 0.0)
    inner = (v > 0.0) & (v < 1.0)
    w = v[inner]
    out[inner] = (1.0 - w) / 4.0 + np.log(1.0 / w) / (2.0 * (1.0 - w)) - 0.5
    return out


def oxygen_supply(v, sigma, r_cap, d_o):
    r"""Oxygen supply coefficient [1/day] of blood-vessel fraction ``v``:
    :math:`S(v) = \sigma v / (1 + \sigma r_{cap}^2 G(v) / (2 D_o))`, written as
    ``2 D_o sigma v / (2 D_o + sigma r_cap^2 G(v))``; ``S = sigma v`` where the tissue
    resistance ``sigma r_cap^2 G`` is zero and ``S = 0`` where ``v = 0``."""
    v = np.asarray(v, dtype=np.float64)
    wall = sigma * v
    out = np.zeros_like(wall)
    fed = wall > 0.0
    tissue = np.zeros_like(wall)
    tissue[fed] = sigma * r_cap**2 * krogh_shape(v[fed])
    series = fed & (tissue > 0.0)
    out[series] = 2.0 * d_o * wall[series] / (2.0 * d_o + tissue[series])
    plain = fed & ~(tissue > 0.0)
    out[plain] = wall[plain]
    return out
