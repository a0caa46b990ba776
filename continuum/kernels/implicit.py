"""Implicit diffusion by line solves along each axis (locally one-dimensional splitting).

One backward-Euler sub-step along axis ``a`` solves, on every grid line parallel to ``a``,

.. math::

    u^{new}_c - \\frac{\\Delta t}{h_a^2}\\left[w_{c+1/2}(u^{new}_{c+1}-u^{new}_c)
    - w_{c-1/2}(u^{new}_c-u^{new}_{c-1})\\right] = u_c,

a tridiagonal M-matrix system (Thomas algorithm; Sherman-Morrison for periodic lines),
with the same face conductances and boundary rules as the explicit operator in
``diffusion.py``. For ``method="imex2"`` the taxis ``-div(chi u grad a)`` of the field
joins the same system (:func:`_add_taxis_line`): the face flux
``F_{c+1/2} = v^+ theta_c u_c + v^- theta'_{c+1} u_{c+1}``, ``v = chi (a_{c+1} - a_c) / h``,
with the attractant ``a`` and the limiter ratios ``theta`` (the minmod-limited face value
of ``taxis.py`` over the upwind cell value, in ``[1/2, 3/2]``) frozen at the state the
sweep starts from and ``u`` implicit. Its off-diagonal entries are ``<= 0`` and every
column of the taxis entries sums to zero, so the system stays an M-matrix: positive,
conservative and stable at any step (the explicit taxis limit no longer applies); as
``dt -> 0`` the flux tends to the explicit limited-upwind flux.
Sweeping the axes in turn is the LOD scheme BioFVM uses (Ghaffarizadeh et al. 2016,
doi:10.1093/bioinformatics/btv730): unconditionally stable, positivity preserving,
conservative under no-flux conditions, first order in time. Lines are solved in parallel,
in batches of neighbouring lines whose recurrences run side by side (:data:`LANES`).

Fields a model declares stiff (``Model.stiff_fields``: oxygen, whose diffusion time over a
cell is seconds) take a full backward-Euler step instead, solved to tolerance by
:func:`solve_backward_euler`: splitting errors of LOD grow with ``dt D / h^2`` and are of
order one for such fields at the cells' time step.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange
from numba.core import types
from numba.extending import overload

from continuum.kernels import multigrid, registry
from continuum.kernels.arrays import copy_into
from continuum.kernels.diffusion import coefficient, scaled_coefficient
from continuum.kernels.flags import FASTMATH
from continuum.kernels.fv import (
    DIRICHLET,
    PERIODIC,
    boundary_face,
    harmonic,
)
from continuum.kernels.internal import internal
from continuum.kernels.taxis import minmod

ROUNDOFF = 64.0 * np.finfo(np.float64).eps


class LineSystem(NamedTuple):
    """The systems ``(omega + diag_add - lam T_axis) y = scale x`` of :func:`line_solve_axis`."""

    lam: float
    """``dt / h_axis^2`` [day/mm^2]."""
    omega: float
    diag_add: np.ndarray
    """(n0, n1, n2) per-cell diagonal, or an empty array."""
    scale: float
    with_bc: bool
    """Use the boundary values (homogeneous boundary data otherwise, for increments)."""
    taxis: np.ndarray | None
    """(n_taxis, 3) rows ``(field, attractant, chi)``, chi [mm^2/day]: those of field
    ``f`` join the system (:func:`_add_taxis_line`); ``None`` for none (then the taxis
    code is not even compiled)."""


class StiffStep(NamedTuple):
    """One backward-Euler solve of a stiff field: the step ``dt`` and time ``t`` [day],
    the field's diffusivity ``d`` [mm^2/day], the tolerances of the step control, the
    most corrections allowed, and ``start_rate`` [field unit/day], an estimate of the
    field's mean rate over the step (the previous step's) that starts the iteration at
    ``u_old + dt start_rate`` (an empty array: at ``u_old``)."""

    dt: float
    t: float
    d: float
    rtol: float
    atol: float
    max_iterations: int
    start_rate: np.ndarray


class StiffBuffers(NamedTuple):
    """Work arrays of :func:`solve_backward_euler`: line-solve scratch
    (:func:`line_scratch`), the multigrid hierarchy (:func:`backward_euler_work`) and the
    per-row statistics ``(rows, 2)``."""

    scratch: object
    work: object
    row_stats: np.ndarray


class BackwardEulerWork(NamedTuple):
    """Work arrays of :func:`solve_backward_euler` (:func:`backward_euler_work`)."""

    x: np.ndarray
    """(n0, n1, n2) the iterate."""
    known: np.ndarray
    """(n0, n1, n2) the right-hand side ``b`` of ``M x = b`` (:func:`_known_terms`)."""
    own: np.ndarray
    """(n0, n1, n2) the diagonal of ``M`` less the faces between cells."""
    rate_old: np.ndarray
    """(n0, n1, n2) the stiff rate at the start of the step [1/day]."""
    rate: np.ndarray
    """(n0, n1, n2) the stiff rate at the end of the step [1/day]."""
    coef: np.ndarray
    """Flat multigrid level buffers: cell coefficients [mm^2/day], ..."""
    diagonal: np.ndarray
    """... diagonals ``1 + dt R``, ..."""
    correction: np.ndarray
    """... the correction, ..."""
    rhs: np.ndarray
    """... the right-hand side (the residual on level 0) ..."""
    temp: np.ndarray
    """... and scratch."""
    operator: tuple
    """``(w0, w1, w2, total)`` flat level buffers (``multigrid.prepare_levels``)."""
    offsets: np.ndarray
    shapes: np.ndarray
    inv_w: np.ndarray
    """The level layout (``multigrid.hierarchy``)."""
    coupling: np.ndarray
    """(n0 n1,) level 0's coupling per row (``multigrid.prepare_levels``)."""


