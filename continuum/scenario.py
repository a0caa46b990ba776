"""Scenario files: a patient or an experiment described in TOML, validated up front.

A scenario names the grid, the model and its parameters, the initial conditions, the
vessel maps, the circulation and the secondary sites (which make it a
:class:`~continuum.models.cascade.Cascade`) and the run settings::

    title = "breast primary, two years"
    [grid]
    shape = [64, 64]
    spacing = 0.05                      # mm
    [model]
    name = "Invasion"
    parameters = { k_emt = 0.02 }       # any of the model's parameters
    [initial]
    epithelial = { shape = "disk", radius = 0.5, value = 0.9 }   # mm; or a number, or
                              # { file = "e0.npy" }, or { file = "run.h5", dataset =
                              # "fields/epithelial", frame = -1 } (a run's last frame)
    [vessels]
    blood = { fraction = 0.03, seed = 1 }                        # or a number or a file
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

Every problem (unknown keys, with a suggestion; wrong types; values out of range;
missing entries; arrays that do not fit the grid) is collected and reported at once in
one :class:`ScenarioError`, before any file is created.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

import numpy as np

from continuum import models as model_classes
from continuum import vessels as vessel_maps
from continuum.grid import Grid
from continuum.interventions import KINDS, Schedule
from continuum.models.cascade import Cascade
from continuum.models.sites import Circulation, SecondarySite
from continuum.state import check_frames_fit
from continuum.validation import check_integer, check_positive, check_real

SECTIONS = {
    "title": "a name for the run",
    "grid": "the tissue grid: shape, spacing [mm], origin [mm]",
    "model": "name and parameters of the model",
    "initial": "initial fields and compartments",
    "vessels": "blood and lymph vessel maps (Invasion)",
    "circulation": "blood and lymph rates, first pass, lymph node",
    "sites": "secondary sites",
    "cascade": "horizon and cohort_days of a cascade",
    "interventions": "treatments: resection, radiotherapy, systemic therapy",
    "run": "t_end, save_every, method, dt, rtol, atol, output, compression",
}
MODELS = (
    "Heat",
    "FisherKPP",
    "Taxis",
    "AndersonChaplain",
    "AcidMediated",
    "Invasion",
    "LumpedPrimary",
)
RUN_KEYS = ("t_end", "save_every", "method", "dt", "rtol", "atol", "output", "compression")
SHAPES = ("disk", "ball", "interval")


class ScenarioError(ValueError):
    """Everything wrong with a scenario, one problem per line."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in problems)
        count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
        super().__init__(f"{source}: {count}\n{lines}")


