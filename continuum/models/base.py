"""Base class of all models: fields, scalars, parameters with units, kernel hooks.

Rules for adding a model (numbered, as SciPy's ``OdeSolver`` does):

1. Write its pointwise kernels ``reaction_row`` and ``scalar_rate`` as module-level
   ``@njit(cache=True)`` functions in ``continuum/kernels/`` (signatures in
   ``continuum.kernels.registry``) and register them under a unique ``kernel_name``.
2. Subclass :class:`Model`; declare ``field_names``, ``scalar_names``, ``export_names``,
   ``map_names``, the ``nonnegative_fields`` (densities, refused below zero) and a
   ``PARAMETERS`` table of :class:`Parameter` (value, unit, meaning).
3. Return per-field diffusivities, relative-diffusivity maps and taxis pairs from
   :meth:`transport`, and the kernel parameter vector from :meth:`param_vector`.
4. Keep a readable NumPy :meth:`reference_rate` of the whole right-hand side for tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from continuum.boundary import boundary_conditions_to_json, pack_boundary_conditions
from continuum.grid import Grid
from continuum.state import State
from continuum.validation import (
    check_finite_array,
    check_fraction,
    check_memory,
    check_nonnegative,
    check_positive,
    is_real,
    real_array,
)


@dataclass(frozen=True)
class Parameter:
    """One model parameter: default value, unit, meaning and the rule it must obey."""

    name: str
    default: float
    unit: str
    description: str
    rule: str = "nonnegative"  # "nonnegative", "positive" or "fraction" (in [0, 1])

    def check(self, value):
        if self.rule == "fraction":
            return check_fraction(self.name, value)
        checker = check_positive if self.rule == "positive" else check_nonnegative
        return checker(self.name, value, unit=self.unit)


def checked_parameters(owner: str, table, given: dict, others: str = "") -> dict:
    """Every parameter of ``table`` (its default unless ``given``), each checked by its
    rule; an unknown name raises ``ValueError`` naming ``owner`` and the known names
    (and ``others``, the owner's other arguments)."""
    if not isinstance(given, dict):
        raise ValueError(
            f"{owner}: got {given!r}; a table of parameters (name = value) is required"
        )
    known = {p.name: p for p in table}
    unknown = set(given) - set(known)
    if unknown:
        raise ValueError(
            f"{owner}: unknown parameter(s) {sorted(unknown)}; known are {sorted(known)}"
            + (f" and {others}" if others else "")
        )
    return {name: p.check(given.get(name, p.default)) for name, p in known.items()}


@dataclass(frozen=True)
class Axis:
    """A coordinate of frame arrays: stored as a dimension scale named ``name`` in the
    array's group."""

    name: str
    values: np.ndarray
    units: str
    long_name: str


@dataclass(frozen=True)
class FrameArray:
    """A per-frame array a model stores besides fields and series, with its own axes.

    Stored under its path with shape ``(time, *(len(a.values) for a in axes))``.
    """

    units: str
    long_name: str
    axes: tuple[Axis, ...]


@dataclass(frozen=True)
class Transport:
    """Transport terms of a model, in the kernels' layout.

    diffusivity : (n_fields,) [mm^2/day]
    diffusivity_map : (n_fields,) int index into the static maps (relative diffusivity), -1
    taxis : (n_taxis, 3) rows (field index, attractant index, chi [mm^2/day])
    diffusivity_field : optional (n_fields, 3) rows (field index or -1, a, b): the
        coefficient is multiplied by ``max(0, a + b u[field])``, taken from the current state
        (for example ``1 - normal tissue`` in the acid-mediated model). The stability
        estimate assumes fields in [0, 1].
    """

    diffusivity: np.ndarray
    diffusivity_map: np.ndarray
    taxis: np.ndarray
    diffusivity_field: np.ndarray | None = None

    def law(self) -> np.ndarray:
        """``(n_fields, 4)`` rows ``(map, field, a, b)`` in the kernels' layout."""
        n = len(self.diffusivity)
        law = np.zeros((n, 4))
        law[:, 0] = self.diffusivity_map
        law[:, 1] = -1
        if self.diffusivity_field is not None:
            law[:, 1:] = self.diffusivity_field
        return law


@dataclass(frozen=True)
class TreatmentTarget:
    """What treatments (``continuum.interventions``) act on in a model.

    model : the model whose tissue fields (its ``cell_fields``, and ``oxygen``) or lumped
        cell count a treatment kills: the model itself, or a cascade's primary.
    removed : the cumulative scalar [cells] that books the cells treatments kill.
    lumped_cells : the scalar of a lumped primary's cells [cells]; ``None`` when the
        cells are ``model.cell_fields``.
    """

    model: Model
    removed: str
    lumped_cells: str | None = None


MODEL_CLASSES: dict[str, type] = {}


class Model:
    """A system of fields and scalars with its right-hand side."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        MODEL_CLASSES[cls.__name__] = cls

    kernel_name: str = ""
    field_names: tuple[str, ...] = ()
    scalar_names: tuple[str, ...] = ()
    export_names: tuple[str, ...] = ()
    map_names: tuple[str, ...] = ()
    # Fields whose IMEX step is a full backward-Euler solve (diffusion and the registered
    # ``stiff_rate`` implicit): fast, far-diffusing fields outside the cell budget.
    stiff_fields: tuple[str, ...] = ()
    # Positions of the therapy rates (on tissue cells, on circulating cells) [1/day] in
    # ``param_vector()``, for models whose kernels take a systemic therapy.
    therapy_slots: tuple[int, int] | None = None
    # The fields that are tumour cells (densities as fractions of a carrying capacity):
    # what ``continuum.analysis`` measures and treatments kill.
    cell_fields: tuple[str, ...] = ()
    # Fields that are densities or concentrations (cells, matrix, enzyme, oxygen): their
    # initial values must not be negative.
    nonnegative_fields: tuple[str, ...] = ()
    field_units: ClassVar[dict[str, str]] = {}
    series_units: ClassVar[dict[str, str]] = {}  # units of :meth:`derived_series`
    PARAMETERS: tuple[Parameter, ...] = ()

    def __init__(self, bc=None, **parameters):
        self.parameters = checked_parameters(type(self).__name__, self.PARAMETERS, parameters)
        self.bc = bc

    # -- layout -------------------------------------------------------------------------
    def scalar_layout(self) -> dict[str, tuple[int, tuple]]:
        return {name: (i, ()) for i, name in enumerate(self.scalar_names)}

    def field_unit(self, name: str) -> str:
        return self.field_units.get(name, "1")

    # -- hooks for the solvers ----------------------------------------------------------
    def param_vector(self) -> np.ndarray:
        return np.array([self.parameters[p.name] for p in self.PARAMETERS], dtype=np.float64)

    def transport(self) -> Transport:
        n = len(self.field_names)
        return Transport(np.zeros(n), np.full(n, -1, dtype=np.int64), np.zeros((0, 3)))

    def static_maps(self, grid: Grid) -> np.ndarray:
        """Static maps ``(n_maps, *grid.shape3)`` (vessel densities, relative diffusivity)."""
        return np.zeros((len(self.map_names), *grid.shape3))

    def boundary_arrays(self, grid: Grid):
        return pack_boundary_conditions(self.bc, self.field_names, grid.ndim)

    # -- states -------------------------------------------------------------------------
    def default_fields(self, grid: Grid) -> dict[str, np.ndarray | float]:
        """Initial fields when the user gives none (zeros unless a model says otherwise)."""
        return {}

    def initial_state(self, grid: Grid, **overrides) -> State:
        """Build a state on ``grid``; each override is an array of the grid's shape or a number.

        Names may be fields or scalars; unknown names raise ``ValueError``.
        """
        if not isinstance(grid, Grid):
            raise ValueError(f"grid: got {type(grid).__name__}; a continuum.Grid is required")
        names = set(self.field_names) | set(self.scalar_names)
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(
                f"initial_state: unknown name(s) {sorted(unknown)}; fields are "
                f"{list(self.field_names)}, scalars are {list(self.scalar_names)}"
            )
        shape = (len(self.field_names), *grid.shape)
        n_scalars = sum(math.prod(s) for _, s in self.scalar_layout().values())
        what = f"a state of fields {shape} and {n_scalars} scalars"
        check_memory("initial_state", what, 8.0 * (math.prod(shape) + n_scalars))
        values = {**self.default_fields(grid), **overrides}
        data = np.zeros(shape)
        for f, name in enumerate(self.field_names):
            if name in values:
                data[f] = self._field_value(name, values[name], grid)
        if grid.mask is not None:
            data *= grid.mask
        state = State(grid, self.field_names, data, self.scalar_layout())
        for name in self.scalar_names:
            if name in overrides:
                state.set_scalar(name, check_nonnegative(name, overrides[name], "cells"))
        return state

    def _field_value(self, name, value, grid):
        """An initial field: a number or an array of the grid's shape, real and finite
        (and >= 0 for the model's ``nonnegative_fields``)."""
        if not isinstance(value, np.ndarray | list | tuple) and not is_real(value):
            raise ValueError(
                f"{name}: got {value!r}; a number or an array of the grid shape "
                f"{grid.shape} is required"
            )
        array = real_array(name, value)
        if array.ndim != 0 and array.shape != grid.shape:
            raise ValueError(
                f"{name}: got an array of shape {array.shape}; expected the grid shape "
                f"{grid.shape} or a number"
            )
        return check_finite_array(name, array, name in self.nonnegative_fields)

    @property
    def primary(self) -> Model:
        """The primary tumour's model: the model itself (a cascade returns its primary)."""
        return self

    def treatment_target(self) -> TreatmentTarget | None:
        """What treatments act on, or ``None`` for a model without a cell budget (a
        ``removed`` scalar and tumour cells: ``cell_fields`` or a lumped ``tumor_cells``),
        on which treatments are refused. Models with another layout override it."""
        if "removed" not in self.scalar_names:
            return None
        if self.cell_fields:
            return TreatmentTarget(self, "removed")
        if "tumor_cells" in self.scalar_names:
            return TreatmentTarget(self, "removed", "tumor_cells")
        return None

    def has_tissue(self) -> bool:
        """Whether the model carries tissue fields (lumped models have none)."""
        return bool(self.field_names)

    def derived_series(self, state: State) -> dict[str, float]:
        """Values recorded at every frame besides field totals and scalars (see
        ``series_units``), such as cell counts and fluxes."""
        return {}

    def frame_arrays(self, state: State) -> dict[str, np.ndarray]:
        """Arrays stored at every frame under their path (see :meth:`frame_array_info`)."""
        return {}

    def frame_array_info(self) -> dict[str, FrameArray]:
        """Units and axis of each array of :meth:`frame_arrays`."""
        return {}

    def extra_maps(self) -> dict[str, np.ndarray]:
        """Static maps stored besides ``maps/`` (by path), handed back to
        :meth:`from_spec` under the same keys."""
        return {}

    # -- reference ----------------------------------------------------------------------
    def reference_rate(self, state: State, t: float = 0.0) -> np.ndarray:
        """NumPy reference of the field right-hand side (for tests)."""
        raise NotImplementedError

    def to_spec(self, grid: Grid) -> dict:
        """A JSON-able description from which :meth:`from_spec` rebuilds the model."""
        kind, value = self.boundary_arrays(grid)
        return {
            "model": type(self).__name__,
            "parameters": dict(self.parameters),
            "units": {p.name: p.unit for p in self.PARAMETERS},
            "bc": boundary_conditions_to_json(kind, value, self.field_names, grid.ndim),
        }

    @staticmethod
    def from_spec(spec: dict, maps: dict | None = None) -> Model:
        """Rebuild a model written by :meth:`to_spec`; ``maps`` are its stored static maps."""
        try:
            cls = MODEL_CLASSES[spec["model"]]
        except KeyError:
            raise ValueError(
                f"model: unknown model {spec.get('model')!r}; known are {sorted(MODEL_CLASSES)}"
            ) from None
        return cls._from_spec(spec, maps or {})

    @classmethod
    def _from_spec(cls, spec: dict, maps: dict) -> Model:
        return cls(bc=spec.get("bc"), **spec["parameters"])

    def __repr__(self):
        params = ", ".join(f"{k}={v:g}" for k, v in self.parameters.items())
        return f"{type(self).__name__}({params})"
