"""Circulation and secondary sites of a :class:`~continuum.models.cascade.Cascade`."""

from __future__ import annotations

import copy
import math

import numpy as np

from continuum.grid import Grid
from continuum.kernels import colonies
from continuum.kernels.lumped import growth_rate
from continuum.models.base import Parameter, checked_parameters
from continuum.models.invasion import CIRCULATION_PARAMETERS, Invasion
from continuum.models.lumped import GROWTH_LAWS, LumpedPrimary
from continuum.models.parameter_docs import document_parameters
from continuum.organs import ORGAN_MASS, blood_flow_fraction, organ_capacity
from continuum.units import sphere_cells
from continuum.validation import check_choice, check_fraction, check_nonnegative, check_positive

# A colony is detectable from 5 mm in diameter (the size from which CT finds lung and liver
# metastases reliably; Coumans et al. BMC Cancer 2013 take the same detection limit).
DETECTION_CELLS = sphere_cells(5.0)
# Colonies shed into the blood once vascularised: avascular tumours stall at 1-2 mm
# (Folkman, N Engl J Med 1971), so from 1 mm in diameter.
VASCULAR_CELLS = sphere_cells(1.0)
# Colonies of human breast cancer: logistic growth doubling every 1.7 months (Coumans,
# Siesling & Terstappen, BMC Cancer 2013) up to 1 kg of tumour (1e11 cells).
DEFAULT_GROWTH = {"law": "logistic", "a": math.log(2.0) / (1.7 * 30.44), "K": 1e11}


CLUSTER_PARAMETERS = (
    Parameter("fraction", 0.0, "1", "fraction of blood-borne cells in clusters", "fraction"),
    Parameter("clearance", 35.0, "1/day", "clearance of clusters from blood"),
    Parameter("seeding", 1.0, "1", "seeding of a clustered cell relative to a single one"),
    # Assumption: cells inside a cluster, coated by platelets, escape contact with NK cells
    # (clusters: Aceto et al., Cell 2014; the platelet shield: Palumbo et al., Blood 2005).
    Parameter(
        "nk_shielding",
        0.5,
        "1",
        "fraction of the NK killing (k_nk) that clustered cells escape",
        "fraction",
    ),
)
# CTC clusters after Aceto et al. (Cell 2014;158:1110-1122): a few percent of CTC events
# (3 %), cleared about 3.5x faster than single cells (half-lives of 6-10 against 25-30 min
# in mice: 35 /day beside k_clear = 10 /day), 23-50x more metastatic (35x).
ACETO_CLUSTERS = {"fraction": 0.03, "clearance": 35.0, "seeding": 35.0}


