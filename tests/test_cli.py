"""The command line: the main job writes a run file and a real picture; info reads it."""

from pathlib import Path

import h5py
import numpy as np
import pytest

import continuum as ct
from continuum.cli import main
from continuum.readable import expected

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def real_picture(path, plt):
    """A PNG of non-trivial size with many colours."""
    assert path.stat().st_size > 20_000
    image = plt.imread(path)
    colours = np.unique((image[..., :3] * 255).astype(int).reshape(-1, 3), axis=0)
    assert len(colours) > 50


def test_default_run_then_info_and_plot(tmp_path, monkeypatch, capsys):
    """The default (breast patient) scenario, shortened: run.h5 and run.png in the current
    folder."""
    plt = pytest.importorskip("matplotlib.pyplot")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--t-end", "30", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "breast cancer patient" in text and "circulating tumour cells" in text
    assert "tumour cells expected in a 7.5 mL blood sample: at most" in text
    assert "lung" in text and "colonies" in text
    real_picture(tmp_path / "run.png", plt)
    with ct.open_run(tmp_path / "run.h5") as run:
        assert run.times[-1] == 30.0 and run.frames == 2
        assert [site.name for site in run.model.sites] == [
            "lymph_node",
            "lung",
            "liver",
            "bone",
            "brain",
        ]
        assert 'title = "breast cancer patient' in run.attrs["scenario"]
    assert main(["info", "run.h5"]) == 0
    text = capsys.readouterr().out
    assert "Cascade" in text and "2 frames" in text
    assert "site        bone: " in text and "(bone)" not in text
    assert "site        lymph node: " in text  # a site's name once, as words
    assert main(["run", "--t-end", "14", "--quiet"]) == 0  # the demo replaces its run.h5
    with ct.open_run(tmp_path / "run.h5") as run:
        assert run.times[-1] == 14.0
    assert main(["run", "--t-end", "14", "-o", "run.h5", "--quiet"]) == 2  # named: refused
    assert "overwrite=True" in capsys.readouterr().err

    assert main(["plot", "run.h5", "-o", "summary.png"]) == 0
    real_picture(tmp_path / "summary.png", plt)


def test_spatial_example_run_and_field_snapshot(tmp_path, monkeypatch, capsys):
    """The spatial breast scenario, shortened: info shows its grid, plot draws a field."""
    plt = pytest.importorskip("matplotlib.pyplot")
    monkeypatch.chdir(tmp_path)
    scenario = str(EXAMPLES / "breast_invasion.toml")
    assert main(["run", scenario, "--t-end", "7", "-o", "inv.h5", "--quiet"]) == 0
    assert main(["info", "inv.h5"]) == 0
    assert "64 x 64" in capsys.readouterr().out
    with h5py.File(tmp_path / "inv.h5", "r") as handle:  # what the cell fields measure
        cells = dict(handle["fields/mesenchymal"].attrs)
        oxygen = dict(handle["fields/oxygen"].attrs)
        total = dict(handle["series/total_epithelial"].attrs)
    assert cells["units"] == "1" and cells["reference_density"] == 1e5
    assert cells["units_description"] == "fraction of K_cell = 1e5 cells/mm^3"
    assert cells["reference_density_units"] == "cells/mm^3"
    assert oxygen["units_description"].endswith("40 mmHg") and "reference_density" not in oxygen
    assert total["units"] == "mm^3" and "gives cells" in total["units_description"]
    assert not (tmp_path / "oxygen.png").exists()
    assert main(["plot", "inv.h5", "--field", "oxygen", "--t", "7", "-o", "oxygen.png"]) == 0
    real_picture(tmp_path / "oxygen.png", plt)  # a fresh file with a real picture in it
    assert main(["plot", "inv.h5", "--field", "oxygn"]) == 2
    assert "fields are" in capsys.readouterr().err


