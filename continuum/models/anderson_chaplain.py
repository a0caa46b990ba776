"""The Anderson-Chaplain model of tumour invasion by haptotaxis (nondimensional)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from continuum.kernels.anderson_chaplain import P, anderson_chaplain_point
from continuum.models.base import KernelSet, Model, Parameter, Transport


class AndersonChaplain(Model):
    """Tumour cells ``n`` invading extracellular matrix ``f`` degraded by enzyme ``m``::

        ∂n/∂t = d_n ∇²n − γ ∇·(n ∇f)
        ∂f/∂t = −η m f
        ∂m/∂t = d_m ∇²m + α n − β m

    Nondimensional, on the unit interval or square, no-flux boundaries (Anderson, Chaplain,
    Newman, Steele & Thompson, J Theor Med 2000, doi:10.1080/10273660008833042; Anderson &
    Chaplain, Bull Math Biol 1998, doi:10.1006/bulm.1998.0042). Keyword names and defaults
    as in the paper. It is the Stage-1 invasion model with the epithelial phenotype, oxygen
    and EMT switched off.

    Parameters
    ----------
    bc : boundary conditions (default no-flux).

    Notes
    -----
    With no ``n``/``f``/``m`` given, :meth:`initial_state` builds the documented example
    ``n0 = exp(-r^2 / 0.01)``, ``f0 = 1 - 0.5 n0``, ``m0 = 0.5 n0``, with ``r`` the distance
    from ``x = 0`` in 1D (as in the paper) and from the centre of the domain in 2D and 3D.
    Invariants under no-flux conditions: the total of ``n`` is constant; with
    ``beta = 0`` the total of ``m`` grows by ``alpha t`` times the total of ``n``; and
    ``f = f0 exp(−η ∫₀ᵗ m ds)`` pointwise.
    """

    kernels = KernelSet(point=anderson_chaplain_point, parameters=P)
    field_names = ("n", "f", "m")
    cell_fields = ("n",)
    field_scales: ClassVar[dict[str, str]] = {
        "n": "relative to the reference cell density n0 (nondimensional)",
        "f": "relative to the reference matrix density f0 (nondimensional)",
        "m": "relative to the reference enzyme concentration m0 (nondimensional)",
    }
    nonnegative_fields = field_names
    PARAMETERS = (
        Parameter("d_n", 0.001, "1", "d_n, tumour-cell random motility (nondimensional)"),
        Parameter("gamma", 0.005, "1", "γ, haptotactic sensitivity (nondimensional)"),
        Parameter("eta", 10.0, "1", "η, matrix degradation rate (nondimensional)"),
        Parameter("d_m", 0.001, "1", "d_m, enzyme diffusivity (nondimensional)"),
        Parameter("alpha", 0.1, "1", "α, enzyme production by tumour cells (nondimensional)"),
        Parameter("beta", 0.0, "1", "β, enzyme decay (nondimensional)"),
    )

    def __init__(self, d_n=0.001, gamma=0.005, eta=10.0, d_m=0.001, alpha=0.1, beta=0.0, bc=None):
        super().__init__(bc=bc, d_n=d_n, gamma=gamma, eta=eta, d_m=d_m, alpha=alpha, beta=beta)

    def reaction_time_scale(self) -> float:
        """``1 / max(eta, alpha, beta)`` (nondimensional time): degradation of the matrix
        (``m`` is of order one), production and decay of the enzyme."""
        p = self.parameters
        fastest = max(p["eta"], p["alpha"], p["beta"])
        return 1.0 / fastest if fastest > 0.0 else float("inf")

    def transport(self) -> Transport:
        p = self.parameters
        return Transport.of(
            self.field_names,
            diffusion={"n": p["d_n"], "m": p["d_m"]},
            taxis=[("n", "f", p["gamma"])],
        )

    def reference_rate(self, state, t=0.0):
        """NumPy right-hand side of the three equations above, shape ``(3, *grid.shape)``.

        Diffusion by finite volumes (harmonic face means, faces to masked cells closed),
        the haptotaxis ``-gamma div(n grad f)`` by limited upwinding
        (``continuum.reference.taxis``); zero outside the mask.
        """
        from continuum.reference import diffusion, taxis, tissue

        grid = state.grid
        inside = tissue(grid)
        p = self.parameters
        kind, value = self.boundary_arrays(grid)
        n, f, m = state.data
        rate = np.empty_like(state.data)
        rate[0] = diffusion(n, grid, kind[0], value[0], p["d_n"] * inside)
        rate[0] += taxis(n, f, p["gamma"], grid, kind[0], grid.mask)
        rate[1] = -p["eta"] * m * f
        rate[2] = diffusion(m, grid, kind[2], value[2], p["d_m"] * inside)
        rate[2] += p["alpha"] * n - p["beta"] * m
        return rate * inside

    def default_fields(self, grid):
        coords = np.meshgrid(*grid.coords, indexing="ij")
        if grid.ndim == 1:
            r2 = coords[0] ** 2
        else:
            centre = [o + e / 2 for o, e in zip(grid.origin, grid.extent, strict=True)]
            r2 = sum((c - c0) ** 2 for c, c0 in zip(coords, centre, strict=True))
        n0 = np.exp(-r2 / 0.01)
        return {"n": n0, "f": 1.0 - 0.5 * n0, "m": 0.5 * n0}
