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

from continuum.kernels import registry
from continuum.kernels.flags import FASTMATH
from continuum.kernels.fv import (
    DIRICHLET,
    NOFLUX,
    boundary_face,
    cell,
    dirichlet_flux,
    face_flux,
    ghost_rule,
    harmonic,
    neighbour,
)
from continuum.kernels.internal import internal


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _outer_neighbours(u, f, i0, i1, axis, bc_kind, bc_val, n):
    """Neighbour rows of row ``(i0, i1)`` along outer ``axis`` with their affine rules."""
    i = i0 if axis == 0 else i1
    jl, al, bl, gl = ghost_rule(bc_kind[f, axis, 0], bc_val[f, axis, 0], i == 0, n, i, -1)
    jh, ah, bh, gh = ghost_rule(bc_kind[f, axis, 1], bc_val[f, axis, 1], i == n - 1, n, i, 1)
    row_lo = u[f, jl, i1] if axis == 0 else u[f, i0, jl]
    row_hi = u[f, jh, i1] if axis == 0 else u[f, i0, jh]
    return row_lo, row_hi, al, ah, bl + bh - 2.0, gl + gh


@internal(fastmath=FASTMATH, _nrt=False)
def update_row(
    kind, u_in, out, f, i0, i1, d, stage, bc_kind, bc_val, inv_h2, maps, params, scalars
):
    """Fused stage update of one row with constant-coefficient diffusion.

    ``out = beta u_in + beta dt (R_f + d laplacian(u_in))`` on row ``(i0, i1)`` of field
    ``f`` (``out`` is that row of the output), where ``R_f`` is the model's inlined
    ``reaction_point`` (``kind`` is the model's literal kernel name), ``d`` [mm^2/day] and
    ``stage`` the :class:`~continuum.kernels.problem.Stage` (``beta``, ``dt`` [day],
    ``t`` [day]); ``d = 0`` skips diffusion; ``bc_kind``, ``bc_val``, ``inv_h2``, ``maps``
    and ``params`` as in :class:`~continuum.kernels.problem.Problem`. The row terms and
    ``alpha u_base`` are added by :func:`finish_row`.

    Compiled as a function of its own, not inlined into the stage pass: Numba's IR
    inlining copies the model's reactions three times into the parallel loop, which then
    takes seconds longer to compile. Without Numba's reference counting (``_nrt=False``),
    so that a call per row costs no atomic operations on the arrays it is passed (it
    creates views only, never arrays, and neither may a model's ``reaction_point``).
    """
    n0, n1, n2 = u_in.shape[1], u_in.shape[2], u_in.shape[3]
    beta, t = stage.beta, stage.t
    row = u_in[f, i0, i1]
    lo0, hi0, a0l, a0h, b0, g0 = _outer_neighbours(u_in, f, i0, i1, 0, bc_kind, bc_val, n0)
    lo1, hi1, a1l, a1h, b1, g1 = _outer_neighbours(u_in, f, i0, i1, 1, bc_kind, bc_val, n1)
    c0, c1, c2 = d * inv_h2[0], d * inv_h2[1], d * inv_h2[2]
    w0l, w0h, w1l, w1h = c0 * a0l, c0 * a0h, c1 * a1l, c1 * a1h
    cx = c0 * b0 + c1 * b1 - 2.0 * c2
    cg = c0 * g0 + c1 * g1
    bdt = beta * stage.dt
    if n0 > 1:
        for k in range(1, n2 - 1):
            lap = (
                c2 * (row[k - 1] + row[k + 1])
                + cx * row[k]
                + w0l * lo0[k]
                + w0h * hi0[k]
                + w1l * lo1[k]
                + w1h * hi1[k]
                + cg
            )
            reaction = registry.reaction_point(kind, u_in, maps, i0, i1, k, f, scalars, params, t)
            out[k] = beta * row[k] + bdt * (reaction + lap)
    else:  # 1D and 2D: no neighbours along the padded axis 0
        for k in range(1, n2 - 1):
            lap = c2 * (row[k - 1] + row[k + 1]) + cx * row[k] + w1l * lo1[k] + w1h * hi1[k] + cg
            reaction = registry.reaction_point(kind, u_in, maps, i0, i1, k, f, scalars, params, t)
            out[k] = beta * row[k] + bdt * (reaction + lap)
    for k in (0, n2 - 1):
        jl, al, bl, gl = ghost_rule(bc_kind[f, 2, 0], bc_val[f, 2, 0], k == 0, n2, k, -1)
        jh, ah, bh, gh = ghost_rule(bc_kind[f, 2, 1], bc_val[f, 2, 1], k == n2 - 1, n2, k, 1)
        x = row[k]
        lap = (
            c2 * (al * row[jl] + ah * row[jh] + (bl + bh - 2.0) * x + gl + gh)
            + (c0 * b0 + c1 * b1) * x
            + w0l * lo0[k]
            + w0h * hi0[k]
            + w1l * lo1[k]
            + w1h * hi1[k]
            + cg
        )
        reaction = registry.reaction_point(kind, u_in, maps, i0, i1, k, f, scalars, params, t)
        out[k] = beta * x + bdt * (reaction + lap)


