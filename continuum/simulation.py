"""``simulate``: run a model from a state to ``t_end``, keeping frames at output times."""

from __future__ import annotations

import math
import sys

import numpy as np

from continuum.kernels.reductions import integrate_fields
from continuum.models.base import Model
from continuum.solvers.base import METHODS, make_solver
from continuum.state import State
from continuum.trackers import ProgressBar
from continuum.validation import check_choice, check_positive


class Result:
    """Frames and series of a finished run, in memory.

    ``times`` [day]; ``field(name)`` -> ``(n_frames, *grid.shape)``; ``series(name)`` ->
    ``(n_frames,)``; ``state`` is the final :class:`State`.
    """

    def __init__(self, model, grid, times, frames, series, state, solver_stats):
        self.model = model
        self.grid = grid
        self.times = times
        self._frames = frames
        self._series = series
        self.state = state
        self.solver_stats = solver_stats

    @property
    def field_names(self):
        return self.state.field_names

    @property
    def series_names(self):
        return tuple(self._series)

    @property
    def parameters(self):
        return dict(self.model.parameters)

    def field(self, name: str, t: float | None = None) -> np.ndarray:
        """All frames of a field, or the frame nearest ``t`` [day]."""
        if name not in self.state.field_names:
            raise KeyError(f"unknown field {name!r}; fields are {list(self.state.field_names)}")
        frames = self._frames[:, self.state.field_names.index(name)]
        if t is None:
            return frames
        return frames[int(np.argmin(np.abs(self.times - t)))]

    def series(self, name: str) -> np.ndarray:
        if name not in self._series:
            raise KeyError(f"unknown series {name!r}; series are {list(self._series)}")
        return self._series[name]


def output_times(t_start: float, t_end: float, save_every: float) -> np.ndarray:
    """``t_start, t_start + save_every, ...`` up to and always including ``t_end``."""
    n = math.floor((t_end - t_start) / save_every * (1 + 1e-12))
    times = t_start + save_every * np.arange(n + 1)
    if t_end - times[-1] > 1e-9 * save_every:
        times = np.append(times, t_end)
    else:
        times[-1] = t_end
    return times


def diagnostics(state: State) -> dict[str, float]:
    """Series recorded at every frame: field totals [field x mm^3] and the scalars."""
    grid = state.grid
    totals = np.empty(len(state.field_names))
    integrate_fields(state.data.reshape((-1, *grid.shape3)), grid.mask3(), grid.cell_volume, totals)
    values = {f"total_{name}": float(t) for name, t in zip(state.field_names, totals, strict=True)}
    for name in state.scalar_names:
        value = state.scalar(name)
        if np.ndim(value) == 0:
            values[name] = value
    return values


def simulate(
    model: Model,
    state: State,
    t_end: float,
    save_every: float | None = None,
    method: str = "explicit",
    dt: float | None = None,
    output=None,
    *,
    t_start: float = 0.0,
    rtol: float = 1e-4,
    atol: float = 1e-8,
    max_steps: int = 10**9,
    progress: bool | None = None,
    callback=None,
    implicit=None,
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
    output : path of a run file (HDF5 run files arrive with the run-file layer).
    rtol, atol : tolerances of the adaptive step control.
    progress : show a progress bar (default: when standard error is a terminal).
    callback : ``callback(t, state)`` at every frame; returning ``True`` stops the run.
    implicit : for ``"imex"``, the fields diffused implicitly (default all that diffuse).

    Returns
    -------
    Result
    """
    if not isinstance(model, Model):
        raise ValueError(f"model: got {type(model).__name__}; a continuum model is required")
    if not isinstance(state, State):
        raise ValueError(f"state: got {type(state).__name__}; use model.initial_state(grid)")
    if state.field_names != model.field_names:
        raise ValueError(
            f"state: fields {list(state.field_names)} do not match the model's "
            f"{list(model.field_names)}"
        )
    check_choice("method", method, METHODS)
    t_end = float(t_end)
    if not t_end > t_start:
        raise ValueError(f"t_end: got {t_end:g} day; it must be > t_start = {t_start:g} day")
    if save_every is None:
        save_every = (t_end - t_start) / 100.0
    save_every = check_positive("save_every", save_every, "day")
    if output is not None:
        raise NotImplementedError("output: run files are not available yet; use output=None")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback: got {callback!r}; a callable (t, state) is required")
    state = state.copy()
    options = {"dt": dt, "rtol": rtol, "atol": atol, "max_steps": max_steps, "t": t_start}
    if method == "imex":
        options["implicit"] = implicit
    solver = make_solver(method, model, state, **options)

    times = output_times(t_start, t_end, save_every)
    frames = np.empty((len(times), *state.data.shape))
    series = {name: np.empty(len(times)) for name in diagnostics(state)}
    series["dt"] = np.empty(len(times))
    series["steps"] = np.empty(len(times))
    show = sys.stderr.isatty() if progress is None else bool(progress)
    n_done = 0
    with ProgressBar(t_start, t_end, enabled=show) as bar:
        for i, t_out in enumerate(times):
            if i > 0:
                solver.advance(t_out)
            frames[i] = state.data
            for name, value in diagnostics(state).items():
                series[name][i] = value
            series["dt"][i] = np.nan if solver.dt is None else solver.dt
            series["steps"][i] = solver.steps
            n_done = i + 1
            bar.update(t_out)
            if callback is not None and callback(t_out, state) is True:
                break
    stats = {"steps": solver.steps, "rejected": solver.rejected, "method": method}
    return Result(
        model,
        state.grid,
        times[:n_done],
        frames[:n_done],
        {k: v[:n_done] for k, v in series.items()},
        state,
        stats,
    )
