"""Images onto a grid: medical images (NIfTI), pictures (PNG) and arrays (``.npy``)
resampled to the cell centres of a :class:`~continuum.grid.Grid`.

* :func:`read_image` — an :class:`Image`: its voxel values and, for NIfTI, the affine
  that places its voxels in the world [mm];
* :func:`resample` — an image's values at the grid's cell centres (nearest voxel or
  linear interpolation);
* :func:`mask_from_image` — a tissue mask (``Grid(mask=...)``) from a segmentation, a
  label or a threshold;
* :func:`field_from_image` — an initial field (a tumour from a segmentation label);
* :func:`grid_covering` and :func:`masked_grid` — a grid placed over an image, or over
  the tissue of a mask image, at a chosen spacing.

:func:`continuum.vessels.from_image` reads vessel maps through the same functions.

Coordinates
-----------
A NIfTI file's affine maps voxel indices ``(i, j, k)`` to world coordinates
``(x, y, z)`` [mm] in the scanner's RAS+ frame: ``x`` runs from the patient's left to
right, ``y`` from posterior to anterior, ``z`` from inferior to superior (lengths stored
in metres or micrometres are converted to mm). A grid lives in the same frame: grid
axis ``x`` is world ``x`` and so on, and ``Grid(origin=...)`` is the grid's lower corner
in world mm; so a grid with ``origin=(-70, -85, -60)`` and extent 140 x 170 x 120 mm sits
where the scanner saw those millimetres. A voxel is a box of one voxel's size around its
centre; a cell whose centre lies in no voxel's box is outside the image and gets 0
(``False`` in a mask).

A 2D grid samples a section of a 3D image: ``section={"z": 10.0}`` is the axial plane
at world ``z`` = 10 mm, the grid's ``(x, y)`` being world ``(x, y)``; ``{"y": ...}`` is
coronal (grid ``(x, y)`` = world ``(x, z)``) and ``{"x": ...}`` sagittal (grid
``(x, y)`` = world ``(y, z)``). A 1D grid fixes two world axes (``{"y": 0, "z": 5}``: the
grid's ``x`` is world ``x``). In general the grid's axes are the world axes the section
leaves free, in the order x, y, z.

Pictures and arrays (``.png``, ``.npy``) have no placement: they are stretched over the
grid's domain, pixel ``(i, j)`` covering the ``(i, j)``-th of ``shape`` equal boxes
(picture rows along the grid's ``x``); they need as many axes as the grid and take no
section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from continuum.grid import AXIS_NAMES, Grid
from continuum.validation import check_integer, check_real, real_array

NIFTI_SUFFIXES = (".nii", ".nii.gz")
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
ARRAY_SUFFIXES = (".npy",)
IMAGE_SUFFIXES = NIFTI_SUFFIXES + PICTURE_SUFFIXES + ARRAY_SUFFIXES
INTERPOLATIONS = ("nearest", "linear")
# NIfTI spatial units (nibabel's names) in mm
_UNITS_MM = {"unknown": 1.0, "mm": 1.0, "meter": 1000.0, "micron": 1e-3}
_LABELS_LISTED = 12  # at most this many labels named in an error message


@dataclass(frozen=True)
class Image:
    """An image read from a file.

    Attributes
    ----------
    values : array of float64
        Voxel values: 3 axes ``(i, j, k)`` for a NIfTI image (a 2D one gets ``k`` of
        length 1), as many axes as the picture or array otherwise.
    affine : array (4, 4) of float64, or None
        Voxel index ``(i, j, k, 1)`` to world ``(x, y, z, 1)`` [mm, RAS+]; ``None`` for a
        picture or array, which is stretched over the grid it is resampled to.
    source : str
        Where it came from (for messages).
    """

    values: np.ndarray
    affine: np.ndarray | None
    source: str

    @property
    def spacing(self) -> tuple[float, ...] | None:
        """Voxel size along ``i, j, k`` [mm] (``None`` without an affine)."""
        if self.affine is None:
            return None
        return tuple(float(h) for h in np.linalg.norm(self.affine[:3, :3], axis=0))

    def bounds(self) -> np.ndarray | None:
        """World box around every voxel [mm], shape ``(3, 2)``: ``[[x_min, x_max],
        [y_min, y_max], [z_min, z_max]]`` (``None`` without an affine)."""
        if self.affine is None:
            return None
        edges = [(-0.5, n - 0.5) for n in self.values.shape]
        corners = np.array(np.meshgrid(*edges, indexing="ij")).reshape(3, -1)
        world = self.affine[:3, :3] @ corners + self.affine[:3, 3:]
        return np.column_stack([world.min(axis=1), world.max(axis=1)])


def read_image(path) -> Image:
    """Read ``path``: a NIfTI image (``.nii``, ``.nii.gz``; needs ``nibabel``, the
    ``images`` extra), a picture (``.png`` and other formats matplotlib reads; colour is
    averaged over the channels) or a ``.npy`` array of real numbers.

    Raises ``ValueError`` naming the file when it does not exist, has a suffix none of
    these, cannot be read, or holds more than one volume or no real numbers.
    """
    if isinstance(path, Image):
        return path
    path = Path(path)
    suffix = image_suffix(path)
    if suffix not in IMAGE_SUFFIXES:
        raise ValueError(
            f"file: {str(path)!r} is not an image; allowed suffixes are {', '.join(IMAGE_SUFFIXES)}"
        )
    if not path.is_file():
        raise ValueError(f"file: {str(path)!r} does not exist")
    try:
        if suffix in NIFTI_SUFFIXES:
            return _read_nifti(path)
        if suffix in ARRAY_SUFFIXES:
            values = np.load(path)
        else:
            import matplotlib.image

            values = np.asarray(matplotlib.image.imread(path), dtype=np.float64)
            if values.ndim == 3:
                values = values[..., :3].mean(axis=-1)
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"file: cannot read {str(path)!r} ({error})") from None
    values = real_array(f"file {str(path)!r}", values).astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"file: {str(path)!r} holds NaN or Inf; finite values are required")
    return Image(values, None, str(path))


def image_suffix(path: Path) -> str:
    """The image suffix of ``path`` in lower case (``.nii.gz`` counts as one)."""
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def _read_nifti(path: Path) -> Image:
    """A NIfTI file's first volume and its affine in mm."""
    try:
        import nibabel
    except ImportError:
        raise ImportError(
            "reading NIfTI images needs nibabel: pip install 'continuum-metastasis[images]'"
        ) from None
    try:
        image = nibabel.load(path)
        values = image.get_fdata(dtype=np.float64)
    except Exception as error:  # nibabel's errors have many types (ImageFileError, ...)
        raise ValueError(f"file: cannot read {str(path)!r} ({error})") from None
    while values.ndim > 3 and values.shape[-1] == 1:
        values = values[..., 0]
    if values.ndim > 3:
        raise ValueError(
            f"file: {str(path)!r} holds {math.prod(values.shape[3:])} volumes of shape "
            f"{values.shape[:3]}; one volume (3 axes) is required"
        )
    values = values.reshape(values.shape + (1,) * (3 - values.ndim))
    if not np.all(np.isfinite(values)):
        raise ValueError(f"file: {str(path)!r} holds NaN or Inf; finite values are required")
    unit = image.header.get_xyzt_units()[0]
    affine = np.array(image.affine, dtype=np.float64)
    affine[:3] *= _UNITS_MM.get(unit, 1.0)
    return Image(values, affine, str(path))


