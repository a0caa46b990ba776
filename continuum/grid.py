"""Uniform Cartesian grids in 1, 2 and 3 dimensions (lengths in mm)."""

from __future__ import annotations

import math

import numpy as np

from continuum.validation import check_integer, check_memory, check_positive, check_real

AXIS_NAMES = ("x", "y", "z")


class Grid:
    """A uniform Cartesian grid of finite-volume cells.

    Parameters
    ----------
    shape : int or tuple of int
        Number of cells along each axis (1 to 3 axes), each at least 1.
    spacing : float or tuple of float
        Cell width along each axis [mm]; one number for all axes or one per axis.
    origin : float or tuple of float
        Position of the lower corner of the domain [mm].
    mask : array of bool, optional
        ``True`` where the cell is tissue. Cells outside the mask carry nothing and no
        diffusive or taxis flux crosses into them.
    cross_section : float
        Area [mm^2] that turns a 1D cell of width ``dx`` into a volume (1D only).
    thickness : float
        Depth [mm] that turns a 2D cell into a volume (2D only).

    Notes
    -----
    Every integral of a field over the grid is ``sum(field) * cell_volume``, so a field
    given as a fraction of a carrying capacity [cells/mm^3] integrates to a cell count.
    """

    def __init__(
        self,
        shape,
        spacing=1.0,
        origin=0.0,
        mask=None,
        cross_section: float = 1.0,
        thickness: float = 1.0,
    ):
        shape = self._shape(shape)
        ndim = len(shape)
        spacing = self._per_axis("spacing", spacing, ndim)
        for h in spacing:
            check_positive("spacing", h, unit="mm")
        origin = self._per_axis("origin", origin, ndim)
        cross_section = check_positive("cross_section", cross_section, unit="mm^2")
        thickness = check_positive("thickness", thickness, unit="mm")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != shape:
                raise ValueError(
                    f"mask: got shape {mask.shape}; it must match the grid shape {shape}"
                )
            if mask.dtype != bool:
                raise ValueError(f"mask: got dtype {mask.dtype}; a boolean array is required")
            if not mask.any():
                raise ValueError("mask: no cell is inside the mask; at least one is required")
            mask = np.ascontiguousarray(mask)
        self.shape = shape
        self.spacing = spacing
        self.origin = origin
        self.mask = mask
        self._mask3 = (
            np.zeros((0, 0, 0)) if mask is None else mask.astype(np.float64).reshape(self.shape3)
        )
        self.cross_section = cross_section
        self.thickness = thickness

    @staticmethod
    def _shape(shape) -> tuple[int, ...]:
        """The cells per axis, each a whole number >= 1, of a grid that fits in memory."""
        if isinstance(shape, np.ndarray):
            shape = shape.tolist()
        axes = shape if isinstance(shape, list | tuple) else (shape,)
        if not 1 <= len(axes) <= 3:
            raise ValueError(f"shape: got {shape!r}; a grid has 1, 2 or 3 axes")
        shape = tuple(check_integer("shape", n, minimum=1) for n in axes)
        cells = math.prod(shape)
        check_memory("shape", f"one field on {cells:.3g} cells {shape}", 8.0 * cells)
        return shape

    @staticmethod
    def _per_axis(name, value, ndim):
        """One finite number per axis [mm] (a single number applies to all)."""
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not isinstance(value, list | tuple):
            return (check_real(name, value, unit="mm"),) * ndim
        values = tuple(check_real(name, v, unit="mm") for v in value)
        if len(values) != ndim:
            raise ValueError(
                f"{name}: got {len(values)} values for a {ndim}D grid; give 1 or {ndim}"
            )
        return values

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def axis_names(self) -> tuple[str, ...]:
        return AXIS_NAMES[: self.ndim]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def coords(self) -> tuple[np.ndarray, ...]:
        """Cell-centre coordinates along each axis [mm]."""
        return tuple(
            o + (np.arange(n) + 0.5) * h
            for n, h, o in zip(self.shape, self.spacing, self.origin, strict=True)
        )

    @property
    def extent(self) -> tuple[float, ...]:
        """Length of the domain along each axis [mm]."""
        return tuple(n * h for n, h in zip(self.shape, self.spacing, strict=True))

    @property
    def cell_volume(self) -> float:
        """Volume of one cell [mm^3]: 1D times cross-section, 2D times thickness."""
        volume = float(np.prod(self.spacing))
        if self.ndim == 1:
            volume *= self.cross_section
        elif self.ndim == 2:
            volume *= self.thickness
        return volume

    @property
    def shape3(self) -> tuple[int, int, int]:
        """The shape padded with leading axes of length 1, as the kernels see it."""
        return (1,) * (3 - self.ndim) + self.shape

    @property
    def spacing3(self) -> np.ndarray:
        return np.array((1.0,) * (3 - self.ndim) + self.spacing)

    def mask3(self) -> np.ndarray:
        """The mask as float64 0/1 with the kernels' padded shape (empty when unmasked)."""
        return self._mask3

    def integrate(self, values: np.ndarray) -> float:
        """Integral of a cell-wise array over the tissue [units x mm^3]."""
        values = np.asarray(values)
        if self.mask is not None:
            values = np.where(self.mask, values, 0.0)
        return float(values.sum() * self.cell_volume)

    def __eq__(self, other):
        if not isinstance(other, Grid):
            return NotImplemented
        same_mask = (self.mask is None and other.mask is None) or (
            self.mask is not None
            and other.mask is not None
            and np.array_equal(self.mask, other.mask)
        )
        return (
            self.shape == other.shape
            and self.spacing == other.spacing
            and self.origin == other.origin
            and self.cross_section == other.cross_section
            and self.thickness == other.thickness
            and same_mask
        )

    def describe(self) -> dict:
        """A JSON-able description (without the mask) that :meth:`from_description` reads."""
        return {
            "shape": list(self.shape),
            "spacing": list(self.spacing),
            "origin": list(self.origin),
            "cross_section": self.cross_section,
            "thickness": self.thickness,
            "cell_volume": self.cell_volume,
        }

    @classmethod
    def from_description(cls, info: dict, mask=None) -> Grid:
        return cls(
            info["shape"],
            info["spacing"],
            info["origin"],
            mask=mask,
            cross_section=info["cross_section"],
            thickness=info["thickness"],
        )

    def __repr__(self):
        from continuum.readable import grid_size, number

        origin = ", ".join(number(o) for o in self.origin)
        masked = ""
        if self.mask is not None:
            masked = f", masked: {100.0 * np.mean(self.mask):.3g} % tissue"
        return f"Grid({grid_size(self)} from ({origin}) mm{masked})"
