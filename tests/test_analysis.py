"""Post-analysis against constructed runs whose answers are known."""

import numpy as np
import pytest

import continuum as ct
from continuum import analysis
from continuum.result import Result


def constructed(model, grid, times, frames, series=None):
    """A Result holding the given frames (fields stacked on axis 1) and series."""
    state = model.initial_state(grid)
    series = series or {}
    scalars = np.zeros((len(times), state.scalars.size))
    return Result(model, grid, np.asarray(times), frames, series, state, {}, scalars)


def disks(grid, radii, value=1.0):
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    r = np.hypot(x - 4.0, y - 4.0)
    return np.stack([np.where(r <= radius, value, 0.0) for radius in radii])[:, None]


def test_depth_speed_and_volume_of_a_growing_disk():
    grid = ct.Grid((160, 160), 0.05)  # 8 mm square
    times = np.arange(0.0, 21.0, 2.0)
    radii = 1.0 + 0.1 * times  # the front moves at 0.1 mm/day
    run = constructed(ct.models.FisherKPP(), grid, times, disks(grid, radii, 0.8))
    depth = analysis.invasion_depth(run, threshold=0.5)
    # a disk drawn on the grid is resolved to a cell: measured 0.011 mm (one cell 0.05)
    np.testing.assert_allclose(depth, radii - radii[0], rtol=0, atol=grid.spacing[0])
    # fits through those depths: measured 2.0e-3 (11 frames) and 8.8e-3 (6 frames)
    assert analysis.front_speed(run, threshold=0.5) == pytest.approx(0.1, rel=6e-3)
    assert analysis.front_speed(run, 0.5, since=0.0, until=10.0) == pytest.approx(0.1, rel=0.025)
    area = analysis.tumor_volume(run, threshold=0.5)
    np.testing.assert_allclose(area, np.pi * radii**2, rtol=0.015)  # measured 5.9e-3
    cells = analysis.tumor_cells(run)  # the integral of the density
    np.testing.assert_allclose(cells, 0.8 * area, rtol=1e-12)  # round-off: measured 2.8e-16


def test_depth_of_a_planar_front_is_its_advance():
    grid = ct.Grid((200,), 0.02)
    x = grid.coords[0]
    fronts = [0.5, 0.9, 1.7, 2.5]
    frames = np.stack([np.where(x <= f, 1.0, 0.0) for f in fronts])[:, None]
    run = constructed(ct.models.FisherKPP(), grid, [0.0, 1.0, 2.0, 3.0], frames)
    # fronts on cell faces are found there (measured: exactly; a cell is 0.02 mm)
    np.testing.assert_allclose(
        analysis.invasion_depth(run, 0.5), np.array(fronts) - 0.5, rtol=0, atol=1e-12
    )
    with pytest.raises(ValueError, match=r"threshold: got 1\.5"):
        analysis.invasion_depth(run, 1.5)


def test_time_to_detection_interpolates_between_frames():
    sites = [ct.SecondarySite("lung", "lung"), ct.SecondarySite("brain", "brain")]
    model = ct.Cascade(ct.models.LumpedPrimary(mu=1e-4), ct.Circulation(), sites, horizon=100)
    times = np.array([0.0, 10.0, 20.0, 30.0])
    series = {
        "sites/lung/detectable": np.array([0.0, 0.0, 0.5, 2.5]),
        "sites/brain/detectable": np.zeros(4),
        "blood_ctc": np.array([0.0, 5.0, 7.0, 8.0]),
        "lymph_ctc": np.array([0.0, 1.0, 1.0, 1.0]),
    }
    run = constructed(model, ct.Grid((1,), 1.0), times, np.zeros((4, 0, 1)), series)
    assert analysis.sites(run) == ["lung", "brain"]
    first = analysis.time_to_detection(run)
    assert first["lung"] == pytest.approx(22.5) and first["brain"] is None
    np.testing.assert_array_equal(analysis.circulating_cells(run), [0.0, 6.0, 8.0, 9.0])
    with pytest.raises(KeyError, match="the run's sites are"):
        analysis.site_series(run, "liver")


def test_to_xarray_carries_fields_series_and_units(tmp_path):
    pytest.importorskip("xarray")
    model = ct.models.Invasion()
    grid = ct.Grid((16, 12), 0.1)
    result = ct.simulate(
        model,
        model.initial_state(grid),
        2.0,
        save_every=1.0,
        method="imex",
        output=tmp_path / "run.h5",
    )
    with ct.open_run(tmp_path / "run.h5") as run:
        for source in (result, run):
            data = source.to_xarray()
            assert data["epithelial"].dims == ("time", "x", "y")
            np.testing.assert_array_equal(data["epithelial"].values, result.field("epithelial"))
            assert data["blood_ctc"].attrs["units"] == "cells"
            cells = data["mesenchymal"].attrs
            assert cells["units"] == "1" and cells["reference_density"] == 1e5
            assert cells["units_description"] == "fraction of K_cell = 1e5 cells/mm^3"
            assert data["x"].attrs["units"] == "mm" and data["time"].attrs["units"] == "day"
            np.testing.assert_array_equal(data["time"].values, [0.0, 1.0, 2.0])
