"""A full disk stops the run with a clear error and loses nothing it counted.

Where the tests run as root, the disk is a real 2 MiB tmpfs, grown afterwards to make
room; elsewhere the writer's file is a Python file object whose writes fail with ENOSPC
past a budget (HDF5's ``fileobj`` driver), and the budget is lifted afterwards. Either way:
the run raises ``RunWriteError`` naming the file and the reason, the file's counted frames
equal the uninterrupted run's, and ``resume`` completes it bit for bit.
"""

from __future__ import annotations

import collections
import errno
import io
import os
import subprocess

import h5py
import numpy as np
import pytest

import continuum as ct
from continuum import simulation
from continuum.io import writer as writer_module
from continuum.io.writer import RunWriteError


class _Budget:
    limit = 2 << 20


class LimitedFile(io.FileIO):
    """A file whose writes past ``_Budget.limit`` bytes fail with ENOSPC."""

    def write(self, data):
        if self.tell() + len(data) > _Budget.limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def _mount_tmpfs(folder, size):
    if os.geteuid() != 0:
        return False
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
    )
    return done.returncode == 0


@pytest.fixture(params=["tmpfs", "failing-file"])
def small_disk(request, tmp_path, monkeypatch):
    """``(folder, make_room, nearly_fill)`` on a 2 MiB disk: a real tmpfs (root only) or
    the writer's file failing past a budget; ``make_room`` enlarges it, ``nearly_fill``
    leaves 8 KiB."""
    folder = tmp_path / "disk"
    if request.param == "tmpfs":
        if not _mount_tmpfs(folder, "2m"):
            pytest.skip("mounting a tmpfs needs root")

        def make_room():
            subprocess.run(["mount", "-o", "remount,size=64m", str(folder)], check=True)

        def nearly_fill():
            stats = os.statvfs(folder)
            (folder / "filler").write_bytes(bytes(stats.f_bavail * stats.f_frsize - (8 << 10)))

        yield folder, make_room, nearly_fill
        subprocess.run(["umount", str(folder)], check=False)
        return
    folder.mkdir()

    def failing(path, mode):
        handle = LimitedFile(path, "w+b" if mode == "w" else "r+b")
        return h5py.File(handle, mode, **writer_module.UNCACHED)

    monkeypatch.setattr(writer_module, "_open_file", failing)
    monkeypatch.setattr(_Budget, "limit", 2 << 20)
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr("shutil.disk_usage", lambda _: usage(_Budget.limit, 0, _Budget.limit))

    def make_room():
        _Budget.limit = 1 << 40

    def nearly_fill():
        _Budget.limit = 8 << 10

    yield folder, make_room, nearly_fill


def heat():
    grid = ct.Grid((48, 48), 0.05)
    model = ct.models.Heat(diffusivity=1e-4)  # random data: incompressible frames
    state = model.initial_state(grid, u=np.random.default_rng(1).random(grid.shape))
    return model, state, 200.0, 1.0


def cascade():
    primary = ct.models.LumpedPrimary(growth={"law": "gompertz", "a": 0.05, "K": 1e11}, mu=1e-3)
    site = ct.SecondarySite("lung", growth={"law": "gompertz", "a": 0.05, "K": 1e9})
    model = ct.Cascade(primary, ct.Circulation(), [site], cohort_days=1.0, horizon=2000.0)
    return model, model.initial_state(tumor_cells=1e9), 2000.0, 20.0


@pytest.mark.parametrize("compression", [None, "lzf", "gzip"])
@pytest.mark.parametrize("build", [heat, cascade])
def test_full_disk_stops_cleanly_and_resumes_bit_for_bit(
    build, compression, small_disk, monkeypatch
):
    folder, make_room, _ = small_disk
    model, state, t_end, save_every = build()
    whole = ct.simulate(model, state, t_end, save_every=save_every)
    path = folder / "run.h5"
    options = {"save_every": save_every, "compression": compression}
    if compression is None:  # the estimate before the run sees that it cannot fit
        with pytest.raises(ValueError, match=r"GiB uncompressed.*GiB free"):
            ct.simulate(model, state, t_end, output=path, **options)
        assert not path.exists()
    # The disk fills while the run is under way (another writer, say): past the estimate.
    monkeypatch.setattr(simulation, "check_disk_space", lambda *args: None)
    with pytest.raises(RunWriteError, match=r"run\.h5.*No space left on device.*intact"):
        ct.simulate(model, state, t_end, output=path, checkpoint_every=10 * save_every, **options)
    assert not [n for n in os.listdir(folder) if n.endswith((".partial", ".xdmf"))]
    with ct.open_run(path) as run:
        kept = run.frames
        assert 0 < kept < len(whole.times)
        np.testing.assert_array_equal(run.times, whole.times[:kept])
        for name in model.field_names:
            np.testing.assert_array_equal(run.field(name), whole.field(name)[:kept])
        for name in whole.series_names:
            np.testing.assert_array_equal(run.series(name), whole.series(name)[:kept])
    make_room()
    with ct.resume(path, t_end) as run:
        np.testing.assert_array_equal(run.times, whole.times)
        for name in model.field_names:
            np.testing.assert_array_equal(run.field(name), whole.field(name))
        for name in whole.series_names:
            np.testing.assert_array_equal(run.series(name), whole.series(name), err_msg=name)


def test_a_file_that_cannot_be_created_leaves_the_old_one(small_disk):
    """Creating the file fails (8 KiB left): the error names the path, no partial file
    stays behind, and the file it was to replace is untouched."""
    folder, _, nearly_fill = small_disk
    old = folder / "run.h5"
    old.write_bytes(b"an older file")
    nearly_fill()
    model, state, _, _ = heat()
    with pytest.raises(RunWriteError, match=r"run\.h5.*No space left on device"):
        ct.simulate(model, state, 1.0, save_every=0.5, output=old, overwrite=True)
    assert not [name for name in os.listdir(folder) if name.endswith(".partial")]
    assert old.read_bytes() == b"an older file"