class System(NamedTuple):
    """The backward-Euler system ``M = I + dt R - dt T`` of one field on level 0."""

    coef: np.ndarray
    """(n0, n1, n2) cell diffusion coefficients of ``T`` [mm^2/day]."""
    rate_old: np.ndarray
    """(n0, n1, n2) stiff rate at the start of the step [1/day]."""
    rate: np.ndarray
    """(n0, n1, n2) stiff rate ``R`` at the end of the step [1/day]."""
    dt: float
    """[day]"""


SWEEP_COUPLING = 0.5
"""Largest coupling ``q`` (``multigrid.prepare_levels``) at which a stiff solve relaxes
level 0 by Gauss-Seidel sweeps instead of V-cycles: such a system is nearly diagonal
(an enzyme whose diffusion time over a cell exceeds the step), a sweep costs an eighth of
a V-cycle's passes, and the error shrinks at least twofold per sweep."""
SETTLED = 0.01
"""The error a stiff solve leaves, in units of the step control's tolerance
``atol + rtol |x|``: a last V-cycle correction below a tenth of it, times the V-cycle's
contraction (about 0.1), or the bound ``q delta / (1 - q)`` after a Gauss-Seidel sweep
that changed ``x`` by ``delta`` (:func:`_relax_to_tolerance`)."""

LANES = 16
"""Lines solved together by :func:`line_solve_axis`, one vector lane each: the Thomas
recurrence runs along a line, so one line at a time waits on a division per cell; a batch
of neighbouring lines turns those divisions into vector operations."""


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _lane_cell(axis, outer, lane, j):
    """Cell ``j`` of a line along ``axis`` in a batch: lines along axis 2 are batched along
    axis 1 (``lane`` = i1, ``outer`` = i0), lines along axis 1 along the contiguous axis 2
    (``lane`` = k, ``outer`` = i0), lines along axis 0 along axis 2 (``outer`` = i1)."""
    if axis == 2:
        return outer, lane, j
    if axis == 1:
        return outer, j, lane
    return j, outer, lane


@njit(cache=True, fastmath=FASTMATH, inline="always")
def implicit_diffusion_axis(u, f, axis, d, lam, problem, scratch, taxis):
    """Backward-Euler diffusion of field ``f`` along ``axis``, in place.

    ``lam = dt / h_axis**2`` [day/mm^2]; the local coefficient is ``diffusion.coefficient``
    (``d`` [mm^2/day] times the law's map and field factors and the mask of ``problem``),
    taken from the state before the sweep (linearly implicit). The rows of ``taxis``
    (``(n_taxis, 3)``, ``(field, attractant, chi)``; ``None`` for none) that move ``f`` add
    their taxis along ``axis`` (module doc). ``scratch`` comes from :func:`line_scratch`.
    """
    system = LineSystem(lam, 1.0, np.empty((0, 0, 0)), 1.0, True, taxis)
    line_solve_axis(u[f], u, f, axis, d, problem, system, scratch)


