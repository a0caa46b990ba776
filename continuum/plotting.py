"""Pictures of a run, from a :class:`~continuum.Result` or an opened run file.

matplotlib is imported only when a picture is asked for (``pip install
'continuum-metastasis[plot]'``). Lengths in mm, time in days, cells as counts; every
axis and colour bar names its unit.
"""

from __future__ import annotations

import numpy as np

from continuum import analysis

CELLS = "cells"  # the name that plots the tumour-cell density (sum of the cell fields)
LOWEST_COUNT = 1e-2  # counts below it (a hundredth of a cell or colony) are not drawn


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


def plot_field(run, name: str | None = None, t: float | None = None, ax=None):
    """A snapshot of field ``name`` at the frame nearest ``t`` [day] (default: the last)
    with a colour bar and its unit. ``name="cells"`` (the default when the model has
    tumour-cell fields) plots their summed density; a 3D field is cut through its middle
    along the first axis. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
    model = run.model
    if name is None:
        name = CELLS if model.cell_fields else run.field_names[0]
    t = run.times[-1] if t is None else t
    if name == CELLS:
        frame = analysis.cell_density(run, t)
        label = "tumour cells [fraction of capacity]"
    elif name in run.field_names:
        frame = run.field(name, t)
        label = f"{name} [{model.field_unit(name)}]"
    else:
        raise KeyError(f"field: got {name!r}; fields are {[CELLS, *run.field_names]}")
    grid = run.grid
    t_frame = run.times[int(np.argmin(np.abs(np.asarray(run.times) - t)))]
    if grid.ndim == 1:
        ax.plot(grid.coords[0], frame)
        ax.set_xlabel(f"{grid.axis_names[0]} [mm]")
        ax.set_ylabel(label)
    else:
        if grid.ndim == 3:
            frame = frame[frame.shape[0] // 2]
        origin = grid.origin[-2:]
        extent = [
            origin[1],
            origin[1] + grid.extent[-1],
            origin[0],
            origin[0] + grid.extent[-2],
        ]
        top = float(np.max(frame))
        vmax = top if top > 0.0 else 1.0  # an empty frame: 0 to 1, not -0.1 to 0.1
        image = ax.imshow(frame, origin="lower", extent=extent, cmap="magma", vmin=0.0, vmax=vmax)
        ax.figure.colorbar(image, ax=ax, label=label, shrink=0.85)
        ax.set_xlabel(f"{grid.axis_names[-1]} [mm]")
        ax.set_ylabel(f"{grid.axis_names[-2]} [mm]")
    ax.set_title(f"{name}, t = {t_frame:.4g} day")
    return ax


def plot_cascade(run, ax=None):
    """Cell counts over time on a log axis: the primary tumour, circulating cells, cells
    removed by treatments, and colonies (solid) and detectable colonies (dashed) per
    site. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    times = np.asarray(run.times)
    lines = [("primary tumour [cells]", analysis.tumor_cells(run), "k", "-")]
    if "blood_ctc" in run.series_names:
        lines.append(("circulating [cells]", analysis.circulating_cells(run), "k", "-."))
    if "removed" in run.series_names:
        lines.append(("removed by treatment [cells]", run.series("removed"), "0.5", ":"))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, site in enumerate(analysis.sites(run)):
        series = analysis.site_series(run, site)
        colour = colours[(i + 2) % len(colours)]
        lines.append((f"{site}: colonies", series["colonies"], colour, "-"))
        lines.append((f"{site}: detectable", series["detectable"], colour, "--"))
    _log_lines(ax, times, lines)
    ax.set_title("the cascade")
    return ax