class Circulation:
    """Blood and lymph between the primary tumour and the sites (MODEL.md, Stage 2)::

        dL/dt = J_L − (k_LN + k_LB) L
        dB/dt = (1 − f) σ J_B + k_LB L − (k_clear + k_NK + k_ext) B,   σ = e^(−(k_clear + k_NK) τ)

    Cells leaving blood (``k_ext B``) are shared among **all** organs of
    ``continuum.organs`` by blood-flow fraction times seed-soil affinity, ``A_k = k_ext B
    q_k a_k / sum_j q_j a_j``; the share of organs without a site is booked as
    ``unsited``. Cells arrested in the regional node (``k_LN L``) go to the ``lymph_node``
    site; with ``first_pass = (site, f)`` a fraction ``f`` of the cells entering blood
    from the tumour arrests in the first capillary bed they meet (the lungs for systemic
    venous drainage, the liver for portal drainage). On their way there, ``transit_time``
    [day] of venous blood, cells die at the blood's rates: a fraction ``exp(-(k_clear +
    k_nk) transit_time)`` reaches the bed (clusters: ``exp(-(clearance + (1 -
    nk_shielding) k_nk) transit_time)``), the rest is ``cleared`` and ``killed_immune``
    (``cluster_cleared`` and ``cluster_killed_immune``) in the ratio of the rates (a
    lumped primary only; seconds against a CTC half-life of hours). The
    arrested cells then face their site's ``survival`` like every arrival, so the first
    pass decides where cells arrest, not whether they survive. Cells with no modelled site
    to go to (node arrests without a lymph-node site) are counted as unsited.

    The rates default to the table every primary shares (``CIRCULATION_PARAMETERS``).

    Parameters
    ----------
    k_clear : death and clearance of CTCs in blood [1/day] (half-life of 1-2.4 h:
        6.9-16.6 /day, Meng et al. 2004).
    k_ext : extravasation from blood [1/day].
    k_LN : arrest of lymph-borne cells in the regional node [1/day].
    k_LB : drainage of lymph into blood [1/day].
    k_nk : killing of CTCs in blood by natural-killer cells [1/day], booked in
        ``killed_immune``; default 0, because the half-life behind ``k_clear`` already
        lumps every cause of loss: who splits ``k_clear`` lowers it by the ``k_nk`` given
        (NK cells kill CTCs, platelets shield them: Nieswandt et al., Cancer Res
        1999;59:1295-1300; Palumbo et al., Blood 2005;105:178-185).
    first_pass : ``None``, or ``(site name, fraction)`` / ``{"site": ..., "fraction": ...}``.
    lymph_node : name of the site receiving node arrests; default: the site whose organ is
        ``"lymph_node"``, if any.
    transit_time : venous transit from the primary to the first capillary bed [day]
        (default 0).
    clusters : dict, optional
        ``{"fraction": ..., "clearance": ..., "seeding": ..., "nk_shielding": ...}``: the
        fraction of the cells entering blood that travel in clusters, their
        clearance [1/day], how many times better a clustered cell seeds (default: no
        clusters; ``Circulation.ACETO_CLUSTERS`` holds values after Aceto et al., Cell
        2014) and the fraction ``s`` of the NK killing they escape (default 0.5, an
        assumption: cells inside a cluster, coated by platelets, escape contact with NK
        cells; Aceto et al. 2014, Palumbo et al. 2005). Clusters have their own
        compartment, ``dC/dt = (1 - f) J_C - (clearance + (1 - s) k_nk + k_ext) C``
        (series ``cluster_ctc``, ``cluster_cleared``, ``cluster_extravasated``,
        ``cluster_first_pass``, ``cluster_removed``, ``cluster_killed_immune``),
        extravasate at ``k_ext`` and meet the first pass like single cells (a lumped
        primary only).
    """

    RATES = tuple(p.name for p in CIRCULATION_PARAMETERS)
    ACETO_CLUSTERS = ACETO_CLUSTERS

    def __init__(self, first_pass=None, lymph_node=None, clusters=None, transit_time=0.0, **rates):
        self.rates = checked_parameters(
            "Circulation",
            CIRCULATION_PARAMETERS,
            rates,
            "first_pass, lymph_node, clusters, transit_time",
        )
        self.clusters = checked_parameters(
            "clusters", CLUSTER_PARAMETERS, {} if clusters is None else clusters
        )
        self.transit_time = check_nonnegative("transit_time", transit_time, "day")
        if isinstance(first_pass, dict):
            unknown = set(first_pass) - {"site", "fraction"}
            if unknown or "site" not in first_pass:
                raise ValueError(
                    f"first_pass: got {first_pass!r}; give {{'site': name, 'fraction': f}}"
                )
            first_pass = (first_pass["site"], first_pass.get("fraction", 1.0))
        if first_pass is not None:
            if not (isinstance(first_pass, tuple | list) and len(first_pass) == 2):
                raise ValueError(
                    f"first_pass: got {first_pass!r}; give (site name, fraction) or None"
                )
            if not isinstance(first_pass[0], str):
                raise ValueError(
                    f"first_pass: got site {first_pass[0]!r}; the name of a site is required"
                )
            first_pass = (first_pass[0], check_fraction("first_pass", first_pass[1]))
        if lymph_node is not None and not isinstance(lymph_node, str):
            raise ValueError(f"lymph_node: got {lymph_node!r}; the name of a site is required")
        self.first_pass = first_pass
        self.lymph_node = lymph_node

    def to_spec(self) -> dict:
        return {
            **self.rates,
            "first_pass": self.first_pass,
            "lymph_node": self.lymph_node,
            "clusters": dict(self.clusters),
            "transit_time": self.transit_time,
        }

    @classmethod
    def from_spec(cls, spec: dict) -> Circulation:
        return cls(**spec)

    def __repr__(self):
        return f"Circulation({self.to_spec()})"


