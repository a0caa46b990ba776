"""Pictures of a run (matplotlib is imported only when a picture is asked for)."""

from __future__ import annotations

import numpy as np


def plot_summary(result, path, field=None):
    """Save snapshots of ``field`` (first, middle, last frame) and the field totals.

    Lengths in mm, time in days; the colour bar carries the field's unit.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    field = field or result.field_names[0]
    grid = result.grid
    frames = [0, len(result.times) // 2, len(result.times) - 1]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), constrained_layout=True)
    values = result.field(field)
    vmax = float(np.max(values[frames])) or 1.0
    unit = result.model.field_unit(field)
    for ax, i in zip(axes[:3], frames, strict=True):
        frame = values[i]
        if grid.ndim == 1:
            ax.plot(grid.coords[0], frame)
            ax.set_xlabel("x [mm]")
            ax.set_ylabel(f"{field} [{unit}]")
        else:
            if grid.ndim == 3:
                frame = frame[frame.shape[0] // 2]
            extent = [0, grid.extent[-1], 0, grid.extent[-2]]
            image = ax.imshow(frame, origin="lower", extent=extent, vmin=0, vmax=vmax, cmap="magma")
            ax.set_xlabel(f"{grid.axis_names[-1]} [mm]")
            ax.set_ylabel(f"{grid.axis_names[-2]} [mm]")
        ax.set_title(f"{field}, t = {result.times[i]:.0f} day")
    if grid.ndim > 1:
        fig.colorbar(image, ax=axes[:3], label=f"{field} [{unit}]", shrink=0.9)
    totals = result.series(f"total_{field}")
    axes[3].plot(result.times, totals)
    axes[3].set_xlabel("t [day]")
    total_unit = "mm^3" if unit == "1" else f"{unit} mm^3"
    axes[3].set_ylabel(f"total {field} [{total_unit}]")
    axes[3].set_title("total over the domain")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
