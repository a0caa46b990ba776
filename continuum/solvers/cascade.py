"""Stepping of a :class:`~continuum.models.cascade.Cascade`: the primary and its circulation
by any method, the secondary sites after each stretch of it up to a cohort boundary."""

from __future__ import annotations

import math

import numpy as np

from continuum.compile_ahead import Job
from continuum.kernels import colonies
from continuum.kernels.colony_ode import any_ode, sites_step
from continuum.kernels.invasion import EPITHELIAL, MESENCHYMAL
from continuum.kernels.registry import FINGERPRINT, entry_point, entry_signature
from continuum.models.cascade import ARRIVAL_SOURCES
from continuum.solvers import loops
from continuum.solvers.base import make_solver
from continuum.solvers.cascade_loop import (
    CASCADE_CONSTANTS,
    CascadeSites,
    advance_lumped_cascade,
    settle_stretch,
)
from continuum.state import State


def _primary_method(method, model, options):
    """A lumped primary (no fields) always takes adaptive SSP-RK(4,3) steps at rtol <= 1e-8
    (cheap, and the only method that controls the error of scalars); the method and its
    options apply to fields: a spatial primary's and the spatial sites'."""
    if model.primary.field_names:
        return method, options
    lumped = {k: v for k, v in options.items() if k != "implicit"}
    return "explicit", {**lumped, "dt": None, "rtol": min(options["rtol"], 1e-8)}


