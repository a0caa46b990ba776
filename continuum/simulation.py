"""``simulate``: run a model from a state to ``t_end``, keeping frames at output times."""

from __future__ import annotations

import math
import signal
import sys
import threading
import warnings
from contextlib import contextmanager

import numpy as np

from continuum.interventions import Schedule
from continuum.io.layout import COMPRESSIONS
from continuum.io.reader import RunFile, open_run
from continuum.io.writer import RunWriter, check_disk_space, check_output_path
from continuum.io.xdmf import write_xdmf
from continuum.kernels.reductions import integrate_fields
from continuum.models.base import Model
from continuum.models.cascade import Cascade
from continuum.result import Result
from continuum.solvers.base import METHODS, make_solver
from continuum.solvers.cascade import CascadeSolver
from continuum.state import State, check_frames_fit, check_state_fits
from continuum.trackers import ProgressBar
from continuum.validation import check_choice, check_positive, check_real


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
    totals = np.empty(len(state.field_names))
    integrate_fields(state.data.reshape((-1, *grid.shape3)), grid.mask3(), grid.cell_volume, totals)
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


def simulate(
    model: Model,
    state: State,
    t_end: float,
    save_every: float | None = None,
    method: str = "explicit",
    dt: float | None = None,
    output=None,
    *,
    overwrite: bool = False,
    compression: str | None = "gzip",
    checkpoint_every: float | None = None,
    t_start: float = 0.0,
    rtol: float | None = None,
    atol: float = 1e-8,
    max_steps: int = 10**9,
    progress: bool | None = None,
    callback=None,
    implicit=None,
    scenario: str | None = None,
    interventions=(),
) -> Result:
    """Integrate ``model`` from ``state`` at ``t_start`` to ``t_end`` [day].

    Parameters
    ----------
    model, state : the model and its initial state (not modified).
    t_end : final time [day], > ``t_start``.
    save_every : interval between stored frames [day]; default ``(t_end - t_start) / 100``.
    method : ``"euler"`` (forward Euler, fixed ``dt``; order 1), ``"explicit"`` (SSP-RK3,
        order 3, adaptive unless ``dt`` is given) or ``"imex"`` (implicit LOD diffusion,
        explicit reactions and taxis; order 1, adaptive unless ``dt`` is given).
    dt : fixed step [day]; ``None`` for adaptive steps.
    output : path of an HDF5 run file to stream frames to (see ``docs/run-file-format.md``).
    overwrite : replace an existing ``output`` file (refused otherwise).
    compression : ``"gzip"`` (with shuffle; default), ``"lzf"`` or ``None``.
    checkpoint_every : interval between checkpoints [day]; default every 10 frames. A
        checkpoint is always written at the end, so any run can be extended by ``resume``.
    rtol, atol : tolerances of the adaptive step control; ``rtol`` defaults to 1e-4 for
        models with fields and 1e-8 for lumped (scalar-only) models, whose steps are cheap.
    progress : show a progress bar (default: when standard error is a terminal).
    callback : ``callback(t, state)`` at every frame; returning ``True`` stops the run.
        The file counts frames in blocks (at most 64 frames or 2 s behind the run) and
        always before the callback sees a frame.
    implicit : for ``"imex"``, the fields diffused implicitly (default all that diffuse).
    scenario : the scenario's TOML text, stored in the run file's ``scenario`` attribute.
    interventions : treatments (:class:`~continuum.interventions.Resection`,
        ``Radiotherapy``, ``SystemicTherapy``) applied on the way; what they kill is booked
        in ``removed``. Stored in the run file, so ``resume`` applies the later ones.

    Returns
    -------
    Result
        Frames in memory (also in ``output`` when given).
    """
    if not isinstance(model, Model):
        raise ValueError(f"model: got {type(model).__name__}; a continuum model is required")
    check_state_fits(model, state)
    check_choice("method", method, METHODS)
    check_choice("compression", compression, COMPRESSIONS)
    t_start = check_real("t_start", t_start, "day")
    t_end = check_real("t_end", t_end, "day")
    if not t_end > t_start:
        raise ValueError(f"t_end: got {t_end:g} day; it must be > t_start = {t_start:g} day")
    if isinstance(model, Cascade):
        _check_cascade_times(model, t_start, t_end)
    if save_every is None:
        save_every = (t_end - t_start) / 100.0
    save_every = check_positive("save_every", save_every, "day")
    check_frames_fit(state, t_start, t_end, save_every, fields=output is None)
    if checkpoint_every is None:
        checkpoint_every = 10 * save_every
    checkpoint_every = check_positive("checkpoint_every", checkpoint_every, "day")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback: got {callback!r}; a callable (t, state) is required")
    if rtol is None:
        rtol = 1e-4 if model.has_tissue() else 1e-8
    schedule = Schedule(interventions, model, state.grid, t_start)
    if output is not None:
        output = check_output_path(output, overwrite)
        frames = math.floor((t_end - t_start) / save_every) + 2
        check_disk_space(output, frames * _frame_bytes(model, state), compression)
    state = state.copy()
    settings = {
        "method": method,
        "dt": dt,
        "rtol": rtol,
        "atol": atol,
        "max_steps": max_steps,
        "implicit": implicit,
        "t_start": t_start,
        "save_every": save_every,
        "checkpoint_every": checkpoint_every,
        "compression": compression,
    }
    solver = _make_solver(model, state, settings)
    times = output_times(t_start, t_end, save_every)
    writer = None
    if output is not None:
        writer = RunWriter.create(
            output,
            model,
            state,
            solver,
            settings,
            _series_units(model, state),
            compression,
            scenario or "",
            schedule.items,
        )
    try:
        with _stop_on_signals(writer is not None) as stop:
            result = _run(
                model, state, solver, schedule, times, writer, settings, progress, callback, stop
            )
    finally:
        if writer is not None:
            writer.close()
    if output is not None:
        _write_sidecar(output)
    return result


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


