"""``simulate``: run a model from a state to ``t_end``, keeping frames at output times."""

from __future__ import annotations

import logging
import math
import signal
import threading
import warnings
from contextlib import contextmanager

import numpy as np

from continuum.compilation import CompileWatch
from continuum.interventions import Schedule
from continuum.io.layout import COMPRESSIONS
from continuum.io.reader import RunFile, open_run
from continuum.io.writer import RunWriter, check_disk_space, check_output_path
from continuum.io.xdmf import write_sidecar
from continuum.kernels.reductions import integrate_fields
from continuum.models.base import Model
from continuum.progress import show_progress
from continuum.result import Result
from continuum.solvers.base import make_solver
from continuum.solvers.cascade import CascadeSolver
from continuum.solvers.choice import CHOICES, choose_method
from continuum.state import State, check_frames_fit, check_state_fits
from continuum.threads import ThreadGovernor
from continuum.trackers import (
    Callback,
    FileStorage,
    ProgressBar,
    RunInfo,
    check_trackers,
)
from continuum.validation import check_choice, check_positive, check_real

LOG = logging.getLogger("continuum")


def output_times(t_start: float, t_end: float, save_every: float) -> np.ndarray:
    """``t_start, t_start + save_every, ...`` up to and always including ``t_end``."""
    n = math.floor((t_end - t_start) / save_every * (1 + 1e-12))
    times = t_start + save_every * np.arange(n + 1)
    if t_end - times[-1] > 1e-9 * save_every:
        times = np.append(times, t_end)
    else:
        times[-1] = t_end
    return times


def diagnostics(model: Model, state: State) -> dict[str, float]:
    """Series recorded at every frame: field totals [field x mm^3], the scalars and the
    model's derived series."""
    grid = state.grid
    totals = np.zeros(len(state.field_names))
    if state.field_names:
        data = state.data.reshape((-1, *grid.shape3))
        integrate_fields(data, grid.mask3(), grid.cell_volume, totals)
    values = {f"total_{name}": float(t) for name, t in zip(state.field_names, totals, strict=True)}
    scalars = state.scalars.tolist()
    for name, (offset, shape) in state.scalar_layout.items():
        if shape == ():
            values[name] = scalars[offset]
    values.update(model.derived_series(state))
    return values


def _series_units(model: Model, state: State) -> dict[str, str]:
    units = {f"total_{name}": "mm^3" for name in state.field_names}
    units.update({name: "cells" for name in state.scalar_names if np.ndim(state[name]) == 0})
    units.update(model.series_units)
    units.update({"dt": "day", "steps": "1"})
    return units


# The rarely-used options of :func:`simulate` and their defaults (keywords of simulate).
OPTIONS = {
    "overwrite": False,
    "compression": "gzip",
    "checkpoint_every": None,
    "t_start": 0.0,
    "rtol": None,
    "atol": 1e-8,
    "max_steps": 10**9,
    "progress": None,
    "callback": None,
    "implicit": None,
    "scenario": None,
    "threads": None,
}


