"""The helper process that compiles the model-independent kernels of a loop alongside
(``continuum.compile_ahead``): it takes their compilation out of the first run without
changing a bit of it, and a helper that fails or hangs costs the run nothing but time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import continuum as ct
from continuum import compile_ahead
from continuum.kernels.registry import entry_signature
from continuum.solvers import loops

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="the helper runs on Linux with two CPUs or more",
)

FIRST_RUN = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import continuum as ct
    from numba.core import event
    from continuum.kernels.implicit import line_solve_axis
    from continuum.solvers import loops

    compiled = []

    class Names(event.Listener):
        def on_start(self, ev):
            compiled.append(ev.data["dispatcher"].py_func.__name__)

        def on_end(self, ev):
            pass

    event.register("numba:compile", Names())
    grid = ct.Grid((16, 12), spacing=0.05)
    model = ct.models.FisherKPP(diffusivity=0.13, growth_rate=0.5)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    state = model.initial_state(grid, u=np.exp(-((x - 0.4) ** 2 + (y - 0.3) ** 2) / 0.02))
    result = ct.simulate(model, state, 2.0, save_every=1.0, method="imex", progress=False)
    np.save(sys.argv[1], result.state.data)
    from continuum.solvers.base import IMEXSolver
    solver = IMEXSolver(model, model.initial_state(grid, u=np.zeros(grid.shape)))
    args = solver._loop_args(1.0)
    predicted = solver.shared_kernels(args)[0]
    print(json.dumps({
        "compiled": compiled,
        "predicted_line_solve": str(predicted.signature),
        "predicted_error": str(solver.own_kernels(args)[0].signature),
        "line_solves": [str(s) for s in line_solve_axis.overloads],
        "error_estimates": [str(s) for s in loops._first_order_error.overloads],
    }))
    """
)


