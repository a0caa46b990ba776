"""The metastatic cascade: characteristics, seeding, dormancy, delivery, budget, files."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp

import continuum as ct
from continuum.kernels import colonies
from continuum.kernels.lumped import growth_rate
from continuum.models.lumped import GROWTH_LAWS
from continuum.organs import BLOOD_FLOW_FRACTION

DATA = Path(__file__).resolve().parents[2] / "data"
IWATA = {"a": 0.00286, "b": 7.3e10, "m": 5.3e-8, "alpha": 2.0 / 3.0}
DIRECT = {"k_clear": 0.0, "k_ext": 0.0, "k_LN": 0.0, "k_LB": 0.0}
EPS = np.finfo(float).eps


def gompertz(t, x0=1.0, a=IWATA["a"], b=IWATA["b"]):
    """Closed-form Gompertz x' = a x ln(b/x), x(0) = x0."""
    return np.exp(np.log(b) + (np.log(x0) - np.log(b)) * np.exp(-a * t))


def direct_cascade(primary, site, horizon, cohort_days=None):
    """Every shed cell arrests at once in one site (no circulation losses)."""
    circulation = ct.Circulation(**DIRECT, first_pass=(site.name, 1.0))
    return ct.Cascade(primary, circulation, [site], cohort_days=cohort_days, horizon=horizon)


LAWS = [
    ("exponential", {"a": 0.3}),
    ("logistic", {"a": 0.2, "K": 1e6}),
    ("gompertz", {"a": 0.05, "K": 1e9}),
    ("bertalanffy", {"a": 1.0, "gamma": 2 / 3, "b": 0.05}),
    ("power", {"a": 0.5, "gamma": 0.8}),
    ("exponential_linear", {"a": 0.4, "a1": 1e4}),
]


@pytest.mark.parametrize(("law", "values"), LAWS, ids=[law for law, _ in LAWS])
@pytest.mark.parametrize("death", [0.0, 0.02, 0.6])
@pytest.mark.parametrize("start", [1.0, 3e4])
def test_characteristics_with_cell_death_solve_the_growth_law(law, values, death, start):
    """ln s(t) on ds/dt = G(s) - death s, composed over steps of 7.5 days, follows SciPy's
    DOP853 (rtol 1e-11) to 1.4e-9 relative (measured 4.8e-10, Gompertz from one cell; the
    other laws <= 5.1e-11) and 1.5e-12 absolute (colonies that die out: measured 5.3e-13,
    the reference's atol 1e-12)."""
    site = ct.SecondarySite("s", flow=1.0, growth={"law": law, **values})
    g = site.growth
    args = (g["a"], g["K"], g["gamma"], g["b"], g["a1"])
    code = GROWTH_LAWS[law]

    def rhs(_, x):
        return [growth_rate(code, x[0], *args) - death * x[0]]

    times = np.linspace(0.0, 60.0, 9)
    solution = solve_ivp(
        rhs, (0, 60), [start], t_eval=times, rtol=1e-11, atol=1e-12, method="DOP853"
    )
    logs = [math.log(start)]
    for h in np.diff(times):
        logs.append(colonies.advance_log_size(code, *args, death, logs[-1], h))
    np.testing.assert_allclose(np.exp(logs), solution.y[0], rtol=1.4e-9, atol=1.5e-12)


def test_gompertz_colony_under_cell_death_has_the_shifted_plateau():
    """Gompertz with per-cell death d stays Gompertz: ln s = ln K' + (ln s0 - ln K')
    e^{-a t}, ln K' = ln K - d/a (to round-off over one long step and 100 short ones:
    measured equal)."""
    a, capacity, death = 0.01, 1e11, 0.05
    plateau = math.log(capacity) - death / a
    log0 = math.log(1e9)
    exact = plateau + (log0 - plateau) * math.exp(-a * 300.0)
    once = colonies.advance_log_size(
        GROWTH_LAWS["gompertz"], a, capacity, 1, 0, 0, death, log0, 300.0
    )
    steps = log0
    for _ in range(100):
        steps = colonies.advance_log_size(
            GROWTH_LAWS["gompertz"], a, capacity, 1, 0, 0, death, steps, 3.0
        )
    assert once == pytest.approx(exact, rel=4 * EPS, abs=0)  # a few roundings
    assert steps == pytest.approx(exact, rel=100 * EPS, abs=0)  # a few per step
    assert math.exp(exact) < 1e9  # the plateau K e^{-d/a} = 6.7e8 cells: the colony shrinks


