"""Sobol sensitivity indices of an output over a Saltelli design (SALib), and the checks
that say whether a sample is a Saltelli design and whether its indices can be trusted.

:func:`continuum.ensemble.design` draws the design (``"saltelli"``),
:func:`continuum.ensemble.summary_sensitivity` applies :func:`sensitivity` to a sweep.
"""

from __future__ import annotations

import math

import numpy as np


def sensitivity(samples: list[dict], values, ranges: dict, level: float = 0.95) -> dict:
    """First-order and total Sobol indices of an output over the varied keys.

    ``samples`` must be the ``"saltelli"`` design over ``ranges`` (in its order) and
    ``values`` the output of each sample. Returns ``{key: {"S1", "S1_conf", "ST",
    "ST_conf"}}`` (confidence half-widths at ``level``, by bootstrap; SALib).
    """
    from SALib.analyze import sobol

    keys = list(ranges)
    values = np.asarray(values, dtype=float)
    if values.shape != (len(samples),):
        raise ValueError(f"values: got shape {values.shape}; one per sample ({len(samples)})")
    problem = {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}
    result = sobol.analyze(
        problem, values, calc_second_order=False, conf_level=level, print_to_console=False, seed=0
    )
    return {
        key: {
            "S1": float(result["S1"][i]),
            "S1_conf": float(result["S1_conf"][i]),
            "ST": float(result["ST"][i]),
            "ST_conf": float(result["ST_conf"][i]),
        }
        for i, key in enumerate(keys)
    }


def is_saltelli(samples: list[dict], keys: list[str]) -> bool:
    """Whether ``samples`` have the structure of :func:`design`'s ``"saltelli"`` (first
    order): blocks of ``d + 2`` rows ``A, AB_1, ..., AB_d, B`` where ``AB_i`` is ``A``
    with its ``i``-th value from ``B``."""
    d = len(keys)
    if d == 0 or not samples or len(samples) % (d + 2):
        return False
    try:
        x = np.array([[float(s[k]) for k in keys] for s in samples]).reshape(-1, d + 2, d)
    except (KeyError, TypeError, ValueError):
        return False
    first, last = x[:, 0], x[:, -1]
    for i in range(d):
        expected = first.copy()
        expected[:, i] = last[:, i]
        if not np.array_equal(x[:, 1 + i], expected):
            return False
    return True


def sensitivity_warnings(indices: dict, members: int | None = None) -> list[str]:
    """What makes Sobol indices untrustworthy: an index outside [0, 1] by more than its
    interval (the estimate is inconsistent), or outside [0, 1] at all or with intervals
    wider than 0.1 (the sample is too small). Empty when they look sound."""
    notes = []
    inconsistent, loose = [], []
    widest = 0.0
    for key, value in indices.items():
        for name in ("S1", "ST"):
            index, half = value[name], value[f"{name}_conf"]
            text = f"{name}({key}) = {index:.3g} ± {half:.3g}"
            if not (math.isfinite(index) and math.isfinite(half)):
                inconsistent.append(text)
                continue
            widest = max(widest, half)
            if index - half > 1.0 or index + half < 0.0:
                inconsistent.append(text)
            elif index > 1.0 or index < 0.0:
                loose.append(text)
    size = f" ({members} members)" if members else ""
    if inconsistent:
        notes.append(
            f"{', '.join(inconsistent)} lies outside [0, 1] beyond its interval: the sample"
            f"{size} is too small; use a larger saltelli:N"
        )
    if loose or widest > 0.1:
        shown = f"{', '.join(loose)} outside [0, 1]; " if loose else ""
        notes.append(
            f"{shown}intervals up to ± {widest:.2g}: the sample{size} is too small for "
            "precise indices; use a larger saltelli:N"
        )
    return notes


def sensitivity_table(indices: dict) -> str:
    """The indices of :func:`sensitivity` as an aligned text table."""
    width = max(len(key) for key in indices)
    lines = [f"{'parameter':<{width}}  {'S1':>16}  {'ST':>16}"]
    for key, value in indices.items():
        first = f"{value['S1']:.3f} ± {value['S1_conf']:.3f}"
        total = f"{value['ST']:.3f} ± {value['ST_conf']:.3f}"
        lines.append(f"{key:<{width}}  {first:>16}  {total:>16}")
    return "\n".join(lines)
