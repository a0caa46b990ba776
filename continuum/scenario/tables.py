"""The tables of a scenario file, parsed and validated: overrides, ``[model]`` and its
``[grid]``, ``[vessels]``, ``[circulation]``, ``[[sites]]`` and ``[cascade]``,
``[[interventions]]`` and ``[run]``. Each parser writes its problems into a
:class:`~continuum.scenario.checker.Checker` and returns ``None`` for what it could not
build."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

from continuum import models as model_classes
from continuum import vessels as vessel_maps
from continuum.grid import Grid
from continuum.interventions import KINDS
from continuum.models.base import Model
from continuum.models.cascade import Cascade
from continuum.models.loading import load_model_class
from continuum.models.lumped import (
    GROWTH_LAW_PARAMETERS,
    LumpedPrimary,
    unused_growth_parameters,
)
from continuum.models.pde import PDE
from continuum.models.sites import Circulation, SecondarySite
from continuum.scenario import image_files
from continuum.scenario.checker import Checker
from continuum.scenario.initial import file_name, initial_field
from continuum.scenario.keys import (
    CASCADE_KEYS,
    CIRCULATION_KEYS,
    COMPRESSIONS,
    EQUATION_KEYS,
    FIRST_PASS_KEYS,
    GRID_KEYS,
    MODEL_KEYS,
    RUN_KEYS,
    SITE_KEYS,
    SITE_TISSUE_KEYS,
    VESSEL_KEYS,
    VESSEL_MAP_KEYS,
)
from continuum.solvers.choice import CHOICES
from continuum.validation import check_integer, check_positive, check_real

# The built-in models a scenario names (every exported class with kernels, but cascades).
MODELS = tuple(
    name
    for name in model_classes.__all__
    if isinstance(cls := getattr(model_classes, name), type)
    and issubclass(cls, Model)
    and cls.kernel_name
    and not issubclass(cls, Cascade)
)


def parse_override(text: str) -> tuple[str, object]:
    """``"key.path=value"`` -> ``("key.path", value)``; the value is read as TOML (a
    number, a boolean, a quoted string, an array) or else kept as a plain string."""
    if "=" not in text:
        raise ValueError(f"--set: got {text!r}; use key=value, e.g. run.t_end=100")
    key, raw = (part.strip() for part in text.split("=", 1))
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def apply_override(data: dict, key: str, value, check: Checker) -> None:
    """Set a dotted key in the scenario's tables (``sites.0.survival`` for arrays)."""
    parts = key.split(".")
    table = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(table, list):
            if not part.isdigit() or int(part) >= len(table):
                check.add(f"--set {key}: {'.'.join(parts[: i + 1])} is not an entry")
                return
            table = table[int(part)]
        else:
            table = table.setdefault(part, {})
        if not isinstance(table, dict | list):
            check.add(f"--set {key}: {'.'.join(parts[: i + 1])} is not a table")
            return
    if isinstance(table, list):
        check.add(f"--set {key}: give the index of the entry, e.g. sites.0.survival")
        return
    table[parts[-1]] = value


def _grid(table: dict, check: Checker, folder: Path, where: str = "grid"):
    """A grid from ``shape``, ``spacing`` [mm] and ``origin`` [mm], masked by the image
    ``mask`` names; without a ``shape``, the grid covers the tissue of a NIfTI ``mask``."""
    check.keys(table, GRID_KEYS, where)
    shape, spacing = table.get("shape"), table.get("spacing", 1.0)
    spec = table.get("mask")
    if spec is not None and (not isinstance(spec, dict) or "file" not in spec):
        check.add(
            f"{where}.mask: got {spec!r}; a table with the image's file is required, e.g. "
            '{ file = "brain.nii.gz" } (NIfTI, PNG or .npy)'
        )
        return None
    name = None if spec is None else file_name(spec, f"{where}.mask", check)
    if spec is not None and name is None:
        return None
    if shape is None:
        if name is None:
            check.add(f"{where}: missing required entry 'shape' (or a mask image to cover)")
            return None
        if "origin" in table:
            check.add(
                f"{where}.origin: a grid without 'shape' covers its mask; give both or neither"
            )
            return None
        for h in spacing if isinstance(spacing, list) else [spacing]:
            if check.value(check_positive, f"{where}.spacing", h, "mm") is None:
                return None
        return image_files.masked_grid(spec, spacing, folder / name, f"{where}.mask", check)
    grid = check.attempt(where, Grid, shape, spacing, table.get("origin", 0.0))
    if grid is None or name is None:
        return grid
    mask = image_files.mask(spec, grid, folder / name, f"{where}.mask", check)
    return None if mask is None else check.attempt(where, _with_mask, grid, mask)


