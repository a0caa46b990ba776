"""Bad input raises ValueError naming the parameter, the value and the rule, before work."""

import numpy as np
import pytest

import continuum as ct


@pytest.fixture
def setup():
    grid = ct.Grid((16, 16), 0.1)
    model = ct.models.FisherKPP()
    return grid, model, model.initial_state(grid, u=0.1)


def test_negative_diffusivity():
    with pytest.raises(ValueError, match=r"diffusivity: got -1.*>= 0"):
        ct.models.FisherKPP(diffusivity=-1.0)


def test_unknown_parameter():
    with pytest.raises(ValueError, match="unknown parameter"):
        ct.models.Model.__init__(ct.models.Heat(), speed=1.0)


def test_non_positive_t_end(setup):
    _, model, state = setup
    with pytest.raises(ValueError, match=r"t_end: got 0.*> t_start"):
        ct.simulate(model, state, 0.0)


def test_non_positive_save_every(setup):
    _, model, state = setup
    with pytest.raises(ValueError, match="save_every"):
        ct.simulate(model, state, 1.0, save_every=-1.0)


def test_unknown_method(setup):
    _, model, state = setup
    with pytest.raises(ValueError, match="method: got 'rk45'"):
        ct.simulate(model, state, 1.0, method="rk45")


@pytest.mark.parametrize(
    ("method", "coefficient", "words"), [("euler", 1, "0.0192"), ("explicit", 2, "0.03846")]
)
def test_fixed_dt_beyond_stability_limit(setup, method, coefficient, words):
    """Forward Euler's positivity limit is 1 / (2 sum D / h^2); SSP-RK(4,3)'s twice it."""
    _, model, state = setup
    limit = coefficient * 0.1**2 / (4 * 0.13)
    with pytest.raises(ValueError, match=rf"dt: got .* limit of method '{method}' .* is {words}"):
        ct.simulate(model, state, 1.0, method=method, dt=1.01 * limit)


def test_euler_needs_dt(setup):
    _, model, state = setup
    with pytest.raises(ValueError, match="dt: got None"):
        ct.simulate(model, state, 1.0, method="euler")


def test_bad_boundary_condition():
    grid = ct.Grid(8, 0.1)
    with pytest.raises(ValueError, match="periodic on one side only"):
        ct.models.Heat(bc={"u": {"x": ("periodic", "noflux")}}).boundary_arrays(grid)
    with pytest.raises(ValueError, match="unknown field"):
        ct.models.Heat(bc={"v": "noflux"}).boundary_arrays(grid)
    with pytest.raises(ValueError, match="unknown axis"):
        ct.models.Heat(bc={"u": {"y": "noflux"}}).boundary_arrays(grid)


def test_nan_in_initial_state(setup):
    grid, model, _ = setup
    u = np.full(grid.shape, 0.1)
    u[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.initial_state(grid, u=u)


@pytest.mark.parametrize("method", ["euler", "explicit", "imex", "imex2"])
def test_blow_up_is_reported_with_field_time_and_step(method):
    grid = ct.Grid(16, 0.1)
    model = ct.models.FisherKPP(diffusivity=0.01, growth_rate=1e3)
    state = model.initial_state(grid, u=0.5)  # dt = 0.1 overshoots: u(1-u) runs away
    with pytest.raises(ct.SimulationError, match=r"non-finite values in u at t = .* step \d+"):
        ct.simulate(model, state, 10.0, method=method, dt=0.1)


def test_callback_can_stop_the_run(setup):
    _, model, state = setup
    seen = []

    def stop_after_two(t, _state):
        seen.append(t)
        return len(seen) == 2

    res = ct.simulate(model, state, 1.0, save_every=0.1, callback=stop_after_two)
    assert len(res.times) == 2
    np.testing.assert_array_equal(res.times, [0.0, 0.1])  # measured: exactly
