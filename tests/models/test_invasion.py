"""The Stage-1 invasion model: reductions, oxygen, EMT/MET, the cell budget, bad input."""

import csv
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import continuum as ct
import continuum.kernels.invasion as kernels
from continuum.models.invasion import Invasion
from tests.helpers import PRIMARY_BUDGET_TERMS, observed_orders

DATA = Path(__file__).resolve().parents[2] / "data"
EPS = np.finfo(float).eps

# Every term off: the reductions switch single terms back on. Kept: the scales that must
# stay positive (capacity, oxygen thresholds, Hill exponent) and the circulation rates,
# which act on empty compartments.
KEPT = {"K_cell", "o_H", "o_N", "hill", "k_clear", "k_ext", "k_LN", "k_LB"}
OFF = {p.name: 0.0 for p in Invasion.PARAMETERS if p.name not in KEPT}
NO_VESSELS = {"blood_vessels": 0.0, "lymph_vessels": 0.0}


@pytest.mark.parametrize(
    ("shape", "method"), [((100,), "explicit"), ((40, 40), "explicit"), ((100,), "imex")]
)
def test_reduces_to_anderson_chaplain(shape, method):
    """e = 0, o = 1, no EMT, growth, necrosis or vessels: Anderson-Chaplain exactly."""
    grid = ct.Grid(shape, 1.0 / shape[0])
    reference = ct.models.AndersonChaplain(d_n=0.001, gamma=0.005, eta=10, d_m=0.001, alpha=0.1)
    start = reference.initial_state(grid)
    model = Invasion(
        **NO_VESSELS,
        **{**OFF, "D_m": 0.001, "chi": 0.005, "eta": 10.0, "D_p": 0.001, "alpha_m": 0.1},
    )
    state = model.initial_state(
        grid, epithelial=0.0, mesenchymal=start["n"], ecm=start["f"], mmp=start["m"], oxygen=1.0
    )
    dt = 1e-3
    expected = ct.simulate(reference, start, 1.0, save_every=0.5, method=method, dt=dt)
    got = ct.simulate(model, state, 1.0, save_every=0.5, method=method, dt=dt)
    # the same arithmetic in another order: measured at most 2.1e-14 (fields <= 1)
    for mine, theirs in (("mesenchymal", "n"), ("ecm", "f"), ("mmp", "m")):
        np.testing.assert_allclose(
            got.field(mine)[-1], expected.field(theirs)[-1], rtol=0, atol=6e-14
        )
    assert np.all(got.field("epithelial") == 0.0)


def test_reduces_to_fisher_kpp():
    """One phenotype, P(o) = 1 (K_P = 0, o = 1): Fisher-KPP."""
    grid = ct.Grid((48, 48), 0.1)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    u0 = np.exp(-((x - 2.4) ** 2 + (y - 2.4) ** 2) / 0.5)
    reference = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.3)
    model = Invasion(**NO_VESSELS, **{**OFF, "D_e": 0.05, "rho_e": 0.3})
    reference_state = reference.initial_state(grid, u=u0)
    expected = ct.simulate(reference, reference_state, 5.0, method="explicit", dt=0.01)
    state = model.initial_state(grid, epithelial=u0, ecm=1.0, oxygen=1.0)
    got = ct.simulate(model, state, 5.0, method="explicit", dt=0.01)
    # measured 1.1e-15
    np.testing.assert_allclose(got.field("epithelial")[-1], expected.field("u")[-1], rtol=3e-15)
    budget = sum(got.series(n) for n in PRIMARY_BUDGET_TERMS) - got.series("born")
    # one rounding per step at most, 500 steps (measured 2.9e-14)
    np.testing.assert_allclose(budget, budget[0], rtol=500 * EPS)


def _oxygen_only(**parameters):
    frozen = {**OFF, "D_o": 86.4, "kappa": 3840.0, **parameters}
    return frozen


