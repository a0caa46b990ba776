"""The command line: ``continuum run``, ``info``, ``resume``, ``plot``, ``export``,
``warm-up``, ``ensemble`` and ``sensitivity`` (``continuum --help``)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
import warnings
from pathlib import Path

DEFAULT_SCENARIO = "breast_patient.toml"


def default_scenario_path() -> Path:
    """The default scenario: ``examples/breast_patient.toml`` of the source tree (editable
    installs), which a wheel ships as the package data ``continuum.scenarios``."""
    from continuum.scenario import example_path

    return example_path(DEFAULT_SCENARIO.removesuffix(".toml"))


def _run(args) -> int:
    from continuum.scenario import load_scenario, parse_override

    default = args.scenario is None
    source = default_scenario_path() if default else args.scenario
    overrides = dict(parse_override(item) for item in args.set)
    scenario = load_scenario(source, overrides)
    settings = scenario.run_settings
    t_end = args.t_end if args.t_end is not None else settings["t_end"]
    output = args.output or ("run.h5" if default else settings.get("output", "run.h5"))
    # the demo replaces its own run.h5; any other existing file needs --overwrite
    overwrite = args.overwrite or (default and args.output is None)
    picture = args.picture or str(Path(output).with_suffix(".png"))
    # before the run, not after hours of it: the run file's own picture is replaced with
    # it; a picture named by --picture only with --overwrite
    _check_picture(picture, "--picture", replace=overwrite or args.picture is None)
    args.resume_hint = (output, t_end)  # for the message of a stopped run
    started = time.perf_counter()
    result = scenario.run(
        output=output,
        t_end=t_end,
        overwrite=overwrite,
        progress=False if args.quiet else None,
    )
    elapsed = time.perf_counter() - started
    title = scenario.title or Path(str(source)).stem
    stats = result.solver_stats
    compiling = stats.get("compile_seconds", 0.0)
    waited = f" ({compiling:.1f} s of it compiling, once per machine)" if compiling >= 1 else ""
    print(
        f"{title}: {type(scenario.model).__name__} to t = {result.times[-1]:g} day, "
        f"{stats['steps']} {stats['method']} steps in {elapsed:.1f} s{waited}"
    )
    _print_outcome(result)
    print(f"  run file: {output} (continuum info {output}; continuum plot {output})")
    try:
        _save_picture(result, picture, title)
    except OSError as error:
        print(
            f"continuum run: the run is saved in {output}, but its picture was not written: "
            f"{_os_message(error)}",
            file=sys.stderr,
        )
        return 2
    return 0


def _check_picture(path, option: str, replace: bool) -> None:
    """Refuse a picture (or movie) path in a missing or read-only folder, or an existing
    file unless ``replace``."""
    _check_writable_folder(path, option)
    if Path(path).exists() and not replace:
        raise ValueError(
            f"{option} {str(path)!r}: the file exists; add --overwrite (-f) to replace it, "
            f"or choose another {option}"
        )


def _check_writable_folder(path, option: str) -> None:
    """Refuse a file whose folder does not exist or cannot be written."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise ValueError(
            f"{option} {str(path)!r}: the folder {str(folder)!r} does not exist; create it "
            f"or choose another {option}"
        )
    if not os.access(folder, os.W_OK):
        raise ValueError(
            f"{option} {str(path)!r}: the folder {str(folder)!r} is not writable; choose "
            f"another {option}"
        )


