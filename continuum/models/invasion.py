"""The Stage-1 invasion model: EMT phenotypes, matrix, enzyme, oxygen, vessels, and the
invasive flux of tumour cells into blood and lymph (MODEL.md, Stages 1 and 2)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import continuum.kernels.invasion as invasion_kernels
from continuum import vessels
from continuum.boundary import DIRICHLET
from continuum.grid import Grid
from continuum.models.base import KernelSet, Model, Parameter, Transport
from continuum.units import CELLS_PER_MM3, PO2_AT_VASCULAR_LEVEL_MMHG
from continuum.validation import check_finite_array

CIRCULATION_SCALARS = (
    "blood_ctc",
    "lymph_ctc",
    "born",
    "died",
    "cleared",
    "extravasated",
    "node_arrested",
    "first_pass",
    "removed",
    "killed_immune",
)

# The unit of the cell fields in words (Model.field_scale fills in the model's K_cell).
CAPACITY_SCALE = "fraction of K_cell = {K_cell} cells/mm^3"

# Default vessel maps: random capillaries (volume fraction, seed).
DEFAULT_BLOOD_VESSELS = (0.03, 1)
DEFAULT_LYMPH_VESSELS = (0.01, 2)

_P = Parameter
# The circulation's rates, shared by every primary with a circulation block and by
# ``ct.Circulation`` (sources in data/parameters.csv).
CIRCULATION_PARAMETERS = (
    _P("k_clear", 10.0, "1/day", "death and clearance of CTCs in blood"),
    _P("k_ext", 0.5, "1/day", "extravasation of CTCs from blood"),
    _P("k_LN", 2.0, "1/day", "arrest of lymph-borne cells in the regional lymph node"),
    _P("k_LB", 0.5, "1/day", "drainage of lymph-borne cells into blood"),
    # Off by default: the measured CTC half-life behind k_clear (Meng et al. 2004) lumps
    # every cause of loss, natural-killer cells included; splitting k_clear into k_clear
    # + k_nk needs k_clear lowered by as much (sources in data/parameters.csv).
    _P("k_nk", 0.0, "1/day", "killing of CTCs in blood by natural-killer cells"),
)
PARAMETERS = {
    p.name: p
    for p in (
        _P(
            "K_cell",
            CELLS_PER_MM3,
            "cells/mm^3",
            "carrying capacity of tissue (1e8 cells/cm^3)",
            "positive",
        ),
        _P("D_e", 1e-4, "mm^2/day", "random motility of epithelial tumour cells"),
        _P("D_m", 8.64e-4, "mm^2/day", "random motility of mesenchymal cells (1e-10 cm^2/s)"),
        _P("chi", 4.32e-3, "mm^2/day", "haptotactic sensitivity of mesenchymal cells"),
        _P("rho_e", 0.2, "1/day", "proliferation rate of epithelial cells"),
        _P("rho_m", 0.1, "1/day", "proliferation rate of mesenchymal cells"),
        _P("K_P", 0.1, "1", "oxygen level of half-maximal proliferation"),
        _P("k_emt", 0.01, "1/day", "EMT rate in normoxia"),
        _P("h_max", 2.0, "1", "maximal hypoxic increase of the EMT rate"),
        _P("o_H", 0.2, "1", "oxygen level of half-maximal EMT induction", "positive"),
        _P("k_met", 0.09, "1/day", "MET rate (reversion to the epithelial phenotype)"),
        _P("delta_max", 0.5, "1/day", "maximal necrotic death rate in anoxia"),
        _P("o_N", 0.05, "1", "oxygen level of half-maximal necrosis", "positive"),
        _P("hill", 4.0, "1", "Hill exponent of the hypoxic responses", "positive"),
        _P("eta", 10.0, "1/day", "matrix degradation rate per unit enzyme"),
        _P("r_f", 0.01, "1/day", "matrix remodelling rate"),
        _P("D_p", 0.0864, "mm^2/day", "enzyme (MMP) diffusivity (1e-8 cm^2/s)"),
        _P("alpha_m", 0.5, "1/day", "enzyme production by mesenchymal cells"),
        _P("alpha_e", 0.05, "1/day", "enzyme production by epithelial cells"),
        _P("lambda_p", 1.0, "1/day", "enzyme decay rate"),
        _P("D_o", 86.4, "mm^2/day", "oxygen diffusivity (1e-5 cm^2/s)"),
        _P("sigma", 1e4, "1/day", "oxygen supply per unit blood-vessel density"),
        _P("r_cap", 0.005, "mm", "capillary radius of the Krogh tissue resistance"),
        _P("kappa", 3840.0, "1/day", "oxygen uptake per unit tumour-cell density"),
        _P("mu_B", 0.5, "1/day", "intravasation of mesenchymal cells into blood vessels"),
        _P("mu_Be", 0.005, "1/day", "intravasation of epithelial cells into blood vessels"),
        _P("mu_L", 0.2, "1/day", "intravasation of mesenchymal cells into lymph vessels"),
        _P(
            "lymph_collapse",
            0.5,
            "1",
            "tumour-cell fraction e + m at which lymph vessels are compressed shut",
        ),
        *CIRCULATION_PARAMETERS,
        _P(
            "first_pass",
            0.0,
            "1",
            "fraction of cells entering blood arrested in the first capillary bed",
            "fraction",
        ),
    )
}


class Invasion(Model):
    """Primary tumour with EMT phenotypes invading matrix and entering blood and lymph.

    Fields (fractions; cells are fractions of ``K_cell``): ``epithelial`` e,
    ``mesenchymal`` m, ``ecm`` f (1 = normal matrix), ``mmp`` p, ``oxygen`` o (1 = well
    vascularised tissue, 40 mmHg: ``continuum.units.PO2_AT_VASCULAR_LEVEL_MMHG``). Static
    maps: ``blood_vessels`` v_B, ``lymph_vessels`` v_L. In fractions per day::

        ∂e/∂t = ∇·(D_e ∇e) + ρ_e P(o) e (1 − e − m) − k_EMT H(o) e + k_MET m
                − δ_N(o) e − μ_Be v_B e
        ∂m/∂t = ∇·(D_m ∇m − χ m ∇f) + ρ_m P(o) m (1 − e − m) + k_EMT H(o) e − k_MET m
                − δ_N(o) m − (μ_B v_B + μ_L F v_L) m
        ∂f/∂t = −η p f + r_f f (1 − f − e − m)
        ∂p/∂t = D_p ∇²p + α_m m + α_e e − λ_p p
        ∂o/∂t = D_o ∇²o + S(v_B) (1 − o) − κ (e + m) o

    with the supply ``S(v) = sigma v / (1 + sigma r_cap^2 G(v) / (2 D_o))``: the vessels'
    own exchange ``sigma v`` in series with the diffusion through the tissue a sub-cell
    capillary of radius ``r_cap`` feeds (a Krogh cylinder of vessel fraction ``v``,
    ``G(v) = (1-v)/4 + ln(1/v)/(2(1-v)) - 1/2``; Krogh, J Physiol 1919), so that the
    supply no longer depends on how the grid spreads a capillary over a cell
    (``continuum.kernels.invasion.oxygen_exchange``). ``P(o) = o/(o+K_P)``,
    ``H(o) = 1 + h_max/(1+(o/o_H)^n)`` and ``delta_N(o) = delta_max/(1+(o/o_N)^n)``.
    Intravasation feeds the circulation (cells/day):
    ``J_B = K_cell ∫ v_B (μ_B m + μ_Be e) dV``, ``J_L = K_cell ∫ μ_L F v_L m dV``, where
    ``F = max(0, 1 − (e + m)/lymph_collapse)`` is the fraction of lymph vessels still
    open: intratumoural lymphatics are compressed shut by the tumour's solid stress and do
    not drain, so lymphatic entry happens at the margin (Padera et al., Science 2002);
    lymph L and blood B [cells] follow ::

        dL/dt = J_L − (k_LN + k_LB) L
        dB/dt = (1 − f) J_B + k_LB L − (k_clear + k_NK + k_ext) B

    ``k_NK`` = ``k_nk`` is the killing of CTCs by natural-killer cells (NK cells kill
    CTCs, platelets that coat them shield them: Nieswandt et al., Cancer Res
    1999;59:1295-1300; Palumbo et al., Blood 2005;105:178-185). It is 0 by default: the
    measured CTC half-life that sets ``k_clear`` (Meng et al. 2004) already lumps every
    cause of loss, so who splits ``k_clear`` into clearance and NK killing lowers
    ``k_clear`` by the ``k_nk`` given. A systemic therapy (a treatment schedule's rates
    ``r`` on tissue cells and ``r_c`` on circulating cells [1/day]) adds the losses
    ``- r e``, ``- r m``, ``- r_c L`` and ``- r_c B``, booked in ``removed``.

    Scalars ``blood_ctc`` (B), ``lymph_ctc`` (L) and the cumulative ``born``, ``died``
    (necrosis and crowding), ``cleared`` (died in blood), ``killed_immune`` (killed in
    blood by NK cells), ``extravasated`` (left blood for the organs), ``node_arrested``
    (lymph into the regional node) and ``first_pass`` (a fraction ``first_pass`` of the
    cells entering blood, arrested in the first capillary bed), with the exact budget
    ``tumor_cells + blood_ctc + lymph_ctc + cleared + killed_immune + extravasated +
    node_arrested + first_pass + died + removed - born = initial tumor_cells`` (plus any
    initial CTCs): the cells that leave the fields in a step are the cells that enter the
    compartments, in the same stage of the same method. Series per frame also include
    ``tumor_cells``, ``epithelial_cells``, ``mesenchymal_cells``, ``flux_blood`` and
    ``flux_lymph``.

    Every parameter (``Invasion.PARAMETERS``; sources in ``data/parameters.csv`` and
    ``data/SOURCES.md``) may be set to zero to switch its term off: with ``e = 0``,
    no oxygen coupling (``K_P = 0``, ``o = 1``), no EMT/MET, no necrosis and no vessels the
    model is Anderson-Chaplain (``D_m = d_n``, ``chi = gamma``, ``eta``, ``D_p = d_m``,
    ``alpha_m = alpha``, ``lambda_p = beta``); with one phenotype, ``K_P = 0`` and
    ``o = 1`` it is Fisher-KPP. Oxygen's uptake and supply are stiff (relaxation in
    minutes): use ``method="imex"``, which treats them and the diffusion implicitly.

    Sources of the defaults (one row per parameter in ``data/parameters.csv``): carrying
    capacity ``continuum.units.CELLS_PER_MM3`` = 1e5 cells/mm^3, i.e. 1e8 cells/cm^3 in solid
    tumours (Del Monte, Cell Cycle 2009); motilities, haptotaxis ratio
    ``chi/D_m = 5``, matrix degradation ``eta = 10`` and enzyme diffusivity after Anderson
    et al. (J Theor Med 2000); proliferation of the order of mouse tumour-growth fits
    (Benzekry et al., PLoS Comput Biol 2014); oxygen diffusivity 1e-5 cm^2/s and uptake
    giving a 150 µm diffusion length (Thomlinson & Gray, Br J Cancer 1955); intravasation
    of the order of the shedding of 3.2e6 cells/g/day (Butler & Gullino, Cancer Res 1975);
    CTC clearance 10 /day from half-lives of 1-2.4 h (Meng et al., Clin Cancer Res 2004).
    EMT/MET rates, hypoxic thresholds, necrosis, enzyme kinetics, extravasation and
    lymphatic rates are modelling assumptions, marked as such in the table. The EMT/MET
    exchange alone relaxes to the mesenchymal fraction
    ``m/(e + m) = k_EMT H(o) / (k_EMT H(o) + k_MET)``, about 10 % in normoxia and at most
    ``(1 + h_max) k_EMT / ((1 + h_max) k_EMT + k_MET)`` = 25 % in anoxia at the defaults
    (``k_emt = 0.01``, ``k_met = 0.09 /day``, ``h_max = 2``; relaxation time
    ``1/(k_EMT H + k_MET)`` about ten days): carcinomas stay mostly epithelial, with a
    minority of cells in hybrid or mesenchymal states (Pastushenko et al., Nature 2018).

    Parameters
    ----------
    blood_vessels, lymph_vessels : vessel density maps in [0, 1]: an array of the grid's
        shape (see ``continuum.vessels``), a number (uniform density), or ``None`` for
        random capillaries of volume fraction 3 % (blood, seed 1) and 1 % (lymph, seed 2).
    bc : boundary conditions; the cell fields must be no-flux or periodic (a Dirichlet
        boundary would let cells leave the budget).
    **parameters : any of the parameters below (``Invasion.PARAMETERS``; units mm, day,
        cells).
    """

    kernels = KernelSet(
        row=invasion_kernels.invasion_row,
        scalars=invasion_kernels.invasion_scalar_rate,
        stiff=invasion_kernels.invasion_stiff_rate,
        relax=invasion_kernels.invasion_scalar_relax,
    )
    field_names = ("epithelial", "mesenchymal", "ecm", "mmp", "oxygen")
    cell_fields = ("epithelial", "mesenchymal")
    capacity_fields = cell_fields
    field_scales: ClassVar[dict[str, str]] = {
        "epithelial": CAPACITY_SCALE,
        "mesenchymal": CAPACITY_SCALE,
        "ecm": "fraction of the normal matrix density",
        "mmp": "enzyme (MMP) concentration, relative units",
        "oxygen": "fraction of the level in well-vascularised tissue, "
        f"{PO2_AT_VASCULAR_LEVEL_MMHG:g} mmHg",
    }
    nonnegative_fields = field_names
    scalar_names = CIRCULATION_SCALARS
    export_names = ("flux_blood", "flux_lymph", "births", "deaths", "treated")
    therapy_slots = (invasion_kernels.THERAPY_CELLS, invasion_kernels.THERAPY_CIRCULATING)
    map_names = ("blood_vessels", "lymph_vessels")
    stiff_fields = ("mmp", "oxygen")
    series_units: ClassVar[dict[str, str]] = {
        "tumor_cells": "cells",
        "epithelial_cells": "cells",
        "mesenchymal_cells": "cells",
        "flux_blood": "cells/day",
        "flux_lymph": "cells/day",
    }
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = tuple(
        PARAMETERS[name] for name in invasion_kernels.PARAMETER_ORDER
    )

    def __init__(self, blood_vessels=None, lymph_vessels=None, bc=None, **parameters):
        super().__init__(bc=bc, **parameters)
        self.vessel_maps = {
            "blood_vessels": _vessel_value("blood_vessels", blood_vessels),
            "lymph_vessels": _vessel_value("lymph_vessels", lymph_vessels),
        }

    def transport(self) -> Transport:
        p = self.parameters
        return Transport(
            np.array([p["D_e"], p["D_m"], 0.0, p["D_p"], p["D_o"]]),
            np.full(5, -1, dtype=np.int64),
            np.array([[invasion_kernels.MESENCHYMAL, invasion_kernels.ECM, p["chi"]]]),
        )

    def static_maps(self, grid: Grid) -> np.ndarray:
        cached = getattr(self, "_maps_cache", None)
        if cached is not None and cached[0] is grid:
            return cached[1]
        maps = np.empty((2, *grid.shape3))
        defaults = (DEFAULT_BLOOD_VESSELS, DEFAULT_LYMPH_VESSELS)
        for i, (name, value) in enumerate(self.vessel_maps.items()):
            if value is None:
                fraction, seed = defaults[i]
                array = vessels.random_capillaries(grid, fraction, seed=seed)
            elif np.ndim(value) == 0:
                array = np.full(grid.shape, float(value))
            else:
                array = vessels.from_array(grid, value, name)
            maps[i] = array.reshape(grid.shape3)
        self._maps_cache = (grid, maps)
        return maps

    def solver_maps(self, grid: Grid) -> np.ndarray:
        """The vessel maps, then the oxygen supply ``S(v_B)`` [1/day] of each cell
        (``continuum.kernels.invasion.oxygen_exchange``): its logarithm is taken once per
        run instead of three times per cell and step."""
        static = self.static_maps(grid)
        maps = np.empty((static.shape[0] + 1, *static.shape[1:]))
        maps[:-1] = static
        invasion_kernels.oxygen_supply(
            static[invasion_kernels.BLOOD_MAP], self.param_vector(), maps[-1]
        )
        return maps

    def boundary_arrays(self, grid: Grid):
        kind, value = super().boundary_arrays(grid)
        for f in (invasion_kernels.EPITHELIAL, invasion_kernels.MESENCHYMAL):
            if np.any(kind[f] == DIRICHLET):
                raise ValueError(
                    f"bc: field {self.field_names[f]!r} has a Dirichlet boundary; tumour-cell "
                    "fields must be no-flux or periodic so that every cell stays in the budget"
                )
        return kind, value

    def param_vector(self) -> np.ndarray:
        """The parameters in kernel order, then the two therapy rates (0: untreated)."""
        return np.array([*(self.parameters[n] for n in invasion_kernels.PARAMETER_ORDER), 0.0, 0.0])

    def default_fields(self, grid: Grid):
        """A disk (ball, interval) of epithelial cells at the centre, normal tissue around.

        ``e = 0.9 (1 - tanh((r - R)/w)) / 2`` with ``R`` = 0.5 mm or 15 % of the smallest
        extent, ``w`` = two cells; ``ecm = 1 - e``, ``mmp = 0``, ``oxygen = 1``.
        """
        coords = np.meshgrid(*grid.coords, indexing="ij")
        centre = [o + e / 2 for o, e in zip(grid.origin, grid.extent, strict=True)]
        r = np.sqrt(sum((c - c0) ** 2 for c, c0 in zip(coords, centre, strict=True)))
        radius = min(0.5, 0.15 * min(grid.extent))
        width = 2.0 * max(grid.spacing)
        e0 = 0.45 * (1.0 - np.tanh((r - radius) / width))
        return {"epithelial": e0, "ecm": 1.0 - e0, "oxygen": 1.0}

    def derived_series(self, state) -> dict[str, float]:
        """Cell counts and the instantaneous fluxes into blood and lymph [cells/day]."""
        grid = state.grid
        p = self.parameters
        scale = p["K_cell"] * grid.cell_volume
        e, m = state["epithelial"], state["mesenchymal"]
        maps = self.static_maps(grid).reshape((2, *grid.shape))
        collapse = p["lymph_collapse"]
        open_lymph = np.maximum(0.0, 1.0 - (e + m) / collapse) if collapse > 0 else 0.0
        epithelial = scale * float(np.sum(e))
        mesenchymal = scale * float(np.sum(m))
        return {
            "tumor_cells": epithelial + mesenchymal,
            "epithelial_cells": epithelial,
            "mesenchymal_cells": mesenchymal,
            "flux_blood": scale * float(np.sum(maps[0] * (p["mu_B"] * m + p["mu_Be"] * e))),
            "flux_lymph": scale * float(np.sum(p["mu_L"] * open_lymph * maps[1] * m)),
        }

    # -- NumPy reference (for tests) ------------------------------------------------------
    def _reference_terms(self, state, therapy):
        """The pointwise terms of the equations above (arrays of the grid's shape)."""
        from continuum.reference import oxygen_supply

        p = self.parameters
        grid = state.grid
        e, m, o = state.data[0], state.data[1], state.data[4]
        v_b, v_l = self.static_maps(grid).reshape((2, *grid.shape))
        o_plus = np.maximum(o, 0.0)
        level = o_plus + p["K_P"]
        proliferation = np.zeros_like(o)
        np.divide(o_plus, level, out=proliferation, where=level > 0)
        hypoxia = 1.0 + p["h_max"] / (1.0 + (o_plus / p["o_H"]) ** p["hill"])
        necrosis = p["delta_max"] / (1.0 + (o_plus / p["o_N"]) ** p["hill"])
        collapse = p["lymph_collapse"]
        open_lymph = np.maximum(0.0, 1.0 - (e + m) / collapse) if collapse > 0 else 0.0 * e
        room = 1.0 - e - m
        return {
            "growth_e": p["rho_e"] * proliferation * e * room,
            "growth_m": p["rho_m"] * proliferation * m * room,
            "emt": p["k_emt"] * hypoxia * e,
            "met": p["k_met"] * m,
            "necrosis": necrosis,
            "therapy": float(therapy[0]),
            "blood_e": p["mu_Be"] * v_b * e,
            "blood_m": p["mu_B"] * v_b * m,
            "lymph": p["mu_L"] * open_lymph * v_l * m,
            "supply": oxygen_supply(v_b, p["sigma"], p["r_cap"], p["D_o"]),
        }

    def reference_rate(self, state, t=0.0, therapy=(0.0, 0.0)):
        """NumPy right-hand side of the five equations above, shape ``(5, *grid.shape)``.

        ``therapy = (r, r_c)``: a systemic therapy's death rates [1/day] on tissue cells
        (the extra loss ``- r e`` and ``- r m``) and on circulating cells (see
        :meth:`reference_scalar_rate`). Diffusion by finite volumes (faces to masked
        cells closed, ``continuum.reference.diffusion``), haptotaxis
        ``-div(chi m grad f)`` by limited upwinding (``continuum.reference.taxis``);
        zero outside the mask. Units: fractions per day.
        """
        from continuum.reference import diffusion, taxis, tissue

        p = self.parameters
        grid = state.grid
        inside = tissue(grid)
        kind, value = self.boundary_arrays(grid)
        e, m, f, mmp, o = state.data[:5]
        q = self._reference_terms(state, therapy)
        loss = q["necrosis"] + q["therapy"]
        rate = np.zeros_like(state.data)
        rate[0] = diffusion(e, grid, kind[0], value[0], p["D_e"] * inside)
        rate[0] += q["growth_e"] - q["emt"] + q["met"] - loss * e - q["blood_e"]
        rate[1] = diffusion(m, grid, kind[1], value[1], p["D_m"] * inside)
        rate[1] += taxis(m, f, p["chi"], grid, kind[1], grid.mask)
        rate[1] += q["growth_m"] + q["emt"] - q["met"] - loss * m - q["blood_m"] - q["lymph"]
        rate[2] = -p["eta"] * mmp * f + p["r_f"] * f * (1.0 - f - e - m)
        rate[3] = diffusion(mmp, grid, kind[3], value[3], p["D_p"] * inside)
        rate[3] += p["alpha_m"] * m + p["alpha_e"] * e - p["lambda_p"] * mmp
        rate[4] = diffusion(o, grid, kind[4], value[4], p["D_o"] * inside)
        rate[4] += q["supply"] * (1.0 - o) - p["kappa"] * (e + m) * o
        return rate * inside

    def reference_exports(self, state, t=0.0, therapy=(0.0, 0.0)):
        """NumPy exports integrated over the tissue [fractions x mm^3/day], in the order of
        ``export_names``: into blood ``int v_B (mu_B m + mu_Be e) dV``, into lymph
        ``int mu_L F v_L m dV``, births (the positive part of the logistic growth
        ``(rho_e e + rho_m m) P(o) (1 - e - m)``), deaths (its negative part plus the
        necrosis ``delta_N(o) (e + m)``) and the cells a therapy of rate ``r`` kills,
        ``int r (e + m) dV``. Times ``K_cell`` they are cells/day."""
        from continuum.reference import tissue

        grid = state.grid
        e, m = state.data[0], state.data[1]
        q = self._reference_terms(state, therapy)
        growth = q["growth_e"] + q["growth_m"]
        densities = (
            q["blood_e"] + q["blood_m"],
            q["lymph"],
            np.maximum(growth, 0.0),
            np.maximum(-growth, 0.0) + q["necrosis"] * (e + m),
            q["therapy"] * (e + m),
        )
        inside = tissue(grid)
        return np.array([float(np.sum(x * inside)) * grid.cell_volume for x in densities])

    def reference_scalar_rate(self, state, t=0.0, therapy=(0.0, 0.0)):
        """NumPy rates of the scalars (``scalar_names`` order) [cells/day] from the
        circulation equations above with ``J_B``, ``J_L`` ``K_cell`` times the exports of
        :meth:`reference_exports`, a fraction ``first_pass`` of ``J_B`` arrested on the
        first pass, and the therapy rate ``r_c`` on circulating cells:
        ``dL/dt = J_L - (k_LN + k_LB + r_c) L``,
        ``dB/dt = (1 - first_pass) J_B + k_LB L - (k_clear + k_nk + k_ext + r_c) B``;
        ``born`` and ``died`` grow by the births and deaths, ``cleared`` by ``k_clear B``,
        ``killed_immune`` by ``k_nk B``,
        ``extravasated`` by ``k_ext B``, ``node_arrested`` by ``k_LN L``, ``first_pass``
        by ``first_pass J_B`` and ``removed`` by the cells the therapy kills in the tissue
        plus ``r_c (B + L)``."""
        p = self.parameters
        into_blood, into_lymph, births, deaths, treated = p["K_cell"] * self.reference_exports(
            state, t, therapy
        )
        blood, lymph = float(state.scalar("blood_ctc")), float(state.scalar("lymph_ctc"))
        r_c = float(therapy[1])
        arrested = p["first_pass"] * into_blood
        rates = {
            "blood_ctc": into_blood
            - arrested
            + p["k_LB"] * lymph
            - (p["k_clear"] + p["k_nk"] + p["k_ext"] + r_c) * blood,
            "lymph_ctc": into_lymph - (p["k_LN"] + p["k_LB"] + r_c) * lymph,
            "born": births,
            "died": deaths,
            "cleared": p["k_clear"] * blood,
            "extravasated": p["k_ext"] * blood,
            "node_arrested": p["k_LN"] * lymph,
            "first_pass": arrested,
            "removed": treated + r_c * (blood + lymph),
            "killed_immune": p["k_nk"] * blood,
        }
        return np.array([rates[name] for name in self.scalar_names])

    def to_spec(self, grid: Grid) -> dict:
        spec = super().to_spec(grid)
        spec["vessels"] = {
            name: ("array" if np.ndim(v) > 0 else v) for name, v in self.vessel_maps.items()
        }
        return spec

    @classmethod
    def _from_spec(cls, spec: dict, maps: dict) -> Model:
        given = {}
        for name, value in spec.get("vessels", {}).items():
            given[name] = maps[name] if value == "array" else value
        return cls(bc=spec.get("bc"), **given, **spec["parameters"])


def _vessel_value(name, value):
    if value is None:
        return None
    array = check_finite_array(name, value)
    if array.min(initial=0.0) < 0 or array.max(initial=0.0) > 1:
        raise ValueError(
            f"{name}: vessel densities must lie in [0, 1]; got values in "
            f"[{array.min():g}, {array.max():g}]"
        )
    return float(array) if array.ndim == 0 else array.copy()