def test_oxygen_steady_state_1d_matches_cosh_profile_at_second_order():
    """D o'' = kappa c o on (0, L), o = 1 at both ends: o = cosh((x - L/2)/l) / cosh(L/2l)."""
    length, density = 1.0, 0.5
    scale = np.sqrt(86.4 / (3840.0 * density))
    model = Invasion(**NO_VESSELS, **_oxygen_only(), bc={"oxygen": ct.Dirichlet(1.0)})
    errors = []
    for n in (32, 64, 128):
        grid = ct.Grid(n, length / n)
        state = model.initial_state(grid, epithelial=density, oxygen=1.0)
        # ten backward-Euler steps of ~100 relaxation times each: the steady state
        res = ct.simulate(model, state, 0.5, save_every=0.5, method="imex", dt=0.05)
        x = grid.coords[0]
        exact = np.cosh((x - length / 2) / scale) / np.cosh(length / (2 * scale))
        errors.append(np.abs(res.field("oxygen")[-1] - exact).max())
    assert errors[0] < 3e-3, errors  # measured 2.4e-3
    orders = observed_orders(errors)
    assert np.all((orders > 1.9) & (orders < 2.1)), orders  # measured 1.92, 1.96


def test_the_kernels_read_the_oxygen_supply_from_a_map_derived_once_per_run():
    """``solver_maps`` = the vessel maps, then ``S(v_B)``: the NumPy Krogh supply of
    ``continuum.reference`` (written independently) to round-off, for the default vessels
    and non-default sigma, r_cap, D_o; a cascade's solver reads its primary's."""
    from continuum.reference import oxygen_supply

    grid = ct.Grid((9, 7, 5), 0.04)
    for parameters in ({}, {"sigma": 300.0, "r_cap": 0.012, "D_o": 20.0}):
        model = Invasion(**parameters)
        maps = model.solver_maps(grid)
        np.testing.assert_array_equal(maps[:2], model.static_maps(grid))
        p = model.parameters
        expected = oxygen_supply(maps[0], p["sigma"], p["r_cap"], p["D_o"])
        np.testing.assert_allclose(maps[2], expected, rtol=1e-13, atol=0.0)
        assert expected.max() > 0.0
    cascade = ct.models.Cascade(primary=model)
    np.testing.assert_array_equal(cascade.solver_maps(grid), maps)


def _discrete_steady_state(grid, model, state):
    """Direct sparse solve of D lap o + S(v_B) (1 - o) - kappa (e + m) o = 0 (no-flux)."""
    p = model.parameters
    maps = model.static_maps(grid).reshape((2, *grid.shape))
    cells = state["epithelial"] + state["mesenchymal"]
    params = model.param_vector()
    supply = np.vectorize(lambda v: kernels.oxygen_exchange(v, params))(maps[0])
    rate = supply + p["kappa"] * cells
    operator = sp.csr_matrix((grid.size, grid.size))
    for axis, (n, h) in enumerate(zip(grid.shape, grid.spacing, strict=True)):
        ones = np.ones(n)
        lap = sp.diags([ones[:-1], -2 * ones, ones[:-1]], [-1, 0, 1]).tolil()
        lap[0, 0] = lap[-1, -1] = -1
        term = sp.csr_matrix(lap / h**2)
        for other, m in enumerate(grid.shape):
            eye = sp.identity(m)
            if other < axis:
                term = sp.kron(eye, term)
            elif other > axis:
                term = sp.kron(term, eye)
        operator = operator + p["D_o"] * term
    operator = operator - sp.diags(rate.ravel())
    return spla.spsolve(operator.tocsc(), -supply.ravel()).reshape(grid.shape)


