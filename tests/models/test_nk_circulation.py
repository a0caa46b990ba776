"""Natural-killer (NK) killing of circulating tumour cells: its own booked loss
(``killed_immune``, ``cluster_killed_immune``) beside the clearance ``k_clear``."""

import math

import numpy as np
import pytest

import continuum as ct
from tests.helpers import PRIMARY_BUDGET_TERMS
from tests.models.test_cascade import cascade_budget, full_sites, spatial_primary
from tests.models.test_invasion import BUDGET_MODEL

P0 = 1e6


def test_lumped_blood_and_its_two_losses_match_the_closed_form():
    """Growth a P balances shedding mu P: a constant source S = mu P0 into blood, which
    loses cells at k = k_clear + k_nk + k_ext, so B = S/k (1 - e^{-kt}) and the losses
    integrate k_i B: k_i S/k (t - (1 - e^{-kt})/k)."""
    mu, k_clear, k_nk, k_ext = 0.01, 6.0, 4.0, 0.5
    model = ct.models.LumpedPrimary(
        "exponential", a=mu, mu=mu, alpha=1.0, k_clear=k_clear, k_nk=k_nk, k_ext=k_ext
    )
    state = model.initial_state(ct.Grid(1, 1.0), tumor_cells=P0)
    res = ct.simulate(model, state, 2.0, save_every=0.05, rtol=1e-11, atol=1e-9)
    t, source, k = res.times, mu * P0, k_clear + k_nk + k_ext
    blood = source / k * (1 - np.exp(-k * t))
    integral = source / k * (t + np.expm1(-k * t) / k)
    # the solver's rtol 1e-11: measured 2.0e-12 (blood), 1.3e-12 (cleared, killed)
    np.testing.assert_allclose(res.series("blood_ctc"), blood, rtol=5e-12, atol=0)
    np.testing.assert_allclose(res.series("cleared"), k_clear * integral, rtol=5e-12, atol=0)
    np.testing.assert_allclose(res.series("killed_immune"), k_nk * integral, rtol=5e-12, atol=0)
    # both sum a rate times the same blood, each rounding on its own: the ratio to
    # round-off, measured 9.3e-15 (42 eps) after 9882 steps
    late = t > 0
    ratio = res.series("killed_immune")[late] / res.series("cleared")[late]
    np.testing.assert_allclose(ratio, k_nk / k_clear, rtol=5e-14, atol=0)
    assert res.series("killed_immune")[-1] > 1e3


def test_cascade_books_nk_killing_of_single_cells_and_shielded_clusters():
    """In a cascade (compiled lumped path) with clusters, a transit to the first bed and a
    first pass: NK deaths over clearance is k_nk / k_clear for single cells and
    (1 - s) k_nk / clearance for clusters, transit deaths included; the steady blood is
    (1 - f)(1 - phi) sigma J / (k_clear + k_nk + k_ext), sigma = e^{-(k_clear + k_nk) tau};
    the whole budget closes to round-off."""
    shedding, f, phi, k_c, s, tau = 1e4, 0.5, 0.2, 40.0, 0.25, 0.01
    k_clear, k_nk, k_ext = 6.0, 4.0, 0.5
    sites = [ct.SecondarySite("lung", survival=0.01), ct.SecondarySite("bone", survival=0.01)]
    primary = ct.models.LumpedPrimary(
        growth={"law": "exponential", "a": 0.0}, mu=shedding, alpha=0.0
    )
    circulation = ct.Circulation(
        k_clear=k_clear,
        k_nk=k_nk,
        k_ext=k_ext,
        first_pass=("lung", f),
        transit_time=tau,
        clusters={"fraction": phi, "clearance": k_c, "seeding": 20.0, "nk_shielding": s},
    )
    model = ct.Cascade(primary, circulation, sites, horizon=40.0)
    res = ct.simulate(model, model.initial_state(tumor_cells=1e9), 40.0, save_every=10.0)
    late = res.times > 0
    # sums of 128 stretches' bookings, each rounding on its own: measured 2.9e-15 (single
    # cells) and 6.2e-15 (clusters)
    ratio = res.series("killed_immune")[late] / res.series("blood_cleared")[late]
    np.testing.assert_allclose(ratio, k_nk / k_clear, rtol=3e-14, atol=0)
    cluster_ratio = res.series("cluster_killed_immune")[late] / res.series("cluster_cleared")[late]
    np.testing.assert_allclose(cluster_ratio, (1 - s) * k_nk / k_c, rtol=3e-14, atol=0)
    sigma = math.exp(-(k_clear + k_nk) * tau)
    singles = (1 - f) * (1 - phi) * sigma * shedding / (k_clear + k_nk + k_ext)
    cluster_sigma = math.exp(-(k_c + (1 - s) * k_nk) * tau)
    clusters = (1 - f) * phi * cluster_sigma * shedding / (k_c + (1 - s) * k_nk + k_ext)
    steady = res.times >= 10.0  # measured 1.6e-14 (single cells), 7.1e-15 (clusters)
    np.testing.assert_allclose(res.series("blood_ctc")[steady], singles, rtol=4.5e-14)
    np.testing.assert_allclose(res.series("cluster_ctc")[steady], clusters, rtol=4.5e-14)
    total = cascade_budget(res, sites) + res.series("cluster_ctc")
    np.testing.assert_allclose(total, 1e9, rtol=1e-12, atol=0)  # measured 1.5e-14
    assert res.series("cluster_killed_immune")[-1] > 1e3


