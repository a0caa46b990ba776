"""Two forward-Euler steps in one pass over memory (temporal blocking) on a 2D grid.

A forward-Euler step reads the state once and writes the new one once: on a grid larger
than the caches it runs at the speed of memory, 16 B per cell update. Two steps

.. math::

    u^{(1)} = u^n + h_1 L(u^n), \\qquad u^{n+2} = u^{(1)} + h_2 L(u^{(1)})

need ``u^{(1)}`` only three rows at a time, so :func:`euler_pair_pass` keeps it in a
thread-local window that stays in the cache: it reads ``u^n`` once and writes
``u^{n+2}`` once, 8 B per update. Each thread takes a band of rows (axis 1) and walks it
in chunks of ``CHUNK_ROWS``: it computes ``u^{(1)}`` on the chunk's rows and one row on
either side (those two are computed again by the neighbouring chunk: 2 of
``CHUNK_ROWS`` updates of the first step repeated), then ``u^{n+2}`` on the chunk's rows.

Both steps call the stage pass's own row update (``diffusion.update_row``), the second
on a view of the window whose row indices are shifted by the chunk's first row; a row
at the window's edge is a row at the grid's edge exactly when the window ends there, so
the boundary rules are those of the grid. With strict IEEE arithmetic
(``flags.FASTMATH``) the result is bit for bit that of two stage passes.

Only problems whose stage pass is a pointwise reaction plus constant-coefficient
diffusion qualify (:func:`pairable`): no taxis, no row terms (no exports), no
variable-coefficient or masked diffusion, a 2D grid, and no periodic boundary along
axis 1 (the window does not hold the periodic image). The scalars are advanced before
the pass (their rates see no exports), so the second step's reactions see the scalars
after the first, as in two separate steps.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from continuum.kernels import registry
from continuum.kernels.diffusion import finish_row, update_row
from continuum.kernels.flags import FASTMATH
from continuum.kernels.fv import PERIODIC
from continuum.kernels.internal import internal
from continuum.kernels.stage import STAT_ERROR, STAT_NONFINITE, STAT_TAXIS_RATE, _constant

CHUNK_ROWS = 32
"""Rows of ``u^{n+2}`` per chunk; the window holds two more rows of ``u^{(1)}``."""


@internal(parallel=True, fastmath=FASTMATH)
def euler_pair_pass(
    kind, fingerprint, u_in, u_out, s_first, s_second, first, second, problem, work, two_steps
):
    """``u_out`` = two forward-Euler steps from ``u_in`` (module doc), or one when
    ``two_steps`` is false.

    ``u_in``, ``u_out`` are ``(n_fields, 1, n1, n2)``; ``first`` and ``second`` the
    :class:`~continuum.kernels.problem.Stage` of each step (``alpha = 0``, ``beta = 1``,
    their ``dt`` [day] and ``t`` [day]); ``s_first`` and ``s_second`` the scalars each
    step's reactions see. ``work.row_stats[r]`` gets the number of non-finite values the
    steps wrote on row ``r`` (taxis rate and error 0); ``work.window`` holds a window per
    thread (:func:`window_buffer`).
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    maps, params = problem.maps, problem.params
    bc_kind, bc_val, inv_h2 = problem.bc_kind, problem.bc_val, problem.inv_h2
    row_stats = work.row_stats
    n_fields, _, n1, n2 = u_in.shape
    bands = min(work.window.shape[0], max(1, n1 // CHUNK_ROWS))  # a band per thread
    for band in prange(bands):
        start, stop = band * n1 // bands, (band + 1) * n1 // bands
        flat = work.window[numba.get_thread_id()]
        if not two_steps:
            for i in range(start, stop):
                nonfinite = 0
                for f in range(n_fields):
                    fused = problem.diffusivity[f] if _constant(problem, f) else 0.0
                    out = u_out[f, 0, i]
                    update_row(
                        kind,
                        u_in,
                        out,
                        f,
                        0,
                        i,
                        fused,
                        first,
                        bc_kind,
                        bc_val,
                        inv_h2,
                        maps,
                        params,
                        s_first,
                    )
                    nonfinite += finish_row(out, out, False, out, first)
                row_stats[i, STAT_NONFINITE] = nonfinite
                row_stats[i, STAT_TAXIS_RATE] = 0.0
                row_stats[i, STAT_ERROR] = 0.0
            continue
        for chunk in range(start, stop, CHUNK_ROWS):
            end = min(chunk + CHUNK_ROWS, stop)
            low, high = max(chunk - 1, 0), min(end + 1, n1)  # rows of u1 in the window
            rows = high - low
            mid = flat[: n_fields * rows * n2].reshape((n_fields, 1, rows, n2))
            for i in range(low, high):
                nonfinite = 0
                for f in range(n_fields):
                    fused = problem.diffusivity[f] if _constant(problem, f) else 0.0
                    out = mid[f, 0, i - low]
                    update_row(
                        kind,
                        u_in,
                        out,
                        f,
                        0,
                        i,
                        fused,
                        first,
                        bc_kind,
                        bc_val,
                        inv_h2,
                        maps,
                        params,
                        s_first,
                    )
                    nonfinite += finish_row(out, out, False, out, first)
                if chunk <= i < end:
                    row_stats[i, STAT_NONFINITE] = nonfinite
            maps_mid = maps[:, :, low:high, :]
            for i in range(chunk, end):
                nonfinite = 0
                for f in range(n_fields):
                    fused = problem.diffusivity[f] if _constant(problem, f) else 0.0
                    out = u_out[f, 0, i]
                    update_row(
                        kind,
                        mid,
                        out,
                        f,
                        0,
                        i - low,
                        fused,
                        second,
                        bc_kind,
                        bc_val,
                        inv_h2,
                        maps_mid,
                        params,
                        s_second,
                    )
                    nonfinite += finish_row(out, out, False, out, second)
                row_stats[i, STAT_NONFINITE] += nonfinite
                row_stats[i, STAT_TAXIS_RATE] = 0.0
                row_stats[i, STAT_ERROR] = 0.0


def pairable(kind: str, shape3, taxis, diffusivity, diffusivity_law, mask, bc_kind) -> bool:
    """Whether two forward-Euler steps of this problem may run as one
    :func:`euler_pair_pass` (module doc): a 2D grid (``shape3 = (1, n1, n2)``, ``n1 >
    1``), no taxis rows, a model without row terms (kernel name ``kind``), every
    diffusing field with a constant coefficient, no mask, and no periodic boundary along
    axis 1 (``bc_kind`` is ``(n_fields, 3, 2)``)."""
    constant = all(
        d == 0.0 or (law[0] < 0 and law[1] < 0)
        for d, law in zip(diffusivity, diffusivity_law, strict=True)
    )
    return (
        shape3[0] == 1
        and shape3[1] > 1
        and len(taxis) == 0
        and not registry.row_terms(kind)
        and constant
        and mask.size == 0
        and not np.any(np.asarray(bc_kind)[:, 1, :] == PERIODIC)
    )


def window_buffer(n_fields: int, n2: int) -> np.ndarray:
    """Thread-local windows of :func:`euler_pair_pass`: ``CHUNK_ROWS + 2`` rows of every
    field per thread."""
    return np.zeros((numba.config.NUMBA_NUM_THREADS, n_fields * (CHUNK_ROWS + 2) * n2))
