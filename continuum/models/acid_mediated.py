"""The Gatenby-Gawlinski acid-mediated tumour invasion model (nondimensional)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from continuum.kernels.acid_mediated import P, acid_mediated_point
from continuum.models.base import KernelSet, Model, Parameter, Transport


class AcidMediated(Model):
    """Normal tissue ``normal`` η₁, tumour ``tumor`` η₂ and excess acid ``acid`` Λ (H+ ions)::

        ∂η₁/∂τ = η₁ (1 − η₁) − δ₁ Λ η₁
        ∂η₂/∂τ = ρ₂ η₂ (1 − η₂) + ∇·[Δ₂ (1 − η₁) ∇η₂]
        ∂Λ/∂τ  = δ₃ (η₂ − Λ) + ∇²Λ

    The nondimensional form of Gatenby & Gawlinski, Cancer Res 1996;56:5745-5753: normal
    cells and tumour cells relative to their carrying capacities, acid relative to
    ``r3 K2 / d3``, time in units of ``1/r1``, space in units of ``sqrt(D3 / r1)``. Tumour
    cells move only where normal tissue has made room (the diffusion coefficient of the
    tumour is ``Delta_2 (1 - eta_1)``). Behind the front the normal tissue tends to
    ``1 - delta_1`` when ``delta_1 < 1``; for ``delta_1 > 1`` it dies, and an acellular gap
    opens ahead of the advancing tumour.

    The defaults are the paper's values.

    Parameters
    ----------
    bc : boundary conditions of the fields (default no-flux).
    """

    kernels = KernelSet(point=acid_mediated_point, parameters=P)
    field_names = ("normal", "tumor", "acid")
    cell_fields = ("tumor",)
    field_scales: ClassVar[dict[str, str]] = {
        "normal": "fraction of the normal-tissue carrying capacity K1",
        "tumor": "fraction of the tumour carrying capacity K2",
        "acid": "relative to r3 K2 / d3, the excess acid of a tumour at capacity",
    }
    nonnegative_fields = field_names
    PARAMETERS = (
        Parameter("delta_1", 12.5, "1", "δ₁, acid toxicity to normal tissue: d1 r3 K2/(d3 r1)"),
        Parameter("rho_2", 1.0, "1", "ρ₂, tumour growth relative to normal cells: r2/r1"),
        Parameter("Delta_2", 4e-5, "1", "Δ₂, tumour motility relative to acid diffusion: D2/D3"),
        Parameter("delta_3", 70.0, "1", "δ₃, acid washout rate: d3/r1"),
    )

    def __init__(self, delta_1=12.5, rho_2=1.0, Delta_2=4e-5, delta_3=70.0, bc=None):
        super().__init__(bc=bc, delta_1=delta_1, rho_2=rho_2, Delta_2=Delta_2, delta_3=delta_3)

    def reaction_time_scale(self) -> float:
        """``1 / max(1, rho_2, delta_1, delta_3)`` (time in units of ``1/r1``): growth of
        both populations, acid toxicity (acid of order one) and washout."""
        p = self.parameters
        return 1.0 / max(1.0, p["rho_2"], p["delta_1"], p["delta_3"])

    def transport(self) -> Transport:
        return Transport.of(
            self.field_names,
            diffusion={"tumor": self.parameters["Delta_2"], "acid": 1.0},
            laws={"tumor": ("normal", 1.0, -1.0)},  # motility Delta_2 max(0, 1 - normal)
        )

    def reference_rate(self, state, t=0.0):
        """NumPy right-hand side of the three equations above, shape ``(3, *grid.shape)``.

        The tumour's coefficient is ``Delta_2 max(0, 1 - eta_1)`` cell by cell, with
        harmonic face means (``continuum.reference.diffusion``); the acid diffuses with
        coefficient 1; zero outside the mask.
        """
        from continuum.reference import diffusion, tissue

        grid = state.grid
        inside = tissue(grid)
        p = self.parameters
        kind, value = self.boundary_arrays(grid)
        normal, tumor, acid = state.data
        motility = p["Delta_2"] * np.maximum(0.0, 1.0 - normal) * inside
        rate = np.empty_like(state.data)
        rate[0] = normal * (1.0 - normal) - p["delta_1"] * acid * normal
        rate[1] = p["rho_2"] * tumor * (1.0 - tumor)
        rate[1] += diffusion(tumor, grid, kind[1], value[1], motility)
        rate[2] = p["delta_3"] * (tumor - acid) + diffusion(acid, grid, kind[2], value[2], inside)
        return rate * inside
