"""Stopping a run loses nothing, and resuming says what it does.

Ctrl-C (SIGINT) or SIGTERM stops a run writing a file at its next frame, after a
checkpoint there: the file holds every frame to the stop, and resumes bit for bit without
dropping any. A run that ended off the save grid resumes from the grid, so the
continuation is the uninterrupted run (no extra frame). A resume that drops frames says so.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

import continuum as ct

ROOT = Path(__file__).resolve().parents[2]


def fisher():
    grid = ct.Grid((32, 32), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.8)
    return model, model.initial_state(grid, u=np.random.default_rng(1).random(grid.shape))


CHILD = textwrap.dedent(
    """
    import sys, time
    import continuum as ct
    from tests.io.test_stopping import fisher
    model, state = fisher()

    def slow(t, state):
        print(f"frame {t:.2f}", flush=True)
        time.sleep(0.02)

    try:
        ct.simulate(model, state, 50.0, save_every=0.05, output=sys.argv[1],
                    checkpoint_every=5.0, callback=slow)
    except ct.RunInterrupted as stopped:
        print(f"stopped {stopped.t!r} {stopped}", flush=True)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_at_a_checkpointed_frame(signum, tmp_path):
    path = tmp_path / "stopped.h5"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    lines = []
    for line in child.stdout:
        lines.append(line)
        if len(lines) == 30:
            child.send_signal(signum)
        if line.startswith("stopped"):
            break
    child.wait(timeout=120)
    assert child.returncode == 0, lines[-3:]
    _, t_text, message = lines[-1].split(" ", 2)
    stopped_at = float(t_text)
    assert f"stopped by {signal.Signals(signum).name}" in message
    assert "continuum resume" in message
    with ct.open_run(path) as run:
        assert run.times[-1] == stopped_at  # every frame to the stop is kept ...
        assert run.checkpoint()["t"] == stopped_at  # ... and checkpointed there
        frames = run.frames
    model, state = fisher()
    whole = ct.simulate(model, state, stopped_at + 1.0, save_every=0.05)
    with ct.resume(path, stopped_at + 1.0) as run:  # drops nothing: no warning
        assert run.frames == len(whole.times) > frames
        np.testing.assert_array_equal(run.field("u"), whole.field("u"))


def test_a_run_ended_off_the_save_grid_resumes_as_the_uninterrupted_run(tmp_path):
    model, state = fisher()
    whole = ct.simulate(model, state, 3.0, save_every=0.1)
    path = tmp_path / "off.h5"
    ct.simulate(model, state, 2.05, save_every=0.1, output=path)
    with pytest.warns(RuntimeWarning, match=r"after it \(to t = 2.05 day\) are dropped"):
        run = ct.resume(path, 3.0)
    with run:
        np.testing.assert_array_equal(run.times, whole.times)  # no frame at 2.05
        np.testing.assert_array_equal(run.field("u"), whole.field("u"))
        np.testing.assert_array_equal(run.series("steps"), whole.series("steps"))


def test_resume_says_which_frames_it_drops(tmp_path):
    """Frames written after the last checkpoint (a kill between writing a checkpoint slot
    and switching to it leaves the file so) are dropped with a warning naming them."""
    model, state = fisher()
    path = tmp_path / "run.h5"
    ct.simulate(model, state, 2.0, save_every=0.1, output=path, checkpoint_every=1.0)
    with h5py.File(path, "r+") as f:  # back to the checkpoint at t = 1 day
        current = f.attrs["checkpoint"]
        f.attrs["checkpoint"] = "checkpoint_a" if current == "checkpoint_b" else "checkpoint_b"
        assert f[f.attrs["checkpoint"]].attrs["t"] == 1.0
    whole = ct.simulate(model, state, 3.0, save_every=0.1)
    match = r"checkpoint at t = 1 day: the 10 frame\(s\) after it \(to t = 2 day\) are dropped"
    with pytest.warns(RuntimeWarning, match=match):
        run = ct.resume(path, 3.0)
    with run:
        np.testing.assert_array_equal(run.field("u"), whole.field("u"))


def test_a_run_writing_a_file_streams_its_fields_there(tmp_path, monkeypatch):
    """Fields go to the file, not to memory: the result reads them back from it; a run
    whose frames would not fit in memory is refused only when it keeps them there, and a
    file is checked against the free disk space instead."""
    from collections import namedtuple

    from continuum.validation import physical_memory

    model, state = fisher()
    path = tmp_path / "streamed.h5"
    res = ct.simulate(model, state, 1.0, save_every=0.1, output=path)
    assert res._frames is None and res.path == path
    whole = ct.simulate(model, state, 1.0, save_every=0.1)
    np.testing.assert_array_equal(res.field("u"), whole.field("u"))
    np.testing.assert_array_equal(res.field("u", t=0.5), whole.field("u", t=0.5))

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("shutil.disk_usage", lambda _: usage(1 << 20, 1 << 20, 10_000))
    frame = 8 * state.data.size  # bytes
    save_every = 1e3 * frame / physical_memory()  # more frames than memory holds
    with pytest.raises(ValueError, match=r"save_every: .* GiB of memory"):
        ct.simulate(model, state, 1e3, save_every=save_every)
    other = tmp_path / "other.h5"
    disk = r"output: the run's frames need about .* GiB uncompressed; .* GiB free"
    with pytest.raises(ValueError, match=disk):  # streamed: memory is fine, the disk is not
        ct.simulate(model, state, 1e3, save_every=save_every, output=other, compression=None)
    assert not other.exists()
    with pytest.warns(RuntimeWarning, match="compression may make it fit"):
        ct.simulate(model, state, 0.1, save_every=0.01, output=other)  # 11 frames, 90 kB
