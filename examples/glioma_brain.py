"""Glioma in a brain from NIfTI images: Swanson's proliferation-invasion model (Fisher-KPP,
D = 0.13 mm^2/day, rho = 0.012 /day; Swanson, Alvord & Murray, Cell Prolif 2000) on an
axial slice of a brain-shaped tissue mask, no flux across the brain's surface, the
ventricles and the longitudinal fissure.

The script writes its own images (no download), in world coordinates [mm, RAS+: x from
the patient's left to right, y posterior to anterior, z inferior to superior] through an
oblique affine (voxels of 1 x 1.25 x 1.5 mm, x stored flipped, the lattice tilted 8
degrees about x, as an oblique acquisition would be):

* ``brain.nii.gz``: 1 in the brain, two hemispheres 140 x 170 x 120 mm around
  BRAIN_CENTRE with the lateral ventricles carved out and the longitudinal fissure
  between the hemispheres above the corpus callosum and in front of and behind it;
* ``seed.nii.gz``: label 1 in a ball of 5 mm radius in the right frontal white matter;

then a scenario, ``glioma_brain.toml``, that names them (``[grid] mask`` and
``[initial] u`` with ``section = { z = ... }``), runs it into ``glioma_brain.h5`` and
draws ``glioma_brain.png``: the tumour-cell density after two years and the fronts
visible on T2 MRI (16 % of capacity) each half year.

    python examples/glioma_brain.py [--folder glioma_brain] [--spacing 1.0] [--days 730]
"""

import argparse
import math
from pathlib import Path

import numpy as np

import continuum as ct

BRAIN_CENTRE = np.array([0.0, -18.0, 10.0])  # mm, world RAS+
HEMISPHERE_AXES = (37.0, 85.0, 60.0)  # semi-axes [mm]; centres 33 mm either side of the midline
VENTRICLE_AXES = (6.0, 28.0, 9.0)  # semi-axes [mm] of each lateral ventricle
SEED_CENTRE = BRAIN_CENTRE + np.array([30.0, 30.0, 8.0])  # mm: right frontal lobe
SEED_RADIUS = 5.0  # mm
SLICE_Z = float(SEED_CENTRE[2])  # mm: the axial slice through the seed
T2_VISIBLE = 0.16  # fraction of capacity seen on T2 MRI (Swanson et al. 2008)

SCENARIO = """\
title = "glioma in an axial brain slice (NIfTI mask and seed)"

[grid]
spacing = {spacing}                  # mm; no shape: the grid covers the brain's slice
mask = {{ file = "brain.nii.gz", section = {{ z = {z} }} }}

[model]
name = "FisherKPP"
parameters = {{ diffusivity = 0.13, growth_rate = 0.012 }}   # mm^2/day, 1/day

[initial]
u = {{ file = "seed.nii.gz", label = 1, value = 0.8, section = {{ z = {z} }} }}

[run]
t_end = {t_end}                      # days
save_every = {save_every}
method = "explicit"
output = "glioma_brain.h5"
"""


def brain_affine(voxel=(1.0, 1.25, 1.5), shape=(160, 160, 107)) -> np.ndarray:
    """Voxel index to world [mm]: x flipped, voxel sizes ``voxel`` [mm], tilted 8 degrees
    about x, the middle of a ``shape`` array at BRAIN_CENTRE."""
    tilt = math.radians(8.0)
    about_x = np.array(
        [[1, 0, 0], [0, math.cos(tilt), -math.sin(tilt)], [0, math.sin(tilt), math.cos(tilt)]]
    )
    affine = np.eye(4)
    affine[:3, :3] = about_x @ np.diag([-voxel[0], voxel[1], voxel[2]])
    affine[:3, 3] = BRAIN_CENTRE - affine[:3, :3] @ ((np.array(shape) - 1) / 2)
    return affine


def brain_tissue(x, y, z) -> np.ndarray:
    """Whether world points [mm] are brain tissue: two hemispheric ellipsoids less the
    lateral ventricles and the longitudinal fissure (2 mm wide; the corpus callosum joins
    the hemispheres below 14 mm above the centre, from 50 mm behind to 50 mm in front)."""
    x, y, z = x - BRAIN_CENTRE[0], y - BRAIN_CENTRE[1], z - BRAIN_CENTRE[2]
    a, b, c = HEMISPHERE_AXES
    hemispheres = ((np.abs(x) - 33.0) / a) ** 2 + (y / b) ** 2 + (z / c) ** 2 <= 1
    u, v, w = VENTRICLE_AXES
    ventricles = ((np.abs(x) - 9.0) / u) ** 2 + ((y - 5.0) / v) ** 2 + ((z - 5.0) / w) ** 2 <= 1
    callosum = (z < 14.0) & (np.abs(y) < 50.0)
    fissure = (np.abs(x) < 1.0) & ~callosum
    return hemispheres & ~ventricles & ~fissure


