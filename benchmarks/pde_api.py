"""A model written as equations against the built-in model it restates, side by side.

Run from the repository root::

    python benchmarks/pde_api.py > pde_api.json            # N = 256, 512; 7 repeats
    python benchmarks/pde_api.py --sizes 128 --repeats 3   # smoke run

Times forward-Euler steps of Fisher-KPP (``benchmarks/stencil.py``'s problem) written as
``ct.models.PDE({"u": "D*laplace(u) + rho*u*(1 - u)"}, ...)`` and as the built-in
``ct.models.FisherKPP``, alternating the two in every repeat so that both see the same
machine, and reports median cell updates per second, their ratio, and whether the fields
after the same steps are identical. Also the time to build the PDE model (parsing with
SymPy and writing its kernel module) and each model's first call (compilation, or loading
from the disk cache). One JSON document goes to standard output.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from time import perf_counter

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stencil import CFL, DIFFUSIVITY, GROWTH_RATE, SPACING, calibrate

import continuum as ct
from continuum.solvers.base import make_solver

EQUATIONS = {"u": "D*laplace(u) + rho*u*(1 - u)"}


def models() -> dict:
    t0 = perf_counter()
    written = ct.models.PDE(EQUATIONS, parameters={"D": DIFFUSIVITY, "rho": GROWTH_RATE})
    build = perf_counter() - t0
    built_in = ct.models.FisherKPP(diffusivity=DIFFUSIVITY, growth_rate=GROWTH_RATE)
    return {"pde": written, "built_in": built_in}, build


def solvers(n: int, dt: float, chosen: dict) -> dict:
    rng = np.random.default_rng(0)
    u0 = rng.random((n, n))
    grid = ct.Grid((n, n), SPACING)
    out = {}
    for name, model in chosen.items():
        state = model.initial_state(grid, u=u0)
        t0 = perf_counter()
        solver = make_solver("euler", model, state, dt=dt)
        solver.advance(10 * dt)
        out[name] = (solver, state, perf_counter() - t0)
    return out


def measure(n: int, repeats: int, chosen: dict) -> dict:
    dt = CFL * SPACING**2 / (4 * DIFFUSIVITY)
    runs = solvers(n, dt, chosen)
    same = bool(np.array_equal(runs["pde"][1].data, runs["built_in"][1].data))

    def stepper(solver):
        def run(k):
            before = solver.steps
            solver.advance(solver.t + k * dt)
            return solver.steps - before

        return run

    steps = calibrate(stepper(runs["built_in"][0]))
    rates = {name: [] for name in runs}
    for _ in range(repeats):
        for name, (solver, _, _) in runs.items():
            t0 = perf_counter()
            done = stepper(solver)(steps)
            rates[name].append(n * n * done / (perf_counter() - t0))
    medians = {name: statistics.median(r) for name, r in rates.items()}
    return {
        "n": n,
        "steps_per_run": steps,
        "updates_per_s": medians,
        "spread": {name: [min(r), max(r)] for name, r in rates.items()},
        "pde_over_built_in": medians["pde"] / medians["built_in"],
        "first_call_s": {name: run[2] for name, run in runs.items()},
        "identical_after_10_steps": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    chosen, build = models()
    report = {
        "load_average_at_start": os.getloadavg(),
        "pde_build_s": build,
        "results": [measure(n, args.repeats, chosen) for n in args.sizes],
    }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
