"""The state of a simulation: tissue fields and compartment scalars in one object."""

from __future__ import annotations

import numpy as np

from continuum.grid import Grid


class State:
    """Named fields on a grid plus named scalars (compartments).

    ``data`` is one C-contiguous float64 array ``(n_fields, *grid.shape)``; fields are
    dimensionless fractions of a carrying capacity unless a model says otherwise.
    ``scalars`` is one flat float64 vector; each named scalar occupies a slice of it given
    by ``scalar_layout[name] = (offset, shape)``, so a compartment may also be an array
    (for instance a size distribution).
    """

    def __init__(self, grid: Grid, field_names, data, scalar_layout=None, scalars=None):
        self.grid = grid
        self.field_names = tuple(field_names)
        data = np.ascontiguousarray(data, dtype=np.float64)
        expected = (len(self.field_names), *grid.shape)
        if data.shape != expected:
            raise ValueError(f"data: got shape {data.shape}; expected {expected}")
        self.data = data
        self.scalar_layout = dict(scalar_layout or {})
        size = sum(int(np.prod(shape)) for _, shape in self.scalar_layout.values())
        self.scalars = np.zeros(size) if scalars is None else np.array(scalars, dtype=np.float64)
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
        return (
            f"State(fields={list(self.field_names)}, scalars={list(self.scalar_layout)}, "
            f"grid={self.grid!r})"
        )
