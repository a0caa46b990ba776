"""Time-stepping methods: Python bookkeeping around the compiled loops in ``loops.py``.

Rules for adding a method:

1. Write its compiled loop in ``loops.py``: it advances from ``t`` to ``t_stop`` without
   returning to Python and returns ``(t, dt_next, steps, rejected, status)``.
2. Subclass :class:`Solver`, set ``name`` and ``order``, and implement only
   ``_loop(t_stop)`` (the loop and its arguments); :meth:`Solver.advance` does the
   checks and bookkeeping, and ``shared_kernels`` may name what a helper process can
   compile alongside (``continuum.compile_ahead``).
3. Check a requested fixed ``dt`` against the method's stability limit in ``__init__``,
   so that a bad step is refused before any work.
4. Verify the claimed order in ``tests/solvers``.
"""

from __future__ import annotations

import numba
import numpy as np

from continuum import compile_ahead
from continuum.kernels import pair, registry
from continuum.kernels.implicit import backward_euler_work, line_scratch
from continuum.kernels.problem import Problem, StageWork
from continuum.kernels.registry import FINGERPRINT, entry_point, entry_signature
from continuum.kernels.stage import N_STATS, row_buffer
from continuum.solvers import loops
from continuum.validation import check_integer, check_positive, check_real

MIN_ROWS_FOR_THREADS = 4


class SimulationError(RuntimeError):
    """The run cannot continue (non-finite values, step-size underflow, ...)."""


def diffusion_rate(diffusivity, law, maps, grid, implicit=None) -> float:
    """``2 sum_a D_max / h_a^2`` [1/day] of the fields diffused explicitly (all but the
    ``implicit`` ones): forward Euler stays positive for steps up to its inverse,
    SSP-RK(4,3) up to twice that, SSP-RK(9,3) up to six times. ``diffusivity``
    (n_fields,) [mm^2/day], ``law`` the rows ``(map, field, a, b)`` of
    ``Transport.law()``, ``maps`` the static maps; fields in a law are assumed in [0, 1]."""
    d = np.array(diffusivity, dtype=np.float64)
    for f, (m, g, a, b) in enumerate(law):
        if m >= 0:
            d[f] *= float(np.max(maps[int(m)]))
        if g >= 0:
            d[f] *= max(abs(a), abs(a + b))
    if implicit is not None:
        d[implicit] = 0.0
    inv_h2 = (1.0 / np.array(grid.spacing)) ** 2
    return float(2.0 * d.max(initial=0.0) * inv_h2.sum())


