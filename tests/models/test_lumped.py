"""Lumped primary tumour: growth laws against their closed forms, CTCs against theirs."""

import numpy as np
import pytest

import continuum as ct
from tests.helpers import PRIMARY_BUDGET_TERMS

P0 = 1e6
T_END = 400.0


def run(growth, t_end=T_END, p0=P0, **parameters):
    model = ct.models.LumpedPrimary(growth, **parameters)
    state = model.initial_state(ct.Grid(1, 1.0), tumor_cells=p0)
    return ct.simulate(model, state, t_end, save_every=t_end / 40, rtol=1e-11, atol=1e-9)


def exp_linear(t, a, a1):
    tau = np.log(a1 / (a * P0)) / a  # the switch, where a P = a1
    return np.where(t <= tau, P0 * np.exp(a * t), a1 / a + a1 * (t - tau))


CASES = [
    ("exponential", {"a": 0.02}, lambda t: P0 * np.exp(0.02 * t)),
    ("logistic", {"a": 0.05, "K": 1e9}, lambda t: 1e9 / (1 + (1e9 / P0 - 1) * np.exp(-0.05 * t))),
    (
        "gompertz",
        {"a": 0.01, "K": 1e12},
        lambda t: 1e12 * np.exp(np.log(P0 / 1e12) * np.exp(-0.01 * t)),
    ),
    (
        "bertalanffy",
        {"a": 2.0, "gamma": 2 / 3, "b": 0.01},
        lambda t: (2.0 / 0.01 + (P0 ** (1 / 3) - 2.0 / 0.01) * np.exp(-0.01 * t / 3)) ** 3,
    ),
    ("power", {"a": 1.0, "gamma": 0.75}, lambda t: (P0**0.25 + 0.25 * t) ** 4),
    ("exponential_linear", {"a": 0.05, "a1": 1e6}, lambda t: exp_linear(t, 0.05, 1e6)),
]


@pytest.mark.parametrize(("growth", "parameters", "exact"), CASES, ids=[c[0] for c in CASES])
def test_growth_law_matches_closed_form(growth, parameters, exact):
    res = run(growth, **parameters)
    # the solver's rtol is 1e-11: measured global errors 1.1e-11 (exponential), 5.0e-12
    # (logistic), 6.0e-12 (Gompertz), 3.3e-13 (Bertalanffy), 2.7e-12 (power), 3.6e-12
    # (exponential-linear)
    np.testing.assert_allclose(res.series("tumor_cells"), exact(res.times), rtol=3e-11)


def test_ctc_compartment_relaxes_to_source_over_clearance():
    """Growth a P balances shedding mu P: constant source S = mu P0 into the blood, which
    loses cells at k = k_clear + k_ext."""
    mu, k = 0.01, 8.0
    res = run("exponential", t_end=2.0, a=mu, mu=mu, alpha=1.0, k_clear=k - 0.5, k_ext=0.5)
    source = mu * P0
    exact = source / k * (1 - np.exp(-k * res.times))
    # measured 2.0e-12 (rtol 1e-11 given to the solver); 0 at t = 0 on both sides
    np.testing.assert_allclose(res.series("blood_ctc"), exact, rtol=5e-12, atol=0)
    # growth and shedding cancel exactly: measured equal
    np.testing.assert_allclose(res.series("tumor_cells"), P0, rtol=1e-12)


