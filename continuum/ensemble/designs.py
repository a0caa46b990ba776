"""Ensemble designs: ranges of varied keys, sample designs, sample tables, member ids.

A sample is a dict of dotted-key overrides of a scenario (``{"model.growth.a": 0.005}``,
as ``continuum run --set`` takes them); a design is a list of samples.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path

import numpy as np

from continuum.validation import check_choice

DESIGNS = ("lhs", "sobol", "grid", "saltelli")


def parse_range(text: str) -> tuple[str, tuple]:
    """``"key=low:high"`` or ``"key=low:high:log"`` -> ``(key, (low, high, scale))``."""
    if "=" not in text or ":" not in text:
        raise ValueError(f"--vary: got {text!r}; use key=low:high or key=low:high:log")
    key, spec = (part.strip() for part in text.split("=", 1))
    parts = spec.split(":")
    scale = "linear"
    if len(parts) == 3:
        scale = parts.pop()
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"--vary {key}: got {spec!r}; low:high must be numbers") from None
    return key, _check_range(key, (low, high, scale))


def _check_range(key, bounds):
    low, high, *rest = bounds
    scale = rest[0] if rest else "linear"
    check_choice(f"{key} scale", scale, ("linear", "log"))
    if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ValueError(f"{key}: got the range {low:g} to {high:g}; it needs low < high")
    if scale == "log" and low <= 0:
        raise ValueError(f"{key}: a log range needs low > 0, got {low:g}")
    return float(low), float(high), scale


def design(kind: str, n: int, ranges: dict, seed: int = 0) -> list[dict]:
    """Samples ``[{key: value}, ...]`` over ``ranges = {key: (low, high[, "log"])}``.

    ``"lhs"``: ``n`` Latin-hypercube points; ``"sobol"``: ``n`` scrambled Sobol points
    (``scipy.stats.qmc``; a power of two balances them); ``"grid"``: ``n`` values per key,
    all combinations; ``"saltelli"``: Saltelli's ``n (2 d + 2)`` points for Sobol indices
    (SALib, with :func:`sensitivity`).
    """
    check_choice("design", kind, DESIGNS)
    if not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"design size: got {n!r}; a whole number >= 1")
    if not ranges:
        raise ValueError("ranges: give at least one key=low:high to vary")
    keys = list(ranges)
    bounds = [_check_range(k, ranges[k]) for k in keys]
    d = len(keys)
    if kind == "grid":
        axes = [np.linspace(0.0, 1.0, n) for _ in keys]
        unit = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    elif kind == "saltelli":
        from SALib.sample import sobol as saltelli

        problem = {"num_vars": d, "names": keys, "bounds": [[0.0, 1.0]] * d}
        unit = saltelli.sample(problem, int(n), calc_second_order=False, seed=seed)
    else:
        from scipy.stats import qmc

        sampler = qmc.LatinHypercube(d, seed=seed) if kind == "lhs" else qmc.Sobol(d, seed=seed)
        unit = sampler.random(int(n))
    return [
        {key: _scale(u, b) for key, u, b in zip(keys, row, bounds, strict=True)} for row in unit
    ]


def _scale(u, bounds):
    low, high, scale = bounds
    if scale == "log":
        return float(math.exp(math.log(low) + u * (math.log(high) - math.log(low))))
    return float(low + u * (high - low))


def read_samples(path) -> list[dict]:
    """Samples from a CSV file: a header of dotted keys, one member per row."""
    if Path(path).exists() and not Path(path).is_file():
        raise ValueError(f"samples: {str(path)!r} is a folder, not a CSV file")
    try:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"samples: {str(path)!r} is not a CSV text file ({error})") from None
    if not rows:
        raise ValueError(f"samples: {str(path)!r} has no rows")
    samples = []
    for i, row in enumerate(rows):
        try:
            if None in row or None in row.values():
                raise ValueError  # more or fewer values than the header names
            samples.append({k: float(v) for k, v in row.items()})
        except (TypeError, ValueError):
            raise ValueError(
                f"samples: row {i + 1} of {str(path)!r} holds a non-number or a missing value"
            ) from None
    return samples


def as_samples(samples) -> list[dict]:
    """A list of ``{key: value}`` from a list of dicts, a dict of columns ``{key:
    values}`` or a table with ``to_dict("records")`` (a pandas DataFrame)."""
    if hasattr(samples, "to_dict"):
        samples = samples.to_dict("records")
    elif isinstance(samples, dict):
        columns = {k: np.atleast_1d(v) for k, v in samples.items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"samples: columns of different lengths {sorted(lengths)}")
        count = lengths.pop() if lengths else 0
        samples = [{k: v[i].item() for k, v in columns.items()} for i in range(count)]
    return [dict(sample) for sample in samples]


def member_id(overrides: dict) -> str:
    """A stable id from a member's overrides (12 hex digits of a SHA-1)."""
    text = json.dumps({k: overrides[k] for k in sorted(overrides)}, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]
