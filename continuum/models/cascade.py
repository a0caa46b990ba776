"""The whole metastatic cascade as one model: primary tumour, circulation, secondary sites."""

from __future__ import annotations

import copy
import math

import numpy as np

from continuum.grid import Grid
from continuum.kernels import colonies
from continuum.models.base import Axis, FrameArray, Model, TreatmentTarget
from continuum.models.invasion import CIRCULATION_SCALARS
from continuum.models.lumped import LumpedPrimary, LumpedShedding
from continuum.models.sites import Circulation, SecondarySite
from continuum.organs import BLOOD_FLOW_FRACTION
from continuum.validation import check_memory, check_positive

# The primary's cumulative budget terms, renamed in a cascade so that ``born``, ``died``
# and ``cleared`` can be the totals over the whole cascade.
PRIMARY_RENAMES = {
    "born": "primary_born",
    "died": "primary_died",
    "cleared": "blood_cleared",
    "removed": "primary_removed",
}
# Sources of arrivals at the sites: cumulative scalars of the circulation block.
ARRIVAL_SOURCES = ("extravasated", "node_arrested", "first_pass")
# The cascade's own scalars: cells shed into blood and lymph (cumulative; kept for a lumped
# primary, whose circulation the cascade advances exactly), cells that reached no modelled
# site (counted as cleared), and the time [day] up to which the sites have been advanced.
# Then the clusters' compartment (see ``Circulation``): cells in clusters in blood, and
# cumulative cleared, extravasated, arrested on the first pass, killed by therapy, killed
# by natural-killer cells.
CLUSTER_SCALARS = (
    "cluster_ctc",
    "cluster_cleared",
    "cluster_extravasated",
    "cluster_first_pass",
    "cluster_removed",
    "cluster_killed_immune",
)
CASCADE_SCALARS = ("shed_blood", "shed_lymph", "unsited", "sites_time", *CLUSTER_SCALARS)
SITE_SERIES_UNITS = {
    "arrived": "cells",
    "failed": "cells",
    "dormant": "cells",
    "woken": "cells",
    "dormant_died": "cells",
    "founded": "colonies",
    "emitted": "colonies",
    "colony_born": "cells",
    "colony_died": "cells",
    "removed": "cells",
    "extinct": "cells",
    "shed": "cells",
    "shedding": "cells/day",
    "burden": "cells",
    "emission": "colonies/day",
    "colonies": "colonies",
    "detectable": "colonies",
    "wake_flux": "cells/day",
    "effectors": "cells",
    "immune_killed": "cells",
    "vascular_capacity": "cells",
}
DEFAULT_COHORTS = 128
# Tumour-cell density (fraction of K_cell) that outlines a focus in a spatial site.
FOCUS_DENSITY = 1e-3
# Fixed size axis of the stored size distributions: 10 bins per decade, 1 to 1e13 cells.
SIZE_EDGES = np.logspace(0.0, 13.0, 131)