class CascadeSolver:
    """Advances a cascade's state in place; the same interface as :class:`Solver`.

    The inner solver integrates the primary and the circulation on a view of the first
    scalars. Each stretch ends at ``t_stop`` or at the next cohort boundary (multiples of
    ``cohort_days``), so that the colonies founded in it belong to one cohort; the cells
    that left the circulation in the stretch (differences of the cumulative
    ``extravasated``, ``node_arrested`` and ``first_pass``, exact) are shared among the
    sites and the sites advanced over the stretch (``continuum.kernels.colonies``).

    The circulation of a lumped primary is advanced in closed form after each stretch
    (``kernels.circulation.advance_circulation``); with size-structured sites only, the
    whole stretch loop runs compiled (``cascade_loop``). A spatial site has a solver of
    its own (same method and options) on views of its tissue fields: the colonies founded
    in a stretch enter its ``epithelial`` field at the stretch's start, spread in
    proportion to its blood-vessel map (exactly their number of cells), and its fields
    are advanced over the stretch.
    """

    def __init__(self, method, model, state, **options):
        self.model = model
        self.state = state
        runner = model.runner
        inner_state = State(state.grid, state.field_names, state.data, runner.scalar_layout())
        # a view: the inner solver updates the cascade's scalars in place
        inner_state.scalars = state.scalars[: len(runner.scalar_names)]
        primary_method, primary_options = _primary_method(method, model, options)
        self.inner = make_solver(primary_method, runner, inner_state, **primary_options)
        self.name = self.inner.name
        self.order = self.inner.order
        layout = model.scalar_layout()
        self.sources = np.array([layout[name][0] for name in ARRIVAL_SOURCES])
        self.shed = np.array([layout["shed_blood"][0], layout["shed_lymph"][0]])
        p = model.primary.parameters
        # (k_clear, k_ext, k_LN, k_LB, therapy rate on circulating cells, k_nk)
        self.circulation_rates = np.array(
            [*(p[k] for k in ("k_clear", "k_ext", "k_LN", "k_LB")), 0.0, p["k_nk"]]
        )
        # the sites' parameter rows, whose therapy columns a treatment schedule sets
        self.site_parameters = model.site_parameters.copy()
        self.unsited = layout["unsited"][0]
        self.clock = layout["sites_time"][0]
        self.offsets = np.array(
            [model.site_offset(k) for k in range(len(model.sites))], dtype=np.int64
        )
        # the share of each source no site receives (organs without a site; node arrests
        # without a lymph-node site)
        self.unreceived = 1.0 - model.shares.sum(axis=0)
        state.scalars[self.clock] = self.inner.t
        self.tissues = [
            self._tissue_solver(k, method, options)
            for k, site in enumerate(model.sites)
            if site.grid is not None
        ]
        # step memory of the tissue solvers (dt, steps, rejected), kept for checkpoints
        self.tissue_memory = np.zeros((len(self.tissues), 3))
        self._remember_tissues()
        self._compiled = {}  # entry points with literal ``ode`` arguments
        self._compiling_started = False
        self.cascade_constants = None  # a lumped primary's: see cascade_loop
        if model.exact_circulation:
            p = model.primary.parameters
            clusters = model.circulation.clusters
            transit = model.circulation.transit_time
            cluster_nk = (1.0 - clusters["nk_shielding"]) * p["k_nk"]
            values = {
                **{name: layout[name][0] for name in CASCADE_CONSTANTS[:7]},
                "cluster_ctc": layout["cluster_ctc"][0],
                "cohort_days": model.cohort_days,
                **{name: p[name] for name in ("mu", "alpha", "lymph_fraction")},
                "first_pass_fraction": p["first_pass"],
                **{f"cluster_{k}": v for k, v in clusters.items()},
                # exp(-(k_clear + k_nk) tau), exp(-(clearance + (1 - s) k_nk) tau)
                "transit_survival": math.exp(-(p["k_clear"] + p["k_nk"]) * transit),
                "cluster_transit_survival": math.exp(
                    -(clusters["clearance"] + cluster_nk) * transit
                ),
            }
            self.cascade_constants = np.array([values[name] for name in CASCADE_CONSTANTS])
        # the whole stretch loop compiled: a lumped primary and size-structured sites
        self.compiled_loop = model.exact_circulation and not self.tissues

    def _tissue_solver(self, k, method, options):
        """``(site index, solver, seeding weights [fraction per cell])`` of a spatial site."""
        site = self.model.sites[k]
        fields, scalars = self.model.tissue(self.state.scalars, k)
        tissue = State(site.grid, site.model.field_names, fields, site.model.scalar_layout())
        tissue.scalars = scalars  # a view, as for the primary
        vessels = site.model.static_maps(site.grid)[0].reshape(site.grid.shape)
        total = vessels.sum()
        share = vessels / total if total > 0 else np.full(site.grid.shape, 1.0 / site.grid.size)
        per_cell = site.model.parameters["K_cell"] * site.grid.cell_volume
        return k, make_solver(method, site.model, tissue, **options), share / per_cell

    def _remember_tissues(self):
        for i, (_, solver, _) in enumerate(self.tissues):
            dt = np.nan if solver.dt is None else solver.dt
            self.tissue_memory[i] = (dt, solver.steps, solver.rejected)

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

    def start_compiling(self) -> None:
        """The primary solver's :meth:`~continuum.solvers.base.Solver.start_compiling`,
        its helper compiling the sites' step after the primary's shared kernels (this
        process reaches the sites once the primary's loop has compiled, and then loads
        their step from the cache). Once per solver: :meth:`advance` calls it at every
        frame."""
        if self._compiling_started:
            return
        self._compiling_started = True
        after = []
        if not self.model.exact_circulation:
            args = self._sites_step_args(0, 0.0, 0.0, np.zeros(len(self.sources)), 0.0)
            after.append(Job(sites_step, entry_signature(args, literal=(len(args) - 1,))))
        self.inner.start_compiling(after)

    def stop_compiling(self) -> None:
        """The primary solver's :meth:`~continuum.solvers.base.Solver.stop_compiling`."""
        self.inner.stop_compiling()

    def restart_estimate(self) -> None:
        self.inner.restart_estimate()
        for _, solver, _ in self.tissues:
            solver.restart_estimate()

    def set_therapy(self, rates) -> None:
        """The therapy vector (``continuum.interventions.THERAPY``): the primary's kernel,
        the circulation, the colonies and dormant cells of the sites (a spatial site's
        tissue cells take the colonies' rate), the sites' vascular capacities and
        effector cells."""
        self.inner.set_therapy(rates)
        self.circulation_rates[4] = rates[1]
        self.site_parameters[:, colonies.P_THERAPY] = rates[2]
        self.site_parameters[:, colonies.P_THERAPY_DORMANT] = rates[3]
        self.site_parameters[:, colonies.P_THERAPY_VASCULAR] = rates[5]
        self.site_parameters[:, colonies.P_THERAPY_KILL] = rates[6]
        self.site_parameters[:, colonies.P_THERAPY_EXHAUSTION] = rates[7]
        wake = self.model.site_parameters[:, colonies.P_WAKE]
        self.site_parameters[:, colonies.P_WAKE] = wake * rates[4]
        for _, solver, _ in self.tissues:
            solver.set_therapy((rates[2], 0.0))

    def history_arrays(self) -> dict[str, np.ndarray]:
        arrays = dict(self.inner.history_arrays())
        if self.tissues:
            arrays["tissue_memory"] = self.tissue_memory
        for i, (_, solver, _) in enumerate(self.tissues):
            arrays.update({f"tissue{i}_{k}": v for k, v in solver.history_arrays().items()})
        return arrays

    def restore(self, t, dt, steps, rejected, arrays) -> None:
        self.inner.restore(t, dt, steps, rejected, arrays)
        for i, (_, solver, _) in enumerate(self.tissues):
            prefix = f"tissue{i}_"
            own = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            tissue_dt, tissue_steps, tissue_rejected = arrays["tissue_memory"][i]
            solver.restore(t, tissue_dt, tissue_steps, tissue_rejected, own)
        self._remember_tissues()

    def advance(self, t_stop: float) -> None:
        """Advance the state in place to ``t_stop`` [day]."""
        if self.compiled_loop:
            self._advance_compiled(float(t_stop))
            return
        self.start_compiling()
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
            before = None if model.exact_circulation else scalars[self.sources]
            founded = scalars[self.offsets + colonies.FOUNDED]
            shed = scalars[self.shed]
            rates = self._shedding_rates() if model.exact_circulation else None
            primary = self._primary_cells()
            self.inner.advance(t_next)
            if model.exact_circulation:
                rates = np.concatenate([rates, self._shedding_rates()])[[0, 2, 1, 3]]
                self._call_literal(
                    settle_stretch,
                    self._sites(),
                    scalars[self.shed] - shed,
                    rates,
                    t0,
                    self.inner.t,
                    cohort,
                    primary,
                    any_ode(self.site_parameters),
                )
            else:  # the primary's solver advanced its circulation
                delta = scalars[self.sources] - before
                scalars[self.unsited] += float(delta @ self.unreceived)
                args = self._sites_step_args(cohort, t0, self.inner.t, delta, primary)
                self._call_literal(sites_step, *args)
            founded = scalars[self.offsets + colonies.FOUNDED] - founded
            for k, solver, weights in self.tissues:
                self._grow_tissue(k, solver, weights, founded[k], t_next)
            scalars[self.clock] = self.inner.t

    def _sites_step_args(self, cohort, t0, t1, delta, primary) -> tuple:
        """The arguments of ``sites_step`` for the stretch ``t0`` to ``t1`` [day] of
        ``cohort``, in which the sources sent ``delta`` cells [cells] (the primary has
        ``primary`` tumour cells); the last (``ode``) is a literal."""
        return (
            self.state.scalars,
            self.offsets,
            self.site_parameters,
            self.model.n_cohorts,
            cohort,
            t0,
            t1,
            self.model.shares @ delta,
            np.zeros(len(self.model.sites)),
            1.0,
            primary,
            any_ode(self.site_parameters),
        )

    def _call_literal(self, dispatcher, *args):
        """``dispatcher(*args)`` whose last argument (``ode``) is a literal, through its
        entry point resolved once (a Python call of a ``numba.literally`` function
        re-dispatches through an exception every time)."""
        key = (dispatcher, args[-1])
        if key not in self._compiled:
            self._compiled[key] = entry_point(dispatcher, args, literal=(len(args) - 1,))
        return self._compiled[key](*args)

    def _advance_compiled(self, t_stop):
        """The whole stretch loop in Numba (``cascade_loop``): a lumped primary and
        size-structured sites only."""
        inner = self.inner
        args = (
            inner.kind,
            FINGERPRINT,
            any_ode(self.site_parameters),
            inner.states(),
            inner.t,
            t_stop,
            inner._initial_dt(t_stop, 0.9 * inner.limit),
            inner.control(loops.SSPRK43, 0.0),
            inner.problem(inner.diffusivity),
            inner.work,
            self._sites(),
        )
        key = (advance_lumped_cascade, args[2])
        if key not in self._compiled:
            self._compiled[key] = entry_point(advance_lumped_cascade, args, literal=(0, 1, 2))
        inner.t, inner.dt, steps, rejected, status = self._compiled[key](*args)
        inner.steps += steps
        inner.rejected += rejected
        if status != loops.STATUS_OK:
            inner._raise(status)

    def _sites(self) -> CascadeSites:
        """The circulation and the sites, as the compiled stretch kernels take them."""
        return CascadeSites(
            scalars=self.state.scalars,
            cascade=self.cascade_constants,
            shares=self.model.shares,
            offsets=self.offsets,
            site_params=self.site_parameters,
            circulation=self.circulation_rates,
            n_cohorts=int(self.model.n_cohorts),
        )

    def _primary_cells(self) -> float:
        """The primary's tumour cells now, where a site's vascular capacities see them
        (systemic inhibition; 0 otherwise)."""
        if not np.any(self.site_parameters[:, colonies.P_SYSTEMIC] > 0.0):
            return 0.0
        if "tumor_cells" in self.state.scalar_layout:
            return float(self.state.scalar("tumor_cells"))
        return float(self.model.primary.derived_series(self.state)["tumor_cells"])

    def _shedding_rates(self) -> np.ndarray:
        """A lumped primary's present shedding into blood and lymph [cells/day]."""
        flux = self.model.primary.derived_series(self.state)
        return np.array([flux["flux_blood"], flux["flux_lymph"]])

    def _grow_tissue(self, k, solver, weights, founders, t_next):
        """Seed a spatial site's fields with ``founders`` cells, advance them to ``t_next``
        and book its cells: ``burden``, and its births and deaths as the colonies'."""
        fields, compartments = self.model.tissue(self.state.scalars, k)
        fields[EPITHELIAL] += founders * weights
        solver.advance(t_next)
        site = self.model.sites[k]
        per_cell = site.model.parameters["K_cell"] * site.grid.cell_volume
        block = self.state.scalars[self.offsets[k] :]
        block[colonies.BURDEN] = per_cell * float(
            np.sum(fields[EPITHELIAL]) + np.sum(fields[MESENCHYMAL])
        )
        layout = site.model.scalar_layout()
        block[colonies.COLONY_BORN] = compartments[layout["born"][0]]
        block[colonies.COLONY_DIED] = compartments[layout["died"][0]]
        block[colonies.REMOVED] = compartments[layout["removed"][0]]
        if site.intravasation:  # shed over the next stretch at the present flux
            tissue = State(site.grid, site.model.field_names, fields, layout)
            flux = site.tissue_model.derived_series(tissue)
            block[colonies.SHEDDING] = flux["flux_blood"] + flux["flux_lymph"]
        self._remember_tissues()
