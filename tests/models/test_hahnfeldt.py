"""Hahnfeldt's angiogenic switch for the lumped primary (Hahnfeldt, Panigrahy, Folkman &
Hlatky, Cancer Res 1999;59:4770-4775): the ODEs against SciPy, the stationary points,
the budget, calibration to the Lewis lung data, bad input."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import continuum as ct
from continuum import calibration as cal
from continuum.models.lumped import HAHNFELDT_LEWIS_LUNG, HAHNFELDT_LEWIS_LUNG_V0
from continuum.units import CELLS_PER_MM3
from tests.helpers import PRIMARY_BUDGET_TERMS

LLC = {"law": "hahnfeldt", **HAHNFELDT_LEWIS_LUNG}
B, D = HAHNFELDT_LEWIS_LUNG["stimulation"], HAHNFELDT_LEWIS_LUNG["inhibition"]
TIMES = np.arange(0.0, 20.5, 2.5)  # days


def reference(t_end, p0, k0, therapy=0.0, times=TIMES):
    """SciPy's DOP853 on dP/dt = a P ln(K/P), dK/dt = b P - d K (P/c)^(2/3) - e K (cells)."""
    a = HAHNFELDT_LEWIS_LUNG["a"]

    def rates(_, y):
        p, k = y
        return [a * p * np.log(k / p), B * p - D * k * (p / CELLS_PER_MM3) ** (2 / 3) - therapy * k]

    return solve_ivp(
        rates, (0.0, t_end), [p0, k0], method="DOP853", t_eval=times, rtol=1e-12, atol=1e-6
    ).y


def run(model, t_end, rtol=1e-9, interventions=(), **initial):
    state = model.initial_state(
        ct.Grid(1, 1.0), **{"tumor_cells": HAHNFELDT_LEWIS_LUNG_V0, **initial}
    )
    return ct.simulate(
        model, state, t_end, save_every=2.5, rtol=rtol, atol=1e-9, interventions=interventions
    )


def test_lewis_lung_run_follows_scipy():
    """From V0 = 180 mm^3 and K0 = 625 mm^3 over 20 days."""
    model = ct.models.LumpedPrimary(growth=LLC)
    res = run(model, 20.0)
    assert res.series("vascular_capacity")[0] == 625.0 * CELLS_PER_MM3  # K0, the default
    p, k = reference(20.0, HAHNFELDT_LEWIS_LUNG_V0, HAHNFELDT_LEWIS_LUNG["K"])
    # solver rtol 1e-9: measured 1.2e-10 in P, 2.2e-10 in Kv (1e-11: 6.7e-13, 2.4e-12)
    np.testing.assert_allclose(res.series("tumor_cells"), p, rtol=1e-8)
    np.testing.assert_allclose(res.series("vascular_capacity"), k, rtol=1e-8)
    assert k[-1] > 20 * k[0]  # the capacity does move


def test_cascade_primary_follows_scipy_too():
    """In a cascade the tumour runs as LumpedShedding (vascular_capacity after shed_blood,
    shed_lymph); with shedding_loss = 0 shedding does not deplete it."""
    primary = ct.models.LumpedPrimary(growth=LLC, mu=1e-3, alpha=2 / 3, shedding_loss=0.0)
    model = ct.Cascade(primary, ct.Circulation(), [ct.SecondarySite("lung")], horizon=20.0)
    state = model.initial_state(tumor_cells=HAHNFELDT_LEWIS_LUNG_V0)
    res = ct.simulate(model, state, 20.0, save_every=2.5, rtol=1e-9, atol=1e-9)
    # measured 1.2e-10 in P, 2.2e-10 in Kv, as alone
    p, k = reference(20.0, HAHNFELDT_LEWIS_LUNG_V0, HAHNFELDT_LEWIS_LUNG["K"])
    np.testing.assert_allclose(res.series("tumor_cells"), p, rtol=1e-8)
    np.testing.assert_allclose(res.series("vascular_capacity"), k, rtol=1e-8)
    assert res.series("shed_blood")[-1] > 0


