"""Treatments: resection, radiotherapy and systemic therapy, booked in ``removed``."""

import math

import numpy as np
import pytest

import continuum as ct
from continuum.models.invasion import Invasion
from tests.helpers import PRIMARY_BUDGET_TERMS
from tests.models.test_invasion import OFF

STILL = {**OFF, "blood_vessels": 0.0, "lymph_vessels": 0.0}  # nothing moves or grows


def budget(res):
    return sum(res.series(n) for n in PRIMARY_BUDGET_TERMS) - res.series("born")


def lumped(**rates):
    return ct.models.LumpedPrimary(growth="gompertz", a=0.02, K=1e12, **{"mu": 1e-3, **rates})


def test_resection_removes_the_tumour_and_its_margin_and_books_it():
    grid = ct.Grid((40, 40), 0.1)
    model = Invasion()
    state = model.initial_state(grid)
    resection = ct.Resection(t=2.0, margin=0.5, threshold=0.2)
    res = ct.simulate(model, state, 4.0, save_every=1.0, method="imex", interventions=[resection])
    before = res.field("epithelial", 1.0) + res.field("mesenchymal", 1.0)
    after = res.field("epithelial", 2.0) + res.field("mesenchymal", 2.0)
    # the region: tumour >= 0.2 a day earlier is inside the region of day 2 (the tumour
    # grows), so everything within 0.5 mm of it is gone
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    core = before >= 0.3
    near = np.zeros(grid.shape, dtype=bool)
    for i, j in zip(*np.nonzero(core), strict=True):
        near |= (x - x[i, j]) ** 2 + (y - y[i, j]) ** 2 <= 0.5**2
    assert near.sum() > 2 * core.sum() > 0
    assert np.all(after[near] == 0.0)
    removed = res.series("removed")
    # the tumour of day 2 is removed, grown since day 1: measured 1.06 x the cells of day 1
    assert removed[1] == 0.0 and removed[2] > 0.9 * res.series("tumor_cells")[1]
    # round-off: measured 5.3e-15
    np.testing.assert_allclose(budget(res), res.series("tumor_cells")[0], rtol=1.6e-14)


def test_resection_region_is_the_dense_tumour_dilated_by_the_margin():
    grid = ct.Grid((60, 60), 0.05)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    r = np.hypot(x - 1.5, y - 1.5)
    cells = np.where(r <= 0.6, 0.8, 0.0)
    region = ct.Resection(t=1.0, margin=0.4, threshold=0.5).region(cells, grid)
    # to a cell (0.05 mm) either side of the dilated disk
    assert np.all(region[r <= 0.6 + 0.4 - 0.05]) and not np.any(region[r > 0.6 + 0.4 + 0.05])


def test_lumped_resection_leaves_the_residual_and_ctcs_decay_at_their_clearance():
    model = lumped(k_clear=0.2, k_ext=0.1)
    state = model.initial_state(ct.Grid((1,), 1.0), tumor_cells=1e9)
    res = ct.simulate(
        model, state, 20.0, save_every=0.5, interventions=[ct.Resection(t=10.0, residual=0.25)]
    )
    cells = res.series("tumor_cells")
    i = int(np.argmin(np.abs(res.times - 10.0)))
    assert res.series("removed")[i] == pytest.approx(3 * cells[i], rel=1e-12)  # equal
    np.testing.assert_allclose(budget(res), 1e9, rtol=2e-13)  # round-off: measured 6.4e-14

    gone = ct.simulate(model, state, 20.0, save_every=0.5, interventions=[ct.Resection(t=10.0)])
    blood = gone.series("blood_ctc")
    after = gone.times > 10.0
    rate = np.diff(np.log(blood[after])) / 0.5
    # at the solver's default rtol 1e-8: measured 1.8e-9
    np.testing.assert_allclose(rate, -(0.2 + 0.1), rtol=5e-9)


