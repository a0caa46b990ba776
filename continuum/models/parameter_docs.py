"""The parameters of a model in its docstring, written from its own ``PARAMETERS`` table.

:func:`document_parameters` adds one numpydoc entry per parameter (name, default, unit,
meaning, the rule its values obey) to the ``Parameters`` section of a class's docstring,
so ``help(ct.models.Invasion)`` and the API reference list what the model checks its
parameters by, and cannot drift from it. The docstring as written is kept
(:func:`handwritten_docstring`): the documentation's model pages show it above their own
parameter table, which adds each parameter's source.
"""

from __future__ import annotations

import inspect
import re
import weakref

RULES = {
    "nonnegative": ">= 0",
    "positive": "> 0",
    "fraction": "in [0, 1]",
    "real": "any real number",
}
HEADER = re.compile(r"^(\S[^\n]*)\n-{3,}[ \t]*$", re.MULTILINE)  # a numpydoc section title
ENTRY = re.compile(r"^(\*{0,2}\w[\w, *]*?)\s*:", re.MULTILINE)  # "name, other : ..."
_HANDWRITTEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def document_parameters(cls, skip=()):
    """Add the entries of ``cls.PARAMETERS`` (but the names in ``skip`` and those the
    docstring documents already) to the ``Parameters`` section of ``cls.__doc__``,
    making the section when there is none. Returns ``cls``."""
    table = [p for p in getattr(cls, "PARAMETERS", ()) if p.name not in skip]
    doc = cls.__dict__.get("__doc__")
    if not table or not doc:
        return cls
    text = inspect.cleandoc(doc)
    _HANDWRITTEN[cls] = text
    section = _parameters_section(text)
    if section is None:
        cls.__doc__ = f"{text}\n\nParameters\n----------\n{parameter_entries(table)}\n"
        return cls
    start, end = section
    documented = {
        name.strip().lstrip("*")
        for names in ENTRY.findall(text[start:end])
        for name in names.split(",")
    }
    entries = parameter_entries([p for p in table if p.name not in documented])
    if entries:
        body = text[start:end].rstrip("\n")
        text = f"{text[:start]}{body}\n{entries}\n{_after(text[end:])}"
    cls.__doc__ = text
    return cls


def handwritten_docstring(cls) -> str | None:
    """The docstring of ``cls`` as written, before :func:`document_parameters` added its
    parameters (``None`` for a class it did not document)."""
    return _HANDWRITTEN.get(cls) if isinstance(cls, type) else None


def parameter_entries(table) -> str:
    """numpydoc entries of a parameter table: ``name : float, default <value>`` over its
    meaning, unit and rule."""
    from continuum.readable import number

    lines = []
    for p in table:
        unit = "dimensionless" if p.unit == "1" else p.unit
        # "a rate" -> "A rate", but "ρ, net proliferation rate" keeps its symbol
        first = p.description[:1]
        meaning = (first.upper() if first.isascii() else first) + p.description[1:]
        lines.append(f"{p.name} : float, default {number(p.default, 6)}")
        lines.append(f"    {meaning} [{unit}]; {RULES.get(p.rule, p.rule)}.")
    return "\n".join(lines)


def _parameters_section(text: str) -> tuple[int, int] | None:
    """Where the body of the ``Parameters`` section of ``text`` starts and ends."""
    headers = list(HEADER.finditer(text))
    for i, header in enumerate(headers):
        if header.group(1).strip() == "Parameters":
            end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
            return header.end() + 1, end
    return None


def _after(rest: str) -> str:
    """The text after the Parameters section, set off by one blank line."""
    return f"\n{rest.lstrip(chr(10))}" if rest.strip() else ""
