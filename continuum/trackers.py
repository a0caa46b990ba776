"""Trackers that run between output times: progress display."""

from __future__ import annotations


class ProgressBar:
    """A tqdm bar over simulated time [day] with its ETA and, for runs that have them,
    the circulating tumour cells and the detectable metastases; a no-op when disabled."""

    def __init__(self, t_start: float, t_end: float, enabled: bool = True):
        self.t_start = t_start
        self.enabled = enabled
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=t_end - t_start, unit="day", unit_scale=True, leave=False)

    def update(self, t: float, values: dict | None = None) -> None:
        """Move to time ``t`` [day]; ``values`` are the frame's series."""
        if self._bar is None:
            return
        self._bar.n = t - self.t_start
        if values:
            status = {}
            if "blood_ctc" in values:
                status["CTCs"] = f"{values['blood_ctc'] + values['lymph_ctc']:.3g}"
            detectable = [v for k, v in values.items() if k.endswith("/detectable")]
            if detectable:
                status["detectable mets"] = f"{sum(detectable):.3g}"
            if status:
                self._bar.set_postfix(status, refresh=False)
        self._bar.refresh()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