def _print_outcome(run) -> None:
    """The run's end in a few lines: the primary, circulating cells, the sites. Cell
    counts below one are written ``< 1``; a cascade's colony numbers are expectations
    (means over patients), and are called so."""
    import numpy as np

    from continuum import analysis, readable
    from continuum.units import ctc_per_sample

    if "tumor_cells" in run.series_names:
        cells = run.series("tumor_cells")
        print(f"  primary tumour: {readable.count(cells[0])} -> {readable.count(cells[-1])} cells")
    elif run.model.cell_fields:
        cells = analysis.tumor_cells(run)
        print(
            f"  tumour: {readable.number(cells[0])} -> {readable.number(cells[-1])} mm^3 "
            "of cells at capacity"
        )
    if "removed" in run.series_names and run.series("removed")[-1] > 0:
        removed = run.series("removed")[-1]
        unit = run.series_unit("removed")
        amount = readable.count(removed) if unit == "cells" else readable.number(removed)
        print(f"  removed by treatment: {amount} {unit}")
    if "blood_ctc" in run.series_names:
        blood = np.asarray(run.series("blood_ctc"))
        peak = int(np.argmax(blood))
        circulating = readable.count(analysis.circulating_cells(run)[-1])
        print(f"  circulating tumour cells (blood and lymph) at the end: {circulating}")
        print(
            "  tumour cells expected in a 7.5 mL blood sample: at most "
            f"{readable.expected(ctc_per_sample(blood[peak]))} (day {run.times[peak]:.0f})"
        )
    _print_sites(run)


def _print_sites(run) -> None:
    """A cascade's sites as a table: expected colonies and detectable colonies at the
    end (detectable: above the site's detection size, as a sphere's diameter), and when
    the expected number of detectable colonies reaches one."""
    from continuum import analysis, readable
    from continuum.units import sphere_diameter

    sites = list(getattr(run.model, "sites", ()))
    if not sites:
        return
    print("  metastases at the end, expected numbers per patient (means over patients):")
    first = analysis.time_to_detection(run)
    width = max(len("site"), *(len(readable.site_name(site.name)) for site in sites))
    print(
        f"    {'site':<{width}}  {'colonies':>9}  {'detectable':>10}  {'from':>7}  "
        "expected detectable reach 1"
    )
    for site in sites:
        series = analysis.site_series(run, site.name)
        when = first[site.name]
        size = f"{sphere_diameter(site.parameters['detection']):.2g} mm"
        print(
            f"    {readable.site_name(site.name):<{width}}  "
            f"{readable.expected(series['colonies'][-1]):>9}  "
            f"{readable.expected(series['detectable'][-1]):>10}  {size:>7}  "
            + ("not in the run" if when is None else f"at day {when:.0f}")
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

    args.resume_hint = (args.path, args.t_end)
    with ct.resume(args.path, args.t_end, progress=False if args.quiet else None) as run:
        print(f"{args.path}: now to t = {run.times[-1]:g} day, {run.frames} frames")
    return 0


def _export(args) -> int:
    from continuum.io.vtkhdf import export_vtkhdf
    from continuum.io.xdmf import write_xdmf

    if args.vtkhdf:
        if args.output is not None:
            if not args.output.endswith(".vtkhdf"):
                raise ValueError(f"-o: got {args.output!r}; a VTKHDF file's name ends in .vtkhdf")
            _check_writable_folder(args.output, "-o")
        written = export_vtkhdf(args.path, args.output)
    else:
        if args.output is not None:
            raise ValueError(
                f"-o: got {args.output!r}; the XDMF sidecar is always written beside the run "
                "file (-o goes with --vtkhdf)"
            )
        sidecar = write_xdmf(args.path)
        if sidecar is None:
            raise ValueError(
                f"{args.path!r} holds no array on a grid (a lumped model); ParaView has "
                "nothing to show"
            )
        written = [sidecar]
    for path in written:
        print(path)
    return 0


def _plot(args) -> int:
    from continuum.io import RunFileError, open_run

    if args.movie is not None and (args.t is not None or args.output is not None):
        option = "--t" if args.t is not None else "-o"
        raise ValueError(
            f"{option}: a movie (--movie) shows every frame in the file it names; give "
            f"{option} for a picture, --movie for a movie"
        )
    if args.fps is not None and args.movie is None:
        raise ValueError("--fps: the frame rate of a movie; give it with --movie PATH")
    with open_run(args.path) as run:
        from continuum import plotting

        if run.frames == 0:
            raise RunFileError(
                f"{args.path!r} holds no frames (the run stopped before its first save); "
                "there is nothing to plot"
            )
        if args.movie is not None:
            return _movie(args, run, plotting)
        if args.field is None and args.t is None:
            picture = args.output or str(Path(args.path).with_suffix(".png"))
            _check_picture(picture, "-o", replace=args.overwrite or args.output is None)
            title = _scenario_title(run) or Path(args.path).stem
            plotting.plot_summary(run, picture, title=title)
        else:
            shown, note = _frame_time(args, run)
            field = _field_of(args, run, plotting)
            # a snapshot's own name: run_<field>_t<time>.png beside the run file, so it
            # never replaces the summary or another snapshot
            derived = Path(args.path).with_name(f"{Path(args.path).stem}_{field}_t{shown:g}.png")
            picture = args.output or str(derived)
            _check_picture(picture, "-o", replace=args.overwrite or args.output is None)
            if note:
                print(note)
            plotting.save_plot(picture, plotting.plot_field, run, field, shown)
    print(f"{args.path}: picture {picture}")
    return 0


def _field_of(args, run, plotting) -> str:
    """The field ``--field`` names (default: the tumour cells), refused if the run lacks it."""
    choices = plotting.field_choices(run)
    if not choices:
        raise ValueError(
            f"{args.path!r}: a {type(run.model).__name__} run has no fields to draw at a "
            f"time or in a movie; continuum plot {args.path} draws its summary"
        )
    if args.field is not None and args.field not in choices:
        raise ValueError(f"--field: got {args.field!r}; fields are {choices}")
    return args.field or choices[0]


def _frame_time(args, run) -> tuple[float, str | None]:
    """The time of the frame ``--t`` asks for (default: the last) and a note when it is
    not exactly ``--t``. A time outside the run is refused; inside, the nearest frame is
    at most half a save interval away."""
    from continuum.frames import frame_index

    times = run.times
    if args.t is None:
        return float(times[-1]), None
    try:
        shown = float(times[frame_index(times, args.t)])
    except ValueError as error:
        raise ValueError(f"--t: {error}") from None
    if abs(shown - args.t) <= 1e-9 * max(1.0, abs(args.t)):
        return shown, None
    return shown, f"--t {args.t:g}: no frame at that time; drawing the nearest, t = {shown:g} day"


def _movie(args, run, plotting) -> int:
    """``continuum plot RUN --movie PATH``: a movie of a field over the run's frames."""
    from continuum.validation import check_positive

    field = _field_of(args, run, plotting)
    _check_picture(args.movie, "--movie", replace=args.overwrite)
    fps = plotting.DEFAULT_FPS if args.fps is None else args.fps
    check_positive("--fps", fps, "frames per second")
    plotting.movie_writer(args.movie, fps, "--movie")  # a known suffix, ffmpeg for .mp4
    plotting.movie(run, args.movie, field=field, fps=fps)
    print(f"{args.path}: movie {args.movie} ({field}, {run.frames} frames at {fps:g} per second)")
    return 0


def _ensemble(args) -> int:
    from continuum import ensemble

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
        design=args.design,
    )
    done = len(summary.rows) - len(summary.failed)
    print(
        f"{args.output}: {len(summary.rows)} members ({summary.executed} run now, "
        f"{done} ok, {len(summary.failed)} failed); table {Path(args.output) / 'summary.csv'}"
    )
    if summary.rerun:
        print(
            f"  {len(summary.rerun)} member file(s) were damaged or incomplete and were run "
            f"again: {', '.join(summary.rerun[:5])}"
        )
    for row in summary.failed[:5]:
        status = " ".join(str(row["status"]).split())
        print(f"  {row['id']}: {status}")
    return 0 if not summary.failed else 1


