"""Ensembles of a scenario on Dask: virtual cohorts, parameter sweeps, sensitivity.

A *member* is the scenario with some entries overridden (dotted keys, as ``continuum run
--set`` takes them: ``{"model.growth.a": 0.005, "sites.1.affinity": 2.0}``). Members run
on Dask distributed workers, each in its own process with Numba on one thread, and each
writes its own run file ``OUT_DIR/runs/<member id>.h5`` (the id is a hash of its
overrides), first under a temporary name and renamed when complete, so a killed sweep
never leaves a half-written file under a final name. The client alone writes the table
``OUT_DIR/summary.h5`` (and ``summary.csv``): one row per member with its parameters, its
status (``ok`` or the error) and summary outputs. Running the same sweep again skips the
members whose run files are complete and runs the others::

    samples = ct.ensemble.design("lhs", 100, {"model.growth.a": (0.002, 0.006)})
    summary = ct.ensemble.run("examples/lumped_patient.toml", samples, "cohort/")
    summary.column("sites/lung/detectable"), summary.failed

With no ``client``, a ``LocalCluster`` of ``workers`` processes (one thread each) starts
on this machine and stops at the end; pass a ``distributed.Client`` (or ``scheduler=``
an address) to use an existing cluster, e.g. one started by dask-jobqueue on SLURM.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import math
import os
import time
import traceback
from pathlib import Path

import numpy as np

from continuum.units import ctc_per_sample
from continuum.validation import check_choice

DESIGNS = ("lhs", "sobol", "grid", "saltelli")
STATUS_OK = "ok"


# -- designs --------------------------------------------------------------------------
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


# -- one member (runs on a worker) ----------------------------------------------------
def run_member(text: str, folder: str, overrides: dict, path: str, t_end) -> dict:
    """Run one member into ``path`` and return its row of outputs (never raises)."""
    import numba

    # Numba re-reads NUMBA_NUM_THREADS whenever it compiles, and refuses a value other
    # than the one its threads started with: keep the worker's environment saying 1.
    os.environ["NUMBA_NUM_THREADS"] = str(numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(1)
    started = time.perf_counter()
    row = {"id": Path(path).stem, "status": STATUS_OK, "seconds": 0.0}
    partial = Path(f"{path}.part")
    try:
        from continuum.scenario import Scenario

        scenario = Scenario.from_text(text, "member", folder, overrides)
        end = scenario.run_settings["t_end"] if t_end is None else t_end
        result = scenario.run(
            output=partial,
            t_end=end,
            overwrite=True,
            progress=False,
            checkpoint_every=end,  # one checkpoint, at the end: a member restarts whole
        )
        row.update(outputs(result))
        _check_member_file(partial, result.times)  # on disk as in memory, or it failed
        os.replace(partial, path)
    except Exception as error:  # the member fails alone: its error goes into the summary
        row["status"] = f"{type(error).__name__}: {error}".strip()
        row["traceback"] = traceback.format_exc(limit=4)
        partial.unlink(missing_ok=True)
    row["seconds"] = time.perf_counter() - started
    return row


def _check_member_file(path, times) -> None:
    """Read a member's file back: every frame of the run, its series and a checkpoint."""
    from continuum.io import RunFileError, open_run

    with open_run(path) as run_file:
        stored = np.asarray(run_file.times)
        if run_file.frames != len(times) or not np.array_equal(stored, times):
            raise RunFileError(
                f"{str(path)!r} holds {run_file.frames} frames to t = "
                f"{stored[-1] if len(stored) else math.nan:g} day; the run made {len(times)} "
                f"to t = {times[-1]:g} day"
            )
        if not run_file.attrs.get("checkpoint"):
            raise RunFileError(f"{str(path)!r} holds no checkpoint")
        outputs(run_file)


