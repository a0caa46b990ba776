"""Heat equation against the analytic Gaussian: spatial order in 1D, 2D and 3D."""

import numpy as np
import pytest

import continuum as ct
from tests.helpers import observed_orders

D = 1.0
T0 = 0.1  # age of the Gaussian at t = 0 [day]
T_END = 0.1
HALF_WIDTH = 3.0  # domain [-3, 3] mm per axis; the Gaussian is < 2e-5 of its peak at the edges


def gaussian(coords, t):
    ndim = len(coords)
    r2 = sum(c**2 for c in np.meshgrid(*coords, indexing="ij"))
    return np.exp(-r2 / (4 * D * t)) / (4 * np.pi * D * t) ** (ndim / 2)


def cell_average_gaussian(grid, t):
    """Exact cell averages of the Gaussian (product of 1D error-function integrals)."""
    from scipy.special import erf

    factors = []
    for c, h in zip(grid.coords, grid.spacing, strict=True):
        s = np.sqrt(4 * D * t)
        factors.append((erf((c + h / 2) / s) - erf((c - h / 2) / s)) / (2 * h))
    out = factors[0]
    for f in factors[1:]:
        out = np.multiply.outer(out, f)
    return out


def heat_error(ndim, n, method="explicit"):
    grid = ct.Grid((n,) * ndim, 2 * HALF_WIDTH / n, origin=-HALF_WIDTH)
    model = ct.models.Heat(D)
    state = model.initial_state(grid, u=cell_average_gaussian(grid, T0))
    res = ct.simulate(model, state, T_END, save_every=T_END, method=method, rtol=1e-7, atol=1e-10)
    exact = cell_average_gaussian(grid, T0 + T_END)
    return np.abs(res.field("u")[-1] - exact).max() / exact.max()


@pytest.mark.parametrize(
    ("ndim", "sizes"), [(1, (32, 64, 128)), (2, (32, 64, 128)), (3, (24, 48, 96))]
)
def test_spatial_order_at_least_1_9(ndim, sizes):
    # second-order scheme; measured orders 1.95, 1.99 (1D), 1.96, 1.99 (2D), 1.92, 1.98 (3D)
    errors = [heat_error(ndim, n) for n in sizes]
    orders = observed_orders(errors)
    assert np.all(orders >= 1.9), (errors, orders)


def test_gaussian_accuracy_on_fine_grid():
    assert heat_error(1, 256) < 1e-4  # measured 8.6e-5 (3.4e-4 at 128 cells: order 2)


def mode_error(n, bc, ndim):
    """Decay of a sine (Dirichlet 0) or cosine-free periodic mode against exp(-D k^2 t)."""
    grid = ct.Grid((n,) * ndim, 1.0 / n)
    coords = np.meshgrid(*grid.coords, indexing="ij")
    if bc == "dirichlet":
        mode = np.prod([np.sin(np.pi * c) for c in coords], axis=0)
        k2 = ndim * np.pi**2
        model = ct.models.Heat(D, bc={"u": ct.Dirichlet(0.0)})
    else:
        mode = np.prod([np.sin(2 * np.pi * c) for c in coords], axis=0)
        k2 = ndim * (2 * np.pi) ** 2
        model = ct.models.Heat(D, bc="periodic")
    t_end = 0.02
    state = model.initial_state(grid, u=mode)
    res = ct.simulate(
        model, state, t_end, save_every=t_end, method="explicit", rtol=1e-9, atol=1e-12
    )
    return np.abs(res.field("u")[-1] - mode * np.exp(-D * k2 * t_end)).max()


@pytest.mark.parametrize("bc", ["dirichlet", "periodic"])
@pytest.mark.parametrize("ndim", [1, 2])
def test_boundary_conditions_converge_at_second_order(bc, ndim):
    # measured orders: Dirichlet 1.99, 2.00 (1D), 1.99, 2.00 (2D); periodic 1.98, 1.99 (1D),
    # 1.96, 1.99 (2D)
    errors = [mode_error(n, bc, ndim) for n in (16, 32, 64)]
    assert np.all(observed_orders(errors) >= 1.9), errors