def write_brain_images(folder, voxel=(1.0, 1.25, 1.5)):
    """Write ``brain.nii.gz`` (the tissue mask) and ``seed.nii.gz`` (label 1: the
    tumour seed) into ``folder``, ``voxel`` [mm] apart; returns their paths."""
    import nibabel

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # 160 x 200 x 160 mm of voxels: the brain's box tilted 8 degrees, with a margin
    shape = tuple(math.ceil(e / h) for e, h in zip((160.0, 200.0, 160.0), voxel, strict=True))
    affine = brain_affine(voxel, shape)
    index = np.array(np.meshgrid(*(np.arange(n) for n in shape), indexing="ij"))
    x, y, z = np.einsum("ab,b...->a...", affine[:3, :3], index) + affine[:3, 3, None, None, None]
    brain = brain_tissue(x, y, z)
    seed = brain & (
        np.linalg.norm([x, y, z] - SEED_CENTRE[:, None, None, None], axis=0) <= SEED_RADIUS
    )
    paths = folder / "brain.nii.gz", folder / "seed.nii.gz"
    for path, values in zip(paths, (brain, seed), strict=True):
        image = nibabel.Nifti1Image(values.astype(np.uint8), affine)
        image.header.set_xyzt_units("mm", "sec")
        nibabel.save(image, path)
    return paths


def simulate_glioma(folder, spacing=1.0, days=730.0, voxel=(1.0, 1.25, 1.5), progress=False):
    """Write the images and the scenario into ``folder``, run it and draw its picture;
    returns the :class:`~continuum.Result` (its run file is ``glioma_brain.h5``)."""
    folder = Path(folder)
    write_brain_images(folder, voxel)
    text = SCENARIO.format(spacing=spacing, z=SLICE_Z, t_end=days, save_every=days / 20)
    (folder / "glioma_brain.toml").write_text(text)
    scenario = ct.load_scenario(folder / "glioma_brain.toml")
    result = scenario.run(output=folder / "glioma_brain.h5", overwrite=True, progress=progress)
    draw(result, folder / "glioma_brain.png")
    return result


def visible_area(result, t: float) -> float:
    """Area [mm^2] of the slice where the density is at least T2_VISIBLE at day ``t``."""
    grid = result.grid
    return float(np.sum(result.field("u", t) >= T2_VISIBLE) * np.prod(grid.spacing))


def draw(result, path):
    """The density of the last frame on the slice (x across, anterior up) over the
    tissue in grey, and the T2-visible fronts every half year."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = result.grid
    x0, y0 = grid.origin
    extent = (x0, x0 + grid.extent[0], y0, y0 + grid.extent[1])
    u = result.field("u")[-1]
    fig, ax = plt.subplots(figsize=(6.2, 6.6), constrained_layout=True)
    ax.imshow(grid.mask.T, origin="lower", extent=extent, cmap="Greys", vmin=0, vmax=4)
    shown = np.ma.masked_where(~grid.mask | (u < 0.01), u)
    image = ax.imshow(shown.T, origin="lower", extent=extent, cmap="YlOrRd", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, shrink=0.7, label="tumour cells u [fraction of capacity]")
    xc, yc = grid.coords
    for t in np.arange(182.5, result.times[-1] + 1, 182.5):
        ax.contour(xc, yc, result.field("u", t).T, [T2_VISIBLE], colors="navy", linewidths=0.9)
    ax.set_xlabel("x: left → right [mm]")
    ax.set_ylabel("y: posterior → anterior [mm]")
    ax.set_title(
        f"glioma, axial slice z = {SLICE_Z:g} mm, day {result.times[-1]:g}\n"
        f"blue: T2-visible front (u ≥ {T2_VISIBLE}) every 182.5 days"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default="glioma_brain", help="where files are written")
    parser.add_argument("--spacing", type=float, default=1.0, help="grid spacing [mm]")
    parser.add_argument("--days", type=float, default=730.0, help="simulated time [day]")
    args = parser.parse_args()
    result = simulate_glioma(args.folder, args.spacing, args.days, progress=True)
    for t in (result.times[0], result.times[-1]):
        print(f"day {t:6.1f}: T2-visible area {visible_area(result, t):7.1f} mm^2")
    print(f"run file: {Path(args.folder) / 'glioma_brain.h5'}")
    print(f"picture:  {Path(args.folder) / 'glioma_brain.png'}")


if __name__ == "__main__":
    main()
