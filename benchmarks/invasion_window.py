"""Adaptive IMEX steps of the invasion model over a window of simulated time.

The tumour of ``ct.models.Invasion()`` (defaults, 96³ cells of 40 µm, or ``--ndim 2``
and ``--n``, ``--spacing`` of a square) first grows untimed
to ``--t-start`` days; that state is saved to ``--state`` (reused if present, so that
checkouts of two commits time the same steps). Then each repeat advances it ``--days``
more with the default tolerances and prints wall and CPU seconds, steps, simulated days
per wall second and field totals (to check that both checkouts took the same steps).
Run from the repository root; compare commits with ``PYTHONPATH=<other checkout>``::

    python benchmarks/invasion_window.py --threads 1 > new.json
    PYTHONPATH=/path/to/old/checkout python benchmarks/invasion_window.py --threads 1 > old.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import continuum as ct


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def warm_state(model, grid, t_start: float, path: Path):
    """The state at ``t_start`` days: read from ``path``, or grown and saved there."""
    state = model.initial_state(grid)
    if path.exists():
        saved = np.load(path)
        for name in state.field_names:
            state[name][...] = saved[name]
        for name in model.scalar_names:
            state.set_scalar(name, saved["scalar_" + name])
        return state
    t0 = time.perf_counter()
    grown = ct.simulate(model, state, t_start, save_every=t_start, method="imex", progress=False)
    log(f"grew to day {t_start} in {time.perf_counter() - t0:.1f} s")
    arrays = {name: grown.state[name] for name in state.field_names}
    arrays.update({"scalar_" + name: grown.state[name] for name in model.scalar_names})
    np.savez(path, **arrays)
    return grown.state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ndim", type=int, choices=(2, 3), default=3, help="2D or 3D (3)")
    parser.add_argument("--n", type=int, default=96, help="cells per side (default 96)")
    parser.add_argument("--spacing", type=float, default=0.04, help="cell width [mm]")
    parser.add_argument("--t-start", type=float, default=0.25, help="untimed growth [day]")
    parser.add_argument("--days", type=float, default=0.05, help="timed window [day]")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (median)")
    parser.add_argument("--threads", type=int, help="Numba threads (default: the free cores)")
    parser.add_argument("--state", type=Path, help="saved state (default: in the temp dir)")
    args = parser.parse_args()
    grid = ct.Grid((args.n,) * args.ndim, args.spacing)
    model = ct.models.Invasion()
    path = args.state or Path(os.environ.get("TMPDIR", "/tmp")) / (
        f"continuum_invasion_{args.ndim}d_{args.n}_{args.spacing:g}_{args.t_start:g}.npz"
    )
    state = warm_state(model, grid, args.t_start, path)
    options = {"t_start": args.t_start, "method": "imex", "progress": False}
    if args.threads:
        options["threads"] = args.threads
    t_compile = args.t_start + 1e-3
    ct.simulate(model, state, t_compile, dt=1e-3, save_every=1e-3, **options)  # compile
    runs = []
    for _ in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        t_end = args.t_start + args.days
        result = ct.simulate(model, state, t_end, save_every=args.days, **options)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        runs.append(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "steps": result.solver_stats["steps"],
                "rejected": result.solver_stats["rejected"],
                "days_per_second": args.days / wall,
                "totals": {name: float(result.field(name)[-1].sum()) for name in state.field_names},
            }
        )
        log(f"{wall:.2f} s wall, {cpu:.2f} s CPU, {runs[-1]['steps']} steps")
    print(
        json.dumps(
            {
                "case": f"Invasion {args.n}^{args.ndim} x {args.spacing} mm, imex, default "
                f"tolerances, days {args.t_start}-{args.t_start + args.days}",
                "threads": args.threads or "free cores",
                "median_wall_s": float(np.median([r["wall_s"] for r in runs])),
                "median_cpu_s": float(np.median([r["cpu_s"] for r in runs])),
                "median_days_per_second": float(np.median([r["days_per_second"] for r in runs])),
                "load_average": os.getloadavg(),
                "runs": runs,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
