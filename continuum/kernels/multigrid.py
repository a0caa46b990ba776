r"""Geometric multigrid for the backward-Euler systems of stiff fields.

Solves ``M e = r`` with

.. math::

    M = \operatorname{diag}(1 + \Delta t R) - \Delta t\, T,

``T`` the conservative diffusion operator (harmonic face means of the cell coefficients,
homogeneous no-flux, Dirichlet or periodic boundaries) and ``R >= 0`` a stiff decay
rate: the correction equation of a backward-Euler step for oxygen-like fields whose
diffusion time over a grid cell is far below the time step.

Cell-centred V-cycles: red-black Gauss-Seidel smoothing (face weights and diagonals
precomputed per level, so a sweep is a plain seven-point update), restriction by the
volume-weighted mean of the (up to 2^d) children of a coarse cell, piecewise-constant
prolongation, coarse operators by rediscretisation (averaged coefficients and diagonals)
on the coarse cells' true widths. Each axis of more than two cells is coarsened by two; an
odd length keeps a last single-child cell, half as wide as the others, so a coarse grid is
non-uniform and every level carries its cells' widths per axis: a face couples two cells
with ``dt harmonic(D) / (distance between their centres)``, a cell's row divides by its
width, a Dirichlet face sits half a width away. (Rediscretising such a grid as uniform
weakens the single-child cells' rows up to fourfold and makes the V-cycle diverge at
oxygen's ``dt D / h^2`` ~ 1e4 on grids like 65 x 65 or 17^3.) Any grid size works
(Trottenberg, Oosterlee & Schuller, *Multigrid*, 2001, ch. 2 and 5.7; Wesseling 1992 for
cell-centred transfer operators).

Levels live in flat buffers: level ``l`` is ``buffer[offsets[l]:offsets[l+1]]`` shaped
``shapes[l]``.
"""

from __future__ import annotations

import types

import numpy as np
from numba import njit, prange

from continuum.kernels.flags import FASTMATH
from continuum.kernels.fv import DIRICHLET, PERIODIC, boundary_face
from continuum.kernels.internal import internal

PRE_SWEEPS, POST_SWEEPS, COARSEST_SWEEPS = 2, 2, 40


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _face_weight(a, b, inv_a, inv_b, dt):
    """``dt harmonic(a, b) / distance`` between cells of coefficients ``a``, ``b`` and
    inverse widths ``inv_a``, ``inv_b`` (the distance is the mean of the widths), with one
    division: ``4 dt a b inv_a inv_b / ((a + b) (inv_a + inv_b))``; 0 if ``a + b = 0``."""
    s = a + b
    if s <= 0.0:
        return 0.0
    return 4.0 * dt * a * b * inv_a * inv_b / (s * (inv_a + inv_b))


def _faces(coef, bc_kind, inv_w, dt, w0, w1, w2):
    """Face weights ``dt harmonic(coef_c, coef_c+1) / distance`` to the upper neighbour.

    ``w_a[c]`` couples cell ``c`` with the next cell along axis ``a`` (the distance
    between their centres is the mean of their widths ``1 / inv_w[a]``); the last cell's
    entry is the wrap-around face on a periodic axis and zero otherwise. Cell ``c``'s row
    takes it divided by its own width.
    """
    n0, n1, n2 = coef.shape
    wrap0, wrap1 = bc_kind[0, 1] == PERIODIC, bc_kind[1, 1] == PERIODIC
    wrap2 = bc_kind[2, 1] == PERIODIC
    for row in prange(n0 * n1):
        i0 = row // n1
        i1 = row - i0 * n1
        j0 = i0 + 1 if i0 < n0 - 1 else 0
        j1 = i1 + 1 if i1 < n1 - 1 else 0
        open0 = n0 > 1 and (i0 < n0 - 1 or wrap0)
        open1 = n1 > 1 and (i1 < n1 - 1 or wrap1)
        for k in range(n2):
            dc = coef[i0, i1, k]
            w0[i0, i1, k] = 0.0
            if open0:
                w0[i0, i1, k] = _face_weight(dc, coef[j0, i1, k], inv_w[0, i0], inv_w[0, j0], dt)
            w1[i0, i1, k] = 0.0
            if open1:
                w1[i0, i1, k] = _face_weight(dc, coef[i0, j1, k], inv_w[1, i1], inv_w[1, j1], dt)
            j2 = k + 1 if k < n2 - 1 else 0
            w2[i0, i1, k] = 0.0
            if n2 > 1 and (k < n2 - 1 or wrap2):
                w2[i0, i1, k] = _face_weight(dc, coef[i0, i1, j2], inv_w[2, k], inv_w[2, j2], dt)