class Cascade(Model):
    """Primary tumour, blood and lymph, and secondary sites in one model (MODEL.md).

    The primary (a :class:`LumpedPrimary` or a spatial :class:`Invasion`) sheds into the
    circulation (:class:`Circulation`, whose rates replace the primary's); cells leaving
    the circulation reach the sites (:class:`SecondarySite`), seed, lie dormant and grow
    into colonies whose size distribution is kept in cohorts along the characteristics
    (``continuum.kernels.colonies``). ``ct.simulate`` runs it like any model.

    A spatial primary and its circulation are integrated by the chosen method; a lumped
    primary by adaptive SSP-RK(4,3), its blood and lymph in closed form between stretches.
    The sites are advanced stretch by stretch (up to each cohort boundary), from the exact
    number of cells that left the circulation in the stretch (spread evenly over it).
    Cohorts are ``cohort_days`` wide, so ``horizon / cohort_days`` cohorts per site cover
    runs up to ``horizon`` days. A site with a grid is spatial (see
    :class:`SecondarySite`). The budget ::

        tumour + B + L + Σ_k (M_k + Z_k) + cleared + died − born = initial tumour cells

    holds to round-off at every frame, with ``cleared`` = blood clearance + failed seeding
    (+ cells arrested in organs without a site), ``died`` = primary deaths + dormant and
    colony deaths + cells killed by a site's effectors (``immune_killed``) + CTCs killed
    in blood by natural-killer cells (``killed_immune``, ``cluster_killed_immune``) +
    cells of colonies that did not establish or shrank below one cell (``extinct``),
    ``born`` = primary births + colony growth and seeding + cells colonies shed into the
    blood.

    Series: the primary's, ``born``, ``died``, ``cleared``, and per site
    ``sites/<name>/colonies``, ``detectable``, ``burden`` [cells in colonies], ``dormant``,
    ``arrived``, ``failed``, ``woken``, ``wake_flux`` [cells/day], ``founded``, ``emitted``,
    ``emission`` [colonies/day], ``colony_born``, ``colony_died``, ``removed``,
    ``extinct``, ``shed`` [cells], ``shedding`` [cells/day]; with immunity ``effectors``
    and ``immune_killed`` [cells], with the ``hahnfeldt`` law ``vascular_capacity`` [cells].

    Parameters
    ----------
    primary : a primary-tumour model with the circulation block (``LumpedPrimary``,
        ``Invasion``).
    circulation : a :class:`Circulation` (default rates if ``None``).
    sites : sequence of :class:`SecondarySite` with distinct names.
    cohort_days : width of a cohort of colonies in birth time [day] (the resolution of the
        size distribution); default ``horizon / 128``. The work per site grows as the
        square of the number of cohorts.
    horizon : the longest time a run of this model may reach [day].
    """

    def __init__(self, primary, circulation=None, sites=(), *, cohort_days=None, horizon=3650.0):
        circulation, sites = self._check_parts(primary, circulation, sites)
        self.horizon = check_positive("horizon", horizon, "day")
        if cohort_days is None:
            cohort_days = self.horizon / DEFAULT_COHORTS
        self.cohort_days = check_positive("cohort_days", cohort_days, "day")
        cohorts = self.horizon / self.cohort_days * (1 - 1e-12)
        arrays = len(colonies.COHORT_ARRAYS) * len(sites) + 1  # and the cohorts' start times
        what = f"{cohorts:.4g} cohorts over {self.horizon:g} days for {len(sites)} site(s)"
        check_memory("cohort_days", what, 8.0 * arrays * cohorts)
        self.n_cohorts = math.ceil(cohorts)
        self.circulation = circulation
        self.sites = sites
        self.shares = self._shares(circulation, sites)
        self._primary = copy.copy(primary)
        fraction = 0.0 if circulation.first_pass is None else circulation.first_pass[1]
        self.primary.parameters = {
            **primary.parameters,
            **circulation.rates,
            "first_pass": fraction,
        }
        self.parameters = self.primary.parameters
        # A lumped primary runs as LumpedShedding: the cascade advances its circulation.
        self.runner = self.primary
        if isinstance(primary, LumpedPrimary):
            self.runner = LumpedShedding(growth=primary.growth, **self.primary.parameters)
            self.runner.parameters = self.primary.parameters
        self.exact_circulation = self.runner is not self.primary
        self.bc = primary.bc
        for name in (
            "kernel_name",
            "field_names",
            "export_names",
            "map_names",
            "stiff_fields",
            "field_units",
            "cell_fields",
            "nonnegative_fields",
        ):
            setattr(self, name, getattr(primary, name))
        # The primary's scalars as its runner lays them out (a lumped primary's shed_blood
        # and shed_lymph come before its vascular_capacity), then the cascade's own.
        runner_scalars = tuple(PRIMARY_RENAMES.get(n, n) for n in self.runner.scalar_names)
        self.head_scalars = (
            *runner_scalars,
            *(name for name in CASCADE_SCALARS if name not in runner_scalars),
        )
        self.site_parameters = np.array([site.parameter_row() for site in sites]).reshape(
            len(sites), len(colonies.SITE_PARAMETERS)
        )
        site_scalars = [f"sites/{s.name}/{e}" for s in sites for e in colonies.SITE_SCALARS]
        self.scalar_names = (*self.head_scalars, *site_scalars)
        self.series_units = self._series_units(primary, sites)

    @staticmethod
    def _check_parts(primary, circulation, sites) -> tuple[Circulation, list]:
        """The checked circulation (default if ``None``) and sites of a cascade around
        ``primary``; a part that does not fit raises ``ValueError``."""
        if not isinstance(primary, Model) or isinstance(primary, Cascade):
            raise ValueError(
                f"primary: got {type(primary).__name__}; a primary-tumour model such as "
                "LumpedPrimary or Invasion is required"
            )
        missing = set(CIRCULATION_SCALARS) - set(primary.scalar_names)
        if missing:
            raise ValueError(
                f"primary: {type(primary).__name__} has no circulation block (missing "
                f"{sorted(missing)}); use LumpedPrimary or Invasion"
            )
        circulation = Circulation() if circulation is None else circulation
        if not isinstance(circulation, Circulation):
            raise ValueError(f"circulation: got {type(circulation).__name__}; use ct.Circulation")
        sites = list(sites)
        for site in sites:
            if not isinstance(site, SecondarySite):
                raise ValueError(f"sites: got {type(site).__name__}; use ct.SecondarySite")
        names = [site.name for site in sites]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"sites: duplicate site name(s) {duplicates}; names must differ")
        shedding = [s.name for s in sites if s.shedding["mu"] > 0 or s.intravasation]
        if shedding and primary.field_names:
            raise ValueError(
                f"sites {shedding}: colonies shed into the blood only with a lumped primary "
                "(its circulation is solved in closed form); set their shedding to None"
            )
        if primary.field_names and circulation.clusters["fraction"] > 0:
            raise ValueError(
                "circulation clusters: CTC clusters need a lumped primary (its circulation "
                "is solved in closed form); set their fraction to 0"
            )
        if primary.field_names and circulation.transit_time > 0:
            raise ValueError(
                "circulation transit_time: deaths on the way to the first capillary bed need "
                "a lumped primary (its circulation is solved in closed form); set it to 0"
            )
        return circulation, sites

    @staticmethod
    def _series_units(primary, sites) -> dict[str, str]:
        """Units of the series a cascade records besides the scalars."""
        return {
            **primary.series_units,
            "born": "cells",
            "died": "cells",
            "cleared": "cells",
            "removed": "cells",
            "sites_time": "day",
            **dict.fromkeys(CLUSTER_SCALARS, "cells"),
            **{
                f"sites/{site.name}/{entry}": unit
                for site in sites
                for entry, unit in SITE_SERIES_UNITS.items()
            },
        }

    @property
    def primary(self) -> Model:
        """The primary tumour's model (a copy of the one given, with the circulation's
        rates)."""
        return self._primary

    def treatment_target(self) -> TreatmentTarget | None:
        """The primary's target; what treatments kill is booked in ``primary_removed``."""
        target = self.primary.treatment_target()
        if target is None:
            return None
        return TreatmentTarget(target.model, PRIMARY_RENAMES[target.removed], target.lumped_cells)

    @staticmethod
    def _shares(circulation, sites) -> np.ndarray:
        """``(n_sites, 3)``: each site's share of the cells extravasating from blood, of
        node arrests and of first-pass arrests.

        Extravasating cells are shared among **all** organs of ``continuum.organs`` by
        flow x affinity, ``q_k a_k / sum_j q_j a_j``: a site replaces its organ's entry
        (affinity 1 for organs without a site), and the share of organs without a site
        is what no site receives (booked as ``unsited``)."""
        names = [site.name for site in sites]
        shares = np.zeros((len(sites), len(ARRIVAL_SOURCES)))
        weights = np.array([site.flow * site.affinity for site in sites])
        modelled = {site.organ for site in sites}
        elsewhere = sum(q for organ, q in BLOOD_FLOW_FRACTION.items() if organ not in modelled)
        if weights.sum() + elsewhere > 0:
            shares[:, 0] = weights / (weights.sum() + elsewhere)
        node = circulation.lymph_node
        if node is None:
            node = next((s.name for s in sites if s.organ == "lymph_node"), None)
        elif node not in names:
            raise ValueError(f"lymph_node: got {node!r}; it must name one of the sites {names}")
        if node is not None:
            shares[names.index(node), 1] = 1.0
        if circulation.first_pass is not None:
            target = circulation.first_pass[0]
            if target not in names:
                raise ValueError(f"first_pass: site {target!r} is not one of the sites {names}")
            shares[names.index(target), 2] = 1.0
        return shares

    # -- layout -------------------------------------------------------------------------
    def _block_size(self, site) -> int:
        size = colonies.block_size(self.n_cohorts)
        if site.grid is not None:  # the tissue fields and their compartments
            size += len(site.model.field_names) * site.grid.size + len(site.model.scalar_names)
        return size

    def site_offset(self, index: int) -> int:
        """Offset of site ``index``'s block in the scalar vector."""
        return len(self.head_scalars) + sum(self._block_size(site) for site in self.sites[:index])

    def scalar_layout(self) -> dict[str, tuple[int, tuple]]:
        layout = {name: (i, ()) for i, name in enumerate(self.head_scalars)}
        for k, site in enumerate(self.sites):
            offset = self.site_offset(k)
            for i, entry in enumerate(colonies.SITE_SCALARS):
                layout[f"sites/{site.name}/{entry}"] = (offset + i, ())
            offset += len(colonies.SITE_SCALARS)
            for entry in colonies.COHORT_ARRAYS:
                layout[f"sites/{site.name}/{entry}"] = (offset, (self.n_cohorts,))
                offset += self.n_cohorts
            if site.grid is not None:
                shape = (len(site.model.field_names), *site.grid.shape)
                layout[f"sites/{site.name}/tissue"] = (offset, shape)
                offset += int(np.prod(shape))
                layout[f"sites/{site.name}/tissue_scalars"] = (
                    offset,
                    (len(site.model.scalar_names),),
                )
        return layout

    def tissue(self, scalars: np.ndarray, site: int) -> tuple[np.ndarray, np.ndarray]:
        """Views of a spatial site's fields ``(n_fields, *grid.shape)`` and compartments."""
        spec = self.sites[site]
        start = self.site_offset(site) + colonies.block_size(self.n_cohorts)
        n_fields = len(spec.model.field_names)
        stop = start + n_fields * spec.grid.size
        fields = scalars[start:stop].reshape((n_fields, *spec.grid.shape))
        return fields, scalars[stop : stop + len(spec.model.scalar_names)]

    def count_foci(self, site: int, fields: np.ndarray, min_size: float = 0.0) -> float:
        """Connected tumour foci (``e + m >= FOCUS_DENSITY``) of a spatial site with more
        than ``min_size`` cells."""
        from scipy import ndimage

        spec = self.sites[site]
        density = fields[0] + fields[1]
        cells = density * spec.model.parameters["K_cell"] * spec.grid.cell_volume
        labels, n = ndimage.label(density >= FOCUS_DENSITY)
        if n == 0:
            return 0.0
        sizes = ndimage.sum_labels(cells, labels, index=np.arange(1, n + 1))
        return float(np.count_nonzero(sizes > min_size))

    def site_index(self, site: str) -> int:
        names = [s.name for s in self.sites]
        if site not in names:
            raise KeyError(f"unknown site {site!r}; sites are {names}")
        return names.index(site)

    # -- hooks delegated to the primary -------------------------------------------------
    def param_vector(self) -> np.ndarray:
        return self.primary.param_vector()

    def transport(self):
        return self.primary.transport()

    def static_maps(self, grid: Grid) -> np.ndarray:
        return self.primary.static_maps(grid)

    def solver_maps(self, grid: Grid) -> np.ndarray:
        return self.primary.solver_maps(grid)

    def boundary_arrays(self, grid: Grid):
        return self.primary.boundary_arrays(grid)

    def default_fields(self, grid: Grid):
        return self.primary.default_fields(grid)

    def field_unit(self, name: str) -> str:
        return self.primary.field_unit(name)

    def field_scale(self, name: str) -> str:
        return self.primary.field_scale(name)

    def reference_density(self, name: str) -> float | None:
        return self.primary.reference_density(name)

    def default_scalars(self) -> dict[str, float]:
        """The primary's initial scalars (a lumped primary's vascular capacity)."""
        return {PRIMARY_RENAMES.get(k, k): v for k, v in self.primary.default_scalars().items()}

    def initial_state(self, grid: Grid | None = None, **overrides):
        """As :meth:`Model.initial_state`; ``grid`` may be omitted for a lumped primary."""
        if grid is None:
            if self.field_names:
                raise ValueError(
                    "grid: a spatial primary needs a grid, e.g. ct.Grid((64, 64), 0.05)"
                )
            grid = Grid(1, 1.0)
        state = super().initial_state(grid, **overrides)
        for k, site in enumerate(self.sites):
            block = state.scalars[self.site_offset(k) :]
            if site.immunity is not None and f"sites/{site.name}/effectors" not in overrides:
                block[colonies.EFFECTORS] = site.immunity["effectors"]
            # a colony starts at one cell within its initial vascular capacity K
            start = len(colonies.SITE_SCALARS) + 3 * self.n_cohorts
            block[start : start + 2 * self.n_cohorts] = math.log(site.growth["K"])
            if site.grid is not None:  # healthy tissue: matrix and oxygen at 1, no tumour
                fields, _ = self.tissue(state.scalars, k)
                fields[:] = site.model.initial_state(
                    site.grid, epithelial=0.0, mesenchymal=0.0, ecm=1.0, mmp=0.0, oxygen=1.0
                ).data
        return state

    def has_tissue(self) -> bool:
        return bool(self.field_names) or any(site.grid is not None for site in self.sites)

    # -- diagnostics --------------------------------------------------------------------
    def derived_series(self, state) -> dict[str, float]:
        """The primary's series, the cascade totals and each site's detectable colonies."""
        values = self.primary.derived_series(state)
        born = state.scalar("primary_born")
        died = sum(
            state.scalar(n) for n in ("primary_died", "killed_immune", "cluster_killed_immune")
        )
        cleared = sum(state.scalar(n) for n in ("blood_cleared", "unsited", "cluster_cleared"))
        removed = state.scalar("primary_removed") + state.scalar("cluster_removed")
        for k, site in enumerate(self.sites):
            prefix = f"sites/{site.name}/"
            born += state.scalar(prefix + "colony_born") + state.scalar(prefix + "shed")
            died += sum(
                state.scalar(prefix + entry)
                for entry in ("colony_died", "dormant_died", "extinct", "immune_killed")
            )
            cleared += state.scalar(prefix + "failed")
            removed += state.scalar(prefix + "removed")
            values[prefix + "wake_flux"] = site.parameters["wake"] * state.scalar(
                prefix + "dormant"
            )
            detection = site.parameters["detection"]
            if site.grid is not None:
                fields, _ = self.tissue(state.scalars, k)
                values[prefix + "colonies"] = self.count_foci(k, fields)
                values[prefix + "detectable"] = self.count_foci(k, fields, detection)
                continue
            counts, _, edges = self.cohorts(state.scalars, k)
            values[prefix + "detectable"] = self.count_colonies(counts, edges, detection)
        values.update({"born": born, "died": died, "cleared": cleared, "removed": removed})
        return values

    def cohorts(self, scalars: np.ndarray, site: int) -> tuple[np.ndarray, ...]:
        """Views of site ``site``'s cohort counts, log mean sizes and edge log sizes
        (``colonies.COHORT_ARRAYS``; sizes in cells)."""
        start = self.site_offset(site) + len(colonies.SITE_SCALARS)
        n = self.n_cohorts
        return tuple(scalars[start + i * n : start + (i + 1) * n] for i in range(3))

    @staticmethod
    def count_colonies(counts, edges, min_size: float = 0.0) -> float:
        """Colonies above ``min_size`` cells from a site's cohort counts and edge log sizes
        (colonies spread evenly in log size between a cohort's edge and the next's)."""
        return colonies.count_above(counts, edges, float(min_size))

    @staticmethod
    def binned_sizes(counts, edges) -> np.ndarray:
        """Colonies per bin of ``SIZE_EDGES``."""
        above = np.empty(SIZE_EDGES.size)
        colonies.counts_above(counts, edges, SIZE_EDGES, above)
        return np.maximum(above[:-1] - above[1:], 0.0)

    def frame_array_info(self) -> dict[str, FrameArray]:
        starts = self.cohort_days * np.arange(self.n_cohorts)
        centres = np.sqrt(SIZE_EDGES[1:] * SIZE_EDGES[:-1])
        cohort = Axis("cohort", starts, "day", "start of the cohort's birth interval")
        size = Axis("size", centres, "cells", "geometric centre of the size bin")
        info = {}
        for site in self.sites:
            group = f"sites/{site.name}/"
            if site.grid is not None:
                axes = tuple(
                    Axis(name, coord, "mm", f"cell-centre {name} coordinate")
                    for name, coord in zip(site.grid.axis_names, site.grid.coords, strict=True)
                )
                for name in site.model.field_names:
                    info[group + name] = FrameArray(site.model.field_unit(name), name, axes)
                continue
            info[group + "cohort_colonies"] = FrameArray(
                "colonies", "colonies in each birth-time cohort", (cohort,)
            )
            info[group + "cohort_log_size"] = FrameArray(
                "ln(cells)", "natural log of each cohort's mean colony size", (cohort,)
            )
            info[group + "cohort_edge_log_size"] = FrameArray(
                "ln(cells)",
                "natural log of the size of a colony born at the cohort's start",
                (cohort,),
            )
            if site.growth["law"] == "hahnfeldt":
                info[group + "cohort_log_capacity"] = FrameArray(
                    "ln(cells)",
                    "natural log of each cohort's mean vascular capacity",
                    (cohort,),
                )
            info[group + "size_distribution"] = FrameArray(
                "colonies", "colonies per size bin (10 bins per decade from 1 cell)", (size,)
            )
        return info

    def frame_arrays(self, state) -> dict[str, np.ndarray]:
        arrays = {}
        for k, site in enumerate(self.sites):
            group = f"sites/{site.name}/"
            if site.grid is not None:
                fields, _ = self.tissue(state.scalars, k)
                arrays.update(
                    {group + n: f for n, f in zip(site.model.field_names, fields, strict=True)}
                )
                continue
            counts, logs, edges = self.cohorts(state.scalars, k)
            arrays[group + "cohort_colonies"] = counts
            arrays[group + "cohort_log_size"] = logs
            arrays[group + "cohort_edge_log_size"] = edges
            if site.growth["law"] == "hahnfeldt":
                start = self.site_offset(k) + len(colonies.SITE_SCALARS) + 3 * self.n_cohorts
                arrays[group + "cohort_log_capacity"] = state.scalars[
                    start : start + self.n_cohorts
                ]
            arrays[group + "size_distribution"] = self.binned_sizes(counts, edges)
        return arrays

    # -- specs --------------------------------------------------------------------------
    def to_spec(self, grid: Grid) -> dict:
        return {
            "model": "Cascade",
            "primary": self.primary.to_spec(grid),
            "circulation": self.circulation.to_spec(),
            "sites": [site.to_spec() for site in self.sites],
            "cohort_days": self.cohort_days,
            "horizon": self.horizon,
            "parameters": dict(self.parameters),
            "units": {p.name: p.unit for p in self.primary.PARAMETERS},
        }

    def extra_maps(self) -> dict[str, np.ndarray]:
        """Static maps of spatial sites, by run-file path ``sites/<site>/maps/<map>``."""
        maps = {}
        for site in self.sites:
            if site.grid is not None:
                values = site.model.static_maps(site.grid)
                for name, array in zip(site.model.map_names, values, strict=True):
                    maps[f"sites/{site.name}/maps/{name}"] = array.reshape(site.grid.shape)
        return maps

    @classmethod
    def _from_spec(cls, spec: dict, maps: dict) -> Cascade:
        def site_maps(name):
            prefix = f"sites/{name}/maps/"
            return {k[len(prefix) :]: v for k, v in maps.items() if k.startswith(prefix)}

        return Cascade(
            primary=Model.from_spec(spec["primary"], maps),
            circulation=Circulation.from_spec(spec["circulation"]),
            sites=[SecondarySite.from_spec(s, site_maps(s["name"])) for s in spec["sites"]],
            cohort_days=spec["cohort_days"],
            horizon=spec["horizon"],
        )

    def __repr__(self):
        sites = ", ".join(s.name for s in self.sites)
        return f"Cascade(primary={self.primary!r}, sites=[{sites}])"


