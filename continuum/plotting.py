"""Pictures and movies of a run, from a :class:`~continuum.Result` or an opened run file.

matplotlib is imported only when a picture is asked for (``pip install
'continuum-metastasis[plot]'``). Lengths in mm, time in days, cells as counts; every
axis and colour bar names its unit. Fields are drawn with x across and y up (``x [mm]``,
``y [mm]``); a 3D field as its mid-plane in z. Each secondary site has one colour and one
marker in every picture and movie (:func:`site_styles`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from continuum import analysis
from continuum.readable import days, site_name

CELLS = "cells"  # the name that plots the tumour-cell density (sum of the cell fields)
LOWEST_COUNT = 1e-2  # counts below it (a hundredth of a cell or colony) are not drawn
FIELD_COLOURS = "magma"  # the colour map of field snapshots and movies
# One colour per site, the same in every panel and run (Okabe & Ito's colour-blind safe
# palette for the common sites; other sites take the colours left, in order).
SITE_COLOURS = {
    "lymph_node": "#E69F00",
    "lung": "#0072B2",
    "liver": "#D55E00",
    "bone": "#009E73",
    "brain": "#CC79A7",
}
OTHER_COLOURS = ("#56B4E9", "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF", "#9467BD", "#F0E442")
# One marker per site, likewise: curves lying on each other stay told apart.
SITE_MARKERS = {"lymph_node": "o", "lung": "s", "liver": "^", "bone": "D", "brain": "v"}
OTHER_MARKERS = ("P", "X", "<", ">", "*", "h", "p")
MARKER_SPACING = 0.1  # of the axes' diagonal, between the markers along a site's curve


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_plot(path, draw, *args, figsize=(6, 4.5), title: str | None = None, **kwargs):
    """Draw ``draw(*args, ax=ax, **kwargs)`` (any ``plot_*`` here) on a figure of its own,
    optionally titled, save it to ``path`` and close it. Returns ``path``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=figsize, constrained_layout=True)
    draw(*args, ax=ax, **kwargs)
    if title:
        ax.set_title(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def site_styles(run) -> dict[str, tuple[str, str]]:
    """``{site: (colour, marker)}`` for a cascade's sites: the common sites (lymph node,
    lung, liver, bone, brain) always take the same colour and marker, the others the
    colours and markers left, in the order of the run's sites."""
    names = analysis.sites(run)
    colours = iter(c for c in OTHER_COLOURS if c not in {SITE_COLOURS.get(n) for n in names})
    markers = iter(OTHER_MARKERS * len(names))
    return {
        name: (
            SITE_COLOURS.get(name) or next(colours, "0.4"),
            SITE_MARKERS.get(name) or next(markers),
        )
        for name in names
    }


def field_choices(run) -> list[str]:
    """The names :func:`plot_field` draws: ``"cells"`` (the summed tumour-cell density,
    when the model has tumour-cell fields), then the run's fields."""
    cells = [CELLS] if run.model.cell_fields else []
    return [*cells, *run.field_names]


def default_field(run) -> str:
    """The field drawn when none is named: the tumour cells, else the first field."""
    return field_choices(run)[0]


def check_field(run, name: str | None) -> str:
    """``name`` (or :func:`default_field`), refused with the choices if the run lacks it."""
    choices = field_choices(run)
    if not choices:
        raise ValueError(
            f"field: a {type(run.model).__name__} run has no fields to draw; its summary "
            "picture (plot_summary) shows its series"
        )
    if name is None:
        return choices[0]
    if name not in choices:
        raise ValueError(f"field: got {name!r}; fields are {choices}")
    return name


def field_label(run, name: str) -> str:
    """A colour-bar label: the field and, on a second line, its unit in words, e.g.
    ``mesenchymal`` / ``[fraction of K_cell = 1e5 cells/mm^3]``."""
    model = run.model
    if name == CELLS:
        names = " + ".join(model.cell_fields)
        return f"tumour cells ({names})\n[{model.field_scale(model.cell_fields[0])}]"
    return f"{name}\n[{model.field_scale(name)}]"


def field_frame(run, name: str, t: float) -> np.ndarray:
    """Field ``name`` (or ``"cells"``) at the frame nearest ``t`` [day]."""
    if name == CELLS:
        return analysis.cell_density(run, t)
    return run.field(name, t)


def field_range(run, name: str, times) -> tuple[float, float]:
    """The colour scale ``(low, high)`` that fits field ``name`` at every time of
    ``times``: from 0 (or the field's least value when negative) to its largest value
    (1 for a field that is zero throughout)."""
    low, high = 0.0, 0.0
    for t in times:
        frame = _inside(run.grid, field_frame(run, name, t))
        low, high = min(low, float(np.nanmin(frame))), max(high, float(np.nanmax(frame)))
    return low, (high if high > low else low + 1.0)


def _inside(grid, frame):
    """The frame with cells outside a masked grid's tissue as NaN (drawn blank)."""
    if grid.mask is None:
        return np.asarray(frame, dtype=float)
    return np.where(grid.mask, frame, np.nan)


def plane(grid, frame):
    """What a picture shows of a field frame indexed ``(x[, y[, z]])``: ``(image, extent,
    where)``, the image indexed ``(y, x)`` for ``imshow(origin="lower")`` so that x runs
    across and y up, its extent ``[x0, x1, y0, y1]`` [mm] and, for a 3D grid, which plane
    it is (the mid-plane in z; ``""`` otherwise). 1D frames are returned as they are."""
    frame = _inside(grid, frame)
    where = ""
    if grid.ndim == 1:
        return frame, None, where
    if grid.ndim == 3:
        k = grid.shape[2] // 2
        frame = frame[:, :, k]
        where = f"z = {grid.coords[2][k]:.3g} mm (mid-plane)"
    (x0, y0), (lx, ly) = grid.origin[:2], grid.extent[:2]
    return frame.T, [x0, x0 + lx, y0, y0 + ly], where


def plot_field(
    run,
    name: str | None = None,
    t: float | None = None,
    ax=None,
    scale: tuple[float, float] | None = None,
    colorbar: bool = True,
):
    """A snapshot of field ``name`` at the frame nearest ``t`` [day] (default: the last),
    x across and y up, with a colour bar naming its unit.

    ``name="cells"`` (the default when the model has tumour-cell fields) plots their
    summed density; a 3D field is cut through its mid-plane in z (the title says where);
    a 1D field is a profile. ``scale`` fixes the colour scale ``(low, high)`` (default:
    this frame's range; :func:`field_range` gives one for several frames). Returns the
    axes.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
    name = check_field(run, name)
    times = np.asarray(run.times)
    t = float(times[-1]) if t is None else t
    t_frame = times[int(np.argmin(np.abs(times - t)))]
    grid = run.grid
    frame = field_frame(run, name, t)
    low, high = field_range(run, name, [t]) if scale is None else scale
    label = field_label(run, name)
    image, extent, where = plane(grid, frame)
    if grid.ndim == 1:
        ax.plot(grid.coords[0], image, color="k")
        ax.set_ylim(low, high + 0.05 * (high - low))
        ax.set_xlabel("x [mm]")
        ax.set_ylabel(label)
    else:
        shown = ax.imshow(
            image,
            origin="lower",
            extent=extent,
            cmap=FIELD_COLOURS,
            vmin=low,
            vmax=high,
            interpolation="nearest",
        )
        if colorbar:
            ax.figure.colorbar(shown, ax=ax, label=label, shrink=0.85)
        ax.set_xlabel("x [mm]")
        ax.set_ylabel("y [mm]")
    ax.set_title(f"{name}, t = {t_frame:.4g} day" + (f", {where}" if where else ""))
    return ax


def plot_cascade(run, ax=None):
    """Cell counts over time on a log axis: the primary tumour, circulating cells, cells
    removed by treatments, and per site (its colour and marker) the expected colonies
    (solid) and detectable colonies (dashed). Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    times = np.asarray(run.times)
    lines = [("primary tumour [cells]", analysis.tumor_cells(run), "k", "-", None)]
    if "blood_ctc" in run.series_names:
        lines.append(("circulating [cells]", analysis.circulating_cells(run), "k", "-.", None))
    if "removed" in run.series_names:
        lines.append(("removed by treatment [cells]", run.series("removed"), "0.5", ":", None))
    for site, (colour, marker) in site_styles(run).items():
        series = analysis.site_series(run, site)
        lines.append((f"{site_name(site)}: colonies", series["colonies"], colour, "-", marker))
        lines.append((f"{site_name(site)}: detectable", series["detectable"], colour, "--", marker))
    _log_lines(ax, times, lines)
    ax.set_ylabel("count (colonies: expected number)")
    ax.set_title("the cascade")
    return ax


def plot_dormancy(run, ax=None):
    """Dormant cells per site over time on a log axis. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    lines = [
        (f"{site_name(site)}", analysis.site_series(run, site)["dormant"], colour, "-", marker)
        for site, (colour, marker) in site_styles(run).items()
    ]
    _log_lines(ax, np.asarray(run.times), lines)
    ax.set_ylabel("dormant cells (expected number)")
    ax.set_title("dormant cells")
    return ax


def _angiogenic_primary(run) -> bool:
    """Whether the run's primary grows by the ``hahnfeldt`` law (its vascular capacity
    moves; other laws keep the scalar at ``K``)."""
    primary = getattr(run.model, "primary", run.model)
    return getattr(primary, "growth", None) == "hahnfeldt"


def has_defences(run) -> bool:
    """Whether a run has effector cells or vascular capacities to show."""
    names = run.series_names
    if _angiogenic_primary(run):
        return True
    return any(
        np.any(np.asarray(run.series(f"sites/{site}/{name}")) > 0.0)
        for site in analysis.sites(run)
        for name in ("effectors", "vascular_capacity")
        if f"sites/{site}/{name}" in names
    )


def plot_defences(run, ax=None):
    """The body's defences and the angiogenic switch over time on a log axis: per site
    (its colour and marker) the effector cells (solid) and the cells they killed
    (dotted), the colonies' vascular capacity (dashed) beside their cells (dash-dot); the
    primary's vascular capacity (``hahnfeldt`` law) beside its cells. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    names = run.series_names
    lines = []
    if _angiogenic_primary(run):
        lines.append(("primary: cells", run.series("tumor_cells"), "k", "-.", None))
        capacity = run.series("vascular_capacity")
        lines.append(("primary: vascular capacity", capacity, "k", "--", None))
    for site, (colour, marker) in site_styles(run).items():

        def series(name, site=site):
            path = f"sites/{site}/{name}"
            return np.asarray(run.series(path)) if path in names else np.zeros(1)

        words = site_name(site)
        if np.any(series("effectors") > 0.0):
            lines.append((f"{words}: effectors", series("effectors"), colour, "-", marker))
            killed = series("immune_killed")
            lines.append((f"{words}: killed by effectors", killed, colour, ":", marker))
        if np.any(series("vascular_capacity") > 0.0):
            lines.append((f"{words}: colony cells", series("burden"), colour, "-.", marker))
            capacity = series("vascular_capacity")
            lines.append((f"{words}: vascular capacity", capacity, colour, "--", marker))
    _log_lines(ax, np.asarray(run.times), lines)
    ax.set_ylabel("cells (expected number)")
    ax.set_title("defences and vascular capacity")
    return ax