def test_cascade_budget_with_a_spatial_primary_and_nk_killing():
    sites = full_sites()
    grid = ct.Grid((12, 10), 0.05)
    primary = spatial_primary(grid)
    circulation = ct.Circulation(k_clear=6.0, k_nk=4.0, first_pass=("lung", 0.3))
    model = ct.Cascade(primary, circulation, sites, horizon=5.0)
    res = ct.simulate(model, model.initial_state(grid), 5.0, save_every=1.0)
    initial = res.series("tumor_cells")[0]
    # round-off: measured 3.8e-14
    np.testing.assert_allclose(cascade_budget(res, sites), initial, rtol=4e-13)
    late = res.times > 0
    ratio = res.series("killed_immune")[late] / res.series("blood_cleared")[late]
    # measured 6.7e-16 after 608 steps
    np.testing.assert_allclose(ratio, 4.0 / 6.0, rtol=2e-14, atol=0)
    assert res.series("killed_immune")[-1] > 100.0


def test_invasion_budget_with_nk_killing_under_imex():
    """The IMEX method takes blood and lymph in closed form over its steps
    (``relax_circulation``): NK killing is booked there too and the budget closes."""
    grid = ct.Grid((16, 14), 0.05)
    model = ct.models.Invasion(
        blood_vessels=ct.vessels.random_capillaries(grid, 0.3, seed=1, radius=0.03),
        lymph_vessels=ct.vessels.random_capillaries(grid, 0.2, seed=2, radius=0.03),
        **BUDGET_MODEL,
        k_clear=6.0,
        k_nk=4.0,
    )
    res = ct.simulate(model, model.initial_state(grid), 4.0, save_every=0.5, method="imex")
    initial = res.series("tumor_cells")[0]
    budget = sum(res.series(n) for n in PRIMARY_BUDGET_TERMS) - res.series("born")
    np.testing.assert_allclose(budget, initial, rtol=1e-13)  # measured 2.1e-15
    late = res.times > 0
    ratio = res.series("killed_immune")[late] / res.series("cleared")[late]
    # measured 1.0e-15 after 659 steps
    np.testing.assert_allclose(ratio, 4.0 / 6.0, rtol=2e-14, atol=0)
    assert res.series("killed_immune")[-1] > 1e-2 * initial  # measured 4.2e-2


def test_bad_nk_parameters_are_refused():
    with pytest.raises(ValueError, match="k_nk"):
        ct.models.LumpedPrimary(k_nk=-1.0)
    with pytest.raises(ValueError, match="k_nk"):
        ct.models.Invasion(k_nk=-1.0)
    with pytest.raises(ValueError, match="k_nk"):
        ct.Circulation(k_nk=-1.0)
    with pytest.raises(ValueError, match="nk_shielding"):
        ct.Circulation(clusters={"fraction": 0.1, "nk_shielding": 1.5})
