"""The ``continuum`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def _run_scenario(args) -> int:
    from continuum.scenario import ScenarioError, load_scenario, parse_override

    try:
        overrides = dict(parse_override(item) for item in args.set)
        scenario = load_scenario(args.scenario, overrides)
        t_end = args.t_end if args.t_end is not None else scenario.run_settings["t_end"]
        output = args.output or scenario.run_settings.get("output", "run.h5")
        started = time.perf_counter()
        result = scenario.run(
            output=output,
            t_end=t_end,
            overwrite=args.overwrite,
            progress=False if args.quiet else None,
        )
    except (ScenarioError, ValueError) as error:
        print(f"continuum run: {error}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    stats = result.solver_stats
    print(
        f"{args.scenario}: {scenario.model!r} to t = {result.times[-1]:g} day, "
        f"{stats['steps']} steps in {elapsed:.1f} s"
    )
    print(f"  run file: {output} (continuum info {output})")
    return 0


def _resume(args) -> int:
    import continuum as ct

    try:
        with ct.resume(args.path, args.t_end, progress=False if args.quiet else None) as run:
            print(f"{args.path}: now to t = {run.times[-1]:g} day, {run.frames} frames")
    except (ct.RunFileError, ValueError) as error:
        print(f"continuum resume: {error}", file=sys.stderr)
        return 2
    return 0


def _run(args) -> int:
    import continuum as ct
    from continuum.examples import glioma_invasion

    if args.scenario is not None:
        return _run_scenario(args)
    if args.set:
        print("continuum run: --set needs a scenario file", file=sys.stderr)
        return 2
    args.output = args.output or "run.h5"
    args.t_end = 730.0 if args.t_end is None else args.t_end

    model, state = glioma_invasion()
    started = time.perf_counter()
    try:
        result = ct.simulate(
            model,
            state,
            args.t_end,
            save_every=args.t_end / 50,
            method="explicit",
            output=args.output,
            overwrite=args.overwrite,
            progress=False if args.quiet else None,
        )
    except ValueError as error:
        print(f"continuum run: {error}", file=sys.stderr)
        return 2
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
    print(f"  run file: {args.output} (continuum info {args.output})")
    try:
        from continuum.plotting import plot_summary

        plot_summary(result, args.picture)
        print(f"  picture: {args.picture}")
    except ImportError:
        print(
            "  no picture: matplotlib is not installed (pip install 'continuum-metastasis[plot]')"
        )
    return 0


def _info(args) -> int:
    import json
    from pathlib import Path

    from continuum.io import RunFileError, open_run

    try:
        run = open_run(args.path)
    except RunFileError as error:
        print(f"continuum info: {error}", file=sys.stderr)
        return 2
    with run:
        attrs = run.attrs
        grid = run.grid
        times = run.times
        solver = run.solver_settings
        size = Path(args.path).stat().st_size
        print(
            f"{args.path}: {attrs['format']} v{attrs['format_version']}, written by "
            f"continuum {attrs['continuum_version']} on {attrs['created']}"
        )
        print(f"  file size   {size / 2**20:.2f} MiB")
        print(f"  model       {attrs['model']}")
        for name, value in run.parameters.items():
            unit = run.spec["units"].get(name, "")
            print(f"    {name:<20} {value:<12g} {unit}")
        masked = ", masked" if grid.mask is not None else ""
        print(
            f"  grid        {' x '.join(map(str, grid.shape))} cells of "
            f"{' x '.join(f'{h:g}' for h in grid.spacing)} mm{masked}"
        )
        print(f"  fields      {', '.join(run.field_names)}")
        print(f"  series      {', '.join(run.series_names)}")
        for site in run.spec.get("sites", []) if len(times) else []:
            prefix = f"sites/{site['name']}/"
            print(
                f"  site        {site['name']} ({site['organ']}): "
                f"{run.series(prefix + 'colonies')[-1]:.4g} colonies, "
                f"{run.series(prefix + 'detectable')[-1]:.4g} detectable, "
                f"{run.series(prefix + 'dormant')[-1]:.4g} dormant cells at the last frame"
            )
        if len(times):
            print(f"  time        {times[0]:g} to {times[-1]:g} day, {run.frames} frames")
        else:
            print("  time        no frames")
        print(f"  solver      {json.dumps(solver)}")
        checkpoint = attrs.get("checkpoint") or "none"
        print(f"  checkpoint  {checkpoint}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="continuum", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run a scenario file, or the default example (and save a picture)"
    )
    run.add_argument("scenario", nargs="?", help="scenario file (.toml); default: the example")
    run.add_argument("--t-end", type=float, help="simulated days (default: the scenario's; 730)")
    run.add_argument("-o", "--output", help="run file (default: the scenario's, or run.h5)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario entry, e.g. --set model.parameters.k_emt=0.05",
    )
    run.add_argument("--overwrite", action="store_true", help="replace an existing run file")
    run.add_argument("--picture", default="run.png", help="path of the summary picture")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    info = commands.add_parser("info", help="describe a run file")
    info.add_argument("path", help="run file (.h5)")
    resume = commands.add_parser("resume", help="continue a run file from its checkpoint")
    resume.add_argument("path", help="run file (.h5)")
    resume.add_argument("--t-end", type=float, required=True, help="new end time [day]")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        return {"run": _run, "info": _info, "resume": _resume}[args.command](args)
    except BrokenPipeError:  # output piped into a command that stopped reading (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