IMMUNITY_PARAMETERS = (
    Parameter("effectors", 3.155e5, "cells", "effector cells at the start"),
    Parameter("source", 1.3e4, "cells/day", "constant influx of effector cells (sigma)"),
    Parameter("recruitment", 0.1245, "1/day", "maximal recruitment by the burden (rho)"),
    Parameter("recruitment_half", 2.019e7, "cells", "burden of half-maximal recruitment (eta)"),
    Parameter("exhaustion", 3.422e-10, "1/(cell day)", "inactivation by the burden (mu)"),
    Parameter("death", 0.0412, "1/day", "death of effector cells (delta_E)"),
    Parameter("kill", 1.101e-7, "1/(cell day)", "killing of colony cells per effector (n)"),
    Parameter(
        "shielding",
        0.0,
        "cells",
        "colony size beyond which effectors reach only the surface (0: every cell)",
    ),
)
# The growth-law parameters a site's kernel reads (``colonies.SITE_PARAMETERS``).
GROWTH_KEYS = ("a", "K", "gamma", "b", "a1", "stimulation", "inhibition")
# Kuznetsov, Makalkin, Taylor & Perelson (Bull Math Biol 1994;56:295-321), fitted to BCL1
# lymphoma in the spleen of chimeric mice: s = 1.3e4 cells/day, p = 0.1245 /day, g =
# 2.019e7 cells, m = 3.422e-10, d = 0.0412 /day, n = 1.101e-7 /(cell day), tumour growth a
# = 0.18 /day, b = 2e-9 /cell (logistic limit 5e8 cells); effectors start at the
# tumour-free level s/d. Mouse values: a documented parameter set, not a human default.
KUZNETSOV_1994 = {p.name: p.default for p in IMMUNITY_PARAMETERS}
KUZNETSOV_1994_GROWTH = {"law": "logistic", "a": 0.18, "K": 5e8}
# Published parameter sets a site's ``immunity`` may name.
IMMUNITY_SETS = {"kuznetsov_1994": KUZNETSOV_1994}

SITE_PARAMETERS = (
    Parameter("survival", 0.38, "1", "fraction of arriving cells that seed", "fraction"),
    Parameter(
        "establishment",
        0.01,
        "1",
        "probability that a founder cell establishes a colony (1 - d0/b0)",
        "fraction",
    ),
    Parameter("dormancy", 0.95, "1", "fraction of seeds that enter dormancy", "fraction"),
    Parameter("wake", 3e-4, "1/day", "wake-up rate of dormant cells"),
    Parameter("dormant_death", 3e-4, "1/day", "death rate of dormant cells"),
    Parameter("clearance", 0.0, "1/day", "death rate of colony cells (per cell)"),
    Parameter("detection", DETECTION_CELLS, "cells", "size of a detectable colony", "positive"),
)