@internal(fastmath=FASTMATH)
def _assemble_lines(x, u, f, axis, outer, first, lanes, d, problem, system, buf):
    """Fill the tridiagonal systems of the ``lanes`` lines from lane ``first`` on
    (:func:`_lane_cell`) with the conservative operator of ``fv`` along ``axis``: ``buf``
    rows lower, diag, upper, rhs, the cell coefficients and the faces' harmonic means,
    each ``(position, lane)``. The arithmetic is that of one line at a time, term for
    term (the same bits)."""
    n = u.shape[1 + axis]
    lam, bc_val = system.lam, problem.bc_val
    kind_lo, kind_hi = problem.bc_kind[f, axis, 0], problem.bc_kind[f, axis, 1]
    law, maps, mask = problem.diffusivity_law, problem.maps, problem.mask
    has_mask = mask.size > 0
    lower, diag, upper, rhs, coef, face = buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]
    periodic = kind_lo == PERIODIC
    by_map, by_field = int(law[f, 0]), int(law[f, 1])
    offset, slope = law[f, 2], law[f, 3]
    for j in range(n):
        for b in range(lanes):
            p, q, r = _lane_cell(axis, outer, first + b, j)
            coef[j, b] = scaled_coefficient(
                d,
                maps[by_map, p, q, r] if by_map >= 0 else 1.0,
                u[by_field, p, q, r] if by_field >= 0 else 0.0,
                mask[p, q, r] if has_mask else 1.0,
                by_map,
                by_field,
                offset,
                slope,
            )
            rhs[j, b] = system.scale * x[p, q, r]
    for b in range(lanes):  # face[j]: the face below cell j; face[0] wraps around
        face[0, b] = harmonic(coef[n - 1, b], coef[0, b]) if periodic else 0.0
    for j in range(1, n):
        for b in range(lanes):
            face[j, b] = harmonic(coef[j - 1, b], coef[j, b])
    for j in range(n):
        above = j + 1 if j < n - 1 else 0
        closed = j == n - 1 and not periodic
        for b in range(lanes):
            w_lo = face[j, b]
            w_hi = 0.0 if closed else face[above, b]
            lower[j, b] = -lam * w_lo
            upper[j, b] = -lam * w_hi
            diag[j, b] = system.omega + lam * (w_lo + w_hi)
    for side, end, kind in ((0, 0, kind_lo), (1, n - 1, kind_hi)):
        if kind == DIRICHLET:  # a ghost half a cell beyond the end
            for b in range(lanes):
                weight = 2.0 * lam * coef[end, b]
                diag[end, b] += weight
                if system.with_bc:
                    rhs[end, b] += weight * bc_val[f, axis, side]
    if system.diag_add.size > 0:
        for j in range(n):
            for b in range(lanes):
                p, q, r = _lane_cell(axis, outer, first + b, j)
                diag[j, b] += system.diag_add[p, q, r]
    _lines_taxis(u, f, axis, outer, first, lanes, problem, system, system.taxis, buf)


