"""Throughput on a busy machine: Fisher-KPP forward Euler, idle and beside other processes.

Run from the repository root::

    python benchmarks/busy.py > busy.json            # 512 and 256, idle / spin / numba
    python benchmarks/busy.py --quick > quick.json   # 256 only, idle / spin, 3 repeats

For each grid size and each *load*, the script starts the load itself, runs every
*setting* in a fresh interpreter (the OpenMP wait policy is read once per process), and
stops the load again. Loads:

``idle``
    nothing started (other users' processes are measured, see ``background``).
``spin``
    one busy-looping Python process: one core of the two taken.
``numba``
    another program's parallel Numba loop on two threads with OpenMP's default wait
    policy (what a neighbour running Numba code does: it spins at its barriers).

Settings (continuum through ``ct.simulate``, 10 frames per timed run, so the thread
governor looks at the machine as a real run does):

``continuum``              the library's defaults (short spin, threads from the free cores)
``continuum_before``       the behaviour before: OpenMP's default spin (``GOMP_SPINCOUNT``
                           300000, libgomp's default) and all threads, ``threads=2``
``continuum_spin_auto``    default spin, threads from the free cores
``continuum_short_spin_2`` short spin (``GOMP_SPINCOUNT=1000``), ``threads=2`` fixed: a load
                           that starts between two frames, before the governor sees it
``continuum_passive_2``    ``OMP_WAIT_POLICY=PASSIVE``, ``threads=2`` fixed
``continuum_1``            ``threads=1``
``continuum_workqueue``    Numba's ``workqueue`` threading layer, ``threads=2``
``numpy``                  plain NumPy, one thread (``stencil.NumpyFisher``)
``py-pde``                 py-pde's compiled Euler stepper as users get it (libgomp's
                           default spin), when py-pde is installed

Per (size, load, setting) the JSON holds the median G cell-updates/s of ``--repeats``
timed runs, their spread, the slowdown against the idle figure of the same setting, and
``background``: the CPU share of processes other than the measured one (the load
included), the load average, and other users' share measured before the load started.
A timed run is cut after ``--max-seconds`` (its rate still counts the steps it made).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from time import perf_counter

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SPIN_DEFAULT = {"GOMP_SPINCOUNT": "300000"}  # libgomp's own default, spelled out
SETTINGS = {
    "continuum": ({}, None),
    "continuum_before": (SPIN_DEFAULT, 2),
    "continuum_spin_auto": (SPIN_DEFAULT, None),
    "continuum_short_spin_2": ({}, 2),
    "continuum_passive_2": ({"OMP_WAIT_POLICY": "PASSIVE"}, 2),
    "continuum_1": ({}, 1),
    "continuum_workqueue": ({"NUMBA_THREADING_LAYER": "workqueue"}, 2),
    "numpy": ({}, None),
    "py-pde": (SPIN_DEFAULT, None),
}
LOADS = ("idle", "spin", "numba")
FRAMES = 10  # frames per timed continuum run
IDLE_RATE = {"continuum": 3e9, "numpy": 0.25e9, "py-pde": 0.6e9}  # updates/s, to size runs
RUN_SECONDS = 0.4  # length of a timed run on an idle machine


def log(message: str) -> None:
    print(f"[busy] {message}", file=sys.stderr, flush=True)


# -- loads -------------------------------------------------------------------------------
SPIN = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end:\n    pass\n"
NUMBA = """
import time
import numpy as np
from numba import njit, prange

@njit(parallel=True)
def sweep(a, b):
    for i in prange(a.shape[0]):
        b[i] = 0.5 * a[i] + 1.0

a = np.ones(200_000)
b = np.empty_like(a)
sweep(a, b)
end = time.monotonic() + {s}
while time.monotonic() < end:
    sweep(a, b)
