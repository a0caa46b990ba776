"""Verification models: heat equation, Fisher-KPP, and taxis up a static gradient."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from continuum.kernels.simple import FISHER, logistic_point
from continuum.models.base import KernelSet, Model, Parameter, Transport


class Heat(Model):
    """Heat equation ``∂u/∂t = D ∇²u``.

    Parameters
    ----------
    bc : boundary conditions of field ``u`` (default no-flux).
    """

    kernels = KernelSet()
    field_names = ("u",)
    PARAMETERS = (Parameter("diffusivity", 1.0, "mm^2/day", "D, the diffusion coefficient"),)

    def __init__(self, diffusivity=1.0, bc=None):
        super().__init__(bc=bc, diffusivity=diffusivity)

    def transport(self) -> Transport:
        return Transport.of(self.field_names, diffusion={"u": self.parameters["diffusivity"]})

    def reference_rate(self, state, t=0.0):
        """NumPy ``D ∇²u`` (finite volumes, faces to masked cells closed; zero
        outside the mask), shape ``(1, *grid.shape)``."""
        from continuum.reference import diffusion, tissue

        grid = state.grid
        inside = tissue(grid)
        d = self.parameters["diffusivity"]
        kind, value = self.boundary_arrays(grid)
        return (diffusion(state.data[0], grid, kind[0], value[0], d * inside) * inside)[None]


class FisherKPP(Heat):
    """Fisher-KPP (proliferation-invasion) ``∂u/∂t = D ∇²u + ρ u (1 − u)``.

    ``u`` is the tumour-cell density as a fraction of the carrying capacity. Fronts travel
    at ``2 √(D ρ)``; Swanson's glioma model uses D = 0.13 mm^2/day (grey matter)
    and rho = 0.012 /day (Swanson, Alvord & Murray, Cell Prolif 2000,
    doi:10.1046/j.1365-2184.2000.00177.x). Resection and radiotherapy act on ``u`` and book
    what they take in the scalar ``removed`` [mm^3 at capacity].

    Parameters
    ----------
    bc : boundary conditions of field ``u`` (default no-flux).
    """

    kernels = KernelSet(point=logistic_point, parameters=FISHER)
    cell_fields = ("u",)
    field_scales: ClassVar[dict[str, str]] = {"u": "fraction of the carrying capacity"}
    nonnegative_fields = ("u",)
    # what treatments removed: the integral of u they took [mm^3 of tissue at capacity]
    scalar_names = ("removed",)
    series_units: ClassVar[dict[str, str]] = {"removed": "mm^3"}
    PARAMETERS = (
        Parameter("diffusivity", 0.13, "mm^2/day", "D, tumour-cell motility"),
        Parameter("growth_rate", 0.012, "1/day", "ρ, net proliferation rate"),
    )

    def __init__(self, diffusivity=0.13, growth_rate=0.012, bc=None):
        Model.__init__(self, bc=bc, diffusivity=diffusivity, growth_rate=growth_rate)

    def reference_rate(self, state, t=0.0):
        """NumPy ``D ∇²u + ρ u (1 − u)``, zero outside the mask."""
        from continuum.reference import tissue

        u = state.data[0]
        growth = self.parameters["growth_rate"] * u * (1 - u) * tissue(state.grid)
        return super().reference_rate(state, t) + growth


class Taxis(Model):
    """Cells ``n`` climbing a static attractant ``a``: ``∂n/∂t = ∇·(D ∇n − χ n ∇a)``,
    ``∂a/∂t = 0``.

    The haptotaxis part of Anderson-Chaplain with the matrix frozen; a verification case
    for positivity and conservation of the limited taxis scheme.

    Parameters
    ----------
    bc : boundary conditions of the fields (default no-flux).
    """

    kernels = KernelSet()
    field_names = ("n", "a")
    field_scales: ClassVar[dict[str, str]] = {
        "n": "fraction of a reference cell density",
        "a": "attractant, relative units",
    }
    nonnegative_fields = ("n",)
    PARAMETERS = (
        Parameter("diffusivity", 1e-3, "mm^2/day", "D, random motility of the cells"),
        Parameter("chi", 1.0, "mm^2/day", "χ, taxis sensitivity (per unit attractant)"),
    )

    def __init__(self, diffusivity=1e-3, chi=1.0, bc=None):
        super().__init__(bc=bc, diffusivity=diffusivity, chi=chi)

    def transport(self) -> Transport:
        p = self.parameters
        return Transport.of(
            self.field_names, diffusion={"n": p["diffusivity"]}, taxis=[("n", "a", p["chi"])]
        )

    def reference_rate(self, state, t=0.0):
        """NumPy ``(∇·(D ∇n) − ∇·(χ n ∇a), 0)``, the
        taxis by limited upwinding (``continuum.reference.taxis``), zero outside the mask."""
        from continuum.reference import diffusion, taxis, tissue

        grid = state.grid
        inside = tissue(grid)
        p = self.parameters
        kind, value = self.boundary_arrays(grid)
        n, a = state.data
        rate = np.zeros_like(state.data)
        rate[0] = diffusion(n, grid, kind[0], value[0], p["diffusivity"] * inside)
        rate[0] += taxis(n, a, p["chi"], grid, kind[0], grid.mask)
        return rate * inside
