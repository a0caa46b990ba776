"""Damaged run files are reported, never read as data.

One flipped bit in the stored bytes of any dataset fails its Fletcher-32 checksum on
read (HDF5's filter; the writer computes it itself for the gzip chunks it compresses), and
the reader turns that into a ``RunFileError`` naming the file and the dataset. Root
attributes carry no checksum, so the reader checks them on open.
"""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

import continuum as ct

# Coordinates, and the binned size distribution kept for xarray users: HDF5 checks them
# (asserted below), continuum's own queries never read them.
NOT_READ_BY_CONTINUUM = {"x", "y", "z", "cohort", "size", "size_distribution"}


def _invasion_run(path):
    grid = ct.Grid((12, 10), 0.05, mask=np.pad(np.ones((10, 8), bool), 1))
    model = ct.models.Invasion(blood_vessels=0.05, lymph_vessels=0.02)
    target = np.zeros(grid.shape, bool)
    target[3:7, 3:7] = True
    plan = [ct.Radiotherapy(dose=2.0, times=[0.1], target=target)]
    ct.simulate(model, model.initial_state(grid), 0.3, 0.1, "imex", output=path, interventions=plan)


def _cascade_run(path):
    model = ct.models.Iwata(horizon=300.0)
    ct.simulate(model, model.initial_state(), 300.0, save_every=100.0, output=path)


def _datasets(path):
    """Every dataset with stored bytes (a checkpoint slot never written has none)."""
    names = []
    with h5py.File(path) as f:
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        return [n for n in names if f[n].size > 0 and f[n].id.get_num_chunks() > 0]


def _flip_a_bit(path, name):
    """Flip one bit in the middle of the first stored chunk of dataset ``name``."""
    with h5py.File(path) as f:
        info = f[name].id.get_chunk_info(0)
        offset = info.byte_offset + info.size // 2
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ 0x10]))


def _read_everything(path):
    with ct.open_run(path) as run:
        read = [run.times, run.grid, run.model, run.interventions]
        for name in run.field_names:
            run.field(name)
        for name in run.series_names:
            run.series(name)
        for name in run.map_names:
            run.static_map(name)
        read.append(run.state())
        if "sites" in run.attrs.get("spec", ""):
            for t in run.times:
                read += [run.size_distribution(t, "metastases"), run.cohorts(t, "metastases")]


@pytest.mark.parametrize("write", [_invasion_run, _cascade_run])
def test_a_flipped_bit_in_any_dataset_is_found_on_read(write, tmp_path):
    original = tmp_path / "run.h5"
    write(original)
    _read_everything(original)  # the intact file reads
    names = _datasets(original)
    assert len(names) > 10
    for name in names:
        damaged = tmp_path / "damaged.h5"
        shutil.copy(original, damaged)
        _flip_a_bit(damaged, name)
        with h5py.File(damaged) as f, pytest.raises(OSError):
            f[name][()]  # every dataset carries a checksum
        if name.rsplit("/", 1)[-1] in NOT_READ_BY_CONTINUUM:
            continue
        with pytest.raises(ct.RunFileError, match=r"damaged\.h5.*(damaged|checksum)"):
            _read_everything(damaged)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("frames", -3, "frames = -3"),
        ("frames", 99, "frames = 99, but it holds 4 times"),
        ("frames", "3", "frames = '3'"),
        ("checkpoint", "checkpoint_z", "names no checkpoint slot"),
        ("spec", "{not json", "'spec' attribute"),
        ("format_version", None, "no format_version"),
        ("format_version", 0, "is not a version number"),
    ],
)
def test_damaged_root_attributes_are_refused_on_open(key, value, message, tmp_path):
    path = tmp_path / "run.h5"
    model = ct.models.Heat()
    grid = ct.Grid((6,), 0.1)
    ct.simulate(model, model.initial_state(grid, u=1.0), 0.3, 0.1, output=path)
    with h5py.File(path, "r+") as f:
        if value is None:
            del f.attrs[key]
        else:
            f.attrs[key] = value
    with pytest.raises(ct.RunFileError, match=message):
        ct.open_run(path)
