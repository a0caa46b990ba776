"""Initial conditions of a scenario: the ``[initial]`` table (numbers, shapes, arrays
from ``.npy`` files and HDF5 datasets, e.g. a run's last frame, and images such as NIfTI
segmentations) and the arrays of files that other tables name (radiotherapy targets,
maps of equation models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from continuum.grid import Grid
from continuum.scenario import image_files
from continuum.scenario.checker import Checker
from continuum.scenario.keys import INITIAL_FILE_KEYS, INITIAL_SHAPE_KEYS
from continuum.validation import check_integer, check_real

SHAPES = ("disk", "ball", "interval")


def initial_state(model, grid, table: dict, folder: Path, check: Checker):
    names = set(model.field_names) | set(model.scalar_names)
    check.keys(table, names, "initial")
    values = {}
    for name, value in table.items():
        if name not in names:
            continue
        where = f"initial.{name}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[name] = float(value)
        elif name not in model.field_names:
            check.add(f"{where}: got {value!r}; a compartment takes a number [cells]")
        else:
            array = initial_field(check.table(value, where), grid, folder, where, check)
            if array is not None:
                values[name] = array
    return check.attempt("initial", model.initial_state, grid, **values)


def _array_from_file(spec: dict, grid: Grid, folder: Path, where: str, check: Checker):
    """An array of the grid's shape from ``{file = "a.npy"}``, ``{file = "run.h5",
    dataset = "fields/epithelial", frame = -1}`` (an HDF5 dataset of the grid's shape, or
    one frame of a stack of them: the last unless ``frame`` says) or an image resampled
    to the grid (``{file = "tumour.nii.gz", label = 1, value = 0.8}``, NIfTI or a
    picture; see :func:`~continuum.scenario.image_files.field`)."""
    name = file_name(spec, where, check)
    if name is None:
        return None
    path = folder / name
    if image_files.is_field_image(name):
        return image_files.field(spec, grid, path, where, check)
    hdf5 = path.suffix in (".h5", ".hdf5")
    check.keys(spec, INITIAL_FILE_KEYS if hdf5 else ("file",), where)
    try:
        if hdf5:
            array = _hdf5_array(spec, path, grid, where, check)
            if array is None:
                return None
        else:
            array = np.load(path)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        check.add(f"{where}.file: cannot read {str(path)!r} ({error})")
        return None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "iufb":
        kind = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
        check.add(f"{where}.file: {str(path)!r} holds {kind} values; real numbers are required")
        return None
    if array.shape != grid.shape:
        check.add(f"{where}.file: array of shape {array.shape} does not fit the grid {grid.shape}")
        return None
    return array


def _hdf5_array(spec: dict, path: Path, grid: Grid, where: str, check: Checker):
    """The array of ``spec``'s ``dataset`` in the HDF5 file ``path`` (one frame of a stack
    of grid-shaped arrays: ``frame``, by default the last one written)."""
    import h5py

    dataset = spec.get("dataset")
    if not isinstance(dataset, str):
        check.add(f'{where}.dataset: got {dataset!r}; an HDF5 file needs dataset = "path/in/file"')
        return None
    frame = check.value(check_integer, f"{where}.frame", spec.get("frame", -1))
    if frame is None:
        return None
    with h5py.File(path, "r") as handle:
        data = handle[dataset]
        if not isinstance(data, h5py.Dataset):
            check.add(f"{where}.dataset: {dataset!r} in {str(path)!r} is a group, not a dataset")
            return None
        if data.ndim != grid.ndim + 1:
            return data[()]
        if "frames" in handle.attrs and frame == -1:  # a run file: its last frame
            frame = int(handle.attrs["frames"]) - 1
        return data[frame]


def file_name(spec: dict, where: str, check: Checker) -> str | None:
    """``spec["file"]``, a path relative to the scenario's folder, or ``None`` (a problem)."""
    name = spec["file"]
    if not isinstance(name, str) or not name:
        check.add(f"{where}.file: got {name!r}; a file name (a string) is required")
        return None
    return name


def initial_field(spec: dict, grid: Grid, folder: Path, where: str, check: Checker):
    if "file" in spec:
        return _array_from_file(spec, grid, folder, where, check)
    check.keys(spec, INITIAL_SHAPE_KEYS, where)
    shape = spec.get("shape")
    if shape not in SHAPES:
        check.add(f"{where}.shape: got {shape!r}; allowed are {', '.join(SHAPES)} or a file")
        return None
    radius = check.number(spec, "radius", where, required=True, positive=True)
    value = check.number(spec, "value", where) if "value" in spec else 1.0
    centre = spec.get("centre", [o + e / 2 for o, e in zip(grid.origin, grid.extent, strict=True)])
    if not isinstance(centre, list) or len(centre) != grid.ndim:
        check.add(f"{where}.centre: got {centre!r}; {grid.ndim} coordinates [mm] are required")
        return None
    centre = [
        check.value(check_real, f"{where}.centre[{i}]", c, "mm") for i, c in enumerate(centre)
    ]
    if radius is None or value is None or None in centre:
        return None
    coords = np.meshgrid(*grid.coords, indexing="ij")
    r = np.sqrt(sum((c - c0) ** 2 for c, c0 in zip(coords, centre, strict=True)))
    return np.where(r <= radius, value, 0.0)