@pytest.mark.parametrize("oxygen", [1.0, 0.1, 0.01, 0.0])
def test_radiotherapy_multiplies_cells_by_the_lq_surviving_fraction(oxygen):
    """Uniform cells, nothing else acting: each fraction multiplies them by exp(-a d - b
    d^2) at the effective dose d (m p + K)/(m (p + K)), p = 40 o mmHg (Alper &
    Howard-Flanders): d/3 in anoxia, 0.954 d at o = 1."""
    grid = ct.Grid((12, 10), 0.1)
    model = Invasion(**STILL)
    state = model.initial_state(grid, epithelial=0.4, mesenchymal=0.2, oxygen=oxygen)
    therapy = ct.Radiotherapy(dose=2.0, start=1.0, fractions=3, interval=1.0, oer_max=3.0)
    res = ct.simulate(model, state, 4.0, save_every=1.0, interventions=[therapy])
    po2 = 40.0 * oxygen
    d = 2.0 * (3.0 * po2 + 3.0) / (3.0 * (po2 + 3.0))
    survival = np.exp(-0.3 * d - 0.03 * d * d)
    expected = 0.4 * survival ** np.array([0, 1, 2, 3, 3])
    # round-off (measured at most 4.0e-16 here and in the budget)
    np.testing.assert_allclose(res.field("epithelial")[:, 3, 4], expected, rtol=1e-12)
    np.testing.assert_allclose(budget(res), res.series("tumor_cells")[0], rtol=1e-12)
    assert ct.units.PO2_AT_VASCULAR_LEVEL_MMHG == 40.0


def test_radiotherapy_acts_inside_its_target_only():
    grid = ct.Grid((40, 40), 0.05)
    model = Invasion(**STILL)
    state = model.initial_state(grid, epithelial=0.5, oxygen=1.0)
    target = {"centre": [0.5, 0.5], "radius": 0.3}
    therapy = ct.Radiotherapy(dose=8.0, times=[0.5], target=target)
    res = ct.simulate(model, state, 1.0, save_every=1.0, interventions=[therapy])
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    inside = np.hypot(x - 0.5, y - 0.5) <= 0.3
    e = res.field("epithelial")[-1]
    d = 8.0 * (3 * 40 + 3) / (3 * (40 + 3))  # o = 1: 40 mmHg, effective dose 0.95 d
    # round-off: measured 2.0e-16
    np.testing.assert_allclose(e[inside], 0.5 * np.exp(-0.3 * d - 0.03 * d * d), rtol=1e-12)
    assert np.all(e[~inside] == 0.5)


def test_systemic_therapy_adds_its_rate_to_ctc_decay_and_tissue_death():
    model = lumped(k_clear=0.2, k_ext=0.1)
    state = model.initial_state(ct.Grid((1,), 1.0), tumor_cells=1e9)
    plan = [ct.Resection(t=5.0), ct.SystemicTherapy(start=10.0, end=15.0, rate=0.5)]
    res = ct.simulate(model, state, 20.0, save_every=0.5, interventions=plan)
    rate = np.diff(np.log(res.series("blood_ctc")[1:])) / 0.5
    t = res.times[2:]
    # at the solver's default rtol 1e-8: measured 1.8e-9 in each window
    np.testing.assert_allclose(rate[(t > 5.5) & (t <= 10.0)], -0.3, rtol=5e-9)
    np.testing.assert_allclose(rate[(t > 10.0) & (t <= 15.0)], -0.8, rtol=5e-9)
    np.testing.assert_allclose(rate[t > 15.0], -0.3, rtol=5e-9)
    np.testing.assert_allclose(budget(res), 1e9, rtol=6e-13)  # round-off: measured 2.0e-13

    grid = ct.Grid((8, 8), 0.1)
    tissue = Invasion(**STILL)
    start = tissue.initial_state(grid, epithelial=0.5, mesenchymal=0.1, oxygen=1.0)
    plan = [ct.SystemicTherapy(start=1.0, end=3.0, rate=0.4)]
    res = ct.simulate(
        tissue, start, 4.0, save_every=1.0, method="explicit", rtol=1e-9, interventions=plan
    )
    decay = np.exp(-0.4 * np.clip(res.times - 1.0, 0.0, 2.0))
    # at the solver's rtol 1e-9: measured 7.7e-11; the budget to round-off, 4.8e-14
    np.testing.assert_allclose(res.field("mesenchymal")[:, 2, 5], 0.1 * decay, rtol=2e-10)
    np.testing.assert_allclose(budget(res), res.series("tumor_cells")[0], rtol=1.5e-13)


