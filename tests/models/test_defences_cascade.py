"""The body's defences and the angiogenic switch inside a whole cascade: the cell budget
with effectors, vascular capacities and both treatments on; a bit-exact resume inside an
immunotherapy window; the release of colonies by resection under systemic inhibition,
against an independent SciPy integration."""

import itertools
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import continuum as ct
from continuum.kernels import colonies
from continuum.units import CELLS_PER_MM3

from .test_cascade import cascade_budget, spatial_primary

# Lewis lung carcinoma (Hahnfeldt et al. 1999): lambda [1/day], b [1/day], d [1/(day mm^2)]
LAMBDA, STIMULATION, INHIBITION = 0.192, 5.85, 0.00873


def defended_sites():
    angiogenic = {
        "law": "hahnfeldt",
        "a": LAMBDA,
        "K": 1e5,
        "stimulation": STIMULATION,
        "inhibition": INHIBITION,
        "systemic": 1.0,
    }
    return [
        ct.SecondarySite("lung", growth=angiogenic, immunity="kuznetsov_1994", dormancy=0.5),
        ct.SecondarySite(
            "liver",
            growth={"law": "gompertz", "a": 0.05, "K": 1e9},
            immunity={**ct.KUZNETSOV_1994, "shielding": 1e5},
            seeding=(2e-5, 2 / 3),
            clearance=0.01,
        ),
        ct.SecondarySite("bone", growth={**angiogenic, "systemic": 0.0}, dormancy=0.0),
    ]


TREATMENTS = [
    ct.Immunotherapy(40.0, 90.0, kill_boost=2.0, exhaustion_block=0.5),
    ct.AntiAngiogenic(60.0, 110.0, rate=0.4),
    ct.Resection(75.0, residual=0.01),
    ct.SystemicTherapy(80.0, 100.0, rate=0.05, dormant=True),
]


def test_budget_closes_with_defences_and_both_treatments_lumped():
    sites = defended_sites()
    primary = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.05, "K": 1e10}, mu=20.0, alpha=2 / 3
    )
    model = ct.Cascade(primary, ct.Circulation(), sites, horizon=150.0)
    res = ct.simulate(
        model,
        model.initial_state(tumor_cells=1e8),
        150.0,
        save_every=5.0,
        interventions=TREATMENTS,
    )
    scale = max(res.series("born")[-1], 1e8)
    residual = np.abs(cascade_budget(res, sites) - 1e8).max()
    assert residual < 1e-10 * scale  # measured 6.6e-16 x scale
    assert res.series("sites/lung/immune_killed")[-1] > 0.0
    assert res.series("sites/liver/immune_killed")[-1] > 0.0
    assert res.series("sites/lung/vascular_capacity")[-1] > 0.0
    assert res.series("sites/lung/effectors")[0] == ct.KUZNETSOV_1994["effectors"]
    assert res.series("sites/bone/effectors")[-1] == 0.0  # no immunity there
    # the immunotherapy's extra kills are booked as removed at the immune sites
    assert res.series("sites/lung/removed")[-1] > 0.0


def test_budget_closes_with_defences_and_both_treatments_spatial():
    sites = defended_sites()
    grid = ct.Grid((16, 14), 0.05)
    # Invasion's own lymph vessels and mu_L (0.2 /day), a tenfold blood intravasation
    primary = spatial_primary(grid, lymph=False, mu_B=50.0, mu_L=0.2)
    model = ct.Cascade(primary, ct.Circulation(), sites, horizon=20.0)
    treatments = [
        ct.Immunotherapy(4.0, 12.0, kill_boost=1.0),
        ct.AntiAngiogenic(6.0, 14.0, rate=0.4),
    ]
    res = ct.simulate(
        model, model.initial_state(grid), 20.0, save_every=2.0, interventions=treatments
    )
    initial = res.series("tumor_cells")[0]
    scale = max(res.series("born")[-1], initial)
    residual = np.abs(cascade_budget(res, sites) - initial).max()
    assert residual < 1e-10 * scale
    assert res.series("sites/lung/arrived")[-1] > 0.0


def test_bit_exact_resume_inside_an_immunotherapy_window(tmp_path):
    sites = defended_sites()
    primary = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.05, "K": 1e10}, mu=20.0, alpha=2 / 3
    )
    model = ct.Cascade(primary, ct.Circulation(), sites, horizon=150.0)
    state = model.initial_state(tumor_cells=1e8)
    whole = ct.simulate(model, state, 150.0, save_every=10.0, interventions=TREATMENTS)
    path = tmp_path / "run.h5"
    ct.simulate(model, state, 60.0, save_every=10.0, interventions=TREATMENTS, output=path)
    with ct.resume(path, 150.0) as run:
        for name in run.series_names:
            np.testing.assert_array_equal(run.series(name), whole.series(name), err_msg=name)