def plot_dormancy(run, ax=None):
    """Dormant cells per site over time on a log axis. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    lines = [
        (f"{site}: dormant [cells]", analysis.site_series(run, site)["dormant"], colour, "-")
        for site, colour in zip(analysis.sites(run), colours[2:] + colours[:2], strict=False)
    ]
    _log_lines(ax, np.asarray(run.times), lines)
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
    the effector cells (solid) and the cells they killed (dotted), the colonies' vascular
    capacity (dashed) beside their cells (dash-dot); the primary's vascular capacity
    (``hahnfeldt`` law) beside its cells. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    names = run.series_names
    lines = []
    if _angiogenic_primary(run):
        lines.append(("primary: cells", run.series("tumor_cells"), "k", "-."))
        lines.append(("primary: vascular capacity", run.series("vascular_capacity"), "k", "--"))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, site in enumerate(analysis.sites(run)):
        colour = colours[(i + 2) % len(colours)]

        def series(name, site=site):
            path = f"sites/{site}/{name}"
            return np.asarray(run.series(path)) if path in names else np.zeros(1)

        if np.any(series("effectors") > 0.0):
            lines.append((f"{site}: effectors", series("effectors"), colour, "-"))
            lines.append((f"{site}: killed by effectors", series("immune_killed"), colour, ":"))
        if np.any(series("vascular_capacity") > 0.0):
            lines.append((f"{site}: colony cells", series("burden"), colour, "-."))
            capacity = series("vascular_capacity")
            lines.append((f"{site}: vascular capacity", capacity, colour, "--"))
    _log_lines(ax, np.asarray(run.times), lines)
    ax.set_ylabel("cells")
    ax.set_title("defences and vascular capacity")
    return ax


def _log_lines(ax, times, lines):
    """Lines of counts on a log axis, leaving out counts below ``LOWEST_COUNT``."""
    for label, values, colour, style in lines:
        values = np.asarray(values, dtype=float)
        shown = values >= LOWEST_COUNT
        if shown.any():
            ax.plot(times, np.where(shown, values, np.nan), style, color=colour, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("t [day]")
    ax.set_ylabel("count")
    ax.legend(fontsize="x-small", ncol=2)


def plot_size_distribution(run, t: float | None = None, ax=None):
    """Colony size distributions per size-structured site at the frame nearest ``t``
    [day] (default: the last), on log-log axes. Returns the axes."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    t = run.times[-1] if t is None else t
    drawn = False
    for site in run.model.sites:
        if site.grid is not None:
            continue
        sizes, density = run.size_distribution(t, site.name)
        keep = density > 1e-12 * density.max(initial=0.0)
        if keep.any():
            ax.loglog(sizes[keep], density[keep], label=site.name)
            drawn = True
    ax.set_xlabel("colony size [cells]")
    ax.set_ylabel("colonies per cell of size")
    ax.set_title(f"colony sizes, t = {t:.4g} day")
    if drawn:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "no colonies yet", transform=ax.transAxes, ha="center")
    return ax


def plot_summary(run, path, field: str | None = None, title: str | None = None):
    """Save a summary picture of a run to ``path`` (PNG, SVG, PDF by its suffix).

    A cascade: the tumour at the start and at the end, the cascade over time and the
    colony sizes at the end (and, with effector cells or vascular capacities,
    :func:`plot_defences`). Other models: snapshots of ``field`` (default: tumour
    cells) at the start, middle and end, and the tumour cells over time.
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
            plot_field(run, field, times[0], axes[0])
            plot_field(run, field, times[-1], axes[1])
        else:
            _plot_primary(run, axes[0])
            plot_dormancy(run, axes[1])
        plot_cascade(run, axes[2])
        plot_size_distribution(run, times[-1], axes[3])
    else:
        fig, axes = plt.subplots(1, 4, figsize=(17, 4), constrained_layout=True)
        if spatial:
            for ax, t in zip(axes[:3], (times[0], times[len(times) // 2], times[-1]), strict=True):
                plot_field(run, field, t, ax)
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
    ax.plot(run.times, cells, "k")
    ax.set_xlabel("t [day]")
    ax.set_ylabel(label)
    ax.set_title(
        "primary tumour"
        if run.model.cell_fields or "tumor_cells" in run.series_names
        else "over time"
    )


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
