"""Compile the model-independent kernels of a loop in a helper process, alongside.

A first run compiles its loop in one process, one function after the other: the model's
stage pass, then the kernels every model shares (the line solves of the implicit
diffusion, the error estimate), then the loop itself. Numba compiles under one global
lock, so threads cannot share that work, but a second process can: while this process
compiles the model's kernels, a forked helper compiles the shared ones into Numba's disk
cache, and this process loads them from there when its loop reaches them. On two cores
the first IMEX run of a Fisher-KPP model waits about 4 s less (``benchmarks/startup.py``).

:func:`alongside` forks the helper (POSIX ``fork``: the helper starts in milliseconds with
everything imported, where a new interpreter would spend a second importing) for the
jobs that are not in the cache yet, and only where it can pay: Linux, at least two CPUs
to run on, no ``CONTINUUM_COMPILE_HELPER=0`` in the environment. The helper only
compiles (no parallel region runs in it) and leaves with ``os._exit``. When this
process's compilation reaches a job's dispatcher and signature (``wait_for``, called by
``kernels.internal.CompiledOnlyDispatcher.compile``), it waits until the helper has
written that job to the cache, then loads it; if the helper fails or takes longer than
``JOB_TIMEOUT`` seconds, this process compiles the kernel itself. On leaving the block,
a helper still at work is stopped (Numba writes cache files through a temporary file and
a rename, so a stopped helper leaves no broken entry).

A job whose signature is not the one the loop compiles costs nothing but the helper's
CPU: ``tests/test_compilation.py`` checks the predictions against what the loops compile.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
import warnings
from typing import NamedTuple

JOB_TIMEOUT = 120.0
"""Seconds this process waits for one job of the helper before compiling it itself."""


class Job(NamedTuple):
    """A kernel to compile: a Numba dispatcher with caching and the argument types."""

    dispatcher: object
    signature: tuple


class _Helper:
    """A forked helper compiling ``jobs`` in order; reports each finished one on a pipe."""

    def __init__(self, jobs: list[Job]):
        self.jobs = {(id(job.dispatcher), job.signature): i for i, job in enumerate(jobs)}
        self.done: set[int] = set()
        self.finished = False
        read_end, write_end = os.pipe()
        try:
            with warnings.catch_warnings():
                # Python 3.12 warns about fork in a process with threads: the helper only
                # compiles under Numba's lock, which this thread holds or nobody does.
                warnings.simplefilter("ignore", DeprecationWarning)
                self.pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if self.pid == 0:  # the helper
            os.close(read_end)
            _compile_and_exit(jobs, write_end)
        os.close(write_end)
        self.pipe = read_end

    def wait_for(self, key) -> None:
        """Return once the helper wrote job ``key`` to the cache, failed or timed out."""
        index = self.jobs.get(key)
        if index is None or self.finished:
            return
        deadline = time.monotonic() + JOB_TIMEOUT
        while index not in self.done and not self.finished:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.pipe], [], [], left)[0]:
                self.stop()
                return
            report = os.read(self.pipe, 4096)
            if not report:  # the helper has left
                self.finished = True
            self.done.update(report)

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


def _compile_and_exit(jobs: list[Job], pipe: int) -> None:
    """The helper's life: compile each job (Numba saves it to the disk cache), report its
    index on ``pipe``, and leave without running the parent's exit handlers."""
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        # Silent: the parent's streams may be a notebook's, served by threads that do not
        # exist here; the parent loads these kernels, it does not compile them again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.stdout = sys.stderr = open(devnull, "w")
        warnings.simplefilter("ignore")
        for i, job in enumerate(jobs):
            job.dispatcher.compile(job.signature)
            os.write(pipe, bytes([i]))
    except BaseException:  # the parent compiles what the helper did not
        status = 1
    finally:
        os._exit(status)


_active: _Helper | None = None


def _cached(job: Job) -> bool:
    """Whether Numba's disk cache already holds ``job`` (then there is nothing to do)."""
    dispatcher = job.dispatcher
    cache = dispatcher._cache
    key = cache._index_key(job.signature, dispatcher.targetctx.codegen())
    return key in cache._cache_file._load_index()


def _helper_can_pay() -> bool:
    if os.environ.get("CONTINUUM_COMPILE_HELPER", "1") == "0":
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    return len(os.sched_getaffinity(0)) >= 2


@contextlib.contextmanager
def alongside(jobs: list[Job]):
    """Run the block (which compiles a loop) while a helper process compiles the
    ``jobs`` that the disk cache does not hold yet (module doc)."""
    global _active
    todo = []
    if jobs and _active is None and _helper_can_pay():
        try:
            todo = [
                job
                for job in jobs
                if job.signature not in job.dispatcher.overloads and not _cached(job)
            ]
        except Exception:  # Numba's cache internals changed: everything compiles here
            todo = []
    helper = None
    if todo:
        with contextlib.suppress(OSError):  # no memory or processes left to fork
            helper = _Helper(todo[:256])
    if helper is None:
        yield
        return
    _active = helper
    try:
        yield
    finally:
        helper, _active = _active, None
        helper.stop()


def wait_for(dispatcher, signature) -> None:
    """Called before ``dispatcher`` compiles ``signature``: if the helper has that job,
    wait until it is in the disk cache (then Numba loads it instead of compiling)."""
    if _active is not None:
        _active.wait_for((id(dispatcher), tuple(signature)))