@pytest.mark.parametrize("shape", [(48, 40), (14, 12, 10)])
def test_oxygen_quasi_steady_state_is_the_discrete_steady_state(shape):
    """A cell-scale step (0.05 day, ~1e4 diffusion times per cell) lands on the exact
    discrete steady state, in 2D and 3D (odd sizes exercise the multigrid coarsening),
    with sub-cell capillaries whose supply the Krogh resistance limits."""
    grid = ct.Grid(shape, 0.03)
    rng = np.random.default_rng(3)
    vessels = ct.vessels.random_capillaries(grid, 0.05, seed=4, radius=0.01)
    assert 0 < vessels.max() < 1  # sub-cell capillaries
    oxygen = _oxygen_only(sigma=1e5, r_cap=0.01)
    model = Invasion(blood_vessels=vessels, lymph_vessels=0.0, **oxygen)
    cells = 0.8 * rng.random(shape)
    state = model.initial_state(grid, epithelial=cells, oxygen=1.0)
    res = ct.simulate(model, state, 0.5, save_every=0.5, method="imex", dt=0.05)
    exact = _discrete_steady_state(grid, model, state)
    assert exact.min() > 0.01  # a real range of oxygen levels
    # the implicit solve stops once its last correction is below 0.1 (atol + rtol |x|), at
    # the default rtol 1e-4 and atol 1e-8 (measured 2.1e-13: it reached round-off)
    np.testing.assert_allclose(res.field("oxygen")[-1], exact, rtol=1e-5, atol=1e-9)


def _tumour_oxygen(spacing, sigma, fraction, r_cap):
    """Median and 10th percentile of the steady oxygen over tumour cells (e > 0.5) of a
    fixed disk (radius 0.4 mm, rim width 40 µm, e = 0.9 inside) in a 1.28 mm square
    with random capillaries (seed 1: the same physical vessels on every grid)."""
    extent = 1.28
    grid = ct.Grid((round(extent / spacing),) * 2, spacing)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    cells = 0.45 * (1 - np.tanh((np.hypot(x - extent / 2, y - extent / 2) - 0.4) / 0.04))
    vessels = ct.vessels.random_capillaries(grid, fraction, seed=1)
    oxygen = _oxygen_only(sigma=sigma, r_cap=r_cap)
    model = Invasion(blood_vessels=vessels, lymph_vessels=0.0, **oxygen)
    state = model.initial_state(grid, epithelial=cells, oxygen=1.0)
    res = ct.simulate(model, state, 0.5, save_every=0.5, method="imex", dt=0.05)
    tumour = res.field("oxygen")[-1][cells > 0.5]
    return np.array([np.median(tumour), np.percentile(tumour, 10)])


@pytest.mark.parametrize(
    ("sigma", "fraction", "r_cap", "agree"),
    [(1e4, 0.03, 0.005, True), (1e7, 0.005, 0.005, True), (1e7, 0.005, 0.0, False)],
    ids=["defaults", "diffusion-limited", "diffusion-limited-smeared"],
)
def test_tumour_oxygen_does_not_depend_on_the_grid_spacing(sigma, fraction, r_cap, agree):
    """Median and 10th-percentile tumour oxygen at 80, 40 and 20 µm agree within 0.03.

    Measured (median / p10): defaults (sigma 1e4, 3 % vessels) 0.183/0.139, 0.182/0.138,
    0.182/0.138; diffusion-limited exchange (sigma 1e7, 0.5 % vessels) 0.768/0.688,
    0.748/0.684, 0.752/0.682. Without the Krogh resistance (r_cap = 0: each capillary
    smeared over its cell) the latter become 0.850/0.773, 0.805/0.732, 0.780/0.709, a
    spread of 0.07 that the tolerance catches.
    """
    figures = np.array([_tumour_oxygen(h, sigma, fraction, r_cap) for h in (0.08, 0.04, 0.02)])
    spread = figures.max(axis=0) - figures.min(axis=0)
    assert np.all(spread < 0.03) == agree, figures


