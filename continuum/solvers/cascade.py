"""Stepping of a :class:`~continuum.models.cascade.Cascade`: the primary and its circulation
by any method, the secondary sites after each stretch of it up to a cohort boundary."""

from __future__ import annotations

import math

import numpy as np

from continuum.kernels.colonies import sites_step
from continuum.models.cascade import ARRIVAL_SOURCES
from continuum.solvers.base import make_solver
from continuum.state import State


class CascadeSolver:
    """Advances a cascade's state in place; the same interface as :class:`Solver`.

    The inner solver integrates the primary and the circulation on a view of the first
    scalars. Each stretch ends at ``t_stop`` or at the next cohort boundary (multiples of
    ``cohort_days``), so that the colonies founded in it belong to one cohort; the cells
    that left the circulation in the stretch (differences of the cumulative
    ``extravasated``, ``node_arrested`` and ``first_pass``, exact) are shared among the
    sites and the sites advanced over the stretch (``continuum.kernels.colonies``).
    """

    def __init__(self, method, model, state, **options):
        self.model = model
        self.state = state
        n = len(model.primary_scalars)
        inner_state = State(
            state.grid, state.field_names, state.data, model.primary.scalar_layout()
        )
        inner_state.scalars = state.scalars[:n]  # a view: the inner solver updates in place
        self.inner = make_solver(method, model.primary, inner_state, **options)
        self.name = self.inner.name
        self.order = self.inner.order
        layout = model.scalar_layout()
        self.sources = np.array([layout[name][0] for name in ARRIVAL_SOURCES])
        self.unsited = layout["unsited"][0]
        self.clock = layout["sites_time"][0]
        self.offsets = np.array(
            [model.site_offset(k) for k in range(len(model.sites))], dtype=np.int64
        )
        # cells of a source no site receives (node arrests without a lymph-node site)
        self.lost = model.shares.sum(axis=0) == 0.0
        state.scalars[self.clock] = self.inner.t

    @property
    def t(self):
        return self.inner.t

    @property
    def dt(self):
        return self.inner.dt

    @property
    def steps(self):
        return self.inner.steps

    @property
    def rejected(self):
        return self.inner.rejected

    def history_arrays(self) -> dict[str, np.ndarray]:
        return self.inner.history_arrays()

    def restore(self, t, dt, steps, rejected, arrays) -> None:
        self.inner.restore(t, dt, steps, rejected, arrays)

    def advance(self, t_stop: float) -> None:
        """Advance the state in place to ``t_stop`` [day]."""
        model = self.model
        width = model.cohort_days
        scalars = self.state.scalars
        while t_stop - self.inner.t > 1e-12 * max(1.0, abs(t_stop)):
            t0 = self.inner.t
            cohort = math.floor(t0 / width)
            if (cohort + 1) * width - t0 <= 1e-9 * width:
                cohort += 1
            t_next = min((cohort + 1) * width, t_stop)
            cohort = min(cohort, model.n_cohorts - 1)
            before = scalars[self.sources]
            self.inner.advance(t_next)
            delta = scalars[self.sources] - before
            scalars[self.unsited] += float(delta[self.lost].sum())
            arrivals = model.shares @ delta
            sites_step(
                scalars,
                self.offsets,
                model.site_parameters,
                model.n_cohorts,
                cohort,
                t0,
                self.inner.t,
                arrivals,
            )
            scalars[self.clock] = self.inner.t
