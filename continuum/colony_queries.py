"""Colony counts and size distributions of a cascade run, in memory or from its file."""

from __future__ import annotations

import numpy as np

from continuum.frames import frame_index
from continuum.models.base import Model
from continuum.models.cascade import Cascade


class ColonyQueries:
    """Mixin of :class:`~continuum.Result` and :class:`~continuum.RunFile`.

    Needs ``model``, ``times``, ``_cohort_arrays(site, frame) -> (counts, log sizes,
    edge log sizes)`` and ``_tissue_field(site, name, frame)``. Every query uses the
    frame nearest ``t`` [day].
    """

    def _cascade(self) -> Cascade:
        model = self.model
        if not isinstance(model, Model) or model.primary is model:
            raise TypeError(
                f"colony queries need a Cascade run; this run's model is {type(model).__name__}"
            )
        return model

    def _frame(self, t: float) -> int:
        return frame_index(self.times, t)  # a time outside the run: ValueError

    def site_names(self) -> list[str]:
        """Names of the secondary sites."""
        return [site.name for site in self._cascade().sites]

    def colony_count(self, t: float, min_size: float = 0.0, site: str | None = None) -> float:
        """Colonies larger than ``min_size`` cells at the frame nearest ``t`` [day], in
        ``site`` or in all sites (``site=None``)."""
        model = self._cascade()
        frame = self._frame(t)
        names = self.site_names() if site is None else [site]
        total = 0.0
        for name in names:
            k = model.site_index(name)
            spec = model.sites[k]
            if spec.grid is not None:  # connected foci of the tissue
                fields = np.stack(
                    [self._tissue_field(name, f, frame) for f in spec.model.field_names[:2]]
                )
                total += model.count_foci(k, fields, min_size)
                continue
            counts, _, edges = self._cohort_arrays(name, frame)
            total += model.count_colonies(counts, edges, min_size)
        return total

    def site_field(self, site: str, name: str, t: float) -> np.ndarray:
        """Field ``name`` of a spatial site at the frame nearest ``t`` [day]."""
        model = self._cascade()
        spec = model.sites[model.site_index(site)]
        if spec.grid is None:
            raise KeyError(f"site {site!r} is size-structured: it has no fields")
        if name not in spec.model.field_names:
            raise KeyError(f"unknown field {name!r}; fields are {list(spec.model.field_names)}")
        return self._tissue_field(site, name, self._frame(t))

    def cohorts(self, t: float, site: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Non-empty cohorts of ``site`` at the frame nearest ``t``: ``(start of their birth
        intervals [day], mean sizes [cells], colonies)``."""
        model = self._cascade()
        self._size_structured(model, site)
        counts, logs, _ = self._cohort_arrays(site, self._frame(t))
        keep = np.flatnonzero(counts > 0)
        return keep * model.cohort_days, np.exp(logs[keep]), counts[keep]

    def size_distribution(self, t: float, site: str) -> tuple[np.ndarray, np.ndarray]:
        """``(sizes [cells], density [colonies per cell])`` of ``site`` at the frame nearest
        ``t``, one point per cohort in increasing size: each cohort's colonies spread over
        the sizes between its edge and the next cohort's (one cell for the open cohort)."""
        model = self._cascade()
        self._size_structured(model, site)
        counts, logs, edges = self._cohort_arrays(site, self._frame(t))
        index = np.flatnonzero(counts > 0)
        young = np.append(edges[1:], 0.0)[index]
        # older colonies are usually the larger, but not always (a resection releases the
        # youngest first): the interval between the two edges, whichever is larger
        width = np.abs(np.exp(edges[index]) - np.exp(young))
        sizes = np.exp(logs[index])
        density = counts[index] / np.maximum(width, 1e-12 * sizes)
        order = np.argsort(sizes)
        return sizes[order], density[order]

    @staticmethod
    def _size_structured(model, site) -> int:
        k = model.site_index(site)
        if model.sites[k].grid is not None:
            raise KeyError(f"site {site!r} is spatial: use site_field(...) and colony_count(...)")
        return k
