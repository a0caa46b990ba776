"""What a person reads: counts below one cell as "< 1", expected numbers kept as
fractions, site names as words, units of fields in words, and reprs that say what an
object holds."""

import numpy as np
import pytest

import continuum as ct
from continuum import readable
from continuum.ensemble.summary import Summary
from continuum.io.writer import field_unit_attributes


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (1.37e-146, "< 1"),
        (0.999, "< 1"),
        (1.0, "1"),
        (41_887.9, "41,888"),
        (4.18879e5, "4.19e5"),
        (4.42e8, "4.42e8"),
    ],
)
def test_counts_of_cells(value, text):
    assert readable.count(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(0.0, "0"), (1.4e-5, "< 0.001"), (0.5362, "0.536"), (12.34, "12.3")]
)
def test_expected_numbers(value, text):
    assert readable.expected(value) == text


def test_days_and_site_names():
    assert readable.days(1.0) == "1 day" and readable.days(12.0) == "12 days"
    assert readable.days(3.25) == "3.25 days" and readable.days(0.5) == "0.5 days"
    assert readable.site_name("lymph_node") == "lymph node"


def test_field_units_say_what_they_are_a_fraction_of():
    model = ct.models.Invasion(K_cell=2e5)
    assert model.field_unit("mesenchymal") == "1"  # machine-readable, as before
    assert model.field_scale("mesenchymal") == "fraction of K_cell = 2e5 cells/mm^3"
    assert model.reference_density("epithelial") == 2e5
    assert model.reference_density("oxygen") is None
    assert field_unit_attributes(model, "epithelial") == {
        "units": "1",
        "units_description": "fraction of K_cell = 2e5 cells/mm^3",
        "reference_density": 2e5,
        "reference_density_units": "cells/mm^3",
    }
    assert field_unit_attributes(ct.models.Heat(), "u") == {"units": "1"}
    immune = ct.models.ImmuneInvasion()
    assert immune.reference_density("immune") == immune.parameters["K_cell"]


def test_reprs_say_what_objects_hold(tmp_path):
    grid = ct.Grid((24, 16), 0.1)
    assert repr(grid) == "Grid(24 x 16 cells of 0.1 mm (2.4 x 1.6 mm) from (0, 0) mm)"
    masked = ct.Grid((4, 4), 0.5, mask=np.arange(16).reshape(4, 4) < 12)
    assert repr(masked).endswith("from (0, 0) mm, masked: 75 % tissue)")
    model = ct.models.FisherKPP(growth_rate=0.5)
    assert repr(model) == "FisherKPP(growth_rate=0.5 1/day, others at their defaults; fields u)"
    assert repr(ct.models.Heat()) == "Heat(default parameters; fields u)"
    state = model.initial_state(grid, u=0.1)
    assert repr(state) == (
        "State(fields u on 24 x 16 cells of 0.1 mm (2.4 x 1.6 mm); 1 scalar (removed))"
    )
    result = ct.simulate(model, state, 2.0, save_every=1.0, output=tmp_path / "fk.h5")
    path = str(tmp_path / "fk.h5")
    contents = (
        "FisherKPP on 24 x 16 cells of 0.1 mm (2.4 x 1.6 mm), t = 0 to 2 day in 3 frames; "
        f"fields u; {len(result.series_names)} series"
    )
    assert repr(result) == f"Result({contents}; file {path!r})"
    run = ct.open_run(path)
    assert repr(run) == f"RunFile({path!r}: {contents})"
    run.close()
    assert repr(run) == f"RunFile({path!r}, closed)"


def test_repr_of_an_ensemble_summary():
    rows = [
        {"id": "m0", "mu": 1.0, "status": "ok", "seconds": 1.0, "peak_ctc": 3.0},
        {"id": "m1", "mu": 2.0, "status": "failed: diverged", "seconds": 1.0},
    ]
    summary = Summary(rows, ["mu"])
    summary.design = "lhs:2"
    assert repr(summary) == (
        "Summary(2 members: 1 ok, 1 failed; parameters mu; design lhs:2; outputs peak_ctc)"
    )
