"""Base class of all models: fields, scalars, parameters with units, kernel hooks.

Rules for adding a model (numbered, as SciPy's ``OdeSolver`` does):

1. Write its pointwise kernels as ``@njit(cache=True)`` functions (signatures in
   ``continuum.kernels.registry``: ``reaction_point`` inlined into the stencil loop,
   ``reaction_row`` for row terms and exports, ``scalar_rate`` for compartments, optional
   ``stiff_rate`` and ``scalar_relax``), in ``continuum/kernels/`` or in your own file.
2. Subclass :class:`Model` and declare them in one place, ``kernels = KernelSet(point=...,
   row=..., scalars=...)``: the class registers them under a name carrying the hash of
   their source files, so an edited kernel is never served a stale compiled stepper.
3. Declare ``field_names``, ``scalar_names``, ``export_names``, ``map_names``, the
   ``nonnegative_fields`` (densities, refused below zero) and a ``PARAMETERS`` table of
   :class:`Parameter` (value, unit, meaning, rule); :func:`parameter_index` gives the
   kernels named positions in :meth:`Model.param_vector`.
4. Return diffusion, taxis and variable coefficients by name from :meth:`Model.transport`
   (``Transport.of(...)``).
5. Keep a readable NumPy :meth:`Model.reference_rate` of the whole right-hand side for
   tests (``continuum.reference`` has the transport operators).

Equations written as text need none of this: :class:`continuum.models.PDE`.
"""

from __future__ import annotations