def _totals(coef, diagonal, bc_kind, inv_w, dt, w0, w1, w2, total, coupling):
    """``total`` = diagonal + all face weights of the cell (over its widths) + Dirichlet
    boundary faces (half a width away); ``coupling[row]`` = the row's largest share of
    the faces between cells in ``total`` (:func:`prepare_levels`)."""
    n0, n1, n2 = coef.shape
    shape = (n0, n1, n2)
    for row in prange(n0 * n1):
        i0 = row // n1
        i1 = row - i0 * n1
        lo0 = i0 - 1 if i0 > 0 else n0 - 1
        lo1 = i1 - 1 if i1 > 0 else n1 - 1
        largest = 0.0
        for k in range(n2):
            lo2 = k - 1 if k > 0 else n2 - 1
            faces = (w0[i0, i1, k] + w0[lo0, i1, k]) * inv_w[0, i0]
            faces += (w1[i0, i1, k] + w1[i0, lo1, k]) * inv_w[1, i1]
            faces += (w2[i0, i1, k] + w2[i0, i1, lo2]) * inv_w[2, k]
            value = diagonal[i0, i1, k] + faces
            idx = (i0, i1, k)
            for axis in range(3):
                n = shape[axis]
                if n == 1:
                    continue
                i = idx[axis]
                for side in range(2):
                    if boundary_face(bc_kind[axis, side], side, i, n) == DIRICHLET:
                        value += 2.0 * dt * inv_w[axis, i] ** 2 * coef[i0, i1, k]
            total[i0, i1, k] = value
            largest = max(largest, faces / value if value > 0.0 else 1.0)
        coupling[row] = largest


@njit(cache=True, fastmath=FASTMATH, inline="always")
def face_flux_sum(e, w0, w1, w2, inv_w, i0, i1, k, outer, planar):
    """``(sum_nb w (e_nb - e_c) / width, sum_nb w (|e_nb| + |e_c|) / width)`` over the six
    faces of cell ``c = (i0, i1, k)``: the flux sum of the operator in difference form
    (no cancellation against the diagonal) and the size of its terms, for round-off
    floors; ``outer`` as in :func:`_near`. A ``planar`` grid skips axis 0's two
    faces, whose zero weights add exactly zero."""
    lo0, hi0, lo1, hi1 = outer
    n2 = e.shape[2]
    lo2 = k - 1 if k > 0 else n2 - 1
    hi2 = k + 1 if k < n2 - 1 else 0
    ec = e[i0, i1, k]
    flux = 0.0
    size = 0.0
    if not planar:
        for w, value in ((w0[lo0, i1, k], e[lo0, i1, k]), (w0[i0, i1, k], e[hi0, i1, k])):
            flux += w * (value - ec) * inv_w[0, i0]
            size += w * (abs(value) + abs(ec)) * inv_w[0, i0]
    for w, value, scale in (
        (w1[i0, lo1, k], e[i0, lo1, k], inv_w[1, i1]),
        (w1[i0, i1, k], e[i0, hi1, k], inv_w[1, i1]),
        (w2[i0, i1, lo2], e[i0, i1, lo2], inv_w[2, k]),
        (w2[i0, i1, k], e[i0, i1, hi2], inv_w[2, k]),
    ):
        flux += w * (value - ec) * scale
        size += w * (abs(value) + abs(ec)) * scale
    return flux, size


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _near(e, w0, w1, w2, inv_w, i0, i1, k, lo2, hi2, outer, planar):
    """``sum_nb w e_nb / width`` over the six faces of cell ``(i0, i1, k)`` (wrapping
    indices carry zero weights); ``outer = (lo0, hi0, lo1, hi1)`` are its neighbours'
    indices along the outer axes and ``lo2``, ``hi2`` along axis 2 (wrapped). A
    ``planar`` grid (one cell along axis 0, whose faces then carry zero weights) skips
    axis 0's terms, which add exactly zero."""
    lo0, hi0, lo1, hi1 = outer
    along1 = (w1[i0, lo1, k] * e[i0, lo1, k] + w1[i0, i1, k] * e[i0, hi1, k]) * inv_w[1, i1]
    along2 = (w2[i0, i1, lo2] * e[i0, i1, lo2] + w2[i0, i1, k] * e[i0, i1, hi2]) * inv_w[2, k]
    if planar:
        return along1 + along2
    along0 = (w0[lo0, i1, k] * e[lo0, i1, k] + w0[i0, i1, k] * e[hi0, i1, k]) * inv_w[0, i0]
    return along0 + along1 + along2


