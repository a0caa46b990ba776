"""Scenario files that name images: a NIfTI tissue mask, an initial tumour from a
segmentation label, vessel maps, and every problem with them reported at once."""

import textwrap

import numpy as np
import pytest

import continuum as ct
from continuum import images

nibabel = pytest.importorskip("nibabel")

# voxels of 1.5 x 1 x 2 mm, x flipped, axes swapped (voxel j runs along world z), offset
AFFINE = np.array(
    [
        [-1.5, 0.0, 0.0, 12.0],
        [0.0, 0.0, 1.0, -14.0],
        [0.0, 2.0, 0.0, -9.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
SHAPE = (20, 12, 30)


def world():
    """World coordinates [mm] of the voxel centres of the test images, shape (3, *SHAPE)."""
    index = np.array(np.meshgrid(*(np.arange(n) for n in SHAPE), indexing="ij"))
    return np.einsum("ab,b...->a...", AFFINE[:3, :3], index) + AFFINE[:3, 3, None, None, None]


def write_images(folder):
    """``tissue.nii.gz`` (1 in an ellipsoid of semi-axes 12, 13, 9 mm around the world
    origin, 0 outside), ``tumour.nii.gz`` (label 2 in a ball of 3 mm at (3, 2, 0) mm,
    label 1 in a ball at (-4, -3, 0)) and ``vessels.nii`` (a density falling along x)."""
    x, y, z = world()
    tissue = (x / 12) ** 2 + (y / 13) ** 2 + (z / 9) ** 2 <= 1
    tumour = np.where(np.hypot(np.hypot(x - 3, y - 2), z) <= 3, 2, 0)
    tumour[np.hypot(np.hypot(x + 4, y + 3), z) <= 3] = 1
    vessels = np.clip(0.5 - x / 40, 0, 1)
    for name, values in (("tissue.nii.gz", tissue), ("tumour.nii.gz", tumour)):
        nibabel.save(nibabel.Nifti1Image(values.astype(np.uint8), AFFINE), folder / name)
    nibabel.save(nibabel.Nifti1Image(vessels, AFFINE), folder / "vessels.nii")


GLIOMA = """
[grid]
shape = [28, 30]
spacing = 1.0
origin = [-14.0, -15.0]
mask = { file = "tissue.nii.gz", section = { z = 0.5 } }
[model]
name = "FisherKPP"
parameters = { diffusivity = 0.13, growth_rate = 0.0 }
[initial]
u = { file = "tumour.nii.gz", label = 2, value = 0.8, section = { z = 0.5 } }
[run]
t_end = 20.0
save_every = 10.0
method = "explicit"
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_nifti_mask_and_tumour_make_a_masked_glioma_that_keeps_its_mass(tmp_path):
    write_images(tmp_path)
    scenario = ct.load_scenario(write(tmp_path, "glioma.toml", GLIOMA))
    grid = scenario.state.grid
    expected = images.mask_from_image(grid, tmp_path / "tissue.nii.gz", section={"z": 0.5})
    np.testing.assert_array_equal(grid.mask, expected)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    # the ellipse of the section through the voxels nearest z = 0.5 mm (centred at z = 1)
    area = np.pi * 12 * 13 * (1 - (1 / 9) ** 2)
    assert grid.mask.sum() * 1.0 == pytest.approx(area, rel=0.02)  # measured -0.01 %
    assert abs(x[grid.mask].mean()) < 0.5 and abs(y[grid.mask].mean()) < 0.5  # measured 0, 0
    u = scenario.state["u"]
    assert set(np.unique(u)) == {0.0, 0.8}
    seed = u > 0
    assert abs(x[seed].mean() - 3) < 1 and abs(y[seed].mean() - 2) < 1  # measured 0, 0
    # no growth: the masked no-flux diffusion keeps the mass and leaves no cell outside
    result = scenario.run(output=tmp_path / "glioma.h5", progress=False)
    final = result.field("u")[-1]
    assert grid.integrate(final) == pytest.approx(grid.integrate(u), rel=1e-10)
    assert np.all(final[~grid.mask] == 0) and final[grid.mask].min() >= 0
    assert final.max() < 0.8  # it spread
    with ct.open_run(tmp_path / "glioma.h5") as run:
        np.testing.assert_array_equal(run.grid.mask, grid.mask)
        assert run.grid.origin == (-14.0, -15.0)


def test_a_grid_without_shape_covers_the_mask_in_3d(tmp_path):
    write_images(tmp_path)
    text = """
    [grid]
    spacing = 2.0
    mask = { file = "tissue.nii.gz", threshold = 0.5 }
    [model]
    name = "FisherKPP"
    [initial]
    u = { file = "tumour.nii.gz", label = [1, 2] }
    [run]
    t_end = 1.0
    """
    scenario = ct.load_scenario(write(tmp_path, "cover.toml", text))
    grid = scenario.state.grid
    assert grid.ndim == 3 and grid.spacing == (2.0, 2.0, 2.0)
    # the ellipsoid's box, 24 x 26 x 18 mm, in cells of 2 mm (a cell more where it is cut)
    for n, width in zip(grid.shape, (24, 26, 18), strict=True):
        assert width / 2 - 1 <= n <= width / 2 + 1
    volume = grid.mask.sum() * grid.cell_volume
    assert volume == pytest.approx(4 / 3 * np.pi * 12 * 13 * 9, rel=0.05)  # measured 0.4 %
    both = scenario.state["u"] > 0
    # two balls of 3 mm in cells of 2 mm: measured -8 %
    assert both.sum() * grid.cell_volume == pytest.approx(2 * 4 / 3 * np.pi * 27, rel=0.2)


def test_vessel_maps_from_nifti_are_read_beside_the_scenario(tmp_path, monkeypatch):
    write_images(tmp_path)
    text = """
    [grid]
    shape = [10, 10, 4]
    spacing = 2.0
    origin = [-10.0, -10.0, -4.0]
    [model]
    name = "Invasion"
    [initial]
    epithelial = { file = "tumour.nii.gz", label = 2, value = 0.9 }
    [vessels]
    blood = { file = "vessels.nii", rescale = false }
    lymph = { file = "vessels.nii", invert = true }
    [run]
    t_end = 0.5
    """
    monkeypatch.chdir(tmp_path.parent)  # file names are relative to the scenario's folder
    scenario = ct.load_scenario(write(tmp_path, "tissue.toml", text))
    grid = scenario.state.grid
    maps = scenario.model.static_maps(grid).reshape((2, *grid.shape))
    x = np.meshgrid(*grid.coords, indexing="ij")[0]
    np.testing.assert_allclose(maps[0], 0.5 - x / 40, atol=1e-12)  # linear in x: exact
    x_voxels = world()[0]
    low, high = (0.5 - x_voxels / 40).min(), (0.5 - x_voxels / 40).max()
    np.testing.assert_allclose(maps[1], 1 - (0.5 - x / 40 - low) / (high - low), atol=1e-12)


def test_every_image_problem_is_reported_at_once(tmp_path):
    write_images(tmp_path)
    text = """
    [grid]
    shape = [8, 8]
    mask = { file = "tissue.nii.gz", labl = 1 }
    [model]
    name = "FisherKPP"
    [run]
    t_end = 1.0
    """
    with pytest.raises(ct.ScenarioError) as caught:
        ct.load_scenario(write(tmp_path, "mask.toml", text))
    assert caught.value.problems == [
        "grid.mask: unknown key 'labl'; did you mean 'label'? (known: file, label, section, "
        "threshold)",
        "grid.mask.section: missing; a 2D grid in a 3D image fixes 1 of the world axes x, y, z "
        '[mm] (e.g. {"z": 0.0})',
    ]
    text = """
    [grid]
    shape = [8, 8, 8]
    spacing = 1.0
    origin = [-4.0, -4.0, -4.0]
    [model]
    name = "Invasion"
    [initial]
    epithelial = { file = "tumour.nii.gz", label = 7 }
    ecm = { file = "missing.nii.gz" }
    oxygen = { file = "tumour.nii.gz", section = { z = 1.0 } }
    [vessels]
    blood = { file = "vessels.nii", invert = "yes" }
    lymph = { file = "vessels.nii", section = 3 }
    [[interventions]]
    kind = "radiotherapy"
    start = 0.5
    target = { file = "tumour.nii.gz", label = 1, value = 1.0, section = { z = 0 } }
    [run]
    t_end = 1.0
    output = "never.h5"
    """
    with pytest.raises(ct.ScenarioError) as caught:
        ct.load_scenario(write(tmp_path, "many.toml", text))
    problems = caught.value.problems
    expected = [
        "vessels.blood.invert: got 'yes'; true or false is required",
        "vessels.lymph.section: got 3; a table such as { z = 0.0 } [mm]",
        "initial.epithelial.label: got 7; ",
        "holds the values 0, 1, 2",
        "initial.ecm.file: ",
        "missing.nii.gz' does not exist",
        "initial.oxygen.section: got {'z': 1.0}; a 3D grid in a 3D image fixes 0 of",
        "interventions[0] (radiotherapy).target.section: got {'z': 0}; a 3D grid",
    ]
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)
    assert len(problems) == 6, problems
    assert not (tmp_path / "never.h5").exists()


@pytest.mark.parametrize(
    ("grid", "problem"),
    [
        (
            'shape = [4, 4, 4]\norigin = [300.0, 0.0, 0.0]\nmask = { file = "tissue.nii.gz" }',
            "grid.mask: '{folder}/tissue.nii.gz' does not overlap the grid; the image covers x [",
        ),
        (
            'origin = [0.0, 0.0, 0.0]\nmask = { file = "tissue.nii.gz" }',
            "grid.origin: a grid without 'shape' covers its mask; give both or neither",
        ),
        (
            'spacing = -1.0\nmask = { file = "tissue.nii.gz" }',
            "grid.spacing: got -1.0; it must be > 0 [mm]",
        ),
        ('mask = "tissue.nii.gz"', "grid.mask: got 'tissue.nii.gz'; a table with the image's"),
        ("spacing = 1.0", "grid: missing required entry 'shape' (or a mask image to cover)"),
        (
            'shape = [4, 4, 4]\nmask = { file = "tissue.nii.gz", label = 1, threshold = 0.5 }',
            "grid.mask.threshold: got 0.5 with label 1; give one of label or threshold",
        ),
        (
            'spacing = 1.0\nmask = { file = "tissue.png" }',
            "grid.mask.file: '{folder}/tissue.png' has no world placement (a picture or array)",
        ),
    ],
)
def test_grid_mask_problems_name_the_key(tmp_path, grid, problem):
    write_images(tmp_path)
    matplotlib = pytest.importorskip("matplotlib.pyplot")
    matplotlib.imsave(tmp_path / "tissue.png", np.eye(8), cmap="gray")
    text = f'[grid]\n{grid}\n[model]\nname = "FisherKPP"\n[run]\nt_end = 1.0\n'
    with pytest.raises(ct.ScenarioError) as caught:
        ct.Scenario.from_text(text, folder=tmp_path)
    assert any(p.startswith(problem.format(folder=tmp_path)) for p in caught.value.problems), (
        caught.value.problems
    )
