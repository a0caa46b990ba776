"""The in-memory result of a run."""

from __future__ import annotations

import numpy as np

from continuum.colony_queries import ColonyQueries
from continuum.frames import frame_index


class Result(ColonyQueries):
    """Frames and series of a finished run, in memory.

    A run that wrote a file streamed its fields there (``frames`` is ``None``, ``path``
    the file): ``field`` reads them back from it, so a long run needs no memory for them.

    ``times`` [day]; ``field(name)`` -> ``(n_frames, *grid.shape)``; ``series(name)`` ->
    ``(n_frames,)``; ``state`` is the final :class:`State`; ``scalars(t)`` the whole
    scalar vector at the frame nearest ``t``. A cascade run also answers
    ``colony_count``, ``cohorts`` and ``size_distribution`` (see :class:`ColonyQueries`).
    """

    def __init__(self, model, grid, times, frames, series, state, solver_stats, scalar_frames):
        self.model = model
        self.grid = grid
        self.times = times
        self._frames = frames
        self._series = series
        self._scalar_frames = scalar_frames
        self.state = state
        self.solver_stats = solver_stats
        self.interventions = []
        self.units: dict[str, str] = {}  # of the series, set by ``simulate``
        self.path = None  # the run file the fields were streamed to, if any

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
        """All frames of a field, or the frame nearest ``t`` [day]; a ``ValueError`` for a
        time outside the run (:func:`continuum.frames.frame_index`)."""
        if name not in self.state.field_names:
            raise KeyError(f"unknown field {name!r}; fields are {list(self.state.field_names)}")
        if self._frames is None:
            from continuum.io.reader import open_run

            with open_run(self.path) as run:
                return run.field(name, t)
        frames = self._frames[:, self.state.field_names.index(name)]
        if t is None:
            return frames
        return frames[frame_index(self.times, t)]

    def series(self, name: str) -> np.ndarray:
        if name not in self._series:
            raise KeyError(f"unknown series {name!r}; series are {list(self._series)}")
        return self._series[name]

    def to_xarray(self):
        """Fields and series as an ``xarray.Dataset`` (:func:`continuum.analysis.to_xarray`)."""
        from continuum.analysis import to_xarray

        return to_xarray(self)

    def _repr_html_(self) -> str:
        """A table of what the run holds, for Jupyter (:mod:`continuum.html`)."""
        from continuum.html import result_html

        return result_html(self)

    def series_unit(self, name: str) -> str:
        """The unit of series ``name`` (``cells``, ``day``, ...)."""
        self.series(name)  # a clear error for an unknown name
        return self.units.get(name, "")

    def scalars(self, t: float) -> np.ndarray:
        """The state's scalar vector at the frame nearest ``t`` [day]."""
        return self._scalar_frames[self._frame(t)]

    def __repr__(self):
        from continuum.readable import run_contents

        sites = [site.name for site in getattr(self.model, "sites", ())]
        contents = run_contents(
            type(self.model).__name__,
            self.grid,
            self.times,
            self.field_names,
            self.series_names,
            sites,
        )
        where = f"; file {str(self.path)!r}" if self.path is not None else ""
        return f"Result({contents}{where})"

    def _cohort_arrays(self, site, frame):
        model = self._cascade()
        return model.cohorts(self._scalar_frames[frame], model.site_index(site))

    def _tissue_field(self, site, name, frame):
        model = self._cascade()
        k = model.site_index(site)
        fields, _ = model.tissue(self._scalar_frames[frame], k)
        return fields[model.sites[k].model.field_names.index(name)]
