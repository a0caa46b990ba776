"""Colony counts and size distributions of a cascade run, in memory or from its file."""

from __future__ import annotations

import numpy as np

from continuum.models.cascade import Cascade


class ColonyQueries:
    """Mixin of :class:`~continuum.Result` and :class:`~continuum.RunFile`.

    Needs ``model``, ``times`` and ``_cohort_arrays(site, frame) -> (counts, birth_times)``.
    Every query uses the frame nearest ``t`` [day].
    """

    def _cascade(self) -> Cascade:
        model = self.model
        if not isinstance(model, Cascade):
            raise TypeError(
                f"colony queries need a Cascade run; this run's model is {type(model).__name__}"
            )
        return model

    def _frame(self, t: float) -> int:
        return int(np.argmin(np.abs(np.asarray(self.times) - float(t))))

    def site_names(self) -> list[str]:
        """Names of the secondary sites."""
        return [site.name for site in self._cascade().sites]

    def colony_count(self, t: float, min_size: float = 0.0, site: str | None = None) -> float:
        """Colonies larger than ``min_size`` cells at the frame nearest ``t`` [day], in
        ``site`` or in all sites (``site=None``)."""
        model = self._cascade()
        frame = self._frame(t)
        time = float(self.times[frame])
        names = self.site_names() if site is None else [site]
        total = 0.0
        for name in names:
            counts, _ = self._cohort_arrays(name, frame)
            total += model.count_colonies(model.site_index(name), counts, time, min_size)
        return total

    def cohorts(self, t: float, site: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Non-empty cohorts of ``site`` at the frame nearest ``t``: ``(birth_times [day],
        sizes [cells], colonies)``; ``sizes`` = ``X(t - birth_times)``, the growth law's
        characteristic."""
        model = self._cascade()
        frame = self._frame(t)
        counts, births = self._cohort_arrays(site, frame)
        keep = counts > 0
        sizes = model.cohort_sizes(model.site_index(site), births[keep], float(self.times[frame]))
        return births[keep], sizes, counts[keep]

    def size_distribution(self, t: float, site: str) -> tuple[np.ndarray, np.ndarray]:
        """``(sizes [cells], density [colonies per cell])`` of ``site`` at the frame nearest
        ``t``, one point per cohort in increasing size: each cohort's colonies spread over
        the sizes between the characteristics of its first and last birth times."""
        model = self._cascade()
        k = model.site_index(site)
        frame = self._frame(t)
        time = float(self.times[frame])
        counts, births = self._cohort_arrays(site, frame)
        index = np.flatnonzero(counts > 0)
        start = index * model.cohort_days
        end = np.minimum(start + model.cohort_days, time)
        width = model.cohort_sizes(k, start, time) - model.cohort_sizes(k, end, time)
        sizes = model.cohort_sizes(k, births[index], time)
        density = counts[index] / np.maximum(width, np.finfo(float).tiny)
        order = np.argsort(sizes)
        return sizes[order], density[order]
