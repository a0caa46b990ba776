"""The state of a simulation: tissue fields and compartment scalars in one object."""

from __future__ import annotations

import math

import numpy as np

from continuum.grid import Grid
from continuum.validation import check_memory, real_array

# Negative values down to this fraction of a field's scale (its largest magnitude, at
# least 1: density fields are fractions of a capacity) are round-off of the run that
# produced the state (a matrix field reads -8e-23 after a year), not input errors.
ROUNDOFF = 1e-12


class State:
    """Named fields on a grid plus named scalars (compartments).

    ``data`` is one C-contiguous float64 array ``(n_fields, *grid.shape)``; fields are
    dimensionless fractions of a carrying capacity unless a model says otherwise.
    ``scalars`` is one flat float64 vector; each named scalar occupies a slice of it given
    by ``scalar_layout[name] = (offset, shape)``, so a compartment may also be an array
    (for instance a size distribution).
    """

    def __init__(self, grid: Grid, field_names, data, scalar_layout=None, scalars=None):
        if not isinstance(grid, Grid):
            raise ValueError(f"grid: got {type(grid).__name__}; a continuum.Grid is required")
        self.grid = grid
        self.field_names = tuple(field_names)
        data = np.ascontiguousarray(real_array("data", data))
        expected = (len(self.field_names), *grid.shape)
        if data.shape != expected:
            raise ValueError(f"data: got shape {data.shape}; expected {expected}")
        self.data = data
        self.scalar_layout = dict(scalar_layout or {})
        size = sum(int(np.prod(shape)) for _, shape in self.scalar_layout.values())
        self.scalars = (
            np.zeros(size) if scalars is None else np.array(real_array("scalars", scalars))
        )
        if self.scalars.shape != (size,):
            raise ValueError(f"scalars: got shape {self.scalars.shape}; expected ({size},)")

    @property
    def scalar_names(self) -> tuple[str, ...]:
        return tuple(self.scalar_layout)

    def field(self, name: str) -> np.ndarray:
        """A view of one field, shape ``grid.shape``."""
        return self.data[self._field_index(name)]

    def scalar(self, name: str):
        """A scalar compartment (float) or a view of an array-valued one."""
        offset, shape = self._scalar_slot(name)
        if shape == ():
            return float(self.scalars[offset])
        return self.scalars[offset : offset + int(np.prod(shape))].reshape(shape)

    def set_scalar(self, name: str, value) -> None:
        offset, shape = self._scalar_slot(name)
        size = int(np.prod(shape))
        self.scalars[offset : offset + size] = np.broadcast_to(value, shape).ravel()

    def __getitem__(self, name: str):
        if name in self.field_names:
            return self.field(name)
        if name in self.scalar_layout:
            return self.scalar(name)
        raise KeyError(self._unknown(name))

    def copy(self) -> State:
        return State(
            self.grid, self.field_names, self.data.copy(), self.scalar_layout, self.scalars.copy()
        )

    def total(self, name: str) -> float:
        """Integral of a field over the tissue [field units x mm^3]."""
        return self.grid.integrate(self.field(name))

    def _field_index(self, name):
        try:
            return self.field_names.index(name)
        except ValueError:
            raise KeyError(self._unknown(name)) from None

    def _scalar_slot(self, name):
        try:
            return self.scalar_layout[name]
        except KeyError:
            raise KeyError(self._unknown(name)) from None

    def _unknown(self, name):
        return (
            f"unknown name {name!r}; fields are {list(self.field_names)}, "
            f"scalars are {list(self.scalar_layout)}"
        )

    def __repr__(self):
        from continuum.readable import grid_size, names

        fields = f"fields {names(self.field_names)}" if self.field_names else "no fields"
        count = len(self.scalar_layout)
        scalars = f"{count} scalar{'s' if count != 1 else ''}"
        if self.scalar_layout:
            scalars += f" ({names(self.scalar_layout, most=4)})"
        return f"State({fields} on {grid_size(self.grid)}; {scalars})"


