"""Exact invariants: totals under no-flux and periodic conditions, positivity with taxis."""

import numpy as np
import pytest

import continuum as ct


@pytest.mark.parametrize("method", ["euler", "explicit", "imex"])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("bc", ["noflux", "periodic"])
def test_diffusion_conserves_total(method, masked, bc, rng):
    shape = (40, 30)
    mask = None
    if masked:
        x, y = np.meshgrid(np.arange(40), np.arange(30), indexing="ij")
        mask = (x - 20) ** 2 + (y - 15) ** 2 < 12**2
    grid = ct.Grid(shape, 0.1, mask=mask)
    model = ct.models.Heat(diffusivity=0.3, bc=bc)
    state = model.initial_state(grid, u=rng.random(shape))
    dt = 0.9 * 0.01 / (4 * 0.3) if method == "euler" else None
    res = ct.simulate(model, state, 0.5, save_every=0.1, method=method, dt=dt)
    totals = res.series("total_u")
    # round-off: measured at most 6.9e-15 (explicit, 12 cases; euler <= 4.4e-16)
    assert np.abs(totals / totals[0] - 1).max() < 2e-14
    if masked:
        assert np.all(res.field("u")[:, ~mask] == 0.0)
    assert res.field("u").min() >= 0.0


@pytest.mark.parametrize("shape", [(200,), (48, 48)])
@pytest.mark.parametrize("method", ["explicit", "imex"])
def test_steep_taxis_stays_positive_and_conserves_mass(shape, method, rng):
    """Taxis 1000x stronger than diffusion up a ramp with a steep step in it."""
    grid = ct.Grid(shape, 1.0 / shape[0])
    x = np.meshgrid(*grid.coords, indexing="ij")[0]
    attractant = 5 * x + 0.5 * (1 + np.tanh((x - 0.6) / 0.02))
    cells = np.where(np.abs(x - 0.3) < 0.1, 1.0, 0.0) + 0.01 * rng.random(shape)
    model = ct.models.Taxis(diffusivity=1e-4, chi=0.1)
    state = model.initial_state(grid, n=cells, a=attractant)
    res = ct.simulate(model, state, 2.0, save_every=0.25, method=method)
    n = res.field("n")
    assert n.min() >= 0.0
    totals = res.series("total_n")
    # round-off: measured 2.3e-13 (explicit 1D), 1.1e-13 (imex 1D), 5.7e-14 / 2.1e-14 (2D)
    assert np.abs(totals / totals[0] - 1).max() < 5e-13
    # the cells did climb the gradient: all of them now sit beyond the step (measured: a
    # fraction 1.0e-10 (2D explicit), 7.3e-11 (2D imex), < 1e-16 (1D) is left behind it)
    final = n[-1]
    assert final[x <= 0.55].sum() < 3e-10 * final.sum()


def test_explicit_steps_up_to_twice_the_euler_limit_stay_positive():
    """SSP-RK(4,3) is four forward-Euler stages of dt/2 combined convexly: positive up to
    dt = 2 / (2 D / h^2), twice forward Euler's limit, where each stage of a unit spike
    leaves exactly 0 in its cell (a dt beyond it is refused: ``tests/test_errors.py``)."""
    grid = ct.Grid(41, 0.1)
    model = ct.models.Heat(diffusivity=0.3)
    euler_limit = grid.spacing[0] ** 2 / (2 * 0.3)
    spike = np.zeros(41)
    spike[20] = 1.0
    checkerboard = np.arange(41) % 2.0
    for u in (spike, checkerboard):
        state = model.initial_state(grid, u=u)
        res = ct.simulate(model, state, 40 * euler_limit, method="explicit", dt=2 * euler_limit)
        assert res.field("u").min() >= 0.0
        assert res.field("u")[1:].max() < 1.0  # it did diffuse
