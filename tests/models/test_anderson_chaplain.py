"""Anderson-Chaplain haptotaxis model: exact invariants and positivity."""

import numpy as np
import pytest
from scipy.integrate import cumulative_simpson

import continuum as ct


@pytest.mark.parametrize("method", ["explicit", "imex"])
@pytest.mark.parametrize("shape", [(200,), (48, 48)])
def test_cell_and_enzyme_totals(method, shape):
    grid = ct.Grid(shape, 1.0 / shape[0])
    model = ct.models.AndersonChaplain()
    res = ct.simulate(model, model.initial_state(grid), 5.0, save_every=0.5, method=method)
    n = res.series("total_n")
    # round-off: measured at most 3.5e-14 (explicit 1D; 2D 1.2e-14, imex <= 7.1e-15)
    assert np.abs(n / n[0] - 1).max() < 1e-13
    m = res.series("total_m")
    # total m' = alpha total n is linear in t, so every method integrates it exactly: round-off,
    # measured at most 3.7e-14 (explicit 1D; 2D 1.2e-14, imex <= 7.8e-15)
    expected = m[0] + model.parameters["alpha"] * res.times * n[0]
    assert np.abs(m / expected - 1).max() < 1e-13


def test_matrix_follows_its_closed_form():
    """f = f0 exp(-eta * integral of m dt), pointwise."""
    grid = ct.Grid(100, 0.01)
    model = ct.models.AndersonChaplain()
    state = model.initial_state(grid)
    res = ct.simulate(model, state, 2.0, save_every=0.01, rtol=1e-9, atol=1e-12)
    integral = cumulative_simpson(res.field("m"), x=res.times, axis=0, initial=0.0)
    expected = state.field("f") * np.exp(-model.parameters["eta"] * integral)
    # SSP-RK(4,3) at rtol 1e-9 and Simpson's rule on 0.01-day frames: measured 4.4e-10
    np.testing.assert_allclose(res.field("f"), expected, rtol=0, atol=1.2e-9)


@pytest.mark.parametrize("method", ["explicit", "imex"])
def test_strong_haptotaxis_stays_positive_and_bounded(method):
    grid = ct.Grid((64, 64), 1.0 / 64)
    model = ct.models.AndersonChaplain(gamma=0.5, d_n=1e-4)  # taxis 5000x motility
    res = ct.simulate(model, model.initial_state(grid), 5.0, save_every=0.5, method=method)
    for name in ("n", "f", "m"):
        assert res.field(name).min() >= 0.0
    assert res.field("f").max() <= 1.0
    n = res.series("total_n")
    # round-off: measured 3.5e-13 (explicit), 1.2e-14 (imex)
    assert np.abs(n / n[0] - 1).max() < 1e-12
