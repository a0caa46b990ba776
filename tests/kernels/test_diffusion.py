"""The compiled diffusion operator against readable NumPy references."""

import numpy as np
import pytest

import continuum as ct
from continuum.models.base import Transport
from continuum.reference import laplacian
from tests.helpers import compiled_rate

SHAPES = [(37,), (13, 17), (6, 7, 9)]
BCS = [
    "noflux",
    "periodic",
    ct.Dirichlet(0.3),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bc", BCS, ids=["noflux", "periodic", "dirichlet"])
def test_rate_matches_reference(shape, bc, rng):
    grid = ct.Grid(shape, spacing=[0.1, 0.2, 0.15][: len(shape)])
    model = ct.models.FisherKPP(diffusivity=0.7, growth_rate=0.4, bc={"u": bc})
    state = model.initial_state(grid, u=rng.random(shape))
    # rounding of the Euler step the rate is read off, over dt: measured at most 1.6e-13
    # (rates up to 220 per day)
    np.testing.assert_allclose(
        compiled_rate(model, state), model.reference_rate(state), rtol=0, atol=4e-13
    )


def test_mixed_conditions_per_side(rng):
    grid = ct.Grid((11, 9), 0.1)
    bc = {"u": {"x": (ct.Dirichlet(1.0), "noflux"), "y": "periodic"}}
    model = ct.models.Heat(diffusivity=0.5, bc=bc)
    state = model.initial_state(grid, u=rng.random((11, 9)))
    kind, value = model.boundary_arrays(grid)
    expected = 0.5 * laplacian(state.data[0], grid, kind[0], value[0])
    # measured 5.7e-14 (rates up to 210 per day)
    np.testing.assert_allclose(compiled_rate(model, state)[0], expected, rtol=0, atol=1.5e-13)


def _face_flux_reference(u, d_cell, h):
    """div(w grad u) with harmonic-mean face coefficients, no-flux outer boundary."""
    out = np.zeros_like(u)
    for axis in range(u.ndim):
        lo = [slice(None)] * u.ndim
        hi = [slice(None)] * u.ndim
        lo[axis] = slice(None, -1)
        hi[axis] = slice(1, None)
        dl, dh = d_cell[tuple(lo)], d_cell[tuple(hi)]
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(dl + dh > 0, 2 * dl * dh / (dl + dh), 0.0)
        flux = w * (u[tuple(hi)] - u[tuple(lo)]) / h[axis] ** 2
        out[tuple(lo)] += flux
        out[tuple(hi)] -= flux
    return out


class _VariableHeat(ct.models.Heat):
    """Heat with a relative diffusivity map (the general kernel path)."""

    map_names = ("relative_diffusivity",)

    def __init__(self, relative, **kwargs):
        super().__init__(**kwargs)
        self.relative = relative

    def static_maps(self, grid):
        return self.relative.reshape((1, *grid.shape3))

    def transport(self):
        return Transport(
            np.array([self.parameters["diffusivity"]]), np.array([0]), np.zeros((0, 3))
        )


@pytest.mark.parametrize("shape", SHAPES)
def test_variable_coefficient_and_mask(shape, rng):
    spacing = [0.1, 0.2, 0.15][: len(shape)]
    mask = rng.random(shape) > 0.3
    grid = ct.Grid(shape, spacing=spacing, mask=mask)
    relative = 0.5 + rng.random(shape)
    model = _VariableHeat(relative, diffusivity=0.8)
    state = model.initial_state(grid, u=rng.random(shape))
    expected = _face_flux_reference(state.data[0], 0.8 * relative * mask, spacing)
    # measured at most 1.3e-13 (rates up to 220 per day)
    np.testing.assert_allclose(compiled_rate(model, state)[0], expected, rtol=0, atol=3e-13)
    assert np.all(compiled_rate(model, state)[0][~mask] == 0.0)


@pytest.mark.parametrize("shape", SHAPES)
def test_coefficient_depending_on_another_field(shape, rng):
    """Acid-mediated tumour motility Delta_2 (1 - normal): harmonic face means of it."""
    spacing = [0.1, 0.2, 0.15][: len(shape)]
    grid = ct.Grid(shape, spacing=spacing)
    model = ct.models.AcidMediated(Delta_2=0.3)
    normal, tumor, acid = rng.random(shape), rng.random(shape), rng.random(shape)
    state = model.initial_state(grid, normal=normal, tumor=tumor, acid=acid)
    expected = _face_flux_reference(tumor, 0.3 * (1 - normal), spacing) + tumor * (1 - tumor)
    # measured at most 1.4e-13 (rates up to 47 per day)
    np.testing.assert_allclose(compiled_rate(model, state)[1], expected, rtol=0, atol=3e-13)