@pytest.mark.parametrize("law", ["gompertz", "exponential"])
def test_primary_only_seeding_counts_the_integral_of_beta(law):
    """Colonies that do not emit: N(T) = int_0^T beta(x_p(s)) ds (to 5e-8; measured at
    most 1.1e-8 for Gompertz, 1.7e-8 for exponential growth), x_p the closed-form growth of
    a primary that emission does not deplete (Iwata's model)."""
    if law == "gompertz":
        growth = {"law": "gompertz", "a": IWATA["a"], "K": IWATA["b"]}
        m, alpha, t_end = IWATA["m"], IWATA["alpha"], 1500.0

        def primary(s):
            return gompertz(s)
    else:
        growth = {"law": "exponential", "a": 0.02}
        m, alpha, t_end = 1e-4, 0.8, 600.0

        def primary(s):
            return np.exp(0.02 * s)

    model = direct_cascade(
        ct.models.LumpedPrimary(growth=growth, mu=m, alpha=alpha, shedding_loss=0.0),
        ct.SecondarySite(
            "organ", flow=1.0, survival=1.0, establishment=1.0, dormancy=0.0, growth=growth
        ),
        horizon=t_end,
    )
    res = ct.simulate(model, model.initial_state(tumor_cells=1.0), t_end, save_every=t_end / 4)
    for t in res.times[1:]:
        expected = quad(lambda s: m * primary(s) ** alpha, 0, t, epsrel=1e-12, limit=200)[0]
        assert res.colony_count(t) == pytest.approx(expected, rel=5e-8)
        assert res.colony_count(t, site="organ") == pytest.approx(expected, rel=5e-8)


def test_benzekry_closed_form_for_exponential_growth_and_linear_emission():
    """N(T) = mu/alpha (exp(alpha T) - 1) from one cell (Benzekry et al.). With alpha =
    ln2/2 /day, mu = 9.969e-12 and T = 80.1 days it is 32.742 (the issue quotes 32.87,
    which these values do not give: that needs T = 80.111 days)."""
    alpha, mu, t_end = math.log(2) / 2, 9.969e-12, 80.1
    model = direct_cascade(
        ct.models.LumpedPrimary(growth={"law": "exponential", "a": alpha}, mu=mu, alpha=1.0),
        ct.SecondarySite("organ", flow=1.0, survival=1.0, establishment=1.0, dormancy=0.0),
        horizon=t_end,
    )
    res = ct.simulate(model, model.initial_state(tumor_cells=1.0), t_end)
    exact = mu / alpha * math.expm1(alpha * t_end)
    assert exact == pytest.approx(32.742, abs=5e-4)  # quoted to three decimals
    assert res.colony_count(t_end) == pytest.approx(exact, rel=1.5e-7)  # measured 5.1e-8


def test_cohorts_lie_on_the_gompertz_characteristic():
    """A cohort's edge (a colony born at its start t0) has size b^(1 - exp(-a (t - t0)))
    from one cell (to round-off: measured 1.6e-15), and its mean size lies between its edge
    and the next one's (measured: at least 0.011 inside on either side)."""
    model = ct.models.Iwata(horizon=1200.0)
    res = ct.simulate(model, model.initial_state(), 1200.0, save_every=300.0)
    for t in (600.0, 1200.0):
        starts, sizes, counts = res.cohorts(t, "metastases")
        assert len(starts) > 10 and np.all(counts > 0)
        _, _, edges = res._cohort_arrays("metastases", res._frame(t))
        index = np.round(starts / model.cohort_days).astype(int)
        expected = math.log(IWATA["b"]) * -np.expm1(-IWATA["a"] * (t - starts))
        np.testing.assert_allclose(edges[index], expected, rtol=4e-15)
        younger = np.append(expected[1:], 0.0)
        assert np.all(np.log(sizes) <= expected)
        assert np.all(np.log(sizes) >= younger)
        assert np.all(np.diff(starts) > 0) and np.all(np.diff(sizes) < 0)


def renewal_reference(t_end, h=0.25):
    """Iwata's model by trapezoidal quadrature of the renewal equation (independent code):
    b(t) = beta(x_p(t)) + int_0^t b(tau) beta(X(t - tau)) dtau."""
    t = np.arange(round(t_end / h) + 1) * h
    kernel = IWATA["m"] * gompertz(t) ** IWATA["alpha"]
    births = np.zeros_like(t)
    births[0] = kernel[0]
    for i in range(1, len(t)):
        memory = h * (births[1:i] @ kernel[i - 1 : 0 : -1] + 0.5 * births[0] * kernel[i])
        births[i] = (kernel[i] + memory) / (1 - 0.5 * h * kernel[0])
    colonies_born = np.concatenate([[0], np.cumsum(0.5 * h * (births[1:] + births[:-1]))])
    age = -math.log1p(-math.log(1e8) / math.log(IWATA["b"])) / IWATA["a"]
    detectable = np.interp(t_end - age, t, colonies_born)
    burden = np.trapezoid(births * gompertz(t_end - t), t)
    return colonies_born[-1], detectable, burden


def test_iwata_matches_the_renewal_equation_within_one_percent():
    """Colonies seeding colonies, to t = 2000 days: counts within 1 % (the issue's target;
    measured 6.2e-4 (colonies), 7.7e-4 (detectable), 6.3e-4 (burden): asserted 2e-3), and
    with 5-day cohorts 6.3e-5 and 9.0e-5."""
    t_end = 2000.0
    model = ct.models.Iwata(horizon=t_end)
    res = ct.simulate(model, model.initial_state(), t_end, save_every=500.0)
    total, detectable, burden = renewal_reference(t_end)
    assert total > 1e4 and detectable > 1e3  # the cascade is well under way
    assert res.colony_count(t_end) == pytest.approx(total, rel=2e-3)
    assert res.colony_count(t_end, min_size=1e8) == pytest.approx(detectable, rel=2e-3)
    assert res.series("sites/metastases/detectable")[-1] == pytest.approx(detectable, rel=2e-3)
    assert res.series("sites/metastases/burden")[-1] == pytest.approx(burden, rel=2e-3)
    finer = ct.models.Iwata(horizon=t_end, cohort_days=5.0)
    res = ct.simulate(finer, finer.initial_state(), t_end, save_every=500.0)
    assert res.colony_count(t_end) == pytest.approx(total, rel=1.8e-4)
    assert res.colony_count(t_end, min_size=1e8) == pytest.approx(detectable, rel=2.5e-4)


