"""Images onto a grid: NIfTI files placed by their affine, pictures and arrays stretched
over the grid, masks, initial fields and vessel maps, and their errors."""

import numpy as np
import pytest

import continuum as ct
from continuum import images

nibabel = pytest.importorskip("nibabel")

CENTRE = np.array([10.0, 5.0, 12.0])  # mm, world RAS+
RADIUS = 8.0  # mm


def oblique_affine():
    """Voxel to world [mm]: x flipped, voxel sizes 0.8 x 1.2 x 2 mm, turned 30 degrees
    about z and 20 about x, offset from the origin."""
    turn, tilt = np.radians(30.0), np.radians(20.0)
    about_z = np.array(
        [[np.cos(turn), -np.sin(turn), 0], [np.sin(turn), np.cos(turn), 0], [0, 0, 1]]
    )
    about_x = np.array(
        [[1, 0, 0], [0, np.cos(tilt), -np.sin(tilt)], [0, np.sin(tilt), np.cos(tilt)]]
    )
    affine = np.eye(4)
    affine[:3, :3] = about_x @ about_z @ np.diag([-0.8, 1.2, 2.0])
    # the offset puts CENTRE between voxels, near the middle of a (90, 80, 45) image
    affine[:3, 3] = CENTRE - affine[:3, :3] @ [41.3, 37.6, 20.7]
    return affine


def world_of_voxels(shape, affine):
    """World coordinates [mm] of every voxel centre, shape ``(3, *shape)``."""
    index = np.array(np.meshgrid(*(np.arange(n) for n in shape), indexing="ij"))
    return np.einsum("ab,b...->a...", affine[:3, :3], index) + affine[:3, 3, None, None, None]


def write_sphere(path, affine=None, shape=(90, 80, 45), label=1):
    """A NIfTI label image: ``label`` inside the ball of RADIUS around CENTRE, 0 outside."""
    affine = oblique_affine() if affine is None else affine
    world = world_of_voxels(shape, affine)
    inside = np.linalg.norm(world - CENTRE[:, None, None, None], axis=0) <= RADIUS
    nibabel.save(nibabel.Nifti1Image((label * inside).astype(np.int16), affine), path)
    return path


def test_oblique_sphere_lands_where_it_was_written(tmp_path):
    """The issue's check: a sphere written at a known world position through an affine
    with a flip, two rotations, anisotropic voxels and an offset is found there on the
    grid, within one cell, with its volume."""
    path = write_sphere(tmp_path / "sphere.nii.gz")
    image = images.read_image(path)
    np.testing.assert_allclose(image.spacing, (0.8, 1.2, 2.0), rtol=1e-6)  # float32 affine
    for spacing in (1.0, 2.0):
        grid = ct.Grid((30, 30, 30), spacing, origin=tuple(CENTRE - 15 * spacing + 1.3))
        mask = images.mask_from_image(grid, path)
        centres = np.meshgrid(*grid.coords, indexing="ij")
        found = np.array([c[mask].mean() for c in centres])
        # measured 0.04 mm (1 mm cells) and 0.10 mm (2 mm cells) from CENTRE
        assert np.linalg.norm(found - CENTRE) < spacing
        volume = mask.sum() * grid.cell_volume
        # measured +0.8 % (1 mm) and -2.6 % (2 mm) from 4/3 pi R^3 = 2145 mm^3
        assert volume == pytest.approx(4 / 3 * np.pi * RADIUS**3, rel=0.04)
    # an identity affine would put the ball elsewhere: the affine is what placed it
    plain = images.Image(image.values, np.eye(4), "plain")
    moved = images.resample(grid, plain, "nearest")
    assert not np.array_equal(moved != 0, mask)


def test_axial_coronal_and_sagittal_sections_are_disks_of_the_right_radius(tmp_path):
    path = write_sphere(tmp_path / "sphere.nii")
    offset = 5.0  # mm from the centre: a disk of radius sqrt(R^2 - offset^2)
    radius = np.sqrt(RADIUS**2 - offset**2)
    for axis, free in (("z", (0, 1)), ("y", (0, 2)), ("x", (1, 2))):
        a = "xyz".index(axis)
        origin = tuple(CENTRE[list(free)] - 12.0)
        grid = ct.Grid((48, 48), 0.5, origin=origin)
        section = {axis: float(CENTRE[a] + offset)}
        field = images.field_from_image(grid, path, label=1, value=0.8, section=section)
        assert set(np.unique(field)) == {0.0, 0.8}
        inside = field > 0
        area = inside.sum() * 0.25
        # measured -3.5 to -4.5 % (voxels of 0.8-2 mm, cut obliquely by the section)
        assert area == pytest.approx(np.pi * radius**2, rel=0.08)
        centres = np.meshgrid(*grid.coords, indexing="ij")
        found = np.array([c[inside].mean() for c in centres])
        # measured 0.03-0.28 mm; one voxel is up to 2 mm
        assert np.linalg.norm(found - CENTRE[list(free)]) < 1.0


