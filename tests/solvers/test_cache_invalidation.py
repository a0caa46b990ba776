"""Editing a kernel's source invalidates the cached steppers that inlined it (issue:
verification, item 6): a copy of the package in a temporary folder, its own Numba cache,
three processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

import continuum as ct

SCRIPT = """
import numpy as np, continuum as ct
grid = ct.Grid((48,), 0.1)
x = grid.coords[0]
model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.4)
state = model.initial_state(grid, u=np.exp(-((x - 2.4) ** 2)))
res = ct.simulate(model, state, 2.0, save_every=1.0, method="explicit", dt=0.01)
print(repr(float(res.state.data.sum())), ct.__file__)
"""
OLD = "return params[FISHER.growth_rate] * x * (1.0 - x)"
NEW = "return 2.0 * params[FISHER.growth_rate] * x * (1.0 - x)"


def reference(growth_rate):
    grid = ct.Grid((48,), 0.1)
    x = grid.coords[0]
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=growth_rate)
    state = model.initial_state(grid, u=np.exp(-((x - 2.4) ** 2)))
    res = ct.simulate(model, state, 2.0, save_every=1.0, method="explicit", dt=0.01)
    return float(res.state.data.sum())


def package_copy(tmp_path, script):
    """A copy of the package with its own Numba cache, and a function running ``script``
    in a new process on it (returns the float it prints)."""
    package = Path(ct.__file__).resolve().parent
    copy = tmp_path / "src" / "continuum"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path / "src"),
        "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
    }

    def run():
        out = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        value, where = out.stdout.split()
        assert Path(where).resolve().parent == copy.resolve()  # the copy ran, not ours
        return float(value)

    return copy, run


def test_an_edited_kernel_is_recompiled_not_served_from_the_cache(tmp_path):
    copy, run = package_copy(tmp_path, SCRIPT)
    first = run()
    assert any((tmp_path / "cache").rglob("*.nbi"))  # kernels were cached
    assert run() == first  # served from the cache, same numbers
    kernel = copy / "kernels" / "simple.py"
    text = kernel.read_text()
    assert OLD in text
    kernel.write_text(text.replace(OLD, NEW))
    edited = run()
    assert first == reference(0.4)
    assert edited == reference(0.8)  # the new source ran: growth doubled
    assert edited != first


# A kernel calling a function of another file: Numba's own cache of
# ``invasion_scalar_rate`` is keyed on invasion.py only, and kept serving the old
# ``circulation_rates`` after circulation.py changed, until ``refresh_disk_cache``.
CALLER_SCRIPT = """
import numpy as np, continuum as ct
from continuum.kernels import invasion
from continuum.kernels.circulation import N_CIRCULATION
params = ct.models.Invasion(first_pass=0.5).param_vector()
scalars, rates = np.zeros(N_CIRCULATION), np.zeros(N_CIRCULATION)
exports = np.array([1.0, 0, 0, 0, 0])
invasion.invasion_scalar_rate(scalars, exports, params, 0.0, rates)
print(repr(float(rates[0])), ct.__file__)
"""


def test_a_kernel_edited_in_another_file_reaches_its_cached_callers(tmp_path):
    copy, run = package_copy(tmp_path, CALLER_SCRIPT)
    first = run()
    assert first == 0.5 * ct.models.Invasion().parameters["K_cell"]  # half arrested
    assert run() == first  # from the cache
    callee = copy / "kernels" / "circulation.py"
    text = callee.read_text()
    old = "arrested = first_pass * flux_blood"
    assert old in text
    callee.write_text(text.replace(old, "arrested = 0.0 * flux_blood"))
    assert run() == 2 * first  # no longer arrested: the edit reached the cached caller
