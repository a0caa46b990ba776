"""The Keller-Segel model: cells that secrete their own chemoattractant."""

from __future__ import annotations

from typing import ClassVar

from continuum.kernels.keller_segel import P, keller_segel_point
from continuum.models.base import KernelSet, Model, Parameter, Transport

PARAMETERS = {
    "D_n": Parameter("D_n", 1e-3, "mm^2/day", "random motility of the cells"),
    "chi": Parameter("chi", 5e-3, "mm^2/day", "chemotactic sensitivity"),
    "r": Parameter("r", 0.5, "1/day", "net proliferation rate"),
    "D_c": Parameter("D_c", 0.1, "mm^2/day", "diffusivity of the chemoattractant"),
    "alpha": Parameter("alpha", 1.0, "1/day", "secretion by cells at capacity"),
    "beta": Parameter("beta", 1.0, "1/day", "decay of the chemoattractant"),
}


class KellerSegel(Model):
    """Cells ``n`` climbing the gradient of a chemoattractant ``c`` they secrete::

        ∂n/∂t = D_n ∇²n − ∇·(χ n ∇c) + r n (1 − n)
        ∂c/∂t = D_c ∇²c + α n − β c

    ``n`` is a fraction of the carrying capacity, ``c`` is scaled so that ``alpha`` is
    its secretion at capacity. With logistic growth solutions stay bounded (Tello &
    Winkler, Comm PDE 2007, doi:10.1080/03605300701319003). Linearised about the uniform
    state ``n = 1``, ``c = alpha/beta``, a mode ``exp(i k x + s t)`` grows at the larger
    eigenvalue ``s`` of ``[[-D_n k^2 - r, chi k^2], [alpha, -D_c k^2 - beta]]``, so
    aggregates form exactly when ``chi alpha > (sqrt(D_n beta) + sqrt(r D_c))^2``
    (Painter & Hillen, Physica D 2011, doi:10.1016/j.physd.2010.09.011). Defaults are
    illustrative (below that threshold), not fitted to a tumour.
    """

    kernels = KernelSet(point=keller_segel_point, parameters=P)
    field_names = ("n", "c")
    cell_fields = ("n",)
    field_scales: ClassVar[dict[str, str]] = {
        "n": "fraction of the carrying capacity",
        "c": "relative units (alpha is its secretion by cells at capacity)",
    }
    nonnegative_fields = field_names
    PARAMETERS = tuple(PARAMETERS[name] for name in P._fields)

    def transport(self) -> Transport:
        p = self.parameters
        return Transport.of(
            self.field_names,
            diffusion={"n": p["D_n"], "c": p["D_c"]},
            taxis=[("n", "c", p["chi"])],
        )

    def reference_rate(self, state, t=0.0):
        """NumPy right-hand side of the two equations, shape ``(2, *grid.shape)``."""
        from continuum.reference import diffusion, taxis, tissue

        grid, p = state.grid, self.parameters
        inside = tissue(grid)
        kind, value = self.boundary_arrays(grid)
        n, c = state.data
        rate = [
            diffusion(n, grid, kind[0], value[0], p["D_n"] * inside)
            + taxis(n, c, p["chi"], grid, kind[0], grid.mask)
            + p["r"] * n * (1 - n),
            diffusion(c, grid, kind[1], value[1], p["D_c"] * inside)
            + p["alpha"] * n
            - p["beta"] * c,
        ]
        return rate * inside