def test_dormancy_alone_follows_the_exponential_solution():
    """A dormant pool Z0, wake-up w and death d: Z = Z0 e^{-(w+d)t}, woken = w Z0 (1 -
    e^{-(w+d)t}) / (w+d); with a constant arrival rate the pool fills to mu/(w+d)."""
    w, d, z0, mu, p = 0.02, 0.005, 1e4, 50.0, 0.3
    site = ct.SecondarySite(
        "bone", survival=1.0, dormancy=1.0, wake=w, dormant_death=d, establishment=p
    )
    primary = ct.models.LumpedPrimary(growth={"law": "exponential", "a": 0.0}, mu=mu, alpha=0.0)
    model = direct_cascade(primary, site, horizon=200.0)
    state = model.initial_state(tumor_cells=1e5, **{"sites/bone/dormant": z0})
    res = ct.simulate(model, state, 200.0, save_every=10.0)
    t, lam = res.times, w + d
    pool = z0 * np.exp(-lam * t) + mu / lam * -np.expm1(-lam * t)
    woken = w * (z0 * -np.expm1(-lam * t) / lam + mu / lam * (t + np.expm1(-lam * t) / lam))
    # exact per stretch: measured 7.0e-15 (pool), 1.1e-15 (woken; 0 at t = 0), 7.0e-15
    np.testing.assert_allclose(res.series("sites/bone/dormant"), pool, rtol=2e-14)
    np.testing.assert_allclose(res.series("sites/bone/woken"), woken, rtol=3.5e-15, atol=0)
    np.testing.assert_allclose(res.series("sites/bone/wake_flux"), w * pool, rtol=2e-14)
    # founders (the woken cells) establish colonies with probability p (1e-12; measured
    # 4.6e-16 and 6.9e-16)
    founded, extinct = res.series("sites/bone/founded"), res.series("sites/bone/extinct")
    np.testing.assert_allclose(founded, p * res.series("sites/bone/woken"), rtol=1e-12)
    np.testing.assert_allclose(founded + extinct, res.series("sites/bone/woken"), rtol=1e-12)
    np.testing.assert_allclose(res.series("sites/bone/arrived"), mu * t, rtol=1e-14)  # 3.5e-15


def test_arrivals_split_by_flow_times_affinity_and_first_pass():
    """A_k = k_ext B q_k a_k / sum_j q_j a_j over all organs exactly, the organs without a
    site booked as unsited; first pass sends its fraction of the cells entering blood to
    its site, before they circulate."""
    fraction, lymph = 0.4, 0.25
    sites = [
        ct.SecondarySite("lung"),
        ct.SecondarySite("liver", affinity=2.0),
        ct.SecondarySite("bone", affinity=3.0),
        ct.SecondarySite("marrow", flow=0.07, affinity=0.5),
        ct.SecondarySite("node", organ="lymph_node"),
    ]
    primary = ct.models.LumpedPrimary(
        growth={"law": "exponential", "a": 0.0}, mu=1e3, alpha=0.0, lymph_fraction=lymph
    )
    circulation = ct.Circulation(k_clear=3.0, k_ext=2.0, first_pass=("lung", fraction))
    model = ct.Cascade(primary, circulation, sites, horizon=30.0)
    res = ct.simulate(model, model.initial_state(tumor_cells=1e6), 30.0, save_every=5.0)
    weights = np.array([1.0, 0.065 * 2, 0.05 * 3, 0.07 * 0.5, 0.0])
    # kidney, muscle, brain, skin, adipose, heart, gut, spleen, pancreas, stomach, other
    elsewhere = 0.19 + 0.17 + 0.12 + 0.05 + 0.05 + 0.04 + 0.14 + 0.03 + 0.01 + 0.01 + 0.075
    total = weights.sum() + elsewhere
    systemic = res.series("extravasated")
    # shares of the same flux: round-off, measured at most 3.6e-15 (1e-12 asserted)
    for site, weight in zip(sites[1:4], weights[1:4], strict=True):
        np.testing.assert_allclose(
            res.series(f"sites/{site.name}/arrived"), systemic * weight / total, rtol=1e-12
        )
    np.testing.assert_allclose(res.series("unsited"), systemic * elsewhere / total, rtol=1e-12)
    shed_into_blood = (1 - lymph) * 1e3 * res.times
    np.testing.assert_allclose(
        res.series("first_pass"), fraction * shed_into_blood, rtol=1e-12
    )  # measured 1.5e-16
    np.testing.assert_allclose(
        res.series("sites/lung/arrived"),
        res.series("first_pass") + systemic * weights[0] / total,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        res.series("sites/node/arrived"), res.series("node_arrested"), rtol=3.3e-15
    )  # measured 1.1e-15
    assert res.series("node_arrested")[-1] > 100