def test_a_1d_grid_is_a_line_through_the_image(tmp_path):
    path = write_sphere(tmp_path / "sphere.nii")
    line = ct.Grid(60, 0.5, origin=float(CENTRE[0] - 15))
    section = {"y": float(CENTRE[1]), "z": float(CENTRE[2])}
    inside = images.mask_from_image(line, path, section=section)
    x = line.coords[0][inside]
    # the diameter through the centre, up to a voxel (<= 2 mm) at each end: measured 0.75, 0.25 mm
    assert abs(x.min() - (CENTRE[0] - RADIUS)) < 1.0 and abs(x.max() - (CENTRE[0] + RADIUS)) < 1.0
    assert np.all(np.diff(np.flatnonzero(inside)) == 1)  # one piece


def test_linear_resampling_reproduces_a_linear_intensity(tmp_path):
    """Trilinear interpolation is exact for intensities linear in world coordinates, so
    the resampled map equals the function at the cell centres (where the 8 neighbours
    are voxels of the image)."""
    affine = oblique_affine()
    shape = (60, 50, 40)
    world = world_of_voxels(shape, affine)
    gradient = np.array([0.004, -0.003, 0.005])  # 1/mm

    def linear(x, y, z):
        return 0.5 + gradient[0] * (x - 10) + gradient[1] * (y - 5) + gradient[2] * (z - 12)

    values = linear(*world)
    assert 0 < values.min() and values.max() < 1
    path = tmp_path / "vessels.nii.gz"
    nibabel.save(nibabel.Nifti1Image(values.astype(np.float64), affine), path)
    grid = ct.Grid((12, 10, 8), 1.5, origin=(2.0, -3.0, 6.0))
    density = ct.vessels.from_image(grid, path, rescale=False)
    expected = linear(*np.meshgrid(*grid.coords, indexing="ij"))
    np.testing.assert_allclose(density, expected, rtol=0, atol=1e-6)  # float32 affine
    # rescaled by the image's own range, and inverted
    low, high = values.min(), values.max()
    scaled = ct.vessels.from_image(grid, path, invert=True)
    np.testing.assert_allclose(scaled, 1 - (expected - low) / (high - low), atol=1e-5)


def test_lengths_in_metres_are_read_as_mm(tmp_path):
    affine = oblique_affine()
    affine[:3] /= 1000.0  # the same image with its affine in metres
    image = nibabel.Nifti1Image(
        nibabel.load(write_sphere(tmp_path / "mm.nii")).get_fdata().astype(np.int16), affine
    )
    image.header.set_xyzt_units("meter")
    nibabel.save(image, tmp_path / "metres.nii")
    grid = ct.Grid((20, 20, 20), 1.0, origin=tuple(CENTRE - 10))
    np.testing.assert_array_equal(
        images.mask_from_image(grid, tmp_path / "metres.nii"),
        images.mask_from_image(grid, tmp_path / "mm.nii"),
    )


def test_grids_over_an_image_and_over_its_tissue(tmp_path):
    path = write_sphere(tmp_path / "sphere.nii.gz")
    image = images.read_image(path)
    cover = images.grid_covering(image, 2.0)
    box = image.bounds()
    for a in range(3):  # the box inside the grid, with less than a cell to spare
        low, high = cover.origin[a], cover.origin[a] + cover.extent[a]
        assert low <= box[a, 0] and box[a, 1] <= high
        assert high - low - (box[a, 1] - box[a, 0]) < 2.0
    grid = images.masked_grid(image, 1.0)
    # the ball's bounding box in whole cells: 16 or 17 cells of 1 mm per axis
    assert all(16 <= n <= 17 for n in grid.shape)
    assert grid.mask.sum() * grid.cell_volume == pytest.approx(4 / 3 * np.pi * RADIUS**3, rel=0.04)
    for a in range(3):
        assert grid.origin[a] == pytest.approx(CENTRE[a] - RADIUS, abs=1.0)
    slab = images.masked_grid(image, 0.5, section={"z": float(CENTRE[2])}, thickness=0.5)
    assert slab.ndim == 2 and slab.thickness == 0.5
    assert slab.mask.sum() * 0.25 == pytest.approx(np.pi * RADIUS**2, rel=0.05)