def outputs(run) -> dict:
    """A member's summary outputs: final tumour cells, peak circulating cells (blood and
    lymph; and the most in a 7.5 mL blood sample), removed cells, and per site colonies,
    detectable colonies and burden at the end and the time of the first detectable
    metastasis [day] (NaN if none)."""
    from continuum import analysis

    values = {}
    if "tumor_cells" in run.series_names:
        values["final_tumor_cells"] = float(run.series("tumor_cells")[-1])
    if "blood_ctc" in run.series_names:
        values["peak_ctc"] = float(np.max(analysis.circulating_cells(run)))
        values["peak_ctc_per_7.5mL"] = ctc_per_sample(float(np.max(run.series("blood_ctc"))))
    if "removed" in run.series_names:
        values["removed"] = float(run.series("removed")[-1])
    first = analysis.time_to_detection(run)
    for site in analysis.sites(run):
        series = analysis.site_series(run, site)
        for name in ("colonies", "detectable", "burden"):
            values[f"sites/{site}/{name}"] = float(series[name][-1])
        when = first[site]
        values[f"sites/{site}/first_detectable"] = math.nan if when is None else when
    return values


# -- the sweep ------------------------------------------------------------------------
class Summary:
    """The table of a sweep: one row per member (``rows``), parameters first."""

    def __init__(self, rows: list[dict], parameters: list[str], executed: int = 0):
        self.rows = rows
        self.parameters = parameters
        self.executed = executed  # members run by this call (the others were done)
        self.sample_ids: list[str] = []  # the member of each sample, in the design's order
        self.ranges: dict = {}  # the design's ranges, when the sweep was given them
        self.design: str = ""  # the design, e.g. "saltelli:64", when the sweep was given it
        self.rerun: list[str] = []  # members whose run files were damaged and ran again

    @property
    def columns(self) -> list[str]:
        names = ["id", *self.parameters, "status", "seconds"]
        for row in self.rows:
            names += [k for k in row if k not in names and k != "traceback"]
        return names

    def column(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise KeyError(f"column: got {name!r}; columns are {self.columns}")
        return np.array([row.get(name, math.nan) for row in self.rows])

    @property
    def failed(self) -> list[dict]:
        return [row for row in self.rows if row["status"] != STATUS_OK]

    def write(self, out_dir: Path) -> None:
        """``summary.h5`` (one dataset per column, strings for ids and status, ``/`` in
        a column's name stored as ``:``) and ``summary.csv``, each written under a
        temporary name and renamed."""
        import h5py

        columns = self.columns
        temporary = out_dir / "summary.h5.part"
        with h5py.File(temporary, "w") as handle:
            handle.attrs["parameters"] = json.dumps(self.parameters)
            handle.attrs["rows"] = len(self.rows)
            handle.attrs["sample_ids"] = json.dumps(self.sample_ids)
            handle.attrs["ranges"] = json.dumps(self.ranges)
            handle.attrs["design"] = self.design
            for name in columns:
                values = [row.get(name, math.nan) for row in self.rows]
                if name in ("id", "status"):
                    data = np.array([str(v) for v in values], dtype=h5py.string_dtype())
                else:
                    data = np.array(values, dtype=float)
                # "/" would make groups: "sites/lung/colonies" is stored as
                # "sites:lung:colonies", its name kept in the attribute "column"
                handle.create_dataset(name.replace("/", ":"), data=data).attrs["column"] = name
        os.replace(temporary, out_dir / "summary.h5")
        temporary = out_dir / "summary.csv.part"
        with open(temporary, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(temporary, out_dir / "summary.csv")


def run(
    scenario,
    samples: list[dict],
    out_dir,
    client=None,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    t_end: float | None = None,
    progress: bool | None = None,
    ranges: dict | None = None,
    design: str | None = None,
) -> Summary:
    """Run every member of ``samples`` (dicts of dotted-key overrides) of ``scenario``
    (a path or a :class:`~continuum.Scenario`) and write ``out_dir``; see the module.
    ``ranges`` and ``design`` (e.g. ``"saltelli:64"``) are stored with the summary for
    :func:`summary_sensitivity`.

    Before any member runs (and before a cluster starts), keys that no member can take
    are refused: a sweep whose every member is an invalid scenario, and a growth-law
    parameter the law does not use (``model.growth.b`` on a Gompertz law). A member's
    run file from an earlier call counts as done only if it reads back whole and ends at
    this sweep's ``t_end``; otherwise the member runs again (``Summary.rerun``).
    """
    from continuum.scenario import Scenario, load_scenario

    if client is None and scheduler is None:
        if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
            raise ValueError(f"workers: got {workers!r}; give at least 1 local worker process")
    if t_end is not None:
        if isinstance(t_end, bool) or not isinstance(t_end, int | float | np.integer | np.floating):
            raise ValueError(f"t_end: got {t_end!r}; a number of days is required")
        if not (math.isfinite(t_end) and t_end > 0):
            raise ValueError(f"t_end: got {t_end!r}; a finite number of days > 0 is required")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    samples = as_samples(samples)
    if not samples:
        raise ValueError("samples: the ensemble has no members")
    parameters = sorted({k for s in samples for k in s})
    _check_keys(scenario, samples)
    out_dir = Path(out_dir)
    (out_dir / "runs").mkdir(parents=True, exist_ok=True)
    members = {}
    for sample in samples:
        members.setdefault(member_id(sample), sample)
    ends = {key: _end(scenario, sample, t_end) for key, sample in members.items()}
    rows, damaged = _previous_rows(out_dir, members, ends)
    todo = [key for key in members if key not in rows]
    summary = Summary([], parameters)
    summary.sample_ids = [member_id(sample) for sample in samples]
    summary.ranges = {k: list(v) for k, v in (ranges or {}).items()}
    summary.design = design or ""
    summary.rerun = [key for key in members if key in damaged]
    summary.rows = [rows[k] for k in members if k in rows]
    own_client = None
    try:
        if todo:
            if client is None:
                own_client = client = _client(scheduler, workers)
            summary.executed = len(todo)
            _execute(client, scenario, members, todo, out_dir, t_end, summary, progress)
    finally:  # also on Ctrl-C: stop the cluster, keep the members that finished
        try:
            _close(own_client)
        finally:
            summary.rows = sorted(summary.rows, key=lambda row: list(members).index(row["id"]))
            summary.write(out_dir)
    return summary


def _close(client) -> None:
    if client is None:
        return
    cluster = client.cluster  # None when connected to a scheduler's address
    client.close()
    if cluster is not None:
        cluster.close()


def _end(scenario, sample, t_end) -> float:
    """The end of a member's run [day]: ``t_end``, its ``run.t_end`` or the scenario's."""
    if t_end is not None:
        return float(t_end)
    try:
        return float(sample.get("run.t_end", scenario.run_settings["t_end"]))
    except (TypeError, ValueError):
        return math.nan


# the parameters each growth law of LumpedPrimary reads (continuum/kernels/lumped.py)
GROWTH_LAW_PARAMETERS = {
    "exponential": ("a",),
    "logistic": ("a", "K"),
    "gompertz": ("a", "K"),
    "bertalanffy": ("a", "gamma", "b"),
    "power": ("a", "gamma"),
    "exponential_linear": ("a", "a1"),
}


def _check_keys(scenario, samples) -> None:
    """Refuse, before any work, keys no member can take: growth-law parameters the law
    ignores, and a sweep whose every member is an invalid scenario (a misspelled key).
    A bad value fails its member alone."""
    from continuum.scenario import Scenario, ScenarioError

    keys = sorted({k for s in samples for k in s})
    problems = _growth_law_problems(scenario, keys)
    if problems:
        raise ScenarioError(scenario.source, problems)
    first = None
    for sample in samples:  # usually the first member builds, and that settles it
        try:
            Scenario.from_text(scenario.text, scenario.source, _folder(scenario), sample)
            return
        except ScenarioError as error:
            first = first or error.problems
        except (ValueError, TypeError, OverflowError, MemoryError) as error:
            first = first or [f"{type(error).__name__}: {error}"]
    raise ScenarioError(f"{scenario.source} (every member of the sweep)", first)


def _growth_law_problems(scenario, keys) -> list[str]:
    """Keys that set a growth-law parameter the scenario's law does not use."""
    import tomllib

    try:
        table = tomllib.loads(scenario.text).get("model", {})
    except tomllib.TOMLDecodeError:
        return []
    if not isinstance(table, dict) or table.get("name") != "LumpedPrimary":
        return []
    growth = table.get("growth", "gompertz")
    law = growth.get("law") if isinstance(growth, dict) else growth
    if law not in GROWTH_LAW_PARAMETERS:
        return []
    used = GROWTH_LAW_PARAMETERS[law]
    every = {name for names in GROWTH_LAW_PARAMETERS.values() for name in names}
    problems = []
    for key in keys:
        section, _, name = key.partition(".")[2].partition(".")
        if key.startswith("model.") and section in ("growth", "parameters"):
            if name in every and name not in used:
                problems.append(
                    f"{key}: the {law} growth law has no parameter {name!r} (it uses "
                    f"{', '.join(used)}); varying it would change nothing"
                )
    return problems


def _folder(scenario) -> str:
    source = Path(scenario.source)
    return str(source.parent if source.is_file() else Path("."))


def _client(scheduler, workers):
    from distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler)
    cluster = LocalCluster(
        n_workers=int(workers),
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: never clash with a running cluster
        env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        silence_logs=logging.ERROR,  # not the nannies' routine warnings at shutdown
    )
    return Client(cluster)


def _execute(client, scenario, members, todo, out_dir, t_end, summary, progress):
    import sys

    from distributed import as_completed
    from tqdm.auto import tqdm

    folder = _folder(scenario)
    futures = {
        client.submit(
            run_member,
            scenario.text,
            folder,
            members[key],
            str(out_dir / "runs" / f"{key}.h5"),
            t_end,
            key=f"continuum-member-{key}",
            pure=False,
        ): key
        for key in todo
    }
    show = sys.stderr.isatty() if progress is None else bool(progress)
    last_write = time.perf_counter()
    with tqdm(total=len(futures), unit="member", disable=not show) as bar:
        for future in as_completed(futures):
            key = futures[future]
            try:
                row = future.result()
            except Exception as error:  # the worker died (a crash, memory): this member fails
                status = f"{type(error).__name__}: {error}".strip()
                row = {"id": key, "status": status, "seconds": math.nan}
            summary.rows.append({**row, **members[key]})
            bar.update(1)
            if time.perf_counter() - last_write > 5.0:  # kill-safe progress on disk
                summary.write(out_dir)
                last_write = time.perf_counter()


def _previous_rows(out_dir, members, ends) -> tuple[dict, set]:
    """Rows of the members already done, ``{id: row}``, and the ids of run files that
    exist but are damaged, incomplete or end elsewhere than ``ends[id]`` (to run again).
    A member is done when its run file reads back whole; its row comes from the summary
    when it lists the member as ok, else from the file (the client was killed)."""
    listed = {}
    path = out_dir / "summary.h5"
    if path.exists():
        try:
            previous = load_summary(out_dir)
        except ValueError:  # an unreadable summary: the run files tell what is done
            previous = Summary([], [])
        listed = {
            row["id"]: row
            for row in previous.rows
            if row.get("id") in members and row.get("status") == STATUS_OK
        }
    rows, damaged = {}, set()
    for key in members:
        run_file = out_dir / "runs" / f"{key}.h5"
        if not run_file.is_file():
            continue
        values = _read_member(run_file, ends[key])
        if values is None:
            damaged.add(key)
        elif key in listed:
            rows[key] = listed[key]
        else:
            rows[key] = {"id": key, "status": STATUS_OK, "seconds": math.nan, **values}
            rows[key].update(members[key])
    return rows, damaged


def _read_member(path, t_end) -> dict | None:
    """A complete member run file's outputs, or None if it does not read back whole (or
    ends elsewhere than ``t_end``)."""
    from continuum.io import open_run

    try:
        with open_run(path) as run_file:
            times = np.asarray(run_file.times)
            if run_file.frames < 1 or not run_file.attrs.get("checkpoint"):
                return None
            if not abs(times[-1] - t_end) <= 1e-9 * max(1.0, abs(t_end)):
                return None
            return outputs(run_file)
    except Exception:  # truncated, corrupt, foreign: run the member again
        return None


def load_summary(out_dir) -> Summary:
    """The :class:`Summary` a sweep wrote in ``out_dir/summary.h5``."""
    import h5py

    path = Path(out_dir) / "summary.h5"
    if not path.is_file():
        raise ValueError(f"out_dir: {str(path)!r} does not exist; run the ensemble first")
    try:
        with h5py.File(path, "r") as handle:
            data = {ds.attrs["column"]: ds[()] for ds in handle.values()}
            summary = Summary([], json.loads(handle.attrs["parameters"]))
            summary.sample_ids = json.loads(handle.attrs.get("sample_ids", "[]"))
            summary.ranges = json.loads(handle.attrs.get("ranges", "{}"))
            design = handle.attrs.get("design", "")
            summary.design = design.decode() if isinstance(design, bytes) else str(design)
        count = len(data.get("id", []))
        summary.rows = [
            {
                name: (values[i].decode() if isinstance(values[i], bytes) else values[i].item())
                for name, values in data.items()
            }
            for i in range(count)
        ]
    except (OSError, KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        raise ValueError(
            f"{str(path)!r} is not a readable ensemble summary ({reason}); run the ensemble "
            "again to rewrite it"
        ) from None
    return summary


def summary_sensitivity(summary: Summary, output: str, level: float = 0.95) -> dict:
    """Sobol indices of column ``output`` of a sweep run on a ``"saltelli"`` design
    (:func:`sensitivity`, with the ranges and sample order stored in the summary). Any
    other design (LHS, Sobol points, a grid, a table) is refused: its indices would be
    numbers without meaning."""
    if not summary.ranges or not summary.sample_ids:
        raise ValueError(
            "summary: no design ranges stored; run the sweep with --design saltelli:N (or "
            "ensemble.run(..., ranges=...))"
        )
    kind = summary.design.partition(":")[0]
    if kind and kind != "saltelli":
        raise ValueError(
            f"summary: the sweep ran the design {summary.design}; Sobol indices need a "
            "Saltelli design: run a sweep with --design saltelli:N"
        )
    by_id = {row["id"]: row for row in summary.rows}
    missing = [key for key in summary.sample_ids if by_id.get(key, {}).get("status") != STATUS_OK]
    if missing:
        raise ValueError(
            f"summary: {len(missing)} members failed or are missing; Sobol indices need every "
            "member (re-run the sweep)"
        )
    if output not in summary.columns:
        raise KeyError(f"output: got {output!r}; columns are {summary.columns}")
    values = [by_id[key][output] for key in summary.sample_ids]
    samples = [{k: by_id[key][k] for k in summary.ranges} for key in summary.sample_ids]
    if not is_saltelli(samples, list(summary.ranges)):
        raise ValueError(
            "summary: the sweep's samples are not a Saltelli design; Sobol indices need "
            "one: run a sweep with --design saltelli:N"
        )
    ranges = {k: tuple(v) for k, v in summary.ranges.items()}
    return sensitivity(samples, values, ranges, level)


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


# -- sensitivity ----------------------------------------------------------------------
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
