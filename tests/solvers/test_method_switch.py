"""Adaptive third-order steps switch to SSP-RK(9,3) where positivity holds the step
(``continuum.solvers.loops``): beyond SSP-RK(4,3)'s limit, still non-negative, and as
accurate as the tolerance asks where the error holds it."""

import numpy as np
import pytest

import continuum as ct

D, N = 1.0, 64


def _cosine_mode(n):
    """A 2D no-flux cosine mode on the unit square and its exact decay rate under the
    finite-volume Laplacian (an eigenvector of it: only the time stepping errs)."""
    h = 1.0 / n
    x = (np.arange(n) + 0.5) * h
    mode = np.multiply.outer(np.cos(np.pi * x), np.cos(np.pi * x))
    decay = 2 * (4 * D / h**2) * np.sin(np.pi * h / 2) ** 2
    return ct.Grid((n, n), h), mode, decay


@pytest.mark.parametrize("rtol", [1e-2, 1e-4])
def test_a_smooth_decay_runs_at_the_ssprk93_limit(rtol):
    grid, mode, decay = _cosine_mode(N)
    model = ct.models.Heat(D)
    state = model.initial_state(grid, u=1.0 + 0.9 * mode)
    t_end = 0.05
    res = ct.simulate(model, state, t_end, save_every=t_end, method="explicit", rtol=rtol)
    limit = 0.9 * 6 / (2 * 2 * D * N**2)  # the loop's margin 0.9 of 6 Euler limits [day]
    # the first step is t_end / 100, then the step grows to SSP-RK(9,3)'s limit and stays
    # (measured 153 steps, none rejected, at both tolerances; SSP-RK(4,3) alone took 456)
    assert res.solver_stats["steps"] <= t_end / limit + 3
    exact = 1.0 + 0.9 * mode * np.exp(-decay * t_end)
    assert np.abs(res.field("u")[-1] - exact).max() < 1e-8  # measured 2.1e-10


@pytest.mark.parametrize(("k", "rtol"), [(4, 1e-6), (12, 1e-3), (12, 1e-8)])
def test_where_the_error_holds_the_step_the_tolerance_is_kept(k, rtol):
    """Steeper modes (``k`` half waves along x): the error controller holds some or all
    steps (measured errors 5.4e-8, 3.4e-5 and 2.7e-9 in 84, 10 and 275 steps; SSP-RK(4,3)
    alone: 2.9e-8, 1.8e-5 and 2.7e-9 in 116, 15 and 275)."""
    grid, _, _ = _cosine_mode(N)
    h = 1.0 / N
    x = (np.arange(N) + 0.5) * h
    mode = np.multiply.outer(np.cos(k * np.pi * x), np.cos(np.pi * x))
    decay = (4 * D / h**2) * (np.sin(k * np.pi * h / 2) ** 2 + np.sin(np.pi * h / 2) ** 2)
    model = ct.models.Heat(D)
    state = model.initial_state(grid, u=1.0 + 0.9 * mode)
    t_end = 2.0 / decay
    res = ct.simulate(model, state, t_end, save_every=t_end, method="explicit", rtol=rtol)
    exact = 1.0 + 0.9 * mode * np.exp(-decay * t_end)
    assert np.abs(res.field("u")[-1] - exact).max() < rtol


@pytest.mark.parametrize("start", ["spike", "checkerboard"])
def test_adaptive_steps_beyond_the_ssprk43_limit_stay_non_negative(start):
    """A unit spike and a checkerboard diffusing at a loose tolerance: the run averages
    steps longer than SSP-RK(4,3)'s positivity limit (2 Euler limits; measured 103 and 79
    steps where SSP-RK(4,3) alone took 244 and 225), never beyond SSP-RK(9,3)'s (6), and
    nothing turns negative."""
    grid = ct.Grid(41, 0.1)
    model = ct.models.Heat(diffusivity=0.3)
    euler_limit = grid.spacing[0] ** 2 / (2 * 0.3)
    if start == "spike":
        u = np.zeros(41)
        u[20] = 1.0
    else:
        u = np.arange(41) % 2.0
    state = model.initial_state(grid, u=u)
    t_end = 400 * euler_limit
    res = ct.simulate(model, state, t_end, save_every=t_end / 8, method="explicit", rtol=0.1)
    steps = res.solver_stats["steps"]
    assert t_end / (6 * euler_limit) <= steps < t_end / (2 * euler_limit)
    assert res.field("u").min() >= 0.0
