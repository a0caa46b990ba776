"""Observed order in time of each method against an independent ODE reference.

The reference integrates the NumPy right-hand side (``model.reference_rate``) with SciPy's
DOP853 at tight tolerances, so it shares the spatial discretisation but none of the
compiled code.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import continuum as ct
from tests.helpers import observed_orders

T_END = 1.0


@pytest.fixture(scope="module")
def problem():
    grid = ct.Grid(32, 1.0 / 32)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=2.0)
    x = grid.coords[0]
    state = model.initial_state(grid, u=0.5 * np.exp(-((x - 0.5) ** 2) / 0.01))

    def rhs(_t, y):
        probe = state.copy()
        probe.data[0] = y
        return model.reference_rate(probe)[0]

    sol = solve_ivp(rhs, (0, T_END), state.data[0], method="DOP853", rtol=1e-13, atol=1e-14)
    return model, state, sol.y[:, -1]


def final_error(problem, method, **options):
    model, state, reference = problem
    res = ct.simulate(model, state, T_END, save_every=T_END, method=method, **options)
    return np.abs(res.field("u")[-1] - reference).max()


# Measured orders: euler 0.999, 0.999; explicit (SSP-RK(4,3)) 3.03, 3.02; imex 0.94, 0.97,
# 0.99 (the first pair still pre-asymptotic at dt = 0.1). The bounds are the theoretical
# orders 1, 3, 1 give or take 0.1 (0.15 above for imex).
@pytest.mark.parametrize(
    ("method", "steps", "low", "high"),
    [
        ("euler", (0.008, 0.004, 0.002), 0.9, 1.1),
        ("explicit", (0.008, 0.004, 0.002), 2.8, 3.2),
        ("imex", (0.1, 0.05, 0.025, 0.0125), 0.9, 1.15),
    ],
)
def test_fixed_step_order(problem, method, steps, low, high):
    errors = [final_error(problem, method, dt=dt) for dt in steps]
    orders = observed_orders(errors)
    assert np.all((orders > low) & (orders < high)), (errors, orders)


@pytest.mark.parametrize("rtol", [1e-4, 1e-6])
def test_adaptive_explicit_error_within_tolerance(problem, rtol):
    # the global error of a unit-size solution stays below the rtol the solver was given:
    # measured 1.8e-7 at rtol 1e-4 (the steps are held by the stability limit there, not by
    # the error estimate) and 2.4e-8 at rtol 1e-6
    assert final_error(problem, "explicit", rtol=rtol, atol=rtol * 1e-2) < rtol


def test_adaptive_imex_error_decreases_with_tolerance(problem):
    # rtol bounds the local error per step of a first-order method: the global error
    # falls about as sqrt(rtol) (documented in the README)
    loose = final_error(problem, "imex", rtol=1e-4, atol=1e-6)
    tight = final_error(problem, "imex", rtol=1e-6, atol=1e-8)
    # measured 2.3e-3 and 3.4e-4: a factor 6.8 for 100x in rtol (sqrt: 10)
    assert tight < loose / 4
    assert tight < 1e-3
