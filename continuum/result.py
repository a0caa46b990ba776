"""The in-memory result of a run."""

from __future__ import annotations

import numpy as np


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
