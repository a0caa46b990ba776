"""One fused pass over the grid: right-hand side and Runge-Kutta stage update together.

For every grid row (in parallel over rows) the pass evaluates the explicit right-hand side
``L(u_in)`` = diffusion + taxis + the model's reactions into a thread-local row buffer and
immediately writes the Shu-Osher stage combination

.. math::

    u_{out} = \\alpha\\, u_{base} + \\beta\\,(u_{in} + \\Delta t\\, L(u_{in})),

so each stage reads the state once and writes it once. Per-row side results (the model's
export sums, a non-finite flag, the taxis step limit and the embedded error estimate) go
to row-indexed arrays and are reduced afterwards in a fixed order, which keeps results
independent of the thread count and bit-for-bit reproducible.
"""

from __future__ import annotations

import types

import numba
import numpy as np
from numba import njit, prange
from numba.extending import overload

from continuum.kernels import registry
from continuum.kernels.diffusion import (
    add_diffusion_row_general,
    finish_row,
    reaction_update_row,
    update_row,
)
from continuum.kernels.flags import FASTMATH
from continuum.kernels.internal import internal
from continuum.kernels.taxis import add_taxis_row

RATE_ROWS = True
"""Whether a stage pass has rows of rates beyond the stencil and the pointwise reactions
(variable-coefficient or masked diffusion, taxis, the model's row terms) and a mask to
apply. Its copies for problems without any of them (``pointwise_stage_pass``,
``pointwise_reaction_stage_pass``) bind this global to False, so Numba removes those
branches before it types them (about 1.2 s less to compile; a global, not a literal
argument, so the pass keeps one signature)."""

# Columns of the per-row statistics array.
STAT_NONFINITE, STAT_TAXIS_RATE, STAT_ERROR = 0, 1, 2
N_STATS = 3


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _constant(problem, f):
    """Whether field ``f`` diffuses with a constant coefficient (no law, no mask)."""
    law = problem.diffusivity_law
    return law[f, 0] < 0 and law[f, 1] < 0 and problem.mask.size == 0


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _uses_rate_rows(kind, problem):
    """Whether the stage needs the row buffer: variable-coefficient or masked diffusion,
    taxis, or a model whose ``reaction_row`` does something."""
    general = False
    for f in range(problem.diffusivity.shape[0]):
        general |= problem.diffusivity[f] != 0.0 and not _constant(problem, f)
    return general or problem.taxis.shape[0] > 0 or registry.has_row_terms(kind)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _transport_rows(kind, u_in, i0, i1, problem, rate):
    """Set ``rate`` (n_fields, n2) to the variable-coefficient diffusion and the taxis of
    row ``(i0, i1)`` [u/day]; return the taxis positivity rate [1/day]."""
    rate[:, :] = 0.0
    _general_rows(kind, u_in, i0, i1, problem, rate)
    return _taxis_rows(kind, u_in, i0, i1, problem, rate)


def _general_rows(kind, u_in, i0, i1, problem, rate):
    """Add the variable-coefficient and masked diffusion of row ``(i0, i1)`` to ``rate``.
    Compiled only for a kernel name with such diffusion (``registry.variant``; a solver
    passes a ``/constant-diffusion`` name only for a problem without it)."""
    raise NotImplementedError("only callable from compiled code")


@overload(_general_rows, prefer_literal=True, inline="always")
def _general_rows_impl(kind, u_in, i0, i1, problem, rate):
    if not registry.has_general_diffusion(kind.literal_value):
        return lambda kind, u_in, i0, i1, problem, rate: None

    def impl(kind, u_in, i0, i1, problem, rate):
        for f in range(u_in.shape[0]):
            d = problem.diffusivity[f]
            if d != 0.0 and not _constant(problem, f):
                add_diffusion_row_general(u_in, f, i0, i1, d, problem, rate[f])

    return impl


