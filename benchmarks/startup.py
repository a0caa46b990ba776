"""Cold and warm starts: what a user waits for before the first result.

Run from the repository root::

    python benchmarks/startup.py > startup.json
    python benchmarks/startup.py --repeats 5 --cases default-run fisher

Each case runs in a fresh interpreter (``subprocess``), first with an empty
``NUMBA_CACHE_DIR`` (**cold**: compilation included, as on a new machine, container or
CI runner), then again with the cache that run left (**warm**). Reported per case: the
medians over ``--repeats`` of the wall time of the whole process, of the seconds the run
spent in Numba compilation (``solver_stats["compile_seconds"]``, from Numba's compile
events) and of the import; the CPU seconds of the process; the load average before and
after (figures taken while other processes held the CPUs are not comparable).

Cases:

``default-run``
    ``continuum run`` (the default scenario: a breast-cancer patient's lumped primary,
    circulation and five sites over ten years; run file and picture) in a new folder.
``fisher``
    ``ct.simulate`` of Fisher-KPP on 64x64 cells of 50 um to 10 days with the default
    ``method="auto"`` (IMEX here: diffusion holds explicit steps 2e4 times below the
    growth time scale), and with ``method="explicit"`` (``fisher-explicit``).
``cascade``
    A cascade with a 32x32 invasion primary (``ct.models.Invasion`` with blood and lymph
    capillaries, default ``auto`` = IMEX for its stiff oxygen), five sites, 5 days.
``warm-up``
    ``continuum warm-up`` (all its targets, processes on every CPU), then the three runs
    above warm from its cache: what an install step or a container build pays once.

With ``--against OTHER_CHECKOUT``, each case instead runs cold in this checkout and in
the other one at the same time, each process pinned to its own CPU (swapped every
round), and the JSON gives both wall times per round and the median difference: the way
to compare two commits on a machine whose speed drifts. A process pinned to one CPU
starts no compile helper (``continuum.compile_ahead``): compare first IMEX runs without
``--against``, alternating the checkouts.

One JSON document goes to standard output; progress to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FISHER = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import numpy as np
    import continuum as ct
    t1 = time.perf_counter()
    grid = ct.Grid((64, 64), spacing=0.05)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    model = ct.models.FisherKPP(diffusivity=0.13, growth_rate=0.012)
    state = model.initial_state(grid, u=(np.hypot(x - 1.6, y - 1.6) < 0.5).astype(float))
    res = ct.simulate(model, state, 10.0, save_every=1.0, method=sys.argv[1], progress=False)
    stats = res.solver_stats
    print(json.dumps({"import_s": t1 - t0, "compile_s": stats["compile_seconds"],
                      "method": stats["method"], "steps": stats["steps"]}))
    """
)

CASCADE = textwrap.dedent(
    """
    import json, time
    t0 = time.perf_counter()
    import continuum as ct
    t1 = time.perf_counter()
    grid = ct.Grid((32, 32), 0.05)
    vessels = {
        "blood_vessels": ct.vessels.random_capillaries(grid, 0.3, seed=1, radius=0.03),
        "lymph_vessels": ct.vessels.random_capillaries(grid, 0.2, seed=2, radius=0.03),
    }
    primary = ct.models.Invasion(**vessels)
    sites = [ct.SecondarySite(name) for name in ("lymph_node", "lung", "liver", "bone", "brain")]
    model = ct.Cascade(primary, ct.Circulation(), sites, horizon=5.0)
    res = ct.simulate(model, model.initial_state(grid), 5.0, save_every=1.0, progress=False)
    stats = res.solver_stats
    print(json.dumps({"import_s": t1 - t0, "compile_s": stats["compile_seconds"],
                      "method": stats["method"], "steps": stats["steps"]}))
    """
)


def log(message: str) -> None:
    print(f"[startup] {message}", file=sys.stderr, flush=True)


CLI = "from continuum.cli import main; raise SystemExit(main())"


def _command(case: str) -> list[str]:
    if case == "default-run":
        return [sys.executable, "-c", CLI, "run"]
    if case == "fisher":
        return [sys.executable, "-c", FISHER, "auto"]
    if case == "fisher-explicit":
        return [sys.executable, "-c", FISHER, "explicit"]
    if case == "cascade":
        return [sys.executable, "-c", CASCADE]
    if case == "warm-up":
        return [sys.executable, "-c", CLI, "warm-up"]
    raise ValueError(f"case: got {case!r}")