def _smooth(e, r, w0, w1, w2, inv_w, total, colour):
    """One red-black Gauss-Seidel half-sweep on the cells of ``colour`` (0 or 1).

    Planar grids skip axis 0's zero-weight terms (:func:`_near`). The arrays go to
    inlined helpers one level deep only: deeper, Numba counted references on them per
    cell."""
    n0, n1, n2 = e.shape
    for row in prange(n0 * n1):
        i0 = row // n1
        i1 = row - i0 * n1
        lo0, hi0 = (i0 - 1 if i0 > 0 else n0 - 1), (i0 + 1 if i0 < n0 - 1 else 0)
        lo1, hi1 = (i1 - 1 if i1 > 0 else n1 - 1), (i1 + 1 if i1 < n1 - 1 else 0)
        outer = (lo0, hi0, lo1, hi1)
        planar = n0 == 1
        for k in range((colour + i0 + i1) & 1, n2, 2):
            lo2, hi2 = (k - 1 if k > 0 else n2 - 1), (k + 1 if k < n2 - 1 else 0)
            near = _near(e, w0, w1, w2, inv_w, i0, i1, k, lo2, hi2, outer, planar)
            e[i0, i1, k] = (r[i0, i1, k] + near) / total[i0, i1, k]


def _relax(x, b, w0, w1, w2, inv_w, total, colour, rtol, atol, change):
    """:func:`_smooth` on ``M x = b`` that also records, per row, the largest change
    ``|x_new - x_old| / (atol + rtol |x_new|)`` in ``change[row]`` (infinite where
    ``x_new`` is not finite)."""
    n0, n1, n2 = x.shape
    for row in prange(n0 * n1):
        i0 = row // n1
        i1 = row - i0 * n1
        lo0, hi0 = (i0 - 1 if i0 > 0 else n0 - 1), (i0 + 1 if i0 < n0 - 1 else 0)
        lo1, hi1 = (i1 - 1 if i1 > 0 else n1 - 1), (i1 + 1 if i1 < n1 - 1 else 0)
        outer = (lo0, hi0, lo1, hi1)
        planar = n0 == 1
        largest = 0.0
        for k in range((colour + i0 + i1) & 1, n2, 2):
            lo2, hi2 = (k - 1 if k > 0 else n2 - 1), (k + 1 if k < n2 - 1 else 0)
            near = _near(x, w0, w1, w2, inv_w, i0, i1, k, lo2, hi2, outer, planar)
            value = (b[i0, i1, k] + near) / total[i0, i1, k]
            step = abs(value - x[i0, i1, k]) / (atol + rtol * abs(value))
            largest = max(largest, step if np.isfinite(value) else np.inf)
            x[i0, i1, k] = value
        change[row] = largest


