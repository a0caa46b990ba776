"""Results do not depend on the number of Numba threads (issue: verification, item 6).

Per-row partial sums are reduced in a fixed order, so a run on one thread and a run on
two threads must agree bit for bit, fields and series alike."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import continuum as ct


def run_on(threads, model, state, t_end, **options):
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        return ct.simulate(model, state, t_end, save_every=t_end / 2, **options)
    finally:
        numba.set_num_threads(previous)


def invasion_case():
    grid = ct.Grid((34, 26), 0.04)
    model = ct.models.Invasion(
        blood_vessels=ct.vessels.random_capillaries(grid, 0.05, seed=1),
        lymph_vessels=ct.vessels.random_capillaries(grid, 0.03, seed=2),
        mu_B=2.0,
        mu_L=1.0,
    )
    return model, model.initial_state(grid), 2.0, {"method": "imex"}


def fisher_case():
    grid = ct.Grid((40, 30), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.5)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    u0 = np.exp(-((x - 1.0) ** 2 + (y - 0.7) ** 2) / 0.1)
    return model, model.initial_state(grid, u=u0), 1.0, {"method": "explicit"}


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
@pytest.mark.parametrize("case", [invasion_case, fisher_case], ids=["invasion-imex", "fisher"])
def test_one_and_two_threads_agree_bit_for_bit(case):
    model, state, t_end, options = case()
    one = run_on(1, model, state, t_end, **options)
    two = run_on(2, model, state, t_end, **options)
    np.testing.assert_array_equal(one.state.data, two.state.data)
    np.testing.assert_array_equal(one.state.scalars, two.state.scalars)
    for name in one.series_names:
        np.testing.assert_array_equal(one.series(name), two.series(name), err_msg=name)