@pytest.mark.parametrize("oxygen", [1.0, 0.1])
def test_emt_met_exchange_matches_two_state_solution(oxygen):
    """No space, no growth: e' = -k H(o) e + k_met m, m' = -e'; H(o) = 1 + h/(1+(o/o_H)^n)."""
    k_emt, k_met, h_max, o_h, hill = 0.3, 0.1, 4.0, 0.2, 4.0
    model = Invasion(
        **NO_VESSELS,
        **{**OFF, "k_emt": k_emt, "k_met": k_met, "h_max": h_max, "o_H": o_h, "hill": hill},
    )
    state = model.initial_state(ct.Grid(1, 1.0), epithelial=0.7, mesenchymal=0.1, oxygen=oxygen)
    res = ct.simulate(model, state, 20.0, save_every=1.0, method="explicit", rtol=1e-11, atol=1e-14)
    forward = k_emt * (1 + h_max / (1 + (oxygen / o_h) ** hill))
    total = 0.8
    m_eq = total * forward / (forward + k_met)
    m_exact = m_eq + (0.1 - m_eq) * np.exp(-(forward + k_met) * res.times)
    m = res.field("mesenchymal")[:, 0]
    # at the solver's rtol 1e-11: measured 1.2e-12 (o = 1), 1.1e-12 (o = 0.1)
    np.testing.assert_allclose(m, m_exact, rtol=3e-12)
    # e + m is conserved to round-off: measured 5.6e-13, 9.3e-13
    np.testing.assert_allclose(res.field("epithelial")[:, 0] + m, total, rtol=1e-12)


def _mesenchymal_equilibrium(parameters, oxygen):
    """Closed form of e' = -k_EMT H(o) e + k_MET m, m' = -e': m/(e+m) = k H/(k H + k_MET)."""
    p = parameters
    forward = p["k_emt"] * (1 + p["h_max"] / (1 + (oxygen / p["o_H"]) ** p["hill"]))
    return forward / (forward + p["k_met"])


def test_default_emt_equilibrium_is_mostly_epithelial():
    """Carcinomas stay mostly epithelial (Pastushenko et al. 2018): the defaults' EMT/MET
    equilibrium is 5-15 % mesenchymal in normoxia, <= 30 % even in anoxia, and a
    well-mixed tumour (no growth, death, vessels or oxygen dynamics) relaxes to it."""
    defaults = Invasion().parameters
    assert 0.05 <= _mesenchymal_equilibrium(defaults, 1.0) <= 0.15
    assert 0.05 <= _mesenchymal_equilibrium(defaults, 0.0) <= 0.30
    exchange = {n: defaults[n] for n in ("k_emt", "k_met", "h_max", "o_H", "hill")}
    model = Invasion(**NO_VESSELS, **{**OFF, **exchange})
    for oxygen in (1.0, 0.11):
        state = model.initial_state(ct.Grid(4, 0.1), epithelial=0.8, oxygen=oxygen)
        res = ct.simulate(model, state, 150.0, save_every=150.0)
        e, m = res.field("epithelial")[-1], res.field("mesenchymal")[-1]
        expected = _mesenchymal_equilibrium(defaults, oxygen)
        # at the default rtol 1e-4: measured 2.5e-6 (o = 1), 3.5e-6 (o = 0.11)
        np.testing.assert_allclose(m / (e + m), expected, rtol=1e-5)


BUDGET_MODEL = {
    "mu_B": 5.0,
    "mu_Be": 0.5,
    "mu_L": 3.0,
    "k_emt": 0.2,
    "delta_max": 2.0,
    "o_N": 0.9,
    "first_pass": 0.3,
}
EXPLICIT_OXYGEN = {"D_o": 0.05, "sigma": 20.0, "kappa": 40.0, "D_p": 0.01}


