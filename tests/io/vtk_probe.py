"""Open a file with a real VTK reader and probe its arrays at given points (a script).

    python vtk_probe.py READER FILE POINTS.json OUT.json

READER is ``xdmf`` (vtkXdmfReader, ParaView's "XDMF Reader"), ``xdmf3`` (vtkXdmf3Reader,
ParaView's "XDMF3 Reader"; ParaView's pvpython has it, the ``vtk`` wheel does not) or
``vtkhdf`` (vtkHDFReader). POINTS.json is a list, per block of the reader's output in
order (one for a single data set), of ``[x, y, z]`` points. OUT.json receives the reader's
time steps and, per time step, the block names (``None`` where a reader gives none) and
per block the data set's class, bounds, number of cells, which points fell inside it, and
each cell array probed at the points (``vtkProbeFilter``).
The script prints nothing itself, so whatever VTK, XDMF or HDF5 print shows up as output
of the process. It uses VTK alone (no NumPy), so that any ``vtk`` or ``pvpython`` runs it.
"""

import json
import os
import sys

from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCompositeDataSet, vtkPolyData
from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline
from vtkmodules.vtkFiltersCore import vtkProbeFilter


def reader_for(kind):
    if kind == "xdmf":
        from vtkmodules.vtkIOXdmf2 import vtkXdmfReader

        return vtkXdmfReader()
    if kind == "xdmf3":
        from vtkmodules.vtkIOXdmf3 import vtkXdmf3Reader

        return vtkXdmf3Reader()
    from vtkmodules.vtkIOHDF import vtkHDFReader

    return vtkHDFReader()


def leaves(data):
    """``[(block name, data set)]`` of a reader's output, in order."""
    if not data.IsA("vtkCompositeDataSet"):
        return [(None, data)]
    found = []
    iterator = data.NewIterator()
    iterator.InitTraversal()
    while not iterator.IsDoneWithTraversal():
        meta = iterator.GetCurrentMetaData()
        name = (
            meta.Get(vtkCompositeDataSet.NAME()) if meta.Has(vtkCompositeDataSet.NAME()) else None
        )
        found.append((name, iterator.GetCurrentDataObject()))
        iterator.GoToNextItem()
    return found


def probe(dataset, points):
    locations = vtkPoints()
    locations.SetDataTypeToDouble()
    for point in points:
        locations.InsertNextPoint(*point)
    where = vtkPolyData()
    where.SetPoints(locations)
    prober = vtkProbeFilter()
    prober.SetInputData(where)
    prober.SetSourceData(dataset)
    prober.Update()
    out = prober.GetOutput().GetPointData()
    valid = out.GetArray(prober.GetValidPointMaskArrayName())
    cells = dataset.GetCellData()
    arrays = {}
    for k in range(cells.GetNumberOfArrays()):
        name = cells.GetArrayName(k)
        probed = out.GetArray(name)
        arrays[name] = [probed.GetTuple1(i) for i in range(len(points))]
    return {
        "class": dataset.GetClassName(),
        "bounds": list(dataset.GetBounds()),
        "cells": dataset.GetNumberOfCells(),
        "valid": [int(valid.GetTuple1(i)) for i in range(len(points))],
        "arrays": arrays,
    }


def main(kind, path, points_path, out_path):
    with open(points_path) as handle:
        points = json.load(handle)
    reader = reader_for(kind)
    reader.SetFileName(os.path.abspath(path))  # as ParaView does (XDMF3 needs it)
    reader.UpdateInformation()
    info = reader.GetOutputInformation(0)
    key = vtkStreamingDemandDrivenPipeline.TIME_STEPS()
    times = list(info.Get(key)) if info.Has(key) else []
    steps = []
    for t in times or [None]:
        if t is None:
            reader.Update()
        else:
            reader.UpdateTimeStep(t)
        blocks = leaves(reader.GetOutputDataObject(0))
        steps.append(
            {
                "time": t,
                "names": [name for name, _ in blocks],
                "blocks": [
                    probe(dataset, where)
                    for (_, dataset), where in zip(blocks, points, strict=True)
                ],
            }
        )
    with open(out_path, "w") as handle:
        json.dump({"times": times, "steps": steps}, handle)


if __name__ == "__main__":
    main(*sys.argv[1:])