class _Checker:
    """Collects problems instead of stopping at the first."""

    def __init__(self):
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(message)

    def keys(self, table: dict, allowed, where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                known = ", ".join(sorted(allowed))
                self.add(f"{where}: unknown key {key!r}{hint} (known: {known})")

    def table(self, value, where: str) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(f"{where}: got {type(value).__name__} {value!r}; a table is required")
            return {}
        return value

    def number(self, table: dict, key: str, where: str, required=False, positive=False):
        if key not in table:
            if required:
                self.add(f"{where}: missing required entry {key!r}")
            return None
        return self.value(check_positive if positive else check_real, f"{where}.{key}", table[key])

    def value(self, check, name: str, value, *args):
        """``check(name, value, *args)`` (a :mod:`continuum.validation` check); its
        ValueError becomes one problem and ``None``."""
        try:
            return check(name, value, *args)
        except ValueError as error:
            self.add(str(error))
            return None

    def attempt(self, where: str, build, *args, **kwargs):
        """Call a constructor; its ValueError becomes one problem."""
        try:
            return build(*args, **kwargs)
        except (ValueError, KeyError, TypeError) as error:
            message = error.args[0] if error.args else str(error)
            self.add(f"{where}: {message}")
            return None


class Scenario:
    """A validated scenario: ``model``, ``state``, ``interventions``, ``run_settings``,
    ``title`` and its TOML ``text``.

    Build with :meth:`from_toml` (a path) or :meth:`from_text`; run with :meth:`run`.
    """

    def __init__(self, model, state, run_settings: dict, text: str, source: str, interventions=()):
        self.model = model
        self.state = state
        self.interventions = list(interventions)
        self.title = ""
        self.run_settings = run_settings
        self.text = text
        self.source = source

    @classmethod
    def from_toml(cls, path, overrides: dict | None = None) -> Scenario:
        """Read a scenario file; ``overrides`` as in :meth:`from_text`."""
        path = Path(path)
        if not path.is_file():
            raise ScenarioError(str(path), [f"scenario file {str(path)!r} does not exist"])
        return cls.from_text(path.read_text(), str(path), path.parent, overrides)

    @classmethod
    def from_text(
        cls, text: str, source: str = "scenario", folder=".", overrides: dict | None = None
    ) -> Scenario:
        """Build from TOML text. ``overrides`` maps dotted keys to values (``{"run.t_end":
        100, "model.parameters.k_emt": 0.1}``, as ``continuum run --set`` gives them); they
        are listed as comments at the end of the stored text. Relative file names are
        taken from ``folder``."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ScenarioError(source, [f"not valid TOML: {error}"]) from None
        check = _Checker()
        for key, value in (overrides or {}).items():
            _override(data, key, value, check)
        if overrides:
            lines = "".join(f"# {key} = {value!r}\n" for key, value in overrides.items())
            text = f"{text.rstrip()}\n\n# overrides (continuum run --set):\n{lines}"
        check.keys(data, SECTIONS, "scenario")
        model, grid = _model(data, check)
        state = None
        initial = check.table(data.get("initial"), "initial")
        if model is not None and (grid is not None or not model.field_names):
            state = _initial_state(model, grid, initial, Path(folder), check)
        elif grid is not None:  # no model to name the fields: check the entries alone
            for name, value in initial.items():
                if isinstance(value, dict):
                    _initial_field(value, grid, Path(folder), f"initial.{name}", check)
        settings = _run_settings(check.table(data.get("run"), "run"), model, check)
        if state is not None and "t_end" in settings:
            every = settings.get("save_every", settings["t_end"] / 100.0)
            check.attempt("run", check_frames_fit, state, 0.0, settings["t_end"], every)
        entries = data.get("interventions", [])
        interventions = _interventions(entries, grid, Path(folder), check)
        if state is not None and isinstance(entries, list) and len(interventions) == len(entries):
            check.attempt("interventions", Schedule, interventions, model, state.grid, 0.0)
        title = data.get("title", "")
        if not isinstance(title, str):
            check.add(f"title: got {title!r}; a string is required")
        if check.problems:
            raise ScenarioError(source, check.problems)
        scenario = cls(model, state, settings, text, source, interventions)
        scenario.title = title
        return scenario

    def run(self, output=None, t_end=None, overwrite=False, progress=None, **options):
        """Run the scenario (``output`` and ``t_end`` [day] override the file's; other
        keywords, e.g. ``checkpoint_every``, go to :func:`~continuum.simulate`)."""
        from continuum.simulation import simulate

        settings = dict(self.run_settings)
        if t_end is not None:
            settings["t_end"] = float(t_end)
        if output is not None:
            settings["output"] = output
        return simulate(
            self.model,
            self.state,
            overwrite=overwrite,
            progress=progress,
            scenario=self.text,
            interventions=self.interventions,
            **{**settings, **options},
        )


def load_scenario(path, overrides: dict | None = None) -> Scenario:
    """:meth:`Scenario.from_toml`."""
    return Scenario.from_toml(path, overrides)


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


def _override(data: dict, key: str, value, check: _Checker) -> None:
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


def _grid(table: dict, check: _Checker):
    check.keys(table, ("shape", "spacing", "origin"), "grid")
    shape = table.get("shape")
    if shape is None:
        check.add("grid: missing required entry 'shape'")
        return None
    return check.attempt("grid", Grid, shape, table.get("spacing", 1.0), table.get("origin", 0.0))


def _model(data: dict, check: _Checker):
    """The model (a Cascade when there are sites or a circulation) and its grid."""
    table = check.table(data.get("model"), "model")
    check.keys(table, ("name", "parameters", "growth"), "model")
    name = table.get("name")
    if name is None:
        check.add("model: missing required entry 'name'")
        return None, None
    if name not in MODELS:
        close = difflib.get_close_matches(str(name), MODELS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        check.add(f"model.name: got {name!r}{hint} (known: {', '.join(MODELS)})")
        return None, None
    cls = getattr(model_classes, name)
    parameters = dict(check.table(table.get("parameters"), "model.parameters"))
    known = {p.name for p in cls.PARAMETERS}
    check.keys(parameters, known, "model.parameters")
    parameters = {k: v for k, v in parameters.items() if k in known}
    grid = None
    if name != "LumpedPrimary":
        grid = _grid(check.table(data.get("grid"), "grid"), check)
    elif "grid" in data:
        check.add("grid: a LumpedPrimary has no tissue; remove the [grid] section")
    options = {}
    if name == "LumpedPrimary":
        options["growth"] = table.get("growth", "gompertz")
    elif "growth" in table:
        check.add(f"model.growth: only LumpedPrimary takes a growth law, not {name}")
    vessels = check.table(data.get("vessels"), "vessels")
    if vessels:
        if name != "Invasion":
            check.add(f"vessels: only the Invasion model has vessel maps, not {name}")
        elif grid is not None:
            options.update(_vessels(vessels, grid, check))
    model = check.attempt("model", cls, **options, **parameters)
    if "circulation" in data or data.get("sites"):
        model = _cascade(model, data, check)  # checks the sites even without a primary
    return model, grid


def _vessels(table: dict, grid: Grid, check: _Checker, prefix: str = "vessels") -> dict:
    check.keys(table, ("blood", "lymph"), prefix)
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
        check.keys(spec, ("fraction", "seed", "radius", "file"), where)
        if "file" in spec:
            name = _file_name(spec, where, check)
            array = (
                None if name is None else check.attempt(where, vessel_maps.from_image, grid, name)
            )
        else:
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


def _cascade(primary, data: dict, check: _Checker):
    table = dict(check.table(data.get("circulation"), "circulation"))
    entries = (*Circulation.RATES, "first_pass", "lymph_node", "clusters", "transit_time")
    check.keys(table, entries, "circulation")
    if isinstance(table.get("first_pass"), dict):
        check.keys(table["first_pass"], ("site", "fraction"), "circulation.first_pass")
    circulation = check.attempt("circulation", Circulation, **table)
    sites = []
    entries = data.get("sites", [])
    if not isinstance(entries, list):
        check.add("sites: an array of tables ([[sites]]) is required")
        entries = []
    parameters = [p.name for p in SecondarySite.PARAMETERS]
    allowed = (
        "name",
        "organ",
        "flow",
        "affinity",
        "capacity",
        "growth",
        "seeding",
        "shedding",
        *parameters,
    )
    for i, entry in enumerate(entries):
        entry = check.table(entry, f"sites[{i}]")
        where = f"sites[{i}]" + (f" ({entry['name']!r})" if "name" in entry else "")
        check.keys(entry, (*allowed, "grid", "tissue"), where)
        if "name" not in entry:
            check.add(f"{where}: missing required entry 'name'")
            continue
        options = {k: v for k, v in entry.items() if k in allowed}
        if "grid" in entry or "tissue" in entry:
            tissue = _site_tissue(entry, where, check)
            if tissue is None:
                continue
            options["grid"], options["model"] = tissue
        site = check.attempt(where, SecondarySite, **options)
        if site is not None:
            sites.append(site)
    options = dict(check.table(data.get("cascade"), "cascade"))
    check.keys(options, ("horizon", "cohort_days"), "cascade")
    if primary is None or circulation is None or len(sites) != len(entries):
        return None
    return check.attempt("cascade", Cascade, primary, circulation, sites, **options)


def _interventions(entries, grid, folder: Path, check: _Checker) -> list:
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
            array = _initial_field(target, grid, folder, f"{where}.target", check)
            entry["target"] = None if array is None else array != 0
        item = check.attempt(where, cls, **{k: v for k, v in entry.items() if k in allowed})
        if item is not None:
            built.append(item)
    return built


def _site_tissue(entry: dict, where: str, check: _Checker):
    """``(grid, Invasion model)`` of a spatial site, from its ``grid`` and ``tissue``."""
    if "grid" not in entry:
        check.add(f"{where}: 'tissue' needs a 'grid' (shape, spacing [mm])")
        return None
    grid = _grid(check.table(entry["grid"], f"{where}.grid"), check)
    tissue = check.table(entry.get("tissue"), f"{where}.tissue")
    check.keys(tissue, ("parameters", "vessels"), f"{where}.tissue")
    parameters = dict(check.table(tissue.get("parameters"), f"{where}.tissue.parameters"))
    known = {p.name for p in model_classes.Invasion.PARAMETERS}
    check.keys(parameters, known, f"{where}.tissue.parameters")
    parameters = {k: v for k, v in parameters.items() if k in known}
    if grid is None:
        return None
    prefix = f"{where}.tissue.vessels"
    vessels = _vessels(check.table(tissue.get("vessels"), prefix), grid, check, prefix)
    model = check.attempt(f"{where}.tissue", model_classes.Invasion, **vessels, **parameters)
    return None if model is None else (grid, model)


def _initial_state(model, grid, table: dict, folder: Path, check: _Checker):
    names = set(model.field_names) | set(model.scalar_names)
    check.keys(table, names, "initial")
    values = {}
    for name, value in table.items():
        if name not in names:
            continue
        where = f"initial.{name}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[name] = float(value)
        elif name not in model.field_names:
            check.add(f"{where}: got {value!r}; a compartment takes a number [cells]")
        else:
            array = _initial_field(check.table(value, where), grid, folder, where, check)
            if array is not None:
                values[name] = array
    return check.attempt("initial", model.initial_state, grid, **values)


def _array_from_file(spec: dict, grid: Grid, folder: Path, where: str, check: _Checker):
    """An array of the grid's shape from ``{file = "a.npy"}`` or ``{file = "run.h5",
    dataset = "fields/epithelial", frame = -1}`` (an HDF5 dataset of the grid's shape, or
    one frame of a stack of them: the last unless ``frame`` says)."""
    name = _file_name(spec, where, check)
    if name is None:
        return None
    path = folder / name
    hdf5 = path.suffix in (".h5", ".hdf5")
    check.keys(spec, ("file", "dataset", "frame") if hdf5 else ("file",), where)
    try:
        if hdf5:
            array = _hdf5_array(spec, path, grid, where, check)
            if array is None:
                return None
        else:
            array = np.load(path)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as error:
        check.add(f"{where}.file: cannot read {str(path)!r} ({error})")
        return None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "iufb":
        kind = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
        check.add(f"{where}.file: {str(path)!r} holds {kind} values; real numbers are required")
        return None
    if array.shape != grid.shape:
        check.add(f"{where}.file: array of shape {array.shape} does not fit the grid {grid.shape}")
        return None
    return array


def _hdf5_array(spec: dict, path: Path, grid: Grid, where: str, check: _Checker):
    """The array of ``spec``'s ``dataset`` in the HDF5 file ``path`` (one frame of a stack
    of grid-shaped arrays: ``frame``, by default the last one written)."""
    import h5py

    dataset = spec.get("dataset")
    if not isinstance(dataset, str):
        check.add(f'{where}.dataset: got {dataset!r}; an HDF5 file needs dataset = "path/in/file"')
        return None
    frame = check.value(check_integer, f"{where}.frame", spec.get("frame", -1))
    if frame is None:
        return None
    with h5py.File(path, "r") as handle:
        data = handle[dataset]
        if not isinstance(data, h5py.Dataset):
            check.add(f"{where}.dataset: {dataset!r} in {str(path)!r} is a group, not a dataset")
            return None
        if data.ndim != grid.ndim + 1:
            return data[()]
        if "frames" in handle.attrs and frame == -1:  # a run file: its last frame
            frame = int(handle.attrs["frames"]) - 1
        return data[frame]


def _file_name(spec: dict, where: str, check: _Checker) -> str | None:
    """``spec["file"]``, a path relative to the scenario's folder, or ``None`` (a problem)."""
    name = spec["file"]
    if not isinstance(name, str) or not name:
        check.add(f"{where}.file: got {name!r}; a file name (a string) is required")
        return None
    return name