def _taxis_rows(kind, u_in, i0, i1, problem, rate):
    """Add the taxis terms of row ``(i0, i1)`` to ``rate``; return their positivity rate
    [1/day]. Compiled only for a kernel name with taxis (``registry.variant``; the
    solvers pass a name without taxis only when ``problem.taxis`` is empty: a check here
    would raise inside the parallel loop, which Numba then runs serially)."""
    raise NotImplementedError("only callable from compiled code")


@overload(_taxis_rows, prefer_literal=True, inline="always")
def _taxis_rows_impl(kind, u_in, i0, i1, problem, rate):
    if not registry.has_taxis(kind.literal_value):

        def none(kind, u_in, i0, i1, problem, rate):
            return 0.0

        return none

    def impl(kind, u_in, i0, i1, problem, rate):
        taxis_rate = 0.0
        for j in range(problem.taxis.shape[0]):
            f = int(problem.taxis[j, 0])
            taxis_rate = max(taxis_rate, add_taxis_row(u_in, j, i0, i1, problem, rate[f]))
        return taxis_rate

    return impl


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _apply_mask(out, mask, i0, i1):
    """Multiply ``out`` (row ``(i0, i1)``) by the mask (empty: none)."""
    if mask.size > 0:
        for k in range(out.shape[0]):
            out[k] *= mask[i0, i1, k]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _row_error(out, now, base, stage, err):
    """With ``stage.with_error`` the maximum of ``err`` and the row's embedded error
    ``|out - 2 now + base| / (atol + rtol |u|)``; ``err`` otherwise."""
    if stage.with_error:
        rtol, atol = stage.rtol, stage.atol
        for k in range(out.shape[0]):
            e = abs(out[k] - 2.0 * now[k] + base[k])
            err = max(err, e / (atol + rtol * max(abs(out[k]), abs(base[k]))))
    return err


