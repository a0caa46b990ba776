"""The ``continuum`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DEFAULT_SCENARIO = "breast_patient.toml"


def default_scenario_path() -> Path:
    """The default scenario: ``examples/breast_patient.toml`` of the source tree (editable
    installs), which a wheel ships as the package data ``continuum.scenarios``."""
    source_tree = Path(__file__).resolve().parents[1] / "examples" / DEFAULT_SCENARIO
    if source_tree.is_file():
        return source_tree
    from importlib.resources import files

    return Path(str(files("continuum.scenarios") / DEFAULT_SCENARIO))


def _run(args) -> int:
    from continuum.scenario import ScenarioError, load_scenario, parse_override

    default = args.scenario is None
    source = default_scenario_path() if default else args.scenario
    try:
        overrides = dict(parse_override(item) for item in args.set)
        scenario = load_scenario(source, overrides)
        settings = scenario.run_settings
        t_end = args.t_end if args.t_end is not None else settings["t_end"]
        output = args.output or ("run.h5" if default else settings.get("output", "run.h5"))
        # the demo replaces its own run.h5; any other existing file needs --overwrite
        overwrite = args.overwrite or (default and args.output is None)
        started = time.perf_counter()
        result = scenario.run(
            output=output,
            t_end=t_end,
            overwrite=overwrite,
            progress=False if args.quiet else None,
        )
    except (ScenarioError, ValueError) as error:
        print(f"continuum run: {error}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    title = scenario.title or Path(str(source)).stem
    print(
        f"{title}: {type(scenario.model).__name__} to t = {result.times[-1]:g} day, "
        f"{result.solver_stats['steps']} steps in {elapsed:.1f} s"
    )
    _print_outcome(result)
    print(f"  run file: {output} (continuum info {output}; continuum plot {output})")
    picture = args.picture or ("run.png" if default else str(Path(output).with_suffix(".png")))
    _save_picture(result, picture, title)
    return 0


def _print_outcome(run) -> None:
    """The run's end in a few lines: the primary, circulating cells, the sites."""
    import numpy as np

    from continuum import analysis
    from continuum.units import ctc_per_sample

    if "tumor_cells" in run.series_names:
        cells = run.series("tumor_cells")
        print(f"  primary tumour: {cells[0]:.3g} -> {cells[-1]:.3g} cells")
    elif run.model.cell_fields:
        cells = analysis.tumor_cells(run)
        print(f"  tumour: {cells[0]:.3g} -> {cells[-1]:.3g} mm^3 at capacity")
    if "removed" in run.series_names and run.series("removed")[-1] > 0:
        removed = run.series("removed")[-1]
        print(f"  removed by treatment: {removed:.3g} {run.series_unit('removed')}")
    if "blood_ctc" in run.series_names:
        blood = np.asarray(run.series("blood_ctc"))
        peak = int(np.argmax(blood))
        print(
            f"  circulating tumour cells at the end: {analysis.circulating_cells(run)[-1]:.3g}; "
            f"at most {ctc_per_sample(blood[peak]):.3g} per 7.5 mL of blood "
            f"(day {run.times[peak]:.0f})"
        )
    first = analysis.time_to_detection(run)
    for site in analysis.sites(run):
        series = analysis.site_series(run, site)
        when = first[site]
        detected = "not detected" if when is None else f"first detectable at {when:.0f} day"
        print(
            f"  {site:<12} {series['colonies'][-1]:10.3g} colonies, "
            f"{series['detectable'][-1]:9.3g} expected detectable ({detected})"
        )


def _save_picture(run, picture, title) -> None:
    try:
        from continuum.plotting import plot_summary

        plot_summary(run, picture, title=title)
        print(f"  picture: {picture}")
    except ImportError:
        print(
            "  no picture: matplotlib is not installed (pip install 'continuum-metastasis[plot]')"
        )


def _resume(args) -> int:
    import continuum as ct

    try:
        with ct.resume(args.path, args.t_end, progress=False if args.quiet else None) as run:
            print(f"{args.path}: now to t = {run.times[-1]:g} day, {run.frames} frames")
    except (ct.RunFileError, ValueError) as error:
        print(f"continuum resume: {error}", file=sys.stderr)
        return 2
    return 0


def _plot(args) -> int:
    from continuum.io import RunFileError, open_run

    picture = args.output or str(Path(args.path).with_suffix(".png"))
    try:
        with open_run(args.path) as run:
            from continuum import plotting

            if args.field is None and args.t is None:
                title = _scenario_title(run) or Path(args.path).stem
                plotting.plot_summary(run, picture, title=title)
            else:
                plotting.save_plot(picture, plotting.plot_field, run, args.field, args.t)
    except (RunFileError, KeyError, ValueError) as error:
        message = error.args[0] if error.args else str(error)
        print(f"continuum plot: {message}", file=sys.stderr)
        return 2
    except ImportError:
        print("continuum plot: needs matplotlib (pip install 'continuum-metastasis[plot]')")
        return 2
    print(f"{args.path}: picture {picture}")
    return 0


