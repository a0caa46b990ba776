"""The ``continuum`` command line."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def _run(args) -> int:
    import continuum as ct
    from continuum.examples import glioma_invasion

    model, state = glioma_invasion()
    started = time.perf_counter()
    result = ct.simulate(
        model,
        state,
        args.t_end,
        save_every=args.t_end / 50,
        method="explicit",
        progress=False if args.quiet else None,
    )
    elapsed = time.perf_counter() - started
    u = result.field("u")
    grid = result.grid
    radius = [np.sqrt(grid.integrate(frame > 0.5) / grid.thickness / np.pi) for frame in u]
    late = len(radius) * 3 // 4
    speed = (radius[-1] - radius[late]) / (result.times[-1] - result.times[late])
    print(
        f"glioma proliferation-invasion example ({model}), grid {grid.shape}, "
        f"{result.solver_stats['steps']} steps in {elapsed:.1f} s"
    )
    print(
        f"  tumour radius (u > 0.5): {radius[0]:.2f} mm at t = 0 -> {radius[-1]:.2f} mm at "
        f"t = {result.times[-1]:.0f} day; front speed over the last quarter {speed:.4f} mm/day "
        f"(Fisher-KPP: {2 * np.sqrt(0.13 * 0.012):.4f})"
    )
    try:
        from continuum.plotting import plot_summary

        plot_summary(result, args.picture)
        print(f"  picture: {args.picture}")
    except ImportError:
        print(
            "  no picture: matplotlib is not installed (pip install 'continuum-metastasis[plot]')"
        )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="continuum", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the default example and save a picture")
    run.add_argument("--t-end", type=float, default=730.0, help="simulated days (default 730)")
    run.add_argument("--picture", default="run.png", help="path of the summary picture")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
