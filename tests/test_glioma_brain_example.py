"""The glioma-in-a-brain example (examples/glioma_brain.py), reduced: coarse voxels, a
coarse grid and a few weeks."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import continuum as ct

pytest.importorskip("nibabel")
pytest.importorskip("matplotlib")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "glioma_brain.py"


def load_example():
    spec = importlib.util.spec_from_file_location("glioma_brain", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_grows_a_glioma_in_the_brain_slice_it_wrote(tmp_path):
    example = load_example()
    result = example.simulate_glioma(tmp_path, spacing=3.0, days=40.0, voxel=(2.5, 3.0, 3.0))
    with ct.open_run(tmp_path / "glioma_brain.h5") as run:
        grid = run.grid
        u = run.field("u")
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    # the mask is the brain's section at z = SLICE_Z, up to the voxels (3 mm): compare
    # with the shape itself at the cell centres
    brain = example.brain_tissue(x, y, np.full_like(x, example.SLICE_Z))
    assert np.mean(grid.mask != brain) < 0.05  # measured 0.020 (cells on the rims)
    assert grid.mask.sum() == pytest.approx(brain.sum(), rel=0.05)  # measured 0.1 %
    # the seed where it was written: its centre within a cell of SEED_CENTRE
    seed = u[0] > 0
    assert abs(x[seed].mean() - example.SEED_CENTRE[0]) < 3.0  # measured 0.0 mm
    assert abs(y[seed].mean() - example.SEED_CENTRE[1]) < 3.0  # measured 0.9 mm
    # it grows, slower than exponentially at rho = 0.012 /day (logistic), measured 1.26x
    growth = grid.integrate(u[-1]) / grid.integrate(u[0])
    assert 1.1 < growth < np.exp(0.012 * 40.0)
    # nothing outside the brain, densities in [0, 1]
    assert np.all(u[:, ~grid.mask] == 0) and u.min() >= 0 and u.max() <= 1
    assert example.visible_area(result, 40.0) > example.visible_area(result, 0.0)
    picture = (tmp_path / "glioma_brain.png").read_bytes()
    assert picture.startswith(b"\x89PNG") and len(picture) > 10_000
