"""Lumped (ODE) primary tumour with shedding into the blood: the fast path for cohorts."""

from __future__ import annotations

import continuum.kernels.lumped as kernels
from continuum.grid import Grid
from continuum.models.base import Model, Parameter
from continuum.validation import check_choice

GROWTH_LAWS = {
    "exponential": kernels.EXPONENTIAL,
    "logistic": kernels.LOGISTIC,
    "gompertz": kernels.GOMPERTZ,
    "bertalanffy": kernels.BERTALANFFY,
    "power": kernels.POWER,
    "exponential_linear": kernels.EXPONENTIAL_LINEAR,
}


class LumpedPrimary(Model):
    r"""Primary tumour size ``P`` [cells] shedding cells into the blood ``B`` [cells].

    .. math::

        \frac{dP}{dt} = g(P) - \mu P^\alpha, \qquad
        \frac{dB}{dt} = \mu P^\alpha - k_{clear} B

    Growth laws ``g`` (Benzekry et al., PLoS Comput Biol 2014, doi:10.1371/journal.pcbi.1003800):
    exponential ``a P``; logistic ``a P (1 - P/K)``; Gompertz ``a P ln(K/P)``; von Bertalanffy
    ``a P^gamma - b P``; power law ``a P^gamma``; exponential-linear ``min(a P, a1)``.
    Shedding ``mu P^alpha`` (Iwata, Kawasaki & Shigesada 2000); CTC clearance ``k_clear``
    (half-life of hours: 6.9-16.6 /day, Meng et al. 2004). Scalars: ``tumor_cells``,
    ``blood_ctc``, and the cumulative ``born`` (net growth), ``shed`` and ``cleared``, so that
    ``tumor_cells + blood_ctc + cleared - born`` equals its initial value.

    The model has no tissue fields: give it a one-cell grid, ``ct.Grid(1, 1.0)``.
    """

    kernel_name = "lumped_primary"
    field_names = ()
    scalar_names = ("tumor_cells", "blood_ctc", "born", "shed", "cleared")
    PARAMETERS = (
        Parameter("law", 0.0, "1", "growth law code (set through growth=...)"),
        Parameter("a", 0.1, "1/day", "growth rate (cells^(1-gamma)/day for power laws)"),
        Parameter("K", 1e12, "cells", "carrying capacity (logistic, Gompertz)", "positive"),
        Parameter("gamma", 2.0 / 3.0, "1", "exponent (von Bertalanffy, power law)"),
        Parameter("b", 0.0, "1/day", "loss rate (von Bertalanffy)"),
        Parameter("a1", 1e9, "cells/day", "linear growth rate (exponential-linear)"),
        Parameter("mu", 0.0, "cells^(1-alpha)/day", "shedding coefficient"),
        Parameter("alpha", 1.0, "1", "shedding exponent"),
        Parameter("k_clear", 10.0, "1/day", "clearance of circulating tumour cells"),
    )

    def __init__(self, growth="gompertz", bc=None, **parameters):
        check_choice("growth", growth, tuple(GROWTH_LAWS))
        self.growth = growth
        super().__init__(bc=bc, **{**parameters, "law": float(GROWTH_LAWS[growth])})

    def to_spec(self, grid: Grid) -> dict:
        spec = super().to_spec(grid)
        spec["parameters"] = {k: v for k, v in spec["parameters"].items() if k != "law"}
        spec["growth"] = self.growth
        return spec

    @classmethod
    def _from_spec(cls, spec):
        return cls(growth=spec["growth"], **spec["parameters"])
