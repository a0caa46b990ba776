"""Static vessel maps: blood or lymph vessel density on a grid, values in [0, 1].

* :func:`random_capillaries` — capillary cross-sections (2D) or segments (1D, 3D: balls)
  placed at random with a given area/volume fraction and seed;
* :func:`from_array` — a user array, checked;
* :func:`from_image` — a NIfTI vessel map, a grey-scale picture (PNG) or a ``.npy``
  array, resampled to the grid (:mod:`continuum.images`).
"""

from __future__ import annotations

import numpy as np

from continuum.grid import Grid
from continuum.images import Image, read_image, resample
from continuum.validation import check_fraction, check_integer, check_positive, real_array


def from_array(grid: Grid, values, name: str = "vessels") -> np.ndarray:
    """Check a vessel-density array: the grid's shape, finite, within [0, 1]."""
    array = real_array(name, values)
    if array.shape != grid.shape:
        raise ValueError(
            f"{name}: got shape {array.shape}; a vessel map needs the grid shape {grid.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: contains NaN or Inf; vessel densities must be finite")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"{name}: values span [{low:g}, {high:g}]; vessel densities must lie in [0, 1]"
        )
    return array.copy()


def random_capillaries(
    grid: Grid, fraction: float, seed: int = 0, radius: float = 0.005
) -> np.ndarray:
    """Random capillaries covering about ``fraction`` of the tissue.

    Capillaries of ``radius`` [mm] (default 5 µm; a disk in 2D, a ball in 3D, a segment in
    1D) are centred at the points of a uniform Poisson process of intensity
    ``-ln(1 - fraction) / |capillary|``, so that the expected covered fraction
    ``1 - exp(-intensity |capillary|)`` is ``fraction``. The centres depend only on the
    seed and the domain, not on the grid spacing: the same seed gives the same physical
    vessels on every grid over the same domain. When a capillary is larger than a grid
    cell, cells whose centres lie inside one get 1 (the map's mean is then about
    ``fraction``). When it is smaller, a cell holding ``n`` capillary centres gets
    ``1 - (1 - |capillary|/|cell|)^n``, the expected fraction of the cell that ``n``
    capillaries placed at random in it cover (exactly ``|capillary|/|cell|`` for one);
    the map's expected mean is then exactly ``fraction``. Sub-cell capillaries feed
    oxygen through the Krogh tissue resistance of :class:`continuum.models.Invasion`
    (parameter ``r_cap``, the same radius by default).

    Parameters
    ----------
    grid : the grid.
    fraction : vascular volume fraction in [0, 1) (tumour-free tissue: about 0.02-0.05).
    seed : seed of the random generator (reproducible maps).
    radius : capillary radius [mm].
    """
    fraction = check_fraction("fraction", fraction)
    if fraction >= 1.0:
        raise ValueError("fraction: got 1; a vascular fraction must be < 1")
    radius = check_positive("radius", radius, "mm")
    seed = check_integer("seed", seed, minimum=0)
    centres = _poisson_centres(grid, fraction, radius, seed)
    density = np.zeros(grid.shape)
    ball = _capillary_size(grid.ndim, radius)
    cell = float(np.prod(grid.spacing))
    if ball < cell:  # sub-cell capillaries: the covered fraction of their cell
        index = tuple(
            np.clip(((centres[:, a] - grid.origin[a]) // grid.spacing[a]).astype(int), 0, n - 1)
            for a, n in enumerate(grid.shape)
        )
        np.add.at(density, index, 1.0)
        return -np.expm1(density * np.log1p(-ball / cell))
    coords = np.meshgrid(*grid.coords, indexing="ij")
    for centre in centres:  # paint the cells whose centres lie inside a capillary
        inside = sum((c - x) ** 2 for c, x in zip(coords, centre, strict=True)) <= radius**2
        density[inside] = 1.0
    return density


def _capillary_size(ndim: int, radius: float) -> float:
    """Length (1D), area (2D) or volume (3D) of one capillary of ``radius`` [mm]."""
    return {1: 2 * radius, 2: np.pi * radius**2, 3: 4 / 3 * np.pi * radius**3}[ndim]


def _poisson_centres(grid: Grid, fraction: float, radius: float, seed: int) -> np.ndarray:
    """Capillary centres [mm], shape ``(count, ndim)``: a Poisson process over the domain
    whose Boolean cover has the expected fraction ``fraction``."""
    rng = np.random.default_rng(seed)
    intensity = -np.log1p(-fraction) / _capillary_size(grid.ndim, radius)
    count = rng.poisson(intensity * float(np.prod(grid.extent)))
    return np.column_stack(
        [o + rng.random(count) * e for o, e in zip(grid.origin, grid.extent, strict=True)]
    ).reshape(count, grid.ndim)


def from_image(
    grid: Grid, path, invert: bool = False, rescale: bool = True, section=None
) -> np.ndarray:
    """Vessel density from an image: a NIfTI vessel map (``.nii``, ``.nii.gz``), a
    grey-scale picture (``.png``) or an array (``.npy``), resampled to the grid's cell
    centres by linear interpolation (:func:`continuum.images.resample`).

    A NIfTI image is placed by its affine in the world frame the grid lives in [mm]; a
    picture or array is stretched over the grid's domain (rows along ``x``). Colour
    pictures are averaged over their channels.

    Parameters
    ----------
    grid : the grid.
    path : the image file.
    invert : dark (low values) means vessels.
    rescale : scale the values to [0, 1] by the image's own range (dark = 0); ``False``
        takes them as densities, which must then lie in [0, 1].
    section : the fixed world axes of a 2D grid in a 3D image, e.g. ``{"z": 10.0}`` [mm].

    Cells outside the image get density 0.
    """
    image = read_image(path)
    values = image.values
    if rescale:
        low, high = float(values.min()), float(values.max())
        values = (values - low) / (high - low) if high > low else np.zeros_like(values)
    if invert:
        values = 1.0 - values
    image = Image(values, image.affine, image.source)
    density = resample(grid, image, "linear", section)
    return from_array(grid, density, name=image.source)
