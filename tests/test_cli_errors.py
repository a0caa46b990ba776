"""The command line on bad input (issue 15): one line on stderr, no traceback, a non-zero
exit status; ``--debug`` shows the traceback. Times outside a run are refused, the
nearest frame is named; a stopped run says where it stopped and how to resume."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import continuum as ct
from continuum.cli import main
from continuum.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
PATIENT = ROOT / "examples" / "lumped_patient.toml"

HEAT = """
[grid]
shape = [16]
spacing = 0.1
[model]
name = "Heat"
parameters = { diffusivity = 0.1 }
[initial]
u = 1.0
[run]
t_end = 10.0
save_every = 1.0
"""


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """A 10-day Heat run saved every day."""
    path = tmp_path_factory.mktemp("good") / "heat.h5"
    model = ct.models.Heat(diffusivity=0.1)
    grid = ct.Grid((16,), 0.1)
    ct.simulate(model, model.initial_state(grid, u=1.0), 10.0, save_every=1.0, output=path)
    return path


def one_line(capsys, code, status=2):
    """The command exited with ``status`` and wrote one line on stderr, no traceback."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == status, err
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- every command on missing, empty, foreign, truncated and corrupt files -------------------
def _damage(kind, path, good):
    """Write a bad run file of ``kind`` at ``path`` (from the good run ``good``)."""
    data = good.read_bytes()
    if kind == "missing":
        return
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("not a run file\n")
    elif kind == "folder":
        path.mkdir()
    elif kind == "foreign":
        with h5py.File(path, "w") as handle:
            handle["x"] = np.arange(3)
    elif kind == "garbage":
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "header only":
        path.write_bytes(data[:2048])
    else:  # a run file with one thing broken
        path.write_bytes(data)
        with h5py.File(path, "r+") as handle:
            if kind == "bad spec":
                handle.attrs["spec"] = "{not json"
            elif kind == "bad grid":
                handle.attrs["grid"] = json.dumps({"shape": "x"})
            elif kind == "no time":
                del handle["time"]
            elif kind == "no fields":
                del handle["fields"]
            elif kind == "no series":
                del handle["series"]
            elif kind == "no spec":
                del handle.attrs["spec"]
            elif kind == "future version":
                handle.attrs["format_version"] = 10**6


RUN_FILE_KINDS = [
    "missing",
    "empty",
    "text",
    "folder",
    "foreign",
    "garbage",
    "truncated",
    "header only",
    "bad spec",
    "bad grid",
    "no time",
    "no fields",
    "no series",
    "no spec",
    "future version",
]


@pytest.mark.parametrize("kind", RUN_FILE_KINDS)
@pytest.mark.parametrize("command", ["info", "plot", "resume"])
def test_run_file_commands_on_bad_files(command, kind, good_run, tmp_path, capsys):
    path = tmp_path / "bad.h5"
    _damage(kind, path, good_run)
    args = {
        "info": ["info", str(path)],
        "plot": ["plot", str(path), "-o", str(tmp_path / "bad.png")],
        "resume": ["resume", str(path), "--t-end", "20", "--quiet"],
    }[command]
    line = one_line(capsys, main(args))
    assert line.startswith(f"continuum {command}: ") and "bad.h5" in line


def test_a_run_file_is_left_as_it_was_by_a_failed_command(good_run, tmp_path, capsys):
    path = tmp_path / "bad.h5"
    _damage("bad spec", path, good_run)
    before = path.read_bytes()
    one_line(capsys, main(["resume", str(path), "--t-end", "20", "--quiet"]))
    assert path.read_bytes() == before


@pytest.mark.parametrize("kind", ["missing", "empty", "binary", "folder", "bad toml", "bad key"])
@pytest.mark.parametrize("command", ["run", "ensemble"])
def test_scenario_commands_on_bad_scenario_files(command, kind, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    if kind == "empty":
        path.write_text("")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 4)
    elif kind == "folder":
        path.mkdir()
    elif kind == "bad toml":
        path.write_text("[model\nname = ")
    elif kind == "bad key":
        path.write_text(HEAT.replace("[run]", "[run]\nt_edn = 3"))
    out = tmp_path / "out"
    args = {
        "run": ["run", str(path), "-o", str(tmp_path / "x.h5"), "--quiet"],
        "ensemble": ["ensemble", str(path), "--design", "lhs:2", "-o", str(out), "--quiet"],
    }[command]
    if command == "ensemble":
        args += ["--vary", "model.parameters.diffusivity=0.05:0.1"]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "bad.toml" in err, err
    assert err.startswith(f"continuum {command}: ")
    assert not (tmp_path / "x.h5").exists() and not (out / "runs").exists()


