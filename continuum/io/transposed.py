"""Zero-copy views of run-file arrays with the axes reversed, as HDF5 virtual datasets.

A run file stores a field ``(time, x, y, z)`` in C order: ``z`` varies fastest. VTK's
structured data (and XDMF's ``CoRectMesh``, which lists axes slowest first) want ``x``
fastest, i.e. ``(time, z, y, x)``. No XDMF construct reverses axes, so a reader shown the
stored array puts the run's ``x`` along its ``z``: the picture is mirrored. A virtual
dataset maps every line along the last axis of the stored array to a line along the
first spatial axis of the view (``x * y`` mappings for a 3D grid, ``x`` for 2D, one for
1D); HDF5 1.10 and later (ParaView's, VTK's) reads it as an ordinary dataset with the
axes reversed, and nothing is copied. Views are always 3D: a 2D array ``(x, y)`` is seen as
``(1, y, x)``, a 1D one as ``(1, 1, x)``, as VTK's readers want.
"""

from __future__ import annotations

import itertools

import h5py
import numpy as np
from h5py import h5d, h5p, h5s, h5t


def reversed_view(
    handle: h5py.File, name: str, source_file: str, source: h5py.Dataset, frames: int | None
) -> h5py.Dataset:
    """Create dataset ``name`` in ``handle``: ``source`` with its spatial axes reversed and
    padded to three (leading axes of length 1).

    Parameters
    ----------
    handle : the (writable) file that receives the view.
    name : path of the view in ``handle``.
    source_file : how ``handle`` names the file of ``source`` (a path relative to the
        directory of ``handle``, or ``"."`` for ``handle`` itself).
    source : the stored array, ``(time, *shape)`` when ``frames`` is given, else ``shape``.
    frames : the number of leading time rows to show (``None``: no time axis).
    """
    timed = frames is not None
    spatial = source.shape[1:] if timed else source.shape
    lead = (frames,) if timed else ()
    padding = (1,) * (3 - len(spatial))
    view = h5s.create_simple(lead + padding + spatial[::-1])
    stored = h5s.create_simple(source.shape)
    creation = _creation(source.dtype)
    line = spatial[-1]
    ones = (1,) * (len(lead) + 3)
    # h5py's low-level calls: its VirtualLayout takes four times as long per mapping
    for index in itertools.product(*(range(n) for n in spatial[:-1])):
        start = (0,) * (len(lead) + len(padding) + 1) + index[::-1]
        view.select_hyperslab(start, ones, block=lead + padding + (line,) + (1,) * len(index))
        stored.select_hyperslab(
            (0, *index, 0) if timed else (*index, 0),
            (1,) * len(source.shape),
            block=lead + (1,) * len(index) + (line,),
        )
        creation.set_virtual(view, source_file.encode(), source.name.encode(), stored)
    return _create(handle, name, source.dtype, view, creation)


def frame_view(handle: h5py.File, name: str, timed: h5py.Dataset, frame: int) -> h5py.Dataset:
    """Create dataset ``name``: frame ``frame`` of the view ``timed`` in the same file (one
    mapping; for readers that cannot select a frame of a larger array themselves)."""
    view = h5s.create_simple(timed.shape[1:])
    stored = h5s.create_simple(timed.shape)
    stored.select_hyperslab(
        (frame,) + (0,) * (timed.ndim - 1), (1,) * timed.ndim, block=(1, *timed.shape[1:])
    )
    creation = _creation(timed.dtype)
    creation.set_virtual(view, b".", timed.name.encode(), stored)
    return _create(handle, name, timed.dtype, view, creation)


def _creation(dtype) -> h5p.PropDCID:
    """Creation properties of a virtual dataset; a reader sees NaN (0 for integers) where
    a source is missing."""
    creation = h5p.create(h5p.DATASET_CREATE)
    fill = np.nan if np.issubdtype(dtype, np.floating) else 0
    creation.set_fill_value(np.array(fill, dtype=dtype))
    return creation


def _create(handle, name, dtype, view, creation) -> h5py.Dataset:
    view.select_all()
    group = handle.require_group(name.rsplit("/", 1)[0]) if "/" in name else handle
    dataset = h5d.create(
        group.id, name.rsplit("/", 1)[-1].encode(), h5t.py_create(dtype), view, dcpl=creation
    )
    return h5py.Dataset(dataset)