@internal(fastmath=FASTMATH, _nrt=False)
def reaction_update_row(
    kind, u_in, out, f, i0, i1, d, stage, bc_kind, bc_val, inv_h2, maps, params, scalars
):
    """:func:`update_row` without diffusion (``d``, ``bc_kind``, ``bc_val`` and ``inv_h2``
    unused): ``out = beta u_in + beta dt R_f`` on row ``(i0, i1)`` of field ``f``, for a
    stage pass in which no field diffuses explicitly (``stage.reaction_stage_pass``)."""
    beta, t = stage.beta, stage.t
    bdt = beta * stage.dt
    row = u_in[f, i0, i1]
    for k in range(u_in.shape[3]):
        reaction = registry.reaction_point(kind, u_in, maps, i0, i1, k, f, scalars, params, t)
        out[k] = beta * row[k] + bdt * reaction


@njit(cache=True, fastmath=FASTMATH, inline="always")
def finish_row(out, rate_row, use_rate, base, stage):
    """Complete the stage on a row after :func:`update_row`: ``out += beta dt rate_row``
    (when ``use_rate``) and ``out += alpha base`` (when ``alpha != 0``). Returns the number
    of values that are not finite (``x - x`` is NaN exactly for NaN and Inf)."""
    n2 = out.shape[0]
    bdt = stage.beta * stage.dt
    if use_rate:
        for k in range(n2):
            out[k] += bdt * rate_row[k]
    if stage.alpha != 0.0:
        for k in range(n2):
            out[k] += stage.alpha * base[k]
    nonfinite = 0
    for k in range(n2):
        nonfinite += (out[k] - out[k]) != 0.0
    return nonfinite


@njit(cache=True, fastmath=FASTMATH, inline="always")
def scaled_coefficient(d, map_value, field_value, mask_value, law_map, law_field, offset, slope):
    """``d`` times ``map_value`` (when ``law_map >= 0``), times ``max(0, offset + slope
    field_value)`` (when ``law_field >= 0``), times ``mask_value``: the rule of
    :func:`coefficient` on values already read (scalars only, so that a cell loop passes
    no array to an inlined function: each costs a reference-count increment and
    decrement per call)."""
    value = d
    if law_map >= 0:
        value *= map_value
    if law_field >= 0:
        value *= max(0.0, offset + slope * field_value)
    return value * mask_value


@njit(cache=True, fastmath=FASTMATH, inline="always")
def coefficient(u, law, f, d, maps, mask, has_mask, i0, i1, k):
    """Local diffusion coefficient of field ``f`` in cell ``(i0, i1, k)`` [mm^2/day].

    ``d`` times the relative map ``maps[law[f, 0]]`` (when ``law[f, 0] >= 0``), times
    ``max(0, law[f, 2] + law[f, 3] * u[law[f, 1]])`` (when ``law[f, 1] >= 0``: a
    coefficient that depends linearly on another field), times the mask.
    """
    m, g = int(law[f, 0]), int(law[f, 1])
    return scaled_coefficient(
        d,
        maps[m, i0, i1, k] if m >= 0 else 1.0,
        u[g, i0, i1, k] if g >= 0 else 0.0,
        mask[i0, i1, k] if has_mask else 1.0,
        m,
        g,
        law[f, 2],
        law[f, 3],
    )


@internal(fastmath=FASTMATH)
def add_diffusion_row_general(u, f, i0, i1, d, problem, rate_row):
    """Add variable-coefficient and/or masked diffusion of field ``f`` on row ``(i0, i1)``
    to ``rate_row`` [u/day]: the divergence of the face fluxes of ``fv``.

    ``d`` [mm^2/day] times the local factors of :func:`coefficient`; ``problem`` the
    :class:`~continuum.kernels.problem.Problem` (law, maps, mask, boundaries). Face
    conductances are harmonic means, so a face between a tissue cell and an outside cell
    carries no flux. The cell loop reads the arrays itself and hands only scalars to
    the inlined rules (see :func:`scaled_coefficient`).
    """
    law, maps, mask, inv_h2 = problem.diffusivity_law, problem.maps, problem.mask, problem.inv_h2
    bc_kind, bc_val = problem.bc_kind, problem.bc_val
    has_mask = mask.size > 0
    m, g, offset, slope = int(law[f, 0]), int(law[f, 1]), law[f, 2], law[f, 3]
    shape = (u.shape[1], u.shape[2], u.shape[3])
    for k in range(shape[2]):
        idx = (i0, i1, k)
        uc = u[f, i0, i1, k]
        dc = scaled_coefficient(
            d,
            maps[m, i0, i1, k] if m >= 0 else 1.0,
            u[g, i0, i1, k] if g >= 0 else 0.0,
            mask[i0, i1, k] if has_mask else 1.0,
            m,
            g,
            offset,
            slope,
        )
        if dc == 0.0:
            continue
        total = 0.0
        for axis in range(3):
            n = shape[axis]
            i = idx[axis]
            for side in range(2):
                face = boundary_face(bc_kind[f, axis, side], side, i, n)
                if face == NOFLUX:
                    continue
                if face == DIRICHLET:
                    total += dirichlet_flux(dc, bc_val[f, axis, side], uc, inv_h2[axis])
                    continue
                a, b, c = cell(axis, i0, i1, k, neighbour(i, side, n))
                dn = scaled_coefficient(
                    d,
                    maps[m, a, b, c] if m >= 0 else 1.0,
                    u[g, a, b, c] if g >= 0 else 0.0,
                    mask[a, b, c] if has_mask else 1.0,
                    m,
                    g,
                    offset,
                    slope,
                )
                total += face_flux(harmonic(dc, dn), u[f, a, b, c], uc, inv_h2[axis])
        rate_row[k] += total