def test_systemic_therapy_kills_colonies_and_spares_dormant_cells_unless_told():
    """After resection nothing arrives: the therapy kills colony cells, so each cohort's
    log size follows the Gompertz characteristic with the plateau ln K - (c + r)/a (to
    round-off: measured 9.6e-16) and no colony is lost whole; a dormant pool that never
    wakes decays at its death rate (+ r when the therapy reaches it; measured 1.6e-13 and
    4.1e-15)."""
    growth = {"law": "gompertz", "a": 0.05, "K": 1e10}
    sites = [
        ct.SecondarySite(
            "active",
            "lung",
            growth=growth,
            seeding=(0.0, 0.5),
            dormancy=0.0,
            capacity=math.inf,  # the lung would fill: growth slowed by the organ
        ),
        ct.SecondarySite(
            "sleeping",
            "liver",
            growth=growth,
            seeding=(0.0, 0.5),
            dormancy=1.0,
            wake=0.0,
            dormant_death=0.01,
        ),
    ]
    primary = lumped(k_clear=10.0, k_ext=0.5, mu=1.0)
    circulation = ct.Circulation(k_clear=10.0, k_ext=0.5)
    rates = {}
    for dormant in (False, True):
        model = ct.Cascade(primary, circulation, sites, horizon=60.0, cohort_days=1.0)
        state = model.initial_state(ct.Grid((1,), 1.0), tumor_cells=1e9)
        plan = [
            ct.Resection(t=10.0),
            ct.SystemicTherapy(start=20.0, end=30.0, rate=0.3, dormant=dormant),
        ]
        res = ct.simulate(model, state, 40.0, save_every=1.0, interventions=plan)
        window = (res.times >= 21.0) & (res.times <= 30.0)
        colonies = res.series("sites/active/colonies")[window]
        dormant_cells = res.series("sites/sleeping/dormant")[window]
        rates[dormant] = (np.diff(np.log(colonies)), np.diff(np.log(dormant_cells)))
        counts, logs, _ = res._cohort_arrays("active", res._frame(20.0))
        _, logs_after, _ = res._cohort_arrays("active", res._frame(30.0))
        plateau = np.log(growth["K"]) - (sites[0].parameters["clearance"] + 0.3) / growth["a"]
        expected = plateau + (logs - plateau) * np.exp(-growth["a"] * 10.0)
        np.testing.assert_allclose(logs_after[counts > 0], expected[counts > 0], rtol=3e-15)
        total = sum(
            res.series(n)
            for n in ("tumor_cells", "blood_ctc", "lymph_ctc", "cleared", "died", "removed")
        )
        for site in ("active", "sleeping"):
            total = total + res.series(f"sites/{site}/burden") + res.series(f"sites/{site}/dormant")
        # round-off: measured 2.0e-12 and 9.8e-13
        np.testing.assert_allclose(total - res.series("born"), 1e9, rtol=6e-12)
    np.testing.assert_array_equal(rates[False][0], 0.0)  # no colony lost whole (exactly)
    np.testing.assert_allclose(rates[False][1], -0.01, rtol=5e-13)
    np.testing.assert_allclose(rates[True][1], -0.31, rtol=1.2e-14)


def test_glioma_resection_and_radiotherapy_on_fisher_kpp():
    """Swanson's proliferation-invasion model: the removed tumour is booked in mm^3 at
    capacity, so that the integral of u plus removed grows only by proliferation."""
    grid = ct.Grid((60, 60), 0.5)
    model = ct.models.FisherKPP()
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    r = np.hypot(x - 15.0, y - 15.0)
    state = model.initial_state(grid, u=np.where(r <= 5.0, 0.8, 0.0))
    plan = [
        ct.Resection(t=10.0, margin=2.0, threshold=0.5),
        ct.Radiotherapy(dose=2.0, times=[10.5], oer_max=3.0),
    ]
    res = ct.simulate(model, state, 11.0, save_every=0.5, method="imex", interventions=plan)
    u = res.field("u")
    i = int(np.argmin(np.abs(res.times - 10.0)))
    assert np.all(u[i][r <= 5.5] == 0.0) and np.all(u[i][r > 8.0] > 0.0)
    assert res.series("removed")[i - 1] == 0.0
    taken = res.series("removed")[i]
    kept = res.series("total_u")[i - 1] - res.series("total_u")[i]
    # the step from 9.5 to 10 day grows u too: measured 3.1e-3 apart
    assert taken == pytest.approx(kept, rel=9e-3)
    survival = np.exp(-0.3 * 2.0 - 0.03 * 4.0)  # no oxygen field: normoxic
    j = int(np.argmin(np.abs(res.times - 10.5)))
    # round-off: measured 1.7e-15
    np.testing.assert_allclose(
        res.series("removed")[j] - taken,
        (1 - survival) / survival * res.series("total_u")[j],
        rtol=1e-12,
    )
    assert res.series_unit("removed") == "mm^3"


