"""Gatenby-Gawlinski acid-mediated invasion: the normal tissue behind and ahead of the front."""

import numpy as np
import pytest

import continuum as ct


def invade(delta_1, t_end, motility, n=400):
    """Tumour on the left fifth of [0, 2], healthy tissue elsewhere, no acid yet."""
    grid = ct.Grid(n, 2.0 / n)
    x = grid.coords[0]
    model = ct.models.AcidMediated(delta_1=delta_1, Delta_2=motility)
    tumor = np.where(x < 0.2, 1.0, 0.0)
    state = model.initial_state(grid, normal=1 - tumor, tumor=tumor, acid=0.0)
    res = ct.simulate(model, state, t_end, save_every=t_end / 2, method="imex", rtol=1e-5)
    normal, tumor = res.field("normal")[-1], res.field("tumor")[-1]
    front = x[np.nonzero(tumor < 0.5)[0][0]]
    return x, normal, tumor, front


@pytest.mark.parametrize("delta_1", [0.3, 0.6])
def test_normal_tissue_behind_the_front_tends_to_one_minus_delta_1(delta_1):
    x, normal, tumor, front = invade(delta_1, 40.0, motility=1e-3)
    assert front > 0.8  # the tumour has invaded well past where it started (0.87, 1.08)
    behind = (x > 0.25) & (x < 0.45)  # tissue that was healthy, long overrun
    # still relaxing towards 1 - delta_1: measured 6.2e-3 (delta_1 0.3), 3.3e-3 (0.6)
    np.testing.assert_allclose(normal[behind], 1 - delta_1, rtol=0, atol=0.01)
    # the tumour fills its capacity: 1 - tumour measured 1.0e-7 (0.3), 2.3e-8 (0.6)
    assert np.all(1 - tumor[behind] < 3e-7)


def test_gap_opens_ahead_of_the_tumour_when_delta_1_exceeds_one():
    x, normal, tumor, front = invade(12.5, 15.0, motility=1e-4, n=800)
    gap = (x > front) & (tumor < 0.1) & (normal < 0.1)
    assert gap.sum() * (x[1] - x[0]) > 0.05  # an acellular band ahead (measured 0.135 mm)
    # no normal tissue survives behind it: measured at most 2.3e-11
    assert np.all(normal[x < front] < 6e-11)
    assert normal[x > front + 0.5].min() > 0.9  # far ahead, healthy tissue (measured 0.921)


def test_no_gap_when_delta_1_below_one():
    x, normal, _, front = invade(0.5, 15.0, motility=1e-4, n=800)
    ahead = (x > front) & (x < front + 0.2)
    assert normal[ahead].min() > 0.45  # no gap: measured 0.778 (a gap is below 0.1)