def _first_run(tmp_path, helper: bool) -> tuple[dict, np.ndarray]:
    """A first IMEX run of Fisher-KPP in a fresh interpreter with an empty disk cache."""
    out = tmp_path / f"u_{helper}.npy"
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(tmp_path / f"cache_{helper}"),
        "CONTINUUM_COMPILE_HELPER": "1" if helper else "0",
    }
    done = subprocess.run(
        [sys.executable, "-c", FIRST_RUN, str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout.splitlines()[-1]), np.load(out)


def test_the_helper_compiles_the_shared_kernels_and_changes_no_bit(tmp_path):
    with_helper, u_helper = _first_run(tmp_path, helper=True)
    alone, u_alone = _first_run(tmp_path, helper=False)
    # Alone, the run compiles the line solves (and their callees) itself ...
    shared = {d.py_func.__name__ for d in loops.SHARED}
    assert {"line_solve_axis", "_assemble_lines", "_first_order_error"} <= set(alone["compiled"])
    # ... with the helper it loads them from the cache, with the very signatures the loop
    # compiled alone
    assert not set(with_helper["compiled"]) & shared
    assert "advance_imex" in with_helper["compiled"]
    assert with_helper["line_solves"] == alone["line_solves"] != []
    # the helper's first job is the line solve with the types the loop gives it, and
    # the run compiles the error estimate meanwhile with the types the loop gives it
    assert alone["line_solves"] == [with_helper["predicted_line_solve"]]
    assert alone["error_estimates"] == [with_helper["predicted_error"]]
    assert with_helper["error_estimates"] == alone["error_estimates"]
    np.testing.assert_array_equal(u_helper, u_alone)
    grid = ct.Grid((16, 12), spacing=0.05)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    start = np.exp(-((x - 0.4) ** 2 + (y - 0.3) ** 2) / 0.02).mean()
    assert u_helper.mean() > 1.5 * start  # the run did advance: logistic growth


class _Failing:
    """A stand-in dispatcher whose compilation fails (in the helper)."""

    def compile(self, signature):
        raise RuntimeError("no")


class _Hanging:
    """A stand-in dispatcher whose compilation never ends (in the helper)."""

    def compile(self, signature):
        time.sleep(600)


def test_a_failing_helper_is_not_waited_for():
    failing = _Failing()
    helper = compile_ahead._Helper([compile_ahead.Job(failing, ("x",))])
    started = time.monotonic()
    helper.wait_for(failing, ("x",))
    assert helper.finished and time.monotonic() - started < 30.0
    helper.stop()
    helper.stop()  # once is enough
    with pytest.raises(ChildProcessError):
        os.waitpid(helper.pid, os.WNOHANG)  # reaped


def test_a_hanging_helper_is_stopped_after_the_timeout(monkeypatch):
    monkeypatch.setattr(compile_ahead, "JOB_TIMEOUT", 0.5)
    hanging = _Hanging()
    helper = compile_ahead._Helper([compile_ahead.Job(hanging, ("x",))])
    started = time.monotonic()
    helper.wait_for(hanging, ("x",))
    assert 0.5 <= time.monotonic() - started < 30.0
    assert helper.finished and helper.pipe == -1  # stopped and reaped
    with pytest.raises(ChildProcessError):
        os.waitpid(helper.pid, os.WNOHANG)


def test_no_helper_when_switched_off_or_nothing_to_compile(monkeypatch):
    from continuum.kernels.implicit import line_solve_axis

    job = compile_ahead.Job(line_solve_axis, ("anything",))
    monkeypatch.setenv("CONTINUUM_COMPILE_HELPER", "0")
    assert compile_ahead.start(job, [job]) is None and compile_ahead._active is None
    monkeypatch.delenv("CONTINUUM_COMPILE_HELPER")
    assert compile_ahead.start(job, []) is None and compile_ahead._active is None


def test_a_solver_types_its_loop_once_and_only_for_a_helper(monkeypatch):
    """Typing the loop's arguments for the helper (about 0.7 ms, a fifth of a short run's
    call) happens only where the loop has shared kernels, and once per solver; a
    cascade types the sites' step once, not at every frame."""
    from continuum.solvers import base, cascade
    from continuum.solvers.cascade import CascadeSolver

    typed = []

    def counting(args, literal=(0, 1)):
        typed.append(len(args))
        return entry_signature(args, literal)

    monkeypatch.setattr(base, "entry_signature", counting)
    monkeypatch.setattr(cascade, "entry_signature", counting)
    monkeypatch.setattr(compile_ahead, "start", lambda loop, jobs: None)
    grid = ct.Grid((8, 6), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.13, growth_rate=0.5)
    for method, expected in (("euler", 0), ("explicit", 0), ("imex", 1)):
        typed.clear()
        solver = base.make_solver(method, model, model.initial_state(grid, u=0.5), dt=0.001)
        for _ in range(3):
            solver.start_compiling()
        assert len(typed) == expected, method
    sites = [ct.SecondarySite("lung")]
    model = ct.Cascade(ct.models.Invasion(), sites=sites, horizon=10.0, cohort_days=1.0)
    typed.clear()
    solver = CascadeSolver("imex", model, model.initial_state(ct.Grid((6, 5), 0.05)))
    for _ in range(3):
        solver.start_compiling()
    assert len(typed) == 2  # the primary's loop and the sites' step


def test_a_loaded_kernel_is_not_compiled_again():
    """After a run in this process, the IMEX loop's shared kernels are either compiled
    here or in the disk cache: no helper starts for them."""
    from continuum.solvers.base import IMEXSolver

    grid = ct.Grid((6, 5), spacing=0.05)
    model = ct.models.FisherKPP()
    solver = IMEXSolver(model, model.initial_state(grid, u=np.full(grid.shape, 0.5)))
    solver.advance(0.1)
    args = solver._loop_args(0.2)
    jobs = solver.shared_kernels(args)
    assert [job.dispatcher.py_func.__name__ for job in jobs] == [
        "line_solve_axis",
        "_imex_shared",
    ]
    loop = compile_ahead.Job(loops.advance_imex, entry_signature(args))
    assert compile_ahead.start(loop, jobs) is None  # the loop is compiled: nothing to do
    solver.start_compiling()
    assert solver._helper is None


ORPHAN = textwrap.dedent(
    """
    import os, time
    from continuum import compile_ahead

    class Hanging:
        def compile(self, signature):
            time.sleep(600)

    helper = compile_ahead._Helper([compile_ahead.Job(Hanging(), ("x",))])
    print(helper.pid, flush=True)
    os._exit(0)  # killed, as it were, without stopping its helper
    """
)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie no reaper has collected does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_helper_dies_with_its_run():
    done = subprocess.run(
        [sys.executable, "-c", ORPHAN], capture_output=True, text=True, check=True, timeout=120
    )
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10.0
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_a_cascade_helper_compiles_the_sites_step_its_run_calls(monkeypatch):
    """A spatial primary's cascade hands its helper the sites' step after the primary's
    shared kernels, for the signature its stretches call it with (the primary's loop
    is not run here: its advance only moves the clock)."""
    from continuum.kernels.colony_ode import sites_step
    from continuum.solvers.base import Solver
    from continuum.solvers.cascade import CascadeSolver

    sites = [ct.SecondarySite("lung"), ct.SecondarySite("liver")]
    model = ct.Cascade(ct.models.Invasion(), sites=sites, horizon=10.0, cohort_days=1.0)
    state = model.initial_state(ct.Grid((6, 5), 0.05))
    handed, called = [], []
    monkeypatch.setattr(Solver, "start_compiling", lambda self, after=(): handed.extend(after))
    monkeypatch.setattr(Solver, "advance", lambda self, t_stop: setattr(self, "t", t_stop))
    monkeypatch.setattr(
        CascadeSolver,
        "_call_literal",
        lambda self, dispatcher, *args: called.append(
            (dispatcher, entry_signature(args, literal=(len(args) - 1,)))
        ),
    )
    solver = CascadeSolver("imex", model, state, dt=None, rtol=1e-3, atol=1e-6, max_steps=10, t=0.0)
    solver.start_compiling()
    solver.advance(2.5)
    assert [(job.dispatcher, job.signature) for job in handed][-1:] == [called[0]]
    assert called[0][0] is sites_step and len(set(called)) == 1  # three stretches, one signature