def resample(grid: Grid, image, interpolation: str = "linear", section=None) -> np.ndarray:
    """The image's values at the grid's cell centres, an array of the grid's shape.

    Parameters
    ----------
    grid : the grid, in the image's world frame [mm] (see the module's notes).
    image : an :class:`Image` or a path :func:`read_image` reads.
    interpolation : ``"nearest"`` (the value of the voxel holding the centre: labels and
        masks) or ``"linear"`` (intensities).
    section : dict, optional
        For a grid with fewer axes than a NIfTI image: the world axes held fixed and
        their positions [mm], e.g. ``{"z": 10.0}`` (an axial slice of a 2D grid).

    Cells whose centre lies outside the image get 0. Raises ``ValueError`` when the
    image's axes do not fit the grid's, the section is wrong, or no cell lies in the
    image.
    """
    image = read_image(image)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"interpolation: got {interpolation!r}; allowed are {', '.join(INTERPOLATIONS)}"
        )
    voxels = _voxel_coordinates(grid, image, section)
    shape = np.array(image.values.shape, dtype=np.float64)[:, None]
    tolerance = 1e-9 * np.maximum(shape, 1.0)  # rounding of cell centres on voxel edges
    inside = np.all((voxels >= -0.5 - tolerance) & (voxels <= shape - 0.5 + tolerance), axis=0)
    if not inside.any():
        raise ValueError(f"image: {_no_overlap(grid, image, section)}")
    voxels = np.clip(voxels, 0.0, shape - 1.0)
    if interpolation == "nearest":
        values = image.values[tuple(np.rint(voxels).astype(np.intp))]
    else:
        from scipy.ndimage import map_coordinates

        values = map_coordinates(image.values, voxels, order=1, mode="nearest", prefilter=False)
    return np.where(inside, values, 0.0).reshape(grid.shape)


