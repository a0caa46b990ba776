"""The HTML summaries (``_repr_html_``) of results, run files and scenarios."""

from html.parser import HTMLParser
from pathlib import Path

import pytest

import continuum as ct
from continuum.html import _size

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class _Cells(HTMLParser):
    """The text of every table cell, each table row as a tuple, and the check that every
    tag closes in order (the block is well formed)."""

    def __init__(self, markup: str):
        super().__init__()
        self.rows, self.open, self._row, self._cell = [], [], None, None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.open.append(tag)
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        if tag in ("td", "th"):
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self.rows.append(tuple(self._row))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def cells(markup: str) -> list[tuple]:
    parsed = _Cells(markup)
    assert parsed.open == [], f"unclosed tags {parsed.open}"
    assert "<script" not in markup and "http" not in markup  # self-contained
    return parsed.rows


def row(rows, first: str) -> tuple:
    """The row whose first cell is ``first``."""
    found = [r for r in rows if r and r[0] == first]
    assert len(found) == 1, f"{first!r}: {found}"
    return found[0]


@pytest.fixture(scope="module")
def cascade_run(tmp_path_factory):
    """A lumped primary with two sites (one with markup in its name), resected at day 20
    and treated from day 25 to 35, written to a run file."""
    sites = [
        ct.SecondarySite("lung", survival=1e-3),
        ct.SecondarySite("bone <b>&", organ="bone", survival=1e-3),
    ]
    primary = ct.models.LumpedPrimary(growth={"law": "gompertz", "a": 0.01, "K": 1e11}, mu=30.0)
    model = ct.Cascade(primary, ct.Circulation(), sites, horizon=60.0, cohort_days=2.0)
    state = model.initial_state(tumor_cells=1e8)
    treatments = [ct.Resection(t=20.0, residual=0.1), ct.SystemicTherapy(25.0, 35.0, 0.05)]
    path = tmp_path_factory.mktemp("html") / "cascade.h5"
    result = ct.simulate(
        model, state, 40.0, save_every=5.0, interventions=treatments, output=path, progress=False
    )
    return result, path


def test_result_html_names_sites_treatments_series_and_units(cascade_run):
    result, _ = cascade_run
    markup = result._repr_html_()
    rows = cells(markup)
    assert "bone &lt;b&gt;&amp;" in markup and "bone <b>" not in markup
    assert row(rows, "lung")[:3] == ("lung", "lung", "size-structured")
    assert row(rows, "bone <b>&")[1] == "bone"
    assert row(rows, "lung")[3] == "logistic: a = 0.01339 1/day, K = 1e+11 cells"
    assert row(rows, "growth law")[1] == "gompertz"
    assert row(rows, "a") == (
        "a",
        "0.01",
        "1/day",
        "growth rate (cells^(1-gamma)/day for power laws)",
    )
    assert row(rows, "k_clear")[1:3] == ("10", "1/day")
    assert not [r for r in rows if r[0] == "gamma"]  # Gompertz reads no gamma
    resection = row(rows, "resection")[1]
    assert resection.startswith("t = 20 day, margin = 1 mm, threshold = 0.1, residual = 0.1")
    assert "start = 25 day, end = 35 day, rate = 0.05 1/day" in row(rows, "systemic")[1]
    tumour = result.series("tumor_cells")[-1]
    assert row(rows, "tumor_cells") == ("tumor_cells", "cells", f"{tumour:.4g}")
    colonies = result.series("sites/lung/colonies")[-1]
    assert row(rows, "sites/lung/colonies") == (
        "sites/lung/colonies",
        "colonies",
        f"{colonies:.4g}",
    )
    assert row(rows, "sites/lung/wake_flux")[1] == "cells/day"
    assert row(rows, "end") == ("end", "40", "day") and row(rows, "frames")[1] == "9"
    assert row(rows, "method")[1] == "explicit"


def test_run_file_html_states_path_size_and_format(cascade_run):
    _, path = cascade_run
    with ct.open_run(path) as run:
        markup = run._repr_html_()
        assert run.series_unit("sites/bone <b>&/burden") == "cells"
        version = run.attrs["format_version"]
    rows = cells(markup)
    assert row(rows, "path")[1] == str(path)
    size = path.stat().st_size
    assert row(rows, "size on disk")[1] == _size(size) and size > 1000
    assert row(rows, "format version")[1] == str(version)
    assert row(rows, "complete frames")[1] == "9"
    assert row(rows, "sites/bone <b>&/burden")[1] == "cells"
    assert "bone &lt;b&gt;&amp;" in markup and "bone <b>" not in markup
    assert row(rows, "rtol")[2] == "" and row(rows, "save_every")[1:] == ("5", "day")


def test_sizes_are_in_powers_of_1000():
    assert [_size(n) for n in (999, 1000, 2_345_678, 7.5e9)] == [
        "999 B",
        "1 kB",
        "2.35 MB",
        "7.5 GB",
    ]


def test_fields_grid_and_meanings_of_a_spatial_run(tmp_path):
    model = ct.models.FisherKPP(diffusivity=0.01, growth_rate=0.1)
    grid = ct.Grid((8, 6), 0.25, origin=(1.0, -0.5))
    state = model.initial_state(grid, u=0.5)
    result = ct.simulate(model, state, 1.0, save_every=0.5, output=tmp_path / "f.h5")
    with ct.open_run(tmp_path / "f.h5") as run:
        markups = (result._repr_html_(), run._repr_html_())
    for markup in markups:
        rows = cells(markup)
        assert row(rows, "u") == ("u", "1", "fraction of the carrying capacity")
        assert row(rows, "shape")[1:] == ("8 × 6", "cells")
        assert row(rows, "spacing")[1:] == ("0.25 × 0.25", "mm")
        assert row(rows, "extent")[1:] == ("1 to 3 × -0.5 to 1", "mm")
        assert row(rows, "growth_rate")[1:3] == ("0.1", "1/day")
        assert row(rows, "total_u")[1] == "mm^3"
    invasion = ct.models.Invasion(K_cell=2e5)
    scale = invasion.field_scale("epithelial")  # with this model's K_cell
    assert scale.startswith("fraction of K_cell = ") and scale.endswith(" cells/mm^3")
    assert float(scale.split(" = ")[1].split()[0]) == 2e5
    cascade = ct.Cascade(invasion, sites=[ct.SecondarySite("lung")])
    assert cascade.field_scale("oxygen") == invasion.field_scale("oxygen")
    assert cascade.field_scale("oxygen").endswith("well-vascularised tissue, 40 mmHg")
    assert ct.models.Heat().field_scale("u") == "1"


def test_scenario_html_lists_initial_state_sites_treatments_and_settings():
    text = (EXAMPLES / "lumped_patient.toml").read_text()
    text = text.replace('title = "lumped', 'title = "<script>lumped')
    scenario = ct.Scenario.from_text(text, "patient", EXAMPLES)
    markup = scenario._repr_html_()
    rows = cells(markup)
    assert "&lt;script&gt;lumped breast patient" in markup
    assert row(rows, "tumor_cells") == ("tumor_cells", "4.189e+05", "cells")
    assert [r[0] for r in rows if len(r) == 8][1:] == [
        "lymph_node",
        "lung",
        "liver",
        "bone",
        "brain",
    ]
    assert row(rows, "lymph_node")[5] == "419"
    assert row(rows, "resection")[1].startswith("t = 250 day")
    assert "rate = 0.03 1/day" in row(rows, "systemic")[1]
    assert row(rows, "t_end") == ("t_end", "3650", "day")
    assert row(rows, "output")[1] == "patient.h5"