class Iwata(Cascade):
    """Iwata, Kawasaki & Shigesada (J Theor Biol 2000;203:177-186) as a cascade preset.

    A Gompertz primary ``dx/dt = a x ln(b/x)`` growing from ``x0`` cells emits colonies at
    ``beta(x) = m x^alpha`` straight into one site, ``"metastases"`` (first-pass arrest of
    every shed cell: no circulation losses); colonies grow by the same law from one cell
    and emit at ``beta(size)`` themselves. Defaults are the paper's hepatocellular
    carcinoma patient: ``a = 0.00286 /day``, ``b = 7.3e10`` cells, ``m = 5.3e-8``,
    ``alpha = 2/3``; colonies of 1e8 cells are detectable, no colony dies and the organ
    sets no capacity. As in the paper, emission does not deplete the primary
    (``shedding_loss = 0``: the emitted cells count as born).
    """

    def __init__(
        self,
        a=0.00286,
        b=7.3e10,
        m=5.3e-8,
        alpha=2.0 / 3.0,
        x0=1.0,
        cohort_days=None,
        horizon=3650.0,
    ):
        growth = {"law": "gompertz", "a": a, "K": b}
        self.x0 = check_positive("x0", x0, "cells")
        super().__init__(
            primary=LumpedPrimary(growth=growth, mu=m, alpha=alpha, shedding_loss=0.0),
            circulation=Circulation(
                k_clear=0.0, k_ext=0.0, k_LN=0.0, k_LB=0.0, first_pass=("metastases", 1.0)
            ),
            sites=[
                SecondarySite(
                    "metastases",
                    flow=1.0,
                    growth=growth,
                    seeding=(m, alpha),
                    capacity=math.inf,
                    survival=1.0,
                    establishment=1.0,
                    dormancy=0.0,
                    wake=0.0,
                    detection=1e8,
                )
            ],
            cohort_days=cohort_days,
            horizon=horizon,
        )

    def initial_state(self, grid=None, **overrides):
        """A primary of ``x0`` cells and nothing else (``tumor_cells`` overrides it)."""
        return super().initial_state(grid, **{"tumor_cells": self.x0, **overrides})