def full_sites():
    seeding = (2e-5, 2 / 3)
    growth = {"law": "gompertz", "a": 0.05, "K": 1e9}
    return [
        ct.SecondarySite("node", organ="lymph_node", growth=growth, seeding=seeding),
        ct.SecondarySite(
            "lung", growth=growth, seeding=seeding, dormancy=0.5, wake=0.05, clearance=0.01
        ),
        ct.SecondarySite(
            "liver",
            growth={"law": "bertalanffy", "a": 2.0, "b": 0.02},
            dormancy=0.3,
            wake=0.02,
            dormant_death=0.01,
            clearance=0.02,
        ),
    ]


def cascade_budget(res, sites):
    """tumour + blood + lymph + sum(burden + dormant) + cleared + died + removed - born."""
    total = res.series("tumor_cells") + res.series("blood_ctc") + res.series("lymph_ctc")
    for site in sites:
        total = total + res.series(f"sites/{site.name}/burden")
        total = total + res.series(f"sites/{site.name}/dormant")
    removed = res.series("removed")
    return total + res.series("cleared") + res.series("died") + removed - res.series("born")


def test_whole_cascade_budget_with_a_lumped_primary():
    sites = full_sites()
    primary = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.05, "K": 1e10}, mu=5.0, alpha=2 / 3, lymph_fraction=0.3
    )
    model = ct.Cascade(primary, ct.Circulation(first_pass=("lung", 0.3)), sites, horizon=300.0)
    res = ct.simulate(model, model.initial_state(tumor_cells=1e6), 300.0, save_every=20.0)
    scale = max(res.series("born")[-1], 1e6)
    # round-off of the largest terms: measured 0.64 eps x scale (6.1e-5 cells)
    np.testing.assert_allclose(cascade_budget(res, sites), 1e6, rtol=0, atol=2 * EPS * scale)
    for site in sites:  # every kind of term is exercised
        assert res.series(f"sites/{site.name}/colonies")[-1] > 1.0
        assert res.series(f"sites/{site.name}/burden")[-1] > 1e3
    for name in ("colony_died", "dormant_died", "failed", "woken", "emitted"):
        assert res.series(f"sites/liver/{name}")[-1] > 0 or res.series(f"sites/lung/{name}")[-1] > 0


def spatial_primary(grid, lymph=True, **parameters):
    """A small, fast-shedding Invasion primary for cascade budgets: dense random blood
    (and, with ``lymph``, lymph) capillaries, slow oxygen so explicit steps stay cheap;
    ``parameters`` override the defaults below."""
    vessels = {"blood_vessels": ct.vessels.random_capillaries(grid, 0.3, seed=1, radius=0.03)}
    if lymph:
        vessels["lymph_vessels"] = ct.vessels.random_capillaries(grid, 0.2, seed=2, radius=0.03)
    defaults = {
        "mu_B": 5.0,
        "mu_L": 3.0,
        "k_emt": 0.2,
        "D_o": 0.05,
        "sigma": 20.0,
        "kappa": 40.0,
        "D_p": 0.01,
    }
    return ct.models.Invasion(**vessels, **{**defaults, **parameters})


def test_whole_cascade_budget_with_a_spatial_primary():
    sites = full_sites()
    grid = ct.Grid((20, 18), 0.05)
    primary = spatial_primary(grid)
    model = ct.Cascade(primary, ct.Circulation(first_pass=("lung", 0.3)), sites, horizon=20.0)
    res = ct.simulate(model, model.initial_state(grid), 20.0, save_every=2.0)
    initial = res.series("tumor_cells")[0]
    # round-off: measured 1.3e-13
    np.testing.assert_allclose(cascade_budget(res, sites), initial, rtol=4e-13)
    assert res.series("sites/lung/colonies")[-1] > 1.0
    assert res.series("sites/node/arrived")[-1] > 1.0


def test_run_file_round_trip_and_bit_exact_resume(tmp_path):
    import xarray as xr

    model = ct.models.Iwata(horizon=1500.0)
    state = model.initial_state()
    whole = ct.simulate(model, state, 1500.0, save_every=100.0)
    path = tmp_path / "run.h5"
    ct.simulate(model, state, 800.0, save_every=100.0, output=path)
    with ct.resume(path, 1500.0) as run:
        np.testing.assert_array_equal(run.times, whole.times)
        for name in ("sites/metastases/colonies", "sites/metastases/burden", "tumor_cells"):
            np.testing.assert_array_equal(run.series(name), whole.series(name))
        assert run.colony_count(1500, 1e8) == whole.colony_count(1500, 1e8)
        sizes, density = run.size_distribution(1200, "metastases")
        expected = whole.size_distribution(1200, "metastases")
        np.testing.assert_array_equal(sizes, expected[0])
        np.testing.assert_array_equal(density, expected[1])
        assert np.all(np.diff(sizes) > 0) and np.all(density > 0)
    group = xr.open_dataset(path, engine="h5netcdf", group="sites/metastases")
    assert group["size_distribution"].dims == ("time", "size")
    assert group["size"].attrs["units"] == "cells"
    binned = group["size_distribution"].isel(time=-1).sum().item()
    assert binned == pytest.approx(whole.colony_count(1500), rel=1e-12)  # measured equal
    assert group["colonies"].attrs["units"] == "colonies"


