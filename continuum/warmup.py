"""``continuum warm-up``: compile the kernels of the common runs into Numba's disk cache.

A first run on a machine compiles its loops (seconds to a minute); later runs load them
from the cache in milliseconds. Warming up once, at install or when a container image or
a cluster's shared environment is built, moves that wait out of the first real run. The
kernels do not depend on the grid's size or dimension (fields are always stored as
``(n_fields, n0, n1, n2)``), so tiny runs of each model and method cover every grid.

The cache is Numba's: ``__pycache__`` beside the package, or ``NUMBA_CACHE_DIR``. Compiled
code is specific to the CPU; set ``NUMBA_CPU_NAME=generic`` (with a shared
``NUMBA_CACHE_DIR``) both when warming up and when running, and nodes of one architecture
share one cache (generic code can be slower than code for the host CPU: measure).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def _fisher(method: str) -> None:
    import continuum as ct

    grid = ct.Grid(shape=(8, 8), spacing=0.05)
    model = ct.models.FisherKPP()
    u = np.zeros(grid.shape)
    u[3:5, 3:5] = 1.0
    ct.simulate(model, model.initial_state(grid, u=u), 0.05, save_every=0.05, method=method)


def _invasion() -> None:
    import continuum as ct

    grid = ct.Grid(shape=(8, 8), spacing=0.05)
    model = ct.models.Invasion()
    ct.simulate(model, model.initial_state(grid), 0.01, save_every=0.01, method="imex")


def _default_run() -> None:
    from continuum.cli import default_scenario_path
    from continuum.scenario import load_scenario
    from continuum.simulation import simulate

    scenario = load_scenario(default_scenario_path())
    settings = {k: v for k, v in scenario.run_settings.items() if k not in ("output", "t_end")}
    settings["save_every"] = 30.0
    simulate(
        scenario.model,
        scenario.state,
        30.0,
        interventions=scenario.interventions,
        progress=False,
        **settings,
    )


TARGETS = {
    "default-run": _default_run,
    "fisher-explicit": lambda: _fisher("explicit"),
    "fisher-imex": lambda: _fisher("imex"),
    "invasion-imex": _invasion,
}
"""What ``warm-up`` compiles: the default scenario (a lumped primary's cascade), a
Fisher-KPP model with both methods ``auto`` picks, the invasion model with IMEX."""


def _compile(name: str) -> tuple[str, float]:
    started = time.perf_counter()
    TARGETS[name]()
    return name, time.perf_counter() - started


def warm_up(names=None, jobs: int | None = None) -> dict[str, float]:
    """Compile the kernels of ``names`` (default: all :data:`TARGETS`) into the disk
    cache, ``jobs`` processes at a time (default: the CPUs this process may use, at most
    the number of targets). Returns the seconds each target took."""
    names = list(TARGETS) if names is None else list(names)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        raise ValueError(f"warm-up: got {unknown[0]!r}; the targets are {', '.join(TARGETS)}")
    if jobs is None:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs: got {jobs!r}; a whole number >= 1 is required")
    jobs = min(jobs, len(names))
    if jobs == 1:
        return dict(_compile(name) for name in names)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(_compile, names))
