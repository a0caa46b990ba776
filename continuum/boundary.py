"""Boundary conditions per field and per side, packed into arrays for the kernels.

A specification for one field is one of

* a single condition for every side: ``NoFlux()``, ``Dirichlet(value)``, ``Periodic()``,
  or the strings ``"noflux"`` / ``"periodic"``;
* a mapping from axis name (``"x"``, ``"y"``, ``"z"``) to one condition or a
  ``(lower, upper)`` pair; axes not named are no-flux.

Periodic conditions apply to both sides of an axis or to neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from continuum.grid import AXIS_NAMES
from continuum.kernels.fv import DIRICHLET, NOFLUX, PERIODIC  # the codes, re-exported


@dataclass(frozen=True)
class NoFlux:
    """Zero normal flux (homogeneous Neumann): nothing enters or leaves."""

    code = NOFLUX
    value = 0.0


@dataclass(frozen=True)
class Dirichlet:
    """The field equals ``value`` on the boundary face (dimension of the field)."""

    value: float
    code = DIRICHLET


@dataclass(frozen=True)
class Periodic:
    """The axis wraps around: the last cell neighbours the first."""

    code = PERIODIC
    value = 0.0


_NAMED = {"noflux": NoFlux(), "no-flux": NoFlux(), "neumann": NoFlux(), "periodic": Periodic()}


def _one(field, where, spec):
    if isinstance(spec, dict) and set(spec) == {"dirichlet"}:
        spec = Dirichlet(float(spec["dirichlet"]))
    if isinstance(spec, str):
        if spec.lower() not in _NAMED:
            raise ValueError(
                f"bc[{field!r}]{where}: got {spec!r}; allowed are 'noflux', 'periodic', "
                "NoFlux(), Dirichlet(value), Periodic()"
            )
        return _NAMED[spec.lower()]
    if isinstance(spec, NoFlux | Dirichlet | Periodic):
        if isinstance(spec, Dirichlet) and not np.isfinite(spec.value):
            raise ValueError(f"bc[{field!r}]{where}: Dirichlet value {spec.value!r} is not finite")
        return spec
    raise ValueError(
        f"bc[{field!r}]{where}: got {spec!r}; allowed are 'noflux', 'periodic', "
        "NoFlux(), Dirichlet(value), Periodic()"
    )


def _sides(field, axis, spec):
    if isinstance(spec, tuple | list):
        if len(spec) != 2:
            raise ValueError(f"bc[{field!r}][{axis!r}]: got {spec!r}; give (lower, upper)")
        lower, upper = (_one(field, f"[{axis!r}]", s) for s in spec)
    else:
        lower = upper = _one(field, f"[{axis!r}]", spec)
    if (lower.code == PERIODIC) != (upper.code == PERIODIC):
        raise ValueError(
            f"bc[{field!r}][{axis!r}]: periodic on one side only; it must be on both or neither"
        )
    return lower, upper


def pack_boundary_conditions(bc, field_names, ndim):
    """Return ``(kind, value)`` arrays of shape ``(n_fields, 3, 2)`` in the kernels' axis order.

    The kernels see every grid as 3D with leading axes of length 1; those padded axes are
    no-flux, which makes them contribute nothing.
    """
    bc = {} if bc is None else bc
    if isinstance(bc, str | NoFlux | Dirichlet | Periodic):
        bc = dict.fromkeys(field_names, bc)
    if not isinstance(bc, dict):
        raise ValueError(f"bc: got {bc!r}; give one condition or a mapping field -> condition")
    unknown = set(bc) - set(field_names)
    if unknown:
        raise ValueError(
            f"bc: unknown field(s) {sorted(unknown)}; the fields are {list(field_names)}"
        )
    axes = AXIS_NAMES[:ndim]
    kind = np.zeros((len(field_names), 3, 2), dtype=np.int64)
    value = np.zeros((len(field_names), 3, 2))
    for f, name in enumerate(field_names):
        spec = bc.get(name, NoFlux())
        per_axis = spec if isinstance(spec, dict) else dict.fromkeys(axes, spec)
        unknown_axes = set(per_axis) - set(axes)
        if unknown_axes:
            raise ValueError(
                f"bc[{name!r}]: unknown axis {sorted(unknown_axes)}; this grid has {list(axes)}"
            )
        for a, axis in enumerate(axes):
            sides = _sides(name, axis, per_axis.get(axis, NoFlux()))
            for s, side in enumerate(sides):
                kind[f, 3 - ndim + a, s] = side.code
                value[f, 3 - ndim + a, s] = side.value
    return kind, value


def boundary_conditions_to_json(kind, value, field_names, ndim):
    """The packed arrays as a JSON-able per-field, per-axis mapping (inverse of packing)."""
    names = {NOFLUX: "noflux", PERIODIC: "periodic"}
    out = {}
    for f, field in enumerate(field_names):
        axes = {}
        for a, axis in enumerate(AXIS_NAMES[:ndim]):
            sides = []
            for s in range(2):
                code = int(kind[f, 3 - ndim + a, s])
                if code == DIRICHLET:
                    sides.append({"dirichlet": float(value[f, 3 - ndim + a, s])})
                else:
                    sides.append(names[code])
            axes[axis] = sides
        out[field] = axes
    return out
