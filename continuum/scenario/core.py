"""The :class:`Scenario`: a scenario file's tables parsed, validated and built into a
model, its initial state, treatments and run settings."""

from __future__ import annotations

import tomllib
from pathlib import Path

from continuum.interventions import Schedule
from continuum.scenario.checker import Checker, ScenarioError
from continuum.scenario.initial import initial_field, initial_state
from continuum.scenario.keys import SECTIONS
from continuum.scenario.tables import (
    apply_override,
    parse_interventions,
    parse_model,
    parse_run,
)
from continuum.state import check_frames_fit


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
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ScenarioError(
                str(path), [f"{str(path)!r} is not a TOML text file (not UTF-8: {error.reason})"]
            ) from None
        return cls.from_text(text, str(path), path.parent, overrides)

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
        check = Checker()
        for key, value in (overrides or {}).items():
            apply_override(data, key, value, check)
        if overrides:
            lines = "".join(f"# {key} = {value!r}\n" for key, value in overrides.items())
            text = f"{text.rstrip()}\n\n# overrides (continuum run --set):\n{lines}"
        check.keys(data, SECTIONS, "scenario")
        model, grid = parse_model(data, check, Path(folder))
        state = None
        initial = check.table(data.get("initial"), "initial")
        if model is not None and (grid is not None or not model.field_names):
            state = initial_state(model, grid, initial, Path(folder), check)
        elif grid is not None:  # no model to name the fields: check the entries alone
            for name, value in initial.items():
                if isinstance(value, dict):
                    initial_field(value, grid, Path(folder), f"initial.{name}", check)
        settings = parse_run(check.table(data.get("run"), "run"), model, check)
        if state is not None and "t_end" in settings:
            every = settings.get("save_every", settings["t_end"] / 100.0)
            check.attempt("run", check_frames_fit, state, 0.0, settings["t_end"], every)
        entries = data.get("interventions", [])
        interventions = parse_interventions(entries, grid, Path(folder), check)
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

    def _repr_html_(self) -> str:
        """A table of the scenario (model, grid, initial state, sites, treatments, run
        settings), for Jupyter (:mod:`continuum.html`)."""
        from continuum.html import scenario_html

        return scenario_html(self)

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


def example_path(name: str) -> Path:
    """The file of a scenario shipped with continuum, by name (``"breast_patient"``,
    ``"lumped_patient"``, ...): ``examples/<name>.toml`` of the source tree (editable
    installs), which a wheel ships as the package data ``continuum.scenarios``."""
    root = Path(__file__).resolve().parents[2]
    folder = root / "examples"
    if not (root / "pyproject.toml").is_file():  # not a source tree: an installed wheel
        from importlib.resources import files

        folder = Path(str(files("continuum.scenarios")))
    names = sorted(path.stem for path in folder.glob("*.toml"))
    if name not in names:
        raise ValueError(f"example scenario: got {name!r}; the examples are {names}")
    return folder / f"{name}.toml"


def load_scenario(path, overrides: dict | None = None) -> Scenario:
    """:meth:`Scenario.from_toml`."""
    return Scenario.from_toml(path, overrides)