import hashlib
import inspect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from continuum.boundary import boundary_conditions_to_json, pack_boundary_conditions
from continuum.grid import Grid
from continuum.kernels import registry
from continuum.kernels.registry import parameter_index  # noqa: F401  (part of this API)
from continuum.kernels.simple import no_reaction_point, no_reaction_row, no_scalar_rate
from continuum.models.loading import class_reference, is_builtin, load_model_class
from continuum.models.parameter_docs import document_parameters
from continuum.state import State
from continuum.validation import (
    check_finite_array,
    check_fraction,
    check_memory,
    check_nonnegative,
    check_positive,
    check_real,
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
    rule: str = "nonnegative"  # "nonnegative", "positive", "fraction" (in [0, 1]) or "real"

    def check(self, value):
        if self.rule == "fraction":
            return check_fraction(self.name, value)
        if self.rule == "real":
            return check_real(self.name, value, unit=self.unit)
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


def _unit_suffix(parameter: Parameter | None) -> str:
    """`` 1/day`` after a value of ``parameter``; nothing for a pure number."""
    if parameter is None or parameter.unit == "1":
        return ""
    return f" {parameter.unit}"


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
    """Transport terms of a model, in the kernels' layout (build it with :meth:`of`).

    Attributes
    ----------
    diffusivity : (n_fields,) array
        Diffusivity of each field [mm^2/day].
    diffusivity_map : (n_fields,) int array
        Index into the static maps of each field's relative diffusivity map, or -1.
    taxis : (n_taxis, 3) array
        Rows (field index, attractant index, chi [mm^2/day]).
    diffusivity_field : (n_fields, 3) array, optional
        Rows (field index or -1, a, b): the coefficient is multiplied by ``max(0, a + b
        u[field])``, taken from the current state (for example ``1 - normal tissue`` in
        the acid-mediated model). The stability estimate assumes fields in [0, 1].
    """

    diffusivity: np.ndarray
    diffusivity_map: np.ndarray
    taxis: np.ndarray
    diffusivity_field: np.ndarray | None = None

    @classmethod
    def of(cls, fields, diffusion=None, taxis=(), maps=None, laws=None, map_names=()):
        """Transport by name.

        Parameters
        ----------
        fields : the model's field names, in order.
        diffusion : field -> diffusivity D [mm^2/day] (fields not named do not diffuse).
        taxis : ``(field, attractant, chi)`` triples, chi [mm^2/day]: the flux
            ``-chi u grad(a)`` up the attractant's gradient.
        maps : field -> name of a static map multiplying its diffusivity.
        laws : field -> ``(w, a, b)``: its diffusivity is multiplied by
            ``max(0, a + b w)``, ``w`` a field name.
        map_names : the model's static map names, in order.
        """
        index = {name: i for i, name in enumerate(fields)}

        def position(name, what):
            if name not in index:
                raise ValueError(f"{what}: unknown field {name!r}; fields are {list(fields)}")
            return index[name]

        n = len(fields)
        diffusivity = np.zeros(n)
        for name, value in (diffusion or {}).items():
            diffusivity[position(name, "diffusion")] = value
        diffusivity_map = np.full(n, -1, dtype=np.int64)
        for name, map_name in (maps or {}).items():
            diffusivity_map[position(name, "maps")] = list(map_names).index(map_name)
        rows = [(position(f, "taxis"), position(a, "taxis"), chi) for f, a, chi in taxis]
        law = None
        if laws:
            law = np.tile([-1.0, 0.0, 0.0], (n, 1))
            for name, (w, a, b) in laws.items():
                law[position(name, "laws")] = (position(w, "laws"), a, b)
        return cls(diffusivity, diffusivity_map, np.array(rows, float).reshape(-1, 3), law)

    def law(self) -> np.ndarray:
        """``(n_fields, 4)`` rows ``(map, field, a, b)`` in the kernels' layout."""
        n = len(self.diffusivity)
        law = np.zeros((n, 4))
        law[:, 0] = self.diffusivity_map
        law[:, 1] = -1
        if self.diffusivity_field is not None:
            law[:, 1:] = self.diffusivity_field
        return law


def _source_bytes(function) -> bytes:
    """The bytes of ``function``'s source file, else of its source, else of its code."""
    path = inspect.getsourcefile(function)
    if path is not None and Path(path).is_file():
        return Path(path).read_bytes()
    try:
        return inspect.getsource(function).encode()
    except (OSError, TypeError):
        code = function.__code__
        return code.co_code + repr(code.co_consts).encode() + repr(code.co_names).encode()


@dataclass(frozen=True)
class KernelSet:
    """A model's pointwise ``@njit`` kernels, declared in one place (``kernels = KernelSet(
    ...)`` in the class body); signatures in ``continuum.kernels.registry``.

    Parameters
    ----------
    point : ``reaction_point(u, maps, i0, i1, k, f, scalars, params, t)`` -> the reaction
        of field ``f`` in cell ``(i0, i1, k)`` [field unit/day]; inlined in the stencil loop
        (declare it ``inline="always"``, branch-free).
    row : ``reaction_row(u, maps, i0, i1, scalars, params, t, rate, exports)``: adds row
        rates and export densities.
    scalars : ``scalar_rate(scalars, exports, params, t, dscalars)``.
    stiff : ``stiff_rate(u, maps, i0, i1, k, f, params, t)`` -> ``R >= 0`` of the implicit
        loss ``-R u_f`` of the model's ``stiff_fields``.
    relax : ``scalar_relax(s_in, s_out, exports, params, t, dt)``: exact relaxation of fast
        linear scalars over an IMEX step.
    parameters : the kernels' :func:`parameter_index`; the model's ``PARAMETERS`` must
        be its first names, in this order (checked when the class is created); the
        names after them are what ``param_vector`` appends (therapy rates).
    """

    point: object = None
    row: object = None
    scalars: object = None
    stiff: object = None
    relax: object = None
    parameters: tuple | None = None

    def check_table(self, owner: str, table) -> None:
        """Refuse a parameter table whose order differs from the kernels' index."""
        if self.parameters is None:
            return
        names = tuple(p.name for p in table)
        if names != self.parameters._fields[: len(names)]:
            raise TypeError(
                f"{owner}: PARAMETERS start with {names}, but its kernels read "
                f"{self.parameters._fields} in that order"
            )

    def digest(self) -> str:
        """Hash of the source files of the kernels (what the compiled steppers inline);
        of a kernel's own source or code when it has no file (a notebook cell, ``exec``)."""
        sha = hashlib.sha256()
        for fn in (self.point, self.row, self.scalars, self.stiff, self.relax):
            if fn is not None:
                sha.update(_source_bytes(getattr(fn, "py_func", fn)))
        return sha.hexdigest()[:12]

    def register(self, owner: str, fields: bool = True) -> str:
        """Register the kernels under ``owner`` + their :meth:`digest`; returns the name.
        ``fields`` is false for a model without fields (its loops skip the stencil)."""
        name = f"{owner}@{self.digest()}"
        registry.register(
            name,
            self.point or no_reaction_point,
            self.row or no_reaction_row,
            self.scalars or no_scalar_rate,
            row_terms=self.row is not None,
            stiff_rate=self.stiff,
            scalar_relax=self.relax,
            fields=fields,
        )
        return name


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
        document_parameters(cls, cls.parameters_set_otherwise)
        if is_builtin(cls):  # others are found by their "module:Class" (run files say it)
            MODEL_CLASSES[cls.__name__] = cls
        if cls.__dict__.get("kernels") is not None:
            cls.kernels.check_table(cls.__qualname__, cls.PARAMETERS)
            cls.kernel_name = cls.kernels.register(
                f"{cls.__module__}.{cls.__qualname__}", fields=bool(cls.field_names)
            )

    kernels: KernelSet | None = None
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
    therapy_slots: tuple[int, ...] | None = None
    # The fields that are tumour cells (densities as fractions of a carrying capacity):
    # what ``continuum.analysis`` measures and treatments kill.
    cell_fields: tuple[str, ...] = ()
    # Fields that are densities or concentrations (cells, matrix, enzyme, oxygen): their
    # initial values must not be negative.
    nonnegative_fields: tuple[str, ...] = ()
    field_units: ClassVar[dict[str, str]] = {}
    # What the value 1 of a field of unit "1" stands for, in words (``{name}`` takes the
    # value of parameter ``name``): "fraction of K_cell = {K_cell} cells/mm^3".
    field_scales: ClassVar[dict[str, str]] = {}
    # Fields that are cell densities as fractions of the parameter ``K_cell``
    # [cells/mm^3]: ``K_cell`` times the field times a cell's volume is its cells.
    capacity_fields: tuple[str, ...] = ()
    series_units: ClassVar[dict[str, str]] = {}  # units of :meth:`derived_series`
    PARAMETERS: tuple[Parameter, ...] = ()
    # Parameters of the table set through another argument (a lumped primary's growth
    # ``law`` code, by ``growth=``): left out of the docstring's parameter entries.
    parameters_set_otherwise: ClassVar[tuple[str, ...]] = ()

    def __init__(self, bc=None, **parameters):
        self.parameters = checked_parameters(type(self).__name__, self.PARAMETERS, parameters)
        self.bc = bc

    # -- layout -------------------------------------------------------------------------
    def scalar_layout(self) -> dict[str, tuple[int, tuple]]:
        """Where each scalar lives in the state's scalar vector.

        Returns
        -------
        dict
            Scalar name -> ``(offset, shape)``: the scalar occupies
            ``prod(shape)`` entries from ``offset`` (``shape == ()`` for one number).
            Default: one number per name of ``scalar_names``, in order. Models with
            structured scalars (a cascade's per-site cohorts) override it.
        """
        return {name: (i, ()) for i, name in enumerate(self.scalar_names)}

    def field_unit(self, name: str) -> str:
        """Unit of field ``name`` as stored in run files (``"1"``: a fraction)."""
        return self.field_units.get(name, "1")

    def field_scale(self, name: str) -> str:
        """The unit of field ``name`` in words: what its value 1 stands for (``fraction of
        K_cell = 1e5 cells/mm^3``, with this model's value), else :meth:`field_unit`."""
        from continuum.readable import number

        template = self.field_scales.get(name)
        if template is None:
            return self.field_unit(name)
        return template.format(**{k: number(v) for k, v in self.parameters.items()})

    def reference_density(self, name: str) -> float | None:
        """Cells per mm^3 at value 1 of field ``name`` (``K_cell``) for the model's
        ``capacity_fields``; ``None`` for other fields."""
        if name in self.capacity_fields and "K_cell" in self.parameters:
            return float(self.parameters["K_cell"])
        return None

    # -- hooks for the solvers ----------------------------------------------------------
    def param_vector(self) -> np.ndarray:
        """The kernels' parameter vector ``params``.

        Returns
        -------
        numpy.ndarray
            ``(n,)`` float64: the values of ``PARAMETERS`` in table order (units as
            the table says), which :func:`parameter_index` names. Models whose kernels
            take more (therapy rates at ``therapy_slots``) append them.
        """
        return np.array([self.parameters[p.name] for p in self.PARAMETERS], dtype=np.float64)

    def reaction_time_scale(self) -> float:
        """The fastest time scale of the reactions [day; the time unit of a
        nondimensional model], what ``method="auto"`` weighs the diffusion limit against:
        ``1 /`` the largest parameter in ``1/day``, infinite without one. Models whose
        rates carry other units override it."""
        rates = [self.parameters[p.name] for p in self.PARAMETERS if p.unit == "1/day"]
        fastest = max(rates, default=0.0)
        return 1.0 / fastest if fastest > 0.0 else float("inf")

    def transport(self) -> Transport:
        """Diffusion and taxis of the fields.

        Returns
        -------
        Transport
            Diffusivities [mm^2/day], the static map or field law that varies them,
            and taxis rows ``(field, attractant, chi [mm^2/day])``: the equation of field
            ``u`` gains ``div(D m(x) max(0, a + b w) grad u) - div(chi u grad a)``.
            Build it by name with :meth:`Transport.of`. Default: nothing moves.
        """
        return Transport.of(self.field_names)

    def static_maps(self, grid: Grid) -> np.ndarray:
        """Static maps (vessel densities, relative diffusivities), one per ``map_names``.

        Parameters
        ----------
        grid : the tissue grid.

        Returns
        -------
        numpy.ndarray
            ``(n_maps, *grid.shape3)`` float64 (``shape3`` pads the grid to 3D), in
            ``map_names`` order; kernels read ``maps[m, i0, i1, k]``.
        """
        return np.zeros((len(self.map_names), *grid.shape3))

    def solver_maps(self, grid: Grid) -> np.ndarray:
        """The maps the kernels read: :meth:`static_maps`, then any the model derives from
        them and its parameters once per run rather than in every cell at every step.

        Returns
        -------
        numpy.ndarray
            ``(n_maps + n_derived, *grid.shape3)`` float64. Default: the static maps.
        """
        return self.static_maps(grid)

    def boundary_arrays(self, grid: Grid):
        """The boundary conditions packed for the kernels.

        Parameters
        ----------
        grid : the tissue grid (its dimension decides which sides exist).

        Returns
        -------
        kind : numpy.ndarray
            ``(n_fields, 3, 2)`` int64 codes per field, kernel axis (the padded 3D
            order of ``Grid.shape3``) and side (low, high):
            ``continuum.boundary.NOFLUX``, ``DIRICHLET`` or ``PERIODIC``.
        value : numpy.ndarray
            ``(n_fields, 3, 2)`` float64 Dirichlet values (field units), 0 elsewhere.
        """
        return pack_boundary_conditions(self.bc, self.field_names, grid.ndim)

    # -- states -------------------------------------------------------------------------
    def default_fields(self, grid: Grid) -> dict[str, np.ndarray | float]:
        """Initial fields when the user gives none (zeros unless a model says otherwise)."""
        return {}

    def default_scalars(self) -> dict[str, float]:
        """Initial scalars when the user gives none (zeros unless a model says otherwise)."""
        return {}

    def initial_state(self, grid: Grid, **overrides) -> State:
        """Build a state on ``grid``; each override is an array of the grid's shape or a number.

        Names may be fields or scalars; unknown names raise ``ValueError``. Scalars not
        given take :meth:`default_scalars` (else 0).
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
        scalars = {**self.default_scalars(), **overrides}
        for name in self.scalar_names:
            if name in scalars:
                state.set_scalar(name, check_nonnegative(name, scalars[name], "cells"))
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
        origin = {} if is_builtin(type(self)) else {"class": class_reference(type(self))}
        return {
            "model": type(self).__name__,
            **origin,
            "parameters": dict(self.parameters),
            "units": {p.name: p.unit for p in self.PARAMETERS},
            "bc": boundary_conditions_to_json(kind, value, self.field_names, grid.ndim),
        }

    @staticmethod
    def from_spec(spec: dict, maps: dict | None = None) -> Model:
        """Rebuild a model written by :meth:`to_spec`; ``maps`` are its stored static maps."""
        try:
            cls = (
                load_model_class(spec["class"]) if "class" in spec else MODEL_CLASSES[spec["model"]]
            )
        except KeyError:
            raise ValueError(
                f"model: unknown model {spec.get('model')!r}; known are {sorted(MODEL_CLASSES)}"
            ) from None
        return cls._from_spec(spec, maps or {})

    @classmethod
    def _from_spec(cls, spec: dict, maps: dict) -> Model:
        return cls(bc=spec.get("bc"), **spec["parameters"])

    def __repr__(self):
        """The model's class, its parameters that differ from the defaults (with their
        units) and its fields: ``Invasion(k_emt=0.05 1/day, others at their defaults;
        fields epithelial, mesenchymal, ecm, mmp, oxygen)``."""
        from continuum.readable import names

        table = {p.name: p for p in self.PARAMETERS}
        shown = [
            f"{name}={value:g}" + _unit_suffix(table.get(name))
            if isinstance(value, int | float)
            else f"{name}={value}"
            for name, value in self._repr_parameters().items()
            if name not in table or value != table[name].default
        ]
        if len(shown) < len(self.parameters):
            shown.append("others at their defaults" if shown else "default parameters")
        fields = f"; fields {names(self.field_names)}" if self.field_names else ""
        return f"{type(self).__name__}({', '.join(shown)}{fields})"

    def _repr_parameters(self) -> dict:
        """The parameters :meth:`__repr__` may show (all but codes set otherwise)."""
        return self.parameters