def _write_sidecar(path) -> None:
    """The XDMF sidecar for ParaView; the run file is complete without it, so a failure
    (a full disk) is a warning, not an error."""
    try:
        write_xdmf(path)
    except OSError as error:
        warnings.warn(
            f"{str(path)!r} is complete, but its XDMF sidecar for ParaView could not be "
            f"written ({error}); continuum.io.xdmf.write_xdmf(path) writes it later",
            RuntimeWarning,
            stacklevel=3,
        )


def _check_cascade_times(model, t_start, t_end):
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
    if settings["method"] == "imex":
        options["implicit"] = settings["implicit"]
    if isinstance(model, Cascade):
        return CascadeSolver(settings["method"], model, state, **options)
    return make_solver(settings["method"], model, state, **options)


def _run(
    model, state, solver, schedule, times, writer, settings, progress, callback, stop
) -> Result:
    """Advance through ``times`` (the first is the current time), storing every frame.

    A final time off the save grid gets a checkpoint at the frame before it too, so that
    ``resume`` can continue from the save grid (the run that was not stopped there)."""
    off_grid_end = not _on_save_grid(times[-1], settings)
    # With a run file the fields go there and the result reads them back from it.
    frames = np.empty((len(times), *state.data.shape)) if writer is None else None
    scalar_frames = np.empty((len(times), state.scalars.size))
    series = {name: np.empty(len(times)) for name in _series_units(model, state)}
    show = sys.stderr.isatty() if progress is None else bool(progress)
    checkpoint_every = settings["checkpoint_every"]
    last_checkpoint = times[0]
    n_done = 0
    with ProgressBar(times[0], times[-1], enabled=show) as bar:
        for i, t_out in enumerate(times):
            if i > 0:
                schedule.advance(solver, model, state, t_out)
            if frames is not None:
                frames[i] = state.data
            scalar_frames[i] = state.scalars
            values = diagnostics(model, state)
            values["dt"] = np.nan if solver.dt is None else solver.dt
            values["steps"] = solver.steps
            for name, value in values.items():
                series[name][i] = value
            n_done = i + 1
            if writer is not None and (i > 0 or writer.frames == 0):
                writer.append(t_out, state, values, model.frame_arrays(state))
                due = t_out - last_checkpoint >= checkpoint_every * (1 - 1e-12)
                before_off_grid_end = off_grid_end and i == len(times) - 2
                if due or before_off_grid_end or i == len(times) - 1 or stop.signal_name:
                    writer.checkpoint(state, solver)
                    last_checkpoint = t_out
            if stop.signal_name and i < len(times) - 1:
                raise RunInterrupted(t_out, writer.path, stop.signal_name)
            bar.update(t_out, values)
            if callback is not None and writer is not None:
                writer.flush()  # a frame the callback sees is counted in the file
            if callback is not None and callback(t_out, state) is True:
                if writer is not None:
                    writer.checkpoint(state, solver)
                break
    stats = {"steps": solver.steps, "rejected": solver.rejected, "method": settings["method"]}
    result = Result(
        model,
        state.grid,
        times[:n_done],
        None if frames is None else frames[:n_done],
        {k: v[:n_done] for k, v in series.items()},
        state,
        stats,
        scalar_frames[:n_done],
    )
    result.interventions = list(schedule.items)
    result.units = _series_units(model, state)
    result.path = None if writer is None else writer.path
    return result


def resume(path, t_end: float, *, progress: bool | None = None, callback=None) -> RunFile:
    """Continue the run in ``path`` from its last checkpoint to ``t_end`` [day].

    Frames written after that checkpoint (by a run that was killed) are dropped first, so
    the time axis stays monotone, with a warning that says what is dropped. A run that
    ended off the save grid continues from its last frame on the grid (its final frame
    is dropped), so the continuation is bit-for-bit the run that was not interrupted.
    Returns the run file opened for reading.
    """
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
    if isinstance(model, Cascade):
        _check_cascade_times(model, 0.0, t_end)
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
            _run(model, state, solver, schedule, times, writer, settings, progress, callback, stop)
    finally:
        writer.close()
    _write_sidecar(path)
    return open_run(path)


def _on_save_grid(t: float, settings: dict) -> bool:
    """Whether ``t`` [day] is one of the run's save times ``t_start + k save_every``."""
    steps = (t - settings["t_start"]) / settings["save_every"]
    return abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps))
