"""Pages generated from the code's own tables at every build, so they cannot drift.

Writes Markdown into ``docs/_generated/`` (excluded from the build as pages; included by
the hand-written pages with ``{include}``):

* ``parameters/<table>.md``: a model's parameters from its ``PARAMETERS`` (name, default,
  unit, allowed values, meaning), with the source of each from ``data/parameters.csv``;
* ``scenario/<table>.md``: the keys of each table of a scenario file, from the
  dictionaries the validator checks them against (:mod:`continuum.scenario.keys`, the
  image tables included), the models it can name, the treatments' fields and the initial
  shapes.

It also keeps a model's parameters from showing twice on its page: a model class's
docstring lists its parameters, written from ``PARAMETERS``
(:mod:`continuum.models.parameter_docs`), for ``help()`` and the API reference; a model
page (``autoclass`` with ``:no-index:``) shows the docstring as written, above the page's
generated table, which adds each parameter's source.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "_generated"

RULES = {"nonnegative": "≥ 0", "positive": "> 0", "fraction": "[0, 1]", "real": "any"}


def _cell(text) -> str:
    """A table cell: pipes escaped, newlines folded."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _number(value) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value).lower()
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


def _names(names) -> str:
    """``a``, ``b`` and ``c`` as inline code."""
    quoted = [f"`{name}`" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown (MyST) table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def sources() -> dict[tuple[str, str], str]:
    """``(model, name) -> source`` from ``data/parameters.csv``."""
    with open(ROOT / "data" / "parameters.csv", newline="", encoding="utf-8") as handle:
        return {(row["model"], row["name"]): row["source"] for row in csv.DictReader(handle)}


def parameter_table(parameters, models: tuple[str, ...], known: dict) -> str:
    """The rows of ``parameters`` (:class:`~continuum.models.Parameter`), with their
    sources looked up under ``models`` in order (a source column only if any exists)."""
    header = ["name", "default", "unit", "allowed", "meaning"]
    rows = []
    for p in parameters:
        row = [f"`{p.name}`", _number(p.default), p.unit, RULES.get(p.rule, p.rule), p.description]
        if models:
            row.append(next((known[m, p.name] for m in models if (m, p.name) in known), "—"))
        rows.append(row)
    return table(header + (["source"] if models else []), rows)


def parameter_tables() -> dict[str, str]:
    from continuum import models
    from continuum.models import sites
    from continuum.models.invasion import CIRCULATION_PARAMETERS

    known = sources()
    invasion = {p.name for p in models.Invasion.PARAMETERS}
    immune_only = [p for p in models.ImmuneInvasion.PARAMETERS if p.name not in invasion]
    specs = {
        "heat": (models.Heat.PARAMETERS, ()),
        "fisher-kpp": (models.FisherKPP.PARAMETERS, ()),
        "taxis": (models.Taxis.PARAMETERS, ()),
        "anderson-chaplain": (models.AndersonChaplain.PARAMETERS, ()),
        "acid-mediated": (models.AcidMediated.PARAMETERS, ()),
        "keller-segel": (models.KellerSegel.PARAMETERS, ()),
        "invasion": (models.Invasion.PARAMETERS, ("Invasion",)),
        "immune-invasion": (immune_only, ("ImmuneInvasion",)),
        "lumped-primary": (models.LumpedPrimary.PARAMETERS, ("LumpedPrimary", "Invasion")),
        "circulation": (CIRCULATION_PARAMETERS, ("Circulation", "Invasion")),
        "clusters": (sites.CLUSTER_PARAMETERS, ("Circulation",)),
        "secondary-site": (sites.SITE_PARAMETERS, ("SecondarySite",)),
        "immunity": (sites.IMMUNITY_PARAMETERS, ("Kuznetsov1994", "Immunity")),
    }
    return {
        f"parameters/{name}.md": parameter_table(parameters, models_, known)
        for name, (parameters, models_) in specs.items()
    }


def key_table(keys: dict) -> str:
    """The rows of a dictionary of :class:`~continuum.scenario.keys.Key`."""
    rows = [
        [f"`{name}`", key.unit or "—", _number(key.default), key.meaning]
        for name, key in keys.items()
    ]
    return table(["key", "unit", "default", "meaning"], rows)


def treatment_table(cls) -> str:
    """The keys of one treatment: its dataclass fields (those the validator allows)."""
    rows = []
    for f in dataclasses.fields(cls):
        if f.name == "kind":
            continue
        required = f.default is dataclasses.MISSING
        default = "required" if required else _number(f.default)
        rows.append([f"`{f.name}`", f.metadata["unit"] or "—", default, f.metadata["meaning"]])
    return table(["key", "unit", "default", "meaning"], rows)


def scenario_tables() -> dict[str, str]:
    from continuum.interventions import KINDS
    from continuum.models.invasion import CIRCULATION_PARAMETERS
    from continuum.models.lumped import GROWTH_LAW_PARAMETERS
    from continuum.models.sites import SITE_PARAMETERS
    from continuum.scenario import keys
    from continuum.scenario.initial import SHAPES
    from continuum.scenario.tables import MODELS
    from continuum.solvers.choice import CHOICES

    pages = {
        f"scenario/{name}.md": key_table(getattr(keys, f"{name.upper().replace('-', '_')}_KEYS"))
        for name in (
            "grid",
            "mask",
            "model",
            "equation",
            "initial-shape",
            "initial-file",
            "image-field",
            "vessel",
            "vessel-map",
            "vessel-image",
            "circulation",
            "first-pass",
            "site",
            "site-tissue",
            "cascade",
            "run",
        )
    }
    pages["scenario/sections.md"] = key_table(keys.SECTIONS)
    pages["scenario/models.md"] = f"The built-in models a scenario can name: {_names(MODELS)}.\n"
    pages["scenario/shapes.md"] = f"Shapes: {_names(SHAPES)}.\n"
    pages["scenario/methods.md"] = f"Methods: {_names(CHOICES)}.\n"
    pages["scenario/growth-laws.md"] = table(
        ["law", "parameters it reads"],
        [[f"`{law}`", ", ".join(names)] for law, names in GROWTH_LAW_PARAMETERS.items()],
    )
    pages["scenario/circulation-rates.md"] = parameter_table(CIRCULATION_PARAMETERS, (), {})
    pages["scenario/site-parameters.md"] = parameter_table(SITE_PARAMETERS, (), {})
    for kind, cls in KINDS.items():
        pages[f"scenario/intervention-{kind}.md"] = treatment_table(cls)
    pages["scenario/intervention-kinds.md"] = f"Kinds: {_names(KINDS)}.\n"
    return pages


def write_pages(app=None) -> None:
    """Write every generated page whose text changed (unchanged files keep their time
    stamps, so Sphinx does not reread the pages that include them)."""
    for name, text in {**parameter_tables(), **scenario_tables()}.items():
        path = OUT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def _no_index(options) -> bool:
    """Whether an autodoc directive has ``:no-index:`` (options are an object from Sphinx
    9, a mapping before)."""
    if isinstance(options, dict):
        return bool(options.get("no-index") or options.get("noindex"))
    return bool(getattr(options, "no_index", None) or getattr(options, "noindex", None))


def handwritten_model_docstring(app, what, name, obj, options, lines) -> None:
    """On a model page (``autoclass`` with ``:no-index:``; the API reference indexes the
    class) the class docstring without the parameter entries written from
    ``PARAMETERS``: the page's own table lists them, with their sources."""
    from sphinx.util.docstrings import prepare_docstring

    from continuum.models.parameter_docs import handwritten_docstring

    if what != "class" or not _no_index(options):
        return
    text = handwritten_docstring(obj)
    if text is not None:
        lines[:] = prepare_docstring(text)


def setup(app):
    app.connect("builder-inited", write_pages)
    # before numpydoc (priority 500) turns the docstring into reST
    app.connect("autodoc-process-docstring", handwritten_model_docstring, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
