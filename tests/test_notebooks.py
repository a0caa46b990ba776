"""The example notebooks execute in a Jupyter kernel (nbclient), and progress bars render
there: a widget with ipywidgets, plain text without, never tqdm's IProgress warning."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

import continuum  # noqa: E402

ROOT = Path(continuum.__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "examples" / "notebooks"
WIDGET = "application/vnd.jupyter.widget-view+json"
# a first compilation on a fresh machine takes minutes; a cell runs in seconds after it
CELL_TIMEOUT = 900


def execute(nb, folder: Path, monkeypatch):
    """Run every cell of ``nb`` in a ``python3`` kernel working in ``folder``, importing
    continuum from this tree; returns the notebook with its outputs (a cell's error
    raises ``CellExecutionError``)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)  # the kernel inherits the environment
    nb.cells.append(nbformat.v4.new_code_cell("import continuum\nprint(continuum.__file__)"))
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    imported = nb.cells.pop().outputs[0]["text"].strip()
    assert Path(imported).resolve() == ROOT / "continuum" / "__init__.py"
    return nb


def outputs(nb, kind: str | None = None) -> list:
    return [o for cell in nb.cells for o in cell.get("outputs", []) if o.get("name", kind) == kind]


def stream(nb, name: str) -> str:
    return "".join(o["text"] for o in outputs(nb, name) if o["output_type"] == "stream")


def data(nb, mime: str) -> list:
    return [
        o["data"][mime]
        for cell in nb.cells
        for o in cell.get("outputs", [])
        if mime in o.get("data", {})
    ]


def test_primary_tumour_notebook_executes(tmp_path, monkeypatch):
    nb = execute(nbformat.read(NOTEBOOKS / "primary_tumour.ipynb", 4), tmp_path, monkeypatch)
    assert len(data(nb, "image/png")) == 3  # fits, fields, visible tumour
    result, run_file = data(nb, "text/html")
    assert "Result" in result and "RunFile" in run_file
    for summary in (result, run_file):
        assert "<td>u</td><td>1</td><td>fraction of the carrying capacity</td>" in summary
        assert "<td>growth_rate</td><td>0.525</td><td>1/day</td>" in summary
        assert "<td>resection</td><td>t = 10 day, margin = 0.1 mm, threshold = 0.1" in summary
    assert str(tmp_path / "margin_0.1.h5") in run_file
    printed = stream(nb, "stdout")
    assert "20 mice, 188 volumes" in printed
    assert "gompertz: n = 188, residual sd 0.494 (log)" in printed
    measured, expected = (
        float(value.split(" mm/day")[0])
        for value in printed.split("front speed: measured ")[1].split(", expected ")
    )
    rho, D = 0.525, 1e-3  # the logistic fit's rate [1/day], the motility [mm^2/day]
    bramson = 2 * (D * rho) ** 0.5 - 1.5 * (D / rho) ** 0.5 / 7.25
    assert expected == pytest.approx(bramson, rel=2e-3)
    assert measured == pytest.approx(expected, rel=0.1)
    assert "margin 0.3 mm: removed 1.375 mm^3; at day 20 u reaches 0.0031 and 0 mm^3" in printed
    narrow = printed.split("margin 0.1 mm: removed ")[1].split(" are visible")[0]
    assert float(narrow.split(" and ")[1].split(" mm^3")[0]) > 1.0  # regrown
    assert (tmp_path / "margin_0.3.h5").is_file()
    assert "Warning" not in stream(nb, "stderr")


def test_virtual_cohort_notebook_executes(tmp_path, monkeypatch):
    nb = execute(nbformat.read(NOTEBOOKS / "virtual_cohort.ipynb", 4), tmp_path, monkeypatch)
    scenario, run_file = data(nb, "text/html")
    for site in ("lymph_node", "lung", "liver", "bone", "brain"):
        assert f"<td>{site}</td>" in scenario and f"<td>{site}</td>" in run_file
    assert "<td>tumor_cells</td><td>4.189e+05</td><td>cells</td>" in scenario
    assert "t = 250 day" in scenario and "rate = 0.03 1/day" in run_file
    assert "8 members, 0 failed" in stream(nb, "stdout")
    (table,) = data(nb, "text/markdown")
    rows = [line for line in table.splitlines() if line.startswith("| 0.0")]
    assert len(rows) == 8
    risks = [float(row.split("|")[5]) for row in rows]  # in the order of growth rates
    assert risks == sorted(risks) and 5.0 < risks[0] < risks[-1] < 80.0
    assert len(data(nb, "image/png")) == 1
    assert len(list((tmp_path / "cohort" / "runs").glob("*.h5"))) == 8


def progress_notebook(block_widgets: bool):
    """A notebook that runs a small model with the default progress setting, with a
    Numba compilation during the run (as a first run on a machine has)."""
    cells = [
        "import sys\nsys.modules['ipywidgets'] = None  # as if not installed"
        if block_widgets
        else "import ipywidgets",
        """
import numba
import continuum as ct


class CompilesOnce(ct.trackers.Tracker):
    def start(self, run):
        self.compiled = False

    def handle(self, t, state):
        if not self.compiled:
            numba.njit(lambda x: x + 1.0)(1.0)
            self.compiled = True


model = ct.models.FisherKPP()
state = model.initial_state(ct.Grid(8, 0.5), u=0.5)
result = ct.simulate(model, state, 2.0, save_every=1.0, trackers=[CompilesOnce()])
""",
    ]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def test_without_ipywidgets_the_bar_is_text_and_no_warning(tmp_path, monkeypatch):
    nb = execute(progress_notebook(block_widgets=True), tmp_path, monkeypatch)
    err = stream(nb, "stderr")
    assert "compiling kernels (once per machine)" in err
    assert "compiled in" in err and "100%" in err and "2.00/2.00" in err
    assert "IProgress" not in err and "Warning" not in err
    assert not data(nb, WIDGET)


def test_with_ipywidgets_the_bar_is_a_widget(tmp_path, monkeypatch):
    pytest.importorskip("ipywidgets")
    nb = execute(progress_notebook(block_widgets=False), tmp_path, monkeypatch)
    assert stream(nb, "stderr") == ""
    (view,) = data(nb, WIDGET)
    states = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    state = {key: value["state"] for key, value in states.items()}
    bar = state[view["model_id"]]  # the box of label, bar and numbers
    label, progress, numbers = (
        state[child.removeprefix("IPY_MODEL_")] for child in bar["children"]
    )
    assert progress["value"] == progress["max"] == 2.0 and progress["bar_style"] == "success"
    text = {k: v["value"].replace("\u2007", " ") for k, v in (("label", label), ("n", numbers))}
    assert text["label"].startswith("compiled in")  # it said so while compiling
    assert "2.00/2.00" in text["n"]  # (tqdm spaces its widget's text with figure spaces)