def _release(resect_at, systemic, cohort_days=0.5):
    """A single colony of 1e5 cells at t = 0 beside a primary held at 3e9 cells (no
    shedding), resected at ``resect_at`` (``None``: never). Returns the time [day] the
    colony reaches 5e6 cells, and the run's burden series."""
    growth = {
        "law": "hahnfeldt",
        "a": LAMBDA,
        "K": 1e5,
        "stimulation": STIMULATION,
        "inhibition": INHIBITION,
        "systemic": systemic,
    }
    site = ct.SecondarySite("lung", growth=growth, capacity=math.inf)
    primary = ct.models.LumpedPrimary(growth={"law": "exponential", "a": 0.0}, mu=0.0)
    model = ct.Cascade(primary, ct.Circulation(), [site], horizon=200.0, cohort_days=cohort_days)
    state = model.initial_state(tumor_cells=3e9)
    counts, logs, _ = model.cohorts(state.scalars, 0)
    counts[0] = 1.0
    logs[0] = math.log(1e5)
    state.scalars[model.site_offset(0) + colonies.BURDEN] = 1e5
    treatments = [] if resect_at is None else [ct.Resection(resect_at)]
    res = ct.simulate(model, state, 200.0, save_every=0.05, interventions=treatments)
    burden = res.series("sites/lung/burden")
    above = np.flatnonzero(burden >= 5e6)
    if above.size == 0:
        return math.inf
    j = above[0]
    fraction = math.log(5e6 / burden[j - 1]) / math.log(burden[j] / burden[j - 1])
    return res.times[j - 1] + fraction * (res.times[j] - res.times[j - 1])


def _release_reference(resect_at, systemic):
    """The same colony by SciPy: Hahnfeldt's ODEs in mm^3 with the primary's 3e4 mm^3 in
    its inhibition until ``resect_at``."""
    primary = 3e9 / CELLS_PER_MM3

    def rates(t, y):
        v, k = y
        others = primary if resect_at is None or t < resect_at else 0.0
        return [
            LAMBDA * v * math.log(k / v),
            STIMULATION * v - INHIBITION * k * (v + systemic * others) ** (2.0 / 3.0),
        ]

    def detected(t, y):
        return y[0] - 5e6 / CELLS_PER_MM3

    detected.terminal = True
    breaks = [0.0, *([] if resect_at is None else [resect_at]), 200.0]
    y = [1.0, 1.0]
    for a, b in itertools.pairwise(breaks):
        out = solve_ivp(rates, (a, b), y, method="DOP853", rtol=1e-11, atol=1e-12, events=detected)
        if out.t_events[0].size:
            return float(out.t_events[0][0])
        y = out.y[:, -1]
    return math.inf


def test_resection_releases_colonies_held_by_systemic_inhibition():
    """Benzekry, Gandolfi & Hahnfeldt (2014): the primary's inhibitors hold the colony
    (I^(2/3) d = 8.4 /day against b = 5.85 /day); resection at day 40 releases it. Times to
    5e6 cells against SciPy; without systemic inhibition resection changes nothing."""
    released = _release(40.0, 1.0)  # 54.95 days, 1.6e-8 from SciPy
    assert released == pytest.approx(_release_reference(40.0, 1.0), rel=1e-6)
    assert _release(None, 1.0) == math.inf == _release_reference(None, 1.0)
    local = _release(40.0, 0.0)  # 9.19 days, 4.1e-7 from SciPy (the frames' interpolation)
    assert local == pytest.approx(_release_reference(None, 0.0), rel=1.5e-6)
    assert local < released - 30.0


def test_the_defences_panel_appears_only_with_defences():
    """A cascade without effectors or vascular capacities keeps the 2 x 2 summary; one
    with them gets the panel (its primary's capacity only under the hahnfeldt law)."""
    from continuum.plotting import has_defences

    plain = ct.Cascade(
        ct.models.LumpedPrimary(growth={"law": "gompertz", "a": 0.05, "K": 1e10}, mu=1.0),
        ct.Circulation(),
        [ct.SecondarySite("lung")],
        horizon=10.0,
    )
    res = ct.simulate(plain, plain.initial_state(tumor_cells=1e6), 10.0, save_every=5.0)
    assert not has_defences(res)
    defended = ct.Cascade(
        plain.primary,
        ct.Circulation(),
        [ct.SecondarySite("lung", immunity="kuznetsov_1994")],
        horizon=10.0,
    )
    res = ct.simulate(defended, defended.initial_state(tumor_cells=1e6), 10.0, save_every=5.0)
    assert has_defences(res)