def _with_mask(grid: Grid, mask) -> Grid:
    """``grid`` with a tissue ``mask``."""
    return Grid(grid.shape, grid.spacing, grid.origin, mask=mask)


def parse_model(data: dict, check: Checker, folder: Path = Path(".")):
    """The model of ``[model]`` (a :class:`Cascade` around it when the scenario has sites
    or a circulation) and its tissue grid (``None`` for a model without fields).

    ``[model]`` names a built-in class (``name``, one of :data:`MODELS`), a user's class
    (``class = "file.py:Class"`` or ``"module:Class"``, relative to ``folder``) or gives
    ``equations`` (a :class:`~continuum.models.PDE`), with its ``parameters``; the class
    decides which other tables apply (a tissue ``[grid]`` when it has fields, ``growth``
    for a lumped primary, ``[vessels]`` for Invasion). Returns ``(None, None)`` when the
    model cannot be named; other problems go to ``check``.
    """
    table = check.table(data.get("model"), "model")
    if "equations" in table:
        check.keys(table, (*MODEL_KEYS, *EQUATION_KEYS), "model")
        grid = _grid(check.table(data.get("grid"), "grid"), check, folder)
        model = _equations_model(table, grid, folder, check)
    else:
        check.keys(table, MODEL_KEYS, "model")
        cls = _model_class(table, folder, check)
        if cls is None:
            if "grid" in data:  # its own problems are reported all the same
                _grid(check.table(data["grid"], "grid"), check, folder)
            return None, None
        grid = _tissue_grid(cls, data, check, folder)
        options = _model_parameters(cls, table, check)
        options.update(_model_growth(cls, table, check))
        options.update(_model_vessels(cls, data, grid, check, folder))
        model = check.attempt("model", cls, **options)
    if "circulation" in data or data.get("sites"):
        model = _cascade(model, data, check, folder)  # checks the sites even without a primary
    return model, grid


