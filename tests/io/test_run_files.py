"""Run files: round trip, bit-exact resume, kill safety, xarray, golden file, bad input."""

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

import continuum as ct

SHAPES = {1: (40,), 2: (24, 20), 3: (10, 12, 8)}


def problem(ndim, rng):
    shape = SHAPES[ndim]
    grid = ct.Grid(shape, 0.1)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.8)
    return model, model.initial_state(grid, u=rng.random(shape))


def same_series(run, res):
    return all(
        np.array_equal(run.series(n), res.series(n), equal_nan=True) for n in res.series_names
    )


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("compression", ["gzip", "lzf", None])
def test_round_trip_bit_for_bit(ndim, compression, tmp_path, rng):
    model, state = problem(ndim, rng)
    path = tmp_path / "run.h5"
    res = ct.simulate(model, state, 1.0, save_every=0.1, output=path, compression=compression)
    with ct.open_run(path) as run:
        assert np.array_equal(run.times, res.times)
        assert np.array_equal(run.field("u"), res.field("u"))
        assert np.array_equal(run.field("u", t=0.52), res.field("u", t=0.52))
        assert same_series(run, res)
        assert run.grid == res.grid
        assert run.parameters == res.parameters
        assert run.attrs["time_units"] == "day"
        assert run.attrs["length_units"] == "mm"


@pytest.mark.parametrize("method", ["explicit", "imex"])
def test_resume_is_bit_exact(method, tmp_path, rng):
    model, state = problem(2, rng)
    whole = ct.simulate(model, state, 2.0, save_every=0.1, method=method)
    path = tmp_path / "half.h5"
    ct.simulate(model, state, 1.0, save_every=0.1, method=method, output=path, checkpoint_every=0.3)
    with ct.resume(path, 2.0) as run:
        assert np.array_equal(run.times, whole.times)
        assert np.array_equal(run.field("u"), whole.field("u"))
        assert same_series(run, whole)


CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import continuum as ct
    grid = ct.Grid((64, 64), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.8)
    state = model.initial_state(grid, u=np.random.default_rng(1).random((64, 64)))

    def report(t, state):
        print(f"frame {t:.3f}", flush=True)
        time.sleep(0.05)

    ct.simulate(model, state, 5.0, save_every=0.05, method="explicit", output=sys.argv[1],
                checkpoint_every=0.25, callback=report)
    """
)


def test_killed_run_keeps_its_frames_and_resumes(tmp_path):
    path = tmp_path / "killed.h5"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    seen = 0
    for line in child.stdout:
        seen += line.startswith("frame")
        if seen == 23:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait()
    assert child.returncode == -signal.SIGKILL
    with ct.open_run(path) as run:
        assert run.frames >= 23  # every frame reported by the callback was on disk
        # round-off of the frame times (measured: equal)
        np.testing.assert_allclose(run.times, 0.05 * np.arange(run.frames), rtol=1e-12)
        model, grid = run.model, run.grid
    state = model.initial_state(grid, u=np.random.default_rng(1).random((64, 64)))
    whole = ct.simulate(model, state, 5.0, save_every=0.05, method="explicit")
    with ct.resume(path, 5.0) as run:
        assert np.array_equal(run.times, whole.times)
        assert np.array_equal(run.field("u"), whole.field("u"))
        assert same_series(run, whole)


def test_xarray_reads_named_dimensions_with_coordinates(tmp_path, rng):
    import xarray as xr

    model, state = problem(2, rng)
    path = tmp_path / "run.h5"
    res = ct.simulate(model, state, 1.0, save_every=0.25, output=path)
    with xr.open_dataset(path, group="fields", engine="h5netcdf") as ds:
        assert ds["u"].dims == ("time", "x", "y")
        np.testing.assert_array_equal(ds["x"].values, state.grid.coords[0])
        np.testing.assert_array_equal(ds["time"].values, res.times)
        assert ds["x"].attrs["units"] == "mm"
        assert ds["time"].attrs["units"] == "day"
        np.testing.assert_array_equal(ds["u"].values, res.field("u"))
    with xr.open_dataset(path, group="series", engine="h5netcdf") as ds:
        assert ds["total_u"].dims == ("time",)


GOLDEN = os.path.join(os.path.dirname(__file__), "..", "data", "golden_v1.h5")


def test_golden_file_of_format_version_1_reads_back():
    """tests/data/golden_v1.h5: 1D Fisher-KPP, 16 cells, frames every 0.5 day to 2 days."""
    with ct.open_run(GOLDEN) as run:
        assert run.attrs["format_version"] == 1
        np.testing.assert_array_equal(run.times, [0.0, 0.5, 1.0, 1.5, 2.0])
        assert run.grid == ct.Grid(16, 0.25)
        assert run.parameters == {"diffusivity": 0.1, "growth_rate": 1.0}
        stored = run.field("u")
        model, grid = run.model, run.grid
    x = grid.coords[0]
    state = model.initial_state(grid, u=np.exp(-(x**2)))
    res = ct.simulate(model, state, 2.0, save_every=0.5, method="explicit", rtol=1e-8)
    # the same steps give the same frames to round-off (measured 1.2e-14); a kernel change
    # that moves one step-size decision moves them by up to the global error at rtol 1e-8
    # (measured 3.0e-9 against rtol 1e-12): the solver's tolerance bounds both (u <= 1)
    np.testing.assert_allclose(stored, res.field("u"), rtol=0, atol=1e-8)


def test_existing_file_is_not_overwritten(tmp_path, rng):
    model, state = problem(1, rng)
    path = tmp_path / "run.h5"
    path.write_bytes(b"precious")
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        ct.simulate(model, state, 1.0, output=path)
    assert path.read_bytes() == b"precious"
    ct.simulate(model, state, 1.0, output=path, overwrite=True)
    assert ct.open_run(path).frames == 101


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"save_every": 0.0}, "save_every"),
        ({"save_every": -1.0}, "save_every"),
        ({"output": "/nonexistent-folder/run.h5"}, "does not exist"),
        ({"compression": "zstd"}, "compression"),
    ],
)
def test_bad_output_options(kwargs, match, tmp_path, rng):
    model, state = problem(1, rng)
    with pytest.raises(ValueError, match=match):
        ct.simulate(model, state, 1.0, **kwargs)


def test_unwritable_folder(rng):
    """A folder no user can create a file in, root included: /proc/sys, whose directory the
    kernel opens for reading only whatever the caller's privileges (and which containers
    mount read-only besides). Refused before any work, naming the folder."""
    folder = Path("/proc/sys")
    if not folder.is_dir():
        pytest.skip("no procfs here (not Linux)")
    model, state = problem(1, rng)
    with pytest.raises(ValueError, match=r"output: folder '/proc/sys' is not writable"):
        ct.simulate(model, state, 1.0, output=folder / "run.h5")
    assert not (folder / "run.h5").exists()


def test_read_only_folder_is_refused_exactly_when_the_user_cannot_write_it(tmp_path, rng):
    """A folder of mode 0o500: refused for a user the mode binds (with the message above),
    accepted for root, whom it does not bind; decided by a real write attempt, so the test
    runs for every user."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        (folder / "probe").touch()
    except PermissionError:
        writable = False
    else:
        (folder / "probe").unlink()
        writable = True
    model, state = problem(1, rng)
    path = folder / "run.h5"
    try:
        if writable:
            ct.simulate(model, state, 0.1, output=path)
            assert path.exists()
        else:
            message = f"output: folder {str(folder)!r} is not writable"
            with pytest.raises(ValueError, match=re.escape(message)):
                ct.simulate(model, state, 0.1, output=path)
    finally:
        folder.chmod(0o700)


