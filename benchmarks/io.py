"""Run-file overhead: a 512x512 Fisher-KPP run with and without streaming output.

For a frame every 1000 and every 100 forward-Euler steps, times the run without output,
with continuum's run file (gzip+shuffle default, lzf, uncompressed) and with py-pde's
``FileStorage`` at the same cadence (when py-pde is installed), in one process. Prints JSON:
median wall times, overhead relative to the same code without output, write throughput
(raw frame bytes per second of overhead-inclusive run time) and file sizes. Before each
case it waits (``--wait`` seconds at most) until other processes use < 10 % of the CPUs
and records as ``background`` the share they took while it ran (from ``stencil.py``).

    python benchmarks/io.py [--n 512] [--frames 10] [--repeats 3] [--quick] [--wait 120]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from stencil import CpuMeter, machine_info, wait_until_quiet

import continuum as ct

D, RHO, H = 0.13, 0.012, 0.05


def initial(n):
    rng = np.random.default_rng(0)
    x = (np.arange(n) + 0.5) * H
    r = np.hypot(x[:, None] - x.mean(), x[None, :] - x.mean())
    return np.where(r < n * H / 4, 1.0, 0.0) + 1e-3 * rng.random((n, n))


def median_time(run, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measured(run, repeats, wait):
    """Median wall time of ``run`` after waiting for a quiet machine, and the CPU share
    other processes took meanwhile."""
    quiet = wait_until_quiet(wait)
    meter = CpuMeter()
    wall = median_time(run, repeats)
    return wall, {**meter.read(), **quiet, "loadavg_1min": round(os.getloadavg()[0], 2)}


def continuum_case(n, cadence, frames, repeats, folder, wait):
    dt = 0.9 * H * H / (4 * D)
    model = ct.models.FisherKPP(diffusivity=D, growth_rate=RHO)
    state = model.initial_state(ct.Grid((n, n), H), u=initial(n))
    t_end = dt * cadence * frames

    def run(output=None, compression="gzip"):
        return ct.simulate(
            model,
            state,
            t_end,
            save_every=dt * cadence,
            method="euler",
            dt=dt,
            output=output,
            overwrite=True,
            compression=compression,
            progress=False,
        )

    run()  # compile
    base, background = measured(run, repeats, wait)
    out = {"without_output_s": base, "background": background}
    raw_bytes = 8 * n * n * (frames + 1)
    for compression in ("gzip", "lzf", None):
        path = Path(folder) / f"continuum_{compression}.h5"
        wall, background = measured(lambda c=compression, p=path: run(p, c), repeats, wait)
        out[str(compression)] = {
            "wall_s": wall,
            "overhead": wall / base - 1,
            "throughput_MB_per_s": raw_bytes / wall / 1e6,
            "file_MB": path.stat().st_size / 1e6,
            "background": background,
        }
    return out


def pypde_case(n, cadence, frames, repeats, folder, wait):
    try:
        import pde
    except ImportError:
        return "py-pde not installed"
    dt = 0.9 * H * H / (4 * D)
    grid = pde.CartesianGrid([[0, n * H]] * 2, [n, n])
    field = pde.ScalarField(grid, initial(n))
    eq = pde.PDE({"u": f"{D} * laplace(u) + {RHO} * u * (1 - u)"})
    t_end = dt * cadence * frames

    def run(tracker):
        eq.solve(
            field,
            t_range=t_end,
            dt=dt,
            solver="explicit",
            scheme="euler",
            adaptive=False,
            tracker=tracker,
        )

    run(None)
    base, background = measured(lambda: run(None), repeats, wait)
    path = Path(folder) / "pypde.h5"

    def with_storage():
        if path.exists():
            path.unlink()
        storage = pde.FileStorage(str(path))
        run([storage.tracker(dt * cadence)])

    wall, background_storage = measured(with_storage, repeats, wait)
    return {
        "without_output_s": base,
        "background": background,
        "background_storage": background_storage,
        "wall_s": wall,
        "overhead": wall / base - 1,
        "file_MB": path.stat().st_size / 1e6,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--wait", type=float, default=120.0, help="wait for a quiet machine [s]")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.frames, args.repeats = 128, 3, 1
    results = {
        "grid": [args.n, args.n],
        "frames": args.frames,
        "repeats": args.repeats,
        "frame_MB": 8 * args.n**2 / 1e6,
        "machine": machine_info(),
        "cadences": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        for cadence in (1000, 100):
            case = (args.n, cadence, args.frames, args.repeats)
            print(f"cadence {cadence} steps", file=sys.stderr)
            results["cadences"][str(cadence)] = {
                "continuum": continuum_case(*case, folder, args.wait),
                "py-pde": pypde_case(*case, folder, args.wait),
            }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