def test_labels_thresholds_and_pictures(tmp_path):
    values = np.zeros((10, 12))
    values[2:5, 3:9] = 2.0
    values[6:9, 3:9] = 5.0
    np.save(tmp_path / "labels.npy", values)
    grid = ct.Grid((10, 12), 0.1)  # an array is stretched over the grid: same shape, same cells
    np.testing.assert_array_equal(
        images.mask_from_image(grid, tmp_path / "labels.npy", label=[2, 5]), values > 0
    )
    np.testing.assert_array_equal(
        images.mask_from_image(grid, tmp_path / "labels.npy", threshold=3.0), values == 5
    )
    field = images.field_from_image(grid, tmp_path / "labels.npy", label=5, value=0.3)
    np.testing.assert_array_equal(field, np.where(values == 5, 0.3, 0.0))
    fine = ct.Grid((20, 24), 0.05)  # each pixel two cells wide
    np.testing.assert_array_equal(
        images.mask_from_image(fine, tmp_path / "labels.npy", label=2),
        np.kron(values == 2, np.ones((2, 2), dtype=bool)),
    )


def test_bad_images_are_refused_with_the_key_and_what_is_allowed(tmp_path):
    path = write_sphere(tmp_path / "sphere.nii.gz", label=3)
    grid3 = ct.Grid((8, 8, 8), 1.0, origin=tuple(CENTRE - 4))
    grid2 = ct.Grid((8, 8), 1.0)
    with pytest.raises(ValueError, match=r"label: got 2; .* holds the values 0, 3"):
        images.mask_from_image(grid3, path, label=2)
    with pytest.raises(ValueError, match=r"section: missing; a 2D grid in a 3D image fixes 1"):
        images.mask_from_image(grid2, path)
    with pytest.raises(ValueError, match=r"section: got axis 'w'; allowed are x, y, z"):
        images.mask_from_image(grid2, path, section={"w": 0.0})
    far = ct.Grid((8, 8, 8), 1.0, origin=(500.0, 0.0, 0.0))
    with pytest.raises(ValueError, match=r"does not overlap the grid; the image covers x \["):
        images.mask_from_image(far, path)
    with pytest.raises(ValueError, match=r"file: .*nope.nii.gz' does not exist"):
        images.read_image(tmp_path / "nope.nii.gz")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"is not an image; allowed suffixes are .nii, .nii.gz"):
        images.read_image(tmp_path / "notes.txt")
    (tmp_path / "broken.nii.gz").write_bytes(b"not a nifti file")
    with pytest.raises(ValueError, match=r"file: cannot read .*broken.nii.gz"):
        images.read_image(tmp_path / "broken.nii.gz")
    series = nibabel.Nifti1Image(np.zeros((4, 4, 4, 3), np.float32), np.eye(4))
    nibabel.save(series, tmp_path / "series.nii")
    with pytest.raises(ValueError, match=r"holds 3 volumes of shape \(4, 4, 4\); one volume"):
        images.read_image(tmp_path / "series.nii")
    np.save(tmp_path / "flat.npy", np.ones((8, 8)))
    with pytest.raises(ValueError, match=r"file: .*flat.npy' has 2 axes .*; the grid has 3"):
        images.resample(grid3, tmp_path / "flat.npy")
    with pytest.raises(ValueError, match=r"section: got .*; a picture or array .* no world"):
        images.resample(grid2, tmp_path / "flat.npy", section={"z": 0.0})
    with pytest.raises(ValueError, match=r"threshold: got 0.5 with label 3; give one of"):
        images.mask_from_image(grid3, path, label=3, threshold=0.5)
    with pytest.raises(ValueError, match=r"interpolation: got 'cubic'; allowed are nearest"):
        images.resample(grid3, path, "cubic")
    off_the_ball = CENTRE + np.array([10.0, -2.0, -2.0])  # in the image
    corner = ct.Grid((4, 4, 4), 1.0, origin=tuple(off_the_ball))
    with pytest.raises(ValueError, match=r"image: no cell of the grid lies where .* label 3"):
        images.mask_from_image(corner, path, label=3)
    with pytest.raises(ValueError, match=r"label: 3 of .* reaches no cell of the grid"):
        images.field_from_image(corner, path, label=3)
