"""Lazy reader of run files: the same accessors as the in-memory ``Result``."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import h5py
import numpy as np

from continuum.colony_queries import ColonyQueries
from continuum.frames import frame_index
from continuum.grid import Grid
from continuum.io.layout import (
    CHECKPOINT_SLOTS,
    FORMAT,
    FORMAT_VERSION,
    is_lock_error,
    series_path,
)
from continuum.kernels.colonies import COHORT_ARRAYS
from continuum.models.base import Model
from continuum.state import State


class RunFileError(ValueError):
    """The file is missing, truncated, foreign or of an unknown format version."""


def _open(path, mode="r") -> h5py.File:
    path = Path(path)
    if not path.exists():
        raise RunFileError(f"run file {str(path)!r} does not exist")
    try:
        handle = h5py.File(path, mode)
    except OSError as error:
        if is_lock_error(error):
            raise RunFileError(
                f"{str(path)!r} is open for writing by another process (a running "
                "simulation?); set HDF5_USE_FILE_LOCKING=FALSE to read it while it runs"
            ) from None
        raise RunFileError(
            f"{str(path)!r} is not a readable HDF5 run file (truncated or not HDF5): {error}"
        ) from None
    fmt = handle.attrs.get("format")
    if fmt != FORMAT:
        handle.close()
        raise RunFileError(f"{str(path)!r} is not a continuum run file (format={fmt!r})")
    try:
        _check_attributes(handle, path)
    except BaseException:
        handle.close()
        raise
    return handle


def _check_attributes(handle: h5py.File, path: Path) -> None:
    """The root attributes a reader relies on, present and consistent (attributes carry no
    checksum: a damaged one must not be read as data)."""
    attrs = handle.attrs

    def bad(what):
        return RunFileError(f"{str(path)!r} is damaged: {what}")

    version = _plain(attrs.get("format_version"))
    if version is None:
        raise bad("it has no format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad(f"format_version = {version!r} is not a version number")
    if version > FORMAT_VERSION:
        raise RunFileError(
            f"{str(path)!r} has format_version {version}; this continuum reads up to "
            f"{FORMAT_VERSION}: upgrade continuum"
        )
    for key in ("spec", "solver", "grid"):
        try:
            json.loads(attrs[key])
        except (KeyError, TypeError, ValueError):
            raise bad(f"its {key!r} attribute is missing or not valid JSON") from None
    frames = _plain(attrs.get("frames"))
    stored = handle["time"].shape[0] if "time" in handle else 0
    if not isinstance(frames, int) or isinstance(frames, bool) or not 0 <= frames <= stored:
        raise bad(f"frames = {frames!r}, but it holds {stored} times")
    if attrs.get("checkpoint") not in ("", *CHECKPOINT_SLOTS):
        raise bad(f"checkpoint = {attrs.get('checkpoint')!r} names no checkpoint slot")


def _plain(value):
    """A NumPy scalar attribute as the Python value it holds (for messages and checks)."""
    return value.item() if isinstance(value, np.generic) else value


def _read(path: Path, ds: h5py.Dataset, selection=()):
    """``ds[selection]``, with a damaged chunk (its checksum fails) as a RunFileError."""
    try:
        return ds[selection]
    except OSError as error:
        raise RunFileError(
            f"{str(path)!r} is damaged: {ds.name} cannot be read back ({error}); its "
            "checksum shows the stored bytes changed"
        ) from None


class RunFile(ColonyQueries):
    """A run file opened for reading; reads only what is asked for.

    ``times`` [day], ``field(name, t=None)``, ``series(name)``, ``grid``, ``parameters``,
    ``model``; a cascade run also answers ``colony_count``, ``cohorts`` and
    ``size_distribution`` (see :class:`ColonyQueries`). Use as a context manager or call
    :meth:`close`.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._file = _open(path)
        self._frames = int(self._file.attrs["frames"])

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _repr_html_(self) -> str:
        """A table of what the file holds, its size and format, for Jupyter
        (:mod:`continuum.html`)."""
        from continuum.html import run_file_html

        return run_file_html(self)

    @property
    def attrs(self) -> dict:
        """The file's root attributes (``format_version``, ``frames``, ``spec``, units
        conventions ...) as a dict; see ``docs/run-file-format.md``."""
        return dict(self._file.attrs)

    @property
    def frames(self) -> int:
        """Number of complete frames (written and flushed); later rows are ignored."""
        return self._frames

    @property
    def times(self) -> np.ndarray:
        """``(frames,)`` times of the frames [day]."""
        return _read(self.path, self._file["time"], slice(0, self._frames))

    @property
    def spec(self) -> dict:
        """The model's description (``Model.to_spec``: class, parameters, units,
        boundary conditions, ...), from which :attr:`model` is rebuilt."""
        return json.loads(self._file.attrs["spec"])

    @property
    def solver_settings(self) -> dict:
        """Method, tolerances [rtol 1, atol field units], fixed step [day] and the other
        settings the run was started with (what :func:`continuum.resume` reuses)."""
        return json.loads(self._file.attrs["solver"])

    @property
    def parameters(self) -> dict:
        """The model's parameters by name (units in ``spec["units"]``)."""
        return dict(self.spec["parameters"])

    @property
    def interventions(self) -> list:
        """The run's treatments (``continuum.interventions`` objects)."""
        from continuum.interventions import from_json

        stored = json.loads(self._file.attrs.get("interventions", "[]"))
        targets = self._file.get("interventions", {})
        return [
            from_json(
                item,
                _read(self.path, targets[f"target{i}"]) if f"target{i}" in targets else None,
            )
            for i, item in enumerate(stored)
        ]

    @cached_property
    def model(self) -> Model:
        """The model rebuilt from :attr:`spec` and the stored static maps (a user's class
        is imported again from the place ``spec["class"]`` names)."""
        maps = {name: self.static_map(name) for name in self.map_names}
        for site, group in self._file.get("sites", {}).items():
            for name, ds in group.get("maps", {}).items():
                maps[f"sites/{site}/maps/{name}"] = _read(self.path, ds)
        return Model.from_spec(self.spec, maps)

    def static_map(self, name: str) -> np.ndarray:
        """A static map of the run (e.g. ``"blood_vessels"``), on the grid."""
        if name not in self.map_names:
            raise KeyError(f"unknown map {name!r}; this run stores {self.map_names}")
        return _read(self.path, self._file["maps"][name])

    @property
    def map_names(self) -> list[str]:
        """Names of the static maps stored under ``maps/`` (vessel densities ...)."""
        if "maps" not in self._file:
            return []
        return [name for name, ds in self._file["maps"].items() if not ds.is_scale]

    @property
    def grid(self) -> Grid:
        """The tissue grid (shape, spacing [mm], origin [mm], mask)."""
        info = json.loads(self._file.attrs["grid"])
        mask = _read(self.path, self._file["mask"]).astype(bool) if "mask" in self._file else None
        return Grid.from_description(info, mask)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The model's fields, in the order of the state."""
        return tuple(self.model.field_names)

    @cached_property
    def series_names(self) -> tuple[str, ...]:
        """Every time series of the run (``series/`` and each site's), by path; listed
        once per opening (a lumped cascade's file holds about 200 datasets, and
        :meth:`series` checks every name against this list)."""
        names = [n for n, ds in self._file["series"].items() if not ds.is_scale]
        for site, group in self._file.get("sites", {}).items():
            names += [
                f"sites/{site}/{n}"
                for n, ds in group.items()
                if isinstance(ds, h5py.Dataset) and ds.ndim == 1 and not ds.is_scale
            ]
        return tuple(names)

    def field(self, name: str, t: float | None = None) -> np.ndarray:
        """All frames of a field ``(frames, *grid)``, or the frame nearest ``t`` [day]
        (:func:`continuum.frames.frame_index`)."""
        names = self.field_names
        if name not in names:
            raise KeyError(f"unknown field {name!r}; fields are {list(names)}")
        ds = self._file["fields"][name]
        if t is None:
            return _read(self.path, ds, slice(0, self._frames))
        return _read(self.path, ds, frame_index(self.times, t))  # outside the run: ValueError

    def series(self, name: str) -> np.ndarray:
        if name not in self.series_names:
            raise KeyError(f"unknown series {name!r}; series are {list(self.series_names)}")
        return _read(self.path, self._file[series_path(name)], slice(0, self._frames))

    def to_xarray(self):
        """Fields and series as an ``xarray.Dataset`` (:func:`continuum.analysis.to_xarray`)."""
        from continuum.analysis import to_xarray

        return to_xarray(self)

    def series_unit(self, name: str) -> str:
        """The unit of series ``name`` (``cells``, ``day``, ...)."""
        self.series(name)  # a clear error for an unknown name
        return str(self._file[series_path(name)].attrs.get("units", ""))

    def _tissue_field(self, site, name, frame):
        return _read(self.path, self._file["sites"][site][name], frame)

    def _cohort_arrays(self, site, frame):
        self._cascade().site_index(site)  # a clear error for an unknown site
        group = self._file["sites"][site]
        if COHORT_ARRAYS[1] not in group:
            raise RunFileError(
                f"{str(self.path)!r}: its colonies are stored by birth time (format version "
                f"{self._file.attrs.get('format_version')}); colony queries need format "
                f"{FORMAT_VERSION}, which stores their sizes: rerun it"
            )
        return tuple(_read(self.path, group[name], frame) for name in COHORT_ARRAYS[:3])

    def checkpoint(self, slot: str | None = None) -> dict:
        """The last complete checkpoint (or the one in ``slot``): state arrays, solver
        memory, attributes (``t``, ``dt``, ``steps``, ``rejected``, ``frame``) and its
        ``slot``."""
        slot = self._file.attrs["checkpoint"] if slot is None else slot
        if slot not in CHECKPOINT_SLOTS:
            raise RunFileError(f"{str(self.path)!r} holds no checkpoint to resume from")
        group = self._file[slot]
        arrays = {key: _read(self.path, group[key]) for key in group}
        return {"arrays": arrays, "slot": slot, **{k: v.item() for k, v in group.attrs.items()}}

    def other_checkpoint(self) -> dict | None:
        """The checkpoint of the frame just before the last one, when the other slot holds
        it complete (the writer's last-but-one checkpoint); else ``None``."""
        current = self._file.attrs["checkpoint"]
        if current not in CHECKPOINT_SLOTS:
            return None
        other = CHECKPOINT_SLOTS[1 - CHECKPOINT_SLOTS.index(current)]
        attrs = self._file[other].attrs
        if "frame" not in attrs or attrs["frame"] != self._file[current].attrs["frame"] - 1:
            return None
        return self.checkpoint(other)

    def state(self, model=None, point: dict | None = None) -> State:
        """The state stored in the last checkpoint (or in ``point``, a :meth:`checkpoint`)."""
        model = model or self.model
        point = self.checkpoint() if point is None else point
        stored = point["arrays"]["scalars"].size
        expected = sum(int(np.prod(shape)) for _, shape in model.scalar_layout().values())
        if stored != expected:
            raise RunFileError(
                f"{str(self.path)!r} was written by continuum "
                f"{self.attrs.get('continuum_version')} whose {type(model).__name__} kept "
                f"{stored} scalars; this version keeps {expected}, so the run cannot be "
                "resumed (its frames and series still read)"
            )
        return State(
            self.grid,
            model.field_names,
            point["arrays"]["data"],
            model.scalar_layout(),
            point["arrays"]["scalars"],
        )

    def __repr__(self):
        from continuum.readable import run_contents

        if not self._file.id.valid:
            return f"RunFile({str(self.path)!r}, closed)"
        spec = self.spec
        contents = run_contents(
            str(self._file.attrs.get("model", spec.get("model", "?"))),
            self.grid,
            self.times,
            self.field_names,
            self.series_names,
            [site["name"] for site in spec.get("sites", [])],
        )
        return f"RunFile({str(self.path)!r}: {contents})"


def open_run(path) -> RunFile:
    """Open a run file for reading (lazy); raises :class:`RunFileError` on a bad file."""
    return RunFile(path)
