"""XDMF sidecar so that ParaView (or VisIt) opens a run file as a time series.

``write_xdmf("run.h5")`` writes two files beside the run: ``run.xdmf`` (the XML that
readers open) and ``run.xdmf.h5`` (HDF5 virtual datasets that show the run's arrays with
their axes reversed, so that VTK's ``x`` is the run's ``x``; see
:mod:`continuum.io.transposed`; they point into ``run.h5``, nothing is copied). Every frame
is a uniform co-rectilinear mesh (VTK image data) per block (:mod:`continuum.io.vtk_blocks`):
fields, static maps and the mask are cell data, the lower corner of the grid is the mesh's
origin [mm], and the frame's time [day] is the reader's time step. A 2D run is a slab one
cell (its thickness) deep centred on the ``z = 0`` plane, a 1D run a row of cells along the
``x`` axis. Both of ParaView's XDMF readers ("XDMF Reader" and "XDMF3 Reader S") open it;
the three files must stay in one folder. See ``docs/paraview.md``.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from xml.sax.saxutils import quoteattr

import h5py
import numpy as np

from continuum.io.reader import open_run
from continuum.io.transposed import frame_view, reversed_view
from continuum.io.vtk_blocks import Block, vtk_blocks


def views_path(path) -> Path:
    """The file of virtual datasets beside run file ``path`` (``run.h5`` -> ``run.xdmf.h5``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.xdmf.h5")


def write_xdmf(path) -> Path | None:
    """Write the sidecar of the run file ``path`` (and its ``.xdmf.h5`` views); returns its
    path, or ``None`` when the run has no array on a grid (a lumped model)."""
    path = Path(path)
    with open_run(path) as run:
        blocks = vtk_blocks(run)
        times = run.times
    if not blocks:
        return None
    sidecar = path.with_suffix(".xdmf")
    views = views_path(path)
    partial_views = views.with_name(f".{views.name}.{os.getpid()}.partial")
    partial_sidecar = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.partial")
    try:
        with h5py.File(path, "r") as source, h5py.File(partial_views, "w") as handle:
            items = {
                block.name: _write_views(handle, source, path.name, block, len(times))
                for block in blocks
            }
        partial_sidecar.write_text(_xml(blocks, items, times, views.name))
        os.replace(partial_views, views)
        os.replace(partial_sidecar, sidecar)
    finally:
        partial_views.unlink(missing_ok=True)
        partial_sidecar.unlink(missing_ok=True)
    return sidecar


def write_sidecar(path, stacklevel: int = 2) -> None:
    """:func:`write_xdmf` for a run file that is complete without its sidecar: a failure
    to write it (a full disk) is a ``RuntimeWarning`` (``stacklevel`` as in
    ``warnings.warn``, this function being level 1), not an error."""
    try:
        write_xdmf(path)
    except OSError as error:
        warnings.warn(
            f"{str(path)!r} is complete, but its XDMF sidecar for ParaView could not be "
            f"written ({error}); 'continuum export {path} --xdmf' writes it later",
            RuntimeWarning,
            stacklevel=stacklevel,
        )


def move_sidecar(old, new) -> None:
    """After run file ``old`` was renamed ``new``: remove the sidecar and views written
    for ``old`` (they point into it) and write ``new``'s (nothing when ``old`` had none)."""
    stale = [Path(old).with_suffix(".xdmf"), views_path(old)]
    if not any(file.exists() for file in stale):
        return
    for file in stale:
        file.unlink(missing_ok=True)
    write_sidecar(new, stacklevel=3)


def _write_views(handle, source, source_name, block: Block, frames: int) -> dict:
    """The block's views in ``handle``; returns the paths of its datasets,
    ``{"fields": {name: [one per frame]}, "static": {name: path}, "dtypes": {name: dtype}}``."""
    fields = {}
    for name, where in block.fields.items():
        timed = reversed_view(
            handle, f"{block.group}/fields/{name}", source_name, source[where], frames
        )
        fields[name] = [
            frame_view(handle, f"{block.group}/frames/{name}/{i}", timed, i).name
            for i in range(frames)
        ]
    static = {
        name: reversed_view(
            handle, f"{block.group}/static/{name}", source_name, source[where], None
        ).name
        for name, where in block.static.items()
    }
    dtypes = {name: source[where].dtype for name, where in block.fields.items()}
    dtypes |= {name: source[where].dtype for name, where in block.static.items()}
    return {"fields": fields, "static": static, "dtypes": dtypes}


def _numbers(values) -> str:
    return " ".join(repr(float(v)) for v in values)


def _number_type(dtype) -> str:
    """XDMF's ``NumberType`` and ``Precision`` attributes of a NumPy dtype."""
    dtype = np.dtype(dtype)
    kind = {"f": "Float", "i": "Int", "u": "UInt"}[dtype.kind]
    if dtype.kind == "u" and dtype.itemsize == 1:
        kind = "UChar"
    return f'NumberType="{kind}" Precision="{dtype.itemsize}"'


def _mesh(block: Block) -> list[str]:
    """Topology and geometry of a block's grid, axes slowest first (z, y, x)."""
    grid = block.grid
    points = [n + 1 for n in grid.shape[::-1]]
    origin = list(grid.origin[::-1])
    spacing = list(grid.spacing[::-1])
    # A mesh one point deep loses its cell data in ParaView's XDMF Reader, and a 2D mesh
    # goes to its y-z plane: a 2D run is one cell deep in z (its thickness, centred on
    # z = 0), a 1D run one cell in y and z (a square of its cross-section, centred on the
    # x axis), so every VTK cell has the run's cell volume.
    depth = grid.thickness if grid.ndim == 2 else math.sqrt(grid.cross_section)
    for _ in range(3 - grid.ndim):
        points, origin, spacing = [2, *points], [-depth / 2, *origin], [depth, *spacing]
    return [
        f'<Topology TopologyType="3DCoRectMesh" Dimensions="{" ".join(map(str, points))}"/>',
        '<Geometry GeometryType="ORIGIN_DXDYDZ">',
        f'  <DataItem Format="XML" NumberType="Float" Precision="8" Dimensions="3">'
        f"{_numbers(origin)}</DataItem>",
        f'  <DataItem Format="XML" NumberType="Float" Precision="8" Dimensions="3">'
        f"{_numbers(spacing)}</DataItem>",
        "</Geometry>",
    ]


def _attribute(name, dataset, dtype, block: Block, views_name) -> list[str]:
    cells = " ".join(str(n) for n in (1,) * (3 - block.grid.ndim) + block.grid.shape[::-1])
    return [
        f'<Attribute Name={quoteattr(name)} AttributeType="Scalar" Center="Cell">',
        f'  <DataItem Format="HDF" {_number_type(dtype)} Dimensions="{cells}">'
        f"{views_name}:{dataset}</DataItem>",
        "</Attribute>",
    ]


def _block_grid(block: Block, items: dict, frame: int, views_name, time=None) -> list[str]:
    lines = [f'<Grid Name={quoteattr(block.name)} GridType="Uniform">']
    if time is not None:
        lines.append(f'  <Time Value="{time!r}"/>')
    body = _mesh(block)
    for name, per_frame in items["fields"].items():
        body += _attribute(name, per_frame[frame], items["dtypes"][name], block, views_name)
    for name, dataset in items["static"].items():
        body += _attribute(name, dataset, items["dtypes"][name], block, views_name)
    return lines + ["  " + line for line in body] + ["</Grid>"]


def _xml(blocks: list[Block], items: dict, times, views_name: str) -> str:
    """The sidecar: per block a temporal collection of its frames (in a spatial collection
    when there are several blocks, so that each block keeps its name in ParaView)."""
    series = []
    for block in blocks:
        series += [
            f'<Grid Name={quoteattr(block.name)} GridType="Collection" CollectionType="Temporal">'
        ]
        for i, t in enumerate(times):
            lines = _block_grid(block, items[block.name], i, views_name, time=float(t))
            series += ["  " + line for line in lines]
        series.append("</Grid>")
    if len(blocks) > 1:
        series = [
            '<Grid Name="run" GridType="Collection" CollectionType="Spatial">',
            *("  " + line for line in series),
            "</Grid>",
        ]
    lines = [
        '<?xml version="1.0" ?>',
        '<Xdmf Version="3.0">',
        "  <Domain>",
        *("    " + line for line in series),
        "  </Domain>",
        "</Xdmf>",
        "",
    ]
    return "\n".join(lines)
