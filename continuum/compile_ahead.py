"""Compile the model-independent kernels of a loop in a helper process, alongside.

A first run compiles its loop in one process, one function after the other: the model's
stage pass, then the kernels every model shares (the line solves of the implicit
diffusion, the stiff solver's multigrid, the error estimate), then the loop itself.
Numba compiles under one global lock, so threads cannot share that work, but a second
process can: while this process compiles the model's kernels, a forked helper compiles
the shared ones into Numba's disk cache, and this process loads them from there when its
loop reaches them (``benchmarks/README.md``: a first 64² Fisher-KPP IMEX run 40 %
shorter, a 32² invasion cascade 32 %).

:func:`start` forks the helper (POSIX ``fork``: it starts in milliseconds with
everything imported, where a new interpreter would spend a second importing) when the
loop is neither compiled nor in the cache, and only where it can pay: Linux, at least two
CPUs to run on, no ``CONTINUUM_COMPILE_HELPER=0`` in the environment. A :class:`Job` is
a dispatcher to compile for a signature, and the dispatchers it compiles on the way
(``covers``): the solvers hand the helper their loop's shared part compiled for a kernel
name without reactions, which compiles every shared kernel with the loop's own argument
types, none of them predicted. The helper only compiles (no parallel region runs in it),
writes nothing to the run's streams, reports each covered dispatcher once it is in the
cache, leaves with ``os._exit``, and dies with the run (``PR_SET_PDEATHSIG``) if the run
is killed first.

When this process's compilation reaches a covered dispatcher
(``kernels.internal.CompiledOnlyDispatcher.compile`` calls :func:`wait_for`), it waits
for the helper's report, then loads the kernel from the cache (or compiles it, if the
cache holds another signature). A kernel with a literal string among its argument types
is a model's own and never waits. A helper that fails is not waited for; after
``JOB_TIMEOUT`` seconds without the report this process stops it and compiles the kernel
itself. :func:`finish`, once the loop is compiled, stops and reaps a helper still at
work (Numba writes cache files through a temporary file and a rename, so a stopped
helper leaves no broken entry).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
import time
import warnings
from typing import NamedTuple

from numba.core import types
from numba.core.compiler_lock import global_compiler_lock

JOB_TIMEOUT = 120.0
"""Seconds this process waits for a report of the helper before stopping it and
compiling the kernel itself."""


class Job(NamedTuple):
    """Something to compile: a Numba dispatcher with caching, the argument types, and
    the dispatchers it compiles as callees that the run may wait for (``covers``)."""

    dispatcher: object
    signature: tuple
    covers: frozenset = frozenset()


class _Helper:
    """A forked helper compiling ``jobs`` in order. It reports on a pipe each covered
    dispatcher it has compiled and saved to the cache (two bytes: its index); the pipe
    closes when it leaves."""

    def __init__(self, jobs: list[Job]):
        covered = {id(d): d for job in jobs for d in (job.dispatcher, *job.covers)}
        self.index = {key: i for i, key in enumerate(covered)}
        self.reported: set[int] = set()
        self.finished = False
        self.buffer = b""
        read_end, write_end = os.pipe()
        parent = os.getpid()
        try:
            # Forked holding Numba's compiler lock, so that no other thread of this
            # process holds it (a lock the helper could never take): the helper only
            # compiles, under that lock. (Python 3.12 warns about fork with threads.)
            with global_compiler_lock, warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                self.pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if self.pid == 0:  # the helper
            os.close(read_end)
            _compile_and_exit(jobs, write_end, self.index, parent)
        os.close(write_end)
        self.pipe = read_end

    def wait_for(self, dispatcher, signature: tuple) -> None:
        """Return once the helper has compiled ``dispatcher`` (a job's or a covered one)
        into the cache, or has left, failed or timed out; at once for a model's own
        kernel (a literal string in ``signature``) or one the jobs do not cover."""
        index = self.index.get(id(dispatcher))
        if index is None or any(isinstance(t, types.StringLiteral) for t in signature):
            return
        deadline = time.monotonic() + JOB_TIMEOUT
        while index not in self.reported and not self.finished:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.pipe], [], [], left)[0]:
                self.stop()
                return
            self._read()

    def _read(self) -> None:
        report = os.read(self.pipe, 4096)
        if not report:  # the helper has left
            self.finished = True
            return
        self.buffer += report
        whole = len(self.buffer) // 2 * 2
        for at in range(0, whole, 2):
            self.reported.add(int.from_bytes(self.buffer[at : at + 2], "little"))
        self.buffer = self.buffer[whole:]

    def stop(self) -> None:
        """Stop the helper if it is still at work, and reap it (once)."""
        if self.pipe < 0:
            return
        if not self.finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.finished = True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self.pipe)
        self.pipe = -1


_report: tuple[int, dict] | None = None
"""In a helper: its pipe and the index of each covered dispatcher (``compiled``)."""


def _compile_and_exit(jobs: list[Job], pipe: int, index: dict, parent: int) -> None:
    """The helper's life: compile each job (Numba saves it and its callees to the disk
    cache; ``compiled`` reports the covered ones on ``pipe``) and leave without running
    the parent's exit handlers; killed with its parent (``parent``, the process that
    forked it)."""
    global _report
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        _die_with_parent(parent)
        # Silent: the parent's streams may be a notebook's, served by threads that do not
        # exist here; the parent loads these kernels, it does not compile them again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.stdout = sys.stderr = open(devnull, "w")
        warnings.simplefilter("ignore")
        _report = (pipe, index)
        for job in jobs:
            job.dispatcher.compile(job.signature)
    except BaseException:  # the parent compiles what the helper did not
        status = 1
    finally:
        os._exit(status)


def _die_with_parent(parent: int) -> None:
    """Have Linux kill this helper when the thread that forked it ends (``prctl``
    ``PR_SET_PDEATHSIG``): a run killed while compiling leaves no helper behind. Leaves
    at once if the parent is gone already."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def compiled(dispatcher) -> None:
    """Called after ``dispatcher`` compiled a signature and saved it to the disk cache: in
    a helper, report it if the run may wait for it."""
    if _report is not None:
        pipe, index = _report
        if id(dispatcher) in index:
            os.write(pipe, index[id(dispatcher)].to_bytes(2, "little"))