def _log_lines(ax, times, lines):
    """Lines ``(label, values, colour, style, marker)`` of counts on a log axis over
    the whole run, leaving out counts below ``LOWEST_COUNT``. A line with a marker
    carries a few of them, placed apart from the other markers' so that curves lying on
    each other stay told apart."""
    markers = list(dict.fromkeys(m for *_, m in lines if m is not None))
    for label, values, colour, style, marker in lines:
        values = np.asarray(values, dtype=float)
        shown = values >= LOWEST_COUNT
        if not shown.any():
            continue
        options = {}
        if marker is not None:
            options = _marker_options(marker, markers.index(marker), len(markers))
        ax.plot(times, np.where(shown, values, np.nan), style, color=colour, label=label, **options)
    ax.set_yscale("log")
    ax.set_xlim(times[0], times[-1])
    ax.set_xlabel("t [day]")
    ax.legend(fontsize="x-small", ncol=2)


def _marker_options(marker: str, index: int, count: int) -> dict:
    """Markers every ``MARKER_SPACING`` along a line, the ``index``-th of ``count``
    lines' shifted so that lines lying on each other show all their markers."""
    start = MARKER_SPACING * (index + 0.5) / count
    return {"marker": marker, "markevery": (start, MARKER_SPACING), "markersize": 5}


