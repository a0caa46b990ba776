"""XDMF sidecar so that ParaView (or VisIt) opens a run file as a time series.

``write_xdmf("run.h5")`` writes ``run.xdmf`` beside it: one uniform co-rectilinear mesh per
frame, each field a cell-centred attribute that points at its frame in the HDF5 file, so no
data is copied. Open ``run.xdmf`` in ParaView with the "XDMF Reader". XDMF lists axes
slowest first, so the mesh's first axis is the run's ``x``.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from continuum.io.reader import open_run


def _numbers(values) -> str:
    return " ".join(f"{v:.17g}" for v in values)


def _xml_item(size, text) -> str:
    return f'<DataItem Format="XML" Dimensions="{size}">{text}</DataItem>'


def write_xdmf(path) -> Path | None:
    """Write the sidecar of the run file ``path``; returns its path (``None`` for 1D runs)."""
    path = Path(path)
    with open_run(path) as run:
        grid = run.grid
        times = run.times
        fields = run.field_names
    if grid.ndim == 1:
        return None
    nodes = " ".join(str(n + 1) for n in grid.shape)
    cells = " ".join(str(n) for n in grid.shape)
    topology = "3DCoRectMesh" if grid.ndim == 3 else "2DCoRectMesh"
    geometry = "ORIGIN_DXDYDZ" if grid.ndim == 3 else "ORIGIN_DXDY"
    ndim = grid.ndim
    h5 = path.name
    lines = [
        '<?xml version="1.0" ?>',
        '<Xdmf Version="3.0">',
        "  <Domain>",
        '    <Grid Name="run" GridType="Collection" CollectionType="Temporal">',
    ]
    for i, t in enumerate(times):
        lines += [
            f'      <Grid Name="frame {i}" GridType="Uniform">',
            f'        <Time Value="{t:.17g}"/>',
            f'        <Topology TopologyType="{topology}" Dimensions="{nodes}"/>',
            f'        <Geometry GeometryType="{geometry}">',
            f"          {_xml_item(ndim, _numbers(grid.origin))}",
            f"          {_xml_item(ndim, _numbers(grid.spacing))}",
            "        </Geometry>",
        ]
        for name in fields:
            start = " ".join(["0"] * ndim)
            lines += [
                f'        <Attribute Name={quoteattr(name)} AttributeType="Scalar" Center="Cell">',
                f'          <DataItem ItemType="HyperSlab" Dimensions="1 {cells}" '
                'Type="HyperSlab">',
                f'            <DataItem Dimensions="3 {ndim + 1}" Format="XML">'
                f"{i} {start} 1 {' '.join(['1'] * ndim)} 1 {cells}</DataItem>",
                f'            <DataItem Format="HDF" NumberType="Float" Precision="8" '
                f'Dimensions="{len(times)} {cells}">{h5}:/fields/{name}</DataItem>',
                "          </DataItem>",
                "        </Attribute>",
            ]
        lines.append("      </Grid>")
    lines += ["    </Grid>", "  </Domain>", "</Xdmf>", ""]
    sidecar = path.with_suffix(".xdmf")
    sidecar.write_text("\n".join(lines))
    return sidecar
