"""Trackers that run between output times: progress display."""

from __future__ import annotations


class ProgressBar:
    """A tqdm bar over simulated time [day]; a no-op when disabled."""

    def __init__(self, t_start: float, t_end: float, enabled: bool = True):
        self.t_start = t_start
        self.enabled = enabled
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=t_end - t_start, unit="day", unit_scale=True, leave=False)

    def update(self, t: float) -> None:
        if self._bar is not None:
            self._bar.n = t - self.t_start
            self._bar.refresh()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
