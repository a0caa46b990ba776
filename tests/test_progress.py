"""Progress bars: when they show, what they say while Numba compiles (in a terminal; the
notebook cases are in test_notebooks.py)."""

import re

import numba
from tqdm.std import tqdm

import continuum as ct
from continuum.progress import in_notebook, progress_bar, show_progress


class CompilesOnce(ct.trackers.Tracker):
    """Compiles a new Numba function at the first frame: a compilation during the run."""

    def start(self, run):
        self.compiled = False

    def handle(self, t, state):
        if not self.compiled:
            assert numba.njit(lambda x: x + 1.0)(1.0) == 2.0
            self.compiled = True


def test_outside_a_notebook_bars_show_on_a_terminal_only():
    assert not in_notebook()
    assert show_progress(None) is False  # pytest's standard error is no terminal
    assert show_progress(True) is True and show_progress(False) is False
    bar = progress_bar(total=2, disable=True)
    assert type(bar) is tqdm
    bar.close()


def test_the_bar_says_when_kernels_compile_and_how_long_it_took(capsys):
    model = ct.models.FisherKPP()
    state = model.initial_state(ct.Grid(8, 0.5), u=0.5)
    ct.simulate(model, state, 2.0, save_every=1.0, progress=False)  # compiled before
    capsys.readouterr()
    ct.simulate(model, state, 2.0, save_every=1.0, progress=True, trackers=[CompilesOnce()])
    err = capsys.readouterr().err
    assert "compiling kernels (once per machine)" in err
    assert re.search(r"compiled in \d+ s", err) and "2.00/2.00" in err
    ct.simulate(model, state, 2.0, save_every=1.0, progress=True)
    err = capsys.readouterr().err
    assert "compil" not in err and "2.00/2.00" in err
    ct.simulate(model, state, 2.0, save_every=1.0)
    assert capsys.readouterr().err == ""  # default: no terminal, no notebook, no bar
