r"""Geometric multigrid for the backward-Euler systems of stiff fields.

Solves ``M e = r`` with

.. math::

    M = \operatorname{diag}(1 + \Delta t R) - \Delta t\, T,

``T`` the conservative diffusion operator (harmonic face means of the cell coefficients,
homogeneous no-flux, Dirichlet or periodic boundaries) and ``R >= 0`` a stiff decay
rate: the correction equation of a backward-Euler step for oxygen-like fields whose
diffusion time over a grid cell is far below the time step.

Cell-centred V-cycles: red-black Gauss-Seidel smoothing, restriction by averaging the
(up to 2^d) children of a coarse cell, piecewise-constant prolongation, coarse operators
by rediscretisation (averaged coefficients and diagonals, doubled spacing). Each axis of
more than two cells is coarsened by two (an odd length keeps a last single-child cell),
so any grid size works (Trottenberg, Oosterlee & Schuller, *Multigrid*, 2001, ch. 2 and
5.7; Wesseling 1992 for cell-centred transfer operators).

Levels live in flat buffers: level ``l`` is ``buffer[offsets[l]:offsets[l+1]]`` shaped
``shapes[l]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from continuum.kernels.flags import FASTMATH

NOFLUX, DIRICHLET, PERIODIC = 0, 1, 2
PRE_SWEEPS, POST_SWEEPS, COARSEST_SWEEPS = 2, 2, 40


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _harmonic(a, b):
    s = a + b
    return 2.0 * a * b / s if s > 0.0 else 0.0


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _neighbour(axis, i0, i1, k, j):
    if axis == 0:
        return j, i1, k
    if axis == 1:
        return i0, j, k
    return i0, i1, j


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _couplings(e, coef, bc_kind, inv_h2, dt, i0, i1, k):
    """``(sum_nb w e_nb, sum w)`` over the faces of cell ``(i0, i1, k)`` (homogeneous)."""
    shape = e.shape
    idx = (i0, i1, k)
    dc = coef[i0, i1, k]
    off = 0.0
    total = 0.0
    if dc == 0.0:
        return off, total
    for axis in range(3):
        n = shape[axis]
        if n == 1:
            continue
        i = idx[axis]
        scale = dt * inv_h2[axis]
        for side in range(2):
            at_edge = (i == 0) if side == 0 else (i == n - 1)
            kind = bc_kind[axis, side]
            if at_edge and kind == NOFLUX:
                continue
            if at_edge and kind == DIRICHLET:
                total += 2.0 * scale * dc
                continue
            a, b, c = _neighbour(axis, i0, i1, k, (i + 2 * side - 1) % n)
            w = scale * _harmonic(dc, coef[a, b, c])
            off += w * e[a, b, c]
            total += w
    return off, total


def _smooth(e, r, coef, diagonal, bc_kind, inv_h2, dt, colour):
    """One red-black Gauss-Seidel half-sweep on the cells of ``colour`` (0 or 1)."""
    n0, n1, n2 = e.shape
    for row in prange(n0 * n1):
        i0 = row // n1
        i1 = row - i0 * n1
        for k in range((colour + i0 + i1) & 1, n2, 2):
            off, total = _couplings(e, coef, bc_kind, inv_h2, dt, i0, i1, k)
            e[i0, i1, k] = (r[i0, i1, k] + off) / (diagonal[i0, i1, k] + total)


def _residual(e, r, coef, diagonal, bc_kind, inv_h2, dt, out):
    """``out = r - M e``."""
    n0, n1, n2 = e.shape
    for row in prange(n0 * n1):
        i0 = row // n1
        i1 = row - i0 * n1
        for k in range(n2):
            off, total = _couplings(e, coef, bc_kind, inv_h2, dt, i0, i1, k)
            out[i0, i1, k] = r[i0, i1, k] + off - (diagonal[i0, i1, k] + total) * e[i0, i1, k]


def _restrict(fine, coarse):
    """``coarse`` = mean of each coarse cell's children in ``fine``."""
    c0, c1, c2 = coarse.shape
    f0, f1, f2 = fine.shape
    s0 = 2 if c0 < f0 else 1
    s1 = 2 if c1 < f1 else 1
    s2 = 2 if c2 < f2 else 1
    for row in prange(c0 * c1):
        j0 = row // c1
        j1 = row - j0 * c1
        for j2 in range(c2):
            total = 0.0
            count = 0
            for a in range(j0 * s0, min(j0 * s0 + s0, f0)):
                for b in range(j1 * s1, min(j1 * s1 + s1, f1)):
                    for c in range(j2 * s2, min(j2 * s2 + s2, f2)):
                        total += fine[a, b, c]
                        count += 1
            coarse[j0, j1, j2] = total / count