class Solver:
    """Holds the work arrays of one run and advances its state in place."""

    name = ""
    order = 0

    def __init__(self, model, state, dt=None, rtol=1e-4, atol=1e-8, max_steps=10**9, t=0.0):
        self.model = model
        self.state = state
        grid = state.grid
        self.rtol = check_positive("rtol", rtol)
        self.atol = check_positive("atol", atol)
        self.max_steps = check_integer("max_steps", max_steps, minimum=1)
        self.t = check_real("t", t, "day")
        self.steps = 0
        self.rejected = 0
        n_fields = len(state.field_names)
        shape3 = grid.shape3
        self.u = state.data.reshape((n_fields, *shape3))
        self.s = state.scalars
        self.ua = np.empty_like(self.u)
        self.sa = np.empty_like(self.s)
        self.maps = np.ascontiguousarray(model.solver_maps(grid))
        if self.maps.shape[0] == 0:
            self.maps = np.zeros((1, *shape3))
        self.params = model.param_vector()
        transport = model.transport()
        self.diffusivity = np.ascontiguousarray(transport.diffusivity, dtype=np.float64)
        self.diffusivity_law = np.ascontiguousarray(transport.law())
        self.taxis = np.ascontiguousarray(transport.taxis, dtype=np.float64).reshape(-1, 3)
        self.bc_kind, self.bc_val = model.boundary_arrays(grid)
        self.inv_h = 1.0 / grid.spacing3
        self.mask = grid.mask3()
        self.cell_volume = grid.cell_volume
        n_rows = shape3[0] * shape3[1]
        n_exports = max(len(model.export_names), 1)
        self.totals = np.zeros(n_exports)
        self.ds = np.zeros_like(self.s)
        self.work = StageWork(
            row_buffer=row_buffer(n_fields, shape3[2]),
            exports=np.zeros((n_rows, n_exports)),
            row_stats=np.zeros((n_rows, N_STATS)),
            totals=self.totals,
            ds=self.ds,
            cell_volume=float(self.cell_volume),
            window=np.zeros((numba.config.NUMBA_NUM_THREADS, 0)),
        )
        self.general = self.mask.size > 0 or any(
            d != 0.0 and not (law[0] < 0 and law[1] < 0)
            for d, law in zip(self.diffusivity, self.diffusivity_law, strict=True)
        )  # variable-coefficient or masked diffusion somewhere: the stage compiles it
        self.kind = registry.variant(
            model.kernel_name,
            taxis=self.taxis.shape[0] > 0,
            general=self.general,
            diffusion=bool(np.any(self.diffusivity != 0.0)),
            masked=self.mask.size > 0,
        )
        self.diffusion_rate = self._diffusion_rate(grid)
        self._entry = None
        self._helper = None
        self._compiling_started = False
        self.fixed_dt = dt is not None
        self.dt = check_positive("dt", dt, "day") if dt is not None else None

    def _diffusion_rate(self, grid, implicit=None):
        """``2 sum_a D_max / h_a^2`` [1/day]: the explicit positivity limit is its inverse."""
        return diffusion_rate(self.diffusivity, self.diffusivity_law, self.maps, grid, implicit)

    def history_arrays(self) -> dict[str, np.ndarray]:
        """Solver memory beyond the state that a bit-exact restart needs."""
        return {}

    def restart_estimate(self) -> None:
        """Forget the step control's memory of past rates, after the state jumped (a
        treatment event)."""

    def set_therapy(self, rates) -> None:
        """Set the therapy rates ``(tissue, circulating, ..., vascular, ...)`` [1/day] in
        the kernel's parameter vector (``model.therapy_slots``: the tissue and circulating
        rates, and the rate on a vascular capacity if a third slot is given) for the steps
        that follow."""
        slots = self.model.therapy_slots
        if slots is not None:
            # tissue, circulating and (a third slot) vascular entries of the therapy vector
            # (``continuum.interventions.THERAPY``)
            for slot, entry in zip(slots, (0, 1, 5), strict=False):
                self.params[slot] = rates[entry]

    def restore(self, t, dt, steps, rejected, arrays) -> None:
        """Continue from a checkpoint (see ``continuum.io``)."""
        self.t = float(t)
        self.dt = None if np.isnan(dt) else float(dt)
        self.steps = int(steps)
        self.rejected = int(rejected)
        for key, array in self.history_arrays().items():
            array[...] = arrays[key]

    def advance(self, t_stop: float) -> None:
        """Advance the state in place to ``t_stop`` [day]."""
        threads = numba.get_num_threads()
        if self.u.shape[0] and self.u.shape[1] * self.u.shape[2] < MIN_ROWS_FOR_THREADS:
            # One grid row (1D) gives threads nothing to share; waking them every stage
            # only costs time, and a lot of it when the cores are busy.
            numba.set_num_threads(1)
        try:
            result = self._advance_impl(float(t_stop))
        finally:
            numba.set_num_threads(threads)
        self.t, self.dt, steps, rejected, status = result
        self.steps += steps
        self.rejected += rejected
        if status != loops.STATUS_OK:
            self._raise(status)

    def problem(self, diffusivity) -> Problem:
        """The static arrays of the problem, as the stage kernel takes them."""
        return Problem(
            maps=self.maps,
            params=self.params,
            diffusivity=diffusivity,
            diffusivity_law=self.diffusivity_law,
            bc_kind=self.bc_kind,
            bc_val=self.bc_val,
            inv_h=self.inv_h,
            inv_h2=self.inv_h * self.inv_h,
            taxis=self.taxis,
            mask=self.mask,
        )

    def states(self) -> loops.States:
        """The state and the stage buffers, as the loops take them."""
        none_u, none_s = self.ua[:0], self.sa[:0]
        ub, sb = getattr(self, "ub", none_u), getattr(self, "sb", none_s)
        uc, sc = getattr(self, "uc", none_u), getattr(self, "sc", none_s)
        return loops.States(self.u, self.s, self.ua, self.sa, ub, sb, uc, sc)

    def control(self, method, explicit_rate, dt_min=None, max_steps=None) -> loops.Control:
        """The step control of the loops: this solver's tolerances and limits."""
        return loops.Control(
            method=method,
            adaptive=not self.fixed_dt,
            dt_min=self._dt_min() if dt_min is None else dt_min,
            max_steps=self.max_steps if max_steps is None else max_steps,
            explicit_rate=float(explicit_rate),
            rtol=float(self.rtol),
            atol=float(self.atol),
        )

    def _advance_impl(self, t_stop):
        return self._call(*self._loop(t_stop))

    def _loop(self, t_stop) -> tuple:
        """The compiled loop that advances to ``t_stop`` [day], and its arguments."""
        raise NotImplementedError

    def start_compiling(self, after: list[compile_ahead.Job] = ()) -> None:
        """Start a helper process compiling :meth:`shared_kernels` of the loop, then the
        jobs ``after`` (what a caller compiles once the loop has run), if that loop is
        not compiled yet (``continuum.compile_ahead``), and compile :meth:`own_kernels`
        here meanwhile: ``simulate`` calls this before the first frame, the first advance
        otherwise; the loop's compilation, or :meth:`stop_compiling`, ends the helper.
        Once per solver, and the loop's arguments are typed only where a helper has jobs
        (typing them costs about 0.7 ms, a fifth of a short run's call)."""
        if self._entry is not None or self._compiling_started:
            return
        self._compiling_started = True
        dispatcher, args = self._loop(self.t + 1.0)
        jobs = [*self.shared_kernels(args), *after]
        if not jobs:
            return
        loop = compile_ahead.Job(dispatcher, entry_signature(args))
        self._helper = compile_ahead.start(loop, jobs)
        if self._helper is not None:
            for job in self.own_kernels(args):
                job.dispatcher.compile(job.signature)

    def stop_compiling(self) -> None:
        """Stop the helper of :meth:`start_compiling` if it is still at work."""
        compile_ahead.finish(self._helper)
        self._helper = None

    def _call(self, dispatcher, args):
        """Call a compiled loop, resolving its literal specialisation on first use (while
        a helper process compiles :meth:`shared_kernels`)."""
        if self._entry is None:
            self.start_compiling()
            try:
                self._entry = entry_point(dispatcher, args)
            finally:
                self.stop_compiling()
        return self._entry(*args)

    def shared_kernels(self, args) -> list[compile_ahead.Job]:
        """The kernels the loop called with ``args`` compiles alike for every model
        (``continuum.compile_ahead``); none by default."""
        return []

    def own_kernels(self, args) -> list[compile_ahead.Job]:
        """The kernels this process compiles at once while a helper compiles
        :meth:`shared_kernels`, where the loop would otherwise reach them only after
        waiting for the helper; none by default."""
        return []

    def _raise(self, status):
        where = f"at t = {self.t:.6g} day, step {self.steps + 1}"
        if status == loops.STATUS_NONFINITE:
            bad = [
                name
                for name, values in zip(self.state.field_names, self.state.data, strict=True)
                if not np.all(np.isfinite(values))
            ]
            bad += [n for n in self.state.scalar_names if not np.all(np.isfinite(self.state[n]))]
            raise SimulationError(
                f"non-finite values in {', '.join(bad) or 'the state'} {where} "
                f"({self.name}, dt = {self.dt:.3g} day); reduce dt or check the parameters"
            )
        if status == loops.STATUS_UNSTABLE:
            raise SimulationError(
                f"dt = {self.dt:.3g} day exceeds the positivity limit of taxis {where} "
                f"({self.name}); use a smaller dt or dt=None for adaptive steps"
            )
        if status == loops.STATUS_MAX_STEPS:
            raise SimulationError(f"max_steps = {self.max_steps} reached {where}")
        if status == loops.STATUS_SOLVER:
            raise SimulationError(
                f"the backward-Euler solve of {', '.join(self.model.stiff_fields)} did not "
                f"converge in {loops.MAX_SOLVER_ITERATIONS} iterations {where} ({self.name}); "
                "check the parameters or loosen rtol/atol"
            )
        raise SimulationError(f"step size fell below {self._dt_min():.3g} day {where}")

    def _dt_min(self):
        return 1e-14 * max(1.0, abs(self.t))

    def _initial_dt(self, t_stop, limit):
        if self.dt is not None:
            return self.dt
        return min(limit, max(t_stop - self.t, 1e-300) / 100.0)