def test_info_on_missing_file(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.h5")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_info_lists_the_sites_of_a_cascade(tmp_path, capsys):
    model = ct.models.Iwata(horizon=1000.0)
    ct.simulate(model, model.initial_state(), 1000.0, output=tmp_path / "iwata.h5")
    assert main(["info", str(tmp_path / "iwata.h5")]) == 0
    text = capsys.readouterr().out
    line = next(row for row in text.splitlines() if row.startswith("  site "))
    with ct.open_run(tmp_path / "iwata.h5") as run:
        colonies = run.series("sites/metastases/colonies")[-1]
    assert "metastases" in line and f"{expected(colonies)} colonies" in line


SCENARIO = """
[model]
name = "LumpedPrimary"
growth = { law = "gompertz", a = 0.01, K = 1e12 }
parameters = { mu = 1e-4 }
[initial]
tumor_cells = 1e6
[[sites]]
name = "lung"
[cascade]
horizon = 400.0
[run]
t_end = 100.0
save_every = 10.0
"""


def test_run_a_scenario_with_overrides_then_resume(tmp_path, capsys):
    path = tmp_path / "patient.toml"
    path.write_text(SCENARIO)
    out = tmp_path / "patient.h5"
    args = ["run", str(path), "-o", str(out), "--t-end", "50", "--quiet"]
    assert main([*args, "--set", "model.parameters.mu=2e-4", "--set", "sites.0.affinity=3"]) == 0
    assert "t = 50 day" in capsys.readouterr().out
    with ct.open_run(out) as run:
        assert run.times[-1] == 50.0 and run.parameters["mu"] == 2e-4
        assert run.model.sites[0].affinity == 3.0
        assert "# model.parameters.mu = 0.0002" in run.attrs["scenario"]
    assert main(["resume", str(out), "--t-end", "120", "--quiet"]) == 0
    assert "now to t = 120 day" in capsys.readouterr().out
    with ct.open_run(out) as run:
        assert run.times[-1] == 120.0
    assert main(["resume", str(out), "--t-end", "500"]) == 2  # beyond the horizon
    assert "horizon" in capsys.readouterr().err


def test_run_reports_scenario_problems(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(SCENARIO.replace("t_end = 100.0", "t_end = -1"))
    assert main(["run", str(path), "--set", "model.parameters.muu=1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "2 problems" in err and "did you mean 'mu'" in err and "t_end: got -1" in err
    assert main(["run", str(path), "--set", "novalue"]) == 2
    assert "use key=value" in capsys.readouterr().err
    assert not (tmp_path / "run.h5").exists()


@pytest.mark.parametrize("command", ["info", "plot", "resume"])
@pytest.mark.parametrize("kind", ["missing", "foreign", "garbage", "truncated run"])
def test_commands_on_bad_files_exit_2_with_one_line(command, kind, tmp_path, capsys):
    """Every command on a missing, foreign (HDF5 but not a run), garbage or truncated run
    file exits with 2 and one line naming the file, never a traceback."""
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "bad.h5"
    if kind == "foreign":
        with h5py.File(path, "w") as handle:
            handle["x"] = np.arange(3)
    elif kind == "garbage":
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    elif kind == "truncated run":
        model = ct.models.Heat(diffusivity=0.1)
        grid = ct.Grid((16,), 0.1)
        ct.simulate(model, model.initial_state(grid, u=1.0), 1.0, save_every=0.1, output=path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    args = [command, str(path)] + (["--t-end", "5"] if command == "resume" else [])
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0] and "bad.h5" in err[0]


def test_pictures_are_named_after_their_run_and_request(tmp_path, monkeypatch, capsys):
    """`continuum run -o pb.h5` writes pb.png (not run.png); a snapshot gets its own name
    (run file, field, time) and leaves the summary alone; a picture or movie named by -o
    or --movie that exists is replaced only with --overwrite."""
    pytest.importorskip("matplotlib")
    Image = pytest.importorskip("PIL.Image")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "patient.toml").write_text(SCENARIO)
    assert main(["run", "patient.toml", "-o", "pb.h5", "--t-end", "20", "--quiet"]) == 0
    assert (tmp_path / "pb.png").is_file() and not (tmp_path / "run.png").exists()
    assert "picture: pb.png" in capsys.readouterr().out

    model = ct.models.FisherKPP(diffusivity=0.01, growth_rate=0.5)
    grid = ct.Grid((16, 12), 0.1)
    u = np.zeros(grid.shape)
    u[6:10, 4:8] = 0.5
    ct.simulate(model, model.initial_state(grid, u=u), 3.0, save_every=1.0, output="fk.h5")
    assert main(["plot", "fk.h5"]) == 0
    summary = (tmp_path / "fk.png").read_bytes()
    assert main(["plot", "fk.h5", "--field", "u", "--t", "2"]) == 0
    assert "picture fk_u_t2.png" in capsys.readouterr().out
    assert (tmp_path / "fk_u_t2.png").is_file()
    assert (tmp_path / "fk.png").read_bytes() == summary  # the summary is untouched
    assert main(["plot", "fk.h5", "--t", "1"]) == 0  # the default field: the cells
    assert (tmp_path / "fk_cells_t1.png").is_file()

    assert main(["plot", "fk.h5", "--field", "u", "-o", "pb.png"]) == 2
    assert "'pb.png': the file exists; add --overwrite (-f)" in capsys.readouterr().err
    assert main(["plot", "fk.h5", "--field", "u", "-o", "pb.png", "-f"]) == 0

    assert main(["plot", "fk.h5", "--movie", "fk.gif", "--fps", "2"]) == 0
    assert "movie fk.gif (cells, 4 frames at 2 per second)" in capsys.readouterr().out
    with Image.open(tmp_path / "fk.gif") as movie:
        assert movie.n_frames == 4
    assert main(["plot", "fk.h5", "--movie", "fk.gif"]) == 2
    assert "'fk.gif': the file exists" in capsys.readouterr().err
    assert main(["plot", "fk.h5", "--movie", "fk.gif", "--t", "1"]) == 2
    assert "--t: a movie (--movie) shows every frame" in capsys.readouterr().err
    assert main(["plot", "fk.h5", "--movie", "fk.avi"]) == 2
    assert "--movie: got 'fk.avi'; a movie is a .gif" in capsys.readouterr().err
    assert main(["plot", "pb.h5", "--movie", "pb.gif"]) == 2
    assert "has no fields to draw" in capsys.readouterr().err


def test_version_and_a_readable_help(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == (
        f"continuum (continuum-metastasis) {version('continuum-metastasis')}"
    )
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "``" not in text and "Simulate the metastatic cascade" in text
    assert "examples:\n  continuum run " in text and "exit status:" in text
    with pytest.raises(SystemExit):
        main(["plot", "--help"])
    text = capsys.readouterr().out
    assert "run_mesenchymal_t365.png" in text and "--movie PATH" in text


def test_counts_below_one_cell_and_expected_numbers(tmp_path, capsys):
    """After a resection the circulating cells fall to ~1e-30: printed as "< 1"; the
    sites' colonies are called expected numbers."""
    out = tmp_path / "lp.h5"
    args = ["run", str(EXAMPLES / "lumped_patient.toml"), "-o", str(out), "--t-end", "280"]
    assert main([*args, "--quiet", "--picture", str(tmp_path / "lp.png")]) == 0
    text = capsys.readouterr().out
    with ct.open_run(out) as run:
        assert 0.0 < run.series("blood_ctc")[-1] < 1e-6
    assert "circulating tumour cells (blood and lymph) at the end: < 1\n" in text
    assert "e-" not in text.split("circulating")[1]  # no 1e-30 cells, no 1e-5 colonies
    assert "metastases at the end, expected numbers per patient" in text
    assert "lymph_node" not in text and "lymph node" in text