@internal(parallel=True, fastmath=FASTMATH)
def stage_pass(kind, fingerprint, u_in, u_base, u_out, scalars, stage, problem, work):
    """Write ``u_out = alpha * u_base + beta * (u_in + dt * L(u_in))``.

    Parameters
    ----------
    kind, fingerprint : literal str and int selecting the model kernels (see ``registry``).
    u_in, u_base, u_out : (n_fields, n0, n1, n2) arrays; ``u_base`` is read only if
        ``alpha != 0`` or ``stage.with_error``.
    scalars : the scalar vector the reactions see.
    stage : :class:`~continuum.kernels.problem.Stage`, the coefficients ``alpha``,
        ``beta``, the step ``dt`` [day], the time ``t`` [day] and the error measurement.
    problem : :class:`~continuum.kernels.problem.Problem`, the static arrays
        (``Solver.problem``).
    work : :class:`~continuum.kernels.problem.StageWork`; this pass writes its
        ``exports`` (rows, n_exports) and ``row_stats`` (rows, 3): non-finite flag, taxis
        positivity rate [1/day], embedded error ratio.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    maps, params, mask = problem.maps, problem.params, problem.mask
    bc_kind, bc_val, inv_h2 = problem.bc_kind, problem.bc_val, problem.inv_h2
    exports, row_stats = work.exports, work.row_stats
    n_fields, n0, n1, _ = u_in.shape
    use_rate = False
    if RATE_ROWS:
        use_rate = _uses_rate_rows(kind, problem)
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        rate = work.row_buffer[numba.get_thread_id()]
        taxis_rate = _transport_rows(kind, u_in, i0, i1, problem, rate) if use_rate else 0.0
        exports[r, :] = 0.0
        if use_rate:
            registry.reaction_row(
                kind, u_in, maps, i0, i1, scalars, params, stage.t, rate, exports[r]
            )
        nonfinite = 0
        err = 0.0
        for f in range(n_fields):
            fused = problem.diffusivity[f] if _constant(problem, f) else 0.0
            out = u_out[f, i0, i1]
            update_row(
                kind,
                u_in,
                out,
                f,
                i0,
                i1,
                fused,
                stage,
                bc_kind,
                bc_val,
                inv_h2,
                maps,
                params,
                scalars,
            )
            nonfinite += finish_row(out, rate[f], use_rate, u_base[f, i0, i1], stage)
            if RATE_ROWS:
                _apply_mask(out, mask, i0, i1)
            err = _row_error(out, u_in[f, i0, i1], u_base[f, i0, i1], stage, err)
        row_stats[r, STAT_NONFINITE] = nonfinite
        row_stats[r, STAT_TAXIS_RATE] = taxis_rate
        row_stats[r, STAT_ERROR] = err


def _copy(kernel, name, **replaced):
    """A copy named ``name`` of the stage pass ``kernel`` (its Python function) whose
    globals ``replaced`` differ, compiled alike. A copy, not an overload chosen in the
    loop: an inlined overload per row update costs every other run 0.3 s of
    compilation. Numba reads the copy's globals, and its disk cache is its own (keyed by
    the name)."""
    names = {**kernel.__globals__, **replaced}
    copy = types.FunctionType(kernel.__code__, names, name)
    copy.__qualname__ = name
    copy.__doc__ = kernel.__doc__
    return internal(parallel=True, fastmath=FASTMATH)(copy)


reaction_stage_pass = _copy(
    stage_pass.py_func, "reaction_stage_pass", update_row=reaction_update_row
)
"""The stage pass of a problem in which no field diffuses explicitly (IMEX by default):
its rows call ``diffusion.reaction_update_row``, no stencil."""
pointwise_stage_pass = _copy(stage_pass.py_func, "pointwise_stage_pass", RATE_ROWS=False)
"""The stage pass of a problem without rows of rates or a mask (:data:`RATE_ROWS`)."""
pointwise_reaction_stage_pass = _copy(
    stage_pass.py_func,
    "pointwise_reaction_stage_pass",
    update_row=reaction_update_row,
    RATE_ROWS=False,
)
"""Both: the reactions alone, pointwise (IMEX Fisher-KPP's)."""


@internal(parallel=True, fastmath=FASTMATH)
def ssprk93_error_rows(u, y6, y8, y9, rtol, atol, row_stats):
    """Write each row's maximum of the SSP-RK(9,3) local error estimate to ``row_stats[:,
    STAT_ERROR]``: ``|y9 - (u - 4 y6 + 6 y8) / 3| / (atol + rtol max(|y9|, |u|))``.

    ``u`` is the state at the start of the step, ``y6``, ``y8`` and ``y9`` the results of
    stages 6, 8 and 9 (``y9`` the new state), all ``(n_fields, n0, n1, n2)``; the
    embedded solution ``(u - 4 y6 + 6 y8) / 3`` is second order with non-negative weights
    (``continuum.solvers.loops``), so the estimate is O(h^3).
    """
    n_fields, n0, n1, n2 = u.shape
    third = 1.0 / 3.0
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        err = 0.0
        for f in range(n_fields):
            for k in range(n2):
                new, old = y9[f, i0, i1, k], u[f, i0, i1, k]
                e = abs(new - third * (old - 4.0 * y6[f, i0, i1, k] + 6.0 * y8[f, i0, i1, k]))
                err = max(err, e / (atol + rtol * max(abs(new), abs(old))))
        row_stats[r, STAT_ERROR] = err


@internal()
def sum_rows(exports, cell_volume, totals):
    """Reduce per-row export sums in a fixed order and scale by the cell volume."""
    totals[:] = 0.0
    for r in range(exports.shape[0]):
        for e in range(exports.shape[1]):
            totals[e] += exports[r, e]
    for e in range(totals.shape[0]):
        totals[e] *= cell_volume


@internal()
def column_max(row_stats, column):
    """Maximum of one statistics column (NaN-propagating)."""
    value = 0.0
    for r in range(row_stats.shape[0]):
        x = row_stats[r, column]
        if x != x:
            return x
        value = max(value, x)
    return value


def row_buffer(n_fields: int, n2: int) -> np.ndarray:
    """Thread-local scratch rows for :func:`stage_pass`."""
    return np.zeros((numba.config.NUMBA_NUM_THREADS, n_fields, n2))
