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

import numba
import numpy as np
from numba import njit, prange

from continuum.kernels import registry
from continuum.kernels.diffusion import add_diffusion_row_general, update_row
from continuum.kernels.flags import FASTMATH
from continuum.kernels.taxis import add_taxis_row

# Columns of the per-row statistics array.
STAT_NONFINITE, STAT_TAXIS_RATE, STAT_ERROR = 0, 1, 2
N_STATS = 3


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def stage_pass(
    kind,
    fingerprint,
    u_in,
    u_base,
    u_out,
    alpha,
    beta,
    dt,
    t,
    scalars,
    problem,
    rtol,
    atol,
    with_error,
    work,
):
    """Write ``u_out = alpha * u_base + beta * (u_in + dt * L(u_in))``.

    Parameters
    ----------
    kind, fingerprint : literal str and int selecting the model kernels (see ``registry``).
    problem : the tuple ``(maps, params, diffusivity, diffusivity_law, bc_kind, bc_val,
        inv_h, inv_h2, taxis, mask)`` described below (see ``Solver.problem``).
    work : the tuple ``(row_buffer, exports, row_stats)`` of work arrays.
    u_in, u_base, u_out : (n_fields, n0, n1, n2) arrays; ``u_base`` is read only if
        ``alpha != 0`` or ``with_error``.
    diffusivity : (n_fields,) [mm^2/day]; zero skips a field (e.g. treated implicitly).
    diffusivity_law : (n_fields, 4) rows ``(map, field, a, b)``: the coefficient is
        multiplied by ``maps[map]`` (map >= 0) and by ``max(0, a + b u[field])``
        (field >= 0); see ``diffusion.coefficient``.
    inv_h, inv_h2 : (3,) inverse cell widths [1/mm] and their squares.
    taxis : (n_taxis, 3) rows ``(field, attractant, chi)``, chi in [mm^2/day].
    mask : (n0, n1, n2) 0/1 floats, or an empty array for no mask.
    with_error : if true, ``u_in`` is the SSP-RK3 stage ``u2`` and ``u_base`` is ``u_n``;
        the embedded second-order error ``u_out - 2 u_in + u_base`` is measured against
        ``atol + rtol * |u|`` and its row maximum stored.
    row_buffer : (threads, n_fields, n2) scratch; exports : (rows, n_exports);
    row_stats : (rows, 3) non-finite flag, taxis positivity rate, error ratio.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    maps, params, diffusivity, diffusivity_law, bc_kind, bc_val, inv_h, inv_h2, taxis, mask = (
        problem
    )
    row_buffer, exports, row_stats = work
    n_fields, n0, n1, n2 = u_in.shape
    has_mask = mask.size > 0
    general = False
    for f in range(n_fields):
        variable = diffusivity_law[f, 0] >= 0 or diffusivity_law[f, 1] >= 0 or has_mask
        general |= diffusivity[f] != 0.0 and variable
    use_rate = general or taxis.shape[0] > 0 or registry.has_row_terms(kind)
    for r in prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        rate = row_buffer[numba.get_thread_id()]
        taxis_rate = 0.0
        if use_rate:
            rate[:, :] = 0.0
            for f in range(n_fields):
                variable = diffusivity_law[f, 0] >= 0 or diffusivity_law[f, 1] >= 0
                if diffusivity[f] != 0.0 and (variable or has_mask):
                    add_diffusion_row_general(
                        u_in,
                        f,
                        i0,
                        i1,
                        diffusivity[f],
                        diffusivity_law,
                        maps,
                        mask,
                        has_mask,
                        bc_kind,
                        bc_val,
                        inv_h2,
                        rate[f],
                    )
            for j in range(taxis.shape[0]):
                f = int(taxis[j, 0])
                a = int(taxis[j, 1])
                row_rate = add_taxis_row(
                    u_in, f, a, taxis[j, 2], i0, i1, bc_kind, inv_h, mask, has_mask, rate[f]
                )
                taxis_rate = max(taxis_rate, row_rate)
        exports[r, :] = 0.0
        if use_rate:
            registry.reaction_row(kind, u_in, maps, i0, i1, scalars, params, t, rate, exports[r])
        nonfinite = 0
        err = 0.0
        for f in range(n_fields):
            constant = diffusivity_law[f, 0] < 0 and diffusivity_law[f, 1] < 0 and not has_mask
            fused = diffusivity[f] if constant else 0.0
            nonfinite += update_row(
                kind,
                u_in,
                u_base,
                u_out,
                f,
                i0,
                i1,
                fused,
                alpha,
                beta,
                dt,
                t,
                bc_kind,
                bc_val,
                inv_h2,
                rate[f],
                use_rate,
                maps,
                scalars,
                params,
            )
            out = u_out[f, i0, i1]
            if has_mask:
                for k in range(n2):
                    out[k] *= mask[i0, i1, k]
            if with_error:
                now = u_in[f, i0, i1]
                base = u_base[f, i0, i1]
                for k in range(n2):
                    e = abs(out[k] - 2.0 * now[k] + base[k])
                    err = max(err, e / (atol + rtol * max(abs(out[k]), abs(base[k]))))
        row_stats[r, STAT_NONFINITE] = nonfinite
        row_stats[r, STAT_TAXIS_RATE] = taxis_rate
        row_stats[r, STAT_ERROR] = err


@njit(cache=True)
def sum_rows(exports, cell_volume, totals):
    """Reduce per-row export sums in a fixed order and scale by the cell volume."""
    totals[:] = 0.0
    for r in range(exports.shape[0]):
        for e in range(exports.shape[1]):
            totals[e] += exports[r, e]
    for e in range(totals.shape[0]):
        totals[e] *= cell_volume


@njit(cache=True)
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