def test_lymph_and_blood_compartments_match_their_closed_forms():
    """Constant shedding S split into lymph (fraction f) and blood, with node arrest,
    lymph-to-blood drainage, first-pass arrest, clearance and extravasation: two
    exponentials."""
    mu, f, k_clear, k_ext, k_ln, k_lb, first = 0.01, 0.3, 8.0, 1.5, 2.0, 0.7, 0.2
    res = run(
        "exponential",
        t_end=3.0,
        a=mu,
        mu=mu,
        alpha=1.0,
        lymph_fraction=f,
        k_clear=k_clear,
        k_ext=k_ext,
        k_LN=k_ln,
        k_LB=k_lb,
        first_pass=first,
    )
    t, source = res.times, mu * P0
    k_l, k_b = k_ln + k_lb, k_clear + k_ext
    a = f * source / k_l
    lymph = a * (1 - np.exp(-k_l * t))
    c0 = (1 - first) * (1 - f) * source + k_lb * a
    blood = c0 / k_b * (1 - np.exp(-k_b * t)) - k_lb * a / (k_b - k_l) * (
        np.exp(-k_l * t) - np.exp(-k_b * t)
    )
    # measured 2.0e-12 (lymph), 1.9e-12 (blood), at the solver's rtol 1e-11; 0 at t = 0
    np.testing.assert_allclose(res.series("lymph_ctc"), lymph, rtol=5e-12, atol=0)
    np.testing.assert_allclose(res.series("blood_ctc"), blood, rtol=5e-12, atol=0)
    # the fluxes are products of the (constant) tumour size: measured equal
    np.testing.assert_allclose(res.series("flux_lymph"), f * source, rtol=1e-12)
    # a constant rate integrated in time: measured 1.8e-13
    np.testing.assert_allclose(res.series("first_pass"), first * (1 - f) * source * t, rtol=5e-13)
    np.testing.assert_allclose(res.series("flux_blood"), (1 - f) * source, rtol=1e-12)


@pytest.mark.parametrize("growth", ["gompertz", "bertalanffy"])
def test_budget_holds_with_shedding_and_circulation(growth):
    """P + B + L + cleared + extravasated + node_arrested + first_pass + died - born = P0
    (Bertalanffy shrinks: died)."""
    parameters = {"a": 0.01, "K": 1e12} if growth == "gompertz" else {"a": 1.0, "b": 0.02}
    res = run(
        growth,
        mu=1e-4,
        alpha=2 / 3,
        lymph_fraction=0.4,
        k_clear=10.0,
        k_ext=0.5,
        first_pass=0.25,
        **parameters,
    )
    total = sum(res.series(n) for n in PRIMARY_BUDGET_TERMS)
    born = res.series("born")
    scale = max(born.max(), res.series("died").max(), P0)
    # to round-off of the largest terms (tumour, born, died), accumulated over the steps:
    # <= 2 eps scale per step. Measured 43 eps scale over 87011 steps (Gompertz: the
    # roundings cancel), 3000 eps scale over 10473 (Bertalanffy: the shrinking tumour
    # rounds the same way step after step)
    bound = 2 * res.solver_stats["steps"] * np.finfo(float).eps * scale
    np.testing.assert_allclose(total - born, P0, rtol=0, atol=bound)
    if growth == "bertalanffy":  # a P^(2/3) < b P at P0 = 1e6: the tumour shrinks
        assert res.series("died")[-1] > 0.1 * P0 and res.series("born")[-1] == 0.0


def test_spec_round_trip_through_a_run_file(tmp_path):
    model = ct.models.LumpedPrimary("logistic", a=0.05, K=1e9)
    state = model.initial_state(ct.Grid(1, 1.0), tumor_cells=P0)
    ct.simulate(model, state, 10.0, output=tmp_path / "run.h5")
    with ct.open_run(tmp_path / "run.h5") as f:
        again = f.model
    assert again.growth == "logistic" and again.parameters == model.parameters


def test_bad_growth_law_and_parameters():
    with pytest.raises(ValueError, match="growth: got 'linear'"):
        ct.models.LumpedPrimary("linear")
    with pytest.raises(ValueError, match="k_clear"):
        ct.models.LumpedPrimary("gompertz", k_clear=-1.0)
    with pytest.raises(ValueError, match="K: got 0"):
        ct.models.LumpedPrimary("gompertz", K=0.0)


def test_growth_and_shedding_given_as_dicts():
    model = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.02, "K": 1e11}, shedding={"mu": 1e-3, "alpha": 0.7}
    )
    assert model.growth == "gompertz"
    p = model.parameters
    assert (p["a"], p["K"], p["mu"], p["alpha"]) == (0.02, 1e11, 1e-3, 0.7)
    assert ct.models.LumpedPrimary(shedding=(2e-3, 0.5)).parameters["mu"] == 2e-3
    with pytest.raises(ValueError, match="shedding: unknown key"):
        ct.models.LumpedPrimary(shedding={"rate": 1.0})
    with pytest.raises(ValueError, match=r"lymph_fraction: got 1\.5"):
        ct.models.LumpedPrimary(lymph_fraction=1.5)