@pytest.mark.parametrize("kind", ["no folder", "no summary", "garbage", "foreign", "run file"])
def test_sensitivity_on_bad_folders(kind, good_run, tmp_path, capsys):
    folder = tmp_path / "sweep"
    if kind != "no folder":
        folder.mkdir()
    summary = folder / "summary.h5"
    if kind == "garbage":
        summary.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    elif kind == "foreign":
        with h5py.File(summary, "w") as handle:
            handle["x"] = np.arange(3)
    elif kind == "run file":
        summary.write_bytes(good_run.read_bytes())
    line = one_line(capsys, main(["sensitivity", str(folder), "peak_ctc"]))
    assert "summary.h5" in line


def test_debug_shows_the_traceback(tmp_path, capsys):
    missing = str(tmp_path / "missing.h5")
    for args in (["--debug", "info", missing], ["info", missing, "--debug"]):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert "Traceback" in err and err.strip().splitlines()[-1].startswith("continuum info:")
    assert main(["info", missing]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_command_line_process_prints_one_line(tmp_path):
    """The installed command, as a user runs it: exit status 2, one line, no traceback,
    nor h5py's "Exception ignored" noise."""
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    done = subprocess.run(
        [sys.executable, "-m", "continuum.cli", "info", str(bad)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "bad.h5" in done.stderr


# -- errors of the run itself: the simulation, the disk, memory ------------------------------
@pytest.fixture
def heat_scenario(tmp_path):
    path = tmp_path / "heat.toml"
    path.write_text(HEAT)
    return path


def _failing_run(monkeypatch, error):
    def run(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(Scenario, "run", run)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ct.SimulationError("non-finite values in u at t = 3 day"), "simulation failed"),
        (OSError(errno.ENOSPC, "No space left on device", "out.h5"), "no space left"),
        (
            OSError(
                "Can't write data (file write failed: time = Tue, filename = 'out.h5', "
                "file descriptor = 5, errno = 28, error message = 'No space left on device')"
            ),
            "no space left",
        ),
        (OSError(errno.EROFS, "Read-only file system", "out.h5"), "read-only"),
        (PermissionError(errno.EACCES, "Permission denied", "out.h5"), "permission denied"),
        (MemoryError("Unable to allocate 7.28 TiB for an array"), "not enough memory"),
        (OverflowError("cannot convert float infinity to integer"), "infinity"),
    ],
)
def test_run_errors_are_one_line(error, expected, heat_scenario, tmp_path, monkeypatch, capsys):
    _failing_run(monkeypatch, error)
    out = tmp_path / "out.h5"
    line = one_line(capsys, main(["run", str(heat_scenario), "-o", str(out), "--quiet"]))
    assert line.startswith("continuum run: ") and expected in line


def test_an_unexpected_error_is_one_line_and_points_to_debug(heat_scenario, monkeypatch, capsys):
    _failing_run(monkeypatch, ZeroDivisionError("float division by zero"))
    line = one_line(capsys, main(["run", str(heat_scenario), "--quiet"]), status=1)
    assert "ZeroDivisionError" in line and "--debug" in line


def test_a_real_simulation_error(tmp_path, capsys):
    """Fisher-KPP with a fixed step far beyond stability: the solver's error, one line."""
    path = tmp_path / "blowup.toml"
    text = HEAT.replace('name = "Heat"', 'name = "FisherKPP"').replace(
        "diffusivity = 0.1", "diffusivity = 0.1, growth_rate = 1e6"
    )
    path.write_text(text + "dt = 1.0\n")
    out = tmp_path / "blowup.h5"
    code = main(["run", str(path), "-o", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_a_picture_in_a_missing_folder_is_refused_before_the_run(heat_scenario, tmp_path, capsys):
    out = tmp_path / "out.h5"
    picture = tmp_path / "nowhere" / "pic.png"
    args = ["run", str(heat_scenario), "-o", str(out), "--picture", str(picture), "--quiet"]
    line = one_line(capsys, main(args))
    assert "does not exist" in line and "nowhere" in line
    assert not out.exists()


def test_an_output_in_a_missing_folder(heat_scenario, tmp_path, capsys):
    out = tmp_path / "nowhere" / "out.h5"
    args = ["run", str(heat_scenario), "-o", str(out), "--picture", str(tmp_path / "p.png")]
    line = one_line(capsys, main([*args, "--quiet"]))
    assert "nowhere" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_output_in_a_read_only_folder(heat_scenario, tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        args = ["run", str(heat_scenario), "-o", str(folder / "out.h5"), "--quiet"]
        args += ["--picture", str(tmp_path / "p.png")]
        line = one_line(capsys, main(args))
        assert "locked" in line
    finally:
        folder.chmod(0o700)


def test_set_of_an_unknown_growth_key_is_reported_once(tmp_path, capsys):
    out = tmp_path / "x.h5"
    args = ["run", str(PATIENT), "--set", "model.growth.zzz=1", "-o", str(out), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("'zzz'") == 1 and "Traceback" not in err, err
    assert not out.exists()


# -- Ctrl-C: where the run stopped and how to resume ---------------------------------------
class Stopped(KeyboardInterrupt):
    """What ``simulate`` raises on SIGINT/SIGTERM after its checkpoint at time ``t``."""

    def __init__(self, t, path):
        super().__init__()
        self.t = t
        self.path = path


def test_ctrl_c_says_where_the_run_stopped(heat_scenario, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.h5"
    _failing_run(monkeypatch, Stopped(4.0, str(out)))
    args = ["run", str(heat_scenario), "-o", str(out), "--t-end", "8", "--quiet"]
    line = one_line(capsys, main(args), status=130)
    assert (
        line
        == f"continuum run: stopped at t = 4 day; resume with: continuum resume {out} --t-end 8"
    )


def test_ctrl_c_without_a_time_names_the_last_checkpoint(
    good_run, heat_scenario, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "out.h5"
    out.write_bytes(good_run.read_bytes())
    _failing_run(monkeypatch, KeyboardInterrupt())
    args = ["run", str(heat_scenario), "-o", str(out), "--t-end", "30", "--overwrite", "--quiet"]
    line = one_line(capsys, main(args), status=130)
    assert f"resume with: continuum resume {out} --t-end 30" in line
    assert "last checkpoint in the file, t = 10 day" in line
    out.unlink()
    line = one_line(capsys, main(args), status=130)
    assert "nothing to resume" in line


def test_ctrl_c_during_resume(good_run, tmp_path, monkeypatch, capsys):
    path = tmp_path / "heat.h5"
    path.write_bytes(good_run.read_bytes())

    def resume(*args, **kwargs):
        raise Stopped(12.5, str(path))

    monkeypatch.setattr(ct, "resume", resume)
    line = one_line(capsys, main(["resume", str(path), "--t-end", "40"]), status=130)
    assert "stopped at t = 12.5 day" in line and f"resume {path} --t-end 40" in line


SLOW_RUN = """
[grid]
shape = [32, 32]
spacing = 0.05
[model]
name = "FisherKPP"
parameters = { diffusivity = 0.01, growth_rate = 0.5 }
[initial]
u = { shape = "disk", radius = 0.5, value = 1.0 }
[run]
t_end = 5000.0
save_every = 1.0
"""


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, {130}), (signal.SIGTERM, {130, 143})])
def test_a_signal_to_a_running_command(sig, status, tmp_path):
    """A real Ctrl-C (SIGINT) or SIGTERM during a run: exit 130 (143 for SIGTERM when the
    interrupt names its signal in ``signal_name``), one line saying where the run stopped
    and how to resume it, no traceback."""
    scenario = tmp_path / "slow.toml"
    scenario.write_text(SLOW_RUN)
    out = tmp_path / "slow.h5"
    process = subprocess.Popen(
        [sys.executable, "-m", "continuum.cli", "run", str(scenario), "-o", str(out), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 240
    while time.time() < deadline and process.poll() is None:
        try:  # the running simulation holds the file's lock: read without it
            with h5py.File(out, "r", locking=False) as handle:
                if handle.attrs.get("frames", 0) >= 12 and handle.attrs.get("checkpoint"):
                    break
        except (OSError, KeyError):
            pass
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode in status, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert "stopped" in stderr and f"continuum resume {out} --t-end 5000" in stderr
    with ct.open_run(out) as run:
        assert run.frames >= 12


# -- questions about times the run does not hold -------------------------------------------
def test_plot_refuses_a_time_outside_the_run(good_run, tmp_path, capsys):
    picture = tmp_path / "u.png"
    for t in ("5000", "-1", "10.5"):
        args = ["plot", str(good_run), "--field", "u", "--t", t, "-o", str(picture)]
        line = one_line(capsys, main(args))
        assert "outside the run" in line and "0 to 10 day" in line
    assert not picture.exists()


def test_plot_names_the_frame_it_draws(good_run, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    picture = tmp_path / "u.png"
    args = ["plot", str(good_run), "--field", "u", "-o", str(picture)]
    assert main([*args, "--t", "3.4"]) == 0
    assert "--t 3.4: no frame at that time; drawing the nearest, t = 3 day" in (
        capsys.readouterr().out
    )
    assert picture.stat().st_size > 0
    assert main([*args, "--t", "3", "--overwrite"]) == 0  # -o names an existing picture
    assert "nearest" not in capsys.readouterr().out


def test_plot_of_a_file_without_frames(good_run, tmp_path, capsys):
    path = tmp_path / "empty.h5"
    path.write_bytes(good_run.read_bytes())
    with h5py.File(path, "r+") as handle:
        handle.attrs["frames"] = 0
    for extra in ([], ["--field", "u"], ["--t", "1"]):
        line = one_line(capsys, main(["plot", str(path), "-o", str(tmp_path / "p.png"), *extra]))
        assert "no frames" in line and "empty.h5" in line


def test_plot_of_a_picture_in_a_missing_folder(good_run, tmp_path, capsys):
    line = one_line(capsys, main(["plot", str(good_run), "-o", str(tmp_path / "no" / "p.png")]))
    assert "does not exist" in line


def test_field_at_a_time_outside_the_run(good_run):
    model = ct.models.Heat(diffusivity=0.1)
    result = ct.simulate(model, model.initial_state(ct.Grid((16,), 0.1), u=1.0), 10.0)
    with ct.open_run(good_run) as run:
        for answer in (result, run):
            assert answer.field("u", t=10.0).shape == (16,)
            assert answer.field("u", t=10.0 + 1e-12).shape == (16,)  # round-off
            for t in (30.0, 10.001, -0.5, float("nan"), float("inf")):
                with pytest.raises(ValueError, match="outside the run"):
                    answer.field("u", t=t)
            with pytest.raises(ValueError, match="a time in days"):
                answer.field("u", t="5")


def test_colony_queries_at_a_time_outside_the_run():
    model = ct.models.Iwata(horizon=100.0)
    result = ct.simulate(model, model.initial_state(), 100.0, save_every=10.0)
    assert result.colony_count(100.0) >= 0.0
    with pytest.raises(ValueError, match="outside the run"):
        result.colony_count(5000.0)


def test_the_exit_codes_are_documented(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "exit status:" in text and "130 stopped by Ctrl-C" in text and "--debug" in text


def test_warnings_are_one_line_each(heat_scenario, monkeypatch, capsys):
    import warnings

    def run(self, *args, **kwargs):
        warnings.warn("the XDMF sidecar was not written\n(disk full)", RuntimeWarning, 2)
        raise ct.SimulationError("non-finite values in u")

    monkeypatch.setattr(Scenario, "run", run)
    assert main(["run", str(heat_scenario), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "continuum run: warning: the XDMF sidecar was not written (disk full)",
        "continuum run: the simulation failed: non-finite values in u",
    ]


def test_resume_says_which_frames_it_drops(tmp_path, capsys):
    """A run killed after a checkpoint, its last frames past it (made here by pointing
    the file at its earlier checkpoint slot): resume names the frames it computes again."""
    path = tmp_path / "heat.h5"
    model = ct.models.Heat(diffusivity=0.1)
    state = model.initial_state(ct.Grid((16,), 0.1), u=1.0)
    ct.simulate(model, state, 10.0, save_every=1.0, checkpoint_every=4.0, output=path)
    with h5py.File(path, "r+") as handle:
        slots = sorted(key for key in handle if key.startswith("checkpoint_"))
        current = handle.attrs["checkpoint"]
        earlier = next(slot for slot in slots if slot != current)
        t = float(handle[earlier].attrs["t"])
        handle.attrs["checkpoint"] = earlier
    assert t == 8.0
    assert main(["resume", str(path), "--t-end", "12", "--quiet"]) == 0
    text = capsys.readouterr()
    (line,) = text.err.strip().splitlines()
    assert line.startswith("continuum resume: warning: resuming") and "t = 8 day" in line
    assert "2 frame(s) after it (to t = 10 day)" in line
    assert "now to t = 12 day, 13 frames" in text.out


@pytest.mark.parametrize(
    "kind", ["missing", "empty", "binary", "folder", "header only", "not numbers", "ragged"]
)
def test_ensemble_on_bad_sample_files(kind, tmp_path, capsys):
    path = tmp_path / "samples.csv"
    if kind == "empty":
        path.write_text("")
    elif kind == "binary":
        path.write_bytes(bytes(range(128, 256)) * 8)
    elif kind == "folder":
        path.mkdir()
    elif kind == "header only":
        path.write_text("model.growth.a\n")
    elif kind == "not numbers":
        path.write_text("model.growth.a\n0.004\nfast\n")
    elif kind == "ragged":
        path.write_text("model.growth.a,sites.1.affinity\n0.004,1.0\n0.005\n")
    out = tmp_path / "out"
    args = ["ensemble", str(PATIENT), "--samples", str(path), "-o", str(out), "--quiet"]
    line = one_line(capsys, main(args))
    assert "samples.csv" in line and not out.exists()


def test_ctrl_c_during_a_sweep_keeps_the_finished_members(tmp_path, monkeypatch, capsys):
    from continuum import ensemble

    samples = [{"model.growth.a": 0.004}, {"model.growth.a": 0.005}]

    def execute(client, scenario, members, todo, out_dir, t_end, summary, progress):
        summary.rows.append({"id": todo[0], "status": "ok", "seconds": 1.0, **members[todo[0]]})
        raise KeyboardInterrupt

    monkeypatch.setattr(ensemble.execution, "_execute", execute)
    with pytest.raises(KeyboardInterrupt):
        ensemble.run(PATIENT, samples, tmp_path / "api", client=object(), progress=False)
    assert [row["id"] for row in ensemble.load_summary(tmp_path / "api").rows] == [
        ensemble.member_id(samples[0])
    ]
    monkeypatch.setattr(ensemble.execution, "_client", lambda *args: None)
    out = tmp_path / "cli"
    args = ["ensemble", str(PATIENT), "--design", "lhs:2", "--vary", "model.growth.a=0.003:0.006"]
    line = one_line(capsys, main([*args, "-o", str(out), "--quiet"]), status=130)
    assert "stopped; the finished members are kept in" in line and "same command" in line


def test_plot_of_a_lumped_run_at_a_time(tmp_path, capsys):
    """Issue 15: `continuum plot run.h5 --t 5000` on a 730-day run drew day 730."""
    out = tmp_path / "patient.h5"
    args = ["run", str(PATIENT), "-o", str(out), "--t-end", "730", "--quiet"]
    assert main([*args, "--picture", str(tmp_path / "patient.png")]) == 0
    capsys.readouterr()
    picture = str(tmp_path / "p.png")
    line = one_line(capsys, main(["plot", str(out), "--t", "5000", "-o", picture]))
    assert line == (
        "continuum plot: --t: t = 5000 day is outside the run, whose frames span 0 to 730 day"
    )
    line = one_line(capsys, main(["plot", str(out), "--t", "365", "-o", picture]))
    assert "no fields to draw at a time" in line and "draws its summary" in line