def _residual(e, r, w0, w1, w2, inv_w, total, out):
    """``out = r - M e``."""
    n0, n1, n2 = e.shape
    for row in prange(n0 * n1):
        i0 = row // n1
        i1 = row - i0 * n1
        lo0, hi0 = (i0 - 1 if i0 > 0 else n0 - 1), (i0 + 1 if i0 < n0 - 1 else 0)
        lo1, hi1 = (i1 - 1 if i1 > 0 else n1 - 1), (i1 + 1 if i1 < n1 - 1 else 0)
        outer = (lo0, hi0, lo1, hi1)
        planar = n0 == 1
        for k in range(n2):
            lo2, hi2 = (k - 1 if k > 0 else n2 - 1), (k + 1 if k < n2 - 1 else 0)
            near = _near(e, w0, w1, w2, inv_w, i0, i1, k, lo2, hi2, outer, planar)
            out[i0, i1, k] = r[i0, i1, k] + near - total[i0, i1, k] * e[i0, i1, k]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _shares(inv, first, count):
    """The shares of the (one or two) children ``first, first + 1`` in their parent's width,
    from their inverse widths ``inv``: ``(1, 0)`` for one child."""
    if count == 1:
        return 1.0, 0.0
    total = inv[first] + inv[first + 1]
    return inv[first + 1] / total, inv[first] / total


def _restrict(fine, coarse, inv_w):
    """``coarse`` = volume-weighted mean of each coarse cell's children in ``fine``
    (``inv_w``: the fine cells' inverse widths per axis). A child's weight is the product
    of its shares in the parent's width along each axis (:func:`_shares`)."""
    c0, c1, c2 = coarse.shape
    f0, f1, f2 = fine.shape
    s0 = 2 if c0 < f0 else 1
    s1 = 2 if c1 < f1 else 1
    s2 = 2 if c2 < f2 else 1
    for row in prange(c0 * c1):
        j0 = row // c1
        j1 = row - j0 * c1
        a0, b0 = j0 * s0, j1 * s1
        count0, count1 = min(s0, f0 - a0), min(s1, f1 - b0)
        share0 = _shares(inv_w[0], a0, count0)
        share1 = _shares(inv_w[1], b0, count1)
        for j2 in range(c2):
            k0 = j2 * s2
            count2 = min(s2, f2 - k0)
            share2 = _shares(inv_w[2], k0, count2)
            total = 0.0
            for da in range(count0):
                for db in range(count1):
                    weight = share0[da] * share1[db]
                    along2 = share2[0] * fine[a0 + da, b0 + db, k0]
                    if count2 == 2:
                        along2 += share2[1] * fine[a0 + da, b0 + db, k0 + 1]
                    total += weight * along2
            coarse[j0, j1, j2] = total


def _prolong_add(coarse, fine):
    """``fine += `` the value of each fine cell's parent in ``coarse``."""
    c0, c1, c2 = coarse.shape
    f0, f1, f2 = fine.shape
    t0 = 1 if c0 < f0 else 0  # the parent's index is the child's shifted by t
    t1 = 1 if c1 < f1 else 0
    t2 = 1 if c2 < f2 else 0
    for row in prange(f0 * f1):
        i0 = row // f1
        i1 = row - i0 * f1
        for k in range(f2):
            fine[i0, i1, k] += coarse[i0 >> t0, i1 >> t1, k >> t2]


def _threaded_and_serial(kernel):
    """A threaded and a serial build of ``kernel``: coarse levels are too small to repay
    waking the threads (tens of microseconds per parallel region).

    The serial build compiles a copy named ``<kernel>_serial``: Numba's disk cache is
    keyed by the function and the argument types, not by the compile options, so two
    builds of one function share a cache entry and the second is served the first's code.
    """
    name = kernel.__name__ + "_serial"
    serial = types.FunctionType(
        kernel.__code__, kernel.__globals__, name, kernel.__defaults__, kernel.__closure__
    )
    serial.__qualname__ = kernel.__qualname__ + "_serial"
    serial.__doc__ = kernel.__doc__
    return internal(parallel=True, fastmath=FASTMATH)(kernel), internal(fastmath=FASTMATH)(serial)


faces, faces_serial = _threaded_and_serial(_faces)
totals, totals_serial = _threaded_and_serial(_totals)
smooth, smooth_serial = _threaded_and_serial(_smooth)
residual, residual_serial = _threaded_and_serial(_residual)
restrict, restrict_serial = _threaded_and_serial(_restrict)
prolong_add, prolong_add_serial = _threaded_and_serial(_prolong_add)
relax = internal(parallel=True, fastmath=FASTMATH)(_relax)
THREADED_CELLS = 32768