def plot_size_distribution(run, t: float | None = None, ax=None):
    """Colony size distributions per size-structured site (its colour) at the frame
    nearest ``t`` [day] (default: the last), on log-log axes. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    t = run.times[-1] if t is None else t
    styles = site_styles(run)
    drawn = False
    for index, site in enumerate(run.model.sites):
        if site.grid is not None:
            continue
        sizes, density = run.size_distribution(t, site.name)
        keep = density > 1e-12 * density.max(initial=0.0)
        if keep.any():
            colour, marker = styles[site.name]
            ax.loglog(
                sizes[keep],
                density[keep],
                color=colour,
                label=site_name(site.name),
                **_marker_options(marker, index, len(styles)),
            )
            drawn = True
    ax.set_xlabel("colony size [cells]")
    ax.set_ylabel("expected colonies per cell of size")
    ax.set_title(f"colony sizes, t = {t:.4g} day")
    if drawn:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "no colonies yet", transform=ax.transAxes, ha="center")
    return ax


def plot_snapshots(run, axes, times, field: str | None = None):
    """Snapshots of ``field`` at ``times`` [day] on ``axes``, on one colour scale (the
    range over those frames) with one colour bar naming the unit. Returns the axes."""
    name = check_field(run, field)
    scale = field_range(run, name, times)
    for ax, t in zip(axes, times, strict=True):
        plot_field(run, name, t, ax, scale=scale, colorbar=False)
    images = [image for ax in axes for image in ax.get_images()]
    if images:
        axes[0].figure.colorbar(
            images[-1], ax=list(axes), label=field_label(run, name), shrink=0.85
        )
    return axes


def plot_summary(run, path, field: str | None = None, title: str | None = None):
    """Save a summary picture of a run to ``path`` (PNG, SVG, PDF by its suffix).

    A cascade: the tumour at the start and at the end (a lumped primary: its cells and the
    dormant cells), the cascade over time and the colony sizes at the end (and, with
    effector cells or vascular capacities, :func:`plot_defences`). Other models:
    snapshots of ``field`` (default: tumour cells) at the start, middle and end, and the
    tumour cells over time. Snapshots of one field share one colour scale; every panel
    over time spans the whole run.
    """
    plt = _pyplot()
    cascade = bool(analysis.sites(run))
    spatial = bool(run.field_names)
    times = run.times
    if cascade:
        defences = has_defences(run)
        columns = 3 if defences else 2
        fig, grid = plt.subplots(2, columns, figsize=(6 * columns, 9), constrained_layout=True)
        axes = [grid[0, 0], grid[0, 1], grid[1, 0], grid[1, 1]]
        if defences:
            plot_defences(run, grid[0, 2])
            grid[1, 2].axis("off")
        if spatial:
            plot_snapshots(run, axes[:2], (times[0], times[-1]), field)
        else:
            _plot_primary(run, axes[0])
            plot_dormancy(run, axes[1])
        plot_cascade(run, axes[2])
        plot_size_distribution(run, times[-1], axes[3])
    else:
        fig, axes = plt.subplots(1, 4, figsize=(18, 4), constrained_layout=True)
        if spatial:
            middle = times[len(times) // 2]
            plot_snapshots(run, axes[:3], (times[0], middle, times[-1]), field)
        else:
            for ax in axes[:3]:
                ax.axis("off")
        _plot_primary(run, axes[3])
    fig.suptitle(title or type(run.model).__name__)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_primary(run, ax):
    if "tumor_cells" in run.series_names:
        cells, label = run.series("tumor_cells"), "tumour [cells]"
    elif run.model.cell_fields:
        cells, label = analysis.tumor_cells(run), "tumour [mm^3 at capacity]"
    else:
        name = run.field_names[0]
        cells, label = (
            run.series(f"total_{name}"),
            f"total {name} [{run.series_unit(f'total_{name}')}]",
        )
    cells = np.asarray(cells, dtype=float)
    shown = cells >= LOWEST_COUNT
    if shown.any() and cells.max() > 100 * cells[shown].min():
        ax.set_yscale("log")
        cells = np.where(shown, cells, np.nan)
    times = np.asarray(run.times)
    ax.plot(times, cells, "k")
    ax.set_xlim(times[0], times[-1])
    ax.set_xlabel("t [day]")
    ax.set_ylabel(label)
    ax.set_title(
        "primary tumour"
        if run.model.cell_fields or "tumor_cells" in run.series_names
        else "over time"
    )


MOVIE_WRITERS = {".gif": "pillow", ".mp4": "ffmpeg"}  # by suffix: matplotlib's writers
DEFAULT_FPS = 8.0  # movie frames (saved frames of the run) per second


def movie(run, path, field: str | None = None, fps: float = DEFAULT_FPS, dpi: float = 100.0):
    """Write a movie of field ``field`` over the run to ``path``: one movie frame per saved
    frame of the run. Returns ``path``.

    A GIF (``.gif``, written by Pillow, which comes with matplotlib) or an MP4 (``.mp4``,
    needs the ``ffmpeg`` program). Each frame shows the field (default: the tumour
    cells) as in :func:`plot_field`: 2D as an image with x across and y up, 3D as its
    mid-plane in z, 1D as a profile, on one colour scale for the whole movie (the field's
    range over every frame) named with its unit; the simulated time (``t = 12 days``);
    and beside it the run over time (:func:`plot_cascade` for a run with circulating
    cells or sites, else the tumour or the field's total) with a line at the frame's
    time.

    Parameters
    ----------
    run : a :class:`~continuum.Result` or an open :class:`~continuum.RunFile` with fields.
    path : the movie file, ``.gif`` or ``.mp4``.
    field : a field of the run, or ``"cells"`` (the summed tumour-cell fields).
    fps : frames per second of the movie.
    dpi : pixels per inch of the 10 x 4.2 inch frames.
    """
    from continuum.validation import check_positive

    plt = _pyplot()
    path = Path(path)
    fps = check_positive("fps", fps, "frames per second")
    dpi = check_positive("dpi", dpi, "pixels per inch")
    writer = movie_writer(path, fps)
    name = check_field(run, field)
    times = np.asarray(run.times, dtype=float)
    if times.size == 0:
        raise ValueError("run: it holds no frames (it stopped before its first save)")
    scale = field_range(run, name, times)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(10, 4.2), width_ratios=(1.0, 1.1), constrained_layout=True
    )
    plot_field(run, name, times[0], left, scale=scale)
    drawn = left.get_images()[0] if run.grid.ndim > 1 else left.get_lines()[0]
    _, _, where = plane(run.grid, field_frame(run, name, times[0]))
    left.set_title(name + (f", {where}" if where else ""))
    if analysis.sites(run) or "blood_ctc" in run.series_names:
        plot_cascade(run, right)
    else:
        _plot_primary(run, right)
    now = right.axvline(times[0], color="0.35", lw=1.2)
    clock = fig.suptitle("")
    with writer.saving(fig, str(path), dpi):
        for t in times:
            image, _, _ = plane(run.grid, field_frame(run, name, t))
            if run.grid.ndim > 1:
                drawn.set_data(image)
            else:
                drawn.set_ydata(image)
            now.set_xdata([t, t])
            clock.set_text(f"t = {days(t)}")
            writer.grab_frame()
    plt.close(fig)
    return path


def movie_writer(path, fps: float = DEFAULT_FPS, name: str = "path"):
    """matplotlib's movie writer for ``path``'s suffix; a ``ValueError`` naming the
    option ``name`` if the suffix is not ``.gif`` or ``.mp4``, or if an MP4's program,
    ffmpeg, is missing."""
    _pyplot()
    from matplotlib import animation

    path = Path(path)
    kind = MOVIE_WRITERS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"{name}: got {str(path)!r}; a movie is a .gif (Pillow) or an .mp4 (ffmpeg) file"
        )
    if not animation.writers.is_available(kind):
        raise ValueError(
            f"{name}: {str(path)!r}: an MP4 movie needs the ffmpeg program, which is not "
            "on the PATH; install ffmpeg (apt install ffmpeg, conda install ffmpeg, brew "
            "install ffmpeg) or write a GIF (.gif)"
        )
    return animation.writers[kind](fps=fps)


def plot_fits(data: dict, fits: dict, ax=None):
    """Tumour volumes (``{individual: (days, mm^3)}``, grey) and fitted growth laws
    (``{label: Fit}``) on a log axis. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5), constrained_layout=True)
    for i, (t, v) in enumerate(data.values()):
        ax.plot(t, v, "o-", color="0.75", markersize=3, lw=0.8, label="data" if i == 0 else None)
    end = max(float(np.max(t)) for t, _ in data.values())
    times = np.linspace(0.0, end, 200)
    for label, fit in fits.items():
        ax.plot(times, fit.predict(times), lw=2, label=f"{label} (sd {fit.sigma:.2f})")
    ax.set_yscale("log")
    ax.set_xlabel("t [day]")
    ax.set_ylabel("tumour volume [mm^3]")
    ax.legend(fontsize="small")
    return ax


def plot_sensitivity(indices: dict, ax=None, title: str = ""):
    """First-order and total Sobol indices with their confidence intervals, per
    parameter (``continuum.ensemble.sensitivity``). Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    keys = list(indices)
    x = np.arange(len(keys))
    for shift, name, label in ((-0.18, "S1", "first order"), (0.18, "ST", "total")):
        values = [indices[k][name] for k in keys]
        errors = [indices[k][f"{name}_conf"] for k in keys]
        ax.bar(x + shift, values, 0.36, yerr=errors, capsize=3, label=label)
    ax.set_xticks(x, keys, rotation=20, ha="right", fontsize="small")
    ax.set_ylabel("Sobol index")
    ax.set_title(title or "sensitivity")
    ax.legend(fontsize="small")
    return ax
