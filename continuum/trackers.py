"""Trackers: what a run does between its compiled stretches.

The compiled loops return to Python only at the run's frames (every ``save_every``
days); there the run loop hands the state to each tracker whose interval has passed.
``ct.simulate(..., trackers=[...])`` takes user trackers besides the ones its keywords
build (file storage and checkpoints for ``output``, the progress bar for ``progress``,
``callback``)::

    class Peak(ct.trackers.Tracker):
        interval = 10.0                                     # day

        def start(self, run):
            self.peak = 0.0

        def handle(self, t, state):
            self.peak = max(self.peak, float(state.data.max()))

    steady = ct.trackers.SteadyState(atol=1e-6)
    result = ct.simulate(model, state, 100.0, save_every=0.5, trackers=[Peak(), steady])
    steady.reached  # the time [day] the fields stopped changing, or None

A tracker never changes the results: the state it sees is the run's (do not modify it),
and the frames are the same with or without trackers, to the last bit.
"""

from __future__ import annotations

import math

import numpy as np

from continuum.compilation import CompileWatch
from continuum.progress import in_notebook, progress_bar


class RunInfo:
    """What trackers know about the run: ``t_start``, ``t_end`` [day], ``save_every``
    [day], ``times`` (the frame times of this call [day]), ``model``, ``path`` (the run
    file, or ``None``), and, at each frame,
    ``frame`` (its index in this call) and ``series`` (its recorded series, e.g.
    ``total_<field>``, the scalars, ``dt``)."""

    def __init__(self, model, times, save_every: float, path=None):
        self.model = model
        self.times = times
        self.t_start = float(times[0])
        self.t_end = float(times[-1])
        self.save_every = save_every
        self.path = path
        self.frame = 0
        self.series: dict[str, float] = {}

    @property
    def last_frame(self) -> bool:
        """Whether the current frame is the run's last (``t_end``)."""
        return self.frame == len(self.times) - 1


class Tracker:
    """Base class of trackers: subclass it and override any of the three hooks.

    Rules:

    1. :meth:`start` is called once before the first frame, with the :class:`RunInfo`.
    2. :meth:`handle` ``(t, state)`` is called at the first frame (``t_start``), then at
       the first frame at least ``interval`` days [day] after its previous call, and at
       the last frame; ``interval = None`` (the default) means every frame. Frames come
       every ``save_every`` days, so an interval is in effect rounded up to a multiple
       of it. Returning ``True`` stops the run after this frame (with a checkpoint when
       it writes a file); the other trackers still see the frame.
    3. :meth:`finish` is called once at the end, also when the run fails or is
       interrupted (close what :meth:`start` opened there).
    4. ``reads_file``: when ``True`` (the default), the run file counts every frame this
       tracker is handed (the writer flushes before it), so it may read the file.

    The state is the run's own: read it, never modify it.
    """

    interval: float | None = None
    reads_file: bool = True

    def start(self, run: RunInfo) -> None:
        """Called before the first frame."""

    def handle(self, t: float, state) -> bool | None:
        """Called at time ``t`` [day] with the run's state; ``True`` stops the run."""

    def finish(self) -> None:
        """Called at the end of the run (also after an error)."""

    def due(self, t: float, last: float | None, run: RunInfo) -> bool:
        """Whether :meth:`handle` is due at ``t`` [day], its previous call at ``last``."""
        if last is None or self.interval is None or run.last_frame:
            return True
        return t - last >= self.interval * (1 - 1e-12)


def check_trackers(trackers) -> list[Tracker]:
    """``trackers`` as a list, each a :class:`Tracker` with a valid ``interval``."""
    trackers = list(trackers or ())
    for i, tracker in enumerate(trackers):
        if not isinstance(tracker, Tracker):
            raise ValueError(
                f"trackers[{i}]: got {type(tracker).__name__}; a continuum.trackers.Tracker "
                "is required (subclass it, or pass callback=...)"
            )
        interval = tracker.interval
        if interval is not None:
            ok = not isinstance(interval, bool) and isinstance(interval, int | float)
            if not (ok and math.isfinite(interval) and interval > 0):
                raise ValueError(
                    f"trackers[{i}].interval: got {interval!r}; a number of days > 0 or None"
                )
    return trackers


class Callback(Tracker):
    """``callback(t, state)`` at every frame (or every ``interval`` days); returning
    ``True`` stops the run. The file counts every frame the callback sees."""

    def __init__(self, callback, interval: float | None = None):
        if not callable(callback):
            raise ValueError(f"callback: got {callback!r}; a callable (t, state) is required")
        self.callback = callback
        self.interval = interval

    def handle(self, t, state):
        return self.callback(t, state) is True


