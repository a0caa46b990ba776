import numpy as np
import pytest

import continuum as ct

EPS = np.finfo(float).eps


def test_coords_and_volume_1d_2d_3d():
    # products and sums of a few floats: a few roundings (the bound stated at each), measured
    # at most one ulp
    g1 = ct.Grid(10, 0.5, origin=-1.0, cross_section=2.0)
    coords = -1.0 + 0.5 * (np.arange(10) + 0.5)
    # origin + (i + 1/2) h: two roundings of the extent (measured: equal)
    np.testing.assert_allclose(g1.coords[0], coords, rtol=0, atol=2 * EPS * 4.0)
    assert g1.cell_volume == pytest.approx(1.0, rel=2 * EPS, abs=0)  # measured: equal
    g2 = ct.Grid((4, 5), (0.1, 0.2), thickness=3.0)
    assert g2.cell_volume == pytest.approx(0.1 * 0.2 * 3.0, rel=2 * EPS, abs=0)  # equal
    assert g2.shape3 == (1, 4, 5)
    g3 = ct.Grid((2, 3, 4), 0.1)
    assert g3.cell_volume == pytest.approx(1e-3, rel=2 * EPS, abs=0)  # measured 1 ulp
    assert g3.extent == pytest.approx((0.2, 0.3, 0.4), rel=2 * EPS, abs=0)  # 1 ulp


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"shape": (4, 4), "spacing": 0.0}, "spacing"),
        ({"shape": (4, 4), "spacing": -1.0}, "spacing"),
        ({"shape": (4, 4), "spacing": (0.1, 0.2, 0.3)}, "spacing"),
        ({"shape": (4, 0), "spacing": 0.1}, "shape"),
        ({"shape": (2, 2, 2, 2), "spacing": 0.1}, "shape"),
        ({"shape": (4, 4), "mask": np.ones((3, 4), bool)}, "mask"),
        ({"shape": (4, 4), "mask": np.zeros((4, 4), bool)}, "mask"),
        ({"shape": 4, "cross_section": 0.0}, "cross_section"),
    ],
)
def test_bad_grid_raises_naming_parameter(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ct.Grid(**kwargs)


def test_state_fields_scalars_and_unknown_names():
    grid = ct.Grid((3, 4), 0.1)
    model = ct.models.FisherKPP()
    state = model.initial_state(grid, u=0.25)
    assert state.data.shape == (1, 3, 4)
    assert state.data.flags.c_contiguous
    # a sum of 12 cells times the cell volume: <= 12 roundings (measured 1 ulp)
    assert state.total("u") == pytest.approx(0.25 * 12 * 0.01, rel=12 * EPS, abs=0)
    with pytest.raises(ValueError, match="unknown name"):
        model.initial_state(grid, v=1.0)
    with pytest.raises(ValueError, match="shape"):
        model.initial_state(grid, u=np.zeros((4, 3)))
    with pytest.raises(KeyError, match="unknown name"):
        state["v"]


def test_array_valued_scalars_share_one_vector():
    grid = ct.Grid(3, 1.0)
    layout = {"blood": (0, ()), "sizes": (1, (2, 2))}
    state = ct.State(grid, ("u",), np.zeros((1, 3)), layout)
    state.set_scalar("sizes", np.arange(4.0).reshape(2, 2))
    state.set_scalar("blood", 7.0)
    np.testing.assert_array_equal(state.scalars, [7.0, 0.0, 1.0, 2.0, 3.0])
    assert state["sizes"][1, 1] == 3.0
