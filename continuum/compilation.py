"""Watching Numba compile: how long a run waited for its kernels.

The compiled loops are specialised per model and cached on disk (``__pycache__`` or
``NUMBA_CACHE_DIR``); the first run of a model on a machine compiles them, later runs load
them in milliseconds. :class:`CompileWatch` listens to Numba's ``numba:compile`` events,
which fire only for real compilations (cache misses), so a progress bar can say that it
is compiling and a run can report how many of its seconds went to compilation.
"""

from __future__ import annotations

import time

from numba.core import event


class CompileWatch(event.Listener):
    """Context manager counting the wall seconds of outermost Numba compilations.

    ``began()`` is called when an outermost compilation starts and ``ended(seconds)``
    when it ends (the seconds of that compilation); ``seconds`` is their total.
    """

    def __init__(self, began=None, ended=None):
        self.began = began
        self.ended = ended
        self.seconds = 0.0
        self._depth = 0
        self._started = 0.0

    def on_start(self, ev):
        if self._depth == 0:
            self._started = time.perf_counter()
            if self.began is not None:
                self.began()
        self._depth += 1

    def on_end(self, ev):
        self._depth -= 1
        if self._depth == 0:
            spent = time.perf_counter() - self._started
            self.seconds += spent
            if self.ended is not None:
                self.ended(spent)

    def __enter__(self):
        event.register("numba:compile", self)
        return self

    def __exit__(self, *exc):
        event.unregister("numba:compile", self)