class ExplicitSolver(Solver):
    """Forward Euler (``"euler"``, fixed dt) or third order (``"explicit"``): adaptive
    steps switch between SSP-RK(4,3) and SSP-RK(9,3) (``continuum.solvers.loops``), a
    fixed dt takes SSP-RK(4,3).

    Each keeps densities non-negative when ``dt`` respects the diffusion and taxis limit
    ``dt (2 sum_a D/h_a^2 + taxis_rate) <= c``, with ``c`` = 1 for Euler, 2 for
    SSP-RK(4,3) and 6 for SSP-RK(9,3) (``loops.SSP_COEFFICIENT``); a fixed ``dt`` beyond
    the diffusion limit is refused up front.

    ``paired`` is true when Euler steps go two per pass over memory
    (``loops.advance_euler_pairs``, for a problem ``pair.pairable`` accepts; same bits);
    set it false before the first ``advance`` to take them one at a time
    (``benchmarks/euler_pairs.py`` compares the two).
    """

    def __init__(self, model, state, method="explicit", **kwargs):
        super().__init__(model, state, **kwargs)
        self.method = loops.EULER if method == "euler" else loops.SSPRK43
        self.name = method
        self.order = 1 if method == "euler" else 3
        if method == "euler" and self.dt is None:
            raise ValueError("dt: got None; method='euler' needs a fixed dt > 0 [day]")
        coefficient = loops.SSP_COEFFICIENT[self.method]
        self.limit = coefficient / self.diffusion_rate if self.diffusion_rate > 0 else np.inf
        if self.fixed_dt and self.dt > self.limit * (1 + 1e-12):
            raise ValueError(
                f"dt: got {self.dt:g} day; the stability (positivity) limit of method "
                f"{method!r} on this grid is {self.limit:.6g} day "
                f"({coefficient:g} / (2 sum D/h^2))"
            )
        self.ub = np.empty_like(self.u)
        self.sb = np.empty_like(self.s)
        self.paired = self.method == loops.EULER and pair.pairable(
            model.kernel_name, state.grid.shape3, self.taxis, self.general, self.bc_kind
        )
        if self.paired:
            n_fields, _, n1, n2 = self.u.shape
            window = pair.window_buffer(n_fields, n1, n2)
            self.paired = pair.window_fits(window, self.u)
            if self.paired:
                self.work = self.work._replace(window=window)
        if self.method != loops.EULER:  # SSP-RK(9,3)'s fourth buffer
            self.uc = np.empty_like(self.u)
            self.sc = np.empty_like(self.s)

    def _loop(self, t_stop):
        dt = self._initial_dt(t_stop, 0.9 * self.limit)
        args = (
            self.kind,
            FINGERPRINT,
            self.states(),
            self.t,
            t_stop,
            dt,
            self.control(self.method, self.diffusion_rate),
            self.problem(self.diffusivity),
            self.work,
        )
        loop = loops.advance_euler_pairs if self.paired else loops.advance_explicit
        return loop, args


