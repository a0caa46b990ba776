"""Streaming run-file writer: every dataset is created up front, frames are appended.

A frame is written, the file flushed, and only then the root attribute ``frames`` counts
it, so a run that is killed leaves a file whose ``frames`` first frames are complete.
Checkpoints alternate between two slots; the root attribute ``checkpoint`` names the slot
written last, and is switched only after that slot is flushed, so a valid checkpoint
always survives a kill.

With the default gzip compression the writer compresses a frame's chunks itself, in
parallel on all cores (zlib releases the GIL), applying HDF5's shuffle and deflate filters
(:func:`shuffle_deflate`: byte planes of noise are stored, not deflated), and stores them
with ``write_direct_chunk``; any HDF5 reader decompresses them as usual. (A background
writer thread was tried first: on a machine whose cores the stepping threads already use,
compressing beside them stalls the parallel loops badly.)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time as clock
import warnings
import zlib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from itertools import product
from pathlib import Path

import h5py
import numpy as np

from continuum.io.checksum import with_checksum
from continuum.io.layout import (
    CHECKPOINT_SLOTS,
    CHECKSUM,
    FORMAT,
    FORMAT_VERSION,
    GZIP_LEVEL,
    compression_options,
    frame_chunks,
    is_lock_error,
    series_path,
)
from continuum.validation import GIB


class RunWriteError(OSError):
    """Writing the run file failed (a full disk, a lost mount...): the run stopped, and the
    frames the file counts, and its last checkpoint, are intact."""


def check_output_path(path, overwrite: bool) -> Path:
    """Refuse an existing file (unless ``overwrite``) or a folder we cannot write to."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ValueError(
            f"output: {str(path)!r} exists; pass overwrite=True to replace it, or choose "
            "another path"
        )
    if path.is_dir():
        raise ValueError(f"output: {str(path)!r} is a folder; give a file path")
    folder = path.parent if str(path.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"output: {str(folder)!r} is a file, not a folder")
    if not folder.is_dir():
        raise ValueError(f"output: folder {str(folder)!r} does not exist")
    # A real write, not os.access: root passes os.access where no file can be created.
    try:
        handle, probe = tempfile.mkstemp(prefix=".continuum-probe-", dir=folder)
    except OSError as error:
        raise ValueError(
            f"output: folder {str(folder)!r} is not writable ({error.strerror})"
        ) from None
    os.close(handle)
    os.unlink(probe)
    return path


def check_disk_space(path: Path, nbytes: float, compression) -> None:
    """Refuse a run whose frames (``nbytes`` uncompressed) cannot fit on the disk of
    ``path``; with compression the file may fit anyway, so that is only a warning (a
    write that fails still stops the run cleanly)."""
    free = shutil.disk_usage(path.parent if str(path.parent) else ".").free
    if nbytes <= free:
        return
    what = (
        f"output: the run's frames need about {nbytes / GIB:.4g} GiB uncompressed; "
        f"{str(path.parent)!r} has {free / GIB:.4g} GiB free"
    )
    if compression is None:
        raise ValueError(f"{what}: save less often, or free space")
    warnings.warn(f"{what}; compression may make it fit", RuntimeWarning, stacklevel=3)


# The zlib stream header (RFC 1950): deflate, 32 KiB window, "fastest" level hint.
_ZLIB_HEADER = b"\x78\x01"
# A byte plane is test-read in 4 spots of PROBE_BYTES / 4 bytes; one whose bytes carry more
# than STORE_ABOVE bits of (order-0) entropy per byte is stored, not deflated: deflate
# would spend about 15 ms per MiB to shrink it by a few per cent.
PROBE_BYTES = 16384
STORE_ABOVE = 7.5


def byte_entropy(sample: np.ndarray) -> float:
    """Shannon entropy [bits per byte] of the byte values in ``sample`` (``uint8``)."""
    counts = np.bincount(sample, minlength=256)
    p = counts[counts > 0] / sample.size
    return float(-(p * np.log2(p)).sum())