def check_state_fits(model, state) -> None:
    """Raise ``ValueError`` unless ``state`` is a state of ``model``, before any work.

    Checks the whole layout (field names, grid shape, scalar names with their offsets and
    shapes, the sizes of the arrays), that the values are finite (a cohort's log size may
    be ``-inf``: no cells left) and that the model's density fields are not negative
    beyond round-off. A state built for another model (a ``Heat`` state for
    ``FisherKPP``, a cascade's with other sites or ``cohort_days``) is named with what
    differs.
    """
    if not isinstance(state, State):
        raise ValueError(f"state: got {type(state).__name__}; use model.initial_state(grid)")
    name = type(model).__name__
    if state.field_names != tuple(model.field_names):
        raise ValueError(
            f"state: fields {list(state.field_names)} do not match the {name} model's "
            f"{list(model.field_names)}"
        )
    expected = (len(state.field_names), *state.grid.shape)
    data = state.data
    fits = isinstance(data, np.ndarray) and data.shape == expected and data.flags.c_contiguous
    if not fits or data.dtype != np.float64:
        raise ValueError(
            f"state.data: got {_describe(data)}; expected C-contiguous float64 of shape {expected}"
        )
    _check_layout(name, model.scalar_layout(), state.scalar_layout)
    size = sum(math.prod(shape) for _, shape in state.scalar_layout.values())
    scalars = state.scalars
    fits = isinstance(scalars, np.ndarray) and scalars.shape == (size,)
    if not fits or scalars.dtype != np.float64:
        raise ValueError(
            f"state.scalars: got {_describe(scalars)}; expected float64 of shape ({size},)"
        )
    for f, field in enumerate(state.field_names):
        values = data[f]
        if not np.all(np.isfinite(values)):
            raise ValueError(f"state: field {field!r} contains NaN or Inf")
        if field in getattr(model, "nonnegative_fields", ()) and values.size:
            low = float(values.min())
            if low < -ROUNDOFF * max(1.0, float(np.abs(values).max())):
                raise ValueError(
                    f"state: field {field!r} goes down to {low:g}; it is a density and must be >= 0"
                )
    for scalar, (offset, shape) in state.scalar_layout.items():
        values = scalars[offset : offset + math.prod(shape)]
        allowed = values == -np.inf if scalar.endswith("log_size") else False
        if not np.all(np.isfinite(values) | allowed):
            raise ValueError(f"state: scalar {scalar!r} contains NaN or Inf")


def _check_layout(name, expected: dict, got: dict) -> None:
    """Raise naming the first difference between two scalar layouts."""
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    if missing or extra:
        differences = []
        if missing:
            differences.append(f"the {name} model has {_names(missing)}, which the state lacks")
        if extra:
            differences.append(f"the state has {_names(extra)}, which the model lacks")
        raise ValueError(
            f"state: its scalars do not fit the {name} model: {'; '.join(differences)} "
            "(was the state built by another model?)"
        )
    for key, (offset, shape) in expected.items():
        if (got[key][0], tuple(got[key][1])) != (offset, tuple(shape)):
            raise ValueError(
                f"state: scalar {key!r} has shape {tuple(got[key][1])} at offset "
                f"{got[key][0]}; the {name} model has shape {tuple(shape)} at offset "
                f"{offset} (was the state built by a model with other sites or "
                "cohort_days?)"
            )


def _names(names) -> str:
    shown = ", ".join(repr(n) for n in names[:5])
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f"[{shown}{more}]"


def _describe(array) -> str:
    if not isinstance(array, np.ndarray):
        return type(array).__name__
    return f"{array.dtype} of shape {array.shape}"


def check_frames_fit(
    state: State, t_start: float, t_end: float, save_every: float, fields: bool = True
) -> None:
    """Raise when the frames of a run from ``t_start`` to ``t_end`` every ``save_every``
    [day] held in memory (scalars, and fields unless ``fields`` is false: a run writing a
    file streams them there) would not fit in this machine's memory."""
    frames = (t_end - t_start) / save_every + 2
    check_memory(
        "save_every",
        f"{frames:.4g} frames (every {save_every:g} day from {t_start:g} to {t_end:g} day)",
        frames * 8.0 * (state.data.size * fields + state.scalars.size),
    )
