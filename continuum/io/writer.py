"""Streaming run-file writer: every dataset is created up front, frames are appended.

A frame is written, the file flushed, and only then the root attribute ``frames`` counts
it, so a run that is killed leaves a file whose ``frames`` first frames are complete.
Checkpoints alternate between two slots; the root attribute ``checkpoint`` names the slot
written last, and is switched only after that slot is flushed, so a valid checkpoint
always survives a kill.

Writing (and compressing) happens on a background thread, in order, while the compiled
time loop (which releases the GIL) computes the next frames; at most ``QUEUE_DEPTH``
frames wait in memory. An error on the writer thread is raised in the caller at the next
call, and :meth:`RunWriter.close` waits until everything is on disk.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from datetime import UTC, datetime
from pathlib import Path

import h5py
import numpy as np

from continuum.io.layout import (
    CHECKPOINT_SLOTS,
    FORMAT,
    FORMAT_VERSION,
    compression_options,
    frame_chunks,
)


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
    if not folder.is_dir():
        raise ValueError(f"output: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"output: folder {str(folder)!r} is not writable")
    return path


def grid_description(grid) -> dict:
    return {
        "shape": list(grid.shape),
        "spacing": list(grid.spacing),
        "origin": list(grid.origin),
        "cross_section": grid.cross_section,
        "thickness": grid.thickness,
        "cell_volume": grid.cell_volume,
    }


QUEUE_DEPTH = 2


class RunWriter:
    """Writes one run file; use :meth:`create` for a new run, :meth:`reopen` to resume."""

    def __init__(self, handle: h5py.File):
        self.file = handle
        self.frames = int(handle.attrs["frames"])
        self.queued = self.frames
        self._jobs: queue.Queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="continuum-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    job[0](*job[1:])
            except BaseException as error:  # handed to the caller at its next call
                self._error = error
            finally:
                self._jobs.task_done()

    def _submit(self, *job) -> None:
        self._raise_pending()
        self._jobs.put(job)

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"writing {self.file.filename!r} failed: {error}") from error

    def wait(self) -> None:
        """Block until every queued frame and checkpoint is on disk."""
        self._jobs.join()
        self._raise_pending()

    @classmethod
    def create(cls, path, model, state, solver, settings: dict, series_names, compression):
        """Create the file with all datasets, attributes and dimension scales."""
        from continuum import __version__

        grid = state.grid
        handle = h5py.File(path, "w")
        try:
            attrs = handle.attrs
            attrs["format"] = FORMAT
            attrs["format_version"] = FORMAT_VERSION
            attrs["continuum_version"] = __version__
            attrs["created"] = datetime.now(UTC).isoformat(timespec="seconds")
            attrs["model"] = type(model).__name__
            attrs["spec"] = json.dumps(model.to_spec(grid))
            attrs["solver"] = json.dumps(settings)
            attrs["grid"] = json.dumps(grid_description(grid))
            attrs["seed"] = 0
            attrs["time_units"] = "day"
            attrs["length_units"] = "mm"
            attrs["frames"] = 0
            attrs["checkpoint"] = ""
            scales = []
            for name, coord in zip(grid.axis_names, grid.coords, strict=True):
                ds = handle.create_dataset(name, data=coord)
                ds.attrs["units"] = "mm"
                ds.attrs["long_name"] = f"cell-centre {name} coordinate"
                ds.make_scale(name)
                scales.append(ds)
            time = handle.create_dataset(
                "time", shape=(0,), maxshape=(None,), dtype="f8", chunks=(1024,)
            )
            time.attrs["units"] = "day"
            time.attrs["long_name"] = "simulated time"
            time.make_scale("time")
            if grid.mask is not None:
                mask = handle.create_dataset("mask", data=grid.mask.astype(np.uint8))
                mask.attrs["long_name"] = "tissue mask (1 inside)"
                for i, scale in enumerate(scales):
                    mask.dims[i].attach_scale(scale)
            fields = handle.create_group("fields")
            series = handle.create_group("series")
            # Hard links to the coordinates, so that each group opens on its own in xarray
            # (netCDF looks for a dimension's coordinate in the variable's own group).
            for scale in (time, *scales):
                fields[scale.name.lstrip("/")] = scale
            series["time"] = time
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
                ds.attrs["units"] = model.field_unit(name)
                ds.attrs["long_name"] = name
                ds.dims[0].attach_scale(time)
                for i, scale in enumerate(scales):
                    ds.dims[i + 1].attach_scale(scale)
            for name, unit in series_names.items():
                ds = series.create_dataset(
                    name, shape=(0,), maxshape=(None,), dtype="f8", chunks=(1024,)
                )
                ds.attrs["units"] = unit
                ds.attrs["long_name"] = name
                ds.dims[0].attach_scale(time)
            for slot in CHECKPOINT_SLOTS:
                group = handle.create_group(slot)
                group.create_dataset("data", shape=state.data.shape, dtype="f8")
                group.create_dataset("scalars", shape=state.scalars.shape, dtype="f8")
                for key, array in solver.history_arrays().items():
                    group.create_dataset(key, shape=array.shape, dtype="f8")
            handle.flush()
        except BaseException:
            handle.close()
            raise
        return cls(handle)

    @classmethod
    def reopen(cls, path) -> RunWriter:
        return cls(h5py.File(path, "r+"))

    def append(self, t: float, state, series_values: dict) -> None:
        """Queue one frame (a copy of the state): written, flushed, then counted."""
        self.queued += 1
        self._submit(
            self._append, self.queued, t, state.data.copy(), state.field_names, dict(series_values)
        )

    def _append(self, n, t, data, field_names, series_values) -> None:
        time = self.file["time"]
        time.resize((n,))
        time[n - 1] = t
        for name, values in zip(field_names, data, strict=True):
            ds = self.file["fields"][name]
            ds.resize(n, axis=0)
            ds[n - 1] = values
        for name, value in series_values.items():
            ds = self.file["series"][name]
            ds.resize((n,))
            ds[n - 1] = value
        self.file.flush()
        self.frames = n
        self.file.attrs["frames"] = n
        self.file.flush()

    def checkpoint(self, state, solver) -> None:
        """Queue a checkpoint: full state and solver memory go to the idle slot, then the
        file switches to it."""
        arrays = {"data": state.data.copy(), "scalars": state.scalars.copy()}
        arrays.update({k: a.copy() for k, a in solver.history_arrays().items()})
        dt = np.nan if solver.dt is None else solver.dt
        attrs = {
            "t": solver.t,
            "dt": dt,
            "steps": solver.steps,
            "rejected": solver.rejected,
            "frame": self.queued - 1,
        }
        self._submit(self._checkpoint, arrays, attrs)

    def _checkpoint(self, arrays, attrs) -> None:
        current = self.file.attrs["checkpoint"]
        slot = CHECKPOINT_SLOTS[1] if current == CHECKPOINT_SLOTS[0] else CHECKPOINT_SLOTS[0]
        group = self.file[slot]
        for key, array in arrays.items():
            group[key][...] = array
        for key, value in attrs.items():
            group.attrs[key] = value
        self.file.flush()
        self.file.attrs["checkpoint"] = slot
        self.file.flush()

    def truncate(self, frames: int) -> None:
        """Drop frames written after frame ``frames - 1`` (those after a checkpoint)."""
        self.wait()
        self.queued = frames
        self.file.attrs["frames"] = frames
        self.file.flush()
        self.file["time"].resize((frames,))
        for group in ("fields", "series"):
            for ds in self.file[group].values():
                if not ds.is_scale:
                    ds.resize(frames, axis=0)
        self.frames = frames
        self.file.flush()

    def close(self) -> None:
        """Finish every queued write, stop the thread and close the file."""
        try:
            self.wait()
        finally:
            self._jobs.put(None)
            self._thread.join()
            self.file.close()
