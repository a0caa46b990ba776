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

The package is split by job: :mod:`~continuum.ensemble.designs` (ranges, designs, sample
tables, member ids), :mod:`~continuum.ensemble.execution` (running members on a cluster,
resuming a sweep), :mod:`~continuum.ensemble.summary` (the table of a sweep and its
outputs); the Sobol indices are in :mod:`continuum.sensitivity`. Every public name is
importable from ``continuum.ensemble``; Dask is imported only when a sweep runs.
"""

from continuum.ensemble.designs import (
    DESIGNS,
    as_samples,
    design,
    member_id,
    parse_range,
    read_samples,
)
from continuum.ensemble.execution import run, run_member
from continuum.ensemble.summary import (
    STATUS_OK,
    Summary,
    load_summary,
    outputs,
    summary_sensitivity,
)
from continuum.models.lumped import GROWTH_LAW_PARAMETERS
from continuum.sensitivity import (
    is_saltelli,
    sensitivity,
    sensitivity_table,
    sensitivity_warnings,
)

__all__ = [
    "DESIGNS",
    "GROWTH_LAW_PARAMETERS",
    "STATUS_OK",
    "Summary",
    "as_samples",
    "design",
    "is_saltelli",
    "load_summary",
    "member_id",
    "outputs",
    "parse_range",
    "read_samples",
    "run",
    "run_member",
    "sensitivity",
    "sensitivity_table",
    "sensitivity_warnings",
    "summary_sensitivity",
]
