"""The cells booked into blood and lymph against what the stored frames say entered them
(issue: verification, item 4): the intravasation flux recomputed in NumPy from the run
file's fields and vessel maps, integrated in time, must match the compartments' budget,
and the match must improve as the time step is refined (IMEX is first order)."""

from __future__ import annotations

import h5py
import numpy as np

import continuum as ct


def booked_and_physical(path):
    """Cells that entered blood and lymph by the compartments' books, and by the
    trapezoidal time integral of K_cell dV sum v (mu m + ...) over the stored frames."""
    with ct.open_run(path) as run, h5py.File(path) as f:
        p, grid, t = run.model.parameters, run.grid, run.times
        e, m = run.field("epithelial"), run.field("mesenchymal")
        blood, lymph = f["maps/blood_vessels"][()], f["maps/lymph_vessels"][()]
        scale = p["K_cell"] * grid.cell_volume
        axes = tuple(range(1, e.ndim))
        into_blood = scale * np.sum(blood * (p["mu_B"] * m + p["mu_Be"] * e), axis=axes)
        open_lymph = np.maximum(0.0, 1.0 - (e + m) / p["lymph_collapse"])
        into_lymph = scale * np.sum(p["mu_L"] * open_lymph * lymph * m, axis=axes)
        physical = [np.trapezoid(flux, t) for flux in (into_blood, into_lymph)]
        books = (
            run.series("blood_ctc")[-1]
            + run.series("cleared")[-1]
            + run.series("extravasated")[-1]
            + run.series("first_pass")[-1],
            run.series("lymph_ctc")[-1] + run.series("node_arrested")[-1],
        )
    return np.array(books), np.array(physical)


def test_intravasation_booked_matches_the_flux_of_the_stored_frames(tmp_path):
    """Relative mismatch at rtol 1e-4 / 1e-6 (frames every 0.025 day): blood 1.4e-3 /
    3.3e-4, lymph 2.6e-3 / 5.9e-4 (measured); asserted below 1e-3 at 1e-6 and shrinking
    at least 3x. A lost factor or a term booked twice would be off by order one."""
    grid = ct.Grid((40, 32), 0.04)
    model = ct.models.Invasion(
        blood_vessels=ct.vessels.random_capillaries(grid, 0.05, seed=1),
        lymph_vessels=ct.vessels.random_capillaries(grid, 0.03, seed=2),
        mu_B=2.0,
        mu_Be=0.2,
        mu_L=1.0,
        k_LB=0.0,  # lymph does not drain into blood: each compartment's inflow is its own
        k_emt=0.2,
    )
    state = model.initial_state(grid)
    errors = []
    for rtol in (1e-4, 1e-6):
        path = tmp_path / f"run{rtol:g}.h5"
        ct.simulate(model, state, 4.0, save_every=0.025, method="imex", rtol=rtol, output=path)
        books, physical = booked_and_physical(path)
        assert np.all(physical > 50.0)
        errors.append(np.abs(books / physical - 1.0))
    assert np.all(errors[1] < 1e-3)
    assert np.all(errors[1] < errors[0] / 3.0)


def test_lymph_pathway_matches_its_closed_form():
    """Only lymphatic entry on: mesenchymal cells that neither grow, switch, die, move nor
    enter blood leave each cell at the constant rate ``a_c = mu_L v_L(c)`` (lymphatics
    kept open: ``lymph_collapse`` = 1e12), so ``m_c(t) = m_c(0) e^{-a_c t}`` and

        L(t) = sum_c K dV a_c m_c(0) (e^{-a_c t} - e^{-k t}) / (k - a_c),  k = k_LN + k_LB,

    blood fed only by drainage, ``B' = k_LB L - (k_clear + k_ext) B``, is a sum of three
    exponentials per cell, and ``node_arrested = k_LN int L``. Two vessel densities give
    two exit rates. Explicit at rtol 1e-9: measured relative error 5.9e-12 (L), 6.0e-12
    (B), 7.5e-12 (node); asserted 2e-11."""
    grid = ct.Grid((6, 4), 0.1)
    lymph_map = np.where(np.arange(6)[:, None] < 3, 0.2, 0.05) * np.ones((6, 4))
    m0 = np.linspace(0.1, 0.4, 24).reshape(6, 4)
    off = dict.fromkeys(
        ("D_e", "D_m", "chi", "rho_e", "rho_m", "k_emt", "k_met", "delta_max", "mu_B", "mu_Be"),
        0.0,
    )
    rates = {"mu_L": 3.0, "k_LN": 2.0, "k_LB": 0.7, "k_clear": 5.0, "k_ext": 0.5}
    model = ct.models.Invasion(
        blood_vessels=0.0, lymph_vessels=lymph_map, lymph_collapse=1e12, **off, **rates
    )
    state = model.initial_state(grid, epithelial=0.0, mesenchymal=m0)
    res = ct.simulate(model, state, 3.0, save_every=0.25, method="explicit", rtol=1e-9)
    t = res.times[:, None]
    a = (rates["mu_L"] * lymph_map).ravel()[None, :]
    amount = (model.parameters["K_cell"] * grid.cell_volume * m0).ravel()[None, :]
    k = rates["k_LN"] + rates["k_LB"]
    kb = rates["k_clear"] + rates["k_ext"]

    def decay(rate):  # e^{-rate t}
        return np.exp(-rate * t)

    lymph = np.sum(amount * a * (decay(a) - decay(k)) / (k - a), axis=1)
    node = rates["k_LN"] * np.sum(
        amount * a / (k - a) * ((1 - decay(a)) / a - (1 - decay(k)) / k), axis=1
    )
    # B = k_LB sum_c A_c [ (e^{-a t} - e^{-kb t})/(kb - a) - (e^{-k t} - e^{-kb t})/(kb - k) ]
    blood = rates["k_LB"] * np.sum(
        amount
        * a
        / (k - a)
        * ((decay(a) - decay(kb)) / (kb - a) - (decay(k) - decay(kb)) / (kb - k)),
        axis=1,
    )
    np.testing.assert_allclose(res.series("lymph_ctc"), lymph, rtol=2e-11)
    np.testing.assert_allclose(res.series("node_arrested"), node, rtol=2e-11)
    np.testing.assert_allclose(res.series("blood_ctc"), blood, rtol=2e-11)
    assert res.series("extravasated")[-1] > 0  # the drained cells left blood too
