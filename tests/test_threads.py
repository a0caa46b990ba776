"""The run's thread count: the free-core estimate from /proc/stat samples, the ``threads``
option, and results that do not depend on it."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import continuum as ct
from continuum import threads
from continuum.threads import CpuSample, ThreadGovernor

# /proc/stat as Linux writes it (ticks of 1/100 s): user nice system idle iowait irq
# softirq steal guest guest_nice
STAT = """cpu  {user} 0 {system} 9000 12 {irq} 3 40 0 0
cpu0 100 0 50 4500 6 0 1 20 0 0
intr 123456
"""


def stat(user, system, irq=0):
    return STAT.format(user=user, system=system, irq=irq)


def test_machine_busy_seconds_counts_user_system_irq_not_idle_iowait_steal():
    # (1000 user + 200 system + 10 irq + 3 softirq) ticks at 100 per second
    assert threads.machine_busy_seconds(stat(1000, 200, 10), 100) == pytest.approx(12.13)


def test_machine_busy_seconds_refuses_text_without_a_cpu_line():
    with pytest.raises(ValueError, match="no 'cpu' line"):
        threads.machine_busy_seconds("intr 1\n")


def sample(wall, busy_ticks, own):
    return CpuSample(wall, threads.machine_busy_seconds(stat(busy_ticks, 0), 100), own)


@pytest.mark.parametrize(
    ("machine_ticks", "own_s", "others", "free"),
    [
        (0, 0.0, 0.0, 2),  # idle machine
        (400, 4.0, 0.0, 2),  # only this run, on both cores for the 2 s
        (400, 0.0, 2.0, 1),  # others kept both cores busy: one thread still runs
        (400, 2.0, 1.0, 1),  # a busy loop beside this run
        (360, 3.2, 0.2, 2),  # a little background: rounded away
        (400, 3.0, 0.5, 1),  # half a core is counted as taken
    ],
)
def test_free_cores_from_two_samples(machine_ticks, own_s, others, free):
    before = sample(10.0, 5000, 3.0)
    after = sample(12.0, 5000 + machine_ticks, 3.0 + own_s)
    assert threads.others_busy_cores(before, after) == pytest.approx(others)
    assert threads.free_cores(threads.others_busy_cores(before, after), 2) == free


def test_others_never_negative_and_samples_must_advance():
    before = sample(1.0, 100, 0.0)
    assert threads.others_busy_cores(before, sample(2.0, 100, 0.5)) == 0.0  # rounding
    with pytest.raises(ValueError, match="later than the first"):
        threads.others_busy_cores(before, before)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, numba.config.NUMBA_NUM_THREADS + 1])
def test_threads_option_is_checked(bad, rng):
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.5)
    state = model.initial_state(ct.Grid((8, 8), 0.1), u=rng.random((8, 8)))
    most = numba.config.NUMBA_NUM_THREADS
    with pytest.raises(ValueError, match=rf"threads: got {bad!r}; an integer from 1 to {most}"):
        ct.simulate(model, state, 0.1, threads=bad)


def test_short_spin_respects_the_users_setting():
    environ = {}
    threads.use_short_spin(environ)
    assert environ == {"GOMP_SPINCOUNT": str(threads.SPIN_COUNT)}
    for given in ({"OMP_WAIT_POLICY": "PASSIVE"}, {"GOMP_SPINCOUNT": "300000"}):
        environ = dict(given)
        threads.use_short_spin(environ)
        assert environ == given


def test_governor_follows_the_free_cores_and_restores_the_callers_count(monkeypatch):
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    others = iter([1.2, 0.0, 0.7])
    monkeypatch.setattr(threads, "others_now", lambda: next(others))
    previous = numba.get_num_threads()
    governor = ThreadGovernor()
    governor.start(None)
    assert governor.count == 1  # a core taken
    governor.handle(0.0, None)
    assert governor.count == min(2, previous)  # free again
    governor.handle(1.0, None)
    assert governor.count == 1
    governor.finish()
    assert numba.get_num_threads() == previous


def test_governor_keeps_a_fixed_count(monkeypatch):
    monkeypatch.setattr(threads, "others_now", lambda: pytest.fail("must not look"))
    governor = ThreadGovernor(1)
    governor.start(None)
    governor.handle(0.0, None)
    assert governor.count == 1 and numba.get_num_threads() == 1
    governor.finish()
    monkeypatch.setenv("NUMBA_NUM_THREADS", str(numba.config.NUMBA_NUM_THREADS))
    governor = ThreadGovernor()  # the environment names a count: it is kept
    governor.start(None)
    assert governor.count == numba.get_num_threads()
    governor.finish()


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
def test_one_and_two_threads_agree_bit_for_bit(rng):
    grid = ct.Grid((64, 48), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.05, growth_rate=0.5)
    state = model.initial_state(grid, u=rng.random(grid.shape))
    one = ct.simulate(model, state, 0.5, save_every=0.1, threads=1)
    two = ct.simulate(model, state, 0.5, save_every=0.1, threads=2)
    np.testing.assert_array_equal(one.field("u"), two.field("u"))