def _sensitivity(args) -> int:
    from continuum import ensemble

    summary = ensemble.load_summary(args.path)
    if args.output_name not in summary.columns:
        raise ValueError(f"output: got {args.output_name!r}; columns are {summary.columns}")
    indices = ensemble.summary_sensitivity(summary, args.output_name)
    print(f"Sobol indices of {args.output_name} (95 % intervals):")
    print(ensemble.sensitivity_table(indices))
    for warning in ensemble.sensitivity_warnings(indices, len(summary.sample_ids)):
        print(f"continuum sensitivity: warning: {warning}", file=sys.stderr)
    picture = args.picture or str(Path(args.path) / "sensitivity.png")
    _check_writable_folder(picture, "-o")
    try:
        from continuum import plotting
    except ImportError:
        print("no picture: matplotlib is not installed")
        return 0
    plotting.save_plot(
        picture, plotting.plot_sensitivity, indices, figsize=(6, 4), title=args.output_name
    )
    print(f"picture: {picture}")
    return 0


def _scenario_title(run) -> str:
    import tomllib

    try:
        return str(tomllib.loads(run.attrs.get("scenario", "")).get("title", ""))
    except tomllib.TOMLDecodeError:
        return ""


def _warm_up(args) -> int:
    import numba

    from continuum.warmup import warm_up

    started = time.perf_counter()
    seconds = warm_up(args.targets or None, jobs=args.jobs)
    for name, spent in seconds.items():
        print(f"  {name:<16} {spent:6.1f} s")
    where = numba.config.CACHE_DIR or "__pycache__ beside the package"
    print(f"compiled in {time.perf_counter() - started:.1f} s; cache: {where}")
    return 0


