"""continuum: continuum models of the metastatic cascade.

Lengths in mm, time in days, cells as counts; tissue fields are fractions of a carrying
capacity. ``import continuum as ct`` gives the public surface below.
"""

from continuum import analysis, calibration, ensemble, images, models, trackers, vessels
from continuum.boundary import Dirichlet, NoFlux, Periodic
from continuum.calibration import calibrate
from continuum.grid import Grid
from continuum.interventions import (
    AntiAngiogenic,
    Immunotherapy,
    Radiotherapy,
    Resection,
    SystemicTherapy,
)
from continuum.io import RunFile, RunFileError, open_run
from continuum.io.writer import RunWriteError
from continuum.kernels.registry import refresh_disk_cache
from continuum.models.cascade import Cascade
from continuum.models.sites import KUZNETSOV_1994, Circulation, SecondarySite
from continuum.result import Result
from continuum.scenario import Scenario, ScenarioError, load_scenario
from continuum.simulation import RunInterrupted, resume, simulate
from continuum.solvers import SimulationError
from continuum.state import State
from continuum.threads import use_short_spin

use_short_spin()  # before the OpenMP runtime starts (see continuum.threads)
refresh_disk_cache()  # before any kernel is compiled or loaded from the disk cache

__version__ = "0.1.0"

__all__ = [
    "KUZNETSOV_1994",
    "AntiAngiogenic",
    "Cascade",
    "Circulation",
    "Dirichlet",
    "Grid",
    "Immunotherapy",
    "NoFlux",
    "Periodic",
    "Radiotherapy",
    "Resection",
    "Result",
    "RunFile",
    "RunFileError",
    "RunInterrupted",
    "RunWriteError",
    "Scenario",
    "ScenarioError",
    "SecondarySite",
    "SimulationError",
    "State",
    "SystemicTherapy",
    "__version__",
    "analysis",
    "calibrate",
    "calibration",
    "ensemble",
    "images",
    "load_scenario",
    "models",
    "open_run",
    "resume",
    "simulate",
    "trackers",
    "vessels",
]