@pytest.mark.parametrize("method", ["explicit", "imex"])
@pytest.mark.parametrize("shape", [(24, 20), (10, 9, 8)], ids=["2d", "3d"])
def test_cell_budget_closes_at_every_frame(shape, method):
    """tumor + blood + lymph + cleared + extravasated + node_arrested + first_pass + died
    - born = initial tumor."""
    grid = ct.Grid(shape, 0.05)
    extra = EXPLICIT_OXYGEN if method == "explicit" else {}
    model = Invasion(
        blood_vessels=ct.vessels.random_capillaries(grid, 0.3, seed=1, radius=0.03),
        lymph_vessels=ct.vessels.random_capillaries(grid, 0.2, seed=2, radius=0.03),
        **BUDGET_MODEL,
        **extra,
    )
    state = model.initial_state(grid)
    res = ct.simulate(model, state, 4.0, save_every=0.5, method=method)
    initial = res.series("tumor_cells")[0]
    budget = sum(res.series(n) for n in PRIMARY_BUDGET_TERMS) - res.series("born")
    # round-off: measured 2.7e-14 / 1.7e-15 (2D explicit / imex), 3.6e-14 / 6.5e-15 (3D)
    np.testing.assert_allclose(budget, initial, rtol=1e-13)
    terms = ("cleared", "extravasated", "node_arrested", "first_pass", "born", "died")
    for name in terms:  # every term is exercised (the smallest measured 3.9e-3 of initial)
        assert res.series(name)[-1] > 2e-3 * initial, name
    for name in ("blood_ctc", "lymph_ctc"):  # both compartments populated (>= 9.9e-5)
        assert res.series(name)[-1] > 4e-5 * initial, name
    assert res.series("flux_blood")[-1] > 0 and res.series("flux_lymph")[-1] > 0
    # cells counted from the fields, the way users integrate them
    cells = res.field("epithelial")[-1] + res.field("mesenchymal")[-1]
    # two summation orders of the same cells: measured at most 4.1e-16
    np.testing.assert_allclose(
        res.series("tumor_cells")[-1],
        model.parameters["K_cell"] * cells.sum() * grid.cell_volume,
        rtol=1.2e-15,
    )


def test_lymph_drains_only_the_margin_of_a_tumour():
    """Lymph vessels everywhere, mesenchymal cells only leaving through them: the core
    (e + m above lymph_collapse, lymphatics compressed shut; Padera et al. 2002) keeps
    every cell, the margin loses m at mu_L F(e + m), and what leaves enters lymph."""
    grid = ct.Grid((40, 40), 0.05)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    tumour = 0.5 * (1 - np.tanh((np.hypot(x - 1.0, y - 1.0) - 0.5) / 0.1))
    rates = {"mu_L": 0.3, "lymph_collapse": 0.5}
    model = Invasion(blood_vessels=0.0, lymph_vessels=1.0, **{**OFF, **rates})
    state = model.initial_state(grid, epithelial=0.9 * tumour, mesenchymal=0.1 * tumour)
    res = ct.simulate(model, state, 2.0, save_every=1.0, method="imex", dt=0.1)
    m0, m = 0.1 * tumour, res.field("mesenchymal")[-1]
    core, margin = tumour >= 0.5, (tumour < 0.5) & (m0 > 1e-3)
    assert core.sum() > 100 and margin.sum() > 100
    np.testing.assert_array_equal(m[core], m0[core])  # not a single cell drained
    # the margin drains at least at its initial rate mu_L F(e + m) (e + m only falls)
    assert np.all(m[margin] <= m0[margin] * np.exp(-0.3 * 2.0 * (1 - tumour[margin] / 0.5)))
    lost = res.series("tumor_cells")[0] - res.series("tumor_cells")
    assert lost[-1] > 2e-3 * res.series("tumor_cells")[0]  # measured 3.6e-3
    budget = sum(res.series(n) for n in PRIMARY_BUDGET_TERMS) - res.series("born")
    # one rounding per step at most, 20 steps (measured 1.8e-16)
    np.testing.assert_allclose(budget, budget[0], rtol=20 * EPS)
    np.testing.assert_allclose(res.series("died") + res.series("born"), 0.0, atol=0.0)


