"""Lumped (ODE) primary tumour with shedding into the blood: the fast path for cohorts."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import continuum.kernels.lumped as lumped_kernels
from continuum.grid import Grid
from continuum.models.base import KernelSet, Model, Parameter
from continuum.models.invasion import CIRCULATION_PARAMETERS, CIRCULATION_SCALARS
from continuum.units import CELLS_PER_MM3
from continuum.validation import check_choice

GROWTH_LAWS = {
    "exponential": lumped_kernels.EXPONENTIAL,
    "logistic": lumped_kernels.LOGISTIC,
    "gompertz": lumped_kernels.GOMPERTZ,
    "bertalanffy": lumped_kernels.BERTALANFFY,
    "power": lumped_kernels.POWER,
    "exponential_linear": lumped_kernels.EXPONENTIAL_LINEAR,
    "hahnfeldt": lumped_kernels.HAHNFELDT,
}
# The parameters each growth law reads (``growth_rate`` in continuum/kernels/lumped.py);
# the others of PARAMETERS' growth block (``a``, ``K``, ``gamma``, ``b``, ``a1``) are
# ignored by that law (Hahnfeldt's ``K`` is the initial vascular capacity).
GROWTH_LAW_PARAMETERS = {
    "exponential": ("a",),
    "logistic": ("a", "K"),
    "gompertz": ("a", "K"),
    "bertalanffy": ("a", "gamma", "b"),
    "power": ("a", "gamma"),
    "exponential_linear": ("a", "a1"),
    "hahnfeldt": ("a", "K", "stimulation", "inhibition"),
}
# Lewis lung carcinoma in mice under Hahnfeldt's law, in cells (c = CELLS_PER_MM3), as
# recalled from Hahnfeldt, Panigrahy, Folkman & Hlatky, Cancer Res 1999;59:4770-4775
# (Table 1 and text; reproduced e.g. by d'Onofrio & Gandolfi, Math Biosci 2004): tumour
# growth rate lambda = 0.192 /day, vascular stimulation b = 5.85 /day, inhibition
# d = 0.00873 /(day mm^2), and the control experiment's initial capacity K0 = 625 mm^3
# (its initial volume V0 = 180 mm^3: ``HAHNFELDT_LEWIS_LUNG_V0``, cells). TNP-470's
# anti-angiogenic efficacy e = 0.66 multiplies the drug's concentration (``therapy_vascular``
# is e g(t) [1/day]).
HAHNFELDT_LEWIS_LUNG = {
    "a": 0.192,
    "stimulation": 5.85,
    "inhibition": 0.00873,
    "K": 625.0 * CELLS_PER_MM3,
}
HAHNFELDT_LEWIS_LUNG_V0 = 180.0 * CELLS_PER_MM3


def unused_growth_parameters(law: str, names) -> list[str]:
    """The names among ``names`` that are growth-law parameters (of any law) which
    ``law`` does not read: setting them changes nothing. Empty for an unknown law."""
    used = GROWTH_LAW_PARAMETERS.get(law) if isinstance(law, str) else None
    if used is None:
        return []
    every = {name for names in GROWTH_LAW_PARAMETERS.values() for name in names}
    return [name for name in names if name in every and name not in used]


class LumpedPrimary(Model):
    """Primary tumour size ``P`` [cells] shedding into lymph ``L`` and blood ``B`` [cells]::

        dP/dt = g(P) − l J,   J = μ P^α
        dL/dt = f_L J − (k_LN + k_LB) L
        dB/dt = (1 − f_L) J + k_LB L − (k_clear + k_NK + k_ext) B

    Growth laws ``g`` (Benzekry et al., PLoS Comput Biol 2014, doi:10.1371/journal.pcbi.1003800):
    exponential ``a P``; logistic ``a P (1 - P/K)``; Gompertz ``a P ln(K/P)``; von Bertalanffy
    ``a P^gamma - b P``; power law ``a P^gamma``; exponential-linear ``min(a P, a1)``;
    Hahnfeldt's angiogenic switch (Hahnfeldt et al., Cancer Res 1999;59:4770-4775), Gompertz
    growth within a moving vascular capacity ``Kv`` [cells], in cells (``c`` =
    ``CELLS_PER_MM3`` turns cells into mm^3)::

        g = a P ln(K_v / P),   dK_v/dt = b_s P − d_i K_v (P/c)^(2/3) − e K_v

    with ``b_s`` = ``stimulation`` [1/day], ``d_i`` = ``inhibition`` [1/(day mm^2)], ``e`` the
    anti-angiogenic therapy rate [1/day] (the third therapy slot, ``therapy_vascular``, 0
    untreated), ``Kv = K`` at the start; untreated, ``P`` and ``Kv`` settle at
    ``(b_s/d_i)^(3/2)`` mm^3 (``((b_s - e)/d_i)^(3/2)`` under a constant ``e < b_s``).
    Lewis lung carcinoma values: ``HAHNFELDT_LEWIS_LUNG``.

    Shedding ``mu P^alpha`` (Iwata, Kawasaki & Shigesada 2000), of which the tumour loses a
    fraction ``l`` = ``shedding_loss`` (default 1; 0 gives Iwata's primary, which emission
    does not deplete, the emitted cells counting as born), a fraction ``f_L`` =
    ``lymph_fraction`` into lymph; CTC clearance ``k_clear`` (half-life of hours:
    6.9-16.6 /day, Meng et al. 2004); natural-killer cells' killing of CTCs ``k_NK`` =
    ``k_nk`` (0 by default: that half-life lumps every cause of loss; see
    :class:`Invasion`); the circulation as in :class:`Invasion`. Scalars:
    ``tumor_cells``, ``blood_ctc``, ``lymph_ctc`` and the cumulative ``born`` (positive part
    of ``g``), ``died`` (negative part), ``cleared`` (died in blood), ``killed_immune``
    (killed in blood by NK cells), ``extravasated`` (left blood for the organs),
    ``node_arrested`` (lymph into the node) and ``first_pass`` (arrested in the first
    capillary bed), so that ``tumor_cells +
    blood_ctc + lymph_ctc + cleared + killed_immune + extravasated + node_arrested +
    first_pass + died + removed - born`` equals its initial value; last
    ``vascular_capacity`` (``Kv``, cells: ``K`` at the start, still under every law but
    Hahnfeldt's). Series also hold ``flux_blood`` and ``flux_lymph`` [cells/day].

    The model has no tissue fields: give it a one-cell grid, ``ct.Grid(1, 1.0)``.

    Parameters
    ----------
    growth : the law's name, or a dict ``{"law": name, **its parameters}``, e.g.
        ``{"law": "gompertz", "a": 0.01, "K": 1e12}``.
    shedding : optional ``{"mu": ..., "alpha": ...}`` or a pair ``(mu, alpha)``; the same as
        giving ``mu`` and ``alpha`` as keywords.
    **parameters : any of the parameters below (``LumpedPrimary.PARAMETERS``).
    """

    parameters_set_otherwise = ("law",)
    kernels = KernelSet(scalars=lumped_kernels.lumped_scalar_rate, parameters=lumped_kernels.P)
    field_names = ()
    scalar_names = ("tumor_cells", *CIRCULATION_SCALARS, "vascular_capacity")
    therapy_slots = (
        lumped_kernels.THERAPY_CELLS,
        lumped_kernels.THERAPY_CIRCULATING,
        lumped_kernels.THERAPY_VASCULAR,
    )
    series_units: ClassVar[dict[str, str]] = {"flux_blood": "cells/day", "flux_lymph": "cells/day"}
    PARAMETERS = (
        Parameter("law", 0.0, "1", "growth law code (set through growth=...)"),
        Parameter("a", 0.1, "1/day", "growth rate (cells^(1-gamma)/day for power laws)"),
        Parameter(
            "K",
            1e12,
            "cells",
            "carrying capacity (logistic, Gompertz); initial vascular capacity (Hahnfeldt)",
            "positive",
        ),
        Parameter("gamma", 2.0 / 3.0, "1", "exponent (von Bertalanffy, power law)"),
        Parameter("b", 0.0, "1/day", "loss rate (von Bertalanffy)"),
        Parameter("a1", 1e9, "cells/day", "linear growth rate (exponential-linear)"),
        Parameter("mu", 0.0, "cells^(1-alpha)/day", "shedding coefficient"),
        Parameter("alpha", 1.0, "1", "shedding exponent"),
        Parameter("lymph_fraction", 0.0, "1", "fraction of shed cells entering lymph", "fraction"),
        *CIRCULATION_PARAMETERS,
        Parameter(
            "first_pass",
            0.0,
            "1",
            "fraction of shed blood-borne cells arrested in the first capillary bed",
            "fraction",
        ),
        Parameter(
            "shedding_loss",
            1.0,
            "1",
            "fraction of shed cells the tumour loses (0: emission does not deplete it)",
            "fraction",
        ),
        Parameter(
            "stimulation",
            HAHNFELDT_LEWIS_LUNG["stimulation"],
            "1/day",
            "stimulation of the vascular capacity by the tumour (Hahnfeldt)",
        ),
        Parameter(
            "inhibition",
            HAHNFELDT_LEWIS_LUNG["inhibition"],
            "1/(day mm^2)",
            "endogenous inhibition of the vascular capacity (Hahnfeldt)",
        ),
    )

    def __init__(self, growth="gompertz", shedding=None, bc=None, **parameters):
        if isinstance(growth, dict):
            growth = dict(growth)
            law = growth.pop("law", None)
            if law is None:
                raise ValueError("growth: a dict needs the law's name under 'law'")
            parameters = {**growth, **parameters}
            growth = law
        check_choice("growth", growth, tuple(GROWTH_LAWS))
        if shedding is not None:
            if isinstance(shedding, dict):
                unknown = set(shedding) - {"mu", "alpha"}
                if unknown:
                    raise ValueError(
                        f"shedding: unknown key(s) {sorted(unknown)}; allowed are 'mu', 'alpha'"
                    )
                parameters = {**shedding, **parameters}
            elif isinstance(shedding, tuple | list) and len(shedding) == 2:
                parameters = {"mu": shedding[0], "alpha": shedding[1], **parameters}
            else:
                raise ValueError(
                    f"shedding: got {shedding!r}; give {{'mu': ..., 'alpha': ...}} or (mu, alpha)"
                )
        self.growth = growth
        super().__init__(bc=bc, **{**parameters, "law": float(GROWTH_LAWS[growth])})

    def param_vector(self) -> np.ndarray:
        """The parameters, then the three therapy rates (0: untreated): on the tumour's
        cells, on circulating cells, on the vascular capacity."""
        return np.append(super().param_vector(), [0.0, 0.0, 0.0])

    def default_scalars(self) -> dict[str, float]:
        """The vascular capacity starts at ``K`` [cells]."""
        return {"vascular_capacity": self.parameters["K"]}

    def derived_series(self, state) -> dict[str, float]:
        """Shedding into blood and lymph [cells/day]."""
        p = self.parameters
        size = float(state.scalar("tumor_cells"))
        shedding = p["mu"] * size ** p["alpha"] if size > 0 else 0.0
        return {
            "flux_blood": (1.0 - p["lymph_fraction"]) * shedding,
            "flux_lymph": p["lymph_fraction"] * shedding,
        }

    def to_spec(self, grid: Grid) -> dict:
        spec = super().to_spec(grid)
        spec["parameters"] = {k: v for k, v in spec["parameters"].items() if k != "law"}
        spec["growth"] = self.growth
        return spec

    @classmethod
    def _from_spec(cls, spec, maps):
        return cls(growth=spec["growth"], **spec["parameters"])

    def _repr_parameters(self) -> dict:
        """The growth law by name instead of its code."""
        return {"growth": self.growth, **{k: v for k, v in self.parameters.items() if k != "law"}}


class LumpedShedding(LumpedPrimary):
    """A :class:`LumpedPrimary` whose circulation block a cascade advances exactly.

    Internal to :class:`~continuum.models.cascade.Cascade`: its kernel integrates the
    tumour and the cells it sheds into blood and lymph (``shed_blood``, ``shed_lymph``,
    cumulative), then the ``vascular_capacity`` (last, as in :class:`LumpedPrimary`); the
    blood and lymph compartments are linear and fast (CTCs clear in hours), so the cascade
    solves them in closed form between its stretches instead of letting them hold explicit
    steps at their stability limit.
    """

    kernels = KernelSet(scalars=lumped_kernels.lumped_shedding_rate, parameters=lumped_kernels.P)
    scalar_names = (
        "tumor_cells",
        *CIRCULATION_SCALARS,
        "shed_blood",
        "shed_lymph",
        "vascular_capacity",
    )
