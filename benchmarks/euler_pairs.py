"""Two forward-Euler steps per pass over memory against one, side by side in one process.

Run from the repository root::

    python benchmarks/euler_pairs.py > pairs.json
    python benchmarks/euler_pairs.py --sizes 2048 --rounds 20

For each N, two ``make_solver("euler")`` solvers of the throughput problem of
``stencil.py`` (2D Fisher-KPP, N x N cells, no-flux, dt = 0.9 of the positivity limit)
advance in alternation, ``--rounds`` timed runs each (the order swapped every round, so
that a machine whose speed drifts treats both alike): one takes its steps two per pass
(``continuum.kernels.pair``, the default where a problem allows it), the other one at a
time (``solver.paired = False``). After the runs both fields must be equal bit for bit.
Reported per N: the median, minimum and maximum cell updates per second of each, the
ratio of the medians, and the load average before and after. One JSON document goes to
standard output; progress to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stencil import DIFFUSIVITY, GROWTH_RATE, SPACING, euler_dt, machine_info

import continuum as ct
from continuum.solvers.base import make_solver

UPDATES_PER_RUN = 1.2e9  # about 0.5 s per timed run at 2.5 G updates/s


def solvers(n: int, dt: float) -> dict:
    """The paired and the single-step solver on the same random field."""
    grid = ct.Grid((n, n), spacing=SPACING)
    u0 = np.random.default_rng(0).random(grid.shape)
    model = ct.models.FisherKPP(diffusivity=DIFFUSIVITY, growth_rate=GROWTH_RATE)
    made = {}
    for name in ("paired", "single"):
        solver = make_solver("euler", model, model.initial_state(grid, u=u0), dt=dt)
        solver.paired = solver.paired and name == "paired"
        solver.advance(10 * dt)  # compiles, or loads from the cache
        made[name] = solver
    if not made["paired"].paired:
        raise SystemExit("the throughput problem is not pairable: nothing to compare")
    return made


def compare(n: int, rounds: int) -> dict:
    dt = euler_dt()
    made = solvers(n, dt)
    steps = max(2, int(UPDATES_PER_RUN / n**2) // 2 * 2)
    rates = {name: [] for name in made}
    load_before = os.getloadavg()[0]
    for r in range(rounds):
        order = list(made) if r % 2 == 0 else list(made)[::-1]
        for name in order:
            solver = made[name]
            t0 = time.perf_counter()
            solver.advance(solver.t + steps * dt)
            rates[name].append(n * n * steps / (time.perf_counter() - t0))
    same = np.array_equal(made["paired"].state.data, made["single"].state.data)
    result = {
        "n": n,
        "steps_per_run": steps,
        "bit_identical_after": same,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    for name, values in rates.items():
        result[name] = {
            "updates_per_s_median": statistics.median(values),
            "updates_per_s_min": min(values),
            "updates_per_s_max": max(values),
        }
    result["paired_over_single"] = round(
        result["paired"]["updates_per_s_median"] / result["single"]["updates_per_s_median"], 3
    )
    print(f"[pairs] N={n}: {result['paired_over_single']}x, bit-identical {same}", file=sys.stderr)
    if not same:
        raise SystemExit(f"N={n}: paired and single steps differ")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--rounds", type=int, default=10, help="timed runs of each solver")
    args = parser.parse_args()
    document = {
        "machine": machine_info(),
        "problem": "2D Fisher-KPP, no-flux, D = 0.13 mm^2/day, rho = 0.012 /day, h = 0.05 mm",
        "rounds": args.rounds,
        "sizes": [compare(n, args.rounds) for n in args.sizes],
    }
    json.dump(document, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
