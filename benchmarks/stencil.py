"""Throughput of 2D Fisher-KPP forward-Euler steps: continuum vs py-pde vs NumPy vs STREAM.

Run from the repository root::

    python benchmarks/stencil.py > stencil.json          # full run (about 5 minutes)
    python benchmarks/stencil.py --quick > quick.json    # smoke run (N = 128, 256)

One JSON document goes to standard output at the end; progress goes to standard error.
Keys of the document:

``machine``
    CPU model, cores, caches, library versions, Numba threads, load average at start.
``stream``
    STREAM triad ``a[:] = b + s*c`` on ``2**25`` doubles per array, Numba ``prange`` with
    two threads and a single-threaded loop; GB/s counting 24 B per element (STREAM's
    convention: write-allocate not counted) and with the 8 B write-allocate read added.
``stencil``
    Per N: cell updates per second of continuum's ``euler`` solver, py-pde's Euler
    stepper (a custom ``PDEBase`` with a compiled right-hand side; also py-pde's
    expression ``PDE`` at ``--expression-sizes``) and plain NumPy; their agreement after
    ten steps from the same field; continuum's fraction of the STREAM roofline.
``start_times``
    Wall time of a fresh interpreter running a small ``ct.simulate`` with an empty Numba
    cache (cold) and again with the cache it left behind (warm), per method.
``time_to_accuracy``
    2D heat equation to a fixed time: wall time and error of each method and setting
    against a time-converged reference of the same spatial discretisation.
``assumptions``
    Bytes per cell update, the timing rules and the problem parameters.

Timings are only meaningful on an otherwise idle machine: a parallel Numba loop whose
second core is taken by another process runs up to 100x slower. Each measurement waits
(``--wait``) until other processes are idle and records as ``background`` the CPU share
they took while it ran; a disturbed throughput measurement is repeated once.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter

import numba
import numpy as np
from numba import njit, prange

import continuum as ct
from continuum.solvers.base import make_solver

ROOT = Path(__file__).resolve().parent.parent
CONTINUUM_ROOT = Path(ct.__file__).resolve().parent.parent  # the continuum being measured

# Fisher-KPP problem of the throughput benchmark (Swanson's glioma parameters).
DIFFUSIVITY = 0.13  # mm^2/day
GROWTH_RATE = 0.012  # 1/day
SPACING = 0.05  # mm
CFL = 0.9  # dt as a fraction of the 2D forward-Euler stability limit h^2 / (4 D)

STREAM_ELEMENTS = 2**25  # doubles per array: 256 MiB each, far beyond any cache
STREAM_REPEATS = 10
BYTES_TRIAD = 24  # 2 reads + 1 write per element (STREAM convention)
BYTES_TRIAD_WA = 32  # plus the read of the destination line (write-allocate)
BYTES_UPDATE = 16  # forward Euler: read u once, write u_new once
BYTES_UPDATE_WA = 24  # plus write-allocate of u_new

CHECK_STEPS = 10  # steps from the same u0 compared across implementations (also warm-up)
TARGET_SECONDS = 0.5  # length of one timed run
PROBE_SECONDS = 0.05  # minimum length of the calibration run

QUIET_THRESHOLD = 0.1  # other processes' CPU share below which the machine counts as idle
QUIET_SAMPLE_S = 0.5
ATTEMPTS = 2  # runs of a throughput measurement when other processes disturb the first

DEFAULT_SIZES = (256, 512, 1024, 2048)
QUICK_SIZES = (128, 256)


def log(message: str) -> None:
    """Progress line on standard error."""
    print(f"[stencil] {message}", file=sys.stderr, flush=True)


def euler_dt(diffusivity: float = DIFFUSIVITY, spacing: float = SPACING) -> float:
    """``CFL * h^2 / (4 D)``: the fixed step of the 2D forward-Euler benchmark [day]."""
    return CFL * spacing**2 / (4.0 * diffusivity)


def random_field(n: int, seed: int = 0) -> np.ndarray:
    """Uniform random densities in [0, 1) on an ``n x n`` grid."""
    return np.random.default_rng(seed).random((n, n))


# -- background load ---------------------------------------------------------------------
def _machine_cpu_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return math.nan, math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class CpuMeter:
    """CPU time taken by other processes (and the hypervisor) since construction."""

    def __init__(self):
        self.busy, self.steal = _machine_cpu_seconds()
        self.own = _own_cpu_seconds()
        self.wall = perf_counter()

    def read(self) -> dict:
        """``other_cpu_fraction``: (machine busy - this process and its children) / capacity.

        ``steal_fraction`` is the hypervisor's share of the capacity (wall time x cores).
        """
        wall = perf_counter() - self.wall
        busy, steal = _machine_cpu_seconds()
        capacity = max(wall, 1e-9) * (os.cpu_count() or 1)
        other = max(0.0, (busy - self.busy) - (_own_cpu_seconds() - self.own))
        return {
            "wall_s": round(wall, 3),
            "other_cpu_fraction": round(other / capacity, 3),
            "steal_fraction": round((steal - self.steal) / capacity, 3),
        }


def wait_until_quiet(max_wait: float, threshold: float = QUIET_THRESHOLD) -> dict:
    """Wait (at most ``max_wait`` s) until other processes use < ``threshold`` of the CPUs.

    Parallel Numba loops on a machine whose cores are partly taken by another process
    slow down by orders of magnitude (each parallel region waits for a descheduled
    thread), so timings are only meaningful on an otherwise idle machine.
    """
    t0 = perf_counter()
    while True:
        meter = CpuMeter()
        time.sleep(QUIET_SAMPLE_S)
        other = meter.read()["other_cpu_fraction"]
        waited = perf_counter() - t0
        if other < threshold or waited >= max_wait:
            if other >= threshold:
                log(f"machine still busy ({other:.0%} of CPUs used by others); going on")
            return {"waited_s": round(waited, 1), "other_cpu_fraction_before": other}
        if waited < QUIET_SAMPLE_S * 1.5:
            log(f"waiting for other processes to finish ({other:.0%} of CPUs busy)")


@contextmanager
def measured_section(record: dict, max_wait: float):
    """Wait for a quiet machine, then record in ``record["background"]`` the CPU share
    other processes took while the section ran (near 0: it had the machine to itself).
    """
    quiet = wait_until_quiet(max_wait)
    meter = CpuMeter()
    try:
        yield
    finally:
        record["background"] = {
            **meter.read(),
            **quiet,
            "loadavg_1min_end": round(os.getloadavg()[0], 2),
        }


# -- machine -----------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _caches() -> dict[str, str]:
    """Cache sizes of CPU 0 as the kernel reports them (per instance)."""
    caches = {}
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        name = f"L{level}" + {"Data": "d", "Instruction": "i"}.get(kind, "")
        caches[name] = size
    return caches


def _git(*args: str) -> str:
    """Output of a read-only git command in the repository ('' if git is unavailable)."""
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip()


def continuum_revision() -> dict:
    """Commit of the continuum being measured: this checkout's HEAD and its uncommitted
    changes, or, for a copy put first on PYTHONPATH, the commit named in its COMMIT file.
    """
    if CONTINUUM_ROOT == ROOT:
        return {
            "git_head": _git("rev-parse", "--short", "HEAD"),
            "uncommitted": _git("status", "--porcelain", "--", "continuum"),
        }
    commit = CONTINUUM_ROOT / "COMMIT"
    return {"snapshot_of": commit.read_text().strip() if commit.exists() else "unknown"}


def source_stamp() -> float:
    """Latest modification time of continuum's sources (edits trigger recompilation)."""
    package = Path(ct.__file__).resolve().parent
    return max(p.stat().st_mtime for p in package.rglob("*.py"))


