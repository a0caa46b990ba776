"""Replacing a run file: never a file another process holds, never a half-written one.

A new run file is built under a temporary name beside its target and moved into place
complete, so a run killed while creating it leaves the older file untouched; a file that
another process holds open (HDF5's lock) is refused, byte for byte unchanged.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import continuum as ct

ROOT = Path(__file__).resolve().parents[2]


def heat_run(path):
    model = ct.models.Heat()
    grid = ct.Grid((16, 16), 0.1)
    state = model.initial_state(grid, u=np.random.default_rng(4).random(grid.shape))
    return ct.simulate(model, state, 0.5, save_every=0.1, output=path, overwrite=True)


HOLDER = textwrap.dedent(
    """
    import sys
    import continuum as ct
    with ct.open_run(sys.argv[1]):
        print("holding", flush=True)
        sys.stdin.read()  # until the test closes it (however slow the machine)
    """
)


def test_a_file_held_open_elsewhere_is_not_replaced(tmp_path):
    path = tmp_path / "held.h5"
    heat_run(path)
    before = path.read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(ValueError, match=r"held\.h5' is open in another process"):
            heat_run(path)
        with pytest.raises(ct.RunFileError, match="open in another process"):
            ct.resume(path, 1.0)
    finally:
        holder.kill()
        holder.wait()
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*.partial"))


KILLED_OVERWRITE = textwrap.dedent(
    """
    import os, signal, sys
    import h5py._hl.attrs as attrs
    from tests.io.test_overwrite import heat_run
    setitem = attrs.AttributeManager.__setitem__

    def dying(self, key, value):  # SIGKILL while the new file is being created
        if key == "frames":
            os.kill(os.getpid(), signal.SIGKILL)
        setitem(self, key, value)

    attrs.AttributeManager.__setitem__ = dying
    heat_run(sys.argv[1])
    """
)


def test_a_killed_overwrite_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "old.h5"
    heat_run(path)
    before = path.read_bytes()
    child = subprocess.run([sys.executable, "-c", KILLED_OVERWRITE, str(path)], cwd=ROOT)
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    with ct.open_run(path) as run:
        assert run.frames == 6
