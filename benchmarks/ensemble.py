"""Ensemble throughput: a lumped virtual cohort on Dask, 1 and 2 local workers.

Members are the scenario ``examples/lumped_patient.toml`` (ten years, five sites,
resection and adjuvant therapy) with the growth rate and the bone affinity drawn by Latin
hypercube; each writes its run file. Prints JSON: members per second for each worker
count, the scaling efficiency of 2 workers (speed-up / 2), the mean member time measured
inside the workers, and Dask's overhead (wall time x workers / summed member time - 1).
A second pass with members that each run about a second (a 192² Fisher-KPP scenario)
measures the overhead the target speaks of (< 10 % for members of >= 1 s).

    python benchmarks/ensemble.py [--members 1000] [--repeats 3] [--slow-members 40]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLOW = """
[grid]
shape = [192, 192]
spacing = 0.05
[model]
name = "FisherKPP"
parameters = { diffusivity = 0.05, growth_rate = 0.5 }
[initial]
u = { shape = "disk", radius = 0.5, value = 1.0 }
[run]
t_end = 60.0
save_every = 10.0
"""


def sweep(scenario, samples, workers):
    from distributed import Client, LocalCluster

    from continuum import ensemble

    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )
    client = Client(cluster)
    # warm the workers (imports and compiled kernels from the disk cache)
    warm = Path(tempfile.mkdtemp())
    ensemble.run(scenario, samples[:workers], warm, client, progress=False)
    out = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    summary = ensemble.run(scenario, samples, out, client, progress=False)
    wall = time.perf_counter() - started
    client.close()
    cluster.close()
    member_seconds = sum(row["seconds"] for row in summary.rows)
    shutil.rmtree(out)
    shutil.rmtree(warm)
    assert not summary.failed, summary.failed[:1]
    return wall, member_seconds


def measure(scenario, samples, repeats):
    results = {}
    for workers in (1, 2):
        walls, sums = [], []
        for _ in range(repeats):
            wall, member_seconds = sweep(scenario, samples, workers)
            walls.append(wall)
            sums.append(member_seconds)
        wall = statistics.median(walls)
        member_seconds = statistics.median(sums)
        results[workers] = {
            "wall_s": round(wall, 2),
            "members_per_s": round(len(samples) / wall, 1),
            "mean_member_s": round(member_seconds / len(samples), 4),
            "dask_overhead": round(wall * workers / member_seconds - 1.0, 3),
        }
    speedup = results[1]["wall_s"] / results[2]["wall_s"]
    return {
        "members": len(samples),
        "workers": results,
        "speedup_2_workers": round(speedup, 2),
        "efficiency_2_workers": round(speedup / 2.0, 2),
    }


def main():
    from continuum import ensemble

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--slow-members", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ranges = {"model.growth.a": (0.003, 0.006), "sites.3.affinity": (0.5, 3.0)}
    cohort = ensemble.design("lhs", args.members, ranges, seed=1)
    report = {
        "machine": f"{os.cpu_count()} cores",
        "cohort": measure(ROOT / "examples" / "lumped_patient.toml", cohort, args.repeats),
    }
    if args.slow_members:
        folder = Path(tempfile.mkdtemp())
        slow = folder / "slow.toml"
        slow.write_text(SLOW)
        rates = {"model.parameters.growth_rate": (0.3, 0.6)}
        samples = ensemble.design("lhs", args.slow_members, rates, seed=2)
        report["one_second_members"] = measure(slow, samples, args.repeats)
        shutil.rmtree(folder)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
