"""Two forward-Euler steps in one pass (``continuum.kernels.pair``) give the bits of two
single steps: boundaries, maps, scalars, clipped steps, odd step counts, threads, blow-ups
and the step budget included."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import continuum as ct
from continuum.kernels import pair
from continuum.solvers.base import SimulationError, make_solver

SPACING = 0.05


def fisher(grid, rng, growth_rate=0.5):
    model = ct.models.FisherKPP(diffusivity=0.13, growth_rate=growth_rate)
    return model, model.initial_state(grid, u=rng.random(grid.shape))


def coupled(grid, rng):
    """Two fields, a static map in the growth, a compartment the reactions read, a
    Dirichlet edge on axis 1 and periodic edges on axis 2."""
    model = ct.models.PDE(
        {
            "u": "D*laplace(u) + rho*g*u*(1 - u - v) - k*c*u",
            "v": "Dv*laplace(v) + u - 0.5*v",
        },
        parameters={"D": 0.13, "Dv": 0.3, "rho": 0.8, "k": 0.2},
        maps={"g": lambda grid: 1.0 + np.sin(3.0 * grid.coords[0])[:, None] + 0 * grid.coords[1]},
        scalars={"c": "1 - 0.5*c + 0.01*t"},
        bc={
            "u": {"x": (ct.Dirichlet(0.25), "noflux"), "y": "periodic"},
            "v": {"x": "noflux", "y": "periodic"},
        },
    )
    fields = {"u": rng.random(grid.shape), "v": 0.5 * rng.random(grid.shape)}
    return model, model.initial_state(grid, **fields)


def euler_limit(model, grid):
    """``1 / (2 sum_a max D / h^2)`` [day]."""
    return 1.0 / (2.0 * grid.ndim * max(model.transport().diffusivity) / SPACING**2)


def run(model, state, steps, paired, t_end=None, threads=None, **options):
    """``steps`` Euler steps of 0.9 times the positivity limit (to ``t_end`` if given);
    returns the solver, the state and the error raised, if any."""
    state = state.copy()
    dt = 0.9 * euler_limit(model, state.grid)
    solver = make_solver("euler", model, state, dt=dt, **options)
    assert solver.paired
    solver.paired = paired  # the documented switch: single steps when false
    previous = numba.get_num_threads()
    numba.set_num_threads(threads or previous)
    error = None
    try:
        solver.advance(steps * dt if t_end is None else t_end)
    except SimulationError as raised:
        error = str(raised)
    finally:
        numba.set_num_threads(previous)
    return solver, state, error


def assert_same(one, other):
    (solver_a, state_a, error_a), (solver_b, state_b, error_b) = one, other
    assert error_a == error_b
    assert (solver_a.t, solver_a.steps) == (solver_b.t, solver_b.steps)
    np.testing.assert_array_equal(state_a.data, state_b.data)
    np.testing.assert_array_equal(state_a.scalars, state_b.scalars)


@pytest.mark.parametrize("case", [fisher, coupled])
@pytest.mark.parametrize("shape", [(67, 45), (9, 70), (2, 33)])
@pytest.mark.parametrize("steps", [1, 2, 9])
@pytest.mark.parametrize("chunk", [1, 4, pair.CHUNK_ROWS])
def test_a_paired_run_is_bit_for_bit_a_run_of_single_steps(
    case, shape, steps, chunk, rng, monkeypatch
):
    """Bands of chunks of one row to one chunk per grid, grids down to two rows; odd
    step counts end with a single step."""
    model, state = case(ct.Grid(shape, SPACING), rng)
    monkeypatch.setattr(pair, "CHUNK_ROWS", chunk)
    paired = run(model, state, steps, True)
    assert_same(paired, run(model, state, steps, False))
    assert paired[0].steps == steps


def test_a_clipped_last_step_is_paired_with_the_one_before(rng):
    model, state = coupled(ct.Grid((40, 24), SPACING), rng)
    t_end = 5.4 * 0.9 * euler_limit(model, state.grid)  # five full steps, a clipped sixth
    paired = run(model, state, None, True, t_end=t_end)
    assert paired[0].steps == 6 and paired[0].t == t_end
    assert_same(paired, run(model, state, None, False, t_end=t_end))


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
def test_one_and_two_threads_pair_the_same_bits(rng, monkeypatch):
    model, state = coupled(ct.Grid((131, 20), SPACING), rng)
    monkeypatch.setattr(pair, "CHUNK_ROWS", 8)
    one = run(model, state, 8, True, threads=1)
    assert_same(one, run(model, state, 8, True, threads=2))


def test_a_blow_up_in_the_second_step_stops_where_single_steps_stop():
    """The pair sees a non-finite value, the single steps take over: same step, same
    message, the same step handed back."""
    model = ct.models.PDE({"u": "D*laplace(u) + 1e300*u*u"}, parameters={"D": 0.13})
    state = model.initial_state(ct.Grid((30, 20), SPACING), u=np.ones((30, 20)))
    paired = run(model, state, 6, True)
    assert paired[2] is not None and "non-finite" in paired[2]
    assert_same(paired, run(model, state, 6, False))


def test_the_step_budget_ends_paired_and_single_runs_alike(rng):
    model, state = fisher(ct.Grid((30, 20), SPACING), rng)
    paired = run(model, state, 10, True, max_steps=5)
    assert paired[2] is not None and "max_steps = 5" in paired[2]
    assert_same(paired, run(model, state, 10, False, max_steps=5))


def test_the_window_holds_about_its_bytes_and_at_most_its_rows():
    threads = numba.config.NUMBA_NUM_THREADS
    assert pair.window_buffer(1, 500, 256).shape == (threads, (pair.CHUNK_ROWS + 2) * 256)
    assert pair.window_buffer(1, 10, 256).shape == (threads, 12 * 256)  # the grid's rows
    rows = pair.WINDOW_BYTES // (8 * 2 * 8192)
    assert 3 < rows < pair.CHUNK_ROWS
    assert pair.window_buffer(2, 8192, 8192).shape == (threads, 2 * rows * 8192)
    assert pair.window_buffer(1, 500, 2**20).shape == (threads, 3 * 2**20)  # chunks of a row


def test_a_grid_of_few_long_rows_is_not_paired():
    """Three rows per thread would outweigh a 2-row grid of 2^18 cells per row."""
    long_rows = ct.Grid((2, 2**18), SPACING)
    model = ct.models.Heat(diffusivity=0.13)
    state = model.initial_state(long_rows)
    assert not make_solver("euler", model, state, dt=1e-3).paired
    assert make_solver(
        "euler", model, model.initial_state(ct.Grid((64, 2**12), SPACING)), dt=1e-3
    ).paired


def test_only_problems_the_window_holds_are_paired():
    """2D, pointwise reactions and constant-coefficient diffusion only."""
    grid = ct.Grid((20, 16), SPACING)

    def paired(model, grid, method="euler"):
        return make_solver(method, model, model.initial_state(grid), dt=1e-7).paired

    assert paired(ct.models.FisherKPP(), grid)
    assert not paired(ct.models.FisherKPP(bc={"u": {"x": "periodic"}}), grid)
    assert paired(ct.models.FisherKPP(bc={"u": {"y": "periodic"}}), grid)
    assert not paired(ct.models.FisherKPP(), ct.Grid((8, 6, 5), SPACING))
    assert not paired(ct.models.FisherKPP(), ct.Grid((40,), SPACING))
    masked = ct.Grid((20, 16), SPACING, mask=np.ones((20, 16), bool))
    assert not paired(ct.models.FisherKPP(), masked)
    assert not paired(ct.models.Invasion(), grid)  # taxis and exports
    assert not paired(ct.models.FisherKPP(), grid, "explicit")