class SteadyState(Tracker):
    r"""Stops the run when the fields stop changing.

    At each call after the first, with ``u`` the fields now and ``u_prev`` at the
    previous call ``dt`` days before, the run stops when every cell obeys

    .. math::

        \frac{|u - u_{prev}|}{\Delta t} \le \mathrm{atol} + \mathrm{rtol}\,|u|

    (a rate of change: ``atol`` in field units per day, ``rtol`` per day). The time of
    the stop is kept in ``reached`` [day] (``None`` while the fields change). A model
    without fields is never stopped (its scalars include cumulative counters).

    Parameters
    ----------
    atol : absolute tolerance on the rate of change [field units/day], >= 0.
    rtol : relative tolerance on the rate of change [1/day], >= 0.
    interval : days between the comparisons [day]; default every frame.
    """

    reads_file = False

    def __init__(self, atol: float = 1e-8, rtol: float = 1e-6, interval: float | None = None):
        for name, value in (("atol", atol), ("rtol", rtol)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"SteadyState {name}: got {value!r}; a number >= 0 is required")
        if atol == 0 and rtol == 0:
            raise ValueError("SteadyState: atol and rtol are both 0; the run would never stop")
        self.atol = float(atol)
        self.rtol = float(rtol)
        self.interval = interval
        self.reached: float | None = None

    def start(self, run):
        self._previous = None
        self._t = None
        self.reached = None

    def handle(self, t, state):
        if not state.field_names:
            return None
        data = state.data
        if self._previous is not None and t > self._t:
            rate = np.abs(data - self._previous) / (t - self._t)
            if np.all(rate <= self.atol + self.rtol * np.abs(data)):
                self.reached = t
                return True
        self._previous = data.copy()
        self._t = t
        return None


class ProgressBar(Tracker):
    """A tqdm bar over simulated time [day] with its ETA and, for runs that have them,
    the circulating tumour cells and the detectable metastases; a no-op when disabled.

    While Numba compiles the run's kernels the bar says so ("compiling kernels (once per
    machine)"), then how long it took. In a Jupyter notebook the bar is a widget (text
    without ``ipywidgets``) and stays in the cell's output when the run ends; in a
    terminal it is cleared (:mod:`continuum.progress`)."""

    reads_file = False

    def __init__(self, t_start: float = 0.0, t_end: float = 1.0, enabled: bool = True):
        self.t_start = t_start
        self.t_end = t_end
        self.enabled = enabled
        self._bar = None
        self._run = None
        self._watch = None

    def start(self, run):
        self.t_start, self.t_end = run.t_start, run.t_end
        self._run = run
        self._open()
        if self._bar is not None:
            self._watch = CompileWatch(self._compiling, self._compiled).__enter__()

    def _compiling(self):
        """Numba started compiling: say so (the ETA would count the wait)."""
        self._bar.set_description_str("compiling kernels (once per machine)", refresh=True)

    def _compiled(self, seconds):
        """Compilation ended: the ETA restarts from now."""
        self._bar.set_description_str(f"compiled in {seconds:.0f} s", refresh=False)
        n = self._bar.n
        self._bar.reset(total=self.t_end - self.t_start)
        self._bar.n = n
        self._bar.refresh()

    def _open(self):
        if self.enabled and self._bar is None:
            total = self.t_end - self.t_start
            # a notebook keeps the finished bar (its time, and the compilation's, stay in
            # the cell's output); a terminal clears it
            leave = in_notebook()
            self._bar = progress_bar(total=total, unit="day", unit_scale=True, leave=leave)

    def handle(self, t, state):
        self.update(t, self._run.series if self._run is not None else None)

    def update(self, t: float, values: dict | None = None) -> None:
        """Move to time ``t`` [day]; ``values`` are the frame's series."""
        if self._bar is None:
            return
        self._bar.n = t - self.t_start
        if values:
            status = {}
            if "blood_ctc" in values:
                status["CTCs"] = f"{values['blood_ctc'] + values['lymph_ctc']:.3g}"
            detectable = [v for k, v in values.items() if k.endswith("/detectable")]
            if detectable:
                status["detectable mets"] = f"{sum(detectable):.3g}"
            if status:
                self._bar.set_postfix(status, refresh=False)
        self._bar.refresh()

    def finish(self):
        if self._watch is not None:
            self._watch.__exit__(None, None, None)
            self._watch = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        self._open()
        return self

    def __exit__(self, *exc):
        self.finish()


class FileStorage(Tracker):
    """Writes every frame to the run file and a checkpoint every ``checkpoint_every``
    days [day], at the last frame, at the frame before a final time off the save grid
    (so that ``resume`` continues from the save grid) and when a signal asks the run to
    stop (``stop.signal_name``). Built by :func:`~continuum.simulate` for ``output``."""

    reads_file = False

    def __init__(self, writer, solver, checkpoint_every: float, off_grid_end: bool, stop):
        self.writer = writer
        self.solver = solver
        self.checkpoint_every = checkpoint_every
        self.off_grid_end = off_grid_end
        self.stop = stop
        self.path = writer.path

    def start(self, run):
        self._run = run
        self._last_checkpoint = run.t_start

    def handle(self, t, state):
        run, writer = self._run, self.writer
        if run.frame == 0 and writer.frames > 0:
            return  # a resumed run: its first frame is in the file
        writer.append(t, state, run.series, run.model.frame_arrays(state))
        due = t - self._last_checkpoint >= self.checkpoint_every * (1 - 1e-12)
        before_off_grid_end = self.off_grid_end and run.frame == len(run.times) - 2
        if due or before_off_grid_end or run.last_frame or self.stop.signal_name:
            self.checkpoint(state)
            self._last_checkpoint = t

    def checkpoint(self, state) -> None:
        """A checkpoint of ``state`` now (also when another tracker stops the run)."""
        self.writer.checkpoint(state, self.solver)

    def flush(self) -> None:
        """Make the file count every frame written so far."""
        self.writer.flush()