"""


def start_load(kind: str, seconds: float) -> list[subprocess.Popen]:
    """Start the background load ``kind`` for at most ``seconds``; returns its processes."""
    if kind == "idle":
        return []
    code = {"spin": SPIN, "numba": NUMBA}[kind].format(s=seconds)
    env = {**os.environ, "NUMBA_NUM_THREADS": "2", **SPIN_DEFAULT}  # as a neighbour runs
    env.pop("OMP_WAIT_POLICY", None)
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    time.sleep(3.0 if kind == "numba" else 0.5)  # the numba load compiles first
    return [process]


def stop_load(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.kill()
        process.wait()


# -- one setting, in a fresh interpreter -------------------------------------------------
def _fisher(n: int):
    from stencil import SPACING, euler_dt, random_field

    return random_field(n), euler_dt(), SPACING


def worker_continuum(n: int, threads, repeats: int, max_seconds: float) -> list[float]:
    from stencil import DIFFUSIVITY, GROWTH_RATE

    import continuum as ct

    u0, dt, h = _fisher(n)
    model = ct.models.FisherKPP(diffusivity=DIFFUSIVITY, growth_rate=GROWTH_RATE)
    state = model.initial_state(ct.Grid((n, n), spacing=h), u=u0)
    steps = max(FRAMES, round(RUN_SECONDS * IDLE_RATE["continuum"] / n**2 / FRAMES) * FRAMES)

    def run() -> float:
        start = perf_counter()
        result = ct.simulate(
            model,
            state,
            steps * dt,
            save_every=steps * dt / FRAMES,
            method="euler",
            dt=dt,
            threads=threads,
            progress=False,
            callback=lambda t, s: perf_counter() - start > max_seconds,
        )
        return n * n * result.solver_stats["steps"] / (perf_counter() - start)

    ct.simulate(model, state, 2 * dt, method="euler", dt=dt, progress=False)  # compile/load
    return [run() for _ in range(repeats)]


def worker_numpy(n: int, repeats: int, max_seconds: float) -> list[float]:
    from stencil import NumpyFisher

    u0, dt, _ = _fisher(n)
    stepper = NumpyFisher(u0, dt)
    steps = max(1, round(RUN_SECONDS * IDLE_RATE["numpy"] / n**2))
    rates = []
    for _ in range(repeats):
        start, done = perf_counter(), 0
        while done < steps and perf_counter() - start < max_seconds:
            done += stepper.run(1)
        rates.append(n * n * done / (perf_counter() - start))
    return rates


def worker_pypde(n: int, repeats: int, max_seconds: float) -> list[float] | None:
    from stencil import (
        DIFFUSIVITY,
        GROWTH_RATE,
        _import_pde,
        _pypde_fisher,
        _pypde_grid,
        pypde_euler_stepper,
    )

    pde = _import_pde()
    if pde is None:
        return None
    u0, dt, _ = _fisher(n)
    eq = _pypde_fisher(pde, DIFFUSIVITY, GROWTH_RATE)
    field = pde.ScalarField(_pypde_grid(pde, n), u0.copy())
    stepper, solver = pypde_euler_stepper(pde, eq, field, dt)
    t = stepper(field, 0.0, dt)
    chunk = max(1, round(RUN_SECONDS * IDLE_RATE["py-pde"] / n**2 / FRAMES))
    rates = []
    for _ in range(repeats):
        start, done = perf_counter(), 0
        while done < FRAMES * chunk and perf_counter() - start < max_seconds:
            before = solver.info["steps"]
            t = stepper(field, t, t + chunk * dt)
            done += solver.info["steps"] - before
        rates.append(n * n * done / (perf_counter() - start))
    return rates


def worker(setting: str, n: int, repeats: int, max_seconds: float) -> dict:
    """Rates of one setting in this interpreter, with the CPU share others took."""
    from stencil import CpuMeter

    _, threads = SETTINGS[setting]
    meter = None
    if setting == "numpy":
        meter = CpuMeter()
        rates = worker_numpy(n, repeats, max_seconds)
    elif setting == "py-pde":
        rates = worker_pypde(n, repeats, max_seconds)  # compiles first: meter after
    else:
        rates = worker_continuum(n, threads, repeats, max_seconds)
    if rates is None:
        return {"skipped": "py-pde not installed"}
    import numba

    out = {
        "G_updates_per_s": round(statistics.median(rates) / 1e9, 4),
        "G_updates_per_s_min": round(min(rates) / 1e9, 4),
        "G_updates_per_s_max": round(max(rates) / 1e9, 4),
        "repeats": len(rates),
        "threading_layer": numba.threading_layer() if setting != "numpy" else None,
    }
    if meter is not None:
        out["background_during"] = meter.read()
    return out


def run_setting(setting: str, n: int, repeats: int, max_seconds: float) -> dict:
    """:func:`worker` in a fresh interpreter with the setting's environment."""
    from stencil import CpuMeter

    env = {**os.environ, **SETTINGS[setting][0]}
    for name in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY"):  # only the setting's own
        if name not in SETTINGS[setting][0]:
            env.pop(name, None)
    command = [sys.executable, __file__, "--worker", setting, str(n), str(repeats)]
    command.append(str(max_seconds))
    meter = CpuMeter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    background = meter.read()  # the worker is a child: its CPU counts as own
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1:]}
    out = json.loads(done.stdout)
    out.setdefault("background_during", background)
    out["background_during"]["loadavg_1min"] = round(os.getloadavg()[0], 2)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 256])
    parser.add_argument("--loads", nargs="+", default=list(LOADS), choices=LOADS)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=5.0)
    parser.add_argument("--wait", type=float, default=60.0, help="wait for other users [s]")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        setting, n, repeats, max_seconds = args.worker
        print(json.dumps(worker(setting, int(n), int(repeats), float(max_seconds))))
        return
    if args.quick:
        args.sizes, args.loads, args.repeats = [256], ["idle", "spin"], 3
    from stencil import machine_info, wait_until_quiet

    results = {"machine": machine_info(), "cases": {}}
    for n in args.sizes:
        for load in args.loads:
            quiet = wait_until_quiet(args.wait)
            log(f"N = {n}, load {load} (others before: {quiet['other_cpu_fraction_before']})")
            processes = start_load(load, 3600)
            try:
                case = {"others_before_load": quiet}
                for setting in args.settings:
                    case[setting] = run_setting(setting, n, args.repeats, args.max_seconds)
                    log(f"  {setting}: {case[setting].get('G_updates_per_s')} G/s")
            finally:
                stop_load(processes)
            results["cases"][f"{n}/{load}"] = case
    for key, case in results["cases"].items():
        n, load = key.split("/")
        idle = results["cases"].get(f"{n}/idle", {})
        for setting, entry in case.items():
            base = idle.get(setting, {}).get("G_updates_per_s")
            rate = entry.get("G_updates_per_s") if isinstance(entry, dict) else None
            if load != "idle" and base and rate:
                entry["slowdown_vs_idle"] = round(base / rate, 2)
    print(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
