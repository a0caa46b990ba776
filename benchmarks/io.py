"""Run-file overhead: a 512x512 Fisher-KPP run with and without streaming output.

For a frame every 1000 and every 100 forward-Euler steps, times the run without output,
with continuum's run file (gzip+shuffle default, lzf, uncompressed) and with py-pde's
``FileStorage`` at the same cadence (when py-pde is installed), in one process. Prints JSON:
median wall times, overhead relative to the same code without output, write throughput
(raw frame bytes per second of overhead-inclusive run time) and file sizes.

    python benchmarks/io.py [--n 512] [--frames 10] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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


def continuum_case(n, cadence, frames, repeats, folder):
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
    base = median_time(run, repeats)
    out = {"without_output_s": base}
    raw_bytes = 8 * n * n * (frames + 1)
    for compression in ("gzip", "lzf", None):
        path = Path(folder) / f"continuum_{compression}.h5"
        wall = median_time(lambda c=compression, p=path: run(p, c), repeats)
        out[str(compression)] = {
            "wall_s": wall,
            "overhead": wall / base - 1,
            "throughput_MB_per_s": raw_bytes / wall / 1e6,
            "file_MB": path.stat().st_size / 1e6,
        }
    return out


def pypde_case(n, cadence, frames, repeats, folder):
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
    base = median_time(lambda: run(None), repeats)
    path = Path(folder) / "pypde.h5"

    def with_storage():
        if path.exists():
            path.unlink()
        storage = pde.FileStorage(str(path))
        run([storage.tracker(dt * cadence)])

    wall = median_time(with_storage, repeats)
    return {
        "without_output_s": base,
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
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.frames, args.repeats = 128, 3, 1
    results = {
        "grid": [args.n, args.n],
        "frames": args.frames,
        "repeats": args.repeats,
        "frame_MB": 8 * args.n**2 / 1e6,
        "cadences": {},
    }
    with tempfile.TemporaryDirectory() as folder:
        for cadence in (1000, 100):
            print(f"cadence {cadence} steps", file=sys.stderr)
            results["cadences"][str(cadence)] = {
                "continuum": continuum_case(args.n, cadence, args.frames, args.repeats, folder),
                "py-pde": pypde_case(args.n, cadence, args.frames, args.repeats, folder),
            }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