class IMEXSolver(Solver):
    """IMEX Euler: reactions and taxis explicit, diffusion implicit by LOD line solves.

    First order in time; unconditionally stable for diffusion, so stiff fields (oxygen,
    enzymes) do not limit the step. ``implicit`` names the fields to diffuse implicitly
    (default: every diffusing field).
    """

    name = "imex"
    order = 1

    def __init__(self, model, state, implicit=None, **kwargs):
        super().__init__(model, state, **kwargs)
        names = state.field_names
        if implicit is None:
            implicit = [n for n, d in zip(names, self.diffusivity, strict=True) if d > 0]
        unknown = set(implicit) - set(names)
        if unknown:
            raise ValueError(f"implicit: unknown field(s) {sorted(unknown)}; fields are {names}")
        chosen = np.array([n in implicit for n in names], dtype=bool)
        self.implicit_diffusivity = np.where(chosen, self.diffusivity, 0.0)
        self.explicit_diffusivity = np.where(chosen, 0.0, self.diffusivity)
        self.explicit_rate = self._diffusion_rate(state.grid, implicit=chosen)
        self.line_scratch = line_scratch(state.grid.shape3)
        self.stiff = np.array([n in model.stiff_fields for n in names])
        self.explicit_diffusion = bool(np.any(self.explicit_diffusivity != 0.0))
        self.kind = registry.variant(
            model.kernel_name,
            self.taxis.shape[0] > 0,
            self.stiff.any(),
            self.general,
            diffusion=self.explicit_diffusion,
            masked=self.mask.size > 0,
        )
        self.stiff_work = backward_euler_work(
            state.grid.shape3, state.grid.spacing3, bool(self.stiff.any())
        )
        self.stiff_stats = np.zeros((self.work.row_stats.shape[0], 2))
        self.line_taxis = None  # taxis in the line solves: imex2's
        rate_shape = (1, 1, 1, 1) if self.fixed_dt or self.order != 1 else self.u.shape
        self.rates = np.zeros((2, *rate_shape))
        self.history = np.zeros(2)
        if self.fixed_dt and self.explicit_rate > 0 and self.dt * self.explicit_rate > 1 + 1e-12:
            raise ValueError(
                f"dt: got {self.dt:g} day; the fields diffused explicitly limit it to "
                f"{1 / self.explicit_rate:.6g} day"
            )

    def history_arrays(self):
        return {"rates": self.rates, "history": self.history}

    def restart_estimate(self):
        self.history[0] = 0.0  # the divided difference would span the jump

    def implicit(self) -> loops.Implicit:
        """The implicit fields, their work arrays and the step control's memory."""
        return loops.Implicit(
            diffusivity=self.implicit_diffusivity,
            stiff=self.stiff,
            line_scratch=self.line_scratch,
            stiff_work=self.stiff_work,
            stiff_stats=self.stiff_stats,
            rates=self.rates,
            history=self.history,
            taxis=self.line_taxis,
        )

    def _loop_args(self, t_stop) -> tuple:
        """The arguments of the IMEX loops up to ``t_stop`` [day]."""
        limit = 0.9 / self.explicit_rate if self.explicit_rate > 0 else np.inf
        return (
            self.kind,
            FINGERPRINT,
            self.states(),
            self.t,
            t_stop,
            self._initial_dt(t_stop, limit),
            self.control(loops.SSPRK43, self.explicit_rate),
            self.problem(self.explicit_diffusivity),
            self.work,
            self.implicit(),
        )

    def _loop(self, t_stop):
        return loops.advance_imex, self._loop_args(t_stop)

    def shared_kernels(self, args):
        return loops.imex_shared_kernels(args)

    def own_kernels(self, args):
        return loops.first_order_error_kernels(args)


