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
    assert abs(density.mean() - 0.04) < 0.01
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
    np.testing.assert_allclose(density, picture, atol=1e-2)
    coarse = ct.vessels.from_image(ct.Grid((20, 30), 0.1), tmp_path / "vessels.png")
    assert coarse.shape == (20, 30)
    assert abs(coarse.mean() - picture.mean()) < 0.02
    np.save(tmp_path / "vessels.npy", picture)
    np.testing.assert_array_equal(ct.vessels.from_image(grid, tmp_path / "vessels.npy"), picture)
