"""Named bundles of arrays the compiled kernels take (Numba types ``NamedTuple`` instances
as records, caches functions that take them, and reads a field as cheaply as a local).

They are built in Python (``continuum.solvers.base``) and passed in; a kernel reads
``problem.bc_kind`` instead of unpacking a tuple by position.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Problem(NamedTuple):
    """The static arrays of a problem, as the stage and implicit kernels take them.

    The order is that of the positional tuple it replaces, so ``Problem(*old_tuple)``
    converts one.
    """

    maps: np.ndarray
    """(n_maps, n0, n1, n2) static maps of the model (relative diffusivity, vessels, ...)."""
    params: np.ndarray
    """(n_params,) the model's parameter vector."""
    diffusivity: np.ndarray
    """(n_fields,) [mm^2/day]; zero skips a field (e.g. one treated implicitly)."""
    diffusivity_law: np.ndarray
    """(n_fields, 4) rows ``(map, field, a, b)``: the coefficient is multiplied by
    ``maps[map]`` (map >= 0) and by ``max(0, a + b u[field])`` (field >= 0); see
    ``diffusion.coefficient``."""
    bc_kind: np.ndarray
    """(n_fields, 3, 2) boundary-condition codes (``fv.NOFLUX``, ``DIRICHLET``,
    ``PERIODIC``) per field, axis and side."""
    bc_val: np.ndarray
    """(n_fields, 3, 2) Dirichlet values (dimension of the field)."""
    inv_h: np.ndarray
    """(3,) inverse cell widths [1/mm]."""
    inv_h2: np.ndarray
    """(3,) their squares [1/mm^2]."""
    taxis: np.ndarray
    """(n_taxis, 3) rows ``(field, attractant, chi)``, chi [mm^2/day]."""
    mask: np.ndarray
    """(n0, n1, n2) 0/1 floats, or an empty array for no mask."""


class StageWork(NamedTuple):
    """Work arrays of the stage pass and of the scalar stage (no allocation per step)."""

    row_buffer: np.ndarray
    """(threads, n_fields, n2) thread-local rate rows."""
    exports: np.ndarray
    """(rows, n_exports) per-row sums of the export densities."""
    row_stats: np.ndarray
    """(rows, N_STATS) non-finite flag, taxis positivity rate, error ratio."""
    totals: np.ndarray
    """(n_exports,) the exports integrated over the grid [per day]."""
    ds: np.ndarray
    """(n_scalars,) the scalars' time derivative."""
    cell_volume: float
    """[mm^3], turns the export sums into totals."""
    window: np.ndarray
    """(threads, size) thread-local windows of the two-step forward-Euler pass
    (``pair.window_buffer``); (threads, 0) where no such pass runs."""


class Stage(NamedTuple):
    """One Shu-Osher stage ``u_out = alpha u_base + beta (u_in + dt L(u_in))`` at ``t``.

    With ``with_error``, ``u_in`` is the SSP-RK(4,3) stage ``u3`` and ``u_base`` is ``u_n``:
    the stage also measures the embedded second-order error ``u_out - 2 u_in + u_base``
    against ``atol + rtol |u|``.
    """

    alpha: float
    beta: float
    dt: float
    """[day]"""
    t: float
    """[day], the time at which ``L`` is evaluated."""
    with_error: bool
    rtol: float
    atol: float
