"""Running a sweep: members on Dask workers (one process, one Numba thread, one run file
each), the client that starts or joins a cluster, the checks before any member runs and
the resumption of a sweep whose members are partly done."""

from __future__ import annotations

import logging
import math
import os
import time
import traceback
from pathlib import Path

import numpy as np

from continuum.ensemble.designs import as_samples, member_id
from continuum.ensemble.summary import STATUS_OK, Summary, load_summary, outputs
from continuum.io.xdmf import move_sidecar
from continuum.models.lumped import GROWTH_LAW_PARAMETERS, unused_growth_parameters
from continuum.progress import progress_bar, show_progress


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
        move_sidecar(partial, path)  # the sidecar of a spatial member points at its file
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
    _remove_leftovers(out_dir / "runs", members, todo)
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


def _remove_leftovers(folder: Path, members, todo) -> None:
    """What killed members left in ``folder``: the temporary files of interrupted writes
    (``.<id>...partial``) and, for the members ``todo`` runs again, the unfinished
    ``<id>.h5.part`` with the sidecar written for it (``<id>.h5.xdmf``, ``.xdmf.h5``)."""
    leftovers = [file for key in members for file in folder.glob(f".{key}.*.partial")]
    leftovers += [file for key in todo for file in folder.glob(f"{key}.h5.*")]
    for file in leftovers:
        file.unlink(missing_ok=True)


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
    problems = []
    for key in keys:
        section, _, name = key.partition(".")[2].partition(".")
        if key.startswith("model.") and section in ("growth", "parameters"):
            if unused_growth_parameters(law, [name]):
                used = ", ".join(GROWTH_LAW_PARAMETERS[law])
                problems.append(
                    f"{key}: the {law} growth law has no parameter {name!r} (it uses "
                    f"{used}); varying it would change nothing"
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
    from distributed import as_completed

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
    last_write = time.perf_counter()
    bar = progress_bar(total=len(futures), unit="member", disable=not show_progress(progress))
    with bar:
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
