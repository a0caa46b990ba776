"""Ready-made examples used by the command line and the documentation."""

from __future__ import annotations

import numpy as np

from continuum.grid import Grid
from continuum.models.simple import FisherKPP


def glioma_invasion(n: int = 256, spacing: float = 0.5):
    """Proliferation-invasion (Fisher-KPP) growth of a glioma in a 2D slice.

    Swanson's grey-matter values: D = 0.13 mm^2/day, rho = 0.012 /day (Swanson, Alvord &
    Murray 2000). The tumour starts as a disk of radius 5 mm at 80% of the carrying
    capacity in the middle of an ``n x n`` grid of ``spacing`` mm; its front travels at
    ``2 sqrt(D rho)`` = 0.079 mm/day once established.

    Returns ``(model, state)``.
    """
    grid = Grid((n, n), spacing)
    model = FisherKPP(diffusivity=0.13, growth_rate=0.012)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    centre = 0.5 * n * spacing
    r = np.hypot(x - centre, y - centre)
    return model, model.initial_state(grid, u=np.where(r < 5.0, 0.8, 0.0))