@internal(fastmath=FASTMATH)
def gauss_seidel(x, b, w0, w1, w2, inv_w, total, rtol, atol, change):
    """One red-black Gauss-Seidel sweep of ``M x = b`` on level 0, in place; returns the
    largest change ``|x_new - x_old| / (atol + rtol |x_new|)`` (``change``, one entry per
    row, is work space).

    With ``q`` the coupling of :func:`prepare_levels`, a sweep cuts the max-norm error by
    ``q`` at least: each new value is the mean of ``b`` and its neighbours' current
    values weighted by shares of the row's diagonal summing to at most ``q``, and those
    values' errors are already at most the old maximum. So the error left after a sweep
    that changed ``x`` by ``delta`` is at most ``q delta / (1 - q)``.
    """
    rows = x.shape[0] * x.shape[1]
    largest = 0.0
    for colour in range(2):
        relax(x, b, w0, w1, w2, inv_w, total, colour, rtol, atol, change)
        for row in range(rows):
            largest = max(largest, change[row])
    return largest


@internal(fastmath=FASTMATH)
def _sweeps(e, r, w0, w1, w2, inv_w, total, count, first_colour):
    threaded = e.size >= THREADED_CELLS
    for _ in range(count):
        for colour in (first_colour, 1 - first_colour):
            if threaded:
                smooth(e, r, w0, w1, w2, inv_w, total, colour)
            else:
                smooth_serial(e, r, w0, w1, w2, inv_w, total, colour)


@internal(fastmath=FASTMATH)
def _restrict_any(fine, coarse, inv_w):
    if fine.size >= THREADED_CELLS:
        restrict(fine, coarse, inv_w)
    else:
        restrict_serial(fine, coarse, inv_w)


@internal(fastmath=FASTMATH)
def level(buffer, offsets, shapes, index):
    """View of level ``index`` in a flat level buffer."""
    start = offsets[index]
    n0, n1, n2 = shapes[index, 0], shapes[index, 1], shapes[index, 2]
    return buffer[start : start + n0 * n1 * n2].reshape((n0, n1, n2))


@njit(cache=True, fastmath=FASTMATH)
def prepare_levels(
    coef, diagonal, operator, offsets, shapes, inv_w, bc_kind, dt, coupling, coarse_above
):
    """Build level 0's operator from level 0 of ``coef`` and ``diagonal``, and the coarse
    levels' when level 0's coupling exceeds ``coarse_above``. Returns that coupling.

    The coupling ``q`` is the largest share of the faces between cells in a row's
    diagonal (``coupling``, one entry per row of level 0, is work space): the max-norm
    contraction of a Jacobi sweep, which bounds that of a Gauss-Seidel sweep
    (:func:`gauss_seidel`). A solver that relaxes level 0 alone needs no coarse levels.
    Coarse coefficients and diagonals are the volume-weighted means of their children;
    ``inv_w`` holds the cells' inverse widths per level and axis (:func:`hierarchy`);
    ``operator`` is the tuple ``(w0, w1, w2, total)`` of flat level buffers (see
    :func:`_faces`, :func:`_totals`).
    """
    w0, w1, w2, total = operator
    q = 0.0
    for index in range(offsets.shape[0] - 1):
        if index == 1 and not q > coarse_above:
            break
        cl = level(coef, offsets, shapes, index)
        dl = level(diagonal, offsets, shapes, index)
        if index > 0:
            _restrict_any(level(coef, offsets, shapes, index - 1), cl, inv_w[index - 1])
            _restrict_any(level(diagonal, offsets, shapes, index - 1), dl, inv_w[index - 1])
        f0 = level(w0, offsets, shapes, index)
        f1 = level(w1, offsets, shapes, index)
        f2 = level(w2, offsets, shapes, index)
        tl = level(total, offsets, shapes, index)
        if cl.size >= THREADED_CELLS:
            faces(cl, bc_kind, inv_w[index], dt, f0, f1, f2)
            totals(cl, dl, bc_kind, inv_w[index], dt, f0, f1, f2, tl, coupling)
        else:
            faces_serial(cl, bc_kind, inv_w[index], dt, f0, f1, f2)
            totals_serial(cl, dl, bc_kind, inv_w[index], dt, f0, f1, f2, tl, coupling)
        if index == 0:
            rows = shapes[0, 0] * shapes[0, 1]
            for row in range(rows):
                q = max(q, coupling[row])
    return q


