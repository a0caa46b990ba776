"""Tumour invasion benchmarks: Anderson–Chaplain vs py-pde at equal accuracy, and the
throughput of the Stage-1 invasion model in 2D and 3D.

Run from the repository root::

    python benchmarks/invasion.py > invasion.json            # 1D, n = 200 cells
    python benchmarks/invasion.py --ndim 2 --n 100 > 2d.json  # 2D, n x n cells
    python benchmarks/invasion.py --throughput > model.json   # ct.models.Invasion
    python benchmarks/invasion.py --throughput --n 256 --warm-days 2 --days 0.5

**Throughput** (``--throughput``): ``ct.models.Invasion`` with its default parameters and
initial tumour on 256² and 512² cells of 20 µm and 96³ cells of 40 µm (``--n 256``: only
the first; ``--n 192``: the same cube on 192³ cells of 20 µm, run only when asked for),
with each of ``--methods`` (default ``imex imex2``; oxygen and enzyme by backward Euler
with multigrid). The tumour first grows for ``--warm-days`` with ``imex``
(untimed: the oxygen transient of the start is not representative), then the timed runs
cover ``--days`` more with adaptive steps (default rtol, atol), the methods alternating
under the same load, and ``--fixed-steps`` IMEX Euler steps of ``dt = 0.05`` day.
Reported: steps per second, simulated days per wall second, and each method's accuracy:
per field, the max difference to a reference (``imex2`` at ``--reference-rtol``, atol
1e-10, from the same state) over the field's max.

For Anderson–Chaplain, ``speedup_by_method`` compares each method's cheapest setting
within the target error with py-pde's cheapest compiled stepper (target: 3x).

The system (nondimensional, unit interval or square, no-flux boundaries)::

    n_t = d_n lap(n) - gamma div(n grad f)
    f_t = -eta m f
    m_t = d_m lap(m) + alpha n - beta m

with d_n = 0.001, gamma = 0.005, eta = 10, d_m = 0.001, alpha = 0.1, beta = 0 and
n0 = exp(-r^2 / 0.01) (r from x = 0 in 1D, from the centre in 2D), f0 = 1 - 0.5 n0,
m0 = 0.5 n0.

What is compared is time-integration accuracy on a common spatial grid: each library is
measured against ITS OWN time-converged reference on the same grid, because the
discretisations of the taxis term differ (continuum: upwind fluxes with a minmod limiter;
py-pde: central differences of ``n grad f`` with its own operators). The difference
between the two converged references (the spatial-discretisation difference) is reported
separately. The error of a run is the maximum absolute difference at t = 10 over all
cells of all three fields.

One JSON document goes to standard output; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import warnings
from time import perf_counter

import numpy as np

import continuum as ct

T_END = 10.0
TARGET_ERROR = 1e-3
PARAMS = {"d_n": 0.001, "gamma": 0.005, "eta": 10.0, "d_m": 0.001, "alpha": 0.1, "beta": 0.0}
FIELDS = ("n", "f", "m")

CONTINUUM_REFERENCE = {"method": "explicit", "rtol": 1e-9, "atol": 1e-12}
CONTINUUM_CHECK = {"method": "explicit", "rtol": 1e-10, "atol": 1e-12}
CONTINUUM_SETTINGS = (
    [{"method": "explicit", "rtol": r} for r in (1e-2, 1e-3, 1e-4)]
    + [{"method": "imex", "rtol": r} for r in (1e-3, 1e-4, 1e-5)]
    + [{"method": "imex", "dt": dt} for dt in (0.01, 0.005, 0.002)]
    + [{"method": "imex2", "rtol": r} for r in (1e-2, 1e-3, 1e-4)]
    + [{"method": "imex2", "dt": dt} for dt in (0.5, 0.25, 0.1)]
)
METHODS = ("explicit", "imex", "imex2")
TARGET_SPEEDUP = 3.0  # issue 18: continuum's whole simulate vs py-pde's compiled stepper

PYPDE_REFERENCE = {"solver": "runge-kutta", "adaptive": True, "tolerance": 1e-10}
PYPDE_CHECK = {"solver": "runge-kutta", "adaptive": True, "tolerance": 1e-11}
PYPDE_SETTINGS = (
    [{"solver": "euler", "adaptive": True, "tolerance": t} for t in (1e-2, 1e-3, 1e-4)]
    + [{"solver": "runge-kutta", "adaptive": True, "tolerance": t} for t in (1e-2, 1e-3, 1e-4)]
    + [{"solver": "euler", "adaptive": False, "dt": dt} for dt in (0.01, 0.005, 0.0025)]
)


def log(message: str) -> None:
    """Write a progress line to standard error."""
    print(message, file=sys.stderr, flush=True)


def max_error(a: np.ndarray, b: np.ndarray) -> float:
    """Maximum absolute difference over all cells of all fields (arrays of shape (3, ...))."""
    return float(np.max(np.abs(a - b)))


def label(setting: dict) -> str:
    """Short human-readable name of a solver setting."""
    return " ".join(f"{k}={v}" for k, v in setting.items())


# -- continuum ---------------------------------------------------------------------------
def continuum_problem(n: int, ndim: int):
    """The model and its documented initial state on an ``n`` (or ``n x n``) grid."""
    shape = n if ndim == 1 else (n,) * ndim
    grid = ct.Grid(shape, 1.0 / n)
    model = ct.models.AndersonChaplain(**PARAMS)
    return model, model.initial_state(grid)


def continuum_run(model, state, setting: dict) -> tuple[float, np.ndarray, int]:
    """Wall time of one whole ``ct.simulate`` call, the final fields and the step count."""
    t0 = perf_counter()
    res = ct.simulate(model, state, T_END, save_every=T_END, progress=False, **setting)
    wall = perf_counter() - t0
    final = np.stack([res.field(name)[-1] for name in FIELDS])
    return wall, final, int(res.solver_stats["steps"])


def continuum_initial(state) -> np.ndarray:
    """The initial fields of ``state`` stacked as (3, ...)."""
    return np.stack([np.array(state.field(name)) for name in FIELDS])


def continuum_overhead(n: int, ndim: int, repeats: int) -> float:
    """Median wall time of a one-step ``ct.simulate`` call (its fixed cost)."""
    model, state = continuum_problem(n, ndim)
    walls = []
    for _ in range(repeats + 1):
        t0 = perf_counter()
        ct.simulate(model, state, 1e-3, save_every=1e-3, method="explicit", dt=1e-3, progress=False)
        walls.append(perf_counter() - t0)
    return statistics.median(walls[1:])


def continuum_measure(model, state, setting: dict, reference, repeats: int) -> dict:
    """Median wall time over ``repeats`` runs, error against ``reference`` and steps."""
    walls = []
    for _ in range(repeats):
        wall, final, steps = continuum_run(model, state, setting)
        walls.append(wall)
    err = max_error(final, reference)
    log(f"  continuum {label(setting)}: {statistics.median(walls):.4f} s, err {err:.2e}")
    return {
        "setting": setting,
        "wall_s_median": statistics.median(walls),
        "wall_s_all": walls,
        "max_error": err,
        "steps": steps,
        "within_target": err <= TARGET_ERROR,
    }


def bench_continuum(n: int, ndim: int, repeats: int) -> dict:
    """Reference, its convergence check and all continuum settings."""
    model, state = continuum_problem(n, ndim)
    for method in METHODS:
        t0 = perf_counter()
        ct.simulate(model, state, 0.1, save_every=0.1, method=method, progress=False)
        log(f"continuum warm-up {method}: {perf_counter() - t0:.1f} s")
    ref_wall, reference, ref_steps = continuum_run(model, state, CONTINUUM_REFERENCE)
    _, check, check_steps = continuum_run(model, state, CONTINUUM_CHECK)
    log(f"continuum reference: {ref_steps} steps, {ref_wall:.2f} s")
    runs = [continuum_measure(model, state, s, reference, repeats) for s in CONTINUUM_SETTINGS]
    return {
        "reference": {
            "setting": CONTINUUM_REFERENCE,
            "steps": ref_steps,
            "wall_s": ref_wall,
            "check_setting": CONTINUUM_CHECK,
            "check_steps": check_steps,
            "max_difference_to_check": max_error(reference, check),
        },
        "runs": runs,
        "cheapest_within_target": cheapest(runs),
        "cheapest_within_target_by_method": {
            m: cheapest([r for r in runs if r["setting"]["method"] == m]) for m in METHODS
        },
        "_reference_fields": reference,
    }


# -- py-pde ------------------------------------------------------------------------------
def pypde_equation(pde, ndim: int):
    """A py-pde ``PDEBase`` for the system with a compiled right-hand side.

    ``make_evolution_rate`` (py-pde 0.59's name for ``_make_pde_rhs_numba``, which now
    forwards to it) builds the right-hand side from py-pde's own compiled operators on the
    grid: Laplacian and gradient with Neumann (zero-derivative) ghost cells, and the
    divergence of the taxis flux ``n grad f`` with a zero-value condition on the flux.
    With central differences that makes the boundary-face flux exactly zero, so the
    scheme is conservative (total ``n`` is constant), as continuum's.
    """
    from numba import njit

    p = dict(PARAMS)
    neumann = {"derivative": 0}
    no_flux = {"value": 0}

    class AndersonChaplain(pde.PDEBase):
        def evolution_rate(self, state, t=0.0):
            n, f, m = state
            rate = state.copy()
            taxis = (n * f.gradient(bc=neumann)).divergence(bc=no_flux)
            rate[0] = p["d_n"] * n.laplace(bc=neumann) - p["gamma"] * taxis
            rate[1] = -p["eta"] * m * f
            rate[2] = p["d_m"] * m.laplace(bc=neumann) + p["alpha"] * n - p["beta"] * m
            return rate

        def make_evolution_rate(self, state, backend):
            grid = state.grid
            laplace = grid.make_operator("laplace", bc=neumann, backend=backend)
            gradient = grid.make_operator("gradient", bc=neumann, backend=backend)
            divergence = grid.make_operator("divergence", bc=no_flux, backend=backend)
            d_n, gamma, eta = p["d_n"], p["gamma"], p["eta"]
            d_m, alpha, beta = p["d_m"], p["alpha"], p["beta"]

            @njit
            def rhs(data, t=0.0):
                n, f, m = data[0], data[1], data[2]
                flux = gradient(f)
                for i in range(ndim):
                    flux[i] = n * flux[i]
                rate = np.empty_like(data)
                rate[0] = d_n * laplace(n) - gamma * divergence(flux)
                rate[1] = -eta * m * f
                rate[2] = d_m * laplace(m) + alpha * n - beta * m
                return rate

            return rhs

    return AndersonChaplain()


def pypde_state(pde, n: int, ndim: int, initial: np.ndarray):
    """A ``FieldCollection`` of the three fields on ``CartesianGrid`` (unit interval/square)."""
    grid = pde.CartesianGrid([[0.0, 1.0]] * ndim, [n] * ndim)
    fields = [pde.ScalarField(grid, initial[i].copy(), label=name) for i, name in enumerate(FIELDS)]
    return pde.FieldCollection(fields)


def pypde_solver_kwargs(setting: dict) -> dict:
    """Keyword arguments of ``eq.solve`` for ``setting``."""
    kwargs = {"solver": setting["solver"], "adaptive": setting["adaptive"]}
    if setting["adaptive"]:
        kwargs["tolerance"] = setting["tolerance"]
        kwargs["dt"] = 1e-4  # first trial step; the controller adapts it
    else:
        kwargs["dt"] = setting["dt"]
    return kwargs


def pypde_solve(eq, state, setting: dict) -> tuple[float, np.ndarray, int]:
    """Wall time of one ``eq.solve`` to ``T_END`` (compiles its stepper), fields, steps."""
    t0 = perf_counter()
    result, info = eq.solve(
        state.copy(), t_range=T_END, tracker=None, ret_info=True, **pypde_solver_kwargs(setting)
    )
    wall = perf_counter() - t0
    return wall, result.data.copy(), int(info["solver"]["steps"])


def pypde_stepping_times(eq, state, setting: dict, repeats: int) -> list[float]:
    """Wall times of the compiled stepper alone: ``repeats`` calls after a compiling one."""
    from pde.solvers.base import SolverBase

    kwargs = pypde_solver_kwargs(setting)
    dt = kwargs.pop("dt")
    solver = SolverBase.from_name(kwargs.pop("solver"), pde=eq, **kwargs)
    field = state.copy()
    stepper = solver.make_stepper(field, dt=dt)
    stepper(field, 0.0, T_END)  # compiles
    walls = []
    for _ in range(repeats):
        field = state.copy()
        solver.info["dt"] = dt
        t0 = perf_counter()
        stepper(field, 0.0, T_END)
        walls.append(perf_counter() - t0)
    return walls


def pypde_measure(eq, state, setting: dict, reference, repeats: int) -> dict:
    """Median ``eq.solve`` wall time (with compilation), stepping-only time, error, steps."""
    walls = []
    for _ in range(repeats):
        wall, final, steps = pypde_solve(eq, state, setting)
        walls.append(wall)
    stepping = statistics.median(pypde_stepping_times(eq, state, setting, repeats))
    err = max_error(final, reference)
    log(
        f"  py-pde {label(setting)}: solve {statistics.median(walls):.3f} s, "
        f"stepping {stepping:.4f} s, err {err:.2e}, {steps} steps"
    )
    return {
        "setting": setting,
        "wall_s_median": statistics.median(walls),
        "wall_s_all": walls,
        "stepping_only_s_median": stepping,
        "max_error": err,
        "steps": steps,
        "within_target": err <= TARGET_ERROR,
    }


def bench_pypde(n: int, ndim: int, repeats: int, initial: np.ndarray, solvers=None) -> dict:
    """py-pde's own reference, its convergence check and its settings (those of
    ``solvers`` only, when given)."""
    import pde

    eq = pypde_equation(pde, ndim)
    state = pypde_state(pde, n, ndim, initial)
    ref_wall, reference, ref_steps = pypde_solve(eq, state, PYPDE_REFERENCE)
    _, check, check_steps = pypde_solve(eq, state, PYPDE_CHECK)
    log(f"py-pde reference: {ref_steps} steps, {ref_wall:.2f} s")
    runs = [
        pypde_measure(eq, state, s, reference, repeats)
        for s in PYPDE_SETTINGS
        if solvers is None or s["solver"] in solvers
    ]
    return {
        "version": pde.__version__,
        "reference": {
            "setting": PYPDE_REFERENCE,
            "steps": ref_steps,
            "wall_s": ref_wall,
            "check_setting": PYPDE_CHECK,
            "check_steps": check_steps,
            "max_difference_to_check": max_error(reference, check),
        },
        "runs": runs,
        "cheapest_within_target": cheapest(runs),
        "cheapest_within_target_stepping_only": cheapest(runs, "stepping_only_s_median"),
        "_reference_fields": reference,
    }


# -- summary -----------------------------------------------------------------------------
def cheapest(runs: list[dict], key: str = "wall_s_median") -> dict | None:
    """The run with the smallest ``key`` (a time) among those within ``TARGET_ERROR``."""
    ok = [r for r in runs if r["within_target"]]
    return min(ok, key=lambda r: r[key]) if ok else None


def speedups(ours: dict | None, solve: dict | None, stepping: dict | None) -> dict | None:
    """py-pde time over continuum time, each at its cheapest setting within target.

    ``solve``: py-pde's cheapest by ``eq.solve`` wall time (includes its per-solve
    compilation); ``stepping``: its cheapest by compiled-stepper time alone (the target
    of issue 18 is continuum's whole ``simulate`` >= 3x faster than that).
    """
    if ours is None or solve is None or stepping is None:
        return None
    t = ours["wall_s_median"]
    with_compile = solve["wall_s_median"] / t
    without_compile = stepping["stepping_only_s_median"] / t
    return {
        "continuum_setting": ours["setting"],
        "pypde_solve_over_continuum": with_compile,
        "pypde_stepping_only_over_continuum": without_compile,
        "target_stepping_only": TARGET_SPEEDUP,
        "met_excluding_pypde_compile": without_compile >= TARGET_SPEEDUP,
    }


def machine() -> dict:
    """Versions and machine facts that matter for the timings."""
    import numba

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


# -- throughput of ct.models.Invasion -------------------------------------------------
THROUGHPUT_CASES = (((256, 256), 0.02), ((512, 512), 0.02), ((96, 96, 96), 0.04))
# Run only when asked for (--n 192): the same 3.84 mm cube as 96^3 on 20 um cells, about
# 7 million cells (a few GB of state and work arrays).
LARGE_CASES = (((192, 192, 192), 0.02),)


def relative_errors(model, result, reference) -> dict:
    """Per field: max |u - u_ref| over the grid divided by max |u_ref| (final states)."""
    out = {}
    for name in model.field_names:
        ref = reference.field(name)[-1]
        scale = float(np.max(np.abs(ref))) or 1.0
        out[name] = float(np.max(np.abs(result.field(name)[-1] - ref))) / scale
    return out


def throughput_case(shape, spacing, args) -> dict:
    """Adaptive timings of the invasion model on one grid for each IMEX method, their
    accuracy against a tight-tolerance reference, and fixed-step IMEX Euler timings."""
    warm_days, days, repeats = args.warm_days, args.days, args.repeats
    grid = ct.Grid(shape, spacing)
    model = ct.models.Invasion()
    t0 = perf_counter()
    warm = ct.simulate(
        model,
        model.initial_state(grid),
        warm_days,
        save_every=warm_days,
        method="imex",
        progress=False,
    )
    log(
        f"{shape}: {warm_days} warm-up days in {perf_counter() - t0:.1f} s "
        f"({warm.solver_stats['steps']} steps, including compilation when the cache is cold)"
    )
    state = warm.state
    span = {"t_start": warm_days, "save_every": days, "progress": False}
    t_end = warm_days + days
    for method in args.methods:  # compile outside the timings
        ct.simulate(model, state, warm_days + 1e-3, method=method, dt=1e-3, **span)
    reference = None
    if args.reference_rtol:
        t0 = perf_counter()
        reference = ct.simulate(
            model, state, t_end, method="imex2", rtol=args.reference_rtol, atol=1e-10, **span
        )
        log(
            f"  reference imex2 rtol {args.reference_rtol:g}: "
            f"{reference.solver_stats['steps']} steps, {perf_counter() - t0:.1f} s"
        )
    adaptive = {method: [] for method in args.methods}
    results = {}
    fixed = []
    for _ in range(repeats):
        for method in args.methods:  # side by side, alternating, under the same load
            t0 = perf_counter()
            res = ct.simulate(model, state, t_end, method=method, **span)
            adaptive[method].append(
                {
                    "wall_s": perf_counter() - t0,
                    "steps": res.solver_stats["steps"],
                    "rejected": res.solver_stats["rejected"],
                    "load_average": os.getloadavg(),
                }
            )
            results[method] = res
        if args.fixed_steps:
            dt = 0.05
            t0 = perf_counter()
            fixed_span = {**span, "save_every": args.fixed_steps * dt}
            ct.simulate(
                model, state, warm_days + args.fixed_steps * dt, method="imex", dt=dt, **fixed_span
            )
            fixed.append(perf_counter() - t0)
    out = {
        "shape": list(shape),
        "spacing_mm": spacing,
        "cells": int(np.prod(shape)),
        "days": days,
        "tumor_cells_at_start": float(warm.series("tumor_cells")[-1]),
        "adaptive": {},
    }
    for method, runs in adaptive.items():
        wall = statistics.median(a["wall_s"] for a in runs)
        steps = runs[0]["steps"]
        entry = {
            "wall_s_median": wall,
            "steps": steps,
            "rejected": runs[0]["rejected"],
            "steps_per_s": steps / wall,
            "simulated_days_per_wall_s": days / wall,
            "all": runs,
        }
        if reference is not None:
            entry["relative_error_vs_reference"] = relative_errors(
                model, results[method], reference
            )
        out["adaptive"][method] = entry
        log(
            f"  {method} adaptive: {steps} steps in {wall:.2f} s -> {days / wall:.3f} days/s"
            + (f", errors {entry.get('relative_error_vs_reference')}" if reference else "")
        )
    if reference is not None:
        out["reference"] = {
            "method": "imex2",
            "rtol": args.reference_rtol,
            "atol": 1e-10,
            "steps": reference.solver_stats["steps"],
        }
    if fixed:
        out["fixed_dt_imex"] = {
            "dt_day": 0.05,
            "steps": args.fixed_steps,
            "wall_s_median": statistics.median(fixed),
            "steps_per_s": args.fixed_steps / statistics.median(fixed),
            "all_wall_s": fixed,
        }
    return out


def throughput(args) -> dict:
    """The throughput document for every case."""
    cases = [
        throughput_case(shape, h, args)
        for shape, h in THROUGHPUT_CASES + (LARGE_CASES if args.n is not None else ())
        if (args.dims is None or len(shape) == args.dims) and (args.n is None or shape[0] == args.n)
    ]
    return {
        "problem": "ct.models.Invasion, default parameters and initial state, default "
        f"tolerances, methods {', '.join(args.methods)}",
        "accuracy": "per field, max |u - u_ref| / max |u_ref| at the end of the timed days; "
        "u_ref: imex2 at rtol --reference-rtol, atol 1e-10, from the same warmed-up state",
        "machine": machine(),
        "load_average_end": os.getloadavg(),
        "repeats": args.repeats,
        "cases": cases,
    }


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, help="cells per side (default 200; --throughput: all)")
    parser.add_argument("--ndim", type=int, choices=(1, 2), default=1, help="1 or 2 (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per setting (median)")
    parser.add_argument("--throughput", action="store_true", help="time ct.models.Invasion")
    parser.add_argument("--warm-days", type=float, default=5.0, help="untimed growth first")
    parser.add_argument("--days", type=float, default=1.0, help="timed adaptive days")
    parser.add_argument("--fixed-steps", type=int, default=10, help="timed fixed-dt steps")
    parser.add_argument("--dims", type=int, choices=(2, 3), help="only the 2D or 3D cases")
    parser.add_argument(
        "--pypde-solvers", nargs="+", help="py-pde solvers to time (default: euler runge-kutta)"
    )
    parser.add_argument(
        "--methods", nargs="+", default=["imex", "imex2"], help="--throughput: methods timed"
    )
    parser.add_argument(
        "--reference-rtol", type=float, default=1e-6, help="--throughput: 0 for no reference"
    )
    args = parser.parse_args()
    if args.n is None and not args.throughput:
        args.n = 200
    return args


def main() -> None:
    """Run both libraries (or the throughput cases) and print the JSON document."""
    args = parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    if args.throughput:
        json.dump(throughput(args), sys.stdout, indent=2)
        print()
        return
    log(f"Anderson–Chaplain, ndim={args.ndim}, n={args.n}, repeats={args.repeats}")
    load_start = os.getloadavg()
    cont = bench_continuum(args.n, args.ndim, args.repeats)
    initial = continuum_initial(continuum_problem(args.n, args.ndim)[1])
    pypde = bench_pypde(args.n, args.ndim, args.repeats, initial, args.pypde_solvers)
    spatial = max_error(cont.pop("_reference_fields"), pypde.pop("_reference_fields"))
    doc = {
        "problem": {
            "ndim": args.ndim,
            "cells": [args.n] * args.ndim,
            "spacing": 1.0 / args.n,
            "t_end": T_END,
            "parameters": PARAMS,
            "target_max_error": TARGET_ERROR,
            "error": "max |u - u_ref| at t_end over all cells of n, f, m; u_ref is each "
            "library's own time-converged run on the same grid",
        },
        "machine": machine(),
        "load_average_start": load_start,
        "repeats": args.repeats,
        "continuum": cont,
        "pypde": pypde,
        "reference_difference_between_libraries": spatial,
        "continuum_fixed_overhead_s": continuum_overhead(args.n, args.ndim, args.repeats),
        "speedup": speedups(
            cont["cheapest_within_target"],
            pypde["cheapest_within_target"],
            pypde["cheapest_within_target_stepping_only"],
        ),
        "speedup_by_method": {
            m: speedups(
                ours,
                pypde["cheapest_within_target"],
                pypde["cheapest_within_target_stepping_only"],
            )
            for m, ours in cont["cheapest_within_target_by_method"].items()
        },
        "load_average_end": os.getloadavg(),
    }
    json.dump(doc, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
