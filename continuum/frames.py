"""Which saved frame answers a question about time ``t``: one rule for every reader.

A run holds frames from its first to its last saved time. A time inside that span is
answered with the nearest frame, which is never more than half a save interval away (the
frames around ``t`` bracket it); a time outside the span is refused with a
``ValueError`` instead of being answered with the first or last frame. Stored times carry
round-off (a resumed or off-grid end), so ``t`` may overshoot an end by a relative
``1e-9``.
"""

from __future__ import annotations

import math

import numpy as np

#: relative slack at the ends of a run for round-off in stored times
END_TOLERANCE = 1e-9


def frame_index(times, t) -> int:
    """The index of the frame nearest ``t`` [day] among ``times``; a ``ValueError`` for a
    time that is not a finite number, outside ``[times[0], times[-1]]``, or a run without
    frames."""
    times = np.asarray(times, dtype=float)
    if times.size == 0:
        raise ValueError("the run holds no frames yet (it stopped before its first save)")
    if isinstance(t, bool) or not isinstance(t, int | float | np.integer | np.floating):
        raise ValueError(f"t: got {t!r}; a time in days is required")
    t = float(t)
    first, last = float(times[0]), float(times[-1])
    slack = END_TOLERANCE * max(1.0, abs(first), abs(last))
    if not math.isfinite(t) or t < first - slack or t > last + slack:
        raise ValueError(
            f"t = {t:g} day is outside the run, whose frames span {first:g} to {last:g} day"
        )
    return int(np.argmin(np.abs(times - t)))
