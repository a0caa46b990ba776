"""The invasion model with immune effector cells in the primary tissue, attracted by a
chemokine the tumour secretes (after Matzavinos, Chaplain & Kuznetsov, Math Med Biol
2004;21:1-34, and Kuznetsov et al., Bull Math Biol 1994;56:295-321)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import continuum.kernels.immune_invasion as immune_kernels
import continuum.kernels.invasion as invasion_kernels
from continuum.grid import Grid
from continuum.models.base import KernelSet, Parameter, Transport
from continuum.models.invasion import CAPACITY_SCALE, Invasion

_P = Parameter
# Kuznetsov et al. 1994 count effectors and tumour cells in one compartment (a mouse
# spleen); their per-cell rates become rates per unit fraction of K_cell through the
# number of cells at capacity in that compartment, K_cell V with V = 100 mm^3 (a mouse
# spleen of about 0.1 g: an assumption), i.e. 1e7 cells.
IMMUNE_PARAMETERS = {
    p.name: p
    for p in (
        _P("k_I", 1.101, "1/day", "killing of tumour cells per unit effector fraction"),
        _P("D_I", 8.64e-3, "mm^2/day", "random motility of effector cells (1e-9 cm^2/s)"),
        _P("chi_I", 4.32e-2, "mm^2/day", "chemotactic sensitivity of effector cells"),
        _P("s_I", 0.0433, "1/day", "recruitment of effectors per unit blood-vessel density"),
        _P("rho_I", 0.1245, "1/day", "maximal tumour-stimulated proliferation of effectors"),
        _P("eta_I", 2.019, "1", "tumour fraction e + m of half-maximal stimulation"),
        _P("mu_I", 3.422e-3, "1/day", "inactivation of effectors per unit tumour fraction"),
        _P("delta_I", 0.0412, "1/day", "death rate of effector cells"),
        _P("D_c", 0.864, "mm^2/day", "chemokine diffusivity (1e-7 cm^2/s)"),
        _P("alpha_c", 1.0, "1/day", "chemokine secretion per unit tumour fraction"),
        _P("lambda_c", 1.0, "1/day", "chemokine decay rate"),
    )
}


class ImmuneInvasion(Invasion):
    """:class:`~continuum.models.Invasion` with immune effector cells ``I`` (cytotoxic
    T lymphocytes, a fraction of ``K_cell``) and a chemokine ``c`` (relative units) that
    the tumour secretes and that attracts them (Matzavinos, Chaplain & Kuznetsov, Math Med
    Biol 2004;21:1-34). The fields ``immune`` and ``chemokine`` follow Invasion's five;
    Invasion's equations gain the killing ``- k_I I e`` and ``- k_I I m`` (mass action,
    Kuznetsov et al., Bull Math Biol 1994;56:295-321), and ::

        ∂I/∂t = ∇·(D_I max(0, 1 − f) ∇I) − ∇·(χ_I I ∇c) + s_I v_B
                + ρ_I I (e + m)/(η_I + e + m) − μ_I I (e + m) − δ_I I
        ∂c/∂t = D_c ∇²c + α_c (e + m) − λ_c c

    [fractions/day]: effectors move at random where the matrix ``f`` leaves room (dense
    matrix, ``f = 1``, stops them), climb the chemokine gradient, are recruited from the
    blood vessels ``v_B``, proliferate when stimulated by the tumour, are inactivated by
    tumour cells and die. The killed cells are deaths (the ``died`` scalar), so the cell
    budget of :class:`~continuum.models.Invasion` still closes; the series add
    ``tissue_immune_killing`` = ``K_cell ∫ k_I I (e + m) dV`` [cells/day] and
    ``immune_cells`` = ``K_cell ∫ I dV`` [cells]. With ``k_I = 0`` the first five
    fields evolve as Invasion's.

    Defaults (``data/parameters.csv``, model ``ImmuneInvasion``): ``rho_I`` = 0.1245 /day
    and ``delta_I`` = 0.0412 /day are Kuznetsov et al.'s recruitment ``p`` and death
    ``d`` (mouse BCL1 lymphoma). Their per-cell rates (killing ``n`` = 1.101e-7, inactivation
    ``m`` = 3.422e-10 /(cell day), half-stimulation ``g`` = 2.019e7 cells, influx
    ``s`` = 1.3e4 cells/day) count cells in one compartment, a mouse spleen; read as
    densities in a volume ``V`` they give ``k_I = n K_cell V`` = 1.101 /day,
    ``mu_I = m K_cell V`` = 3.422e-3 /day, ``eta_I = g / (K_cell V)`` = 2.019 and
    ``s_I = s / (K_cell V <v_B>)`` = 0.0433 /day, with ``K_cell V = 1e7`` cells
    (``V`` = 100 mm^3, about a mouse spleen: an assumption) and the default mean blood-
    vessel density ``<v_B>`` = 0.03. ``D_I`` = 1e-9 cm^2/s is the low end of T-cell random
    motility (1e-9 to 1e-8 cm^2/s) and ``D_c`` = 1e-7 cm^2/s the order of a small
    protein's diffusivity in tissue; ``chi_I = 5 D_I`` (the ratio of Invasion's
    haptotaxis), ``alpha_c = lambda_c`` = 1 /day (a packed tumour holds ``c = 1``, the
    chemokine lives a day) are assumptions.

    The chemokine's decay joins oxygen and enzyme as a stiff field of the IMEX method.
    Parameters and vessel maps as :class:`~continuum.models.Invasion`, plus
    ``ImmuneInvasion.PARAMETERS``' last eleven (units mm, day).
    """

    kernels = KernelSet(
        row=immune_kernels.immune_invasion_row,
        scalars=invasion_kernels.invasion_scalar_rate,
        stiff=immune_kernels.immune_invasion_stiff_rate,
        relax=invasion_kernels.invasion_scalar_relax,
    )
    field_names = (*Invasion.field_names, "immune", "chemokine")
    nonnegative_fields = field_names
    capacity_fields = (*Invasion.capacity_fields, "immune")
    field_scales: ClassVar[dict[str, str]] = {
        **Invasion.field_scales,
        "immune": CAPACITY_SCALE,
        "chemokine": "relative units (1 in a packed tumour at alpha_c = lambda_c)",
    }
    stiff_fields = (*Invasion.stiff_fields, "chemokine")
    series_units: ClassVar[dict[str, str]] = {
        **Invasion.series_units,
        "tissue_immune_killing": "cells/day",
        "immune_cells": "cells",
    }
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        *Invasion.PARAMETERS,
        *(IMMUNE_PARAMETERS[name] for name in immune_kernels.IMMUNE_ORDER),
    )

    def transport(self) -> Transport:
        """Invasion's diffusion and haptotaxis (``m`` up ``f``), the effectors' motility
        ``D_I max(0, 1 - f)`` and chemotaxis up ``c``, the chemokine's diffusion."""
        p = self.parameters
        return Transport.of(
            self.field_names,
            diffusion={
                "epithelial": p["D_e"],
                "mesenchymal": p["D_m"],
                "mmp": p["D_p"],
                "oxygen": p["D_o"],
                "immune": p["D_I"],
                "chemokine": p["D_c"],
            },
            taxis=[("mesenchymal", "ecm", p["chi"]), ("immune", "chemokine", p["chi_I"])],
            laws={"immune": ("ecm", 1.0, -1.0)},
        )

    def param_vector(self) -> np.ndarray:
        """Invasion's vector (parameters, then the two therapy rates), then the immune
        parameters in ``continuum.kernels.immune_invasion.IMMUNE_ORDER``."""
        immune = [self.parameters[name] for name in immune_kernels.IMMUNE_ORDER]
        return np.concatenate([super().param_vector(), immune])

    def default_fields(self, grid: Grid):
        """Invasion's tumour, no chemokine, and effectors at their tumour-free level: the
        uniform ``I = s_I <v_B> / delta_I``, ``<v_B>`` the mean blood-vessel density over
        the tissue, at which the total ``int I dV`` is stationary without a tumour (0 when
        ``delta_I = 0``)."""
        fields = super().default_fields(grid)
        p = self.parameters
        vessels = self.static_maps(grid)[0].reshape(grid.shape)
        inside = np.ones(grid.shape, bool) if grid.mask is None else grid.mask
        level = p["s_I"] * float(vessels[inside].mean()) / p["delta_I"] if p["delta_I"] else 0.0
        return {**fields, "immune": level, "chemokine": 0.0}

    def derived_series(self, state) -> dict[str, float]:
        """Invasion's series, the killing by effectors [cells/day] and their count [cells]."""
        p = self.parameters
        scale = p["K_cell"] * state.grid.cell_volume
        cells = state["epithelial"] + state["mesenchymal"]
        immune = state["immune"]
        return {
            **super().derived_series(state),
            "tissue_immune_killing": scale * float(np.sum(p["k_I"] * immune * cells)),
            "immune_cells": scale * float(np.sum(immune)),
        }

    # -- NumPy reference (for tests) ------------------------------------------------------
    def reference_rate(self, state, t=0.0, therapy=(0.0, 0.0)):
        """NumPy right-hand side of the seven equations, shape ``(7, *grid.shape)``:
        Invasion's (:meth:`Invasion.reference_rate`) with the killing, and the effector
        and chemokine equations above (harmonic face means of ``D_I max(0, 1 - f)``,
        limited upwind chemotaxis). Units: fractions per day."""
        from continuum.reference import diffusion, taxis, tissue

        p = self.parameters
        grid = state.grid
        inside = tissue(grid)
        kind, value = self.boundary_arrays(grid)
        e, m, f = state.data[0], state.data[1], state.data[2]
        immune, c = state.data[5], state.data[6]
        v_b = self.static_maps(grid)[0].reshape(grid.shape)
        cells = e + m
        rate = super().reference_rate(state, t, therapy)
        rate[0] -= p["k_I"] * immune * e * inside
        rate[1] -= p["k_I"] * immune * m * inside
        motility = p["D_I"] * np.maximum(0.0, 1.0 - f) * inside
        level = p["eta_I"] + cells
        stimulated = np.zeros_like(cells)
        np.divide(p["rho_I"] * immune * cells, level, out=stimulated, where=level > 0)
        rate[5] = diffusion(immune, grid, kind[5], value[5], motility)
        rate[5] += taxis(immune, c, p["chi_I"], grid, kind[5], grid.mask)
        rate[5] += p["s_I"] * v_b + stimulated - (p["mu_I"] * cells + p["delta_I"]) * immune
        rate[6] = diffusion(c, grid, kind[6], value[6], p["D_c"] * inside)
        rate[6] += p["alpha_c"] * cells - p["lambda_c"] * c
        rate[5:] *= inside
        return rate

    def reference_exports(self, state, t=0.0, therapy=(0.0, 0.0)):
        """Invasion's exports (:meth:`Invasion.reference_exports`) with the killing
        ``int k_I I (e + m) dV`` added to the deaths [fractions x mm^3/day]."""
        from continuum.reference import tissue

        exports = super().reference_exports(state, t, therapy)
        e, m, immune = state.data[0], state.data[1], state.data[5]
        kill = self.parameters["k_I"] * immune * (e + m) * tissue(state.grid)
        exports[3] += float(np.sum(kill)) * state.grid.cell_volume
        return exports