def _prolong_add(coarse, fine):
    """``fine += `` the value of each fine cell's parent in ``coarse``."""
    c0, c1, c2 = coarse.shape
    f0, f1, f2 = fine.shape
    s0 = 2 if c0 < f0 else 1
    s1 = 2 if c1 < f1 else 1
    s2 = 2 if c2 < f2 else 1
    for row in prange(f0 * f1):
        i0 = row // f1
        i1 = row - i0 * f1
        for k in range(f2):
            fine[i0, i1, k] += coarse[i0 // s0, i1 // s1, k // s2]


# Each kernel in a threaded and a serial build: coarse levels are too small to repay
# waking the threads (tens of microseconds per parallel region).
smooth = njit(cache=True, parallel=True, fastmath=FASTMATH)(_smooth)
smooth_serial = njit(cache=True, fastmath=FASTMATH)(_smooth)
residual = njit(cache=True, parallel=True, fastmath=FASTMATH)(_residual)
residual_serial = njit(cache=True, fastmath=FASTMATH)(_residual)
restrict = njit(cache=True, parallel=True, fastmath=FASTMATH)(_restrict)
restrict_serial = njit(cache=True, fastmath=FASTMATH)(_restrict)
prolong_add = njit(cache=True, parallel=True, fastmath=FASTMATH)(_prolong_add)
prolong_add_serial = njit(cache=True, fastmath=FASTMATH)(_prolong_add)
THREADED_CELLS = 32768


@njit(cache=True, fastmath=FASTMATH)
def _sweeps(e, r, coef, diagonal, bc_kind, inv_h2, dt, count, first_colour):
    threaded = e.size >= THREADED_CELLS
    for _ in range(count):
        for colour in (first_colour, 1 - first_colour):
            if threaded:
                smooth(e, r, coef, diagonal, bc_kind, inv_h2, dt, colour)
            else:
                smooth_serial(e, r, coef, diagonal, bc_kind, inv_h2, dt, colour)


@njit(cache=True, fastmath=FASTMATH)
def _restrict_any(fine, coarse):
    if fine.size >= THREADED_CELLS:
        restrict(fine, coarse)
    else:
        restrict_serial(fine, coarse)


@njit(cache=True, fastmath=FASTMATH)
def level(buffer, offsets, shapes, index):
    """View of level ``index`` in a flat level buffer."""
    start = offsets[index]
    n0, n1, n2 = shapes[index, 0], shapes[index, 1], shapes[index, 2]
    return buffer[start : start + n0 * n1 * n2].reshape((n0, n1, n2))


@njit(cache=True, fastmath=FASTMATH)
def prepare_levels(coef, diagonal, offsets, shapes):
    """Fill the coarse levels of ``coef`` and ``diagonal`` (level 0 already set)."""
    for index in range(1, offsets.shape[0] - 1):
        fine = level(coef, offsets, shapes, index - 1)
        _restrict_any(fine, level(coef, offsets, shapes, index))
        fine = level(diagonal, offsets, shapes, index - 1)
        _restrict_any(fine, level(diagonal, offsets, shapes, index))


@njit(cache=True, fastmath=FASTMATH)
def v_cycle(e, r, scratch, coef, diagonal, offsets, shapes, inv_h2, bc_kind, dt):
    """One V(2,2)-cycle for ``M e = r`` from ``e = 0``; level 0 of ``e`` gets the result.

    ``r`` holds the level-0 right-hand side; its coarse levels and ``scratch`` are work
    space. ``inv_h2[l]`` are the inverse squared spacings of level ``l``.
    """
    levels = offsets.shape[0] - 1
    for index in range(levels):
        el = level(e, offsets, shapes, index)
        rl = level(r, offsets, shapes, index)
        cl = level(coef, offsets, shapes, index)
        dl = level(diagonal, offsets, shapes, index)
        el[...] = 0.0
        sweeps = PRE_SWEEPS if index < levels - 1 else COARSEST_SWEEPS
        _sweeps(el, rl, cl, dl, bc_kind, inv_h2[index], dt, sweeps, 0)
        if index < levels - 1:
            tl = level(scratch, offsets, shapes, index)
            if el.size >= THREADED_CELLS:
                residual(el, rl, cl, dl, bc_kind, inv_h2[index], dt, tl)
            else:
                residual_serial(el, rl, cl, dl, bc_kind, inv_h2[index], dt, tl)
            _restrict_any(tl, level(r, offsets, shapes, index + 1))
    for index in range(levels - 2, -1, -1):
        el = level(e, offsets, shapes, index)
        rl = level(r, offsets, shapes, index)
        cl = level(coef, offsets, shapes, index)
        dl = level(diagonal, offsets, shapes, index)
        if el.size >= THREADED_CELLS:
            prolong_add(level(e, offsets, shapes, index + 1), el)
        else:
            prolong_add_serial(level(e, offsets, shapes, index + 1), el)
        _sweeps(el, rl, cl, dl, bc_kind, inv_h2[index], dt, POST_SWEEPS, 1)


def hierarchy(shape3, spacing3, min_cells: int = 8):
    """Level shapes ``(L, 3)``, buffer offsets ``(L + 1,)`` and ``inv_h2`` ``(L, 3)``.

    Axes longer than two cells are halved (rounding up) until the coarsest level holds at
    most ``min_cells`` cells or no axis can shrink.
    """
    shapes = [tuple(int(n) for n in shape3)]
    spacings = [tuple(float(h) for h in spacing3)]
    while int(np.prod(shapes[-1])) > min_cells:
        shape, spacing = shapes[-1], spacings[-1]
        new_shape = tuple((n + 1) // 2 if n > 2 else n for n in shape)
        if new_shape == shape:
            break
        new_spacing = tuple(
            2 * h if m < n else h for h, m, n in zip(spacing, new_shape, shape, strict=True)
        )
        shapes.append(new_shape)
        spacings.append(new_spacing)
    sizes = [int(np.prod(s)) for s in shapes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    inv_h2 = 1.0 / np.array(spacings) ** 2
    return np.array(shapes, dtype=np.int64), offsets, inv_h2