@internal(fastmath=FASTMATH)
def operator_level(operator, offsets, shapes, index):
    """Level ``index`` of the operator ``(w0, w1, w2, total)``."""
    w0, w1, w2, total = operator
    return (
        level(w0, offsets, shapes, index),
        level(w1, offsets, shapes, index),
        level(w2, offsets, shapes, index),
        level(total, offsets, shapes, index),
    )


@internal(fastmath=FASTMATH)
def _level_views(e, r, operator, offsets, shapes, index):
    """Level ``index`` of the correction, the right-hand side and the operator."""
    w0, w1, w2, total = operator
    return (
        level(e, offsets, shapes, index),
        level(r, offsets, shapes, index),
        level(w0, offsets, shapes, index),
        level(w1, offsets, shapes, index),
        level(w2, offsets, shapes, index),
        level(total, offsets, shapes, index),
    )


@njit(cache=True, fastmath=FASTMATH, inline="always")
def v_cycle(e, r, scratch, operator, offsets, shapes, inv_w):
    """One V(2,2)-cycle for ``M e = r`` from ``e = 0``; level 0 of ``e`` gets the result.

    ``r`` holds the level-0 right-hand side; its coarse levels and ``scratch`` are work
    space; ``operator`` comes from :func:`prepare_levels` with the same ``inv_w``.
    """
    levels = offsets.shape[0] - 1
    for index in range(levels):
        el, rl, f0, f1, f2, tl = _level_views(e, r, operator, offsets, shapes, index)
        iw = inv_w[index]
        el[...] = 0.0
        sweeps = PRE_SWEEPS if index < levels - 1 else COARSEST_SWEEPS
        _sweeps(el, rl, f0, f1, f2, iw, tl, sweeps, 0)
        if index < levels - 1:
            sl = level(scratch, offsets, shapes, index)
            if el.size >= THREADED_CELLS:
                residual(el, rl, f0, f1, f2, iw, tl, sl)
            else:
                residual_serial(el, rl, f0, f1, f2, iw, tl, sl)
            _restrict_any(sl, level(r, offsets, shapes, index + 1), iw)
    for index in range(levels - 2, -1, -1):
        el, rl, f0, f1, f2, tl = _level_views(e, r, operator, offsets, shapes, index)
        if el.size >= THREADED_CELLS:
            prolong_add(level(e, offsets, shapes, index + 1), el)
        else:
            prolong_add_serial(level(e, offsets, shapes, index + 1), el)
        _sweeps(el, rl, f0, f1, f2, inv_w[index], tl, POST_SWEEPS, 1)


def hierarchy(shape3, spacing3, min_cells: int = 8):
    """Level shapes ``(L, 3)``, buffer offsets ``(L + 1,)`` and inverse cell widths
    ``inv_w`` ``(L, 3, max(shape3))`` (level, axis, index along the axis; padded with 1).

    Axes longer than two cells are halved (rounding up) until the coarsest level holds at
    most ``min_cells`` cells or no axis can shrink; a coarse cell is as wide as its
    children together.
    """
    shapes = [tuple(int(n) for n in shape3)]
    widths = [[np.full(n, float(h)) for n, h in zip(shapes[0], spacing3, strict=True)]]
    while int(np.prod(shapes[-1])) > min_cells:
        shape = shapes[-1]
        new_shape = tuple((n + 1) // 2 if n > 2 else n for n in shape)
        if new_shape == shape:
            break
        widths.append(
            [
                np.add.reduceat(w, np.arange(0, n, 2)) if m < n else w
                for w, m, n in zip(widths[-1], new_shape, shape, strict=True)
            ]
        )
        shapes.append(new_shape)
    sizes = [int(np.prod(s)) for s in shapes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    inv_w = np.ones((len(shapes), 3, max(shapes[0])))
    for index, level_widths in enumerate(widths):
        for axis, w in enumerate(level_widths):
            inv_w[index, axis, : len(w)] = 1.0 / w
    return np.array(shapes, dtype=np.int64), offsets, inv_w