def _model_class(table: dict, folder: Path, check: Checker):
    """The model class ``[model] name`` or ``class`` names, or ``None`` (a problem)."""
    name = table.get("name")
    if "class" in table:
        if name is not None:
            check.add("model: give either 'name' (a built-in model) or 'class', not both")
        return _user_class(table["class"], folder, check)
    if name is None:
        check.add("model: missing required entry 'name' (or 'class', or 'equations')")
        return None
    if name not in MODELS:
        close = difflib.get_close_matches(str(name), MODELS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        check.add(f"model.name: got {name!r}{hint} (known: {', '.join(MODELS)})")
        return None
    return getattr(model_classes, name)


def _user_class(reference, folder: Path, check: Checker):
    """``[model] class``: a Model subclass in the user's own file or module."""
    try:
        return load_model_class(reference, folder)
    except ValueError as error:
        check.add(str(error))
    except Exception as error:  # the user's module failed while it was imported
        check.add(f"model class: {reference!r} failed to load ({type(error).__name__}: {error})")
    return None


def _equations_model(table: dict, grid, folder: Path, check: Checker):
    """``[model] equations = {...}``: a :class:`~continuum.models.PDE` with the
    ``parameters``, ``units``, ``scalars``, ``exports``, ``stiff`` and ``cell_fields``
    beside them; ``maps`` are numbers or arrays given like initial fields."""
    for key in ("name", "class", "growth"):
        if key in table:
            check.add(f"model.{key}: not with 'equations' (a model written as equations)")
    maps = {}
    for name, spec in check.table(table.get("maps"), "model.maps").items():
        if isinstance(spec, dict):
            maps[name] = (
                None
                if grid is None
                else initial_field(spec, grid, folder, f"model.maps.{name}", check)
            )
        else:
            maps[name] = check.value(check_real, f"model.maps.{name}", spec)
    options = {key: table[key] for key in EQUATION_KEYS if key in table and key != "maps"}
    parameters = check.table(table.get("parameters"), "model.parameters")
    if any(value is None for value in maps.values()):
        return None
    return check.attempt("model", PDE, table["equations"], parameters, maps=maps, **options)


def _tissue_grid(cls, data: dict, check: Checker, folder: Path):
    """The ``[grid]`` of a model with tissue fields; a model without refuses one."""
    if cls.field_names:
        return _grid(check.table(data.get("grid"), "grid"), check, folder)
    if "grid" in data:
        check.add(f"grid: a {cls.__name__} has no tissue; remove the [grid] section")
    return None


def _model_parameters(cls, table: dict, check: Checker) -> dict:
    """``[model] parameters``: the class's known ones (unknown names are problems)."""
    parameters = dict(check.table(table.get("parameters"), "model.parameters"))
    known = {p.name for p in cls.PARAMETERS}
    check.keys(parameters, known, "model.parameters")
    return {k: v for k, v in parameters.items() if k in known}


def _model_growth(cls, table: dict, check: Checker) -> dict:
    """``[model] growth``, the growth law of a lumped primary (only it takes one)."""
    if issubclass(cls, LumpedPrimary):
        growth = table.get("growth", "gompertz")
        _check_growth_law(growth, table.get("parameters"), check)
        return {"growth": growth}
    if "growth" in table:
        check.add(f"model.growth: only LumpedPrimary takes a growth law, not {cls.__name__}")
    return {}


def _check_growth_law(growth, parameters, check: Checker) -> None:
    """Refuse a growth-law parameter the law does not read (``model.growth.b`` on a
    Gompertz law), given in ``growth`` or in ``[model] parameters``: it would be ignored."""
    law = growth.get("law") if isinstance(growth, dict) else growth
    if not isinstance(law, str) or law not in GROWTH_LAW_PARAMETERS:
        return  # an unknown law is the model's problem
    keys = [f"model.growth.{k}" for k in growth if k != "law"] if isinstance(growth, dict) else []
    if isinstance(parameters, dict):
        keys += [f"model.parameters.{k}" for k in parameters]
    used = ", ".join(GROWTH_LAW_PARAMETERS[law])
    for key in keys:
        name = key.rpartition(".")[2]
        if unused_growth_parameters(law, [name]):
            check.add(
                f"{key}: the {law} growth law has no parameter {name!r} (it uses {used}); "
                "setting it would change nothing"
            )


def _model_vessels(cls, data: dict, grid, check: Checker, folder: Path) -> dict:
    """``[vessels]``: the vessel maps of an Invasion model (only it has them)."""
    vessels = check.table(data.get("vessels"), "vessels")
    if not vessels:
        return {}
    if not issubclass(cls, model_classes.Invasion):
        check.add(f"vessels: only Invasion models have vessel maps, not {cls.__name__}")
        return {}
    return {} if grid is None else _vessels(vessels, grid, check, folder)


def _vessels(table: dict, grid: Grid, check: Checker, folder: Path, prefix="vessels") -> dict:
    check.keys(table, VESSEL_KEYS, prefix)
    maps = {}
    for key, default_seed in (("blood", 1), ("lymph", 2)):
        if key not in table:
            continue
        where = f"{prefix}.{key}"
        value = table[key]
        if isinstance(value, int | float) and not isinstance(value, bool):
            maps[f"{key}_vessels"] = float(value)
            continue
        spec = check.table(value, where)
        if "file" in spec:
            name = file_name(spec, where, check)
            array = (
                None
                if name is None
                else image_files.vessel_map(spec, grid, folder / name, where, check)
            )
        else:
            check.keys(spec, VESSEL_MAP_KEYS, where)
            fraction = check.number(spec, "fraction", where, required=True)
            seed = check.value(check_integer, f"{where}.seed", spec.get("seed", default_seed), 0)
            if fraction is None or seed is None:
                continue
            array = check.attempt(
                where,
                vessel_maps.random_capillaries,
                grid,
                fraction,
                seed=seed,
                **({"radius": spec["radius"]} if "radius" in spec else {}),
            )
        if array is not None:
            maps[f"{key}_vessels"] = array
    return maps


def _cascade(primary, data: dict, check: Checker, folder: Path):
    table = dict(check.table(data.get("circulation"), "circulation"))
    check.keys(table, (*Circulation.RATES, *CIRCULATION_KEYS), "circulation")
    if isinstance(table.get("first_pass"), dict):
        check.keys(table["first_pass"], FIRST_PASS_KEYS, "circulation.first_pass")
    circulation = check.attempt("circulation", Circulation, **table)
    sites = []
    entries = data.get("sites", [])
    if not isinstance(entries, list):
        check.add("sites: an array of tables ([[sites]]) is required")
        entries = []
    spatial = ("grid", "tissue")  # a spatial site's, built into its grid and model
    allowed = [k for k in SITE_KEYS if k not in spatial] + [
        p.name for p in SecondarySite.PARAMETERS
    ]
    for i, entry in enumerate(entries):
        entry = check.table(entry, f"sites[{i}]")
        where = f"sites[{i}]" + (f" ({entry['name']!r})" if "name" in entry else "")
        check.keys(entry, (*allowed, *spatial), where)
        if "name" not in entry:
            check.add(f"{where}: missing required entry 'name'")
            continue
        options = {k: v for k, v in entry.items() if k in allowed}
        if "grid" in entry or "tissue" in entry:
            tissue = _site_tissue(entry, where, check, folder)
            if tissue is None:
                continue
            options["grid"], options["model"] = tissue
        site = check.attempt(where, SecondarySite, **options)
        if site is not None:
            sites.append(site)
    options = dict(check.table(data.get("cascade"), "cascade"))
    check.keys(options, CASCADE_KEYS, "cascade")
    if primary is None or circulation is None or len(sites) != len(entries):
        return None
    return check.attempt("cascade", Cascade, primary, circulation, sites, **options)


def parse_interventions(entries, grid, folder: Path, check: Checker) -> list:
    """``[[interventions]]``: each a table with ``kind`` and the fields of its class."""
    if not isinstance(entries, list):
        check.add("interventions: an array of tables ([[interventions]]) is required")
        return []
    built = []
    for i, entry in enumerate(entries):
        where = f"interventions[{i}]"
        entry = dict(check.table(entry, where))
        kind = entry.pop("kind", None)
        if not isinstance(kind, str) or kind not in KINDS:
            close = difflib.get_close_matches(str(kind), list(KINDS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            check.add(f"{where}.kind: got {kind!r}{hint} (allowed: {', '.join(KINDS)})")
            continue
        where = f"{where} ({kind})"
        cls = KINDS[kind]
        allowed = [f for f in cls.__dataclass_fields__ if f != "kind"]
        check.keys(entry, allowed, where)
        target = entry.get("target")
        if isinstance(target, dict) and "file" in target and grid is not None:
            array = initial_field(target, grid, folder, f"{where}.target", check)
            entry["target"] = None if array is None else array != 0
        item = check.attempt(where, cls, **{k: v for k, v in entry.items() if k in allowed})
        if item is not None:
            built.append(item)
    return built


def _site_tissue(entry: dict, where: str, check: Checker, folder: Path):
    """``(grid, Invasion model)`` of a spatial site, from its ``grid`` and ``tissue``."""
    if "grid" not in entry:
        check.add(f"{where}: 'tissue' needs a 'grid' (shape, spacing [mm])")
        return None
    grid = _grid(check.table(entry["grid"], f"{where}.grid"), check, folder, f"{where}.grid")
    tissue = check.table(entry.get("tissue"), f"{where}.tissue")
    check.keys(tissue, SITE_TISSUE_KEYS, f"{where}.tissue")
    parameters = dict(check.table(tissue.get("parameters"), f"{where}.tissue.parameters"))
    known = {p.name for p in model_classes.Invasion.PARAMETERS}
    check.keys(parameters, known, f"{where}.tissue.parameters")
    parameters = {k: v for k, v in parameters.items() if k in known}
    if grid is None:
        return None
    prefix = f"{where}.tissue.vessels"
    vessels = _vessels(check.table(tissue.get("vessels"), prefix), grid, check, folder, prefix)
    model = check.attempt(f"{where}.tissue", model_classes.Invasion, **vessels, **parameters)
    return None if model is None else (grid, model)


def parse_run(table: dict, model, check: Checker) -> dict:
    check.keys(table, RUN_KEYS, "run")
    settings = {}
    t_end = check.number(table, "t_end", "run", required=True, positive=True)
    if t_end is not None:
        settings["t_end"] = t_end
    for key in ("save_every", "dt", "rtol", "atol"):
        value = check.number(table, key, "run", positive=True)
        if value is not None:
            settings[key] = value
    for key, allowed in (
        ("method", CHOICES),
        ("compression", COMPRESSIONS),
    ):
        if key in table:
            if table[key] not in allowed:
                check.add(f"run.{key}: got {table[key]!r}; allowed are {', '.join(allowed)}")
            else:
                settings[key] = None if table[key] == "none" else table[key]
    if "output" in table:
        if not isinstance(table["output"], str):
            check.add(f"run.output: got {table['output']!r}; a file path is required")
        else:
            settings["output"] = table["output"]
    composite = model is not None and model.primary is not model  # a cascade
    if composite and t_end is not None and t_end > model.horizon:
        check.add(
            f"run.t_end: got {t_end:g} day; the cascade's horizon is {model.horizon:g} day "
            "(set [cascade] horizon)"
        )
    return settings
