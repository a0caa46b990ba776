"""Immune effector cells and a chemokine in the primary tissue (``ImmuneInvasion``).

The compiled rates against the NumPy reference are in ``test_reference_rates.py``.
"""

import csv
from pathlib import Path

import numpy as np
import pytest

import continuum as ct
from continuum.models import ImmuneInvasion, Invasion
from tests.helpers import PRIMARY_BUDGET_TERMS

DATA = Path(__file__).resolve().parents[2] / "data"
# Every immune term off (the effectors and the chemokine only move).
IMMUNE_OFF = {
    "k_I": 0.0,
    "s_I": 0.0,
    "rho_I": 0.0,
    "mu_I": 0.0,
    "delta_I": 0.0,
    "alpha_c": 0.0,
    "lambda_c": 0.0,
}
# The tumour held fixed and nothing else moving: no growth, exchange, death, vessels,
# matrix remodelling, enzyme or oxygen transport and uptake.
FROZEN = {
    "rho_e": 0.0,
    "rho_m": 0.0,
    "k_emt": 0.0,
    "k_met": 0.0,
    "delta_max": 0.0,
    "eta": 0.0,
    "r_f": 0.0,
    "D_e": 0.0,
    "D_m": 0.0,
    "chi": 0.0,
    "D_p": 0.0,
    "D_o": 0.0,
    "kappa": 0.0,
}
NO_VESSELS = {"blood_vessels": 0.0, "lymph_vessels": 0.0}


def _moments(u, x):
    mass = u.sum()
    centre = (u * x).sum() / mass
    return mass, centre, (u * (x - centre) ** 2).sum() / mass


@pytest.mark.parametrize(
    ("method", "dt", "extra"),
    [
        ("explicit", 1e-3, {"D_o": 0.05, "sigma": 20.0, "kappa": 40.0, "D_p": 0.01}),
        ("imex", 0.02, {}),
    ],
)
def test_without_killing_the_tumour_fields_are_invasions_bit_for_bit(method, dt, extra):
    """k_I = 0: effectors and chemokine (here non-zero, and moving) do not touch the first
    five fields, which match Invasion's to the last bit after 20 fixed steps."""
    grid = ct.Grid((30,), 0.05)
    shared = {"k_emt": 0.2, "mu_B": 2.0, "delta_max": 1.0, "o_N": 0.9, **extra}
    invasion = Invasion(**shared)
    immune = ImmuneInvasion(k_I=0.0, D_c=0.05, **shared)
    t_end = 20 * dt
    start = invasion.initial_state(grid)
    a = ct.simulate(invasion, start.copy(), t_end, method=method, dt=dt)
    b = ct.simulate(immune, immune.initial_state(grid), t_end, method=method, dt=dt)
    assert np.abs(a.state.data - start.data).max() > 1e-6  # the fields moved
    assert np.abs(b.state.data[6]).max() > 1e-4  # chemokine secreted
    np.testing.assert_array_equal(b.state.data[:5], a.state.data)
    for name in Invasion.scalar_names:
        assert b.state.scalar(name) == a.state.scalar(name), name


def test_uniform_chemokine_relaxes_exponentially_to_its_steady_level():
    """dc/dt = alpha_c (e + m) - lambda_c c with e + m = 0.7 held fixed:
    c(t) = c* + (c0 - c*) exp(-lambda_c t), c* = alpha_c (e + m)/lambda_c.
    SSP-RK(4,3) at dt = 0.01 day: measured error 7.4e-8 (bound 1e-6)."""
    grid = ct.Grid((4, 3), 0.1)
    alpha, lam, c0 = 2.0, 3.0, 0.1
    params = {**FROZEN, **IMMUNE_OFF, "alpha_c": alpha, "lambda_c": lam, "D_c": 0.0}
    model = ImmuneInvasion(**NO_VESSELS, **params)
    state = model.initial_state(grid, epithelial=0.5, mesenchymal=0.2, chemokine=c0, immune=0.0)
    res = ct.simulate(model, state, 1.0, save_every=0.25, method="explicit", dt=0.01)
    times = res.times
    c_star = alpha * 0.7 / lam
    exact = c_star + (c0 - c_star) * np.exp(-lam * times)
    c = res.field("chemokine").reshape(len(times), -1)
    assert np.ptp(c, axis=1).max() == 0.0  # stays uniform
    np.testing.assert_allclose(c[:, 0], exact, rtol=0, atol=1e-6)
    assert abs(c[-1, 0] - c0) > 0.3  # it did relax


def test_effectors_climb_a_linear_chemokine_at_chi_times_its_gradient():
    """No reactions, matrix f = 1 (no random motility), c = 2 x fixed (D_c = alpha_c =
    lambda_c = 0): a Gaussian of effectors (width 0.1 mm) drifts at chi_I |grad c| = 1
    mm/day. Measured over 0.5 day on 400 cells: relative speed error 1.5e-5 (bound 2 %),
    mass conserved to 4.3e-14 (bound 1e-12)."""
    grid = ct.Grid((400,), 0.005)
    x = grid.coords[0]
    slope, chi = 2.0, 0.5
    model = ImmuneInvasion(**NO_VESSELS, **FROZEN, **IMMUNE_OFF, D_c=0.0, chi_I=chi)
    immune = np.exp(-(((x - 0.5) / 0.1) ** 2))
    state = model.initial_state(
        grid, epithelial=0.0, ecm=1.0, oxygen=1.0, immune=immune, chemokine=slope * x
    )
    res = ct.simulate(model, state, 0.5, save_every=0.5, method="explicit")
    m0, x0, _ = _moments(res.field("immune")[0], x)
    m1, x1, _ = _moments(res.field("immune")[-1], x)
    speed = (x1 - x0) / 0.5
    assert speed == pytest.approx(chi * slope, rel=0.02)
    assert m1 == pytest.approx(m0, rel=1e-12)
    # c stays put (the stage combinations of SSP-RK(4,3) round it: measured 4.4e-16)
    np.testing.assert_allclose(res.field("chemokine")[-1], slope * x, rtol=0, atol=1e-14)


