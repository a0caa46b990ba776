"""The table of a sweep: :class:`Summary`, its file (``summary.h5``, ``summary.csv``),
the summary outputs of a member's run and the Sobol indices of a summary's column."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np

from continuum.sensitivity import is_saltelli, sensitivity
from continuum.units import ctc_per_sample

STATUS_OK = "ok"


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

    def __repr__(self):
        from continuum.readable import names

        failed = len(self.failed)
        members = f"{len(self.rows)} members: {len(self.rows) - failed} ok, {failed} failed"
        design = f"; design {self.design}" if self.design else ""
        outputs = [c for c in self.columns if c not in ("id", "status", "seconds")]
        outputs = [c for c in outputs if c not in self.parameters]
        return (
            f"Summary({members}; parameters {names(self.parameters)}{design}; "
            f"outputs {names(outputs, most=4)})"
        )

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