def simulate(
    model: Model,
    state: State,
    t_end: float,
    save_every: float | None = None,
    method: str = "auto",
    dt: float | None = None,
    output=None,
    *,
    interventions=(),
    trackers=(),
    **options,
) -> Result:
    """Integrate ``model`` from ``state`` at ``t_start`` to ``t_end`` [day].

    Parameters
    ----------
    model, state : the model and its initial state (not modified).
    t_end : final time [day], > ``t_start``.
    save_every : interval between stored frames [day]; default ``(t_end - t_start) / 100``.
    method : ``"auto"`` (default: ``"imex"`` for stiff fields or when diffusion holds
        explicit steps far below the reactions' time scale, else ``"explicit"``; see
        ``continuum.solvers.choice``; the choice and why is logged and stored in the run
        file's solver settings as ``method_choice``), ``"euler"`` (forward Euler, fixed
        ``dt``; order 1), ``"explicit"`` (order 3: adaptive SSP-RK(4,3) where the error
        sets the step, SSP-RK(9,3) where positivity does; SSP-RK(4,3) with a given
        ``dt``), ``"imex"`` (implicit LOD diffusion, explicit reactions and taxis; order
        1, adaptive unless ``dt`` is given) or ``"imex2"`` (Richardson extrapolation of IMEX
        Euler with taxis in the implicit line solves, ``2 E_{dt/2}(E_{dt/2}(u)) -
        E_dt(u)``; order 2, adaptive unless ``dt`` is given; neither diffusion nor taxis
        limits the step).
    dt : fixed step [day]; ``None`` for adaptive steps.
    output : path of an HDF5 run file to stream frames to (see ``docs/run-file-format.md``).
    interventions : treatments (:class:`~continuum.interventions.Resection`,
        ``Radiotherapy``, ``SystemicTherapy``) applied on the way; what they kill is booked
        in ``removed``. Stored in the run file, so ``resume`` applies the later ones.
    trackers : :class:`~continuum.trackers.Tracker` objects called between frames, each
        at its own ``interval`` (e.g. :class:`~continuum.trackers.SteadyState`), after
        the ones the options below build (file storage, progress bar, callback).

    Other Parameters
    ----------------
    overwrite : replace an existing ``output`` file (refused otherwise).
    compression : ``"gzip"`` (shuffle + deflate; default: read by any HDF5 reader),
        ``"lzf"`` (h5py only, without a plugin) or ``None``.
    checkpoint_every : interval between checkpoints [day]; default every 10 frames. A
        checkpoint is always written at the end, so any run can be extended by ``resume``.
    t_start : initial time [day]; default 0.
    rtol, atol : tolerances of the adaptive step control; ``rtol`` defaults to 1e-4 with
        fields, 1e-8 for lumped (scalar-only) models, ``atol`` to 1e-8.
    max_steps : the most steps the run may take (default 10^9).
    progress : show a progress bar (default: in a terminal or a Jupyter notebook; see
        :mod:`continuum.progress`).
    callback : ``callback(t, state)`` at every frame; ``True`` stops the run. The file
        counts frames in blocks (at most 64 frames or 2 s behind) and before a callback.
    implicit : for ``"imex"`` and ``"imex2"``, the fields diffused implicitly (default all
        that diffuse).
    scenario : the scenario's TOML text, stored in the run file's ``scenario`` attribute.
    threads : Numba threads of the run: ``None`` (default) chooses, at the start and at
        every frame, the cores other processes leave free (at most
        ``numba.get_num_threads()``; fixed when ``NUMBA_NUM_THREADS`` is set in the
        environment); an integer fixes it. Results do not depend on it.

    Returns
    -------
    Result
        Frames in memory (also in ``output`` when given).
    """
    options = _options(options)
    settings, t_end = _settings(model, state, t_end, save_every, method, dt, output, options)
    governor = ThreadGovernor(options["threads"])
    user = check_trackers(trackers)
    if options["callback"] is not None:
        user.insert(0, Callback(options["callback"]))
    schedule = Schedule(interventions, model, state.grid, settings["t_start"])
    if output is not None:
        output = check_output_path(output, options["overwrite"])
        frames = math.floor((t_end - settings["t_start"]) / settings["save_every"]) + 2
        check_disk_space(output, frames * _frame_bytes(model, state), settings["compression"])
    state = state.copy()
    solver = _make_solver(model, state, settings)
    times = output_times(settings["t_start"], t_end, settings["save_every"])
    writer = None
    try:
        with CompileWatch() as before_frames:  # the kernels the run compiles meanwhile
            solver.start_compiling()  # the loop's shared kernels, while the first frame goes
        if output is not None:
            writer = _create_writer(output, model, state, solver, settings, schedule, options)
        with _stop_on_signals(writer is not None) as stop, CompileWatch() as watch:
            run_trackers = _trackers(writer, solver, times, settings, options["progress"], stop)
            run_trackers.insert(0, governor)
            result = _run(model, state, solver, schedule, times, settings, run_trackers + user)
        result.solver_stats["compile_seconds"] = before_frames.seconds + watch.seconds
    finally:
        solver.stop_compiling()
        if writer is not None:
            writer.close()
    if output is not None:
        write_sidecar(output, stacklevel=3)
    return result