def test_a_file_where_the_output_folder_should_be(tmp_path, rng):
    """A place no user can write a run file into: a path below an existing file. Refused
    before any work with a message that says so, and the file is untouched."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("keep me")
    model, state = problem(1, rng)
    with pytest.raises(ValueError, match="is a file, not a folder"):
        ct.simulate(model, state, 1.0, output=blocker / "run.h5")
    assert blocker.read_text() == "keep me"


def test_resume_past_nothing(tmp_path, rng):
    model, state = problem(1, rng)
    path = tmp_path / "run.h5"
    ct.simulate(model, state, 1.0, output=path)
    with pytest.raises(ValueError, match="nothing to resume"):
        ct.resume(path, 1.0)


def test_missing_truncated_and_foreign_files(tmp_path, rng):
    with pytest.raises(ct.RunFileError, match="does not exist"):
        ct.open_run(tmp_path / "nope.h5")
    model, state = problem(1, rng)
    path = tmp_path / "run.h5"
    ct.simulate(model, state, 1.0, output=path)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ct.RunFileError, match="not a readable HDF5 run file"):
        ct.open_run(truncated)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["data"] = np.arange(3)
    with pytest.raises(ct.RunFileError, match="not a continuum run file"):
        ct.open_run(foreign)


def test_direct_gzip_chunks_read_back_with_plain_h5py(tmp_path, rng):
    """Frames compressed by the writer itself (odd sizes: padded edge chunks) decode."""
    grid = ct.Grid((301, 517), 0.1)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.8)
    state = model.initial_state(grid, u=rng.random(grid.shape))
    path = tmp_path / "run.h5"
    res = ct.simulate(model, state, 0.02, save_every=0.01, output=path)
    with h5py.File(path) as f:
        ds = f["fields/u"]
        assert ds.compression == "gzip" and ds.shuffle
        assert ds.chunks[1:] != grid.shape  # several chunks per frame
        np.testing.assert_array_equal(ds[...], res.field("u"))


@pytest.mark.parametrize("shape", [(1,), (3, 5), (64, 300), (256, 512)])
def test_plane_coder_writes_an_ordinary_zlib_stream(shape, rng):
    """Stored (noise) and deflated byte planes join into one stream zlib decodes to the
    shuffled bytes; noise planes cost no more than their size, constant ones almost
    nothing."""
    import zlib

    from continuum.io.writer import shuffle_deflate

    noise = rng.random(shape)
    tumour = np.where(rng.random(shape) < 0.3, noise, 0.0)  # zeros outside
    for values in (noise, tumour, np.zeros(shape), np.full(shape, 0.5)):
        coded = shuffle_deflate(values, 1, checksum=False)
        planes = values.reshape(-1).view(np.uint8).reshape(-1, 8).T
        assert zlib.decompress(coded) == planes.tobytes()
    if noise.size >= 64 * 300:
        assert len(shuffle_deflate(noise, 1, False)) < 0.9 * noise.nbytes
        assert len(shuffle_deflate(np.zeros(shape), 1, False)) < 0.01 * noise.nbytes


def test_default_frames_read_back_exactly_with_plain_h5py(tmp_path, rng):
    """A field with noise and an empty region (stored and deflated planes in one chunk):
    plain h5py decodes every frame bit for bit, and the dataset uses only the filters of
    every HDF5 build."""
    grid = ct.Grid((200, 300), 0.1)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.8)
    u0 = np.where(rng.random(grid.shape) < 0.5, rng.random(grid.shape), 0.0)
    path = tmp_path / "run.h5"
    res = ct.simulate(model, model.initial_state(grid, u=u0), 0.03, save_every=0.01)
    ct.simulate(model, model.initial_state(grid, u=u0), 0.03, save_every=0.01, output=path)
    with h5py.File(path) as f:
        ds = f["fields/u"]
        assert (ds.compression, ds.shuffle, ds.fletcher32) == ("gzip", True, True)
        np.testing.assert_array_equal(ds[...], res.field("u"))


@pytest.mark.parametrize("shape", [(100,), (512, 512), (2048, 2048), (128, 128, 128), (7, 9, 5)])
def test_frame_chunks_stay_below_one_mebibyte(shape):
    from continuum.io.layout import MAX_CHUNK_BYTES, frame_chunks

    chunk = frame_chunks(shape)
    assert chunk[0] == 1
    assert np.prod(chunk) * 8 <= MAX_CHUNK_BYTES
    assert all(1 <= c <= n for c, n in zip(chunk[1:], shape, strict=True))
    assert chunk[-1] == shape[-1] or np.prod(shape[-1:]) * 8 > MAX_CHUNK_BYTES


def test_file_held_open_for_writing_gives_a_clear_error(tmp_path, rng):
    model, state = problem(1, rng)
    path = tmp_path / "run.h5"
    ct.simulate(model, state, 1.0, output=path)
    code = f"import continuum as ct; ct.open_run({str(path)!r})"
    with h5py.File(path, "r+"):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode != 0
    assert "open for writing by another process" in result.stderr


def test_resume_refuses_a_state_of_another_layout(tmp_path):
    """A file whose model kept fewer scalars (an older circulation block) still reads, but
    resuming it is refused with a clear error."""
    import h5py

    model = ct.models.LumpedPrimary("gompertz", a=0.05, K=1e9, mu=1e-3)
    path = tmp_path / "old.h5"
    ct.simulate(model, model.initial_state(ct.Grid(1, 1.0), tumor_cells=1e6), 5.0, output=path)
    with h5py.File(path, "r+") as handle:
        slot = handle[handle.attrs["checkpoint"]]
        old = slot["scalars"][:7]
        del slot["scalars"]
        slot["scalars"] = old
    with ct.open_run(path) as run:
        assert run.series("tumor_cells")[-1] > 1e6
    expected = f"kept 7 scalars; this version keeps {len(model.scalar_names)}"
    with pytest.raises(ct.RunFileError, match=expected):
        ct.resume(path, 10.0)


KILL_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import continuum as ct
    # SIGKILL just before the n-th write of the root attribute sys.argv[2]: "frames" (the
    # moment a block of frames would be counted) or "checkpoint" (after a checkpoint slot
    # was written, before the file switches to it)
    import h5py._hl.attrs as attrs
    setitem = attrs.AttributeManager.__setitem__
    name, count, seen = sys.argv[2], int(sys.argv[3]), []

    def dying(self, key, value):
        if key == name and (key != "checkpoint" or value):
            seen.append(value)
            if len(seen) == count:
                os.kill(os.getpid(), signal.SIGKILL)
        setitem(self, key, value)

    attrs.AttributeManager.__setitem__ = dying
    grid = ct.Grid((64, 64), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.8)
    state = model.initial_state(grid, u=np.random.default_rng(1).random((64, 64)))
    ct.simulate(model, state, 5.0, save_every=0.05, method="explicit", output=sys.argv[1],
                checkpoint_every=0.25)
    """
)


