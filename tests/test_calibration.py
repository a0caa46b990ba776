"""Calibration of growth laws: synthetic recovery, the real lung data, units of the model."""

import numpy as np
import pytest

import continuum as ct
from continuum import calibration as cal
from continuum.units import CELLS_PER_MM3


@pytest.mark.parametrize(
    ("law", "true"),
    [
        ("gompertz", {"a": 0.08, "K": 3000.0}),
        ("power", {"a": 1.2, "gamma": 0.7}),
        ("logistic", {"a": 0.4, "K": 1500.0}),
        ("exponential_linear", {"a": 0.5, "a1": 60.0}),
    ],
)
def test_known_parameters_are_recovered_within_their_intervals(law, true):
    rng = np.random.default_rng(2024)
    t = np.tile(np.arange(4.0, 25.0, 2.0), 6)
    v = cal.volume(law, true, t, 1.0) * np.exp(0.15 * rng.standard_normal(t.size))
    fit = cal.calibrate(t, v, law)
    for name, (low, high) in fit.interval(0.95).items():
        assert low < true[name] < high, (name, low, true[name], high)
        assert high / low < 2.0  # informative, not just wide (measured at most 1.5)
    # three standard errors of a sigma estimated from 66 residuals (1 / sqrt(2 n) = 8.7 %);
    # measured 5.8-6.3 % low for the four laws
    assert fit.sigma == pytest.approx(0.15, rel=0.25)


def test_pooled_gompertz_passes_through_the_lung_data():
    """Lewis lung carcinoma, 20 mice: the pooled Gompertz curve lies within the spread
    of the volumes at every day with at least five measurements."""
    data = cal.tumor_growth_data("lung")
    assert len(data) == 20 and sum(t.size for t, _ in data.values()) == 188
    times, volumes = cal.split(data)
    fit = cal.calibrate(times, volumes, "gompertz")
    assert ct.calibrate(data, law="gompertz").values == fit.values
    t = np.concatenate(list(times.values()))
    v = np.concatenate(list(volumes.values()))
    checked = 0
    for day in np.unique(t):
        observed = v[t == day]
        if observed.size >= 5:
            low, high = np.percentile(observed, [10, 90])
            assert low <= fit.predict(day) <= high, day
            checked += 1
    assert checked >= 8
    # log units: the mean within 3 standard errors (sigma / sqrt(188) = 0.036; measured
    # 0.0073), the spread measured 0.49
    assert abs(np.mean(fit.residuals)) < 0.1 and fit.sigma < 0.6
    individual = cal.calibrate(times, volumes, "gompertz", individual=True)
    assert set(individual) == set(data)
    # individuals fit better than the population curve
    assert np.median([f.sigma for f in individual.values()]) < fit.sigma


@pytest.mark.parametrize("law", ["gompertz", "power", "exponential_linear", "logistic"])
def test_the_fitted_lumped_primary_grows_like_the_fit(law):
    """The closed forms here and the lumped model's ODE, in cells, agree (units)."""
    true = {
        "gompertz": {"a": 0.08, "K": 3000.0},
        "power": {"a": 1.2, "gamma": 0.7},
        "exponential_linear": {"a": 0.5, "a1": 60.0},
        "logistic": {"a": 0.4, "K": 1500.0},
    }[law]
    t = np.linspace(0.0, 30.0, 31)
    fit = cal.calibrate(t, cal.volume(law, true, t, 1.0), law)
    model = fit.to_lumped()
    state = model.initial_state(ct.Grid((1,), 1.0), tumor_cells=fit.v0 * CELLS_PER_MM3)
    res = ct.simulate(model, state, 30.0, save_every=5.0)
    # at the solver's default rtol 1e-8: measured at most 6.4e-9
    np.testing.assert_allclose(
        res.series("tumor_cells"), CELLS_PER_MM3 * fit.predict(res.times), rtol=2e-8
    )


def test_fitted_initial_volume_and_bad_input():
    t = np.arange(0.0, 20.0, 2.0)
    v = cal.volume("gompertz", {"a": 0.1, "K": 2000.0}, t, 3.0)
    fit = cal.calibrate(t, v, "gompertz", v0=None)
    assert fit.v0 == pytest.approx(3.0, rel=1e-8)  # the optimiser's xtol; measured 3.0e-13
    with pytest.raises(ValueError, match="every volume must be finite and > 0"):
        cal.calibrate(t, -v, "gompertz")
    with pytest.raises(ValueError, match="law: got 'gompretz'"):
        cal.calibrate(t, v, "gompretz")
    with pytest.raises(ValueError, match="unknown parameter"):
        cal.calibrate(t, v, "gompertz", guess={"b": 1.0})