def _pypde_version() -> str:
    try:
        import pde
    except ImportError:
        return "not installed"
    return pde.__version__


def machine_info() -> dict:
    """CPU, cores, caches, versions and thread settings."""
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "caches": _caches(),
        "hypervisor": "hypervisor" in Path("/proc/cpuinfo").read_text(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "py-pde": _pypde_version(),
        "continuum": ct.__version__,
        "continuum_path": str(CONTINUUM_ROOT),
        "continuum_revision": continuum_revision(),
        "NUMBA_NUM_THREADS": numba.config.NUMBA_NUM_THREADS,
        "numba_threading_layer": numba.config.THREADING_LAYER,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# -- timing helpers ----------------------------------------------------------------------
def timed(fn) -> float:
    """Wall seconds of one call."""
    t0 = perf_counter()
    fn()
    return perf_counter() - t0


def calibrate(run, target: float = TARGET_SECONDS) -> int:
    """Steps such that ``run(steps)`` lasts about ``target`` seconds.

    ``run(k)`` advances ``k`` steps; it is called with doubling ``k`` until one call
    lasts ``PROBE_SECONDS``.
    """
    k = 1
    while True:
        elapsed = timed(lambda k=k: run(k))
        if elapsed >= PROBE_SECONDS or k >= 2**20:
            return max(1, math.ceil(k * target / max(elapsed, 1e-9)))
        k *= 2


def throughput(cells: int, run, steps: int, repeats: int) -> dict:
    """Median (and spread) of ``cells * steps / seconds`` over ``repeats`` calls of ``run``.

    ``run(steps)`` returns the number of steps it actually took.
    """
    rates = []
    for _ in range(repeats):
        t0 = perf_counter()
        done = run(steps)
        rates.append(cells * done / (perf_counter() - t0))
    return {
        "steps_per_run": steps,
        "updates_per_s": statistics.median(rates),
        "updates_per_s_min": min(rates),
        "updates_per_s_max": max(rates),
        "seconds_per_run": cells * steps / statistics.median(rates),
    }


# -- STREAM triad ------------------------------------------------------------------------
@njit(parallel=True)
def _triad_parallel(a, b, c, s):
    for i in prange(a.shape[0]):
        a[i] = b[i] + s * c[i]


@njit
def _triad_serial(a, b, c, s):
    for i in range(a.shape[0]):
        a[i] = b[i] + s * c[i]


@njit(parallel=True)
def _first_touch(a, value):
    for i in prange(a.shape[0]):
        a[i] = value


def _triad_rates(kernel, a, b, c, repeats: int) -> list[float]:
    """GB/s (24 B per element) of ``repeats`` triad sweeps after one warm-up sweep."""
    kernel(a, b, c, 3.0)
    seconds = [timed(lambda: kernel(a, b, c, 3.0)) for _ in range(repeats)]
    return [BYTES_TRIAD * a.shape[0] / s / 1e9 for s in seconds]


def _triad_summary(rates: list[float], threads: int) -> dict:
    best, median = max(rates), statistics.median(rates)
    scale = BYTES_TRIAD_WA / BYTES_TRIAD
    return {
        "threads": threads,
        "gb_per_s_median": round(median, 2),
        "gb_per_s_best": round(best, 2),
        "gb_per_s_median_incl_write_allocate": round(median * scale, 2),
    }


def stream_triad(n: int = STREAM_ELEMENTS, repeats: int = STREAM_REPEATS) -> dict:
    """STREAM triad with two Numba threads and with one."""
    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    a, b, c = (np.empty(n) for _ in range(3))
    for array, value in ((a, 0.0), (b, 1.0), (c, 2.0)):
        _first_touch(array, value)
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        parallel = _triad_rates(_triad_parallel, a, b, c, repeats)
    finally:
        numba.set_num_threads(previous)
    serial = _triad_rates(_triad_serial, a, b, c, repeats)
    return {
        "elements_per_array": n,
        "array_mib": n * 8 / 2**20,
        "repeats": repeats,
        "bytes_per_element_counted": BYTES_TRIAD,
        "write_allocate_counted": False,
        "note": "gb_per_s_* count 24 B/element (2 reads + 1 write, STREAM convention); "
        "the stores are ordinary (not non-temporal), so the hardware also reads each "
        "destination line: *_incl_write_allocate counts 32 B/element",
        "two_threads": _triad_summary(parallel, threads),
        "single_thread": _triad_summary(serial, 1),
    }


# -- continuum ---------------------------------------------------------------------------
def continuum_solver(u0: np.ndarray, dt: float):
    """continuum's forward-Euler solver for Fisher-KPP on the grid of ``u0``."""
    grid = ct.Grid(u0.shape, spacing=SPACING)
    model = ct.models.FisherKPP(diffusivity=DIFFUSIVITY, growth_rate=GROWTH_RATE)
    state = model.initial_state(grid, u=u0)
    return make_solver("euler", model, state, dt=dt), state


def bench_continuum(u0: np.ndarray, dt: float, repeats: int) -> tuple[dict, np.ndarray]:
    """Throughput of ``solver.advance``; also returns the field after ``CHECK_STEPS``."""
    t0 = perf_counter()
    solver, state = continuum_solver(u0, dt)
    solver.advance(solver.t + CHECK_STEPS * dt)
    first_call = perf_counter() - t0
    after_check = state.field("u").copy()

    def run(k):
        before = solver.steps
        solver.advance(solver.t + k * dt)
        return solver.steps - before

    result = throughput(u0.size, run, calibrate(run), repeats)
    result["setup_and_first_call_s"] = first_call
    return result, after_check


# -- NumPy -------------------------------------------------------------------------------
class NumpyFisher:
    """Forward Euler for Fisher-KPP in plain NumPy, no-flux by mirrored ghost cells.

    The ghost cell beyond each edge copies its neighbour (zero face flux), the same
    finite-volume scheme as continuum's. Buffers are allocated once; every step is a
    sequence of in-place whole-array operations.
    """

    def __init__(self, u0: np.ndarray, dt: float):
        self.padded = np.pad(u0, 1, mode="edge")
        self.u = self.padded[1:-1, 1:-1]
        self.rate = np.empty_like(u0)
        self.scratch = np.empty_like(u0)
        self.diffusion = DIFFUSIVITY * dt / SPACING**2
        self.growth = GROWTH_RATE * dt

    def step(self) -> None:
        """Advance one step in place."""
        p, u, rate, tmp = self.padded, self.u, self.rate, self.scratch
        p[0, 1:-1] = p[1, 1:-1]
        p[-1, 1:-1] = p[-2, 1:-1]
        p[1:-1, 0] = p[1:-1, 1]
        p[1:-1, -1] = p[1:-1, -2]
        np.add(p[:-2, 1:-1], p[2:, 1:-1], out=rate)
        rate += p[1:-1, :-2]
        rate += p[1:-1, 2:]
        np.multiply(u, 4.0, out=tmp)
        rate -= tmp
        rate *= self.diffusion
        np.subtract(1.0, u, out=tmp)
        tmp *= u
        tmp *= self.growth
        rate += tmp
        u += rate

    def run(self, steps: int) -> int:
        for _ in range(steps):
            self.step()
        return steps


def bench_numpy(u0: np.ndarray, dt: float, repeats: int) -> tuple[dict, np.ndarray]:
    """Throughput of :class:`NumpyFisher`; also returns the field after ``CHECK_STEPS``."""
    stepper = NumpyFisher(u0, dt)
    stepper.run(CHECK_STEPS)
    after_check = stepper.u.copy()
    return throughput(u0.size, stepper.run, calibrate(stepper.run), repeats), after_check


# -- py-pde ------------------------------------------------------------------------------
def _import_pde():
    """The ``pde`` module, or ``None`` when py-pde is not installed."""
    try:
        import pde
    except ImportError:
        return None
    return pde


def _pypde_fisher(pde, diffusivity: float, growth_rate: float):
    """A py-pde ``PDEBase`` for Fisher-KPP with a fused compiled right-hand side.

    The right-hand side applies py-pde's own compiled Laplacian (Neumann ghost cells) and
    adds diffusion scaling and logistic growth in one pass over its result, threaded
    (``prange``) when py-pde would thread its own operators on this grid. It is handed
    to py-pde already jitted, so py-pde uses it as is.
    """

    class FisherKPP(pde.PDEBase):
        def __init__(self):
            super().__init__()
            self.bc = "auto_periodic_neumann"

        def evolution_rate(self, state, t=0.0):
            return diffusivity * state.laplace(bc=self.bc) + growth_rate * state * (1 - state)

        def make_evolution_rate(self, state, backend):
            laplace = state.grid.make_operator("laplace", bc=self.bc, backend=backend)
            parallel = _pypde_threads(backend, state.grid.num_cells)

            @njit(parallel=parallel, fastmath={"contract", "nsz", "reassoc"})
            def rhs(u, t=0.0):
                rate = laplace(u)
                for i in prange(u.shape[0]):
                    for j in range(u.shape[1]):
                        x = u[i, j]
                        rate[i, j] = diffusivity * rate[i, j] + growth_rate * x * (1.0 - x)
                return rate

            return rhs

    return FisherKPP()


def _pypde_threads(backend, cells: int) -> bool:
    """Whether py-pde threads its own operators on a grid of ``cells`` cells."""
    try:
        threshold = backend._config_parameter("multithreading_threshold")
        return bool(backend.use_multithreading()) and cells >= threshold
    except (AttributeError, KeyError):
        return cells >= 256**2


def _pypde_grid(pde, n: int):
    return pde.CartesianGrid([[0.0, n * SPACING]] * 2, [n, n])


def pypde_euler_stepper(pde, eq, field, dt: float):
    """py-pde's compiled fixed-step Euler stepper ``stepper(field, t0, t1)`` and its solver."""
    from pde.solvers import EulerSolver

    solver = EulerSolver(eq, adaptive=False)
    return solver.make_stepper(field, dt=dt), solver


def _pypde_throughput(pde, eq, u0, dt, repeats) -> tuple[dict, np.ndarray]:
    field = pde.ScalarField(_pypde_grid(pde, u0.shape[0]), u0.copy())
    t0 = perf_counter()
    stepper, solver = pypde_euler_stepper(pde, eq, field, dt)
    t = stepper(field, 0.0, CHECK_STEPS * dt)
    first_call = perf_counter() - t0
    after_check = field.data.copy()

    def run(k):
        nonlocal t
        before = solver.info["steps"]
        t = stepper(field, t, t + k * dt)
        return solver.info["steps"] - before

    result = throughput(u0.size, run, calibrate(run), repeats)
    result["make_stepper_and_first_call_s"] = first_call
    return result, after_check


def _pypde_solve_api(pde, eq, u0, dt, steps: int) -> dict:
    """``eq.solve`` twice (``steps`` and ``3 steps``); each call compiles its stepper again.

    The difference of the two wall times over the ``2 steps`` extra steps is the
    steady-state stepping rate; the raw wall time of the shorter solve is what a user
    waits for.
    """
    grid = _pypde_grid(pde, u0.shape[0])
    walls = []
    for k in (steps, 3 * steps):
        field = pde.ScalarField(grid, u0.copy())
        walls.append(
            timed(
                lambda k=k, field=field: eq.solve(
                    field, t_range=k * dt, dt=dt, solver="euler", adaptive=False, tracker=None
                )
            )
        )
    extra = walls[1] - walls[0]
    return {
        "steps_short": steps,
        "wall_s_short_solve": walls[0],
        "wall_s_long_solve": walls[1],
        "updates_per_s_differenced": u0.size * 2 * steps / extra if extra > 0 else None,
    }


def _pypde_expression(pde, diffusivity: float, growth_rate: float):
    """The same equation as a py-pde expression ``PDE`` (the documented quick route)."""
    rhs = f"{diffusivity} * laplace(u) + {growth_rate} * u * (1 - u)"
    return pde.PDE({"u": rhs}, bc="auto_periodic_neumann")


PYPDE_VARIANTS = {
    "custom": (_pypde_fisher, "custom PDEBase: py-pde laplace operator + fused prange pass"),
    "expression": (_pypde_expression, "pde.PDE expression, compiled by py-pde"),
}


def bench_pypde(u0: np.ndarray, dt: float, repeats: int, variant: str, solve_api: bool):
    """py-pde's Euler stepper for ``variant``; ``(record, field after CHECK_STEPS or None)``."""
    pde = _import_pde()
    if pde is None:
        return {"status": "not installed"}, None
    make_eq, description = PYPDE_VARIANTS[variant]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eq = make_eq(pde, DIFFUSIVITY, GROWTH_RATE)
        result, after_check = _pypde_throughput(pde, eq, u0, dt, repeats)
        if solve_api:
            result["solve_api"] = _pypde_solve_api(pde, eq, u0, dt, result["steps_per_run"])
    result["status"] = "ok"
    result["rhs"] = description
    return result, after_check


# -- stencil section ---------------------------------------------------------------------
def roofline(updates_per_s: float, stream: dict) -> dict:
    """Achieved bandwidth at the assumed bytes per update, as a fraction of STREAM triad."""
    triad = stream["two_threads"]["gb_per_s_median"]
    achieved = updates_per_s * BYTES_UPDATE / 1e9
    achieved_wa = updates_per_s * BYTES_UPDATE_WA / 1e9
    return {
        "bytes_per_update": BYTES_UPDATE,
        "achieved_gb_per_s": round(achieved, 2),
        "fraction_of_triad_2threads": round(achieved / triad, 3),
        "fraction_incl_write_allocate": round(
            achieved_wa / stream["two_threads"]["gb_per_s_median_incl_write_allocate"], 3
        ),
    }


def _max_diff(a, b):
    return None if a is None or b is None else float(np.max(np.abs(a - b)))


def implementations(repeats: int, solve_api: bool, expression: bool) -> dict:
    """``name -> bench(u0, dt)`` for every implementation compared at one size."""
    benches = {
        "continuum": lambda u0, dt: bench_continuum(u0, dt, repeats),
        "pypde": lambda u0, dt: bench_pypde(u0, dt, repeats, "custom", solve_api),
        "pypde_expression": lambda u0, dt: bench_pypde(u0, dt, repeats, "expression", False),
        "numpy": lambda u0, dt: bench_numpy(u0, dt, repeats),
    }
    if not expression:
        del benches["pypde_expression"]
    return benches


def undisturbed(name: str, bench, wait: float):
    """Run ``bench()`` on a quiet machine; run it again if others took CPU meanwhile.

    Keeps the attempt that was disturbed least and records its ``background``.
    """
    best = None
    for attempt in range(1, ATTEMPTS + 1):
        background: dict = {}
        with measured_section(background, wait):
            result, field = bench()
        other = background["background"]["other_cpu_fraction"]
        if best is None or other < best[0]["background"]["other_cpu_fraction"]:
            best = ({**result, **background, "attempt": attempt}, field)
        if other < QUIET_THRESHOLD:
            break
        log(f"{name}: other processes took {other:.0%} of the CPUs meanwhile")
    return best


def bench_size(n: int, stream: dict, options) -> dict:
    """All implementations at one grid size, each on a quiet machine."""
    dt = euler_dt()
    u0 = random_field(n)
    record = {"n": n, "cells": n * n, "dt_day": dt, "working_set_mib": 2 * n * n * 8 / 2**20}
    benches = implementations(options.repeats, options.solve_api, n in options.expression_sizes)
    fields = {}
    for name, bench in benches.items():
        log(f"N={n}: {name}")
        record[name], fields[name] = undisturbed(
            f"N={n} {name}", lambda b=bench: b(u0, dt), options.wait
        )
    record["max_abs_diff_after_check_steps"] = {"check_steps": CHECK_STEPS} | {
        f"continuum_vs_{name}": _max_diff(fields["continuum"], field)
        for name, field in fields.items()
        if name != "continuum"
    }
    ups = record["continuum"]["updates_per_s"]
    record["continuum"]["roofline"] = roofline(ups, stream)
    for name in fields:
        other_ups = record[name].get("updates_per_s")
        if name != "continuum":
            record[f"speedup_vs_{name}"] = round(ups / other_ups, 2) if other_ups else None
    return record


# -- cold and warm start -----------------------------------------------------------------
START_SCRIPT = textwrap.dedent(
    """
    import json, time
    t0 = time.perf_counter()
    import numpy as np
    import continuum as ct
    t1 = time.perf_counter()
    method, dt = {method!r}, {dt!r}
    grid = ct.Grid((64, 64), spacing={spacing!r})
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    u0 = ((x - 1.6) ** 2 + (y - 1.6) ** 2 < 0.5**2).astype(float)
    model = ct.models.FisherKPP(diffusivity={d!r}, growth_rate={rho!r})
    state = model.initial_state(grid, u=u0)
    res = ct.simulate(model, state, t_end={t_end!r}, method=method, dt=dt, progress=False)
    t2 = time.perf_counter()
    print(json.dumps({{"import_s": t1 - t0, "simulate_s": t2 - t1,
                       "steps": int(res.solver_stats["steps"])}}))
    """
)


def _start_run(method: str, cache_dir: str) -> dict:
    """Wall time of a fresh interpreter running the start script with ``cache_dir``."""
    dt = euler_dt()
    code = START_SCRIPT.format(
        method=method,
        dt=dt if method == "euler" else None,
        spacing=SPACING,
        d=DIFFUSIVITY,
        rho=GROWTH_RATE,
        t_end=20 * dt,
    )
    # The child imports the same continuum as this process (not one on its cwd).
    path = os.pathsep.join(filter(None, [str(CONTINUUM_ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "PYTHONPATH": path}
    t0 = perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=cache_dir,
        check=False,
    )
    wall = perf_counter() - t0
    if out.returncode != 0:
        return {"wall_s": wall, "error": out.stderr.strip().splitlines()[-1:]}
    return {"wall_s": wall, **json.loads(out.stdout.strip().splitlines()[-1])}


def start_times(wait: float, methods=("euler", "explicit", "imex")) -> dict:
    """Cold (empty ``NUMBA_CACHE_DIR``) and warm (same directory again) start per method.

    Each method gets its own new cache directory, so its cold run compiles everything it
    needs and shares nothing with the other methods.
    """
    record = {
        "problem": "FisherKPP on 64x64, disk initial condition, t_end = 20 dt_euler; "
        "euler with fixed dt, explicit and imex adaptive (dt=None)",
        "stamp_before": source_stamp(),
    }
    for method in methods:
        log(f"start times: {method}")
        record[method] = {}
        with (
            measured_section(record[method], wait),
            tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir,
        ):
            record[method]["cold"] = _start_run(method, cache_dir)
            record[method]["warm"] = _start_run(method, cache_dir)
    record["sources_changed_during_run"] = source_stamp() != record.pop("stamp_before")
    return record


# -- time to accuracy --------------------------------------------------------------------
HEAT_N = 128
HEAT_D = 1.0  # mm^2/day
HEAT_T_END = 0.05  # day = 80 steps at the forward-Euler limit
HEAT_SIGMA = 0.25  # mm, width of the initial Gaussian
ERROR_TARGETS = (1e-3, 1e-4)  # max |u - u_ref| / max u0


def heat_problem():
    """2D heat equation, Gaussian initial condition, no-flux walls far from the bump."""
    grid = ct.Grid((HEAT_N, HEAT_N), spacing=SPACING)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    centre = HEAT_N * SPACING / 2
    u0 = np.exp(-((x - centre) ** 2 + (y - centre) ** 2) / (2 * HEAT_SIGMA**2))
    model = ct.models.Heat(diffusivity=HEAT_D)
    return model, model.initial_state(grid, u=u0), u0


def heat_limit() -> float:
    """Forward-Euler stability limit of the heat problem, ``h^2 / (4 D)`` [day]."""
    return SPACING**2 / (4 * HEAT_D)


def _simulate_final(model, state, **options) -> tuple[np.ndarray, int]:
    res = ct.simulate(model, state, HEAT_T_END, save_every=HEAT_T_END, progress=False, **options)
    return res.field("u")[-1], int(res.solver_stats["steps"])


def _continuum_configs(limit: float) -> list[tuple[str, dict]]:
    configs = [
        (f"euler dt=limit/{k}", {"method": "euler", "dt": limit / k}) for k in (1, 2, 4, 8, 16, 32)
    ]
    configs += [("explicit dt=limit", {"method": "explicit", "dt": limit})]
    configs += [
        (f"explicit rtol={r:g}", {"method": "explicit", "rtol": r, "atol": 1e-8})
        for r in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
    ]
    configs += [
        (f"imex dt=limit*{k:g}", {"method": "imex", "dt": limit * k}) for k in (16, 4, 1, 0.25)
    ]
    configs += [
        (f"imex rtol={r:g}", {"method": "imex", "rtol": r, "atol": 1e-8})
        for r in (1e-2, 1e-3, 1e-4)
    ]
    return configs


def _time_continuum(model, state, options, reference, repeats) -> dict:
    final, steps = _simulate_final(model, state, **options)  # warm-up (compile / cache load)
    walls = [timed(lambda: _simulate_final(model, state, **options)) for _ in range(repeats)]
    return {
        "library": "continuum",
        **{k: v for k, v in options.items()},
        "steps": steps,
        "wall_s": statistics.median(walls),
        "max_error": float(np.max(np.abs(final - reference))),
    }


def _pypde_heat_run(pde, u0, solver, dt, repeats) -> dict:
    """Compile once (reported), then time runs from a fresh copy of ``u0``."""
    grid = _pypde_grid(pde, HEAT_N)
    field = pde.ScalarField(grid, u0.copy())
    t0 = perf_counter()
    stepper = solver.make_stepper(field, dt=dt)
    stepper(field, 0.0, HEAT_T_END)
    first = perf_counter() - t0
    walls = []
    for _ in range(repeats):
        field = pde.ScalarField(grid, u0.copy())
        solver.info["dt"] = dt
        steps = solver.info["steps"]
        walls.append(timed(lambda field=field: stepper(field, 0.0, HEAT_T_END)))
    return {
        "field": field.data,
        "steps": solver.info["steps"] - steps,
        "wall_s": statistics.median(walls),
        "make_stepper_and_first_run_s": first,
    }


def _time_pypde(u0, reference, repeats) -> list[dict]:
    """py-pde's fixed-step and adaptive Euler on the same heat problem."""
    pde = _import_pde()
    if pde is None:
        return [{"library": "py-pde", "status": "not installed"}]
    from pde.solvers import EulerSolver

    limit = heat_limit()
    eq = pde.DiffusionPDE(diffusivity=HEAT_D, bc="auto_periodic_neumann")
    configs = [(f"euler dt=limit/{k}", False, limit / k, None) for k in (1, 32)]
    configs += [(f"euler adaptive tol={tol:g}", True, limit, tol) for tol in (1e-5, 1e-6)]
    rows = []
    for label, adaptive, dt, tol in configs:
        log(f"time to accuracy: py-pde {label}")
        options = {"adaptive": adaptive} | ({"tolerance": tol} if adaptive else {})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = _pypde_heat_run(pde, u0, EulerSolver(eq, **options), dt, repeats)
        field = run.pop("field")
        rows.append(
            {
                "library": "py-pde",
                "config": label,
                "method": "euler",
                "dt": dt,
                **({"tolerance_abs": tol} if adaptive else {}),
                **run,
                "max_error": float(np.max(np.abs(field - reference))),
            }
        )
    return rows


def _fastest_within(rows: list[dict], target: float) -> dict:
    """Per library and method: the quickest run whose error meets ``target``."""
    best: dict[str, dict] = {}
    for row in rows:
        if "max_error" not in row or row["max_error"] > target:
            continue
        key = f"{row['library']} {row['method']}" + (
            " adaptive" if "rtol" in row or "tolerance_abs" in row else " fixed"
        )
        if key not in best or row["wall_s"] < best[key]["wall_s"]:
            best[key] = {
                "config": row["config"],
                "wall_s": row["wall_s"],
                "max_error": row["max_error"],
            }
    return dict(sorted(best.items(), key=lambda item: item[1]["wall_s"]))


def time_to_accuracy(repeats: int, wait: float) -> dict:
    """Wall time and error of each method on the 2D heat problem."""
    model, state, u0 = heat_problem()
    limit = heat_limit()
    record = {
        "problem": f"2D heat, D={HEAT_D} mm^2/day, {HEAT_N}x{HEAT_N} cells, h={SPACING} mm, "
        f"Gaussian sigma={HEAT_SIGMA} mm, t_end={HEAT_T_END} day, no-flux",
        "euler_limit_day": limit,
        "error_measure": "max |u - u_ref| over the grid at t_end, relative to max u0 = 1",
        "wall_time": f"median of {repeats} in-process runs after one warm-up run; "
        "continuum: the whole ct.simulate call (solver set-up included, compiled code "
        "already loaded); py-pde: its compiled stepper only, compiled once per "
        "configuration (make_stepper_and_first_run_s) and timed on fresh data",
    }
    log("time to accuracy: reference")
    reference, _ = _simulate_final(model, state, method="explicit", dt=limit / 32)
    check, _ = _simulate_final(model, state, method="explicit", dt=limit / 16)
    record["reference"] = {
        "method": "explicit (SSP-RK(4,3)) fixed dt=limit/32",
        "max_diff_vs_dt_limit_over_16": float(np.max(np.abs(check - reference))),
    }
    rows = []
    record["continuum"] = {}
    with measured_section(record["continuum"], wait):
        for label, options in _continuum_configs(limit):
            log(f"time to accuracy: continuum {label}")
            rows.append(
                {"config": label, **_time_continuum(model, state, options, reference, repeats)}
            )
    record["pypde"] = {}
    with measured_section(record["pypde"], wait):
        rows += _time_pypde(u0, reference, repeats)
    record["runs"] = rows
    record["fastest_within"] = {f"{t:g}": _fastest_within(rows, t) for t in ERROR_TARGETS}
    return record


# -- driver ------------------------------------------------------------------------------
def assumptions(args) -> dict:
    return {
        "problem": "du/dt = D lap u + rho u (1-u), no-flux (mirrored ghost cells), "
        f"D={DIFFUSIVITY} mm^2/day, rho={GROWTH_RATE} /day, h={SPACING} mm, "
        f"dt = {CFL} h^2/(4D) = {euler_dt():.6g} day, u0 uniform random in [0,1) (seed 0)",
        "bytes_per_update": BYTES_UPDATE,
        "bytes_per_update_with_write_allocate": BYTES_UPDATE_WA,
        "bytes_rule": "forward Euler reads u once and writes u_new once (neighbour rows "
        "are reused from cache); write-allocate adds one read of u_new's line. The "
        "roofline fraction compares 16 B/update with STREAM triad at 24 B/element (both "
        "without write-allocate); fraction_incl_write_allocate compares 24 with 32",
        "cache_note": "the working set (u and u_new, 16 B/cell) is 1, 4, 16, 64 MiB at "
        "N=256..2048; only sizes well beyond the last-level cache are bound by DRAM",
        "timing": f"median of {args.repeats} timed runs of about {TARGET_SECONDS} s each "
        f"after {CHECK_STEPS} warm-up steps (compilation / cache load excluded); "
        "py-pde timed through its compiled stepper (compiled once per size)",
        "pypde_threads": "py-pde's Laplacian uses prange for >= 256^2 cells unless it "
        "detects an HPC batch system; the custom right-hand side follows the same rule",
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="grid sizes N (N x N cells)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement")
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat, no starts")
    parser.add_argument(
        "--expression-sizes",
        type=int,
        nargs="*",
        default=[512],
        help="sizes at which py-pde's expression PDE is timed too (compiling it takes ~10 s)",
    )
    parser.add_argument("--skip-starts", action="store_true", help="skip cold/warm start runs")
    parser.add_argument("--skip-accuracy", action="store_true", help="skip time to accuracy")
    parser.add_argument(
        "--wait",
        type=float,
        default=120.0,
        help="seconds to wait before each section for other processes to go idle",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
        args.sizes = args.sizes or list(QUICK_SIZES)
    args.sizes = args.sizes or list(DEFAULT_SIZES)
    args.solve_api = not args.quick
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    t_start = time.time()
    stamp = source_stamp()
    report: dict = {"machine": machine_info()}
    log("STREAM triad")
    report["stream"] = stream = {}
    with measured_section(stream, args.wait):
        stream.update(stream_triad(STREAM_ELEMENTS // 8 if args.quick else STREAM_ELEMENTS))
    report["stencil"] = [bench_size(n, stream, args) for n in args.sizes]
    if not (args.quick or args.skip_starts):
        report["start_times"] = start_times(args.wait)
    if not args.skip_accuracy:
        report["time_to_accuracy"] = time_to_accuracy(1 if args.quick else 3, args.wait)
    report["assumptions"] = assumptions(args)
    report["assumptions"]["continuum_sources_changed_during_run"] = source_stamp() != stamp
    report["total_wall_s"] = round(time.time() - t_start, 1)
    report["machine"]["numba_threading_layer"] = numba.threading_layer()
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    log(f"done in {report['total_wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
