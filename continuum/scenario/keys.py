"""The keys each table of a scenario file accepts, with unit, default and meaning.

The validator (:mod:`~continuum.scenario.tables`, :mod:`~continuum.scenario.initial`)
checks every table against these dictionaries, and the documentation's scenario-file
reference is generated from them, so the two cannot disagree. Keys that come from a
class's own table are not repeated here: model parameters (``PARAMETERS`` of each
model), the circulation's rates, a site's parameters and the fields of each treatment
(:data:`continuum.interventions.KINDS`). The image tables (a ``[grid]`` mask, a field or a
vessel map from a NIfTI image or a picture) are read by
:mod:`~continuum.scenario.image_files`.
"""

from __future__ import annotations

from typing import NamedTuple


class Key(NamedTuple):
    """One key of a scenario table: its unit (``""`` for none), its default (``None``:
    required or absent unless given) and what it means."""

    unit: str
    default: object
    meaning: str


REQUIRED = "required"

SECTIONS = {
    "title": Key("", "", "a name for the run"),
    "grid": Key("", None, "the tissue grid: shape, spacing [mm], origin [mm], mask (an image)"),
    "model": Key("", REQUIRED, "name and parameters of the model"),
    "initial": Key("", None, "initial fields and compartments"),
    "vessels": Key("", None, "blood and lymph vessel maps (Invasion)"),
    "circulation": Key("", None, "blood and lymph rates, first pass, lymph node"),
    "sites": Key("", None, "secondary sites"),
    "cascade": Key("", None, "horizon and cohort_days of a cascade"),
    "interventions": Key("", None, "treatments: resection, radiotherapy, systemic therapy, ..."),
    "run": Key("", REQUIRED, "t_end, save_every, method, dt, rtol, atol, output, compression"),
}

GRID_KEYS = {
    "shape": Key(
        "cells",
        "required (optional with a NIfTI mask)",
        "cells along each axis: 1 to 3 whole numbers; not required with a NIfTI mask: "
        "without shape, the grid covers the mask's tissue",
    ),
    "spacing": Key("mm", 1.0, "cell width: one number, or one per axis"),
    "origin": Key(
        "mm",
        0.0,
        "the grid's lower corner in the images' world frame (RAS+): one number, or one per "
        "axis (not with a mask and no shape: the mask's tissue places the grid)",
    ),
    "mask": Key(
        "",
        None,
        "tissue mask from an image: {file, label | threshold, section} (keys below); "
        "no flux crosses its boundary",
    ),
}

# An image table: a [grid] mask, a field (in [initial], a map of an equation model, a
# radiotherapy target) or a vessel map, read and resampled by continuum.images.
_IMAGE_FILE = (
    "a NIfTI image (.nii, .nii.gz), a picture (.png) or a .npy array, next to the scenario"
)
_SECTION = Key(
    "mm",
    None,
    "{z = ...} (axial; or x, y): the world axes a 2D grid fixes in a 3D image (two for 1D)",
)

MASK_KEYS = {
    "file": Key("", REQUIRED, _IMAGE_FILE),
    "label": Key(
        "", None, "tissue where the nearest voxel holds this label (a whole number or list)"
    ),
    "threshold": Key(
        "", None, "tissue where the linearly interpolated value is >= it (not with label)"
    ),
    "section": _SECTION,
}

MODEL_KEYS = {
    "name": Key("", None, "a built-in model (one of the names below)"),
    "class": Key(
        "",
        None,
        'a model class of your own: "file.py:Class" (next to the scenario) or '
        '"package.module:Class"',
    ),
    "equations": Key(
        "", None, '{field = "equation", ...}: a model written as equations (ct.models.PDE)'
    ),
    "parameters": Key("", None, "{name = value, ...}: the model's parameters (tables below)"),
    "growth": Key(
        "",
        "gompertz",
        "growth law of a LumpedPrimary: a law name, or {law = ..., a = ..., K = ...}",
    ),
}

EQUATION_KEYS = {
    "units": Key("", None, "{parameter = unit, ...}: units of the parameters, stored"),
    "maps": Key("", None, "{name = number or initial-field table}: static maps"),
    "scalars": Key("", None, '{name = "rate", ...}: compartments and their equations'),
    "exports": Key(
        "", None, '{name = "density", ...}: integrals over the tissue a compartment reads'
    ),
    "stiff": Key("", None, "fields whose linear loss the IMEX method takes implicitly"),
    "cell_fields": Key("", None, "fields that are cell densities (treatments act on them)"),
}

INITIAL_SHAPE_KEYS = {
    "shape": Key("", REQUIRED, "disk, ball or interval (or give file instead)"),
    "radius": Key("mm", REQUIRED, "radius of the shape"),
    "value": Key("", 1.0, "value inside the shape (0 outside)"),
    "centre": Key("mm", "grid centre", "centre of the shape, one coordinate per axis"),
}