def _initial_field(spec: dict, grid: Grid, folder: Path, where: str, check: _Checker):
    if "file" in spec:
        return _array_from_file(spec, grid, folder, where, check)
    check.keys(spec, ("shape", "radius", "value", "centre"), where)
    shape = spec.get("shape")
    if shape not in SHAPES:
        check.add(f"{where}.shape: got {shape!r}; allowed are {', '.join(SHAPES)} or a file")
        return None
    radius = check.number(spec, "radius", where, required=True, positive=True)
    value = check.number(spec, "value", where) if "value" in spec else 1.0
    centre = spec.get("centre", [o + e / 2 for o, e in zip(grid.origin, grid.extent, strict=True)])
    if not isinstance(centre, list) or len(centre) != grid.ndim:
        check.add(f"{where}.centre: got {centre!r}; {grid.ndim} coordinates [mm] are required")
        return None
    centre = [
        check.value(check_real, f"{where}.centre[{i}]", c, "mm") for i, c in enumerate(centre)
    ]
    if radius is None or value is None or None in centre:
        return None
    coords = np.meshgrid(*grid.coords, indexing="ij")
    r = np.sqrt(sum((c - c0) ** 2 for c, c0 in zip(coords, centre, strict=True)))
    return np.where(r <= radius, value, 0.0)


def _run_settings(table: dict, model, check: _Checker) -> dict:
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
        ("method", ("euler", "explicit", "imex")),
        ("compression", ("gzip", "lzf", "none")),
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
    if isinstance(model, Cascade) and t_end is not None and t_end > model.horizon:
        check.add(
            f"run.t_end: got {t_end:g} day; the cascade's horizon is {model.horizon:g} day "
            "(set [cascade] horizon)"
        )
    return settings