@document_parameters
class SecondarySite:
    """A distant organ (or the regional lymph node) where arriving cells may seed::

        dZ/dt = π ε A − (w + d) Z,   S = (1 − π) ε A + w Z
        ∂ρ/∂t + ∂/∂s ((φ G(s) − δ s) ρ) = 0,   G(1) ρ(1, t) = p S(t) + ∫ β(s) ρ ds,
        β(s) = m s^α

    Arrivals ``A`` [cells/day] seed with probability ``survival`` (metastatic
    inefficiency); a fraction ``dormancy`` of seeds lies dormant (pool ``Z``, wake-up
    ``wake``, death ``dormant_death``); active seeds are founders, each establishing a
    colony with probability ``establishment`` (``p``; survival of a birth-death process
    started by one cell, ``1 - d0/b0``: Haeno et al., Cell 2012). Colonies grow by the
    site's growth law ``G`` (any law of :class:`LumpedPrimary`), slowed by ``phi = 1 -
    M/capacity`` as the burden ``M`` fills the organ; their cells die at ``delta`` =
    ``clearance`` (+ a therapy's rate), so colonies shrink and are lost below one cell;
    colonies seed new ones at ``beta(s)``. Colonies above ``detection`` cells are
    detectable.

    Defaults (human breast cancer where a source exists; ``data/parameters.csv``):
    ``survival = 0.38`` and ``dormancy = 0.95`` from Luzzi et al. (Am J Pathol 1998;
    mouse: of arrested cells 36 % persist dormant, 2 % form micrometastases);
    ``establishment = 0.01`` from the same experiment (1 % of micrometastases became
    macroscopic); dormant cells die and wake at 3e-4 /day each, so half of them die and
    half wake, after 4.6 years on average and for decades in the tail (distant relapses
    continue 5-20 years after diagnosis at 1-3 % a year: Pan et al., NEJM 2017; the rates
    are an assumption within that range). Colonies grow
    logistically with the doubling time of human breast cancer, 1.7 months (Coumans,
    Siesling & Terstappen, BMC Cancer 2013), to at most 1e11 cells (1 kg at
    ``continuum.units.CELLS_PER_MM3``); ``capacity`` defaults to the organ's mass times the
    cell density (``continuum.organs``). ``detection``: a colony of 5 mm diameter.

    Parameters
    ----------
    name : unique name of the site; series are ``sites/<name>/...``.
    organ : organ for the blood-flow fraction and the capacity (default: ``name``; see
        ``continuum.organs``).
    flow : blood-flow fraction ``q`` overriding the organ table.
    affinity : seed-soil affinity ``a`` (>= 0).
    capacity : the organ's capacity [cells] (default: from the organ table, unlimited
        for an organ not in it; ``math.inf`` for none, as in Iwata's model).
    growth : a law name or ``{"law": ..., "a": ..., "K": ..., ...}`` (units of
        :class:`LumpedPrimary`). With ``"hahnfeldt"`` every colony grows within its own
        vascular capacity (``a`` = lambda, ``K`` = the capacity of a new colony [cells],
        ``stimulation``, ``inhibition``: Hahnfeldt et al., Cancer Res 1999), and
        ``systemic`` in [0, 1] is the share of the rest of the body's tumour burden
        (primary and all colonies) whose inhibitors act on each colony (Benzekry,
        Gandolfi & Hahnfeldt, PLoS ONE 2014; 0: local inhibition only). Series
        ``vascular_capacity`` [cells] sums the colonies' capacities.
    seeding : ``None`` (colonies do not seed), ``(m, alpha)`` or ``{"m": ..., "alpha": ...}``.
    shedding : None, tuple or dict
        ``None`` (colonies do not shed), ``(mu, alpha)`` or ``{"mu": ..., "alpha": ...}``:
        each colony of ``s`` cells sheds ``mu s^alpha`` cells/day into the venous
        blood once it is vascularised (from 1 mm in diameter, ``VASCULAR_CELLS``), which
        carries them through the first capillary bed and the circulation like the
        primary's (metastases seeding metastases; a lumped primary only). The rate is held
        over each stretch (up to a cohort boundary). Shed cells are copies (colonies are
        not depleted; the cells count as born).
    grid : a :class:`~continuum.Grid` of the organ's tissue for a *spatial* site: the active
        seeds (founders) enter its ``epithelial`` field, distributed in proportion to the
        model's blood-vessel map, and colonies grow under ``model`` instead of a growth
        law. Series ``colonies`` and ``detectable`` then count connected tumour foci
        (cells where ``e + m >= 1e-3``), ``burden`` the cells in the tissue.
    model : Invasion, optional
        The :class:`~continuum.models.Invasion` model of a spatial site (default
        ``Invasion()``). Its intravasation does not deplete the tissue (``mu_B = mu_Be =
        mu_L = 0`` in its kernels); with ``shedding=True`` the flux it defines (``J_B +
        J_L`` of the model's fields, cells/day) is shed into the cascade's venous blood,
        as size-structured colonies shed (copies; a lumped primary only).
    immunity : ``None`` (no effector cells: ``clearance`` is the only per-cell death), a
        table of ``IMMUNITY_PARAMETERS`` or the name of a published set
        (``"kuznetsov_1994"``, ``ct.KUZNETSOV_1994``): the site's effector cells (cytotoxic
        T and NK cells) ``E`` [cells], ``dE/dt = source + recruitment E T/(recruitment_half
        + T) - exhaustion E T - death E`` with ``T`` the colonies' burden, killing each
        colony's cells at ``kill E`` per cell, reduced to the surface, ``(1 +
        s/shielding)^(-1/3)``, in colonies larger than ``shielding`` cells (Kuznetsov et
        al., Bull Math Biol 1994; ``continuum.kernels.colony_ode``). Series ``effectors``,
        ``immune_killed``. The published set is fitted to a mouse lymphoma (BCL1 in the
        spleen): it shows the three outcomes of immunoediting (elimination, dormancy held
        by effectors, escape) but is no human default, so immunity is off unless given.
    **parameters : any of the parameters below (``SecondarySite.PARAMETERS``).
    """

    PARAMETERS = SITE_PARAMETERS

    def __init__(
        self,
        name,
        organ=None,
        flow=None,
        affinity=1.0,
        capacity=None,
        growth=None,
        seeding=None,
        shedding=None,
        grid=None,
        model=None,
        immunity=None,
        **parameters,
    ):
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"name: got {name!r}; a non-empty site name without '/' is needed")
        self.name = name
        self.organ = name if organ is None else organ
        self.flow = (
            blood_flow_fraction(self.organ) if flow is None else check_nonnegative("flow", flow)
        )
        self.affinity = check_nonnegative("affinity", affinity)
        self.capacity = self._capacity(capacity)
        self.parameters = checked_parameters(
            f"SecondarySite {name!r}",
            self.PARAMETERS,
            parameters,
            "organ, flow, affinity, capacity, growth, seeding, shedding, grid, model, immunity",
        )
        self.immunity = None
        if isinstance(immunity, str):
            check_choice(f"immunity of site {name!r}", immunity, tuple(IMMUNITY_SETS))
            immunity = IMMUNITY_SETS[immunity]
        if immunity is not None:
            self.immunity = checked_parameters(
                f"immunity of site {name!r}", IMMUNITY_PARAMETERS, immunity
            )
        self.growth = self._growth(growth)
        self.seeding = self._pair("seeding", seeding, ("m", "alpha"), "cells^(-alpha)/day")
        self.intravasation = False
        self.grid, self.model = self._tissue(grid, model, growth, seeding, shedding)
        spatial = self.grid is not None
        self.shedding = self._pair(
            "shedding", None if spatial else shedding, ("mu", "alpha"), "cells^(1-alpha)/day"
        )

    def _tissue(self, grid, model, growth, seeding, shedding):
        """The grid and model of a spatial site, or ``(None, None)``."""
        if grid is None:
            if model is not None:
                raise ValueError(f"model of site {self.name!r}: a spatial site needs grid=...")
            return None, None
        if not isinstance(grid, Grid) or grid.mask is not None:
            raise ValueError(
                f"grid of site {self.name!r}: got {grid!r}; an unmasked ct.Grid is needed"
            )
        if growth is not None or seeding is not None or self.immunity is not None:
            raise ValueError(
                f"site {self.name!r}: a spatial site grows under its model; growth=, "
                "seeding= and immunity= apply to size-structured sites only"
            )
        if shedding not in (None, True, False):
            raise ValueError(
                f"shedding of site {self.name!r}: got {shedding!r}; a spatial site sheds "
                "through its model's intravasation: give True (or None/False for none)"
            )
        model = Invasion() if model is None else model
        if not isinstance(model, Invasion):
            raise ValueError(
                f"model of site {self.name!r}: got {type(model).__name__}; use ct.models.Invasion"
            )
        self.intravasation = bool(shedding)
        self.tissue_model = model
        model = copy.copy(model)
        model.parameters = {**model.parameters, "mu_B": 0.0, "mu_Be": 0.0, "mu_L": 0.0}
        model.static_maps(grid)  # vessel maps checked against the grid now
        return grid, model

    def _capacity(self, capacity) -> float:
        if capacity is None:
            return organ_capacity(self.organ) if self.organ in ORGAN_MASS else math.inf
        if capacity == math.inf:
            return math.inf
        return check_positive(f"capacity of site {self.name!r}", capacity, "cells")

    def _growth(self, growth) -> dict:
        growth = DEFAULT_GROWTH if growth is None else growth
        if isinstance(growth, str):
            growth = {"law": growth}
        if not isinstance(growth, dict) or "law" not in growth:
            raise ValueError(
                f"growth of site {self.name!r}: got {growth!r}; give a law name or a dict "
                "with 'law'"
            )
        check_choice(f"growth law of site {self.name!r}", growth["law"], tuple(GROWTH_LAWS))
        growth = dict(growth)
        systemic = growth.pop("systemic", 0.0)
        if growth["law"] != "hahnfeldt" and systemic != 0.0:
            raise ValueError(
                f"growth of site {self.name!r}: systemic = {systemic!r} applies to the "
                "'hahnfeldt' law only"
            )
        systemic = check_fraction(f"growth systemic of site {self.name!r}", systemic)
        # the primary's table checks each parameter and supplies the defaults
        law = LumpedPrimary(growth=growth)
        values = {k: law.parameters[k] for k in GROWTH_KEYS}
        if growth["law"] in ("bertalanffy", "power") and values["gamma"] > 1.0:
            raise ValueError(
                f"growth of site {self.name!r}: gamma = {values['gamma']:g}; colonies need "
                "gamma <= 1 (larger exponents blow up in finite time)"
            )
        rate = growth_rate(GROWTH_LAWS[growth["law"]], 1.0, *(values[k] for k in GROWTH_KEYS[:5]))
        if not rate > 0.0:
            raise ValueError(
                f"growth of site {self.name!r}: a colony of one cell does not grow "
                f"(G(1) = {rate:g} cells/day); check a, K, b"
            )
        if growth["law"] != "hahnfeldt":
            return {"law": growth["law"], **{k: values[k] for k in GROWTH_KEYS[:5]}}
        return {"law": growth["law"], **values, "systemic": systemic}

    def _pair(self, name, value, keys, unit) -> dict:
        """``seeding`` (m, alpha) or ``shedding`` (mu, alpha): a pair, a dict, or ``None``
        (off)."""
        if value is None:
            return dict.fromkeys(keys, 0.0)
        if isinstance(value, tuple | list) and len(value) == 2:
            value = dict(zip(keys, value, strict=True))
        if not isinstance(value, dict) or set(value) != set(keys):
            raise ValueError(
                f"{name} of site {self.name!r}: got {value!r}; give ({', '.join(keys)}) or "
                f"{{{', '.join(repr(k) + ': ...' for k in keys)}}}"
            )
        return {
            keys[0]: check_nonnegative(f"{name} {keys[0]}", value[keys[0]], unit),
            "alpha": check_nonnegative(f"{name} alpha", value["alpha"]),
        }

    def parameter_row(self) -> np.ndarray:
        """The site's row in the kernels' layout (``colonies.SITE_PARAMETERS``)."""
        g, p, s, shed = self.growth, self.parameters, self.seeding, self.shedding
        immunity = self.immunity or dict.fromkeys(KUZNETSOV_1994, 0.0)
        values = {
            **{k: g.get(k, 0.0) for k in GROWTH_KEYS},
            "systemic": g.get("systemic", 0.0),
            "law": float(GROWTH_LAWS[g["law"]]),
            "survival": p["survival"],
            "establishment": p["establishment"],
            "dormancy": p["dormancy"],
            "wake": p["wake"],
            "dormant_death": p["dormant_death"],
            "clearance": p["clearance"],
            "capacity": self.capacity,
            "seeding_m": s["m"],
            "seeding_alpha": s["alpha"],
            "shedding_mu": shed["mu"],
            "shedding_alpha": shed["alpha"],
            "shedding_from": math.log(VASCULAR_CELLS),
            "detection": p["detection"],
            "spatial": float(self.grid is not None),
            "therapy": 0.0,  # set by a treatment schedule while it acts
            "therapy_dormant": 0.0,
            "immune": float(self.immunity is not None),
            "effector_source": immunity["source"],
            "recruitment": immunity["recruitment"],
            "recruitment_half": immunity["recruitment_half"],
            "exhaustion": immunity["exhaustion"],
            "effector_death": immunity["death"],
            "kill": immunity["kill"],
            "shielding": immunity["shielding"],
            "therapy_vascular": 0.0,
            "therapy_kill": 0.0,
            "therapy_exhaustion": 0.0,
        }
        return np.array([values[k] for k in colonies.SITE_PARAMETERS])

    def to_spec(self) -> dict:
        tissue = {}
        if self.grid is not None:
            tissue = {
                "grid": self.grid.describe(),
                "model": self.tissue_model.to_spec(self.grid),
            }
        return {
            **tissue,
            "name": self.name,
            "organ": self.organ,
            "flow": self.flow,
            "affinity": self.affinity,
            "capacity": self.capacity,
            "growth": dict(self.growth),
            "seeding": dict(self.seeding),
            "shedding": self.intravasation if self.grid is not None else dict(self.shedding),
            "immunity": None if self.immunity is None else dict(self.immunity),
            **self.parameters,
        }

    @classmethod
    def from_spec(cls, spec: dict, maps: dict | None = None) -> SecondarySite:
        """Rebuild a site from :meth:`to_spec`; ``maps`` are a spatial site's static maps."""
        spec = dict(spec)
        if "grid" in spec:
            from continuum.models.base import Model

            spec["grid"] = Grid.from_description(spec["grid"])
            spec["model"] = Model.from_spec(spec["model"], maps or {})
            spec.pop("growth")
            spec.pop("seeding")
            spec.pop("immunity", None)
        return cls(**spec)

    def __repr__(self):
        return f"SecondarySite({self.name!r}, organ={self.organ!r}, growth={self.growth})"