def _voxel_coordinates(grid: Grid, image: Image, section) -> np.ndarray:
    """Fractional voxel indices of the grid's cell centres, shape ``(image axes, cells)``."""
    if image.affine is None:
        if section is not None:
            raise ValueError(
                f"section: got {section!r}; a picture or array ({image.source!r}) has no "
                "world placement, so it takes no section"
            )
        if image.values.ndim != grid.ndim:
            raise ValueError(
                f"file: {image.source!r} has {image.values.ndim} axes (shape "
                f"{image.values.shape}); the grid has {grid.ndim}"
            )
        # pixel i covers the i-th of n equal boxes of the domain: cell centres in pixels
        axes = [
            (np.arange(n) + 0.5) * m / n - 0.5
            for n, m in zip(grid.shape, image.values.shape, strict=True)
        ]
        return np.array([a.ravel() for a in np.meshgrid(*axes, indexing="ij")])
    world = world_coordinates(grid, section)
    inverse = np.linalg.inv(image.affine)
    return inverse[:3, :3] @ world + inverse[:3, 3:]


def world_coordinates(grid: Grid, section=None) -> np.ndarray:
    """World coordinates ``(x, y, z)`` [mm] of the grid's cell centres, shape ``(3,
    cells)``: the grid's axes are the world axes ``section`` leaves free (see
    :func:`resample`)."""
    fixed = check_section(section, grid.ndim)
    free = [axis for axis in AXIS_NAMES if axis not in fixed]
    centres = np.meshgrid(*grid.coords, indexing="ij")
    by_axis = dict(zip(free, (c.ravel() for c in centres), strict=True))
    return np.array([by_axis.get(axis, np.full(grid.size, fixed.get(axis))) for axis in AXIS_NAMES])


def check_section(section, ndim: int) -> dict[str, float]:
    """``section`` as ``{axis: position [mm]}``, fixing ``3 - ndim`` of the world axes
    x, y, z; raises ``ValueError`` naming what is wrong."""
    needed = 3 - ndim
    example = {2: '{"z": 0.0}', 1: '{"y": 0.0, "z": 0.0}'}.get(ndim, "none")
    if section is None and needed:
        raise ValueError(
            f"section: missing; a {ndim}D grid in a 3D image fixes {needed} of the world axes "
            f"x, y, z [mm] (e.g. {example})"
        )
    section = {} if section is None else section
    if not isinstance(section, dict) or len(section) != needed:
        raise ValueError(
            f"section: got {section!r}; a {ndim}D grid in a 3D image fixes {needed} of the world "
            f"axes x, y, z (e.g. {example})"
        )
    fixed = {}
    for axis, position in section.items():
        if axis not in AXIS_NAMES:
            raise ValueError(
                f"section: got axis {axis!r}; allowed are {', '.join(AXIS_NAMES)} (world RAS+ axes)"
            )
        fixed[axis] = check_real(f"section.{axis}", position, "mm")
    return fixed


def _no_overlap(grid: Grid, image: Image, section) -> str:
    """Why no cell of the grid lies in the image: both boxes in world mm."""
    world = world_coordinates(grid, section)
    box = image.bounds()
    spans = ", ".join(
        f"{axis} [{lo:.4g}, {hi:.4g}] (grid centres [{w.min():.4g}, {w.max():.4g}])"
        for axis, (lo, hi), w in zip(AXIS_NAMES, box, world, strict=True)
    )
    return f"{image.source!r} does not overlap the grid; the image covers {spans} mm"


def mask_from_image(grid: Grid, image, label=None, threshold=None, section=None) -> np.ndarray:
    """A boolean mask of the grid's shape from an image (for ``Grid(mask=...)``).

    Parameters
    ----------
    grid : the grid [mm, world frame].
    image : an :class:`Image` or a path.
    label : int or list of int, optional
        Cells whose nearest voxel holds one of these labels (a segmentation).
    threshold : float, optional
        Cells where the linearly interpolated value is >= ``threshold`` (a probability
        map). Without ``label`` and ``threshold``: cells whose nearest voxel is nonzero.
    section : the fixed world axes of a 2D or 1D grid (see :func:`resample`).

    Cells outside the image are outside the mask. Raises ``ValueError`` for a label the
    image does not hold, for both ``label`` and ``threshold``, or for no cell inside.
    """
    image = read_image(image)
    if label is not None and threshold is not None:
        raise ValueError(
            f"threshold: got {threshold!r} with label {label!r}; give one of label or threshold"
        )
    if threshold is not None:
        threshold = check_real("threshold", threshold)
        mask = resample(grid, image, "linear", section) >= threshold
    elif label is not None:
        mask = np.isin(resample(grid, image, "nearest", section), check_labels(label, image))
    else:
        mask = resample(grid, image, "nearest", section) != 0
    if not mask.any():
        rule = (
            f"label {label!r}" if label is not None
            else f"values >= {threshold:g}" if threshold is not None
            else "nonzero values"
        )  # fmt: skip
        raise ValueError(f"image: no cell of the grid lies where {image.source!r} has {rule}")
    return mask