def _info(args) -> int:
    import json
    from pathlib import Path

    from continuum import readable
    from continuum.interventions import to_json
    from continuum.io import open_run

    lines = []  # printed once all is read: a damaged file gives one line, not half a text
    with open_run(args.path) as run:
        attrs = run.attrs
        grid = run.grid
        times = run.times
        spec = run.spec
        size = Path(args.path).stat().st_size
        lines.append(
            f"{args.path}: {attrs.get('format')} v{attrs.get('format_version')}, written by "
            f"continuum {attrs.get('continuum_version', '?')} on {attrs.get('created', '?')}"
        )
        lines.append(f"  file size   {size / 2**20:.2f} MiB")
        lines.append(f"  model       {attrs.get('model', type(run.model).__name__)}")
        for name, value in run.parameters.items():
            unit = spec["units"].get(name, "")
            lines.append(f"    {name:<20} {value:<12g} {unit}")
        masked = ", masked" if grid.mask is not None else ""
        lines.append(
            f"  grid        {' x '.join(map(str, grid.shape))} cells of "
            f"{' x '.join(f'{h:g}' for h in grid.spacing)} mm{masked}"
        )
        for name in run.field_names if len(times) else ():
            run.field(name, times[-1])  # the last frame reads back
        for name in run.series_names:
            run.series(name)
        lines.append(f"  fields      {', '.join(run.field_names)}")
        lines.append(f"  series      {', '.join(run.series_names)}")
        for site in spec.get("sites", []) if len(times) else []:
            prefix = f"sites/{site['name']}/"
            organ = f" (organ {site['organ']})" if site["organ"] != site["name"] else ""
            lines.append(
                f"  site        {readable.site_name(site['name'])}{organ}: "
                f"{readable.expected(run.series(prefix + 'colonies')[-1])} colonies, "
                f"{readable.expected(run.series(prefix + 'detectable')[-1])} detectable "
                f"(expected numbers), {readable.expected(run.series(prefix + 'dormant')[-1])} "
                "dormant cells at the last frame"
            )
        if len(times):
            lines.append(f"  time        {times[0]:g} to {times[-1]:g} day, {run.frames} frames")
        else:
            lines.append("  time        no frames")
        for item in run.interventions:
            settings = to_json(item)
            kind = settings.pop("kind")
            described = ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None)
            lines.append(f"  treatment   {kind}: {described}")
        lines.append(f"  solver      {json.dumps(run.solver_settings)}")
        lines.append(f"  checkpoint  {attrs.get('checkpoint') or 'none'}")
    print("\n".join(lines))
    return 0


DESCRIPTION = """\
Simulate the metastatic cascade (a primary tumour, circulating tumour cells, metastases in
the organs) and tumour invasion as ODE/PDE models, and describe, draw and animate the run
files (HDF5) they write. Lengths in mm, time in days, cells as counts."""