def test_imex_steps_far_beyond_the_blood_residence_time_stay_exact():
    """Mesenchymal cells intravasating at rate mu_B from uniform vessels: m = e^{-mu t},
    blood B = J0 (e^{-mu t} - e^{-k t}) / (k - mu), k = k_clear + k_ext. IMEX steps of
    0.5 day are five times the blood's residence time 1/k."""
    grid = ct.Grid((16,), 0.1)
    mu, k_clear, k_ext = 0.05, 10.0, 0.5
    rates = {"mu_B": mu, "k_clear": k_clear, "k_ext": k_ext}
    model = Invasion(blood_vessels=1.0, lymph_vessels=0.0, **{**OFF, **rates})
    state = model.initial_state(grid, epithelial=0.0, mesenchymal=0.5, ecm=1.0, oxygen=1.0)
    k = k_clear + k_ext
    errors = []
    for dt in (0.5, 0.25):
        res = ct.simulate(model, state, 20.0, save_every=5.0, method="imex", dt=dt)
        cells0 = res.series("tumor_cells")[0]
        t = res.times[1:]
        exact = cells0 * mu * (np.exp(-mu * t) - np.exp(-k * t)) / (k - mu)
        errors.append(np.max(np.abs(res.series("blood_ctc")[1:] / exact - 1.0)))
        budget = sum(res.series(n) for n in PRIMARY_BUDGET_TERMS) - res.series("born")
        # one rounding per step at most (measured 0 and 5.5e-16)
        np.testing.assert_allclose(budget, cells0, rtol=20.0 / dt * EPS)
    # first order in time: the inflow held over a step lags by about mu dt / 2; measured
    # 0.0177 at dt = 0.5 and a ratio of 2.44 on halving dt (2 for first order)
    assert errors[0] < 0.025
    assert 1.6 < errors[0] / errors[1] < 3.0


def test_defaults_grow_turn_invasive_and_shed_within_weeks():
    """Default parameters on 5 mm of tissue: growth, EMT, invasion and shedding in 30 days."""
    grid = ct.Grid((64, 64), 0.08)
    model = Invasion()
    res = ct.simulate(model, model.initial_state(grid), 30.0, save_every=10.0, method="imex")
    cells = res.series("tumor_cells")
    assert cells[-1] > 1.5 * cells[0]  # measured 3.0x
    # mostly epithelial (14.5 % mesenchymal measured), shedding into blood (2.1e-4 of the
    # tumour's cells measured) and, from the margin only, into lymph (6.1e-6)
    assert 0.02 * cells[-1] < res.series("mesenchymal_cells")[-1] < 0.3 * cells[-1]
    assert res.series("blood_ctc")[-1] > 7e-5 * cells[-1]
    assert res.series("lymph_ctc")[-1] > 2e-6 * cells[-1]
    oxygen = res.field("oxygen")[-1]
    assert oxygen.min() < 0.2 < 0.9 < oxygen.max()  # a hypoxic core in oxygenated tissue


def test_fields_stay_nonnegative_and_bounded_with_strong_haptotaxis():
    grid = ct.Grid((32, 32), 0.06)
    model = Invasion(chi=100 * 8.64e-4, k_emt=0.1)
    res = ct.simulate(model, model.initial_state(grid), 45.0, save_every=5.0, method="imex")
    fields = {name: res.field(name) for name in model.field_names}
    # measured: every field >= 0 (the smallest minimum 0), ecm <= 0.99999997, oxygen
    # <= 1 exactly, cells <= 0.885 of their capacity
    for name, values in fields.items():
        assert values.min() >= 0.0, name
    assert fields["ecm"].max() <= 1.0
    assert fields["oxygen"].max() <= 1.0
    assert (fields["epithelial"] + fields["mesenchymal"]).max() <= 1.0
    assert res.series("mesenchymal_cells")[-1] > 0


