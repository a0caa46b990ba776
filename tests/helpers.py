"""Shared helpers for the tests."""

import numpy as np

from continuum.solvers.base import make_solver


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
    "extravasated",
    "node_arrested",
    "first_pass",
    "died",
    "removed",
)
