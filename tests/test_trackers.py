"""Trackers: user objects called between frames, a steady-state stop, the options of
simulate gathered as keywords."""

import math
import subprocess
import sys

import numpy as np
import pytest

import continuum as ct
from continuum.trackers import SteadyState, Tracker

# The slowest mode of the heat equation on [0, L] with no-flux ends.
LENGTH = 1.0  # mm
CELLS = 64
DIFFUSIVITY = 0.1  # mm^2/day
AMPLITUDE = 0.5


def cosine_state(model):
    grid = ct.Grid(CELLS, LENGTH / CELLS)
    x = grid.coords[0]
    return model.initial_state(grid, u=1.0 + AMPLITUDE * np.cos(math.pi * x / LENGTH))


class Recorder(Tracker):
    """Records its calls."""

    def __init__(self, interval=None):
        self.interval = interval
        self.calls = []

    def start(self, run):
        self.calls.append(("start", run.t_start, run.t_end))

    def handle(self, t, state):
        self.calls.append(("handle", t, float(state.data.sum())))

    def finish(self):
        self.calls.append(("finish",))


def test_steady_state_stops_a_heat_equation_when_its_slowest_mode_has_decayed():
    """u = 1 + A cos(pi x / L) relaxes to 1. The finite-volume Laplacian with no-flux
    ends has the cell-centred cosine as an exact eigenvector, of eigenvalue
    lambda = D (2/h)^2 sin^2(pi h / 2L), so the largest change over a frame Delta is
    A c exp(-lambda t) (exp(lambda Delta) - 1) (c = cos(pi h / 2L), the cells next to
    the ends). atol is chosen so that this rate per day reaches atol half-way through a
    frame, at t* = 10.125 day: the run must stop at the next frame, 10.25 day."""
    model = ct.models.Heat(diffusivity=DIFFUSIVITY)
    state = cosine_state(model)
    h = LENGTH / CELLS
    rate = DIFFUSIVITY * (2 / h) ** 2 * math.sin(math.pi * h / (2 * LENGTH)) ** 2  # 1/day
    peak = AMPLITUDE * math.cos(math.pi * h / (2 * LENGTH))
    every, t_star = 0.25, 10.125
    atol = peak * math.expm1(rate * every) / every * math.exp(-rate * t_star)
    steady = SteadyState(atol=atol, rtol=0.0)
    result = ct.simulate(
        model, state, 40.0, save_every=every, trackers=[steady], method="explicit", rtol=1e-6
    )
    assert result.times[-1] == 10.25 and steady.reached == 10.25
    u = result.field("u")[-1]
    assert np.max(u) - 1.0 == pytest.approx(peak * math.exp(-rate * 10.25), rel=1e-4)


def test_steady_state_writes_a_checkpoint_that_resumes(tmp_path):
    model = ct.models.Heat(diffusivity=DIFFUSIVITY)
    path = tmp_path / "heat.h5"
    steady = SteadyState(atol=1e-3, rtol=0.0)
    result = ct.simulate(model, cosine_state(model), 40.0, 0.5, output=path, trackers=[steady])
    assert 0 < result.times[-1] < 40.0
    with ct.open_run(path) as run:
        assert run.frames == len(result.times)
        assert run.checkpoint()["t"] == result.times[-1]
    with ct.resume(path, 40.0) as run:
        assert run.times[-1] == 40.0


def test_trackers_are_called_at_their_interval_and_change_nothing():
    model = ct.models.Heat(diffusivity=DIFFUSIVITY)
    state = cosine_state(model)
    plain = ct.simulate(model, state, 3.0, save_every=0.25)
    every_frame, daily = Recorder(), Recorder(interval=1.0)
    tracked = ct.simulate(model, state, 3.0, save_every=0.25, trackers=[every_frame, daily])
    np.testing.assert_array_equal(tracked.field("u"), plain.field("u"))
    assert daily.calls[0] == ("start", 0.0, 3.0) and daily.calls[-1] == ("finish",)
    assert [c[1] for c in daily.calls[1:-1]] == [0.0, 1.0, 2.0, 3.0]
    assert [c[1] for c in every_frame.calls[1:-1]] == list(plain.times)


def test_a_tracker_sees_the_frames_in_the_file(tmp_path):
    class Count(Tracker):
        def start(self, run):
            self.path = run.path
            self.frames = []

        def handle(self, t, state):
            with ct.open_run(self.path) as run:
                self.frames.append(run.frames)

    model = ct.models.Heat(diffusivity=DIFFUSIVITY)
    count = Count()
    ct.simulate(model, cosine_state(model), 2.0, 0.25, output=tmp_path / "r.h5", trackers=[count])
    assert count.frames == list(range(1, 10))


@pytest.mark.parametrize(
    ("trackers", "message"),
    [
        ([print], r"trackers\[0\]: got builtin_function_or_method"),
        ([Recorder(interval=0.0)], r"trackers\[0\]\.interval: got 0\.0"),
    ],
)
def test_bad_trackers_are_refused(trackers, message):
    model = ct.models.Heat()
    with pytest.raises(ValueError, match=message):
        ct.simulate(model, cosine_state(model), 1.0, trackers=trackers)


def test_an_unknown_option_is_a_type_error():
    model = ct.models.Heat()
    with pytest.raises(TypeError, match="unexpected keyword argument 'save_evry'"):
        ct.simulate(model, cosine_state(model), 1.0, save_evry=0.1)


def test_steady_state_tolerances_are_checked():
    with pytest.raises(ValueError, match="atol and rtol are both 0"):
        SteadyState(atol=0.0, rtol=0.0)
    with pytest.raises(ValueError, match="rtol: got -1"):
        SteadyState(rtol=-1)


def test_import_continuum_leaves_dask_and_plotting_alone():
    code = (
        "import sys, continuum as ct; ct.ensemble.design; "
        "print(sorted(m for m in ('dask', 'distributed', 'matplotlib', 'SALib') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