def test_resume_applies_the_treatments_still_ahead(tmp_path):
    model = lumped(k_clear=0.2, k_ext=0.1)
    state = model.initial_state(ct.Grid((1,), 1.0), tumor_cells=1e9)
    plan = [
        ct.Radiotherapy(dose=2.0, start=4.0, fractions=5),
        ct.SystemicTherapy(start=6.0, end=12.0, rate=0.2),
        ct.Resection(t=14.0, residual=0.1),
    ]
    whole = ct.simulate(model, state, 20.0, save_every=1.0, interventions=plan)
    path = tmp_path / "treated.h5"
    ct.simulate(model, state, 7.0, save_every=1.0, output=path, interventions=plan)
    with ct.resume(path, 20.0) as run:
        assert [item.kind for item in run.interventions] == [p.kind for p in plan]
        for name in ("tumor_cells", "blood_ctc", "removed"):  # measured: equal
            np.testing.assert_allclose(run.series(name), whole.series(name), rtol=1e-12)


def test_bad_treatments_are_refused_before_any_file(tmp_path):
    path = tmp_path / "never.h5"
    model = lumped()
    state = model.initial_state(ct.Grid((1,), 1.0), tumor_cells=1e9)
    with pytest.raises(ValueError, match="after the start of the run"):
        ct.simulate(model, state, 5.0, output=path, interventions=[ct.Resection(t=0.0)])
    glioma = ct.models.FisherKPP()
    grid = ct.Grid((8,), 0.1)
    with pytest.raises(ValueError, match="systemic therapy needs a model whose kernels"):
        ct.simulate(
            glioma,
            glioma.initial_state(grid),
            5.0,
            output=path,
            interventions=[ct.SystemicTherapy(start=1.0, end=2.0, rate=0.1)],
        )
    heat = ct.models.Heat()
    with pytest.raises(ValueError, match="needs a model with a cell budget"):
        ct.simulate(
            heat, heat.initial_state(grid), 5.0, output=path, interventions=[ct.Resection(t=1.0)]
        )
    assert not path.exists()
    with pytest.raises(ValueError, match=r"radiotherapy oer_max: got 0\.5"):
        ct.Radiotherapy(times=[1.0], oer_max=0.5)
    with pytest.raises(ValueError, match=r"radiotherapy oer_k_mmhg"):
        ct.Radiotherapy(times=[1.0], oer_k_mmhg=0.0)
    with pytest.raises(ValueError, match="systemic end"):
        ct.SystemicTherapy(start=3.0, end=2.0, rate=0.1)
    with pytest.raises(ValueError, match="increasing"):
        ct.Radiotherapy(times=[2.0, 1.0])
    tissue = Invasion(**STILL)
    with pytest.raises(ValueError, match="expected \\(8, 8\\)"):
        ct.simulate(
            tissue,
            tissue.initial_state(ct.Grid((8, 8), 0.1)),
            2.0,
            interventions=[ct.Radiotherapy(times=[1.0], target=np.ones((4, 4)))],
        )


def test_every_treatment_on_a_spatial_cascade_keeps_the_budget():
    grid = ct.Grid((24, 20), 0.05)
    sites = [
        ct.SecondarySite("lung", "lung", clearance=0.01),
        ct.SecondarySite("liver", "liver", dormancy=0.5),
    ]
    circulation = ct.Circulation(first_pass=("lung", 0.5))
    model = ct.Cascade(Invasion(), circulation, sites, horizon=60.0, cohort_days=2.0)
    plan = [
        ct.Radiotherapy(dose=2.0, start=10.0, fractions=3),
        ct.Resection(t=20.0, margin=0.2),
        ct.SystemicTherapy(start=15.0, end=30.0, rate=0.1, dormant=True),
    ]
    res = ct.simulate(
        model, model.initial_state(grid), 40.0, save_every=1.0, method="imex", interventions=plan
    )
    names = ("tumor_cells", "blood_ctc", "lymph_ctc", "cleared", "died", "removed")
    total = sum(res.series(n) for n in names)
    for site in ("lung", "liver"):
        total = total + res.series(f"sites/{site}/burden") + res.series(f"sites/{site}/dormant")
    # round-off: measured 1.3e-14
    np.testing.assert_allclose(total - res.series("born"), total[0], rtol=4e-14)
    removed = res.series("removed")
    # the first fraction (day 10): measured 0.49 of the cells
    assert removed[9] == 0.0 and removed[10] > 0.3 * res.series("tumor_cells")[9]
    # resection leaves a margin's worth: measured 1.9 % of the cells
    assert res.series("tumor_cells")[20] < 0.05 * res.series("tumor_cells")[19]
    for site in ("lung", "liver"):
        assert res.series(f"sites/{site}/removed")[-1] > 0.0