@pytest.mark.parametrize("ecm", [1.0, 0.0])
def test_dense_matrix_stops_the_effectors_random_motility(ecm):
    """chi_I = 0, no reactions. f = 1: D_I max(0, 1 - f) = 0, the profile does not move
    (measured: changed by 1.1e-16, SSP-RK(4,3) round-off). f = 0: variance grows by 2 D_I t;
    measured relative error 1.5e-9 (bound 3 %)."""
    grid = ct.Grid((200,), 0.01)
    x = grid.coords[0]
    d_i, t_end = 0.01, 1.0
    model = ImmuneInvasion(**NO_VESSELS, **FROZEN, **IMMUNE_OFF, D_I=d_i, chi_I=0.0)
    immune = np.exp(-(((x - 1.0) / 0.1) ** 2))
    state = model.initial_state(grid, epithelial=0.0, ecm=ecm, immune=immune)
    res = ct.simulate(model, state, t_end, save_every=t_end, method="explicit")
    before, after = res.field("immune")[0], res.field("immune")[-1]
    if ecm == 1.0:
        np.testing.assert_allclose(after, before, rtol=0, atol=1e-15)
        return
    _, _, var0 = _moments(before, x)
    _, _, var1 = _moments(after, x)
    assert var1 - var0 == pytest.approx(2 * d_i * t_end, rel=0.03)


@pytest.mark.parametrize("method", ["explicit", "imex"])
def test_cell_budget_closes_with_killing(method):
    """Budget of Invasion's test with effectors killing: the kills are deaths. Measured
    (explicit): budget to 1.4e-14 of the initial cells, killing rate from 1.0 to 0.17 of
    the initial cells per day, deaths 0.987 of the trapezoid rule of the killing."""
    grid = ct.Grid((16, 14), 0.05)
    extra = {"D_o": 0.05, "sigma": 20.0, "kappa": 40.0, "D_p": 0.01, "D_c": 0.05}
    model = ImmuneInvasion(
        blood_vessels=ct.vessels.random_capillaries(grid, 0.3, seed=1, radius=0.03),
        lymph_vessels=ct.vessels.random_capillaries(grid, 0.2, seed=2, radius=0.03),
        mu_B=5.0,
        mu_L=3.0,
        first_pass=0.3,
        k_I=5.0,
        **(extra if method == "explicit" else {}),
    )
    state = model.initial_state(grid, immune=0.2)
    res = ct.simulate(model, state, 2.0, save_every=0.5, method=method)
    initial = res.series("tumor_cells")[0]
    budget = sum(res.series(n) for n in PRIMARY_BUDGET_TERMS) - res.series("born")
    np.testing.assert_allclose(budget, initial, rtol=1e-13)
    killing = res.series("tissue_immune_killing")
    assert killing.min() > 0.05 * initial  # per day: the kills dominate the deaths
    # the deaths over the run are at least the kills (trapezoid of a decreasing rate)
    assert res.series("died")[-1] > 0.9 * np.trapezoid(killing, res.times)
    cells = model.parameters["K_cell"] * grid.cell_volume
    assert res.series("immune_cells")[-1] == pytest.approx(
        cells * res.field("immune")[-1].sum(), rel=1e-14
    )


def test_default_effectors_sit_at_the_tumour_free_level():
    grid = ct.Grid((20, 20), 0.05)
    model = ImmuneInvasion()
    state = model.initial_state(grid)
    v_b = model.static_maps(grid)[0].mean()
    p = model.parameters
    np.testing.assert_allclose(state["immune"], p["s_I"] * v_b / p["delta_I"], rtol=1e-15)
    assert np.all(state["chemokine"] == 0.0)
    assert ImmuneInvasion(delta_I=0.0).initial_state(grid)["immune"].max() == 0.0


def test_parameter_table_spec_and_scenario_name():
    with open(DATA / "parameters.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["model"] == "ImmuneInvasion"]
    table = {row["name"]: row for row in rows}
    new = [p for p in ImmuneInvasion.PARAMETERS if p.name not in Invasion().parameters]
    assert set(table) == {p.name for p in new}
    for p in new:
        assert float(table[p.name]["value"]) == p.default, p.name
        assert table[p.name]["unit"] == p.unit, p.name
        assert table[p.name]["source"].strip(), p.name
    assert "ImmuneInvasion" in ct.scenario.MODELS
    grid = ct.Grid((6,), 0.1)
    model = ImmuneInvasion(k_I=0.3, blood_vessels=0.2)
    back = ct.models.Model.from_spec(model.to_spec(grid))
    assert type(back) is ImmuneInvasion and back.parameters == model.parameters
    assert back.vessel_maps["blood_vessels"] == 0.2


def test_bad_input_is_refused():
    for name in ("k_I", "D_I", "chi_I", "s_I", "rho_I", "eta_I", "mu_I", "delta_I", "D_c"):
        with pytest.raises(ValueError, match=f"{name}: got -1"):
            ImmuneInvasion(**{name: -1.0})
    with pytest.raises(ValueError, match="lambda_c"):
        ImmuneInvasion(lambda_c=float("nan"))
    with pytest.raises(ValueError, match="immune"):
        ImmuneInvasion().initial_state(ct.Grid((5,), 0.1), immune=-0.1)