def _create_writer(output, model, state, solver, settings, schedule, options) -> RunWriter:
    units = _series_units(model, state)
    text = options["scenario"] or ""
    compression = settings["compression"]
    return RunWriter.create(
        output, model, state, solver, settings, units, compression, text, schedule.items
    )


def _options(given: dict) -> dict:
    """The rarely-used keywords of :func:`simulate` with their defaults; an unknown one
    is a ``TypeError``, as for any Python function."""
    unknown = sorted(set(given) - set(OPTIONS))
    if unknown:
        raise TypeError(
            f"simulate() got an unexpected keyword argument {unknown[0]!r}; the options are "
            f"{', '.join(OPTIONS)}"
        )
    return {**OPTIONS, **given}


def _settings(model, state, t_end, save_every, method, dt, output, options):
    """The checked settings of a run, as stored in its file (``solver_settings``), and
    its checked ``t_end`` [day]."""
    if not isinstance(model, Model):
        raise ValueError(f"model: got {type(model).__name__}; a continuum model is required")
    check_state_fits(model, state)
    check_choice("method", method, CHOICES)
    choice = f"given: {method}"
    if method == "auto":
        method, reason = choose_method(model, state.grid)
        choice = f"auto: {method}, {reason}"
        LOG.info("method=auto chose %r: %s", method, reason)
    compression = options["compression"]
    check_choice("compression", compression, COMPRESSIONS)
    t_start = check_real("t_start", options["t_start"], "day")
    t_end = check_real("t_end", t_end, "day")
    if not t_end > t_start:
        raise ValueError(f"t_end: got {t_end:g} day; it must be > t_start = {t_start:g} day")
    _check_composite_times(model, t_start, t_end)
    if save_every is None:
        save_every = (t_end - t_start) / 100.0
    save_every = check_positive("save_every", save_every, "day")
    check_frames_fit(state, t_start, t_end, save_every, fields=output is None)
    checkpoint_every = options["checkpoint_every"]
    if checkpoint_every is None:
        checkpoint_every = 10 * save_every
    checkpoint_every = check_positive("checkpoint_every", checkpoint_every, "day")
    rtol = options["rtol"]
    if rtol is None:
        rtol = 1e-4 if model.has_tissue() else 1e-8
    return {
        "method": method,
        "method_choice": choice,
        "dt": dt,
        "rtol": rtol,
        "atol": options["atol"],
        "max_steps": options["max_steps"],
        "implicit": options["implicit"],
        "t_start": t_start,
        "save_every": save_every,
        "checkpoint_every": checkpoint_every,
        "compression": compression,
    }, t_end