def test_organ_table_matches_the_data_file():
    with open(DATA / "organs.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["quantity"] == "blood_flow_fraction"]
    assert {r["organ"]: float(r["value"]) for r in rows} == BLOOD_FLOW_FRACTION
    assert all(r["source"].strip() for r in rows)


def test_bad_input_is_refused_before_any_work():
    with pytest.raises(ValueError, match=r"survival: got 1.5; it must lie in \[0, 1\]"):
        ct.SecondarySite("lung", survival=1.5)
    with pytest.raises(ValueError, match="first_pass: got 2"):
        ct.Circulation(first_pass=("lung", 2))
    with pytest.raises(ValueError, match="k_clear: got -1"):
        ct.Circulation(k_clear=-1)
    with pytest.raises(ValueError, match=r"wake: got -0\.1"):
        ct.SecondarySite("bone", wake=-0.1)
    with pytest.raises(ValueError, match="organ: got 'lunng'; known organs are"):
        ct.SecondarySite("lunng")
    with pytest.raises(ValueError, match=r"duplicate site name\(s\) \['lung'\]"):
        ct.Cascade(ct.models.LumpedPrimary(), sites=[ct.SecondarySite("lung")] * 2)
    with pytest.raises(ValueError, match="first_pass: site 'liver' is not one of"):
        ct.Cascade(
            ct.models.LumpedPrimary(),
            ct.Circulation(first_pass=("liver", 0.5)),
            [ct.SecondarySite("lung")],
        )
    with pytest.raises(ValueError, match="does not grow"):
        ct.SecondarySite("lung", growth={"law": "bertalanffy", "a": 0.1, "b": 0.5})
    with pytest.raises(ValueError, match="primary: FisherKPP has no circulation block"):
        ct.Cascade(ct.models.FisherKPP())
    model = ct.Cascade(ct.models.LumpedPrimary(), sites=[ct.SecondarySite("lung")], horizon=100)
    with pytest.raises(ValueError, match="t_end: got 200 day; this cascade's cohorts cover 100"):
        ct.simulate(model, model.initial_state(tumor_cells=1.0), 200.0)


def spatial_cascade(grid, site_model, horizon):
    lung = ct.SecondarySite(
        "lung", grid=grid, model=site_model, survival=0.8, dormancy=0.3, wake=0.05
    )
    liver = ct.SecondarySite("liver", growth={"law": "gompertz", "a": 0.05, "K": 1e9})
    primary = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.05, "K": 1e10}, mu=1e-2, alpha=2 / 3, lymph_fraction=0.3
    )
    circulation = ct.Circulation(first_pass=("lung", 0.5))
    return ct.Cascade(primary, circulation, [lung, liver], horizon=horizon)


def test_spatial_site_is_seeded_through_its_vessel_map():
    """With every tissue term off, the founders stay where they were put: the epithelial
    field is (colonies founded) x v_B / sum(v_B) / (K_cell cell volume), exactly."""
    grid = ct.Grid((12, 10), 0.05)
    vessels = ct.vessels.random_capillaries(grid, 0.2, seed=4, radius=0.03)
    inert = {p.name: 0.0 for p in ct.models.Invasion.PARAMETERS}
    inert.update({"K_cell": 1e6, "o_H": 0.2, "o_N": 0.05, "hill": 4.0})
    model = spatial_cascade(grid, ct.models.Invasion(blood_vessels=vessels, **inert), 12.0)
    state = model.initial_state(tumor_cells=1e6)
    res = ct.simulate(model, state, 12.0, save_every=4.0, method="explicit")
    founded = res.series("sites/lung/founded")[-1]
    assert founded > 100
    per_cell = 1e6 * grid.cell_volume
    # round-off: measured 2.0e-15 (field), 2.2e-15 (burden)
    np.testing.assert_allclose(
        res.site_field("lung", "epithelial", 12.0),
        founded * vessels / vessels.sum() / per_cell,
        rtol=1e-12,
    )
    assert res.series("sites/lung/burden")[-1] == pytest.approx(founded, rel=1e-12)


def test_spatial_site_budget_file_and_bit_exact_resume(tmp_path):
    grid = ct.Grid((16, 14), 0.05)
    site_model = ct.models.Invasion(
        blood_vessels=ct.vessels.random_capillaries(grid, 0.2, seed=3, radius=0.03),
        rho_e=1.0,
        k_emt=0.2,
    )
    model = spatial_cascade(grid, site_model, horizon=20.0)
    state = model.initial_state(tumor_cells=1e6)
    whole = ct.simulate(model, state, 20.0, save_every=2.0, method="imex")
    sites = model.sites
    np.testing.assert_allclose(cascade_budget(whole, sites), 1e6, rtol=1.5e-12)  # 5.4e-13
    assert whole.series("sites/lung/burden")[-1] > 2 * whole.series("sites/lung/founded")[-1]
    assert whole.series("sites/lung/colonies")[-1] >= 1
    assert whole.colony_count(20.0, site="lung") == whole.series("sites/lung/colonies")[-1]
    path = tmp_path / "spatial.h5"
    ct.simulate(model, state, 10.0, save_every=2.0, method="imex", output=path)
    with ct.resume(path, 20.0) as run:
        for name in ("sites/lung/burden", "sites/liver/burden", "tumor_cells", "born"):
            np.testing.assert_array_equal(run.series(name), whole.series(name))
        np.testing.assert_array_equal(
            run.site_field("lung", "mesenchymal", 20.0),
            whole.site_field("lung", "mesenchymal", 20.0),
        )
        assert run.colony_count(20.0, site="lung") == whole.colony_count(20.0, site="lung")
        np.testing.assert_array_equal(
            run.model.sites[0].model.static_maps(grid), site_model.static_maps(grid)
        )
    with pytest.raises(KeyError, match="spatial"):
        whole.size_distribution(20.0, "lung")


