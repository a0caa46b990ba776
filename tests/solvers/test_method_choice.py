"""``method="auto"``: which integrator a model on a grid gets, and that runs record it."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import continuum as ct
from continuum.solvers.choice import IMEX_SEPARATION, choose_method


def _fisher_limit(diffusivity, spacing, ndim):
    """The positivity limit [day] of the explicit method (SSP-RK(4,3): twice forward
    Euler's) for a constant diffusivity, by hand, with the solvers' margin 0.9."""
    return 0.9 * 2.0 / (2.0 * diffusivity * ndim / spacing**2)


@pytest.mark.parametrize("factor, expected", [(0.99, "explicit"), (1.01, "imex")])
def test_the_rule_switches_at_the_separation(factor, expected):
    grid = ct.Grid(shape=(20,), spacing=0.1)
    limit = _fisher_limit(0.13, 0.1, 1)
    rho = 1.0 / (factor * IMEX_SEPARATION * limit)  # reaction time scale 1/rho [day]
    model = ct.models.FisherKPP(diffusivity=0.13, growth_rate=rho)
    method, reason = choose_method(model, grid)
    assert method == expected
    assert f"{limit:.3g} day" in reason


def test_fine_grids_of_slow_growth_get_imex_and_coarse_ones_explicit():
    model = ct.models.FisherKPP()  # D = 0.13 mm^2/day, rho = 0.012 /day
    assert choose_method(model, ct.Grid(shape=(64, 64), spacing=0.05))[0] == "imex"
    fast = ct.models.FisherKPP(growth_rate=1.0)
    assert choose_method(fast, ct.Grid(shape=(8, 8), spacing=2.0))[0] == "explicit"


def test_stiff_fields_and_lumped_models():
    grid = ct.Grid(shape=(16, 16), spacing=0.05)
    method, reason = choose_method(ct.models.Invasion(), grid)
    assert method == "imex" and "oxygen" in reason
    lumped = ct.models.LumpedPrimary()
    assert choose_method(lumped, ct.Grid(shape=(1,), spacing=1.0)) == (
        "explicit",
        "no tissue fields",
    )
    assert choose_method(ct.models.Heat(), grid)[0] == "imex"  # no reactions at all


def test_anderson_chaplain_stays_explicit():
    # d_n = d_m = 0.001 on the unit square with 64 cells: limit 0.9 * 2 / 16.4 = 0.11,
    # reactions 1 / eta = 0.1: explicit steps are close to what accuracy asks anyway
    grid = ct.Grid(shape=(64, 64), spacing=1 / 64)
    method, reason = choose_method(ct.models.AndersonChaplain(), grid)
    assert method == "explicit"
    assert "0.11 day" in reason and "0.1 day" in reason


def test_a_run_says_what_auto_chose(tmp_path, caplog):
    grid = ct.Grid(shape=(16, 16), spacing=0.05)
    model = ct.models.FisherKPP()
    u0 = np.zeros(grid.shape)
    u0[6:10, 6:10] = 1.0
    state = model.initial_state(grid, u=u0)
    with caplog.at_level(logging.INFO, logger="continuum"):
        res = ct.simulate(model, state, 2.0, save_every=1.0, output=tmp_path / "a.h5")
    assert res.solver_stats["method"] == "imex"
    assert "method=auto chose 'imex'" in caplog.text
    with ct.open_run(tmp_path / "a.h5") as run:
        settings = run.solver_settings
    assert settings["method"] == "imex"
    assert settings["method_choice"].startswith("auto: imex, diffusion limits")
    given = ct.simulate(model, state, 2.0, save_every=1.0, method="imex")
    np.testing.assert_array_equal(given.state.data, res.state.data)
    resumed = ct.resume(tmp_path / "a.h5", 3.0)
    assert resumed.solver_settings["method"] == "imex"


def test_an_unknown_method_names_auto():
    grid = ct.Grid(shape=(8,), spacing=0.1)
    model = ct.models.FisherKPP()
    with pytest.raises(ValueError, match=r"method: .*'automatic'.*auto"):
        ct.simulate(model, model.initial_state(grid), 1.0, method="automatic")