def _trackers(writer, solver, times, settings, progress, stop) -> list:
    """The trackers a run always has: file storage (with a run file), the progress bar."""
    trackers = []
    if writer is not None:
        off_grid_end = not _on_save_grid(times[-1], settings)
        every = settings["checkpoint_every"]
        trackers.append(FileStorage(writer, solver, every, off_grid_end, stop))
    trackers.append(ProgressBar(enabled=show_progress(progress)))
    return trackers


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped (Ctrl-C, SIGTERM) and checkpointed at ``t`` [day] in ``path``."""

    def __init__(self, t: float, path, signal_name: str):
        self.t = float(t)
        self.path = path
        self.signal_name = signal_name
        super().__init__(
            f"stopped by {signal_name} at t = {t:g} day; {str(path)!r} holds the run to "
            f"there: continue it with `continuum resume {path} --t-end ...` or "
            "ct.resume(path, t_end)"
        )


class _StopRequest:
    """Set by a signal handler; the run stops at its next frame."""

    signal_name = ""


@contextmanager
def _stop_on_signals(enabled: bool):
    """While a run writes a file, SIGINT and SIGTERM ask it to stop at its next frame,
    after a checkpoint there (the compiled loops return to Python only between frames);
    a second signal stops it at once (the last checkpoint still holds)."""
    stop = _StopRequest()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def request(number, frame):
        if stop.signal_name:
            raise KeyboardInterrupt
        stop.signal_name = signal.Signals(number).name

    previous = {s: signal.signal(s, request) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _frame_bytes(model: Model, state: State) -> float:
    """Bytes one frame takes in a run file, uncompressed: fields, series, frame arrays."""
    values = state.data.size + len(_series_units(model, state))
    for item in model.frame_array_info().values():
        values += math.prod(len(axis.values) for axis in item.axes)
    return 8.0 * values


def _check_composite_times(model, t_start, t_end):
    """A cascade (a model around a primary) covers ``[0, horizon]`` days."""
    if model.primary is model:
        return
    if t_start < 0:
        raise ValueError(f"t_start: got {t_start:g} day; a cascade's clock starts at 0 day")
    if t_end > model.horizon * (1 + 1e-12):
        raise ValueError(
            f"t_end: got {t_end:g} day; this cascade's cohorts cover {model.horizon:g} "
            "days: build it with a larger horizon=..."
        )


def _make_solver(model, state, settings, t=None):
    options = {key: settings[key] for key in ("dt", "rtol", "atol", "max_steps")}
    options["t"] = settings["t_start"] if t is None else t
    if settings["method"] in ("imex", "imex2"):
        options["implicit"] = settings["implicit"]
    if model.primary is not model:  # a cascade: primary, circulation and sites
        return CascadeSolver(settings["method"], model, state, **options)
    return make_solver(settings["method"], model, state, **options)


class _Record:
    """What a run keeps in memory for its :class:`Result`: the scalars and series of
    every frame, and the fields when there is no run file to read them back from."""

    def __init__(self, model, state, times, fields: bool):
        self.frames = np.empty((len(times), *state.data.shape)) if fields else None
        self.scalars = np.empty((len(times), state.scalars.size))
        self.units = _series_units(model, state)
        self.series = {name: np.empty(len(times)) for name in self.units}
        self.count = 0

    def add(self, i: int, model, state, solver) -> dict[str, float]:
        """Record frame ``i``; returns its series."""
        if self.frames is not None:
            self.frames[i] = state.data
        self.scalars[i] = state.scalars
        values = diagnostics(model, state)
        values["dt"] = np.nan if solver.dt is None else solver.dt
        values["steps"] = solver.steps
        for name, value in values.items():
            self.series[name][i] = value
        self.count = i + 1
        return values

    def result(self, model, state, times, solver, settings, schedule, path) -> Result:
        n = self.count
        stats = {"steps": solver.steps, "rejected": solver.rejected, "method": settings["method"]}
        frames = None if self.frames is None else self.frames[:n]
        series = {k: v[:n] for k, v in self.series.items()}
        result = Result(
            model, state.grid, times[:n], frames, series, state, stats, self.scalars[:n]
        )
        result.interventions = list(schedule.items)
        result.units = _series_units(model, state)
        result.path = path
        return result


def _run(model, state, solver, schedule, times, settings, trackers) -> Result:
    """Advance through ``times`` (the first is the current time), handing every frame
    to the trackers due there; one returning ``True`` stops the run at that frame (with
    a checkpoint in the run file). A signal (``stop``) stops it with
    :class:`RunInterrupted` once the file holds the frame and a checkpoint."""
    storage = next((t for t in trackers if isinstance(t, FileStorage)), None)
    path = None if storage is None else storage.path
    record = _Record(model, state, times, fields=storage is None)
    info = RunInfo(model, times, settings["save_every"], path)
    last: list = [None] * len(trackers)
    started = []
    try:
        for tracker in trackers:
            tracker.start(info)
            started.append(tracker)
        for i, t_out in enumerate(times):
            if i > 0:
                schedule.advance(solver, model, state, t_out)
            info.frame = i
            info.series = record.add(i, model, state, solver)
            if _handle(trackers, last, t_out, state, info, storage):
                if storage is not None:
                    storage.checkpoint(state)
                break
    finally:
        for tracker in started:
            tracker.finish()
    return record.result(model, state, times, solver, settings, schedule, path)


def _handle(trackers, last, t, state, info, storage) -> bool:
    """Hand frame ``t`` [day] to the trackers due; whether one asks to stop."""
    stopped = False
    for k, tracker in enumerate(trackers):
        if not tracker.due(t, last[k], info):
            continue
        if tracker.reads_file and storage is not None:
            storage.flush()  # a frame a tracker sees is counted in the file
        last[k] = t
        stopped |= tracker.handle(t, state) is True
        if tracker is storage and storage.stop.signal_name and not info.last_frame:
            raise RunInterrupted(t, storage.path, storage.stop.signal_name)
    return stopped


def resume(
    path,
    t_end: float,
    *,
    progress: bool | None = None,
    callback=None,
    trackers=(),
    threads: int | None = None,
) -> RunFile:
    """Continue the run in ``path`` from its last checkpoint to ``t_end`` [day].

    Frames written after that checkpoint (by a run that was killed) are dropped first, so
    the time axis stays monotone, with a warning that says what is dropped. A run that
    ended off the save grid continues from its last frame on the grid (its final frame
    is dropped), so the continuation is bit-for-bit the run that was not interrupted.
    ``progress``, ``callback``, ``trackers`` and ``threads`` as in :func:`simulate`.
    Returns the run file opened for reading.
    """
    governor = ThreadGovernor(threads)
    user = check_trackers(trackers)
    if callback is not None:
        user.insert(0, Callback(callback))
    with open_run(path) as run:
        model = run.model
        settings = run.solver_settings
        interventions = run.interventions
        slot = run.attrs["checkpoint"]
        point = run.checkpoint()
        if not _on_save_grid(point["t"], settings):
            other = run.other_checkpoint()
            if other is not None and _on_save_grid(other["t"], settings):
                slot, point = other["slot"], other
        state = run.state(model, point)
        stored_times = run.times
    t_end = float(t_end)
    _check_composite_times(model, 0.0, t_end)
    if not t_end > point["t"]:
        raise ValueError(
            f"t_end: got {t_end:g} day; the run in {str(path)!r} is already at "
            f"t = {point['t']:g} day, so there is nothing to resume"
        )
    schedule = Schedule(interventions, model, state.grid, settings["t_start"])
    solver = _make_solver(model, state, settings, t=point["t"])
    solver.restore(point["t"], point["dt"], point["steps"], point["rejected"], point["arrays"])
    planned = output_times(settings["t_start"], t_end, settings["save_every"])
    times = np.concatenate([[point["t"]], planned[planned > point["t"] * (1 + 1e-15)]])
    kept = int(point["frame"]) + 1
    if len(stored_times) > kept:
        warnings.warn(
            f"resuming {str(path)!r} from its checkpoint at t = {point['t']:g} day: the "
            f"{len(stored_times) - kept} frame(s) after it (to t = {stored_times[-1]:g} day) "
            "are dropped and computed again",
            RuntimeWarning,
            stacklevel=2,
        )
    writer = RunWriter.reopen(path)
    try:
        writer.truncate(kept)
        writer.use_checkpoint(slot)
        with _stop_on_signals(True) as stop:
            run_trackers = _trackers(writer, solver, times, settings, progress, stop)
            run_trackers.insert(0, governor)
            _run(model, state, solver, schedule, times, settings, run_trackers + user)
    finally:
        writer.close()
    write_sidecar(path, stacklevel=3)
    return open_run(path)


def _on_save_grid(t: float, settings: dict) -> bool:
    """Whether ``t`` [day] is one of the run's save times ``t_start + k save_every``."""
    steps = (t - settings["t_start"]) / settings["save_every"]
    return abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps))