def test_circulation_of_a_lumped_primary_is_advanced_exactly():
    """In a cascade the blood and lymph of a lumped primary are solved in closed form
    between stretches: exact for constant shedding (two exponentials; measured 1.2e-15),
    and within 3e-5 of the standalone primary integrated to rtol 1e-10 for a tumour whose
    shedding doubles in 1.5 days (0.78-day stretches: quadratic shedding within a
    stretch; measured 1.1e-5 (blood), 7.5e-6 (lymph), 4.9e-7, 9.3e-7 (the integrals))."""
    mu, f, k_clear, k_ext, k_ln, k_lb = 40.0, 0.3, 8.0, 1.5, 2.0, 0.7
    rates = {"k_clear": k_clear, "k_ext": k_ext, "k_LN": k_ln, "k_LB": k_lb}
    constant = ct.models.LumpedPrimary(
        growth={"law": "exponential", "a": 0.0}, mu=mu, alpha=0.0, lymph_fraction=f
    )
    model = ct.Cascade(constant, ct.Circulation(**rates), [ct.SecondarySite("lung")], horizon=6)
    res = ct.simulate(model, model.initial_state(tumor_cells=1e6), 6.0, save_every=0.5)
    t = res.times
    k_l, k_b = k_ln + k_lb, k_clear + k_ext
    a = f * mu / k_l
    lymph = a * -np.expm1(-k_l * t)
    c0 = (1 - f) * mu + k_lb * a
    blood = c0 / k_b * -np.expm1(-k_b * t) - k_lb * a / (k_b - k_l) * (
        np.exp(-k_l * t) - np.exp(-k_b * t)
    )
    np.testing.assert_allclose(res.series("lymph_ctc"), lymph, rtol=3.5e-15)
    np.testing.assert_allclose(res.series("blood_ctc"), blood, rtol=1.6e-15)  # 5.4e-16

    growing = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.05, "K": 1e10}, mu=1e-3, lymph_fraction=f, **rates
    )
    state = growing.initial_state(ct.Grid(1, 1.0), tumor_cells=1e6)
    alone = ct.simulate(growing, state, 100.0, save_every=10.0, rtol=1e-10)
    model = ct.Cascade(growing, ct.Circulation(**rates), [ct.SecondarySite("lung")], horizon=100)
    res = ct.simulate(model, model.initial_state(tumor_cells=1e6), 100.0, save_every=10.0)
    for name in ("blood_ctc", "lymph_ctc", "extravasated", "node_arrested"):
        np.testing.assert_allclose(res.series(name)[1:], alone.series(name)[1:], rtol=3e-5)


def test_compiled_stretch_loop_matches_the_python_one():
    """The lumped cascade's compiled loop and the general stretch loop (used when a site
    is spatial) are two codings of one method: same results to round-off (measured
    3.2e-14)."""
    from continuum.solvers.cascade import CascadeSolver

    primary = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.05, "K": 1e10}, mu=1e-2, alpha=2 / 3, lymph_fraction=0.3
    )
    model = ct.Cascade(primary, ct.Circulation(first_pass=("lung", 0.5)), full_sites(), horizon=60)
    states = [model.initial_state(tumor_cells=1e6) for _ in range(2)]
    solvers = [CascadeSolver("explicit", model, s, rtol=1e-8, atol=1e-8) for s in states]
    assert solvers[0].compiled_loop
    solvers[1].compiled_loop = False  # the general loop
    for t in (7.3, 30.0, 60.0):
        for solver in solvers:
            solver.advance(t)
        np.testing.assert_allclose(states[0].scalars, states[1].scalars, rtol=9e-14, atol=0)
    assert states[0].scalar("sites/lung/colonies") > 1.0


