"""Post-analysis of a run: a :class:`~continuum.Result` in memory or an opened run file.

Lengths in mm, volumes in mm^3, time in days, cells as counts. Every function takes the
run first and returns NumPy arrays over its frames (``run.times``) or numbers::

    import continuum as ct
    from continuum import analysis

    with ct.open_run("run.h5") as run:
        depth = analysis.invasion_depth(run)              # mm, per frame
        speed = analysis.front_speed(run)                 # mm/day
        first = analysis.time_to_detection(run)           # {site: day or None}
        data = analysis.to_xarray(run)                    # fields and series, with units
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from continuum.units import CELLS_PER_MM3


def cell_density(run, t: float | None = None) -> np.ndarray:
    """The tumour-cell density (sum of the model's ``cell_fields``, a fraction of the
    carrying capacity): every frame ``(n_frames, *grid.shape)``, or the frame nearest ``t``."""
    names = run.model.cell_fields
    if not names:
        raise ValueError(
            f"cell_density: {type(run.model).__name__} has no tumour-cell fields "
            "(a lumped model); use tumor_cells(run)"
        )
    return sum(run.field(name, t) for name in names)


def tumor_cells(run) -> np.ndarray:
    """Tumour cells at each frame [cells] (the series ``tumor_cells``; for models without
    a cell count, the integral of the cell density [mm^3 at capacity])."""
    if "tumor_cells" in run.series_names:
        return np.asarray(run.series("tumor_cells"))
    return np.array([run.grid.integrate(frame) for frame in cell_density(run)])


def tumor_volume(run, threshold: float | None = None) -> np.ndarray:
    """Tumour volume at each frame [mm^3].

    ``threshold=None``: the cells packed at capacity (cells / ``K_cell``; a lumped
    primary at ``continuum.units.CELLS_PER_MM3``). A threshold in (0, 1]: the volume of
    tissue where the cell density reaches it (what imaging would outline). In 2D (1D)
    volumes are per mm (mm^2) of the missing dimensions, as the grid's ``thickness``
    defines them.
    """
    if threshold is None:
        capacity = run.model.parameters.get("K_cell", CELLS_PER_MM3)
        if run.model.cell_fields and "tumor_cells" not in run.series_names:
            return tumor_cells(run)  # already in mm^3 at capacity
        return tumor_cells(run) / capacity
    _check_threshold(threshold)
    return np.array([run.grid.integrate(frame >= threshold) for frame in cell_density(run)])


def invasion_depth(run, threshold: float = 0.05, reference: float | None = None) -> np.ndarray:
    """How far tumour cells reach beyond the initial tumour boundary, at each frame [mm].

    The boundary is that of the region where the density is at least ``threshold`` in the
    first frame (or at time ``reference``); the depth is the largest distance from that
    region of any grid cell whose density reaches ``threshold`` (0 while the tumour
    stays inside). Distances are Euclidean between cell centres, so a depth is resolved
    to a grid spacing.
    """
    _check_threshold(threshold)
    density = cell_density(run)
    start = 0 if reference is None else _frame(run, reference)
    initial = density[start] >= threshold
    if not initial.any():
        raise ValueError(
            f"invasion_depth: no tumour at density >= {threshold:g} in the reference frame "
            f"(t = {run.times[start]:g} day); lower threshold"
        )
    distance = ndimage.distance_transform_edt(~initial, sampling=run.grid.spacing)
    return np.array([distance[frame >= threshold].max(initial=0.0) for frame in density])


def front_speed(
    run, threshold: float = 0.05, since: float | None = None, until: float | None = None
) -> float:
    """The invasion front's speed [mm/day]: the slope of a least-squares line through
    :func:`invasion_depth` over the frames in ``[since, until]`` (default: the second
    half of the run)."""
    times = np.asarray(run.times)
    depth = invasion_depth(run, threshold)
    since = times[0] + 0.5 * (times[-1] - times[0]) if since is None else since
    until = times[-1] if until is None else until
    chosen = (times >= since) & (times <= until)
    if chosen.sum() < 2:
        raise ValueError(
            f"front_speed: fewer than two frames in [{since:g}, {until:g}] day; widen the window"
        )
    return float(np.polyfit(times[chosen], depth[chosen], 1)[0])


def circulating_cells(run) -> np.ndarray:
    """Circulating tumour cells in blood plus lymph at each frame [cells]."""
    return np.asarray(run.series("blood_ctc")) + np.asarray(run.series("lymph_ctc"))


def sites(run) -> list[str]:
    """The names of a cascade's secondary sites (empty for other models)."""
    return [site.name for site in getattr(run.model, "sites", ())]


def site_series(run, site: str) -> dict[str, np.ndarray]:
    """A site's ``colonies``, ``detectable`` (colonies above its detection size),
    ``burden`` [cells] and ``dormant`` [cells] at each frame."""
    if site not in sites(run):
        raise KeyError(f"site: got {site!r}; the run's sites are {sites(run)}")
    names = ("colonies", "detectable", "burden", "dormant")
    return {name: np.asarray(run.series(f"sites/{site}/{name}")) for name in names}


def time_to_detection(run, count: float = 1.0) -> dict[str, float | None]:
    """Per site, the first time [day] its detectable colonies reach ``count`` (linear
    between frames); ``None`` if they never do within the run."""
    times = np.asarray(run.times)
    first = {}
    for site in sites(run):
        detectable = np.asarray(run.series(f"sites/{site}/detectable"))
        above = np.nonzero(detectable >= count)[0]
        if above.size == 0:
            first[site] = None
            continue
        i = int(above[0])
        if i == 0:
            first[site] = float(times[0])
            continue
        low, high = detectable[i - 1], detectable[i]
        fraction = (count - low) / (high - low)
        first[site] = float(times[i - 1] + fraction * (times[i] - times[i - 1]))
    return first


def to_xarray(run):
    """The run as an ``xarray.Dataset``: fields on ``(time, x[, y[, z]])`` with their
    coordinates [mm], every series on ``time``; units and long names in ``attrs``.

    Site series ``sites/<site>/<name>`` become variables ``<site>_<name>``. Needs
    xarray (``pip install 'continuum-metastasis[xarray]'``).
    """
    import xarray as xr

    from continuum.io.writer import field_unit_attributes

    grid = run.grid
    times = np.asarray(run.times)
    coords = {"time": ("time", times, {"units": "day", "long_name": "simulated time"})}
    for name, values in zip(grid.axis_names, grid.coords, strict=True):
        coords[name] = (name, values, {"units": "mm", "long_name": f"cell-centre {name}"})
    dims = ("time", *grid.axis_names)
    data = {}
    model = run.model
    for name in run.field_names:
        attrs = {**field_unit_attributes(model, name), "long_name": name}
        data[name] = (dims, np.asarray(run.field(name)), attrs)
    for name in run.series_names:
        variable = name.removeprefix("sites/").replace("/", "_")
        attrs = {"units": run.series_unit(name), "long_name": name}
        data[variable] = ("time", np.asarray(run.series(name)), attrs)
    attrs = {"model": type(model).__name__, "time_units": "day", "length_units": "mm"}
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _frame(run, t):
    from continuum.frames import frame_index

    return frame_index(run.times, t)


def _check_threshold(threshold):
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold: got {threshold!r}; it must lie in (0, 1]")