def moves(taxis, f):
    """Whether a row of ``taxis`` (an array of ``(field, attractant, chi)`` rows, or
    ``None``) moves field ``f`` (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


@overload(moves, inline="always")
def _moves(taxis, f):
    if isinstance(taxis, types.NoneType):
        return lambda taxis, f: False

    def impl(taxis, f):
        for row in range(taxis.shape[0]):
            if int(taxis[row, 0]) == f:
                return True
        return False

    return impl


def _lines_taxis(u, f, axis, outer, first, lanes, problem, system, taxis, buf):
    """Add the taxis rows of ``taxis`` that move ``f`` to the batch's line systems
    (nothing, and nothing compiled, for ``None``) (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


@overload(_lines_taxis, inline="always")
def _lines_taxis_impl(u, f, axis, outer, first, lanes, problem, system, taxis, buf):
    if isinstance(taxis, types.NoneType):
        return lambda u, f, axis, outer, first, lanes, problem, system, taxis, buf: None

    def impl(u, f, axis, outer, first, lanes, problem, system, taxis, buf):
        for row in range(taxis.shape[0]):
            if int(taxis[row, 0]) == f:
                _add_taxis_lines(u, f, row, axis, outer, first, lanes, problem, system, buf)

    return impl


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _ratio(value, reconstructed):
    """``theta = reconstructed / value`` of a limited face value (1 where ``value <= 0``)."""
    return reconstructed / value if value > 0.0 else 1.0


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _add_taxis_lines(u, f, row, axis, outer, first, lanes, problem, system, buf):
    """Add the upwind taxis of row ``row`` of ``system.taxis`` (``(f, a, chi)``) along
    ``axis`` to the assembled line systems of a batch in ``buf`` (module doc).

    Face ``c + 1/2`` with ``nu = lam chi (a_{c+1} - a_c)`` (``= dt v / h``) moves
    ``nu theta_c u_c`` from cell ``c`` to ``c + 1`` when ``nu >= 0``, and
    ``-nu theta'_{c+1} u_{c+1}`` back otherwise; ``theta`` are the ratios of the minmod
    face values of ``taxis.upwind_flux`` to the upwind cell values, from ``u``. As in the
    explicit flux, non-periodic boundary faces and faces to a cell outside the mask carry
    nothing.
    """
    n = u.shape[1 + axis]
    a = int(system.taxis[row, 1])
    nu_scale = system.lam * system.taxis[row, 2]
    periodic = problem.bc_kind[f, axis, 0] == PERIODIC
    mask = problem.mask
    has_mask = mask.size > 0
    lower, diag, upper = buf[0], buf[1], buf[2]
    faces = n if periodic else n - 1
    for c in range(faces):
        right = (c + 1) % n
        before = (c - 1) % n if periodic else max(c - 1, 0)
        after = (c + 2) % n if periodic else min(c + 2, n - 1)
        for b in range(lanes):
            lane = first + b
            i, j, k = _lane_cell(axis, outer, lane, c)
            p, q, r = _lane_cell(axis, outer, lane, right)
            if has_mask and mask[i, j, k] * mask[p, q, r] == 0:
                continue
            nu = nu_scale * (u[a, p, q, r] - u[a, i, j, k])
            lo = _lane_cell(axis, outer, lane, before)
            hi = _lane_cell(axis, outer, lane, after)
            um, ul = u[f, lo[0], lo[1], lo[2]], u[f, i, j, k]
            ur, up = u[f, p, q, r], u[f, hi[0], hi[1], hi[2]]
            if nu >= 0.0:
                weight = nu * _ratio(ul, ul + 0.5 * minmod(ul - um, ur - ul))
                diag[c, b] += weight
                lower[right, b] -= weight
            else:
                weight = -nu * _ratio(ur, ur - 0.5 * minmod(ur - ul, up - ur))
                diag[right, b] += weight
                upper[c, b] -= weight


@internal(fastmath=FASTMATH)
def _thomas_lanes(lower, diag, upper, rhs, n, lanes, cprime):
    """Solve the tridiagonal systems of ``lanes`` lines (``(position, lane)`` rows) in
    place: ``rhs`` becomes the solutions."""
    for b in range(lanes):
        cprime[0, b] = upper[0, b] / diag[0, b]
        rhs[0, b] = rhs[0, b] / diag[0, b]
    for j in range(1, n):
        for b in range(lanes):
            denom = diag[j, b] - lower[j, b] * cprime[j - 1, b]
            cprime[j, b] = upper[j, b] / denom
            rhs[j, b] = (rhs[j, b] - lower[j, b] * rhs[j - 1, b]) / denom
    for j in range(n - 2, -1, -1):
        for b in range(lanes):
            rhs[j, b] -= cprime[j, b] * rhs[j + 1, b]


@internal(fastmath=FASTMATH)
def _cyclic_lanes(lower, diag, upper, rhs, n, lanes, cprime, z, gamma):
    """Periodic tridiagonal solves (Sherman-Morrison), ``n >= 3``: ``lower[0]`` couples
    row 0 to row ``n - 1`` and ``upper[n - 1]`` row ``n - 1`` to row 0. Changes ``diag``;
    ``z`` and ``gamma`` are scratch rows."""
    for b in range(lanes):
        gamma[0, b] = -diag[0, b]
        diag[0, b] -= gamma[0, b]
        diag[n - 1, b] -= upper[n - 1, b] * lower[0, b] / gamma[0, b]
        for j in range(n):
            z[j, b] = 0.0
        z[0, b] = gamma[0, b]
        z[n - 1, b] = upper[n - 1, b]
    _thomas_lanes(lower, diag, upper, rhs, n, lanes, cprime)
    _thomas_lanes(lower, diag, upper, z, n, lanes, cprime)
    for b in range(lanes):
        beta, g = lower[0, b], gamma[0, b]
        gamma[0, b] = (rhs[0, b] + beta * rhs[n - 1, b] / g) / (
            1.0 + z[0, b] + beta * z[n - 1, b] / g
        )
    for j in range(n):
        for b in range(lanes):
            rhs[j, b] -= gamma[0, b] * z[j, b]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _solve_lines(buf, n, lanes, periodic):
    """Solve the assembled systems of :func:`_assemble_lines` in place (the rhs row
    becomes the solutions): 2x2 directly when both periodic faces join the same two cells,
    Sherman-Morrison for other periodic lines, Thomas otherwise."""
    lower, diag, upper, rhs = buf[0], buf[1], buf[2], buf[3]
    if periodic and n == 2:
        for b in range(lanes):
            a00, a01 = diag[0, b], lower[0, b] + upper[0, b]
            a10, a11 = lower[1, b] + upper[1, b], diag[1, b]
            det = a00 * a11 - a01 * a10
            r0, r1 = rhs[0, b], rhs[1, b]
            rhs[0, b] = (a11 * r0 - a01 * r1) / det
            rhs[1, b] = (a00 * r1 - a10 * r0) / det
    elif periodic:
        _cyclic_lanes(lower, diag, upper, rhs, n, lanes, buf[5], buf[6], buf[4])
    else:
        _thomas_lanes(lower, diag, upper, rhs, n, lanes, buf[5])


@internal(parallel=True, fastmath=FASTMATH)
def line_solve_axis(x, u, f, axis, d, problem, system, scratch):
    """Solve ``(omega + diag_add - lam T_axis) y = scale x`` on every line; ``x = y``.

    ``x`` is ``(n0, n1, n2)``; ``system`` the :class:`LineSystem`; ``T_axis`` is the
    conservative diffusion operator of field ``f`` along ``axis`` with coefficients from
    ``u`` (``d`` [mm^2/day] times the factors of ``diffusion.coefficient``) and the
    boundary values of ``problem`` when ``system.with_bc``. Lines go in batches of
    ``LANES`` neighbours (:func:`_lane_cell`), one batch per parallel task.
    """
    n0, n1, n2 = u.shape[1], u.shape[2], u.shape[3]
    n = (n0, n1, n2)[axis]
    if n == 1:
        return
    across = n1 if axis == 2 else n2
    blocks = (across + LANES - 1) // LANES
    outer_count = n1 if axis == 0 else n0
    periodic = problem.bc_kind[f, axis, 0] == PERIODIC
    for task in prange(outer_count * blocks):
        outer = task // blocks
        first = (task - outer * blocks) * LANES
        lanes = min(LANES, across - first)
        buf = scratch[numba.get_thread_id()]
        _assemble_lines(x, u, f, axis, outer, first, lanes, d, problem, system, buf)
        _solve_lines(buf, n, lanes, periodic)
        rhs = buf[3]
        for j in range(n):
            for b in range(lanes):
                p, q, r = _lane_cell(axis, outer, first + b, j)
                x[p, q, r] = rhs[j, b]


@internal(parallel=True, fastmath=FASTMATH)
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


@internal(parallel=True, fastmath=FASTMATH)
def coefficients(u, f, d, law, maps, mask, has_mask, out):
    """``out`` = the local diffusion coefficient of field ``f`` [mm^2/day] in every cell."""
    n0, n1, n2 = u.shape[1], u.shape[2], u.shape[3]
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for k in range(n2):
            out[i0, i1, k] = coefficient(u, law, f, d, maps, mask, has_mask, i0, i1, k)


@internal(parallel=True, fastmath=FASTMATH)
def _known_terms(u_old, predictor, f, system, problem, known, own):
    """The parts of ``M x = b`` for field ``f`` that are not face fluxes between cells:
    ``known = b = predictor + dt R_old u_old`` plus the boundary values' share of
    ``dt T``, and ``own = 1 + dt R`` plus the boundary faces' share of the diagonal.
    ``predictor`` is the field's explicit Euler predictor (it holds ``-R_old u_old``); a
    Dirichlet face half a cell away contributes ``2 dt coef (g - x) / h^2``."""
    n0, n1, n2 = known.shape
    shape = (n0, n1, n2)
    dt, coef = system.dt, system.coef
    bc_kind, bc_val, inv_h2 = problem.bc_kind, problem.bc_val, problem.inv_h2
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for k in range(n2):
            value = predictor[i0, i1, k] + dt * system.rate_old[i0, i1, k] * u_old[f, i0, i1, k]
            diagonal = 1.0 + dt * system.rate[i0, i1, k]
            where = (i0, i1, k)
            for axis in range(3):
                n = shape[axis]
                if n == 1:
                    continue
                i = where[axis]
                for side in range(2):
                    if boundary_face(bc_kind[f, axis, side], side, i, n) == DIRICHLET:
                        weight = 2.0 * dt * inv_h2[axis] * coef[i0, i1, k]
                        value += weight * bc_val[f, axis, side]
                        diagonal += weight
            known[i0, i1, k] = value
            own[i0, i1, k] = diagonal


@internal(parallel=True, fastmath=FASTMATH)
def operator_residual(x, known, own, operator, inv_w, rtol, atol, residual, row_stats):
    """``residual = known - own x + dt T x`` on level 0 (``b - M x``; :func:`_known_terms`),
    the flux sum ``dt T x`` in difference form from the face weights ``(w0, w1, w2)`` of
    ``operator`` (``multigrid.prepare_levels``).
    ``row_stats[r, 0]`` gets the row maximum of ``|residual|``, ``row_stats[r, 1]`` that
    of ``|residual| / (atol + rtol |x|)`` less the round-off its terms carry (zero where
    the residual is round-off)."""
    w0, w1, w2, _ = operator
    n0, n1, n2 = x.shape
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        lo0, hi0 = (i0 - 1 if i0 > 0 else n0 - 1), (i0 + 1 if i0 < n0 - 1 else 0)
        lo1, hi1 = (i1 - 1 if i1 > 0 else n1 - 1), (i1 + 1 if i1 < n1 - 1 else 0)
        outer = (lo0, hi0, lo1, hi1)
        planar = n0 == 1
        r_max = 0.0
        ratio = 0.0
        for k in range(n2):
            xc = x[i0, i1, k]
            flux, size = multigrid.face_flux_sum(x, w0, w1, w2, inv_w, i0, i1, k, outer, planar)
            loss = own[i0, i1, k] * xc
            value = known[i0, i1, k] - loss + flux
            residual[i0, i1, k] = value
            r_max = max(r_max, abs(value))
            floor = ROUNDOFF * (abs(known[i0, i1, k]) + abs(loss) + size)
            ratio = max(ratio, max(abs(value) - floor, 0.0) / (atol + rtol * abs(xc)))
        row_stats[r, 0] = r_max
        row_stats[r, 1] = ratio


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _prepare_system(kind, fingerprint, u_old, predictor, f, step, problem, work):
    """The system of :func:`solve_backward_euler`: stiff rates, coefficients, diagonal
    ``1 + dt R``, the start ``x = u_old[f] + dt start_rate`` (``u_old[f]`` when
    ``start_rate`` is empty), the operator on every multigrid level (level 0 gives the
    residual, in 1D too; the coarse ones only for V-cycles), the right-hand side
    ``work.known`` and ``work.own``. Returns the :class:`System` and level 0's coupling
    ``q``."""
    dt, t, d, start_rate = step.dt, step.t, step.d, step.start_rate
    offsets, shapes = work.offsets, work.shapes
    coef = multigrid.level(work.coef, offsets, shapes, 0)
    diagonal = multigrid.level(work.diagonal, offsets, shapes, 0)
    maps, params, mask = problem.maps, problem.params, problem.mask
    stiff_rates(kind, fingerprint, u_old, f, maps, params, t, work.rate_old)
    stiff_rates(kind, fingerprint, predictor, f, maps, params, t + dt, work.rate)
    coefficients(u_old, f, d, problem.diffusivity_law, maps, mask, mask.size > 0, coef)
    _start(u_old[f], start_rate, dt, work.rate, diagonal, work.x)
    coupling = multigrid.prepare_levels(
        work.coef,
        work.diagonal,
        work.operator,
        offsets,
        shapes,
        work.inv_w,
        problem.bc_kind[f],
        dt,
        work.coupling,
        SWEEP_COUPLING if _line_axis(u_old) < 0 else np.inf,
    )
    system = System(coef, work.rate_old, work.rate, dt)
    _known_terms(u_old, predictor[f], f, system, problem, work.known, work.own)
    return system, coupling


@internal(parallel=True, fastmath=FASTMATH)
def _start(u_old, start_rate, dt, rate, diagonal, x):
    """``diagonal = 1 + dt rate`` and the first iterate ``x = u_old + dt start_rate``
    (``x = u_old`` when ``start_rate`` is empty)."""
    n0, n1, n2 = u_old.shape
    extrapolate = start_rate.size > 0
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        for k in range(n2):
            diagonal[i0, i1, k] = 1.0 + dt * rate[i0, i1, k]
            x[i0, i1, k] = u_old[i0, i1, k]
            if extrapolate:
                x[i0, i1, k] += dt * start_rate[i0, i1, k]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _line_axis(u):
    """The one axis longer than a cell of a 1D grid, or -1 (2D and 3D)."""
    lines = 0
    line_axis = 0
    for axis in range(3):
        if u.shape[1 + axis] > 1:
            lines += 1
            line_axis = axis
    return line_axis if lines == 1 else -1


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _correct(u_old, f, d, problem, system, rtol, atol, scratch, work, row_stats):
    """Add to ``work.x`` the correction for the residual in level 0 of ``work.rhs``: one
    line solve in 1D (exact), one multigrid V-cycle otherwise. Returns the largest
    correction over ``atol + rtol |x|``."""
    line_axis = _line_axis(u_old)
    if line_axis >= 0:
        rhs = multigrid.level(work.rhs, work.offsets, work.shapes, 0)
        diagonal = multigrid.level(work.diagonal, work.offsets, work.shapes, 0)
        lam = system.dt * problem.inv_h2[line_axis]
        line_solve_axis(
            rhs,
            u_old,
            f,
            line_axis,
            d,
            problem,
            LineSystem(lam, 0.0, diagonal, 1.0, False, None),
            scratch,
        )
        return _add(work.x, rhs, rtol, atol, row_stats)
    multigrid.v_cycle(
        work.correction,
        work.rhs,
        work.temp,
        work.operator,
        work.offsets,
        work.shapes,
        work.inv_w,
    )
    correction = multigrid.level(work.correction, work.offsets, work.shapes, 0)
    return _add(work.x, correction, rtol, atol, row_stats)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def solve_backward_euler(kind, fingerprint, u_old, predictor, f, step, problem, buffers):
    """Backward-Euler step of field ``f`` (diffusion and stiff decay implicit), in place.

    Solves ``M x = b``, ``M = I + dt R - dt T`` (``R`` the model's ``stiff_rate`` taken
    from ``predictor``, where the fields before ``f`` already hold their new values: a
    quasi-static field then follows its drivers without a step of lag; ``T`` the diffusion
    operator with coefficients from ``u_old`` (``step.d`` [mm^2/day] times the factors of
    ``diffusion.coefficient``); the other reactions stay in the explicit
    ``predictor[f]``, which receives ``x``), from ``x = u_old[f] + dt step.start_rate``
    (the previous step's rate extrapolated: fewer corrections for fields that change
    smoothly); ``step`` a :class:`StiffStep`, ``buffers`` a :class:`StiffBuffers`.
    ``M`` is an M-matrix whose rows exceed their off-diagonal sums by at least 1, so
    ``max|x - x*| <= max|residual|``. The iteration stops when the residual is at the
    round-off of its terms, or when the last correction was below ``0.1 (atol + rtol |x|)``
    in every cell (a tenth of the step-size control's tolerance; the error left is a
    multigrid contraction factor, about 0.1, times that).
    Corrections come from one tridiagonal solve per line in 1D (exact) and from multigrid
    V-cycles in 2D and 3D (``continuum.kernels.multigrid``); a weakly coupled 2D or 3D
    system (coupling at most :data:`SWEEP_COUPLING`: the enzyme at a 40 um cell) is
    relaxed instead by Gauss-Seidel sweeps to :data:`SETTLED` of the tolerance
    (:func:`_relax_to_tolerance`).
    ``problem`` is a :class:`~continuum.kernels.problem.Problem`. Returns the number of
    corrections (or sweeps), or -1 if ``step.max_iterations`` did not suffice.

    Inlined (Numba IR) into its caller, with :func:`_prepare_system`, :func:`_correct`
    and ``multigrid.v_cycle``: each level of calls would compile the code below it once
    more (``loops._imex_euler``). ``kind`` and ``fingerprint`` are literal there.
    """
    d, rtol, atol = step.d, step.rtol, step.atol
    scratch, work, row_stats = buffers.scratch, buffers.work, buffers.row_stats
    system, coupling = _prepare_system(kind, fingerprint, u_old, predictor, f, step, problem, work)
    operator = multigrid.operator_level(work.operator, work.offsets, work.shapes, 0)
    out = predictor[f]
    if _line_axis(u_old) < 0 and coupling <= SWEEP_COUPLING:
        return _relax_to_tolerance(work, operator, coupling, step, out)
    rhs = multigrid.level(work.rhs, work.offsets, work.shapes, 0)
    for iteration in range(step.max_iterations + 1):
        operator_residual(
            work.x, work.known, work.own, operator, work.inv_w[0], rtol, atol, rhs, row_stats
        )
        r_max = 0.0
        ratio = 0.0
        for r in range(row_stats.shape[0]):
            r_max = max(r_max, row_stats[r, 0])
            ratio = max(ratio, row_stats[r, 1])
        if ratio == 0.0:
            copy_into(out, work.x)
            return iteration
        if iteration == step.max_iterations or r_max != r_max:
            break
        if _correct(u_old, f, d, problem, system, rtol, atol, scratch, work, row_stats) <= 0.1:
            copy_into(out, work.x)  # no residual needed to stop
            return iteration + 1
    return -1


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _relax_to_tolerance(work, operator, coupling, step, out):
    """Gauss-Seidel sweeps of a weakly coupled system (``coupling`` ``q <= SWEEP_COUPLING``)
    on ``work.x`` until the bound ``q delta / (1 - q)`` on the error left by the last
    sweep (``multigrid.gauss_seidel``; ``delta`` its change) is below :data:`SETTLED` of
    the tolerance; ``out`` receives ``x``. The bound holds in the max norm; the change
    is measured cell by cell against ``atol + rtol |x|``. Returns the number of sweeps, or
    -1 if ``step.max_iterations`` did not suffice or a value is not finite."""
    w0, w1, w2, total = operator
    x, known, inv_w, rows = work.x, work.known, work.inv_w[0], work.coupling
    for sweep in range(1, step.max_iterations + 1):
        change = multigrid.gauss_seidel(
            x, known, w0, w1, w2, inv_w, total, step.rtol, step.atol, rows
        )
        if not change < np.inf:
            break
        if coupling * change <= SETTLED * (1.0 - coupling):
            copy_into(out, x)
            return sweep
    return -1


@internal(parallel=True, fastmath=FASTMATH)
def _add(x, delta, rtol, atol, row_stats):
    """``x += delta``; returns ``max |delta| / (atol + rtol |x|)`` (infinite where
    ``delta`` is not finite)."""
    n0, n1, n2 = x.shape
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        ratio = 0.0
        for k in range(n2):
            x[i0, i1, k] += delta[i0, i1, k]
            ratio = max(ratio, abs(delta[i0, i1, k]) / (atol + rtol * abs(x[i0, i1, k])))
            if not np.isfinite(delta[i0, i1, k]):
                ratio = np.inf
        row_stats[r, 1] = ratio
    largest = 0.0
    for r in range(n0 * n1):
        largest = max(largest, row_stats[r, 1])
    return largest


def line_scratch(shape3) -> np.ndarray:
    """Thread-local work space of :func:`line_solve_axis`: seven rows of
    ``(position, lane)`` per thread."""
    return np.zeros((numba.config.NUMBA_NUM_THREADS, 7, max(shape3), LANES))


def backward_euler_work(shape3, spacing3, needed: bool) -> BackwardEulerWork:
    """Work arrays of :func:`solve_backward_euler` (small dummies when no field needs them).

    ``(x, known, own, rate_old, rate, coef, diagonal, correction, rhs, temp, operator,
    offsets, shapes, inv_w, coupling)``: five grid arrays, five flat multigrid level
    buffers, the operator's four (face weights per axis, diagonal totals), the level
    layout (inverse cell widths per level and axis) and one entry per row of level 0.
    """
    if not needed:
        shape3 = (1, 1, 1)
    shapes, offsets, inv_w = multigrid.hierarchy(shape3, spacing3)
    size = int(offsets[-1])
    buffers = tuple(np.zeros(size) for _ in range(5))
    operator = tuple(np.zeros(size) for _ in range(4))
    grids = tuple(np.zeros(shape3) for _ in range(5))
    coupling = np.zeros(shape3[0] * shape3[1])
    return BackwardEulerWork(*grids, *buffers, operator, offsets, shapes, inv_w, coupling)
