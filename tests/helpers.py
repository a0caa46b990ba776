"""Shared helpers for the tests."""

import numba
import numpy as np
from numba import njit

from continuum.kernels.stage import stage_pass
from continuum.solvers import loops
from continuum.solvers.base import make_solver


@njit(cache=True)
def _stage_pass(kind, fingerprint, u_in, u_base, u_out, scalars, stage, problem, work):
    """``stage.stage_pass`` callable from Python (the solvers' kernels are compiled for
    compiled callers only)."""
    numba.literally(kind)
    numba.literally(fingerprint)
    stage_pass(kind, fingerprint, u_in, u_base, u_out, scalars, stage, problem, work)


@njit(cache=True)
def _scalar_stage(kind, fingerprint, s_in, s_base, s_out, stage, params, work):
    """``loops.scalar_stage`` callable from Python."""
    numba.literally(kind)
    numba.literally(fingerprint)
    loops.scalar_stage(kind, fingerprint, s_in, s_base, s_out, stage, params, work)


def compiled_rate(model, state):
    """The compiled right-hand side, read off one forward-Euler step of a safe size."""
    probe = state.copy()
    rate_limit = make_solver("explicit", model, state.copy()).diffusion_rate
    dt = 0.25 / rate_limit if rate_limit > 0 else 1e-3
    solver = make_solver("euler", model, probe, dt=dt)
    solver.advance(dt)
    return (probe.data - state.data) / dt


def observed_orders(errors, refinement=2.0):
    errors = np.asarray(errors)
    return np.log(errors[:-1] / errors[1:]) / np.log(refinement)


# A primary's cell budget: these terms minus ``born`` equal the initial tumour cells.
PRIMARY_BUDGET_TERMS = (
    "tumor_cells",
    "blood_ctc",
    "lymph_ctc",
    "cleared",
    "killed_immune",
    "extravasated",
    "node_arrested",
    "first_pass",
    "died",
    "removed",
)


def _field_stage(model, state, t):
    """An explicit solver on a copy of ``state`` after one fused stage
    ``u_out = u_in + dt L(u_in)`` with ``dt = 2**30`` (exact in binary); returns
    ``(solver, u_out, dt)``."""
    from continuum.kernels.problem import Stage
    from continuum.kernels.registry import FINGERPRINT, entry_point

    solver = make_solver("explicit", model, state.copy())
    dt = float(2**30)
    u_out = np.empty_like(solver.u)
    stage = Stage(alpha=0.0, beta=1.0, dt=dt, t=float(t), with_error=False, rtol=1.0, atol=1.0)
    problem = solver.problem(solver.diffusivity)
    field_args = (solver.kind, FINGERPRINT, solver.u, solver.u, u_out, solver.s, stage, problem)
    field_args += (solver.work,)
    if solver.u.shape[0] > 0:
        entry_point(_stage_pass, field_args)(*field_args)
    return solver, u_out, dt


def compiled_rhs(model, state, t=0.0):
    """The compiled right-hand side at ``state``, read off the stage kernel itself.

    Calls the fused stage ``u_out = u_in + dt L(u_in)`` once with ``dt = 2**30`` (exact in
    binary), so ``L = (u_out - u_in) / dt`` carries a rounding error of about ``eps |L|``
    only. Returns ``(field_rate, export_totals, scalar_rate)``: the fields' rates
    (grid shape), the exports integrated over the grid (per day) and the scalars' rates.
    """
    from continuum.kernels.registry import FINGERPRINT, entry_point

    solver, u_out, dt = _field_stage(model, state, t)
    s_out = np.empty_like(solver.s)
    scalar_stage = loops.Stage(0.0, 1.0, 1.0, float(t), False, 1.0, 1.0)
    scalar_args = (solver.kind, FINGERPRINT, solver.s, solver.s, s_out, scalar_stage)
    scalar_args += (solver.params, solver.work)
    entry_point(_scalar_stage, scalar_args)(*scalar_args)
    rate = ((u_out - solver.u) / dt).reshape(state.data.shape)
    return rate, solver.totals.copy(), solver.ds.copy()


def compiled_taxis_rate_limit(model, state):
    """The taxis positivity rate [1/day] the compiled stage reports at ``state`` (the
    maximum of its per-row statistics)."""
    from continuum.kernels.stage import STAT_TAXIS_RATE

    solver, _, _ = _field_stage(model, state, 0.0)
    return float(solver.work.row_stats[:, STAT_TAXIS_RATE].max())
