"""HTML summaries of runs, run files and scenarios: their ``_repr_html_`` in Jupyter.

Each is one self-contained block: a heading, then sections (model and parameters, grid,
time, fields, sites, treatments, series, solver, file) as plain tables inside
``<details>`` elements, with its own ``<style>`` scoped to the class ``continuum-repr``:
no scripts, no external CSS. Every text is escaped with :func:`html.escape`. Lengths in
mm, time in days, cells as counts; each number stands beside its unit.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Sections with more rows than this start closed (a cascade records ~20 series a site).
OPEN_ROWS = 12
# The block's own style, scoped to its class (Jupyter right-aligns table cells).
STYLE = (
    "<style>"
    ".continuum-repr{font-family:sans-serif;font-size:12px;line-height:1.35}"
    ".continuum-repr table{border-collapse:collapse;margin:2px 0 6px 14px}"
    ".continuum-repr th,.continuum-repr td"
    "{text-align:left;padding:1px 10px 1px 0;vertical-align:top}"
    ".continuum-repr .note{color:#777}"
    "</style>"
)


@dataclass
class Section:
    """A titled table: ``header`` names the columns, each row holds one value per column
    (numbers are shown to 4 significant digits); ``note`` follows the title."""

    title: str
    header: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    note: str = ""


def text(value) -> str:
    """``value`` as short text: numbers to 4 significant digits, sequences in brackets,
    dicts as ``key = value`` pairs (not escaped: :func:`render` escapes)."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    if isinstance(value, list | tuple | np.ndarray):
        return "[" + ", ".join(text(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k} = {text(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def render(kind: str, description: str, sections: list[Section]) -> str:
    """The HTML block: ``kind`` in bold, ``description`` beside it, then each section
    with rows as a ``<details>`` table (open unless longer than :data:`OPEN_ROWS`)."""
    parts = [
        STYLE,
        '<div class="continuum-repr">',
        f'<b>{html.escape(kind)}</b> <span class="note">{html.escape(description)}</span>',
    ]
    for section in sections:
        if not section.rows:
            continue
        opened = " open" if len(section.rows) <= OPEN_ROWS else ""
        note = f' <span class="note">{html.escape(section.note)}</span>' if section.note else ""
        parts.append(
            f"<details{opened}><summary><b>{html.escape(section.title)}</b>{note}</summary>"
        )
        parts.append("<table>")
        head = "".join(f"<th>{html.escape(name)}</th>" for name in section.header)
        parts.append(f"<tr>{head}</tr>")
        for row in section.rows:
            cells = "".join(f"<td>{html.escape(text(value))}</td>" for value in row)
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</table></details>")
    parts.append("</div>")
    return "\n".join(parts)


# -- sections --------------------------------------------------------------------------
def model_name(model) -> str:
    """``Invasion``, or ``Cascade of LumpedPrimary (gompertz)`` (a primary's growth law)."""
    primary = model.primary
    name = type(primary).__name__
    if getattr(primary, "growth", None):
        name += f" ({primary.growth})"
    return name if primary is model else f"{type(model).__name__} of {name}"


def model_section(model) -> Section:
    """The model's parameters: value, unit and meaning (a lumped primary's growth law by
    name, without the parameters it does not use)."""
    from continuum.models.lumped import unused_growth_parameters

    primary = model.primary
    table = {p.name: p for p in primary.PARAMETERS}
    law = getattr(primary, "growth", None)
    unused = set(unused_growth_parameters(law, list(model.parameters)))
    rows = []
    for name, value in model.parameters.items():
        p = table.get(name)
        if name == "law" and law:
            rows.append(("growth law", law, "", "the primary's growth law"))
        elif name not in unused:
            rows.append((name, value, p.unit if p else "", p.description if p else ""))
    note = f"{model_name(model)}, {len(rows)} parameters"
    return Section("Model", ("parameter", "value", "unit", "meaning"), rows, note)


def grid_section(grid) -> Section:
    """Shape, spacing [mm], extent [mm], cell volume [mm^3] and mask of the grid."""
    cross = " × "
    extent = cross.join(
        f"{o:.4g} to {o + n * h:.4g}"
        for o, n, h in zip(grid.origin, grid.shape, grid.spacing, strict=True)
    )
    rows = [
        ("shape", cross.join(str(n) for n in grid.shape), "cells"),
        ("spacing", cross.join(f"{h:.4g}" for h in grid.spacing), "mm"),
        ("extent", extent, "mm"),
        ("cell volume", grid.cell_volume, "mm^3"),
    ]
    if grid.mask is not None:
        rows.append(("tissue mask", f"{int(grid.mask.sum())} of {grid.size} cells", ""))
    return Section(
        "Grid", ("", "value", "unit"), rows, f"{grid.ndim}D, axes {', '.join(grid.axis_names)}"
    )


def time_section(times) -> Section:
    """First and last frame [day], number of frames and the interval between them."""
    times = np.asarray(times)
    if times.size == 0:
        return Section("Time", ("", "value", "unit"), [("frames", 0, "")])
    rows = [("start", times[0], "day"), ("end", times[-1], "day"), ("frames", times.size, "")]
    if times.size > 1:
        rows.append(("frame interval", times[1] - times[0], "day"))
    return Section("Time", ("", "value", "unit"), rows)


def fields_section(model, extra: dict | None = None, extra_name: str = "") -> Section:
    """Each field with its unit and the unit in words, what its value 1 stands for
    (:meth:`Model.field_scale`: ``fraction of K_cell = 1e5 cells/mm^3``); ``extra``
    adds a column ``extra_name`` (``{field: value}``)."""
    header = ("field", "unit", "value 1 stands for", *((extra_name,) if extra else ()))
    rows = []
    for name in model.field_names:
        unit, scale = model.field_unit(name), model.field_scale(name)
        row = (name, unit, "" if scale == unit else scale)
        rows.append((*row, extra[name]) if extra else row)
    return Section("Fields", header, rows, f"{len(rows)}")


def series_section(names, unit_of, last_of, t_end) -> Section:
    """Each series with its unit and its value at the last frame ``t_end`` [day]."""
    at = "last value" if t_end is None else f"at day {t_end:.4g}"
    rows = [(name, unit_of(name), last_of(name)) for name in names]
    return Section("Series", ("series", "unit", at), rows, f"{len(rows)}")


def sites_section(model) -> Section:
    """A cascade's secondary sites: organ, kind, growth, capacity and detection [cells],
    seeding survival and establishment."""
    header = (
        "site",
        "organ",
        "kind",
        "growth",
        "capacity [cells]",
        "detectable from [cells]",
        "survival",
        "establishment",
    )
    rows = []
    for site in getattr(model, "sites", ()):
        if site.grid is None:
            kind, growth = "size-structured", _growth(site.growth)
        else:
            shape = " × ".join(str(n) for n in site.grid.shape)
            kind, growth = f"spatial, {shape} cells", type(site.model).__name__
        p = site.parameters
        capacity = "none" if math.isinf(site.capacity) else site.capacity
        row = (site.name, site.organ, kind, growth, capacity, p["detection"])
        rows.append((*row, p["survival"], p["establishment"]))
    return Section("Sites", header, rows, f"{len(rows)}")


def _growth(growth: dict) -> str:
    """A site's growth law with units: ``logistic: a = 0.0134 1/day, K = 1e+11 cells``."""
    from continuum.models.lumped import LumpedPrimary, unused_growth_parameters

    units = {p.name: p.unit for p in LumpedPrimary.PARAMETERS}
    skip = {"law", *unused_growth_parameters(growth.get("law"), list(growth))}
    values = ", ".join(
        f"{k} = {text(v)} {units.get(k, '')}".rstrip() for k, v in growth.items() if k not in skip
    )
    return f"{growth.get('law', '')}: {values}" if values else str(growth.get("law", ""))


def treatments_section(interventions) -> Section:
    """Each treatment with its settings and their units (the ``unit`` its fields carry)."""
    from dataclasses import fields

    from continuum.interventions import to_json

    rows = []
    for item in interventions:
        values = to_json(item)
        units = {f.name: f.metadata.get("unit", "") for f in fields(item)}
        settings = []
        for name, value in values.items():
            if name == "kind" or (name == "target" and value is None):
                continue
            if name == "target":
                value = "a mask of the grid" if isinstance(value, str) else _region(value)
            unit = "" if units.get(name) in (None, "1") else units[name]
            settings.append(f"{name} = {text(value)} {unit}".rstrip())
        rows.append((values["kind"], ", ".join(settings)))
    return Section("Treatments", ("treatment", "settings"), rows, f"{len(rows)}")


def _region(target: dict) -> str:
    """A radiotherapy target region [mm]."""
    centre = target.get("centre")
    where = "the grid's centre" if centre is None else f"{text(centre)} mm"
    return f"radius {text(target['radius'])} mm around {where}"


def settings_section(title: str, settings: dict) -> Section:
    """Run or solver settings with their units (times in days)."""
    units = {
        "t_start": "day",
        "t_end": "day",
        "save_every": "day",
        "checkpoint_every": "day",
        "dt": "day",
        "atol": "field units",
        "compile_seconds": "s",
    }
    rows = [(k, v, units.get(k, "")) for k, v in settings.items() if v is not None]
    return Section(title, ("setting", "value", "unit"), rows)


def file_section(path, attrs: dict, frames: int) -> Section:
    """A run file's absolute path, size on disk, format, writer and completeness."""
    path = Path(path).resolve()
    rows = [
        ("path", str(path)),
        ("size on disk", _size(path.stat().st_size)),
        ("format version", attrs.get("format_version")),
        ("written by", f"continuum {attrs.get('continuum_version')}"),
        ("created", attrs.get("created")),
        ("complete frames", frames),
        ("last checkpoint", attrs.get("checkpoint") or "none"),
    ]
    return Section("File", ("", "value"), rows)


def _size(n: int) -> str:
    """Bytes as ``123 B``, ``4.5 kB``, ``6.7 MB`` or ``1.2 GB`` (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


# -- the three objects -----------------------------------------------------------------
def _run_sections(run, last_of) -> list[Section]:
    """What a :class:`~continuum.Result` and a :class:`~continuum.RunFile` share."""
    model, times = run.model, run.times
    t_end = float(times[-1]) if len(times) else None
    return [
        model_section(model),
        *([grid_section(run.grid)] if model.field_names else []),
        time_section(times),
        fields_section(model),
        sites_section(model),
        treatments_section(run.interventions),
        series_section(run.series_names, run.series_unit, last_of, t_end),
    ]


def _description(run) -> str:
    times = run.times
    span = f"day {times[0]:.4g} to {times[-1]:.4g}, {len(times)} frames" if len(times) else ""
    where = ""
    if run.model.field_names:
        where = " on a " + " × ".join(str(n) for n in run.grid.shape) + " grid"
    return f"{model_name(run.model)}{where}, {span}"


def result_html(result) -> str:
    """The summary of a :class:`~continuum.Result`."""
    sections = _run_sections(result, lambda name: result.series(name)[-1])
    sections.append(settings_section("Solver", result.solver_stats))
    if result.path is not None:
        sections.append(Section("File", ("", "value"), [("fields streamed to", result.path)]))
    return render("Result", _description(result), sections)


def run_file_html(run) -> str:
    """The summary of an open :class:`~continuum.RunFile`."""
    sections = _run_sections(run, lambda name: run.series(name)[-1])
    sections.append(settings_section("Solver", run.solver_settings))
    sections.append(file_section(run.path, run.attrs, run.frames))
    return render("RunFile", f"{run.path.name}: {_description(run)}", sections)


def scenario_html(scenario) -> str:
    """The summary of a :class:`~continuum.Scenario`: model, grid, initial state, run
    settings, sites and treatments."""
    model, state = scenario.model, scenario.state
    sections = [model_section(model)]
    initial = {}
    if state is not None:
        if model.field_names:
            sections.append(grid_section(state.grid))
        for name in model.field_names:
            values = state[name]
            initial[name] = f"{values.min():.4g} to {values.max():.4g}"
        scalars = [
            (name, state[name], model.series_units.get(name, "cells"))
            for name in state.scalar_names
            if np.ndim(state[name]) == 0 and state[name] != 0
        ]
        sections.append(Section("Initial scalars", ("scalar", "value", "unit"), scalars))
    sections += [
        fields_section(model, initial, "initial (min to max)"),
        sites_section(model),
        treatments_section(scenario.interventions),
        settings_section("Run", scenario.run_settings),
    ]
    title = scenario.title or Path(scenario.source).name
    return render("Scenario", f"{title}: {model_name(model)}", sections)
