"""Bit-exact resume across processes, and in the middle of a treatment schedule.

A child process writes the first part of a run (and exits); this process resumes the
file and must reproduce, bit for bit, the uninterrupted run it computes itself: IMEX on
Fisher-KPP, ``Invasion`` with IMEX and a treatment schedule cut in the middle (systemic
therapy running, radiotherapy fractions and the resection still ahead), and a cascade
with its own schedule cut between a resection and the end of chemotherapy.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import continuum as ct

ROOT = Path(__file__).resolve().parents[2]


def fisher_imex():
    grid = ct.Grid((24, 20), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.8)
    state = model.initial_state(grid, u=np.random.default_rng(3).random(grid.shape))
    return model, state, {"method": "imex"}, 2.0, 1.0


def invasion_treated():
    grid = ct.Grid((16, 12), 0.05)
    vessels = ct.vessels.random_capillaries(grid, 0.1, seed=5, radius=0.03)
    model = ct.models.Invasion(blood_vessels=vessels, lymph_vessels=0.02, k_emt=0.2)
    plan = [
        ct.SystemicTherapy(start=0.4, end=1.6, rate=0.3),
        ct.Radiotherapy(dose=2.0, start=0.8, fractions=3, interval=0.2),
        ct.Resection(t=1.7, margin=0.05, threshold=0.3),
    ]
    options = {"method": "imex", "interventions": plan}
    return model, model.initial_state(grid), options, 2.4, 0.9


def cascade_treated():
    primary = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.05, "K": 1e11}, mu=1e-3, lymph_fraction=0.3
    )
    sites = [
        ct.SecondarySite("lung", growth={"law": "gompertz", "a": 0.05, "K": 1e9}),
        ct.SecondarySite("liver", dormancy=0.4, wake=0.02, clearance=0.01),
    ]
    model = ct.Cascade(primary, ct.Circulation(), sites, horizon=300.0)
    plan = [
        ct.Resection(t=100.0, residual=0.01, wake_boost=3.0, wake_boost_days=60.0),
        ct.SystemicTherapy(start=110.0, end=200.0, rate=0.1),
    ]
    state = model.initial_state(tumor_cells=1e9)
    return model, state, {"interventions": plan}, 300.0, 150.0


PROBLEMS = {
    "fisher_imex": fisher_imex,
    "invasion_treated": invasion_treated,
    "cascade_treated": cascade_treated,
}
SAVE_EVERY = {"fisher_imex": 0.1, "invasion_treated": 0.1, "cascade_treated": 10.0}

CHILD = textwrap.dedent(
    """
    import sys
    import continuum as ct
    from tests.io.test_resume_across_processes import PROBLEMS, SAVE_EVERY
    name, path = sys.argv[1], sys.argv[2]
    model, state, options, _, t_cut = PROBLEMS[name]()
    ct.simulate(model, state, t_cut, save_every=SAVE_EVERY[name], output=path,
                checkpoint_every=3 * SAVE_EVERY[name], **options)
    """
)


@pytest.mark.parametrize("name", PROBLEMS)
def test_resume_in_another_process_is_bit_exact(name, tmp_path):
    path = tmp_path / f"{name}.h5"
    subprocess.run(
        [sys.executable, "-c", CHILD, name, str(path)], cwd=ROOT, check=True, timeout=600
    )
    model, state, options, t_end, _ = PROBLEMS[name]()
    whole = ct.simulate(model, state, t_end, save_every=SAVE_EVERY[name], **options)
    with ct.resume(path, t_end) as run:
        np.testing.assert_array_equal(run.times, whole.times)
        for field in model.field_names:
            np.testing.assert_array_equal(run.field(field), whole.field(field), err_msg=field)
        assert set(run.series_names) == set(whole.series_names)
        for series in whole.series_names:
            np.testing.assert_array_equal(run.series(series), whole.series(series), series)
        if "interventions" in options:
            assert [i.kind for i in run.interventions] == [i.kind for i in options["interventions"]]