@pytest.mark.parametrize("rate", [0.0, 2.0])
def test_stationary_point(rate):
    """dV/dt = 0 gives V = K, then dK/dt = 0 gives b V = d V^(5/3) + e V:
    V* = K* = ((b - e)/d)^(3/2) mm^3 under ``ct.AntiAngiogenic`` at ``e`` = ``rate``. Near it
    the slow mode decays at 0.13 /day (e = 0)."""
    therapy = [ct.AntiAngiogenic(0.0, 1e9, rate)] if rate else []
    res = run(ct.models.LumpedPrimary(growth=LLC), 250.0, interventions=therapy)
    stationary = ((B - rate) / D) ** 1.5 * CELLS_PER_MM3
    # measured at 250 days: 9.2e-14 in P, 1.5e-13 in Kv (e = 0); 8.3e-9, 4.7e-9 (e = 2)
    assert res.series("tumor_cells")[-1] == pytest.approx(stationary, rel=1e-6)
    assert res.series("vascular_capacity")[-1] == pytest.approx(stationary, rel=1e-6)


def test_budget_holds_while_the_tumour_shrinks_and_grows():
    """From V0 = 625 mm^3 over K0 = 180 mm^3 the tumour first shrinks (died), then grows
    (born); P + B + L + cleared + extravasated + node_arrested + first_pass + died - born
    stays P0."""
    growth = {**LLC, "K": HAHNFELDT_LEWIS_LUNG_V0}
    model = ct.models.LumpedPrimary(
        growth=growth, mu=1e-2, alpha=2 / 3, lymph_fraction=0.3, k_clear=10.0, first_pass=0.2
    )
    p0 = HAHNFELDT_LEWIS_LUNG["K"]
    res = run(model, 20.0, tumor_cells=p0)
    total = sum(res.series(n) for n in PRIMARY_BUDGET_TERMS)
    born, died = res.series("born"), res.series("died")
    assert died[-1] > 1e-3 * p0 and born[-1] > p0
    scale = max(born.max(), p0)
    # round-off: measured 141 eps x scale over 8240 steps
    bound = 2 * res.solver_stats["steps"] * np.finfo(float).eps * scale
    np.testing.assert_allclose(total - born, p0, rtol=0, atol=bound)


def test_calibration_to_the_lung_data_beats_gompertz():
    """Lewis lung carcinoma (20 mice, 188 volumes), pooled, log residuals, v0 = 1 mm^3.
    Measured rss: Gompertz 45.32 (sigma 0.494), Hahnfeldt 41.73 (sigma 0.476), ratio 0.921.
    Four parameters for two: the fit's intervals are wide (b, d, K0 trade off)."""
    times, volumes = cal.split(cal.tumor_growth_data("lung"))
    gompertz = cal.calibrate(times, volumes, "gompertz")
    hahnfeldt = cal.calibrate(times, volumes, "hahnfeldt")
    assert hahnfeldt.names == ("a", "b", "d", "K0")
    assert hahnfeldt.rss <= 0.95 * gompertz.rss
    assert gompertz.rss == pytest.approx(45.32, rel=1e-3)


def test_fitted_lumped_primary_grows_like_the_fit():
    """The integrated volume here and the lumped model's ODE, in cells, agree (units: K0
    mm^3 to cells; d per mm^2 as it is)."""
    true = {"a": 0.3, "b": 2.0, "d": 0.01, "K0": 50.0}
    t = np.linspace(0.0, 30.0, 31)
    fit = cal.calibrate(t, cal.volume("hahnfeldt", true, t, 1.0), "hahnfeldt")
    for name, value in true.items():  # exact data: measured at most 3.9e-13
        assert fit.values[name] == pytest.approx(value, rel=1e-6), name
    model = fit.to_lumped()
    assert model.growth == "hahnfeldt" and model.parameters["K"] == fit.values["K0"] * 1e5
    res = run(model, 30.0, tumor_cells=fit.v0 * CELLS_PER_MM3)
    # solver rtol 1e-9: measured 4.4e-10
    np.testing.assert_allclose(
        res.series("tumor_cells"), CELLS_PER_MM3 * fit.predict(res.times), rtol=1e-8
    )


def test_bad_input():
    with pytest.raises(ValueError, match="stimulation: got -1"):
        ct.models.LumpedPrimary(growth={**LLC, "stimulation": -1.0})
    with pytest.raises(ValueError, match=r"inhibition: got -0\.5"):
        ct.models.LumpedPrimary(growth=LLC, inhibition=-0.5)
    with pytest.raises(ValueError, match="applies to the 'hahnfeldt' law only"):
        ct.SecondarySite("lung", growth={"law": "gompertz", "systemic": 0.5})
    with pytest.raises(ValueError, match=r"systemic of site 'lung': got 2"):
        ct.SecondarySite("lung", growth={**LLC, "systemic": 2.0})
    with pytest.raises(ValueError, match="t < 0"):
        cal.volume("hahnfeldt", {"a": 0.2, "b": 5.0, "d": 0.01, "K0": 600.0}, [-1.0, 2.0])