EPILOG = """\
examples:
  continuum run                      the default scenario, a breast cancer patient over ten
                                     years: run.h5 and its summary picture run.png
  continuum run my.toml -o pb.h5     a scenario file: pb.h5 and pb.png
  continuum info run.h5              what a run file holds
  continuum plot run.h5              the summary picture again (run.png)
  continuum run examples/breast_invasion.toml
                                     a spatial scenario (invasion in 2D): breast.h5 and
                                     breast.png
  continuum plot breast.h5 --field mesenchymal --t 365
                                     a snapshot of a field: breast_mesenchymal_t365.png
  continuum plot breast.h5 --movie invasion.gif
                                     a movie of a field over time (.mp4 needs ffmpeg)
  continuum export run.h5 --vtkhdf    a copy for ParaView: run.vtkhdf (the XDMF sidecar
                                     run.xdmf is written after every run)
  continuum resume run.h5 --t-end 730
                                     continue a run from its last checkpoint
  continuum COMMAND --help           the options of a command

exit status: 0 done; 1 some ensemble members failed, or an unexpected error; 2 an error
in the input, a file, the simulation or the disk (one line on stderr); 130 stopped by
Ctrl-C, 143 by SIGTERM."""


def _version() -> str:
    """The installed package's version (its metadata), else the source tree's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("continuum-metastasis")
    except PackageNotFoundError:
        from continuum import __version__

        return __version__


def _parser() -> argparse.ArgumentParser:
    """The parser of the command line: a subcommand each for run, info, resume, plot,
    export, warm-up, ensemble and sensitivity."""
    parser = argparse.ArgumentParser(
        prog="continuum",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s (continuum-metastasis) {_version()}"
    )
    debug_help = "show the traceback of an error (default: one line)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    common = argparse.ArgumentParser(add_help=False)  # --debug after the command, too
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
    commands = parser.add_subparsers(dest="command", required=True)
    _run_commands(commands, common)
    _ensemble_commands(commands, common)
    return parser


def _run_commands(commands, common) -> None:
    """``run``, ``info``, ``resume``, ``plot``, ``export`` and ``warm-up``."""
    from continuum import warmup

    run = commands.add_parser(
        "run",
        parents=[common],
        help="run a scenario file, or the default breast scenario, and save a picture",
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
    run.add_argument(
        "-f",
        "--overwrite",
        action="store_true",
        help="replace an existing run file (and a picture named by --picture)",
    )
    run.add_argument(
        "--picture",
        help="path of the summary picture (default: the run file's name with .png, "
        "replaced with the run file)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    info = commands.add_parser("info", parents=[common], help="describe a run file")
    info.add_argument("path", help="run file (.h5)")
    resume = commands.add_parser(
        "resume", parents=[common], help="continue a run file from its checkpoint"
    )
    resume.add_argument("path", help="run file (.h5)")
    resume.add_argument("--t-end", type=float, required=True, help="new end time [day]")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")
    plot = commands.add_parser(
        "plot",
        parents=[common],
        help="draw a run file: its summary, a field at a time, or a movie of a field",
        description="Draw a run file: its summary picture, a snapshot of one field\n"
        "(--field, --t), or a movie of a field over the run (--movie).",
        epilog=PLOT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plot.add_argument("path", help="run file (.h5)")
    plot.add_argument(
        "-o", "--output", help="the picture's path (PNG, SVG or PDF; default: see below)"
    )
    plot.add_argument(
        "--field",
        help="a field, or 'cells' for the summed tumour-cell density (default: cells, "
        "else the first field)",
    )
    plot.add_argument("--t", type=float, help="time of the snapshot [day] (default: the last)")
    plot.add_argument("--movie", metavar="PATH", help="write a movie of --field: .gif or .mp4")
    plot.add_argument(
        "--fps", type=float, help="movie frames (saved frames of the run) per second (default 8)"
    )
    plot.add_argument(
        "-f",
        "--overwrite",
        action="store_true",
        help="replace an existing file named by -o or --movie",
    )
    export = commands.add_parser(
        "export",
        parents=[common],
        help="write a run file for ParaView: a VTKHDF copy, or the XDMF sidecar again",
    )
    export.add_argument("path", help="run file (.h5)")
    kind = export.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "--vtkhdf",
        action="store_true",
        help="self-contained VTKHDF image files (ParaView >= 5.12), one per grid",
    )
    kind.add_argument(
        "--xdmf",
        action="store_true",
        help="the XDMF sidecar (run.xdmf, run.xdmf.h5), as written after every run",
    )
    export.add_argument(
        "-o", "--output", help="with --vtkhdf: the main file (default: the run's, .vtkhdf)"
    )
    warm = commands.add_parser(
        "warm-up",
        parents=[common],
        help="compile the kernels of the common runs into the disk cache (once per machine)",
    )
    targets = ", ".join(warmup.TARGETS)
    warm.add_argument("targets", nargs="*", help=f"what to compile: {targets} (default: all)")
    warm.add_argument("--jobs", type=int, help="processes at a time (default: the CPUs)")


PLOT_EPILOG = """\
pictures are named after the run file, beside it, so they never replace each other:
  continuum plot run.h5                  the summary: run.png (as continuum run wrote it)
  continuum plot run.h5 --field mesenchymal --t 365
                                         a snapshot: run_mesenchymal_t365.png (the time of
                                         the frame drawn, the nearest to --t)
  continuum plot run.h5 --movie inv.gif  a movie of the tumour cells, one frame per saved
                                         frame; --field names another field
