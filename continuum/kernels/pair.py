"""Two forward-Euler steps in one pass over memory (temporal blocking) on a 2D grid.

A forward-Euler step reads the state once and writes the new one once: on a grid larger
than the caches it runs at the speed of memory, 16 B per cell update. Two steps

.. math::

    u^{(1)} = u^n + h_1 L(u^n), \\qquad u^{n+2} = u^{(1)} + h_2 L(u^{(1)})

need ``u^{(1)}`` only three rows at a time, so :func:`euler_pair_pass` keeps it in a
thread-local window that stays in the cache: it reads ``u^n`` once and writes
``u^{n+2}`` once, 8 B per update. Each thread takes a band of rows (axis 1) and walks it
in chunks of up to ``CHUNK_ROWS`` rows (the window, two rows more, takes about
``WINDOW_BYTES``): row by row, ``u^{(1)}`` one row ahead and then ``u^{n+2}``, so
memory streams steadily. A chunk's window also holds ``u^{(1)}`` one row beyond either
end, which the neighbouring chunk computes again (2 of ``chunk`` first-step updates
repeated).

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
from numba import njit, prange

from continuum.kernels import registry
from continuum.kernels.diffusion import finish_row, update_row
from continuum.kernels.flags import FASTMATH
from continuum.kernels.fv import PERIODIC
from continuum.kernels.internal import internal
from continuum.kernels.stage import STAT_ERROR, STAT_NONFINITE, STAT_TAXIS_RATE, _constant

CHUNK_ROWS = 64
"""At most this many rows of ``u^{n+2}`` per chunk; the window holds two more rows of
``u^{(1)}``."""
BAND_ROWS = 8
"""At least this many rows per thread (each band computes two rows of ``u^{(1)}`` more)."""
WINDOW_BYTES = 2**20
"""Size of a thread's window, where rows are long enough (half a 2 MiB level-2 cache)."""


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _step_row(kind, u, i, target, j, stage, problem, maps, scalars):
    """Write row ``j`` of every field of ``target`` with a forward-Euler step of row ``i``
    of ``u`` (``stage``; ``maps`` aligned with ``u``); returns how many values written are
    not finite."""
    nonfinite = 0
    for f in range(u.shape[0]):
        fused = problem.diffusivity[f] if _constant(problem, f) else 0.0
        out = target[f, 0, j]
        update_row(
            kind,
            u,
            out,
            f,
            0,
            i,
            fused,
            stage,
            problem.bc_kind,
            problem.bc_val,
            problem.inv_h2,
            maps,
            problem.params,
            scalars,
        )
        nonfinite += finish_row(out, out, False, out, stage)
    return nonfinite


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
    thread (:func:`window_buffer`), of ``chunk + 2`` rows.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    maps, row_stats = problem.maps, work.row_stats
    n_fields, _, n1, n2 = u_in.shape
    chunk_rows = work.window.shape[1] // (n_fields * n2) - 2
    bands = min(work.window.shape[0], max(1, n1 // BAND_ROWS))  # a band per thread
    for band in prange(bands):
        start, stop = band * n1 // bands, (band + 1) * n1 // bands
        flat = work.window[numba.get_thread_id()]
        if not two_steps:
            for i in range(start, stop):
                row_stats[i, STAT_NONFINITE] = _step_row(
                    kind, u_in, i, u_out, i, first, problem, maps, s_first
                )
                row_stats[i, STAT_TAXIS_RATE] = 0.0
                row_stats[i, STAT_ERROR] = 0.0
            continue
        for chunk in range(start, stop, chunk_rows):
            end = min(chunk + chunk_rows, stop)
            low, high = max(chunk - 1, 0), min(end + 1, n1)  # rows of u1 in the window
            mid = flat[: n_fields * (high - low) * n2].reshape((n_fields, 1, high - low, n2))
            maps_mid = maps[:, :, low:high, :]
            ready = low  # u1 is in the window on rows [low, ready)
            for i in range(chunk, end):
                # u1 one row ahead, then u2: a steady stream through memory
                while ready < min(i + 2, high):
                    nonfinite = _step_row(
                        kind, u_in, ready, mid, ready - low, first, problem, maps, s_first
                    )
                    if chunk <= ready < end:
                        row_stats[ready, STAT_NONFINITE] = nonfinite
                    ready += 1
                row_stats[i, STAT_NONFINITE] += _step_row(
                    kind, mid, i - low, u_out, i, second, problem, maps_mid, s_second
                )
                row_stats[i, STAT_TAXIS_RATE] = 0.0
                row_stats[i, STAT_ERROR] = 0.0


def pairable(kind: str, shape3, taxis, general: bool, bc_kind) -> bool:
    """Whether two forward-Euler steps of this problem may run as one
    :func:`euler_pair_pass` (module doc): a 2D grid (``shape3 = (1, n1, n2)``, ``n1 >
    1``), no taxis rows, a model without row terms (kernel name ``kind``), no
    variable-coefficient or masked diffusion (``general`` false), and no periodic
    boundary along axis 1 (``bc_kind`` is ``(n_fields, 3, 2)``)."""
    return (
        shape3[0] == 1
        and shape3[1] > 1
        and len(taxis) == 0
        and not registry.row_terms(kind)
        and not general
        and not np.any(np.asarray(bc_kind)[:, 1, :] == PERIODIC)
    )


def window_buffer(n_fields: int, n1: int, n2: int) -> np.ndarray:
    """Thread-local windows of :func:`euler_pair_pass` for ``n_fields`` fields on
    ``n1 x n2`` cells: ``chunk + 2`` rows of every field per thread, ``chunk`` at most
    ``CHUNK_ROWS`` and ``n1``, and at least 1, chosen so that a window takes about
    ``WINDOW_BYTES``."""
    row_bytes = 8 * n_fields * n2
    chunk = min(CHUNK_ROWS, n1, max(1, WINDOW_BYTES // row_bytes - 2))
    return np.zeros((numba.config.NUMBA_NUM_THREADS, n_fields * (chunk + 2) * n2))


def window_fits(window: np.ndarray, state: np.ndarray) -> bool:
    """Whether the windows take no more memory than the state or than their nominal
    ``WINDOW_BYTES`` per thread: three rows per thread of a grid of few, very long rows
    can outweigh the grid itself."""
    return window.nbytes <= max(state.nbytes, window.shape[0] * WINDOW_BYTES)