def test_first_pass_and_delivery_split_the_blood_balance_in_closed_form():
    """Constant shedding J into blood, a fraction s = exp(-k_clear tau) alive after the
    venous transit tau: at steady state B* = (1 - f) s J / (k_clear + k_ext); per day the
    first organ receives f s J + s_lung k_ext B*, the others s_k k_ext B*, the organs
    without a site s_sink k_ext B*, and (1 - s) J + k_clear B* die (to round-off: measured
    1.6e-14 and 1.2e-14); the shares over all organs sum to one with the sink."""
    shedding, f, k_clear, k_ext, tau = 2e4, 0.6, 9.0, 1.5, 0.01
    sites = [ct.SecondarySite("lung"), ct.SecondarySite("liver"), ct.SecondarySite("bone")]
    primary = ct.models.LumpedPrimary(
        growth={"law": "exponential", "a": 0.0}, mu=shedding, alpha=0.0
    )
    circulation = ct.Circulation(
        k_clear=k_clear, k_ext=k_ext, first_pass=("lung", f), transit_time=tau
    )
    model = ct.Cascade(primary, circulation, sites, horizon=40.0)
    res = ct.simulate(model, model.initial_state(tumor_cells=1e9), 40.0, save_every=10.0)
    late = res.times >= 10.0  # the blood relaxes in hours: steady from day 10 on
    days = np.diff(res.times[late])
    alive = math.exp(-k_clear * tau)
    blood = (1 - f) * alive * shedding / (k_clear + k_ext)
    np.testing.assert_allclose(res.series("blood_ctc")[late], blood, rtol=4.5e-14)
    total = sum(BLOOD_FLOW_FRACTION.values())
    shares = {"lung": 1.0 / total, "liver": 0.065 / total, "bone": 0.05 / total}
    sink = 1.0 - sum(shares.values())
    expected = {
        "sites/lung/arrived": f * alive * shedding + shares["lung"] * k_ext * blood,
        "sites/liver/arrived": shares["liver"] * k_ext * blood,
        "sites/bone/arrived": shares["bone"] * k_ext * blood,
        "unsited": sink * k_ext * blood,
        "blood_cleared": (1 - alive) * shedding + k_clear * blood,
    }
    for name, rate in expected.items():
        per_day = np.diff(res.series(name)[late]) / days
        np.testing.assert_allclose(per_day, rate, rtol=3.5e-14, err_msg=name)
    assert sum(expected.values()) == pytest.approx(shedding, rel=1e-12)
    assert model.shares[:, 0].sum() + sink == pytest.approx(1.0, rel=1e-12)


def test_metastases_shed_into_the_blood_and_seed_other_organs():
    """After the primary is resected, colonies that shed (mu s^alpha cells/day each, once
    vascularised) keep feeding the blood and the other organs: arrivals go on, the shed
    cells are the shedding rate held over each stretch (5-day cohorts = frames: the left
    Riemann sum of the stored rates, 1e-12; measured equal), and the whole budget closes
    to round-off (measured 3.0 and 3.3 eps x the cells born)."""
    growth = {"law": "gompertz", "a": 0.02, "K": 1e10}
    arrivals_after = {}
    for shedding in (None, (50.0, 1 / 3)):
        sites = [
            ct.SecondarySite(
                "lung", growth=growth, survival=0.01, establishment=0.5, shedding=shedding
            ),
            ct.SecondarySite("liver", growth=growth, survival=0.01, establishment=0.5),
        ]
        primary = ct.models.LumpedPrimary(
            growth={"law": "gompertz", "a": 0.01, "K": 1e11}, mu=50.0, alpha=1 / 3
        )
        model = ct.Cascade(
            primary,
            ct.Circulation(first_pass=("lung", 0.8)),
            sites,
            horizon=800.0,
            cohort_days=5.0,
        )
        res = ct.simulate(
            model,
            model.initial_state(tumor_cells=1e8),
            800.0,
            save_every=5.0,
            interventions=[ct.Resection(t=300.0)],
        )
        liver = res.series("sites/liver/arrived")
        arrivals_after[shedding is None] = liver[-1] - np.interp(310.0, res.times, liver)
        scale = res.series("born")[-1]
        np.testing.assert_allclose(cascade_budget(res, sites), 1e8, rtol=0, atol=10 * EPS * scale)
        if shedding is not None:
            rate = res.series("sites/lung/shedding")
            shed = res.series("sites/lung/shed")
            assert shed[-1] > 1e5
            np.testing.assert_allclose(shed[1:], np.cumsum(rate[:-1] * 5.0), rtol=1e-12)
    assert arrivals_after[True] == 0.0  # nothing circulates after resection without
    assert arrivals_after[False] > 10.0


