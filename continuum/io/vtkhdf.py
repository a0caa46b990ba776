"""Export a run to VTKHDF image files: self-contained copies that ParaView reads at disk speed.

``export_vtkhdf("run.h5")`` writes ``run.vtkhdf`` (the run's own grid) and, for each
spatial site of a cascade, ``run.<site>.vtkhdf``: VTK image data (VTKHDF format version
2.0, temporal) whose cell data are the block's fields at every frame and its static maps
(:mod:`continuum.io.vtk_blocks`). The origin of the image is the lower corner of the grid
[mm], the time steps are the frames' times [day]; a 2D run is an image in the ``z = 0``
plane, a 1D run a line along ``x``. The arrays are stored with their axes reversed
(``(time, z, y, x)``, as VTK wants them), compressed (deflate), one chunk per frame.
ParaView 5.12 and later (VTK 9.3 and later) read temporal VTKHDF files.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from continuum.io.layout import compression_options
from continuum.io.reader import open_run
from continuum.io.vtk_blocks import Block, vtk_blocks

VTKHDF_VERSION = (2, 0)


def export_vtkhdf(path, out=None) -> list[Path]:
    """Write the VTKHDF files of run file ``path``; returns their paths.

    Parameters
    ----------
    path : a run file (``.h5``).
    out : path of the main file (default: ``path`` with the suffix ``.vtkhdf``); a spatial
        site ``lung`` goes to ``<out stem>.lung.vtkhdf`` beside it.
    """
    path = Path(path)
    out = path.with_suffix(".vtkhdf") if out is None else Path(out)
    if out.suffix != ".vtkhdf":
        raise ValueError(f"out: got {str(out)!r}; a VTKHDF file's name ends in .vtkhdf")
    if not out.parent.is_dir():
        raise ValueError(f"out: the folder {str(out.parent)!r} does not exist")
    with open_run(path) as run:
        blocks = vtk_blocks(run)
        times = run.times
        if not blocks:
            raise ValueError(
                f"path: {str(path)!r} holds no array on a grid (a lumped model); there is "
                "nothing to export"
            )
        written = []
        with h5py.File(path, "r") as source:
            for block in blocks:
                target = out if block.name == "tissue" else _site_path(out, block)
                _write_block(target, source, block, times)
                written.append(target)
    return written


def _site_path(out: Path, block: Block) -> Path:
    return out.with_name(f"{out.stem}.{block.group.rsplit('/', 1)[-1]}.vtkhdf")


def _write_block(target: Path, source: h5py.File, block: Block, times: np.ndarray) -> None:
    """One block as a temporal VTKHDF image, built under a temporary name and moved into
    place complete."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with h5py.File(partial, "w") as handle:
            _write_image(handle, source, block, times)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _write_image(handle: h5py.File, source: h5py.File, block: Block, times) -> None:
    grid = block.grid
    missing = 3 - grid.ndim
    root = handle.create_group("VTKHDF")
    root.attrs["Version"] = np.array(VTKHDF_VERSION, dtype="i8")
    root.attrs.create("Type", np.bytes_("ImageData"))
    extent = []
    for n in grid.shape:
        extent += [0, n]
    root.attrs["WholeExtent"] = np.array(extent + [0, 0] * missing, dtype="i8")
    root.attrs["Origin"] = np.array(list(grid.origin) + [0.0] * missing)
    root.attrs["Spacing"] = np.array(list(grid.spacing) + [1.0] * missing)
    root.attrs["Direction"] = np.eye(3).ravel()
    root.attrs["length_units"] = "mm"
    root.attrs["time_units"] = "day"
    cells = root.create_group("CellData")
    steps = root.create_group("Steps")
    steps.attrs["NSteps"] = len(times)
    steps.create_dataset("Values", data=np.asarray(times, dtype="f8"))
    offsets = steps.create_group("CellDataOffsets")
    shape = grid.shape[::-1]  # VTK's order: z, y, x (a 2D image has no z axis)
    options = compression_options("gzip")
    for name, where in block.fields.items():
        stored = source[where]
        ds = cells.create_dataset(
            name, shape=(len(times), *shape), dtype=stored.dtype, chunks=(1, *shape), **options
        )
        for frame in range(len(times)):
            ds[frame] = stored[frame].T.reshape(shape)
        _describe(ds, stored)
        offsets.create_dataset(name, data=np.arange(len(times), dtype="i8"))
    for name, where in block.static.items():
        stored = source[where]
        ds = cells.create_dataset(name, data=stored[...].T.reshape((1, *shape)), **options)
        _describe(ds, stored)
        offsets.create_dataset(name, data=np.zeros(len(times), dtype="i8"))  # one for all


def _describe(ds: h5py.Dataset, stored: h5py.Dataset) -> None:
    """Units and description of the run file's dataset (VTK ignores them)."""
    for key in ("units", "long_name"):
        if key in stored.attrs:
            ds.attrs[key] = stored.attrs[key]
