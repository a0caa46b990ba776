"""How many threads the compiled kernels use: chosen from the cores other processes leave
free, at the start of a run and again at its frames.

A parallel Numba region ends at a barrier, so a step takes as long as its slowest
thread. When another process holds one of the cores, the thread that shares that core
is descheduled for whole time slices, and every barrier waits for it; with GNU OpenMP's
default wait policy the waiting threads also spin for about 3 ms before they sleep,
taking the core from the very thread they wait for. Measured on a 2-core machine
(``benchmarks/busy.py``), a Fisher-KPP Euler step at 512² ran 70-200x slower beside other
busy processes. Two measures keep a run near the share of the machine left to it:

* :class:`ThreadGovernor` (a tracker every run has) sets ``numba.set_num_threads`` to the
  number of cores other processes left free, measured from ``/proc/stat`` over the time
  since its previous look (at least :data:`MIN_WINDOW` seconds, so it never waits):
  at the run's start and at its frames. On one thread no barrier waits for anyone.
  ``simulate(..., threads=N)`` fixes the count.
* :func:`use_short_spin` shortens GNU OpenMP's spin before sleeping to
  :data:`SPIN_COUNT` (``GOMP_SPINCOUNT``), for a load that starts between two frames:
  a waiting thread soon yields its core to the thread it waits for. Letting threads
  sleep at once (``OMP_WAIT_POLICY=PASSIVE``) was measured too: better still under load, but
  waking them costs 45 % of the idle throughput at 512² and 70 % at 256² on this
  virtual machine; the short spin costs a few per cent. It is set when ``continuum`` is
  imported, unless the environment sets a wait policy, and works only if the OpenMP
  runtime has not started yet (no parallel Numba function ran before
  ``import continuum``). Other OpenMP runtimes (macOS, Windows) keep their defaults.

The number of threads never changes results: partial sums are reduced in a fixed order,
so runs on one and on two threads agree bit for bit (``tests/test_determinism.py``).
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

import numba

from continuum.trackers import Tracker

# Seconds a look at the machine must span before it counts (the kernel counts CPU time
# in ticks of 10 ms, so shorter windows are mostly rounding).
MIN_WINDOW = 0.1
# Other processes' busy cores are rounded to whole cores, 0.5 up: a process that keeps a
# core at least half busy takes that core from the run.
ROUND_UP_FROM = 0.5

# Spins (of libgomp's rough 100 per microsecond) a waiting OpenMP thread makes before it
# sleeps; libgomp's default is 300000 (about 3 ms).
SPIN_COUNT = 1000

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class CpuSample(NamedTuple):
    """One look at the machine: ``wall`` [s, monotonic], ``machine_busy`` (CPU seconds
    all processes have run since boot, all cores together) and ``own`` (CPU seconds of
    this process, all its threads)."""

    wall: float
    machine_busy: float
    own: float


def machine_busy_seconds(stat_text: str, ticks_per_second: float = _CLOCK_TICKS) -> float:
    """CPU seconds the machine has been busy since boot, all cores together, from the
    text of ``/proc/stat``: user, nice, system, irq and softirq time (idle, iowait and
    the hypervisor's steal are not work of this machine's processes)."""
    for line in stat_text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[1:8])
            return (user + nice + system + irq + softirq) / ticks_per_second
    raise ValueError("no 'cpu' line in /proc/stat")


def take_sample(stat_path: str = "/proc/stat") -> CpuSample | None:
    """A :class:`CpuSample` now, or ``None`` where ``/proc/stat`` cannot be read (not
    Linux)."""
    try:
        with open(stat_path) as f:
            busy = machine_busy_seconds(f.read())
    except (OSError, ValueError):
        return None
    own = os.times()
    return CpuSample(time.monotonic(), busy, own.user + own.system)


def others_busy_cores(before: CpuSample, after: CpuSample) -> float:
    """Cores other processes kept busy on average between two samples: the machine's
    busy CPU seconds minus this process's, per wall second (>= 0)."""
    wall = after.wall - before.wall
    if wall <= 0:
        raise ValueError(f"samples: the second must be later than the first (got {wall:g} s)")
    other = (after.machine_busy - before.machine_busy) - (after.own - before.own)
    return max(0.0, other / wall)


def free_cores(others: float, cores: int) -> int:
    """Cores left to this process when others keep ``others`` cores busy (rounded to
    whole cores from :data:`ROUND_UP_FROM`), at least 1."""
    taken = int(others + (1.0 - ROUND_UP_FROM))
    return max(1, cores - taken)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_threads(threads) -> int | None:
    """``threads`` validated: ``None`` (choose from the free cores) or an integer from 1
    to the number of threads Numba started (``NUMBA_NUM_THREADS``)."""
    most = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= most:
        raise ValueError(
            f"threads: got {threads!r}; an integer from 1 to {most} (NUMBA_NUM_THREADS, "
            "the threads Numba started), or None to use the cores other processes leave free"
        )
    return int(threads)


def use_short_spin(environ=os.environ) -> None:
    """Let GNU OpenMP's waiting threads sleep after :data:`SPIN_COUNT` spins
    (``GOMP_SPINCOUNT``) unless ``environ`` sets a wait policy already. Read once, when
    the OpenMP runtime starts (the first parallel Numba call)."""
    if "OMP_WAIT_POLICY" not in environ and "GOMP_SPINCOUNT" not in environ:
        environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)


# The last look at the machine in this process, shared by all runs, so that a run's
# first decision covers the time since the previous run (or since import) without waiting.
_last = {"sample": take_sample(), "others": 0.0}


def others_now() -> float:
    """Cores other processes kept busy since the previous look at least
    :data:`MIN_WINDOW` seconds ago (else the previous figure, without reading anything:
    runs with frames microseconds apart pay nanoseconds; 0 without ``/proc/stat``)."""
    before = _last["sample"]
    if before is None or time.monotonic() - before.wall < MIN_WINDOW:
        return _last["others"]
    sample = take_sample()
    if sample is not None:
        _last["others"] = others_busy_cores(before, sample)
        _last["sample"] = sample
    return _last["others"]


class ThreadGovernor(Tracker):
    """Sets the number of Numba threads of a run at its start and at each frame.

    ``threads=None``: the cores other processes left free since the previous look, at
    most ``numba.get_num_threads()`` as it was when the run started (so a lower
    ``numba.set_num_threads`` of the caller is kept), and fixed at that count when the
    environment sets ``NUMBA_NUM_THREADS``. An integer fixes the count. The caller's
    setting is restored at the end.
    """

    reads_file = False

    def __init__(self, threads: int | None = None):
        self.threads = check_threads(threads)
        self.count: int | None = None  # the count set last

    def start(self, run) -> None:
        self.previous = numba.get_num_threads()
        fixed = self.threads
        if fixed is None and "NUMBA_NUM_THREADS" in os.environ:
            fixed = self.previous
        self.fixed = fixed
        self._set()

    def handle(self, t, state) -> None:
        if self.fixed is None:
            self._set()

    def finish(self) -> None:
        numba.set_num_threads(self.previous)

    def _set(self) -> None:
        if self.fixed is not None:
            count = self.fixed
        else:
            count = min(self.previous, free_cores(others_now(), usable_cores()))
        if count != self.count:
            numba.set_num_threads(count)
            self.count = count
