"""``method="auto"``: the time integrator a model on a grid calls for.

The explicit method keeps densities non-negative only for steps below a diffusion limit,
``0.9 * 2 / (2 sum_a D_max / h_a^2)`` for SSP-RK(4,3) (SSP-RK(9,3), which it switches to
where that limit holds the step, goes 3 times as far at 9/4 the cost per step; the rule
below keeps SSP-RK(4,3)'s limit); on fine grids that limit is minutes while the tissue
changes over days. The implicit-explicit method removes it (and solves stiff fields such
as oxygen implicitly) at the price of a first-order step that costs several explicit
stages. ``auto`` therefore picks

* ``"explicit"`` for a model without tissue fields (a lumped primary);
* ``"imex"`` when the model has stiff fields (``Model.stiff_fields``);
* ``"imex"`` when the diffusion limit is more than :data:`IMEX_SEPARATION` times shorter
  than the reactions' time scale (``Model.reaction_time_scale``), ``"explicit"``
  otherwise.
"""

from __future__ import annotations

from continuum.solvers.base import METHODS, diffusion_rate
from continuum.solvers.loops import SSP_COEFFICIENT, SSPRK43

CHOICES = ("auto", *METHODS)
"""What ``simulate(method=...)`` and scenario files accept."""

IMEX_SEPARATION = 100.0
"""How many times shorter than the reactions' time scale the explicit diffusion limit
must be for ``auto`` to choose the implicit-explicit method."""


def choose_method(model, grid) -> tuple[str, str]:
    """``(method, reason)``: the method ``auto`` resolves to for ``model`` (a cascade: its
    primary) on ``grid`` [mm], and a sentence saying why (logged, stored in run files)."""
    primary = model.primary
    if not primary.field_names:
        return "explicit", "no tissue fields"
    if primary.stiff_fields:
        return "imex", f"stiff fields ({', '.join(primary.stiff_fields)}) solved implicitly"
    transport = primary.transport()
    maps = primary.static_maps(grid)
    rate = diffusion_rate(transport.diffusivity, transport.law(), maps, grid)
    scale = primary.reaction_time_scale()
    if rate == 0.0:
        return "explicit", "nothing diffuses"
    limit = 0.9 * SSP_COEFFICIENT[SSPRK43] / rate
    ratio = scale / limit
    words = (
        f"diffusion limits explicit steps to {limit:.3g} day, {ratio:.3g} times shorter than "
        f"the reactions' time scale {scale:.3g} day"
    )
    if ratio > IMEX_SEPARATION:
        return "imex", words
    return "explicit", words
