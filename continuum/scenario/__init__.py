"""Scenario files: a patient or an experiment described in TOML, validated up front.

A scenario names the grid, the model and its parameters, the initial conditions, the
vessel maps, the circulation and the secondary sites (which make it a
:class:`~continuum.models.cascade.Cascade`) and the run settings::

    title = "breast primary, two years"
    [grid]
    shape = [64, 64]
    spacing = 0.05                      # mm
    # origin = [-1.6, -1.6]             # mm, in the world frame of the images named
    # mask = { file = "tissue.nii.gz", label = 1, section = { z = 0.0 } }   # a tissue mask
    [model]
    name = "Invasion"
    parameters = { k_emt = 0.02 }       # any of the model's parameters
    [initial]
    epithelial = { shape = "disk", radius = 0.5, value = 0.9 }   # mm; or a number, or
                              # { file = "e0.npy" }, or { file = "run.h5", dataset =
                              # "fields/epithelial", frame = -1 } (a run's last frame),
                              # or { file = "tumour.nii.gz", label = 1, value = 0.9 }
    [vessels]
    blood = { fraction = 0.03, seed = 1 }   # or a number, or { file = "vessels.nii.gz" }
    [circulation]
    first_pass = { site = "lung", fraction = 0.5 }
    [[sites]]
    name = "lung"
    [[sites]]                           # a spatial site: its own tissue grid and model
    name = "liver"
    grid = { shape = [32, 32], spacing = 0.05 }
    tissue = { parameters = { rho_e = 0.1 }, vessels = { blood = { fraction = 0.05 } } }
    [cascade]
    horizon = 730.0                     # days
    [[interventions]]
    kind = "resection"                  # or "radiotherapy", "systemic"
    t = 400.0                           # day
    margin = 1.0                        # mm
    [run]
    t_end = 730.0                       # days
    save_every = 7.0
    method = "imex"

The scenarios shipped with continuum (``examples/*.toml``) are found by name with
:func:`example_path` (``load_scenario(example_path("lumped_patient"))``).

Every problem (unknown keys, with a suggestion; wrong types; values out of range;
missing entries; arrays that do not fit the grid) is collected and reported at once in
one :class:`ScenarioError`, before any file is created.

The package: :mod:`~continuum.scenario.core` (:class:`Scenario`, reading and building),
:mod:`~continuum.scenario.tables` (parsing and validation of the tables: overrides,
model, grid, cascade, interventions, run settings), :mod:`~continuum.scenario.initial`
(initial fields, arrays from ``.npy`` and HDF5 files),
:mod:`~continuum.scenario.image_files` (masks, fields and vessel maps from images such as
NIfTI, through :mod:`continuum.images`),
:mod:`~continuum.scenario.checker` (:class:`ScenarioError` and the problem collector)
and :mod:`~continuum.scenario.keys` (the keys each table accepts, with unit, default and
meaning; the documentation's scenario-file reference is generated from them).
"""

from continuum.scenario.checker import Checker, ScenarioError
from continuum.scenario.core import Scenario, example_path, load_scenario
from continuum.scenario.initial import SHAPES
from continuum.scenario.keys import RUN_KEYS, SECTIONS
from continuum.scenario.tables import MODELS, parse_override

__all__ = [
    "MODELS",
    "RUN_KEYS",
    "SECTIONS",
    "SHAPES",
    "Checker",
    "Scenario",
    "ScenarioError",
    "example_path",
    "load_scenario",
    "parse_override",
]