these names are replaced when drawn again; a file named by -o or --movie that exists is
kept unless -f (--overwrite) is given."""


def _ensemble_commands(commands, common) -> None:
    """``ensemble`` and ``sensitivity``."""
    sweep = commands.add_parser(
        "ensemble",
        parents=[common],
        help="run many members of a scenario on Dask (a cohort, a sweep)",
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
        "sensitivity",
        parents=[common],
        help="Sobol indices of an output of a sweep on a saltelli design",
    )
    sobol.add_argument("path", help="the ensemble's folder (with summary.h5)")
    sobol.add_argument("output_name", metavar="OUTPUT", help="a summary column")
    sobol.add_argument("-o", "--picture", help="bar chart (default: PATH/sensitivity.png)")


def main(argv=None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        if not args.debug:  # a warning is one line too, not a path and a source line
            warnings.showwarning = lambda message, *rest, **kw: print(
                f"continuum {args.command}: warning: {_one_line(message)}", file=sys.stderr
            )
        return _command(args)


def _command(args) -> int:
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:  # output piped into a command that stopped reading (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as error:
        if args.debug:
            traceback.print_exc()
        print(f"continuum {args.command}: {_stopped(error, args)}", file=sys.stderr)
        name = getattr(error, "signal_name", "SIGINT")  # a simulation's RunInterrupted
        return 128 + getattr(signal.Signals, str(name), signal.SIGINT).value
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        message, code = _describe(error, args)
        print(f"continuum {args.command}: {message}", file=sys.stderr)
        return code


COMMANDS = {
    "run": _run,
    "info": _info,
    "resume": _resume,
    "plot": _plot,
    "export": _export,
    "warm-up": _warm_up,
    "ensemble": _ensemble,
    "sensitivity": _sensitivity,
}


# -- errors: one line each, never a traceback (``continuum --debug ...`` shows it) ---------
EXIT_ERROR = 2  # a known error: bad input, a bad file, a failed simulation, a full disk
EXIT_UNEXPECTED = 1  # anything else (a bug: rerun with --debug and report it)
DEBUG_HINT = "continuum --debug ... shows the traceback"


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _describe(error: BaseException, args) -> tuple[str, int]:
    """The message and exit status of an error that stopped a command."""
    import json

    from continuum.io import RunFileError
    from continuum.scenario import ScenarioError
    from continuum.solvers import SimulationError

    if isinstance(error, ScenarioError):
        return str(error), EXIT_ERROR  # its problems, one per line
    if isinstance(error, RunFileError):
        return _one_line(error), EXIT_ERROR
    if isinstance(error, SimulationError):
        return f"the simulation failed: {_one_line(error)}", EXIT_ERROR
    if isinstance(error, MemoryError):
        detail = f" ({_one_line(error)})" if str(error) else ""
        return (
            f"not enough memory{detail}; use a coarser grid, fewer frames (a larger "
            "save_every) or a shorter run",
            EXIT_ERROR,
        )
    if isinstance(error, OSError):
        return _os_message(error, args), EXIT_ERROR
    if isinstance(error, ImportError):
        name = getattr(error, "name", None) or ""
        if name.split(".")[0] == "matplotlib":
            return "needs matplotlib (pip install 'continuum-metastasis[plot]')", EXIT_ERROR
        return f"a package is missing: {_one_line(error)}", EXIT_ERROR
    if isinstance(error, UnicodeDecodeError) and args.command in ("run", "ensemble"):
        scenario = args.scenario or default_scenario_path()
        return f"{str(scenario)!r} is not a TOML text file ({_one_line(error)})", EXIT_ERROR
    source = _file_of(args)
    damage = (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError)
    if source is not None and isinstance(error, (*damage, IndexError)):
        # a low-level failure while reading a file: name the file and what broke
        detail = error.args[0] if isinstance(error, KeyError) and error.args else error
        return (
            f"{str(source)!r} is damaged or not a complete {_kind_of(args)} "
            f"({type(error).__name__}: {_one_line(detail)}); {DEBUG_HINT}",
            EXIT_ERROR,
        )
    if isinstance(error, ValueError | OverflowError):
        return _one_line(error), EXIT_ERROR
    if isinstance(error, KeyError) and error.args:
        return _one_line(error.args[0]), EXIT_ERROR
    return (
        f"unexpected {type(error).__name__}: {_one_line(error)} ({DEBUG_HINT}; please report it)",
        EXIT_UNEXPECTED,
    )


def _file_of(args):
    """The file a command reads, if any."""
    if args.command in ("info", "plot", "resume", "export"):
        return args.path
    if args.command == "sensitivity":
        return Path(args.path) / "summary.h5"
    return None


def _kind_of(args) -> str:
    return "ensemble summary" if args.command == "sensitivity" else "run file"


def _os_message(error: OSError, args=None) -> str:
    """An ``OSError`` (also h5py's, which carry the errno in their text) in words."""
    import errno
    import re

    text = str(error)
    number = error.errno
    if number is None:
        found = re.search(r"errno = (\d+)", text)
        number = int(found[1]) if found else None
    name = error.filename
    if name is None:
        found = re.search(r"name = '([^']*)'", text)
        name = found[1] if found else None
    where = f" ({str(name)!r})" if name is not None else ""
    if number in (errno.ENOSPC, errno.EDQUOT):
        message = f"no space left on the device{where}; free some space or write elsewhere"
        hint = getattr(args, "resume_hint", None)
        if hint is not None and Path(hint[0]).is_file():
            message += (
                f"; the run file keeps the frames written before, and continues with: "
                f"{_resume_command(*hint)}"
            )
        return message
    if number == errno.EROFS:
        return f"cannot write{where}: the file system is read-only; write elsewhere"
    if number in (errno.EACCES, errno.EPERM):
        return f"permission denied{where}; write elsewhere or check the folder's permissions"
    if number == errno.ENOENT:
        return f"no such file or folder{where}"
    reason = error.strerror or text or type(error).__name__
    return _one_line(f"{reason}{where}" if name is not None and str(name) not in text else reason)


def _resume_command(path, t_end) -> str:
    import shlex

    return f"continuum resume {shlex.quote(str(path))} --t-end {t_end:g}"


def _stopped(error: KeyboardInterrupt, args) -> str:
    """Where a run stopped by Ctrl-C (or SIGTERM) is, and how to continue it. The
    simulation may raise an interrupt carrying the time ``t`` of the checkpoint it wrote
    and the run file's ``path``; without them, resume restarts from the file's last
    checkpoint."""
    if args.command == "ensemble":
        return (
            f"stopped; the finished members are kept in {args.output}: the same command "
            "runs the others"
        )
    hint = getattr(args, "resume_hint", None)
    if hint is None:
        return "stopped"
    path = getattr(error, "path", None) or hint[0]
    t_end = hint[1]
    t = getattr(error, "t", None)
    if t is not None:
        return f"stopped at t = {float(t):g} day; resume with: {_resume_command(path, t_end)}"
    try:
        from continuum.io import open_run

        with open_run(path) as run:
            last = float(run.checkpoint()["t"])
    except Exception:  # no file yet, or no checkpoint in it
        return "stopped before the run saved a checkpoint; there is nothing to resume"
    return (
        f"stopped; resume with: {_resume_command(path, t_end)} (it restarts from the last "
        f"checkpoint in the file, t = {last:g} day)"
    )


if __name__ == "__main__":
    sys.exit(main())
