"""Images a scenario names: a tissue mask (``[grid] mask = { file = "brain.nii.gz" }``),
initial fields from segmentations (``[initial] u = { file = "tumour.nii.gz", label = 1,
value = 0.8 }``) and vessel maps (``[vessels] blood = { file = "vessels.nii.gz" }``),
read and resampled by :mod:`continuum.images`. Every problem (a missing file, axes that
do not fit, no overlap, a label the image does not hold) goes to the
:class:`~continuum.scenario.checker.Checker` with the key that caused it. The keys of each
image table are in :mod:`~continuum.scenario.keys` (``MASK_KEYS``, ``IMAGE_FIELD_KEYS``,
``VESSEL_IMAGE_KEYS``)."""

from __future__ import annotations

from pathlib import Path

from continuum import images
from continuum import vessels as vessel_maps
from continuum.scenario.checker import Checker
from continuum.scenario.keys import IMAGE_FIELD_KEYS, MASK_KEYS, VESSEL_IMAGE_KEYS

# Image files that [initial] and other fields read through continuum.images (``.npy``
# arrays there keep their own rule: exactly the grid's shape).
FIELD_SUFFIXES = images.NIFTI_SUFFIXES + images.PICTURE_SUFFIXES


def is_field_image(name: str) -> bool:
    """Whether an initial field's file is an image to resample (NIfTI or a picture)."""
    return images.image_suffix(Path(name)) in FIELD_SUFFIXES


def attempt(check: Checker, where: str, keys, build, *args, **kwargs):
    """``build(*args, **kwargs)``; its ValueError (``"key: what"``, as
    :mod:`continuum.images` words them) becomes one problem at ``where.key``."""
    try:
        return build(*args, **kwargs)
    except ValueError as error:
        message = str(error)
        key, _, rest = message.partition(": ")
        if key == "image":
            check.add(f"{where}: {rest}")
        elif key.partition(".")[0] in keys:
            check.add(f"{where}.{message}")
        else:
            check.add(f"{where}: {message}")
        return None


def _options(spec: dict, where: str, check: Checker, flags=()) -> dict | None:
    """The keyword arguments of an image table (``section``, ``label``, ``threshold``,
    ``value``, and the true/false ``flags``), or ``None`` after a problem."""
    options = {key: spec[key] for key in ("label", "threshold", "value") if key in spec}
    if "section" in spec:
        section = spec["section"]
        if not isinstance(section, dict):
            check.add(f"{where}.section: got {section!r}; a table such as {{ z = 0.0 }} [mm]")
            return None
        options["section"] = section
    for flag in flags:
        if flag in spec:
            if not isinstance(spec[flag], bool):
                check.add(f"{where}.{flag}: got {spec[flag]!r}; true or false is required")
                return None
            options[flag] = spec[flag]
    return options


def read(path: Path, where: str, check: Checker):
    """The :class:`~continuum.images.Image` at ``path``, or ``None`` (a problem)."""
    return attempt(check, where, ("file",), images.read_image, path)


def _image_and_options(spec: dict, keys, path: Path, where: str, check: Checker):
    """``(image, options)`` of an image table whose allowed keys are ``keys``, or
    ``None`` (its problems are in ``check``)."""
    check.keys(spec, keys, where)
    image = read(path, where, check)
    options = _options(spec, where, check)
    if image is None or options is None:
        return None
    return image, options


def mask(spec: dict, grid, path: Path, where: str, check: Checker):
    """``[grid] mask = { file, label | threshold, section }`` on ``grid``: a boolean
    array (``path`` is the file's path)."""
    read_spec = _image_and_options(spec, MASK_KEYS, path, where, check)
    if read_spec is None:
        return None
    image, options = read_spec
    return attempt(check, where, MASK_KEYS, images.mask_from_image, grid, image, **options)


def masked_grid(spec: dict, spacing, path: Path, where: str, check: Checker):
    """A grid over the tissue of ``[grid] mask``'s image at ``spacing`` [mm], masked."""
    read_spec = _image_and_options(spec, MASK_KEYS, path, where, check)
    if read_spec is None:
        return None
    image, options = read_spec
    if image.affine is None:
        check.add(
            f"{where}.file: {image.source!r} has no world placement (a picture or array); "
            "give the grid's shape, or a NIfTI mask"
        )
        return None
    return attempt(check, where, MASK_KEYS, images.masked_grid, image, spacing, **options)


def field(spec: dict, grid, path: Path, where: str, check: Checker):
    """``{ file, label, value, section }``: a field of the grid's shape from an image."""
    read_spec = _image_and_options(spec, IMAGE_FIELD_KEYS, path, where, check)
    if read_spec is None:
        return None
    image, options = read_spec
    return attempt(check, where, IMAGE_FIELD_KEYS, images.field_from_image, grid, image, **options)


def vessel_map(spec: dict, grid, path: Path, where: str, check: Checker):
    """``[vessels] blood = { file, invert, rescale, section }``: a vessel density map."""
    check.keys(spec, VESSEL_IMAGE_KEYS, where)
    options = _options(spec, where, check, flags=("invert", "rescale"))
    if options is None:
        return None
    return attempt(check, where, VESSEL_IMAGE_KEYS, vessel_maps.from_image, grid, path, **options)
