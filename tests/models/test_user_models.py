"""A model written in a user's own file: declared kernels, scenario files, run files and the
compiled-code cache across processes (each child process with its own cache folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from numba import njit

import continuum as ct

USER_MODEL = textwrap.dedent(
    '''
    """A user's model: logistic growth with a death rate, in ten lines of kernel."""
    from numba import njit

    import continuum as ct


    @njit(cache=True, inline="always")
    def growth(u, maps, i0, i1, k, f, scalars, params, t):
        x = u[0, i0, i1, k]
        return params[1] * x * (1.0 - x) - params[2] * x


    class Growth(ct.models.Model):
        """du/dt = D laplace(u) + rho u (1 - u) - delta u."""

        kernels = ct.models.KernelSet(point=growth)
        field_names = ("u",)
        nonnegative_fields = ("u",)
        PARAMETERS = (
            ct.models.Parameter("D", 0.01, "mm^2/day", "motility"),
            ct.models.Parameter("rho", 1.0, "1/day", "proliferation"),
            ct.models.Parameter("delta", 0.1, "1/day", "death"),
        )

        def transport(self):
            return ct.models.Transport.of(self.field_names, diffusion={"u": self.parameters["D"]})
    '''
)

SCENARIO = textwrap.dedent(
    """
    [model]
    class = "user_growth:Growth"
    parameters = { rho = 0.8, delta = 0.2 }

    [grid]
    shape = [24, 16]
    spacing = 0.05

    [initial]
    u = 0.3

    [run]
    t_end = 4.0
    save_every = 1.0
    method = "explicit"
    """
)

CHILD = textwrap.dedent(
    """
    import json, sys
    from numba.core.dispatcher import Dispatcher
    import continuum as ct
    from continuum.solvers import loops

    scenario = ct.load_scenario(sys.argv[1])
    result = scenario.run(output=sys.argv[2], overwrite=True)
    stats = [v.stats for v in vars(loops).values() if isinstance(v, Dispatcher)]
    print(json.dumps({
        "misses": sum(sum(s.cache_misses.values()) for s in stats),
        "hits": sum(sum(s.cache_hits.values()) for s in stats),
        "kernel": scenario.model.kernel_name,
        "u": float(result.state.data.mean()),
    }))
    """
)


def run_child(folder: Path, cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "PYTHONPATH": str(Path.cwd())}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder / "scenario.toml"), str(folder / "run.h5")],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_user_model_compiles_once_and_recompiles_after_an_edit(tmp_path):
    """First process compiles the stepper for the user's kernels; a second process is
    served from the disk cache (no compilation); after the user edits the kernel file the
    kernel name changes and the stepper is compiled again, with the edited equation."""
    (tmp_path / "user_growth.py").write_text(USER_MODEL)
    (tmp_path / "scenario.toml").write_text(SCENARIO)
    cache = tmp_path / "numba-cache"
    first = run_child(tmp_path, cache)
    second = run_child(tmp_path, cache)
    assert first["misses"] >= 1
    assert second["misses"] == 0 and second["hits"] >= 1
    assert second["u"] == first["u"] and second["kernel"] == first["kernel"]
    # logistic equilibrium 1 - delta/rho = 0.75 approached from 0.3
    assert 0.3 < first["u"] < 0.75
    edited = USER_MODEL.replace("- params[2] * x", "- 2.0 * params[2] * x")
    (tmp_path / "user_growth.py").write_text(edited)
    third = run_child(tmp_path, cache)
    assert third["misses"] >= 1 and third["kernel"] != first["kernel"]
    assert third["u"] < first["u"]  # twice the death rate


def test_a_user_model_round_trips_through_its_run_file(tmp_path, monkeypatch):
    """The run file names the class by its file; a fresh reader finds it again."""
    (tmp_path / "user_growth.py").write_text(USER_MODEL)
    (tmp_path / "scenario.toml").write_text(SCENARIO)
    scenario = ct.load_scenario(tmp_path / "scenario.toml")
    path = tmp_path / "run.h5"
    whole = scenario.run()
    half = ct.load_scenario(tmp_path / "scenario.toml", {"run.t_end": 2.0})
    half.run(output=path)
    with ct.resume(path, 4.0) as run:
        assert type(run.model).__name__ == "Growth"
        assert run.model.parameters == {"D": 0.01, "rho": 0.8, "delta": 0.2}
        np.testing.assert_array_equal(run.field("u", 4.0), whole.field("u", 4.0))


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("user_growth", "'module:Class' or 'file.py:Class'"),
        ("user_growth:Nothing", "is not a continuum Model subclass"),
        ("missing_module:Growth", "cannot import 'missing_module'"),
        ("missing.py:Growth", "no file"),
    ],
)
def test_a_bad_class_reference_is_one_clear_problem(tmp_path, reference, message):
    (tmp_path / "user_growth.py").write_text(USER_MODEL)
    text = SCENARIO.replace('"user_growth:Growth"', f'"{reference}"')
    (tmp_path / "scenario.toml").write_text(text)
    with pytest.raises(ct.ScenarioError, match=message):
        ct.load_scenario(tmp_path / "scenario.toml")


@njit(inline="always")
def _growth_with_a_scratch_array(u, maps, i0, i1, k, f, scalars, params, t):
    scratch = np.zeros(1)  # an allocation per cell: the stencil loop cannot take it
    x = u[0, i0, i1, k]
    return params[1] * x * (1.0 - x) + scratch[0]


class _AllocatingGrowth(ct.models.Model):
    """du/dt = D laplace(u) + rho u (1 - u), its kernel allocating a scratch array."""

    kernels = ct.models.KernelSet(point=_growth_with_a_scratch_array)
    field_names = ("u",)
    PARAMETERS = (
        ct.models.Parameter("D", 0.01, "mm^2/day", "motility"),
        ct.models.Parameter("rho", 1.0, "1/day", "proliferation"),
    )

    def transport(self):
        return ct.models.Transport.of(self.field_names, diffusion={"u": self.parameters["D"]})


def test_a_kernel_that_allocates_gets_an_error_naming_it():
    model = _AllocatingGrowth()
    state = model.initial_state(ct.Grid((8,), 0.1), u=0.1)
    with pytest.raises(
        TypeError, match=r"reaction_point '_growth_with_a_scratch_array' .* creates an array"
    ):
        ct.simulate(model, state, 0.1, method="euler", dt=0.01, progress=False)