def run_once(case: str, cache: str, root: Path = ROOT, cpu: int | None = None) -> dict:
    """One fresh interpreter running ``case`` with ``NUMBA_CACHE_DIR=cache``, importing
    continuum from the checkout ``root``, pinned to CPU ``cpu`` when given (its ``cpu_s``
    then counts every child of this process that ended meanwhile)."""
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": path}
    pin = None if cpu is None else lambda: os.sched_setaffinity(0, {cpu})
    with tempfile.TemporaryDirectory(prefix="startup-") as folder:
        before = os.times()
        t0 = time.perf_counter()
        out = subprocess.run(
            _command(case),
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
            check=False,
            preexec_fn=pin,
        )
        wall = time.perf_counter() - t0
        after = os.times()
    record = {
        "wall_s": wall,
        "cpu_s": (after.children_user - before.children_user)
        + (after.children_system - before.children_system),
    }
    if out.returncode != 0:
        record["error"] = out.stderr.strip().splitlines()[-3:]
        return record
    last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    if last.startswith("{"):
        record.update(json.loads(last))
    elif case == "default-run":  # "... steps in 10.8 s (10.1 s of it compiling, ...)"
        first = out.stdout.splitlines()[0]
        record["summary"] = first
        if "of it compiling" in first:
            record["compile_s"] = float(first.rsplit("(", 1)[1].split(" s of it")[0])
        else:
            record["compile_s"] = 0.0
    return record


def _median(runs: list[dict], key: str):
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else None


def measure(case: str, repeats: int) -> dict:
    cold, warm = [], []
    for k in range(repeats):
        log(f"{case}: run {k + 1} of {repeats}")
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            cold.append(run_once(case, cache))
            warm.append(run_once(case, cache))
    return {
        "cold": {key: _median(cold, key) for key in ("wall_s", "cpu_s", "compile_s", "import_s")},
        "warm": {key: _median(warm, key) for key in ("wall_s", "cpu_s", "compile_s", "import_s")},
        "runs": {"cold": cold, "warm": warm},
    }


def paired(case: str, repeats: int, other: Path) -> dict:
    """Cold runs of this checkout and of ``other`` at the same time, each pinned to its own
    CPU and the two CPUs swapped every round: both see the same machine, which on a
    shared VM drifts by tens of percent within minutes."""
    cpus = sorted(os.sched_getaffinity(0))[:2]
    if len(cpus) < 2:
        raise SystemExit("--against needs two CPUs")
    rounds = []
    with ThreadPoolExecutor(2) as pool:
        for k in range(repeats):
            log(f"{case}: paired run {k + 1} of {repeats}")
            mine, theirs = (cpus[0], cpus[1]) if k % 2 == 0 else (cpus[1], cpus[0])
            with (
                tempfile.TemporaryDirectory(prefix="numba-cache-") as cache,
                tempfile.TemporaryDirectory(prefix="numba-cache-") as other_cache,
            ):
                this_run = pool.submit(run_once, case, cache, ROOT, mine)
                other_run = pool.submit(run_once, case, other_cache, other, theirs)
                rounds.append({"this": this_run.result(), "other": other_run.result()})
    this_wall = [r["this"]["wall_s"] for r in rounds]
    other_wall = [r["other"]["wall_s"] for r in rounds]
    differences = [a - b for a, b in zip(this_wall, other_wall, strict=True)]
    return {
        "this_cold_wall_s": this_wall,
        "other_cold_wall_s": other_wall,
        "median_difference_s": statistics.median(differences),
        "runs": rounds,
    }


def after_warm_up(repeats: int) -> dict:
    """``continuum warm-up`` into an empty cache, then each run with that cache."""
    runs = []
    for k in range(repeats):
        log(f"warm-up: run {k + 1} of {repeats}")
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            record = {"warm-up": run_once("warm-up", cache)}
            for case in ("default-run", "fisher", "cascade"):
                record[case] = run_once(case, cache)
            runs.append(record)
    keys = runs[0].keys()
    return {
        "wall_s": {key: statistics.median(r[key]["wall_s"] for r in runs) for key in keys},
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--cases", nargs="*", default=["default-run", "fisher", "fisher-explicit", "cascade"]
    )
    parser.add_argument("--skip-warm-up", action="store_true")
    parser.add_argument(
        "--against",
        type=Path,
        help="another checkout: cold runs of both at once, one CPU each (see paired())",
    )
    args = parser.parse_args()
    import numba

    report = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numba": numba.__version__,
            "load_before": os.getloadavg(),
        },
        "revision": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
        "repeats": args.repeats,
    }
    if args.against is not None:
        report["against"] = str(args.against)
        for case in args.cases:
            report[case] = paired(case, args.repeats, args.against.resolve())
        args.skip_warm_up = True
    else:
        for case in args.cases:
            report[case] = measure(case, args.repeats)
    if not args.skip_warm_up:
        report["after_warm_up"] = after_warm_up(args.repeats)
    report["machine"]["load_after"] = os.getloadavg()
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