def shuffle_deflate(block: np.ndarray, level: int, checksum: bool) -> bytes:
    """HDF5's shuffle filter (byte planes), deflate and (if ``checksum``) Fletcher-32, on
    one chunk; any HDF5 reader's deflate filter decodes the result.

    The float64 mantissa's low bytes are noise: deflate cannot shrink them and spends
    most of its time on them. Each byte plane is therefore coded on its own: planes of
    high entropy (:data:`STORE_ABOVE`) as stored deflate blocks (a copy), the others at
    ``level``. The planes' raw deflate streams end byte-aligned (full flush), so joined,
    closed by an empty final block and framed by the zlib header and the Adler-32 of
    the shuffled bytes they are one ordinary zlib stream.
    """
    planes = np.ascontiguousarray(block.reshape(-1).view(np.uint8).reshape(-1, block.itemsize).T)
    parts = [_ZLIB_HEADER]
    m = planes.shape[1]
    for plane in planes:
        if m > PROBE_BYTES:
            quarter = PROBE_BYTES // 4
            sample = np.concatenate([plane[k * m // 4 :][:quarter] for k in range(4)])
        else:
            sample = plane
        coder = zlib.compressobj(0 if byte_entropy(sample) > STORE_ABOVE else level, wbits=-15)
        parts.append(coder.compress(plane))
        parts.append(coder.flush(zlib.Z_FULL_FLUSH))
    parts.append(zlib.compressobj(0, wbits=-15).flush(zlib.Z_FINISH))  # empty final block
    parts.append(zlib.adler32(planes).to_bytes(4, "big"))
    chunk = b"".join(parts)
    return with_checksum(chunk) if checksum else chunk


# No chunk cache: every chunk goes to the file when it is written, so a failed write
# (a full disk) is reported by that write. With a cache, HDF5 fails later, while evicting
# or closing, where h5py can only print the error, and at exit it crashes on the chunks it
# could not write.
UNCACHED = {"rdcc_nbytes": 0}

# Series and frame arrays are written in blocks: after this many frames, or this many
# seconds after the last block, whichever comes first (one small write per series and
# frame made a cascade's frames cost milliseconds each).
FLUSH_FRAMES = 64
FLUSH_SECONDS = 2.0


class RunWriter:
    """Writes one run file; use :meth:`create` for a new run, :meth:`reopen` to resume.

    ``frames`` counts the complete frames: fields are written as each frame comes, the
    series and frame arrays of pending frames in blocks (:meth:`flush`, also at every
    checkpoint and on close), and only then is ``attrs["frames"]`` raised. A killed run
    keeps every frame it counted.
    """

    def __init__(self, handle: h5py.File, path: Path):
        self.file = handle
        self.path = Path(path)
        self.frames = int(handle.attrs["frames"])
        self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
        self._pending: list[tuple] = []  # (t, series, arrays) of frames not yet counted
        # Dataset handles stay open for the whole run: a handle closed behind every write
        # would flush its chunks in h5py's destructor, where a failed write is only printed.
        self._datasets: dict[str, h5py.Dataset] = {}
        self._last_flush = clock.monotonic()
        slot = handle.attrs.get("checkpoint", "")
        self._checkpoint_t = handle[slot].attrs.get("t") if slot in CHECKPOINT_SLOTS else None
        self.failed: RunWriteError | None = None

    @contextmanager
    def _guarded(self, doing: str):
        """Turn a failed HDF5 write into one :class:`RunWriteError` that stops the run; the
        writer refuses every write after it."""
        if self.failed is not None:
            raise self.failed
        try:
            yield
        except (OSError, RuntimeError) as error:
            kept = f"its first {self.frames} frames"
            if self._checkpoint_t is not None:
                kept += f" and the checkpoint at t = {self._checkpoint_t:g} day"
            self.failed = RunWriteError(
                getattr(error, "errno", None),
                f"run file {str(self.path)!r}: {doing} failed ({_reason(error)}); the run "
                f"stopped, and {kept} are intact: make room, then resume it",
            )
            raise self.failed from error

    @classmethod
    def create(
        cls,
        path,
        model,
        state,
        solver,
        settings: dict,
        series_names,
        compression,
        scenario="",
        interventions=(),
    ):
        """Create the file with all datasets, attributes and dimension scales; ``scenario``
        is the scenario's TOML text (empty for runs built in Python), ``interventions``
        the treatments (``attrs["interventions"]``, JSON; array targets as datasets
        ``interventions/target<i>``)."""
        grid = state.grid
        path = Path(path)
        if path.exists():
            _refuse_if_open(path)
        # Built under a temporary name and moved into place when complete, so a run that
        # fails (or is killed) while creating its file leaves any older file untouched.
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            handle = _open_file(partial, "w")
        except OSError as error:
            raise RunWriteError(
                getattr(error, "errno", None),
                f"output: cannot create {str(partial)!r} ({_reason(error)})",
            ) from error
        try:
            _write_attributes(handle, model, grid, settings, scenario, interventions)
            time, scales = _write_coordinates(handle, grid)
            _write_maps(handle, model, grid, scales)
            _create_fields(handle, model, state, compression, time, scales)
            _create_series(handle, series_names, time, _total_descriptions(model, state))
            _create_frame_arrays(handle, model.frame_array_info(), time)
            arrays = {"data": state.data, "scalars": state.scalars, **solver.history_arrays()}
            _create_checkpoint_slots(handle, arrays)
            handle.flush()
            os.replace(partial, path)
        except BaseException as error:
            _close_quietly(handle)
            partial.unlink(missing_ok=True)
            if isinstance(error, OSError | RuntimeError):
                raise RunWriteError(
                    getattr(error, "errno", None),
                    f"output: cannot write {str(path)!r} ({_reason(error)})",
                ) from error
            raise
        return cls(handle, path)

    @classmethod
    def reopen(cls, path) -> RunWriter:
        """Open an existing run file to continue it (``resume``)."""
        from continuum.io.reader import RunFileError

        try:
            handle = _open_file(path, "r+")
        except OSError as error:
            if is_lock_error(error):
                raise RunFileError(
                    f"{str(path)!r} is open in another process; close it there first"
                ) from None
            raise RunFileError(f"{str(path)!r} cannot be opened for writing: {error}") from None
        return cls(handle, path)

    def append(self, t: float, state, series_values: dict, arrays: dict | None = None) -> None:
        """Append one frame: its fields now, its series and arrays with the next block.

        ``arrays`` are the model's frame arrays (``Model.frame_arrays``), by path."""
        n = self.frames + len(self._pending) + 1
        with self._guarded(f"writing frame {n - 1} (t = {t:g} day)"):
            for name, values in zip(state.field_names, state.data, strict=True):
                ds = self._dataset(f"fields/{name}")
                ds.resize(n, axis=0)
                if ds.compression == "gzip" and ds.shuffle:
                    self._write_gzip_frame(ds, n - 1, values)
                else:
                    ds[n - 1] = values
        copies = {path: np.array(values) for path, values in (arrays or {}).items()}
        self._pending.append((t, dict(series_values), copies))
        due = clock.monotonic() - self._last_flush >= FLUSH_SECONDS
        if len(self._pending) >= FLUSH_FRAMES or due:
            self.flush()

    def flush(self) -> None:
        """Write the pending frames' time, series and arrays in one block each, flush,
        then count the frames in ``attrs["frames"]``."""
        self._last_flush = clock.monotonic()
        if not self._pending:
            return
        start = self.frames
        end = start + len(self._pending)
        block = {"time": np.array([frame[0] for frame in self._pending])}
        for name in self._pending[0][1]:
            block[series_path(name)] = np.array([frame[1][name] for frame in self._pending])
        for path in self._pending[0][2]:
            block[path] = np.stack([frame[2][path] for frame in self._pending])
        with self._guarded(f"writing frames {start}-{end - 1}"):
            for path, values in block.items():
                ds = self._dataset(path)
                ds.resize(end, axis=0)
                ds[start:end] = values
            self.file.flush()  # the frames are on disk before they are counted
            self._pending.clear()
            self.file.attrs["frames"] = end
            self.file.flush()
            self.frames = end

    def _dataset(self, path: str) -> h5py.Dataset:
        if path not in self._datasets:
            self._datasets[path] = self.file[path]
        return self._datasets[path]

    def _write_gzip_frame(self, ds, frame: int, values: np.ndarray) -> None:
        """Compress the chunks of one frame in parallel and store them directly."""
        chunk = ds.chunks[1:]
        checksum = ds.fletcher32  # files of format version 2 have none
        starts = product(*(range(0, n, c) for n, c in zip(values.shape, chunk, strict=True)))
        jobs = []
        for start in starts:
            block = values[tuple(slice(s, s + c) for s, c in zip(start, chunk, strict=True))]
            if block.shape != chunk:  # edge chunks are stored full size, padded
                padded = np.zeros(chunk)
                padded[tuple(slice(0, n) for n in block.shape)] = block
                block = padded
            block = np.ascontiguousarray(block)
            job = self._pool.submit(shuffle_deflate, block, GZIP_LEVEL, checksum)
            jobs.append(((frame, *start), job))
        for offset, job in jobs:
            ds.id.write_direct_chunk(offset, job.result())

    def checkpoint(self, state, solver) -> None:
        """Write the full state and solver memory to the idle slot, then switch to it."""
        self.flush()
        arrays = {"data": state.data, "scalars": state.scalars, **solver.history_arrays()}
        attrs = {
            "t": solver.t,
            "dt": np.nan if solver.dt is None else solver.dt,
            "steps": solver.steps,
            "rejected": solver.rejected,
            "frame": self.frames - 1,
        }
        current = self.file.attrs["checkpoint"]
        slot = CHECKPOINT_SLOTS[1] if current == CHECKPOINT_SLOTS[0] else CHECKPOINT_SLOTS[0]
        with self._guarded(f"writing the checkpoint at t = {solver.t:g} day"):
            for key, array in arrays.items():
                if array.size:
                    self._dataset(f"{slot}/{key}")[...] = array
            group = self.file[slot]
            for key, value in attrs.items():
                group.attrs[key] = value
            self.file.flush()  # the slot is on disk before the file switches to it
            self.file.attrs["checkpoint"] = slot
            self.file.flush()
        self._checkpoint_t = solver.t

    def use_checkpoint(self, slot: str) -> None:
        """Make ``slot`` (a complete checkpoint) the current one, so the next checkpoint
        goes to the other slot and never overwrites the one a resume started from."""
        if self.file.attrs["checkpoint"] == slot:
            return
        with self._guarded("switching the checkpoint"):
            self.file.attrs["checkpoint"] = slot
            self.file.flush()
        self._checkpoint_t = self.file[slot].attrs["t"]

    def truncate(self, frames: int) -> None:
        """Drop frames written after frame ``frames - 1`` (those after a checkpoint)."""
        with self._guarded(f"dropping the frames after frame {frames - 1}"):
            self.file.attrs["frames"] = frames
            self.file.flush()
            growing = []
            self.file.visititems(
                lambda _, obj: (
                    growing.append(obj)
                    if isinstance(obj, h5py.Dataset) and obj.maxshape[:1] == (None,)
                    else None
                )
            )
            for ds in growing:  # time, fields, series, frame arrays (links visited once)
                ds.resize(frames, axis=0)
            self.frames = frames
            self.file.flush()

    def close(self) -> None:
        """Count the pending frames and close the file. After a failed write the file is
        closed without raising again (the first error tells what happened)."""
        try:
            if self.failed is None:
                self.flush()
        finally:
            self._pool.shutdown()
            self._datasets.clear()
            if self.failed is None:
                self.file.close()
            else:
                _close_quietly(self.file)


def _open_file(path, mode: str) -> h5py.File:
    """Open the file the writer writes (tests replace it with a failing file)."""
    return h5py.File(path, mode, **UNCACHED)


def _reason(error: BaseException) -> str:
    """The operating system's reason for a failed HDF5 call (``No space left on device``)
    when it gives one, else the first line of its message."""
    text = str(error)
    marker = "error message = '"
    if marker in text:
        return text.split(marker, 1)[1].split("'", 1)[0]
    return text.splitlines()[0] if text else type(error).__name__


def _write_attributes(handle, model, grid, settings, scenario, interventions) -> None:
    """Root attributes (format, versions, model spec, solver settings, grid, scenario,
    treatments as JSON with their array targets as datasets, units, counters)."""
    from continuum import __version__
    from continuum.interventions import to_json

    attrs = handle.attrs
    attrs["format"] = FORMAT
    attrs["format_version"] = FORMAT_VERSION
    attrs["continuum_version"] = __version__
    attrs["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    attrs["model"] = type(model).__name__
    attrs["spec"] = json.dumps(model.to_spec(grid))
    attrs["solver"] = json.dumps(settings)
    attrs["grid"] = json.dumps(grid.describe())
    attrs["scenario"] = scenario
    attrs["interventions"] = json.dumps([to_json(item) for item in interventions])
    for i, item in enumerate(interventions):
        if isinstance(getattr(item, "target", None), np.ndarray):
            handle.create_dataset(f"interventions/target{i}", data=item.target, **CHECKSUM)
    attrs["seed"] = 0
    attrs["time_units"] = "day"
    attrs["length_units"] = "mm"
    attrs["frames"] = 0
    attrs["checkpoint"] = ""


def _write_coordinates(handle, grid):
    """Cell-centre coordinates [mm] and the (growing) time axis [day] as dimension
    scales, and the tissue mask; returns ``(time, scales)``."""
    scales = []
    for name, coord in zip(grid.axis_names, grid.coords, strict=True):
        ds = handle.create_dataset(name, data=coord, **CHECKSUM)
        ds.attrs["units"] = "mm"
        ds.attrs["long_name"] = f"cell-centre {name} coordinate"
        ds.make_scale(name)
        scales.append(ds)
    time = handle.create_dataset(
        "time", shape=(0,), maxshape=(None,), dtype="f8", chunks=(1024,), **CHECKSUM
    )
    time.attrs["units"] = "day"
    time.attrs["long_name"] = "simulated time"
    time.make_scale("time")
    if grid.mask is not None:
        mask = handle.create_dataset("mask", data=grid.mask.astype(np.uint8), **CHECKSUM)
        mask.attrs["long_name"] = "tissue mask (1 inside)"
        for i, scale in enumerate(scales):
            mask.dims[i].attach_scale(scale)
    return time, scales


def _write_maps(handle, model, grid, scales) -> None:
    """The model's static maps under ``maps/`` (with their coordinates) and its extra
    maps at their own paths."""
    if model.map_names:
        group = handle.create_group("maps")
        for scale in scales:  # coordinates in the group, as for fields/
            group[scale.name.lstrip("/")] = scale
        static = model.static_maps(grid)
        for name, values in zip(model.map_names, static, strict=True):
            ds = group.create_dataset(name, data=values.reshape(grid.shape), **CHECKSUM)
            ds.attrs["units"] = "1"
            ds.attrs["long_name"] = f"{name.replace('_', ' ')} (static map)"
            for i, scale in enumerate(scales):
                ds.dims[i].attach_scale(scale)
    for where, values in model.extra_maps().items():
        ds = handle.create_dataset(where, data=values, **_checksum_for(values.size))
        ds.attrs["units"] = "1"
        ds.attrs["long_name"] = f"{where.rsplit('/', 1)[-1].replace('_', ' ')} (static map)"


def _create_fields(handle, model, state, compression, time, scales) -> None:
    """One growing dataset ``(time, *grid.shape)`` per field under ``fields/``, chunked
    by frame, with its unit and dimension scales."""
    grid = state.grid
    fields = handle.create_group("fields")
    # Hard links to the coordinates, so that each group opens on its own in xarray
    # (netCDF looks for a dimension's coordinate in the variable's own group).
    for scale in (time, *scales):
        fields[scale.name.lstrip("/")] = scale
    options = compression_options(compression)
    for name in state.field_names:
        ds = fields.create_dataset(
            name,
            shape=(0, *grid.shape),
            maxshape=(None, *grid.shape),
            dtype="f8",
            chunks=frame_chunks(grid.shape),
            **options,
        )
        ds.attrs.update(field_unit_attributes(model, name))
        ds.attrs["long_name"] = name
        ds.dims[0].attach_scale(time)
        for i, scale in enumerate(scales):
            ds.dims[i + 1].attach_scale(scale)


def field_unit_attributes(model, name: str) -> dict:
    """What field ``name`` measures, as attributes: ``units`` (machine-readable; ``"1"``
    for a fraction), ``units_description`` (what its value 1 stands for, e.g. ``fraction
    of K_cell = 1e5 cells/mm^3``, when the model says) and, for a cell density,
    ``reference_density`` [cells/mm^3] with ``reference_density_units``: cells = field x
    reference_density x cell volume."""
    attributes = {"units": model.field_unit(name)}
    if model.field_scale(name) != attributes["units"]:
        attributes["units_description"] = model.field_scale(name)
    density = model.reference_density(name)
    if density is not None:
        attributes["reference_density"] = density
        attributes["reference_density_units"] = "cells/mm^3"
    return attributes


def _total_descriptions(model, state) -> dict[str, str]:
    """``units_description`` of the ``total_<field>`` series (integrals of the fields)."""
    descriptions = {}
    for name in state.field_names:
        if model.field_scale(name) == model.field_unit(name):
            continue
        text = f"{name} integrated over the tissue: mm^3 times {model.field_scale(name)}"
        density = model.reference_density(name)
        if density is not None:
            text += f"; times reference_density {density:g} cells/mm^3 gives cells"
        descriptions[f"total_{name}"] = text
    return descriptions


def _create_series(handle, series_names, time, descriptions) -> None:
    """One growing dataset per time series (``series/`` or a site's group), with units
    (and, where given in ``descriptions``, a ``units_description``)."""
    handle.create_group("series")["time"] = time
    for name, unit in series_names.items():
        ds = _group_with_time(handle, series_path(name), time).create_dataset(
            name.rsplit("/", 1)[-1],
            shape=(0,),
            maxshape=(None,),
            dtype="f8",
            chunks=(1024,),
            **CHECKSUM,
        )
        ds.attrs["units"] = unit
        ds.attrs["long_name"] = name
        if name in descriptions:
            ds.attrs["units_description"] = descriptions[name]
        ds.dims[0].attach_scale(time)


def _create_checkpoint_slots(handle, arrays) -> None:
    """The two checkpoint slots, each with a dataset per state and solver array."""
    for slot in CHECKPOINT_SLOTS:
        group = handle.create_group(slot)
        for key, array in arrays.items():
            group.create_dataset(key, shape=array.shape, dtype="f8", **_checksum_for(array.size))


def _close_quietly(handle: h5py.File) -> None:
    """Close a file whose writes failed: HDF5 reports the failed flush again on closing
    (as OSError, or as whatever the Python file object of h5py's fileobj driver raised);
    the failure that matters has been reported already."""
    with suppress(Exception):
        handle.close()


def _refuse_if_open(path: Path) -> None:
    """Refuse to replace a run file another process holds open (HDF5's file lock)."""
    try:
        h5py.File(path, "r+").close()
    except OSError as error:
        if is_lock_error(error):
            raise ValueError(
                f"output: {str(path)!r} is open in another process; close it there, or "
                "choose another path"
            ) from None
        # not an HDF5 file, or unreadable: it is simply replaced


def _checksum_for(size: int) -> dict:
    """The checksum filter for a fixed-size dataset (an empty one cannot be chunked)."""
    return CHECKSUM if size else {}


def _group_with_time(handle, path: str, time) -> h5py.Group:
    """The group that holds ``path``, with a link to ``time`` (netCDF readers look for a
    dimension's coordinate in the variable's own group)."""
    group = handle.require_group(path.rsplit("/", 1)[0])
    if "time" not in group:
        group["time"] = time
    return group


def _create_frame_arrays(handle, info: dict, time) -> None:
    """Datasets ``(time, *axes)`` for a model's frame arrays, with their axes as scales."""
    for path, item in info.items():
        group = _group_with_time(handle, path, time)
        for axis in item.axes:
            if axis.name not in group:
                scale = group.create_dataset(axis.name, data=axis.values, **CHECKSUM)
                scale.attrs["units"] = axis.units
                scale.attrs["long_name"] = axis.long_name
                scale.make_scale(axis.name)
        shape = tuple(len(axis.values) for axis in item.axes)
        ds = group.create_dataset(
            path.rsplit("/", 1)[-1],
            shape=(0, *shape),
            maxshape=(None, *shape),
            dtype="f8",
            chunks=frame_chunks(shape),
            **CHECKSUM,
        )
        ds.attrs["units"] = item.units
        ds.attrs["long_name"] = item.long_name
        ds.dims[0].attach_scale(time)
        for i, axis in enumerate(item.axes):
            ds.dims[i + 1].attach_scale(group[axis.name])
