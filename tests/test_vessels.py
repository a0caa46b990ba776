"""Vessel maps: random capillaries, arrays and pictures."""

import numpy as np
import pytest

import continuum as ct


@pytest.mark.parametrize(("shape", "spacing"), [((400, 400), 0.01), ((200, 200), 0.002)])
def test_random_capillaries_cover_the_requested_fraction(shape, spacing):
    grid = ct.Grid(shape, spacing)
    density = ct.vessels.random_capillaries(grid, 0.04, seed=3)
    assert density.shape == shape
    assert 0.0 <= density.min() and density.max() <= 1.0
    assert abs(density.mean() - 0.04) < 0.01  # measured 6.5e-4 and 7.2e-3 (overlaps)
    again = ct.vessels.random_capillaries(grid, 0.04, seed=3)
    np.testing.assert_array_equal(density, again)
    assert not np.array_equal(density, ct.vessels.random_capillaries(grid, 0.04, seed=4))


def test_from_array_checks_shape_and_range():
    grid = ct.Grid((4, 5), 0.1)
    ct.vessels.from_array(grid, np.full((4, 5), 0.5))
    with pytest.raises(ValueError, match="grid shape"):
        ct.vessels.from_array(grid, np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ct.vessels.from_array(grid, np.full((4, 5), -0.1))
    with pytest.raises(ValueError, match="fraction"):
        ct.vessels.random_capillaries(grid, 1.5)


def test_from_image_round_trip(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    picture = np.zeros((40, 60))
    picture[10:20, 30:50] = 1.0
    plt.imsave(tmp_path / "vessels.png", picture, cmap="gray")
    grid = ct.Grid((40, 60), 0.05)
    density = ct.vessels.from_image(grid, tmp_path / "vessels.png")
    # within half a grey level of the 8-bit picture (measured: exactly)
    np.testing.assert_allclose(density, picture, rtol=0, atol=0.5 / 255)
    coarse = ct.vessels.from_image(ct.Grid((20, 30), 0.1), tmp_path / "vessels.png")
    assert coarse.shape == (20, 30)
    assert abs(coarse.mean() - picture.mean()) < 1e-12  # 2x2 block means (measured: equal)
    np.save(tmp_path / "vessels.npy", picture)
    np.testing.assert_array_equal(ct.vessels.from_image(grid, tmp_path / "vessels.npy"), picture)


def test_random_capillaries_are_the_same_physical_vessels_on_every_grid():
    """Same seed, same domain: the capillaries counted per cell at 20 µm, summed over
    the 2x2 and 4x4 blocks, are those counted at 40 and 80 µm."""
    radius = 0.005
    counts = {}
    for n in (16, 32, 64):
        grid = ct.Grid((n, n), 1.28 / n)
        density = ct.vessels.random_capillaries(grid, 0.03, seed=1, radius=radius)
        share = np.pi * radius**2 / np.prod(grid.spacing)
        counts[n] = np.log1p(-density) / np.log1p(-share)  # density = 1 - (1 - share)^count
    # rounding of 1 - (1 - share)^count and of the logs: a few ulp of counts <= 3 (measured
    # 2.2e-16 here, 4.4e-16 for the block sums below)
    np.testing.assert_allclose(counts[64], np.round(counts[64]), rtol=0, atol=1e-14)
    assert counts[64].sum() > 100
    for coarse in (16, 32):
        block = 64 // coarse
        summed = counts[64].reshape(coarse, block, coarse, block).sum(axis=(1, 3))
        np.testing.assert_allclose(summed, counts[coarse], rtol=0, atol=1e-14)