def test_ctc_clusters_have_their_own_compartment_clearance_and_seeding():
    """A fraction phi of the cells entering blood travels in clusters: at steady state
    C* = (1 - f) phi J / (k_c + k_ext) beside B* = (1 - f)(1 - phi) J / (k_clear + k_ext);
    the lung receives f J (both kinds) + its share of both extravasations, and clustered
    cells seed b times better: failed = (1 - eps) singles + (1 - min(1, b eps)) clustered
    (to round-off: measured at most 1.6e-14); the budget with clusters closes to round-off
    (measured 67 eps x scale)."""
    shedding, f, phi, k_c, boost, eps = 1e4, 0.5, 0.2, 40.0, 20.0, 0.01
    k_clear, k_ext = 10.0, 0.5
    sites = [ct.SecondarySite("lung", survival=eps), ct.SecondarySite("bone", survival=eps)]
    primary = ct.models.LumpedPrimary(
        growth={"law": "exponential", "a": 0.0}, mu=shedding, alpha=0.0
    )
    circulation = ct.Circulation(
        first_pass=("lung", f),
        clusters={"fraction": phi, "clearance": k_c, "seeding": boost},
    )
    model = ct.Cascade(primary, circulation, sites, horizon=40.0)
    res = ct.simulate(model, model.initial_state(tumor_cells=1e9), 40.0, save_every=10.0)
    late = res.times >= 10.0
    days = np.diff(res.times[late])
    clusters = (1 - f) * phi * shedding / (k_c + k_ext)
    singles = (1 - f) * (1 - phi) * shedding / (k_clear + k_ext)
    np.testing.assert_allclose(res.series("cluster_ctc")[late], clusters, rtol=4.5e-14)
    np.testing.assert_allclose(res.series("blood_ctc")[late], singles, rtol=4.5e-14)

    def per_day(name):
        return np.diff(res.series(name)[late]) / days

    share = {"lung": 1.0 / 2.0, "bone": 0.05 / 2.0}  # all organs' flows sum to 2
    single_in = {s: share[s] * k_ext * singles for s in share}
    cluster_in = {s: share[s] * k_ext * clusters for s in share}
    single_in["lung"] += f * (1 - phi) * shedding
    cluster_in["lung"] += f * phi * shedding
    for site in share:
        arrived = single_in[site] + cluster_in[site]
        failed = (1 - eps) * single_in[site] + (1 - min(1.0, boost * eps)) * cluster_in[site]
        np.testing.assert_allclose(per_day(f"sites/{site}/arrived"), arrived, rtol=3e-14)
        np.testing.assert_allclose(per_day(f"sites/{site}/failed"), failed, rtol=3e-14)
    np.testing.assert_allclose(per_day("cluster_cleared"), k_c * clusters, rtol=3e-14)
    total = cascade_budget(res, sites) + res.series("cluster_ctc")
    scale = res.series("born")[-1] + res.series("tumor_cells")[0]
    np.testing.assert_allclose(total, 1e9, rtol=0, atol=200 * EPS * scale)


def test_spatial_site_sheds_through_its_intravasation(tmp_path):
    """A spatial site with shedding=True sheds its model's intravasation flux J_B + J_L
    (from its fields and vessel maps, 1e-12; measured equal) into the blood, which carries
    it to the other organs after the primary is gone; the budget closes to round-off
    (measured 6.7e-14) and resume is bit-exact."""
    grid = ct.Grid((12, 10), 0.05)
    site_model = ct.models.Invasion(
        blood_vessels=ct.vessels.random_capillaries(grid, 0.2, seed=3, radius=0.03),
        rho_e=1.0,
        mu_B=5.0,
        mu_Be=1.0,
    )
    lung = ct.SecondarySite(
        "lung", grid=grid, model=site_model, survival=0.8, dormancy=0.0, shedding=True
    )
    liver = ct.SecondarySite("liver", survival=0.5)
    primary = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.05, "K": 1e10}, mu=1e-2, alpha=2 / 3
    )
    model = ct.Cascade(
        primary, ct.Circulation(first_pass=("lung", 0.5)), [lung, liver], horizon=20.0
    )
    state = model.initial_state(tumor_cells=1e6)
    plan = [ct.Resection(t=6.0)]
    res = ct.simulate(model, state, 20.0, save_every=2.0, method="imex", interventions=plan)
    np.testing.assert_allclose(cascade_budget(res, model.sites), 1e6, rtol=2e-13)
    liver_arrived = res.series("sites/liver/arrived")
    assert liver_arrived[-1] > np.interp(8.0, res.times, liver_arrived) > 0
    assert res.series("sites/lung/shed")[-1] > 0
    fields = np.stack([res.site_field("lung", f, 20.0) for f in site_model.field_names])
    tissue = ct.State(grid, site_model.field_names, fields, site_model.scalar_layout())
    flux = site_model.derived_series(tissue)
    assert res.series("sites/lung/shedding")[-1] == pytest.approx(
        flux["flux_blood"] + flux["flux_lymph"], rel=1e-12
    )
    path = tmp_path / "shedding.h5"
    ct.simulate(model, state, 10.0, save_every=2.0, method="imex", interventions=plan, output=path)
    with ct.resume(path, 20.0) as run:
        for name in ("sites/liver/arrived", "sites/lung/shed", "blood_ctc"):
            np.testing.assert_array_equal(run.series(name), res.series(name))


def test_count_foci_on_constructed_fields():
    """Three separated blobs of known cell numbers (and one below the focus density) give
    three foci; a size threshold between the blobs' sizes keeps the larger ones."""
    grid = ct.Grid((40, 30), 0.05)
    model = spatial_cascade(grid, ct.models.Invasion(), horizon=10.0)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    fields = np.zeros((5, *grid.shape))
    blobs = [((0.4, 0.4), 0.15, 0.5), ((1.2, 1.0), 0.2, 0.8), ((1.6, 0.3), 0.1, 0.3)]
    for (cx, cy), radius, density in blobs:
        fields[0][np.hypot(x - cx, y - cy) < radius] = density
    fields[1][np.hypot(x - 0.5, y - 1.2) < 0.1] = 1e-4  # below FOCUS_DENSITY: no focus
    per_cell = model.sites[0].model.parameters["K_cell"] * grid.cell_volume
    sizes = sorted(
        per_cell * density * np.count_nonzero(np.hypot(x - cx, y - cy) < radius)
        for (cx, cy), radius, density in blobs
    )
    assert model.count_foci(0, fields) == 3
    assert model.count_foci(0, fields, min_size=0.5 * (sizes[0] + sizes[1])) == 2
    assert model.count_foci(0, fields, min_size=sizes[-1] * 1.01) == 0