INITIAL_FILE_KEYS = {
    "file": Key(
        "",
        REQUIRED,
        "a .npy file, an HDF5 file (.h5, .hdf5), or an image resampled to the grid (a NIfTI "
        ".nii, .nii.gz or a picture .png, with label, value and section: keys below), next "
        "to the scenario",
    ),
    "dataset": Key("", None, 'HDF5 only (required there): the dataset, e.g. "fields/epithelial"'),
    "frame": Key("", -1, "HDF5 only: the frame of a stack of grid-shaped arrays (last written)"),
}

IMAGE_FIELD_KEYS = {
    "file": Key(
        "", REQUIRED, "a NIfTI image (.nii, .nii.gz) or a picture (.png), next to the scenario"
    ),
    "label": Key(
        "", None, "value where the nearest voxel holds this label (a whole number or list)"
    ),
    "value": Key(
        "",
        1.0,
        "the field where the label is (0 elsewhere); without label, the factor on the "
        "image's values (linear interpolation)",
    ),
    "section": _SECTION,
}

VESSEL_KEYS = {
    "blood": Key("", "fraction 0.03, seed 1", "blood-vessel map: a number, or a table below"),
    "lymph": Key("", "fraction 0.01, seed 2", "lymph-vessel map: a number, or a table below"),
}

VESSEL_MAP_KEYS = {
    "fraction": Key("", REQUIRED, "volume fraction of random capillaries (without file)"),
    "seed": Key("", "1 (blood), 2 (lymph)", "seed of the random capillaries"),
    "radius": Key("mm", 0.005, "capillary radius of the random map"),
    "file": Key(
        "",
        None,
        "a map of vessel densities from an image (NIfTI, .png) or a .npy array, instead of "
        "random capillaries: the keys below",
    ),
}

VESSEL_IMAGE_KEYS = {
    "file": Key("", REQUIRED, _IMAGE_FILE),
    "invert": Key("", False, "dark (low values) means vessels"),
    "rescale": Key("", True, "scale to [0, 1] by the image's range; false: densities as they are"),
    "section": _SECTION,
}

CIRCULATION_KEYS = {
    "first_pass": Key(
        "",
        None,
        "{site = name, fraction = f}: the first capillary bed arrests a fraction f "
        "of the cells entering blood",
    ),
    "lymph_node": Key(
        "", 'the site of organ "lymph_node"', "name of the site receiving node arrests"
    ),
    "clusters": Key(
        "", "no clusters", "{fraction, clearance [1/day], seeding, nk_shielding}: CTC clusters"
    ),
    "transit_time": Key("day", 0.0, "venous transit from the primary to the first capillary bed"),
}

FIRST_PASS_KEYS = {
    "site": Key("", REQUIRED, "name of the site of the first capillary bed"),
    "fraction": Key("", REQUIRED, "fraction of the cells entering blood arrested there"),
}

SITE_KEYS = {
    "name": Key("", REQUIRED, "unique name of the site; series are sites/<name>/..."),
    "organ": Key("", "the name", "organ for blood-flow fraction and capacity (data/organs.csv)"),
    "flow": Key("", "the organ's", "blood-flow fraction, overriding the organ table"),
    "affinity": Key("", 1.0, "seed-soil affinity (>= 0)"),
    "capacity": Key("cells", "organ mass x cell density", "cells the organ can hold"),
    "growth": Key("", "logistic", "colonies' growth law: a law name or {law = ..., a, K, ...}"),
    "seeding": Key("", None, "{m, alpha}: colonies seed new ones at m s^alpha per day"),
    "shedding": Key("", None, "{mu, alpha}: colonies shed mu s^alpha cells/day into blood"),
    "immunity": Key("", None, 'effector cells: "kuznetsov_1994" or a table of their parameters'),
    "grid": Key("", None, "{shape, spacing, ...}: a spatial site's own tissue grid, as [grid]"),
    "tissue": Key("", None, "{parameters, vessels}: a spatial site's Invasion model"),
}

SITE_TISSUE_KEYS = {
    "parameters": Key("", None, "{name = value}: parameters of the site's Invasion model"),
    "vessels": Key("", None, "{blood = ..., lymph = ...}: its vessel maps, as [vessels]"),
}

CASCADE_KEYS = {
    "horizon": Key("day", 3650.0, "the longest time a run of the cascade may reach"),
    "cohort_days": Key("day", "horizon / 128", "width of a cohort of colonies in birth time"),
}

RUN_KEYS = {
    "t_end": Key("day", REQUIRED, "end of the run"),
    "save_every": Key("day", "t_end / 100", "interval between stored frames"),
    "method": Key("", "auto", "the time-stepping method (the methods listed below)"),
    "dt": Key("day", None, "fixed step (adaptive steps without it)"),
    "rtol": Key("", "1e-4 (1e-8 without fields)", "relative tolerance of the step control"),
    "atol": Key("", 1e-8, "absolute tolerance of the step control"),
    "output": Key("", "no file (continuum run: run.h5)", "path of the run file"),
    "compression": Key("", "gzip", "compression of the run file: gzip, lzf or none"),
}
COMPRESSIONS = ("gzip", "lzf", "none")