class IMEX2Solver(IMEXSolver):
    """IMEX Richardson (``"imex2"``): ``u^{n+1} = 2 E_{h/2}(E_{h/2}(u^n)) - E_h(u^n)``
    with ``E_h`` an IMEX Euler step of ``h`` days whose line solves also carry the taxis
    (``loops.advance_imex2``); second order, never negative where the half steps are not.

    Taxis is implicit (upwind, limiter ratios and attractant frozen at each sweep's
    start), so neither diffusion nor taxis limits the step; the error estimate
    ``|E_{h/2}(E_{h/2}(u)) - E_h(u)|`` (fields and scalars) drives adaptive steps. A
    field that a model declares stiff cannot take taxis here.
    """

    name = "imex2"
    order = 2

    def __init__(self, model, state, implicit=None, **kwargs):
        super().__init__(model, state, implicit=implicit, **kwargs)
        names = state.field_names
        stiff_taxis = [names[int(f)] for f in self.taxis[:, 0] if self.stiff[int(f)]]
        if stiff_taxis:
            raise ValueError(
                f"method: 'imex2' solves taxis in the line solves of non-stiff fields; "
                f"{', '.join(stiff_taxis)} is stiff in {type(model).__name__}: use 'imex'"
            )
        self.line_taxis = self.taxis if self.taxis.shape[0] > 0 else None
        self.taxis = self.taxis[:0].copy()
        self.kind = registry.variant(
            model.kernel_name,
            False,
            bool(self.stiff.any()),
            self.general,
            diffusion=self.explicit_diffusion,
            masked=self.mask.size > 0,
        )
        self.ub = np.empty_like(self.u)
        self.sb = np.empty_like(self.s)
        self.uc = np.empty_like(self.u)
        self.sc = np.empty_like(self.s)

    def history_arrays(self):
        return {}

    def restart_estimate(self):
        """The estimate has no memory of past steps."""

    def _loop(self, t_stop):
        half = loops.States(self.ub, self.sb, self.uc, self.sc, self.ub, self.sb, self.uc, self.sc)
        return loops.advance_imex2, (*self._loop_args(t_stop), half)

    def own_kernels(self, args):
        return []  # Richardson's error estimate, no first-order one


METHODS = ("euler", "explicit", "imex", "imex2")


def make_solver(method, model, state, **kwargs) -> Solver:
    """Return the solver for ``method`` (one of ``METHODS``)."""
    if method in ("imex", "imex2"):
        if not model.field_names:
            raise ValueError(
                f"method: got {method!r} for {type(model).__name__}, which has no tissue "
                "fields (its step control watches fields only); use 'explicit'"
            )
        return (IMEXSolver if method == "imex" else IMEX2Solver)(model, state, **kwargs)
    return ExplicitSolver(model, state, method=method, **kwargs)
