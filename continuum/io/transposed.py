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
    lead = (slice(0, frames),) if timed else ()
    padding = (0,) * (3 - len(spatial))
    shape = ((frames,) if timed else ()) + (1,) * len(padding) + spatial[::-1]
    layout = h5py.VirtualLayout(shape=shape, dtype=source.dtype)
    stored = h5py.VirtualSource(source_file, source.name, shape=source.shape, dtype=source.dtype)
    whole_line = (slice(None),)
    for index in itertools.product(*(range(n) for n in spatial[:-1])):
        view_line = lead + padding + whole_line + index[::-1]
        layout[view_line] = stored[lead + index + whole_line]
    return handle.create_virtual_dataset(name, layout, fillvalue=_fill(source.dtype))


def frame_view(handle: h5py.File, name: str, timed: h5py.Dataset, frame: int) -> h5py.Dataset:
    """Create dataset ``name``: frame ``frame`` of the view ``timed`` in the same file (one
    mapping; for readers that cannot select a frame of a larger array themselves)."""
    layout = h5py.VirtualLayout(shape=timed.shape[1:], dtype=timed.dtype)
    layout[...] = h5py.VirtualSource(".", timed.name, shape=timed.shape, dtype=timed.dtype)[frame]
    return handle.create_virtual_dataset(name, layout, fillvalue=_fill(timed.dtype))


def _fill(dtype) -> float | int:
    """What a reader sees where a view's source is missing: NaN for numbers with one."""
    return np.nan if np.issubdtype(dtype, np.floating) else 0