def test_sigkill_at_random_moments_and_between_a_checkpoint_and_its_switch(tmp_path):
    """No callback, no warning: SIGKILL just before the frame counter moves, at five seeded
    random moments of the run, and twice between writing a checkpoint slot and switching
    to it. Every killed file reopens with whole frames on the save grid, equal to the
    uninterrupted run's, and resumes from its checkpoint bit for bit."""
    grid = ct.Grid((64, 64), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.8)
    state = model.initial_state(grid, u=np.random.default_rng(1).random((64, 64)))
    whole = ct.simulate(model, state, 5.0, save_every=0.05, method="explicit")
    moments = np.random.default_rng(7).integers(2, 12, size=5)
    trials = [("frames", int(n)) for n in moments] + [("checkpoint", 2), ("checkpoint", 9)]
    for i, (name, count) in enumerate(trials):
        path = tmp_path / f"killed{i}.h5"
        child = subprocess.run([sys.executable, "-c", KILL_CHILD, str(path), name, str(count)])
        assert child.returncode == -signal.SIGKILL, (name, count)
        with ct.open_run(path) as run:
            # round-off of the frame times (measured: equal)
            np.testing.assert_allclose(run.times, 0.05 * np.arange(run.frames), rtol=1e-12)
            if run.frames:
                np.testing.assert_array_equal(run.field("u"), whole.field("u")[: run.frames])
            resumable = run.attrs["checkpoint"] != ""
        if not resumable:  # killed before its first checkpoint: nothing to resume from
            assert (name, count) == ("checkpoint", 1)
            continue
        with ct.resume(path, 5.0) as run:
            assert np.array_equal(run.times, whole.times), (name, count)
            assert np.array_equal(run.field("u"), whole.field("u")), (name, count)
            assert same_series(run, whole)