def check_labels(label, image: Image) -> list[float]:
    """``label`` (a whole number or a list of them) as a list, each held by ``image``."""
    labels = label if isinstance(label, list | tuple) else [label]
    if not labels:
        raise ValueError("label: got an empty list; at least one label is required")
    labels = [check_integer("label", value) for value in labels]
    present = np.unique(image.values)
    for value in labels:
        if value not in present:
            listed = ", ".join(f"{v:g}" for v in present[:_LABELS_LISTED])
            more = ", ..." if present.size > _LABELS_LISTED else ""
            raise ValueError(
                f"label: got {value}; {image.source!r} holds the values {listed}{more}"
            )
    return [float(value) for value in labels]


def field_from_image(grid: Grid, image, label=None, value=1.0, section=None) -> np.ndarray:
    """A field of the grid's shape from an image: an initial tumour from a segmentation.

    With ``label`` (an int or a list of them): ``value`` in cells whose nearest voxel
    holds one of the labels, 0 elsewhere. Without: ``value`` times the image's values,
    linearly interpolated (a density map). Cells outside the image get 0. Raises
    ``ValueError`` for a label the image does not hold or one that reaches no cell.
    """
    image = read_image(image)
    value = check_real("value", value)
    if label is None:
        return value * resample(grid, image, "linear", section)
    inside = np.isin(resample(grid, image, "nearest", section), check_labels(label, image))
    if not inside.any():
        raise ValueError(f"label: {label!r} of {image.source!r} reaches no cell of the grid")
    return np.where(inside, value, 0.0)


def grid_covering(image, spacing, section=None, **options) -> Grid:
    """A grid over the world box of a NIfTI image (or of its section) at ``spacing`` [mm].

    The grid's axes are the world axes the section leaves free; its cells cover the box
    around every voxel, the grid centred on it. ``options`` go to :class:`Grid`
    (``thickness``, ``cross_section``).
    """
    image = read_image(image)
    if image.affine is None:
        raise ValueError(
            f"image: {image.source!r} is a picture or array with no world placement; "
            "give the grid's shape, spacing and origin instead"
        )
    ndim = 3 - len(section) if isinstance(section, dict) else 3 if section is None else 2
    fixed = check_section(section, ndim)
    free = [a for a, axis in enumerate(AXIS_NAMES) if axis not in fixed]
    box = image.bounds()[free]
    spacing = Grid((1,) * ndim, spacing).spacing  # checked: one positive length per axis
    shape = [
        max(1, math.ceil((hi - lo) / h - 1e-9)) for (lo, hi), h in zip(box, spacing, strict=True)
    ]
    origin = [(lo + hi - n * h) / 2 for (lo, hi), n, h in zip(box, shape, spacing, strict=True)]
    return Grid(shape, spacing, origin, **options)


def masked_grid(image, spacing, label=None, threshold=None, section=None, **options) -> Grid:
    """A grid over the tissue of a mask image at ``spacing`` [mm], masked by it.

    The grid covers the smallest box of cells (of :func:`grid_covering`'s lattice) that
    holds every cell :func:`mask_from_image` puts in the mask (``label``, ``threshold``
    as there); ``options`` go to :class:`Grid` (``thickness``, ``cross_section``).
    """
    image = read_image(image)
    cover = grid_covering(image, spacing, section)
    mask = mask_from_image(cover, image, label, threshold, section)
    cells = np.nonzero(mask)
    low = [int(c.min()) for c in cells]
    high = [int(c.max()) + 1 for c in cells]
    origin = [o + lo * h for o, lo, h in zip(cover.origin, low, cover.spacing, strict=True)]
    crop = tuple(slice(lo, hi) for lo, hi in zip(low, high, strict=True))
    shape = [hi - lo for lo, hi in zip(low, high, strict=True)]
    return Grid(shape, cover.spacing, origin, mask=mask[crop], **options)