def _ensemble(args) -> int:
    from continuum import ensemble
    from continuum.scenario import ScenarioError

    try:
        if (args.samples is None) == (args.design is None):
            raise ValueError("give either --samples FILE or --design KIND:N (with --vary)")
        ranges = None
        if args.samples is not None:
            samples = ensemble.read_samples(args.samples)
        else:
            kind, _, size = args.design.partition(":")
            if not size.isdigit():
                raise ValueError(f"--design: got {args.design!r}; use lhs:N, sobol:N, grid:N")
            ranges = dict(ensemble.parse_range(item) for item in args.vary)
            samples = ensemble.design(kind, int(size), ranges, seed=args.seed)
        summary = ensemble.run(
            args.scenario,
            samples,
            args.output,
            scheduler=args.scheduler,
            workers=args.workers,
            t_end=args.t_end,
            progress=False if args.quiet else None,
            ranges=ranges,
        )
    except (ScenarioError, ValueError, OSError) as error:
        print(f"continuum ensemble: {error}", file=sys.stderr)
        return 2
    done = len(summary.rows) - len(summary.failed)
    print(
        f"{args.output}: {len(summary.rows)} members ({summary.executed} run now, "
        f"{done} ok, {len(summary.failed)} failed); table {Path(args.output) / 'summary.csv'}"
    )
    for row in summary.failed[:5]:
        print(f"  {row['id']}: {row['status']}")
    return 0 if not summary.failed else 1


def _sensitivity(args) -> int:
    from continuum import ensemble

    try:
        summary = ensemble.load_summary(args.path)
        indices = ensemble.summary_sensitivity(summary, args.output_name)
    except (ValueError, KeyError) as error:
        message = error.args[0] if error.args else str(error)
        print(f"continuum sensitivity: {message}", file=sys.stderr)
        return 2
    print(f"Sobol indices of {args.output_name} (95 % intervals):")
    print(ensemble.sensitivity_table(indices))
    picture = args.picture or str(Path(args.path) / "sensitivity.png")
    try:
        from continuum import plotting

        plotting.save_plot(
            picture, plotting.plot_sensitivity, indices, figsize=(6, 4), title=args.output_name
        )
        print(f"picture: {picture}")
    except ImportError:
        print("no picture: matplotlib is not installed")
    return 0


def _scenario_title(run) -> str:
    import tomllib

    try:
        return str(tomllib.loads(run.attrs.get("scenario", "")).get("title", ""))
    except tomllib.TOMLDecodeError:
        return ""


def _info(args) -> int:
    import json
    from pathlib import Path

    from continuum.interventions import to_json
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
        for item in run.interventions:
            settings = to_json(item)
            kind = settings.pop("kind")
            described = ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None)
            print(f"  treatment   {kind}: {described}")
        print(f"  solver      {json.dumps(solver)}")
        checkpoint = attrs.get("checkpoint") or "none"
        print(f"  checkpoint  {checkpoint}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="continuum", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run a scenario file, or the default breast scenario, and save a picture"
    )
    run.add_argument(
        "scenario", nargs="?", help="scenario file (.toml); default: examples/breast_patient.toml"
    )
    run.add_argument("--t-end", type=float, help="simulated days (default: the scenario's)")
    run.add_argument(
        "-o",
        "--output",
        help="run file (default: run.h5 for the default scenario, else the "
        "scenario's output or run.h5)",
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario entry, e.g. --set model.parameters.k_emt=0.05",
    )
    run.add_argument("--overwrite", action="store_true", help="replace an existing run file")
    run.add_argument(
        "--picture", help="path of the summary picture (default: the run file's, .png)"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    info = commands.add_parser("info", help="describe a run file")
    info.add_argument("path", help="run file (.h5)")
    resume = commands.add_parser("resume", help="continue a run file from its checkpoint")
    resume.add_argument("path", help="run file (.h5)")
    resume.add_argument("--t-end", type=float, required=True, help="new end time [day]")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")
    plot = commands.add_parser("plot", help="draw a run file: a summary, or one field")
    plot.add_argument("path", help="run file (.h5)")
    plot.add_argument("-o", "--output", help="picture (default: the run file's name, .png)")
    plot.add_argument("--field", help="a field, or 'cells' for the tumour-cell density")
    plot.add_argument("--t", type=float, help="time of the snapshot [day] (default: the last)")
    sweep = commands.add_parser(
        "ensemble", help="run many members of a scenario on Dask (a cohort, a sweep)"
    )
    sweep.add_argument("scenario", help="scenario file (.toml)")
    sweep.add_argument("--samples", help="CSV file: dotted keys as header, a member per row")
    sweep.add_argument("--design", help="lhs:N, sobol:N, grid:N or saltelli:N over --vary")
    sweep.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="KEY=LOW:HIGH[:log]",
        help="a varied entry, e.g. model.growth.a=0.002:0.006",
    )
    sweep.add_argument("-o", "--output", required=True, help="folder of runs/ and summary")
    sweep.add_argument("--scheduler", help="address of a running Dask scheduler")
    sweep.add_argument("--workers", type=int, default=2, help="local worker processes")
    sweep.add_argument("--t-end", type=float, help="simulated days (default: the scenario's)")
    sweep.add_argument("--seed", type=int, default=0, help="seed of the design")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sobol = commands.add_parser(
        "sensitivity", help="Sobol indices of an output of a sweep on a saltelli design"
    )
    sobol.add_argument("path", help="the ensemble's folder (with summary.h5)")
    sobol.add_argument("output_name", metavar="OUTPUT", help="a summary column")
    sobol.add_argument("-o", "--picture", help="bar chart (default: PATH/sensitivity.png)")
    args = parser.parse_args(argv)
    try:
        commands = {
            "sensitivity": _sensitivity,
            "run": _run,
            "info": _info,
            "resume": _resume,
            "plot": _plot,
            "ensemble": _ensemble,
        }
        return commands[args.command](args)
    except BrokenPipeError:  # output piped into a command that stopped reading (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
