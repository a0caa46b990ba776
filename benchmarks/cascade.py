"""Cascade benchmarks: virtual patients per second, and the Iwata model to 2000 days.

Run from the repository root::

    python benchmarks/cascade.py > cascade.json
    python benchmarks/cascade.py --repeats 9 --cohorts 128 > cascade.json

**Patient-decades** (``lumped``): a lumped cascade simulated for 10 years (3650 days,
frames every 365 days) on one core (``numba.set_num_threads(1)``): a Gompertz primary from
1e6 cells (1 mm^3; ``a = 0.004 /day``, ``K = 1e12``) shedding 1e-5 cells per cell per day,
30 % into lymph; the default circulation (CTC clearance 10 /day, extravasation 0.5 /day,
node arrest 2 /day, lymph drainage 0.5 /day) with half of the blood-borne cells arrested
in the lungs on first pass; five sites (regional lymph node, lung, liver, bone, brain)
with the default seeding efficiency and dormancy (Luzzi et al. 1998), wake-up and death
of dormant cells (1e-3 /day each), Gompertz colonies (Iwata's law) seeding colonies at
``5.3e-8 s^(2/3)``.
Reported: the median wall time of ``--repeats`` runs after one untimed run (compilation
or cache loading, reported apart as ``first_run_s``), and patient-decades per second.
The target of the cascade issue is at least 100 per second.

**Defended patient-decades** (``defended``): the same patient with effector cells at every
site (``immunity="kuznetsov_1994"``), whose colonies then take the sites' ODE path
(Dormand-Prince 5(4) at rtol 1e-10 per stretch, ``continuum.kernels.colony_ode``) instead
of the closed-form characteristics; its cost beside the plain run.

**Iwata** (``iwata``): ``ct.models.Iwata()`` (hepatocellular carcinoma patient) to
t = 2000 days; wall time and the relative error of the number of colonies and of the
detectable ones (> 1e8 cells) against an independent solution of the renewal equation
``b(t) = beta(x_p(t)) + int_0^t b(tau) beta(X(t - tau)) dtau`` by the trapezoidal rule
(h = 0.25 day), for the default cohort width (horizon / 128) and for 5 days.

One JSON document goes to standard output; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from time import perf_counter

import numba
import numpy as np

import continuum as ct

DECADE = 3650.0
IWATA_END = 2000.0
SITES = ("lymph_node", "lung", "liver", "bone", "brain")


def lumped_cascade(cohorts: int, immunity=None) -> ct.Cascade:
    primary = ct.models.LumpedPrimary(
        growth={"law": "gompertz", "a": 0.004, "K": 1e12},
        mu=1e-5,
        alpha=1.0,
        lymph_fraction=0.3,
    )
    sites = [
        ct.SecondarySite(
            name, seeding=(5.3e-8, 2 / 3), wake=1e-3, dormant_death=1e-3, immunity=immunity
        )
        for name in SITES
    ]
    return ct.Cascade(
        primary,
        ct.Circulation(first_pass=("lung", 0.5)),
        sites,
        cohort_days=DECADE / cohorts,
        horizon=DECADE,
    )


def time_runs(model, state, t_end, save_every, repeats):
    start = perf_counter()
    result = ct.simulate(model, state, t_end, save_every=save_every)
    first = perf_counter() - start
    times = []
    for _ in range(repeats):
        start = perf_counter()
        result = ct.simulate(model, state, t_end, save_every=save_every)
        times.append(perf_counter() - start)
    return first, times, result


def gompertz(t, a=0.00286, b=7.3e10):
    return np.exp(np.log(b) * -np.expm1(-a * t))


def renewal_reference(t_end, h=0.25, m=5.3e-8, alpha=2 / 3, a=0.00286, b=7.3e10):
    """Colonies and detectable colonies of Iwata's model at ``t_end`` (trapezoidal rule)."""
    t = np.arange(round(t_end / h) + 1) * h
    kernel = m * gompertz(t) ** alpha
    births = np.zeros_like(t)
    births[0] = kernel[0]
    for i in range(1, len(t)):
        memory = h * (births[1:i] @ kernel[i - 1 : 0 : -1] + 0.5 * births[0] * kernel[i])
        births[i] = (kernel[i] + memory) / (1 - 0.5 * h * kernel[0])
    born = np.concatenate([[0], np.cumsum(0.5 * h * (births[1:] + births[:-1]))])
    age = -math.log1p(-math.log(1e8) / math.log(b)) / a
    return float(born[-1]), float(np.interp(t_end - age, t, born))


def revision() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cohorts", type=int, default=128, help="cohorts per site (lumped)")
    args = parser.parse_args()
    numba.set_num_threads(1)
    report = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "numba": numba.__version__,
            "threads": numba.get_num_threads(),
            "continuum_revision": revision(),
        }
    }
    print("lumped cascade, 10 years ...", file=sys.stderr)
    model = lumped_cascade(args.cohorts)
    state = model.initial_state(tumor_cells=1e6)
    first, times, result = time_runs(model, state, DECADE, 365.0, args.repeats)
    median = statistics.median(times)
    report["lumped"] = {
        "sites": len(SITES),
        "cohorts_per_site": model.n_cohorts,
        "cohort_days": model.cohort_days,
        "first_run_s": first,
        "median_s": median,
        "times_s": times,
        "patient_decades_per_s": 1.0 / median,
        "steps": result.solver_stats["steps"],
        "rejected": result.solver_stats["rejected"],
        "at_10_years": {
            "tumor_cells": float(result.series("tumor_cells")[-1]),
            "blood_ctc": float(result.series("blood_ctc")[-1]),
            **{
                f"{site}_colonies": float(result.series(f"sites/{site}/colonies")[-1])
                for site in SITES
            },
            "detectable": result.colony_count(DECADE, min_size=1e8),
        },
    }
    print("lumped cascade with effectors at every site, 10 years ...", file=sys.stderr)
    model = lumped_cascade(args.cohorts, immunity="kuznetsov_1994")
    first, times, result = time_runs(model, state, DECADE, 365.0, args.repeats)
    median = statistics.median(times)
    report["defended"] = {
        "first_run_s": first,
        "median_s": median,
        "times_s": times,
        "patient_decades_per_s": 1.0 / median,
        "slower_than_lumped": median / report["lumped"]["median_s"],
        "immune_killed_at_10_years": sum(
            float(result.series(f"sites/{site}/immune_killed")[-1]) for site in SITES
        ),
    }
    print("Iwata to 2000 days ...", file=sys.stderr)
    total, detectable = renewal_reference(IWATA_END)
    report["iwata"] = {"reference": {"colonies": total, "detectable": detectable}}
    for label, days in (("default_cohorts", None), ("cohort_days_5", 5.0)):
        model = ct.models.Iwata(horizon=IWATA_END, cohort_days=days)
        first, times, result = time_runs(
            model, model.initial_state(), IWATA_END, 100.0, args.repeats
        )
        report["iwata"][label] = {
            "cohort_days": model.cohort_days,
            "first_run_s": first,
            "median_s": statistics.median(times),
            "colonies_relative_error": result.colony_count(IWATA_END) / total - 1,
            "detectable_relative_error": result.colony_count(IWATA_END, 1e8) / detectable - 1,
        }
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