def test_run_file_keeps_vessel_maps_and_resumes_bit_for_bit(tmp_path):
    grid = ct.Grid((20, 16), 0.05)
    vessels = ct.vessels.random_capillaries(grid, 0.1, seed=5, radius=0.03)
    model = Invasion(blood_vessels=vessels, lymph_vessels=0.02)
    state = model.initial_state(grid)
    full = ct.simulate(model, state, 2.0, save_every=0.5, method="imex")
    path = tmp_path / "run.h5"
    ct.simulate(model, state, 1.0, save_every=0.5, method="imex", output=path)
    with ct.resume(path, 2.0) as run:
        assert run.map_names == ["blood_vessels", "lymph_vessels"]
        np.testing.assert_array_equal(run.static_map("blood_vessels"), vessels)
        np.testing.assert_array_equal(run.static_map("lymph_vessels"), 0.02)
        np.testing.assert_array_equal(run.model.static_maps(grid), model.static_maps(grid))
        for name in model.field_names:
            np.testing.assert_array_equal(run.field(name), full.field(name))
        for name in ("tumor_cells", "blood_ctc", "flux_lymph", "extravasated"):
            np.testing.assert_array_equal(run.series(name), full.series(name))
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(path, group="maps", engine="h5netcdf") as maps:
        assert maps["blood_vessels"].dims == ("x", "y")
        np.testing.assert_array_equal(maps["blood_vessels"].values, vessels)


def test_parameter_table_matches_the_defaults():
    with open(DATA / "parameters.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["model"] == "Invasion"]
    table = {row["name"]: row for row in rows}
    assert set(table) == {p.name for p in Invasion.PARAMETERS}
    for p in Invasion.PARAMETERS:
        assert float(table[p.name]["value"]) == p.default, p.name
        assert table[p.name]["unit"] == p.unit, p.name
        assert table[p.name]["source"].strip(), p.name


def test_bad_input_is_refused_before_any_work(tmp_path):
    grid = ct.Grid((10, 10), 0.1)
    with pytest.raises(ValueError, match="mu_B: got -1"):
        Invasion(mu_B=-1.0)
    with pytest.raises(ValueError, match="o_H"):
        Invasion(o_H=0.0)
    with pytest.raises(ValueError, match="unknown parameter"):
        Invasion(mu=1.0)
    with pytest.raises(ValueError, match=r"blood_vessels: .*\[0, 1\]"):
        Invasion(blood_vessels=-np.ones((10, 10)))
    with pytest.raises(ValueError, match=r"lymph_vessels: .*\[0, 1\]"):
        Invasion(lymph_vessels=1.5)
    model = Invasion(blood_vessels=np.zeros((5, 5)))
    output = tmp_path / "run.h5"
    with pytest.raises(ValueError, match=r"blood_vessels: got shape \(5, 5\)"):
        ct.simulate(model, model.initial_state(grid), 1.0, output=output)
    assert not output.exists()
    dirichlet = Invasion(bc={"mesenchymal": ct.Dirichlet(0.0)})
    with pytest.raises(ValueError, match="'mesenchymal' has a Dirichlet boundary"):
        ct.simulate(dirichlet, dirichlet.initial_state(grid), 1.0)


def test_hill_power_is_pow_to_round_off():
    """The Hill responses' power by repeated multiplication for whole exponents 1-8
    agrees with ``pow`` to a few units in the last place (measured: 1 ulp at the default
    n = 4, 3 at n = 8); other exponents are ``pow`` itself (1 ulp apart: the compiled
    ``pow`` and NumPy's); zero, large values and NaN as ``pow``."""
    x = np.concatenate([[0.0, 1.0, 1e-30, 1e30], np.random.default_rng(0).uniform(0, 10, 500)])
    for n in [1.0, 2.0, 3.0, 4.0, 5.0, 8.0, 0.5, 2.5, 9.0]:
        got = np.array([kernels.hill_power(v, n) for v in x])
        expected = x**n
        ulps = np.abs(got - expected) / np.spacing(np.maximum(expected, 1e-300))
        assert ulps.max() <= (8.0 if n == int(n) and n <= 8 else 1.0), (n, ulps.max())
    assert np.isnan(kernels.hill_power(np.nan, 4.0))