_active: _Helper | None = None


def _ready(job: Job) -> bool:
    """Whether ``job`` is compiled in this process or in Numba's disk cache."""
    dispatcher = job.dispatcher
    if job.signature in dispatcher.overloads:
        return True
    cache = dispatcher._cache
    key = cache._index_key(job.signature, dispatcher.targetctx.codegen())
    return key in cache._cache_file._load_index()


def _helper_can_pay() -> bool:
    if os.environ.get("CONTINUUM_COMPILE_HELPER", "1") == "0":
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    return len(os.sched_getaffinity(0)) >= 2


def start(loop: Job, jobs: list[Job]) -> _Helper | None:
    """Fork a helper compiling ``jobs`` unless ``loop`` is compiled or in the disk
    cache, the jobs are, a helper is at work already or none can pay (module doc);
    :func:`finish` ends it."""
    global _active
    if not jobs or _active is not None or not _helper_can_pay():
        return None
    try:
        todo = [] if _ready(loop) else [job for job in jobs if not _ready(job)]
    except Exception:  # Numba's cache internals changed: everything compiles here
        return None
    if not todo:
        return None
    try:
        _active = _Helper(todo)
    except OSError:  # no memory or processes left to fork
        return None
    return _active


def finish(helper: _Helper | None) -> None:
    """Stop ``helper`` (from :func:`start`; ``None``: nothing) if it is still at work."""
    global _active
    if helper is not None:
        helper.stop()
        if _active is helper:
            _active = None


def wait_for(dispatcher, signature) -> None:
    """Called before ``dispatcher`` compiles ``signature``: if the helper covers it, wait
    until the helper has put it in the disk cache (then Numba loads it instead of
    compiling it)."""
    if _active is not None:
        _active.wait_for(dispatcher, tuple(signature))
