"""Treatments as scheduled events: resection, radiotherapy fractions, systemic therapy,
immunotherapy and anti-angiogenic therapy.

Pass them to :func:`continuum.simulate` (``interventions=[...]``) or list them under
``[[interventions]]`` in a scenario file. Resection and radiotherapy act at instants;
systemic therapy adds a death rate over a window; immunotherapy strengthens the sites'
effector cells and anti-angiogenic therapy erodes vascular capacities over a window.
Every cell they kill is booked in the cumulative scalar ``removed`` (``primary_removed``
and the sites' ``removed`` in a cascade, summed in the series ``removed``), which joins
the cell budget:
``tumour + blood + lymph + cleared + killed_immune + extravasated + node_arrested +
first_pass + died + removed - born`` stays equal to the initial cells.

They act on models with a cell budget: :class:`~continuum.models.Invasion` (cell fields
``epithelial`` and ``mesenchymal``, oxygen ``oxygen``), :class:`~continuum.models.LumpedPrimary`
(``tumor_cells``) and a :class:`~continuum.Cascade` of either; resection and radiotherapy
also on :class:`~continuum.models.FisherKPP` (``removed`` in mm^3 at capacity).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage

from continuum.units import PO2_AT_VASCULAR_LEVEL_MMHG
from continuum.validation import (
    check_fraction,
    check_integer,
    check_nonnegative,
    check_positive,
    check_real,
)

OXYGEN_FIELD = "oxygen"
# The therapy vector a schedule sets on the solver: death rates [1/day] on tissue,
# circulating, colony and dormant cells; a factor on the wake-up rate; the rate [1/day]
# on vascular capacities; the boost of effectors' killing; the block of their exhaustion.
THERAPY = (
    "tissue",
    "circulating",
    "colonies",
    "dormant",
    "wake",
    "vascular",
    "kill_boost",
    "exhaustion_block",
)
TISSUE, CIRCULATING, COLONIES, DORMANT, WAKE, VASCULAR, KILL_BOOST, EXHAUSTION_BLOCK = range(8)
NO_THERAPY = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
_REQUIRED = object()


def _key(unit: str, meaning: str, default=_REQUIRED):
    """A treatment's field with its unit and meaning (``metadata``): the scenario
    validator takes a treatment's keys from its fields, and the documentation's
    scenario-file reference their units and meanings."""
    metadata = {"unit": unit, "meaning": meaning}
    if default is _REQUIRED:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Resection:
    """Surgery at time ``t`` [day].

    A spatial primary loses every tumour cell within ``margin`` [mm] of the tissue where
    the tumour-cell density ``e + m`` is at least ``threshold`` (a fraction of the
    carrying capacity): that region dilated by the margin (Euclidean distance on the
    grid). A lumped primary keeps the fraction ``residual`` of its cells (and of its
    vascular capacity, under the ``hahnfeldt`` law).

    Surgery may wake dormant cells (wound healing, angiogenic and inflammatory signals:
    the early relapse peak 10-20 months after mastectomy of Demicheli et al., Breast
    Cancer Res Treat 1996, explained by Retsky et al. as surgery-triggered escape from
    dormancy): the wake-up rate of every site's dormant cells is multiplied by
    ``wake_boost`` for ``wake_boost_days`` [day] after the operation (default: no effect;
    the size of the effect is not measured, so it is the user's assumption).
    """

    t: float = _key("day", "time of the operation")
    margin: float = _key("mm", "margin removed around the dense tumour", 1.0)
    threshold: float = _key("1", "tumour-cell fraction e + m of the dense tumour", 0.1)
    residual: float = _key("1", "fraction of a lumped primary's cells left behind", 0.0)
    wake_boost: float = _key("1", "factor on the dormant cells' wake-up rate after it", 1.0)
    wake_boost_days: float = _key("day", "how long the wake-up boost lasts", 0.0)
    kind: str = field(default="resection", init=False)

    def __post_init__(self):
        _set(self, "t", check_nonnegative("resection t", self.t, "day"))
        _set(self, "margin", check_nonnegative("resection margin", self.margin, "mm"))
        threshold = check_fraction("resection threshold", self.threshold)
        if threshold == 0.0:
            raise ValueError("resection threshold: got 0; it must lie in (0, 1]")
        _set(self, "threshold", threshold)
        _set(self, "residual", check_fraction("resection residual", self.residual))
        boost = check_positive("resection wake_boost", self.wake_boost)
        _set(self, "wake_boost", boost)
        days = check_nonnegative("resection wake_boost_days", self.wake_boost_days, "day")
        _set(self, "wake_boost_days", days)

    def event_times(self) -> tuple[float, ...]:
        return (self.t,)

    def window(self) -> tuple[float, ...]:
        """Edges [day] of the wake-up boost, if any."""
        if self.wake_boost == 1.0 or self.wake_boost_days == 0.0:
            return ()
        return (self.t, self.t + self.wake_boost_days)

    def rates(self, t: float) -> np.ndarray:
        """The therapy vector (:data:`NO_THERAPY`) acting on ``[t, ...)``: the wake factor
        inside the window after surgery."""
        window = self.window()
        rates = NO_THERAPY.copy()
        rates[WAKE] = self.wake_boost if window and window[0] <= t < window[1] else 1.0
        return rates

    def region(self, cells: np.ndarray, grid) -> np.ndarray:
        """The resected cells of the grid: tumour ``>= threshold``, dilated by ``margin``."""
        tumour = cells >= self.threshold
        if grid.mask is not None:
            tumour &= grid.mask
        if not tumour.any():
            return tumour
        distance = ndimage.distance_transform_edt(~tumour, sampling=grid.spacing)
        region = distance <= self.margin * (1 + 1e-12)
        return region if grid.mask is None else region & grid.mask

    def apply(self, target: _Target) -> float:
        if target.fields is None:
            target.scale_capacity(self.residual)  # the vessels go with the tumour
            return target.scale_lumped(self.residual)
        cells = sum(target.fields[i] for i in target.cell_indices)
        return target.scale_fields(np.where(self.region(cells, target.grid), 0.0, 1.0))


@dataclass(frozen=True)
class Radiotherapy:
    """Fractions of ``dose`` [Gy] at ``times`` [day] (or ``fractions`` of them every
    ``interval`` days from ``start``).

    Each fraction multiplies the tumour cells in ``target`` by the linear-quadratic
    surviving fraction ``S = exp(-alpha d_eff - beta d_eff^2)`` of the effective dose

    .. math::

        d_{eff} = d \\, \\frac{r(p)}{m}, \\qquad r(p) = \\frac{m p + K}{p + K},

    ``r`` the radiosensitivity relative to anoxic cells (Alper & Howard-Flanders, Nature
    1956;178:978-979), ``m = oer_max`` (the full oxygen-enhancement ratio), ``K =
    oer_k_mmhg`` [mmHg] (the pO2 of half the oxygen effect), and ``p = o *
    PO2_AT_VASCULAR_LEVEL_MMHG`` the cell's pO2 [mmHg] (``continuum.units``: ``o = 1`` is
    40 mmHg). Fully oxygenated cells (``p >> K``) receive ``d``, anoxic ones ``d/m``; the
    dose ratio for equal effect, ``OER(p) = d/d_eff = m (p + K)/(m p + K)``, falls
    continuously from ``m`` to 1 (1.05 at ``o = 1``; 2 at ``p = K (m - 2)/m``, 1 mmHg).
    Defaults: ``alpha = 0.3 /Gy`` and ``alpha/beta = 10 Gy``, typical of tumours (Fowler,
    Br J Radiol 1989); ``oer_max = 3``, the full oxygen effect of sparsely ionising
    radiation (Gray et al., Br J Radiol 1953); ``oer_k_mmhg = 3`` mmHg, half the effect at
    about 0.4 % O2 (Alper & Howard-Flanders 1956; Wouters & Brown, Radiat Res 1997). A
    model without an oxygen field (and a lumped primary) is taken as fully oxygenated.
    ``target``: ``None`` (the whole tissue), a boolean array of the grid's shape, or
    ``{"centre": [mm, ...], "radius": mm}``; a lumped primary is entirely in the field.
    """

    dose: float = _key("Gy", "dose per fraction to fully oxygenated cells", 2.0)
    start: float | None = _key("day", "time of the first fraction (or give times)", None)
    fractions: int = _key("", "number of fractions from start", 1)
    interval: float = _key("day", "time between fractions from start", 1.0)
    times: tuple[float, ...] | None = _key("day", "times of the fractions (or give start)", None)
    alpha: float = _key("1/Gy", "linear coefficient of the linear-quadratic model", 0.3)
    beta: float = _key("1/Gy^2", "quadratic coefficient of the linear-quadratic model", 0.03)
    oer_max: float = _key("1", "full oxygen-enhancement ratio", 3.0)
    oer_k_mmhg: float = _key("mmHg", "pO2 of half the oxygen effect", 3.0)
    target: object = _key(
        "", 'whole tissue (None), a mask (file = "..."), or {centre = [mm], radius = mm}', None
    )
    kind: str = field(default="radiotherapy", init=False)

    def __post_init__(self):
        _set(self, "dose", check_nonnegative("radiotherapy dose", self.dose, "Gy"))
        _set(self, "alpha", check_nonnegative("radiotherapy alpha", self.alpha, "1/Gy"))
        _set(self, "beta", check_nonnegative("radiotherapy beta", self.beta, "1/Gy^2"))
        oer = check_positive("radiotherapy oer_max", self.oer_max)
        if oer < 1.0:
            raise ValueError(f"radiotherapy oer_max: got {self.oer_max!r}; it must be >= 1")
        _set(self, "oer_max", oer)
        _set(self, "oer_k_mmhg", check_positive("radiotherapy oer_k_mmhg", self.oer_k_mmhg, "mmHg"))
        if self.times is None:
            if self.start is None:
                raise ValueError("radiotherapy: give times=[...] or start=... [day]")
            start = check_nonnegative("radiotherapy start", self.start, "day")
            fractions = check_integer("radiotherapy fractions", self.fractions, minimum=1)
            interval = check_positive("radiotherapy interval", self.interval, "day")
            times = tuple(start + interval * i for i in range(fractions))
        else:
            if self.start is not None:
                raise ValueError("radiotherapy: give either times=[...] or start=..., not both")
            if not isinstance(self.times, list | tuple | np.ndarray):
                raise ValueError(
                    f"radiotherapy times: got {self.times!r}; a list of times [day] is required"
                )
            times = tuple(
                check_nonnegative(f"radiotherapy times[{i}]", t, "day")
                for i, t in enumerate(self.times)
            )
            if not times or any(b <= a for a, b in itertools.pairwise(times)):
                raise ValueError(
                    f"radiotherapy times: got {list(self.times)}; a non-empty increasing list"
                )
        _set(self, "times", times)
        if isinstance(self.target, dict):
            unknown = set(self.target) - {"centre", "radius"}
            if unknown or "radius" not in self.target:
                raise ValueError(
                    f"radiotherapy target: got keys {sorted(self.target)}; a region is "
                    "{'radius': mm, 'centre': [mm, ...]} (centre defaults to the grid's)"
                )
            check_positive("radiotherapy target radius", self.target["radius"], "mm")
            centre = self.target.get("centre")
            if centre is not None:
                if not isinstance(centre, list | tuple | np.ndarray):
                    raise ValueError(
                        f"radiotherapy target centre: got {centre!r}; coordinates [mm] are required"
                    )
                centre = [
                    check_real(f"radiotherapy target centre[{i}]", x, "mm")
                    for i, x in enumerate(centre)
                ]
                _set(self, "target", {**self.target, "centre": centre})
        elif self.target is not None:
            _set(self, "target", _target_mask(self.target))

    def event_times(self) -> tuple[float, ...]:
        return self.times

    def surviving_fraction(self, dose):
        """``exp(-alpha d - beta d^2)`` for a dose ``d`` [Gy] (a number or an array)."""
        return np.exp(-self.alpha * dose - self.beta * dose * dose)

    def dose_factor(self, oxygen):
        """``d_eff/d = r(p)/m = (m p + K)/(m (p + K))`` at ``p = oxygen * 40`` mmHg."""
        m, k = self.oer_max, self.oer_k_mmhg
        po2 = np.maximum(oxygen, 0.0) * PO2_AT_VASCULAR_LEVEL_MMHG
        return (m * po2 + k) / (m * (po2 + k))

    def target_mask(self, grid) -> np.ndarray:
        if self.target is None:
            return np.ones(grid.shape, dtype=bool)
        if isinstance(self.target, dict):
            coords = np.meshgrid(*grid.coords, indexing="ij")
            centre = self.target.get("centre") or [
                o + e / 2 for o, e in zip(grid.origin, grid.extent, strict=True)
            ]
            r2 = sum((c - c0) ** 2 for c, c0 in zip(coords, centre, strict=True))
            return r2 <= float(self.target["radius"]) ** 2
        return self.target

    def check(self, grid) -> None:
        if isinstance(self.target, np.ndarray) and (
            grid is None or self.target.shape != grid.shape
        ):
            expected = "no array (a lumped primary)" if grid is None else grid.shape
            raise ValueError(
                f"radiotherapy target: got an array of shape {self.target.shape}; "
                f"expected {expected}"
            )
        if isinstance(self.target, dict) and grid is not None:
            centre = self.target.get("centre")
            if centre is not None and len(centre) != grid.ndim:
                raise ValueError(
                    f"radiotherapy target centre: got {list(centre)}; it needs {grid.ndim} "
                    "coordinates [mm]"
                )

    def apply(self, target: _Target) -> float:
        oxic = float(self.surviving_fraction(self.dose))
        if target.fields is None:
            return target.scale_lumped(oxic)
        factor = np.full(target.grid.shape, oxic)
        if target.oxygen is not None:
            oxygen = target.fields[target.oxygen]
            factor = self.surviving_fraction(self.dose * self.dose_factor(oxygen))
        return target.scale_fields(np.where(self.target_mask(target.grid), factor, 1.0))


class _Window:
    """A treatment acting over ``[start, end)`` [day], with no instantaneous events."""

    def event_times(self) -> tuple[float, ...]:
        return ()

    def window(self) -> tuple[float, ...]:
        return (self.start, self.end)


@dataclass(frozen=True)
class SystemicTherapy(_Window):
    """An extra death rate ``rate`` [1/day] from ``start`` to ``end`` [day].

    It acts on tissue cells (``tissue``), circulating cells in blood and lymph
    (``circulating``) and active colonies (``colonies``: as a death rate of colonies in a
    size-structured site, of cells in a spatial one); dormant cells are spared unless
    ``dormant`` is true.
    """

    start: float = _key("day", "start of the treatment")
    end: float = _key("day", "end of the treatment")
    rate: float = _key("1/day", "extra death rate of the tumour cells it reaches")
    tissue: bool = _key("", "acts on tissue cells", True)
    circulating: bool = _key("", "acts on circulating cells in blood and lymph", True)
    colonies: bool = _key("", "acts on the cells of active colonies", True)
    dormant: bool = _key("", "acts on dormant cells", False)
    kind: str = field(default="systemic", init=False)

    def __post_init__(self):
        _window(self, "systemic")
        _set(self, "rate", check_nonnegative("systemic rate", self.rate, "1/day"))
        for name in ("tissue", "circulating", "colonies", "dormant"):
            value = getattr(self, name)
            if not isinstance(value, bool | np.bool_):
                raise ValueError(f"systemic {name}: got {value!r}; true or false")

    def rates(self, t: float) -> np.ndarray:
        """The therapy vector (:data:`NO_THERAPY`): death rates [1/day] on tissue,
        circulating, colony and (if ``dormant``) dormant cells on ``[t, ...)``."""
        rates = NO_THERAPY.copy()
        if self.start <= t < self.end:
            flags = (self.tissue, self.circulating, self.colonies, self.dormant)
            rates[:4] = [self.rate if flag else 0.0 for flag in flags]
        return rates


@dataclass(frozen=True)
class Immunotherapy(_Window):
    """Effector cells strengthened from ``start`` to ``end`` [day] at every site with
    ``immunity``: their killing multiplied by ``1 + kill_boost`` (checkpoint blockade,
    adoptive transfer) and their exhaustion by the burden by ``1 - exhaustion_block``
    (``exhaustion_block = 1`` removes it: PD-1/PD-L1 blockade read as reversal of T-cell
    exhaustion, the target of the escape phase in Kuznetsov et al. 1994's model).

    The cells effectors kill beyond their untreated rate, the share ``kill_boost / (1 +
    kill_boost)`` of ``immune`` kills, are booked as ``removed`` like every treatment's.
    """

    start: float = _key("day", "start of the treatment")
    end: float = _key("day", "end of the treatment")
    kill_boost: float = _key("1", "effectors' killing multiplied by 1 + kill_boost", 1.0)
    exhaustion_block: float = _key("1", "fraction of effector exhaustion blocked", 0.0)
    kind: str = field(default="immunotherapy", init=False)

    def __post_init__(self):
        _window(self, "immunotherapy")
        _set(self, "kill_boost", check_nonnegative("immunotherapy kill_boost", self.kill_boost))
        block = check_fraction("immunotherapy exhaustion_block", self.exhaustion_block)
        _set(self, "exhaustion_block", block)

    def rates(self, t: float) -> np.ndarray:
        """The therapy vector (:data:`NO_THERAPY`) with the boost and the block in the
        window."""
        rates = NO_THERAPY.copy()
        if self.start <= t < self.end:
            rates[KILL_BOOST] = self.kill_boost
            rates[EXHAUSTION_BLOCK] = self.exhaustion_block
        return rates


@dataclass(frozen=True)
class AntiAngiogenic(_Window):
    """Anti-angiogenic therapy from ``start`` to ``end`` [day]: vascular capacities ``K``
    of tumours growing by the ``hahnfeldt`` law (a lumped primary, colonies) lose
    ``rate`` [1/day]: the term ``- e c(t) K`` of Hahnfeldt et al. (Cancer Res 1999), the
    drug's potency ``e`` times its level ``c`` given as their product, held over the
    window. Cells are not killed directly: tumours beyond their shrinking capacity
    regress, which books their cells as deaths.
    """

    start: float = _key("day", "start of the treatment")
    end: float = _key("day", "end of the treatment")
    rate: float = _key("1/day", "loss rate of the vascular capacities")
    kind: str = field(default="antiangiogenic", init=False)

    def __post_init__(self):
        _window(self, "antiangiogenic")
        _set(self, "rate", check_nonnegative("antiangiogenic rate", self.rate, "1/day"))

    def rates(self, t: float) -> np.ndarray:
        """The therapy vector (:data:`NO_THERAPY`) with the rate on capacities in the
        window."""
        rates = NO_THERAPY.copy()
        if self.start <= t < self.end:
            rates[VASCULAR] = self.rate
        return rates


def _window(item, name: str) -> None:
    """Check and store a treatment's ``start < end`` [day]."""
    start = check_nonnegative(f"{name} start", item.start, "day")
    end = check_nonnegative(f"{name} end", item.end, "day")
    if end <= start:
        raise ValueError(f"{name} end: got {item.end!r}; it must be > start = {start:g} day")
    _set(item, "start", start)
    _set(item, "end", end)


def _target_mask(values) -> np.ndarray:
    """A radiotherapy target given as an array: booleans, or numbers that are 0 or 1."""
    array = np.asarray(values)
    if array.dtype.kind == "b":
        return array
    if array.dtype.kind not in "iuf" or not np.all((array == 0) | (array == 1)):
        raise ValueError(
            "radiotherapy target: an array of true/false (or 0/1) per cell is required; got "
            f"{array.dtype} values"
        )
    return array != 0


KINDS = {
    "resection": Resection,
    "radiotherapy": Radiotherapy,
    "systemic": SystemicTherapy,
    "immunotherapy": Immunotherapy,
    "antiangiogenic": AntiAngiogenic,
}


def _set(obj, name, value):
    object.__setattr__(obj, name, value)


def to_json(intervention) -> dict:
    """A JSON-able description (``from_json`` rebuilds it); an array target is refused
    by the run file, which keeps it as a dataset instead."""
    values = asdict(intervention)
    if isinstance(values.get("target"), np.ndarray):
        values["target"] = "array"
    if values.get("times") is not None:
        values["times"] = list(values["times"])
    if intervention.kind == "radiotherapy":
        values.pop("start")
        values.pop("fractions")
        values.pop("interval")
    return values


def from_json(values: dict, target=None):
    values = dict(values)
    cls = KINDS[values.pop("kind")]
    if values.get("target") == "array":
        values["target"] = target
    return cls(**values)


def _check_target(i: int, item, model) -> None:
    """Immunotherapy needs a site with effectors, anti-angiogenic therapy a tumour with a
    vascular capacity (the ``hahnfeldt`` law)."""
    sites = getattr(model, "sites", ())
    if isinstance(item, Immunotherapy):
        if not any(getattr(site, "immunity", None) for site in sites):
            raise ValueError(
                f"interventions[{i}]: immunotherapy acts on effector cells; give a "
                "ct.Cascade a site with immunity=... (e.g. ct.SecondarySite(..., "
                "immunity=ct.KUZNETSOV_1994))"
            )
        return
    primary = getattr(model, "primary", model)
    vascular = getattr(primary, "growth", None) == "hahnfeldt" or any(
        site.growth.get("law") == "hahnfeldt" for site in sites if site.grid is None
    )
    if not vascular:
        raise ValueError(
            f"interventions[{i}]: antiangiogenic therapy acts on vascular capacities; "
            "give the primary or a site growth={'law': 'hahnfeldt', ...}"
        )


class _Target:
    """What an instantaneous treatment acts on: a primary's cell fields (and oxygen) or
    its lumped cell count, and the scalar that books what it kills."""

    def __init__(self, model, state):
        target = model.treatment_target()
        primary = target.model
        self.grid = state.grid
        self.state = state
        self.removed = target.removed
        self.lumped_cells = target.lumped_cells
        if target.lumped_cells is None:
            names = primary.field_names
            self.fields = state.data
            self.cell_indices = [names.index(n) for n in primary.cell_fields]
            self.oxygen = names.index(OXYGEN_FIELD) if OXYGEN_FIELD in names else None
            capacity = primary.parameters.get("K_cell", 1.0)  # FisherKPP: mm^3 at capacity
            self.cells_per_unit = capacity * state.grid.cell_volume
        else:
            self.fields = None

    def scale_fields(self, factor: np.ndarray) -> float:
        killed = 0.0
        for i in self.cell_indices:
            before = self.fields[i].copy()
            self.fields[i] *= factor
            killed += float(np.sum(before - self.fields[i]))
        return self._book(killed * self.cells_per_unit)

    def scale_lumped(self, factor: float) -> float:
        cells = float(self.state.scalar(self.lumped_cells))
        self.state.set_scalar(self.lumped_cells, cells * factor)
        return self._book(cells * (1.0 - factor))

    def scale_capacity(self, factor: float) -> None:
        """Scale a lumped primary's ``vascular_capacity`` (the ``hahnfeldt`` law), if any."""
        if "vascular_capacity" in self.state.scalar_layout:
            capacity = float(self.state.scalar("vascular_capacity"))
            self.state.set_scalar("vascular_capacity", capacity * factor)

    def _book(self, killed: float) -> float:
        self.state.set_scalar(self.removed, float(self.state.scalar(self.removed)) + killed)
        return killed


class Schedule:
    """The interventions of a run, checked against its model and grid before any work.

    :meth:`advance` replaces ``solver.advance``: it stops at every event and window edge,
    applies the events due there and sets the therapy rates for the next stretch.
    """

    def __init__(self, interventions, model, grid, t_start: float):
        self.items = tuple(interventions or ())
        primary = model.primary
        for i, item in enumerate(self.items):
            if not isinstance(item, tuple(KINDS.values())):
                raise ValueError(
                    f"interventions[{i}]: got {type(item).__name__}; use continuum.Resection, "
                    "Radiotherapy or SystemicTherapy"
                )
            if model.treatment_target() is None:
                raise ValueError(
                    f"interventions[{i}]: {item.kind} needs a model with a cell budget "
                    "(Invasion, LumpedPrimary, a Cascade of them, or FisherKPP); got "
                    f"{type(model).__name__}"
                )
            if isinstance(item, SystemicTherapy) and primary.therapy_slots is None:
                raise ValueError(
                    f"interventions[{i}]: systemic therapy needs a model whose kernels take a "
                    f"death rate (Invasion, LumpedPrimary or a Cascade); got "
                    f"{type(primary).__name__}"
                )
            if isinstance(item, Radiotherapy):
                item.check(grid if primary.field_names else None)
            if isinstance(item, Immunotherapy | AntiAngiogenic):
                _check_target(i, item, model)
            first = min(item.event_times(), default=None)
            if first is not None and first <= t_start:
                raise ValueError(
                    f"interventions[{i}]: {item.kind} at t = {first:g} day; it must come after "
                    f"the start of the run (t = {t_start:g} day)"
                )
            if isinstance(item, SystemicTherapy) and item.start < t_start:
                raise ValueError(
                    f"interventions[{i}]: systemic therapy from t = {item.start:g} day; it "
                    f"cannot start before the run (t = {t_start:g} day)"
                )
        self.events = sorted(
            ((t, i) for i, item in enumerate(self.items) for t in item.event_times()),
            key=lambda pair: pair[0],
        )
        self.edges = sorted(
            {t for item in self.items if hasattr(item, "window") for t in item.window()}
        )

    def therapy_rates(self, t: float) -> np.ndarray:
        """The therapy vector (:data:`THERAPY`) acting after ``t``: rates and boosts
        summed, wake factors multiplied, exhaustion blocks combined as independent
        (``1 - prod(1 - block)``)."""
        total = NO_THERAPY.copy()
        for item in self.items:
            if hasattr(item, "rates"):
                rates = item.rates(t)
                total[[TISSUE, CIRCULATING, COLONIES, DORMANT, VASCULAR, KILL_BOOST]] += rates[
                    [TISSUE, CIRCULATING, COLONIES, DORMANT, VASCULAR, KILL_BOOST]
                ]
                total[WAKE] *= rates[WAKE]
                kept = (1.0 - total[EXHAUSTION_BLOCK]) * (1.0 - rates[EXHAUSTION_BLOCK])
                total[EXHAUSTION_BLOCK] = 1.0 - kept
        return total

    def advance(self, solver, model, state, t_stop: float) -> None:
        """Advance ``solver`` to ``t_stop`` [day], applying what falls in ``(t, t_stop]``."""
        while True:
            t = solver.t
            solver.set_therapy(self.therapy_rates(t))
            stops = [s for s in self.edges if t * (1 + 1e-15) < s < t_stop]
            stops += [s for s, _ in self.events if t * (1 + 1e-15) < s < t_stop]
            t_next = min(stops, default=t_stop)
            if t_next > t:
                solver.advance(t_next)
            due = [i for s, i in self.events if abs(s - t_next) <= 1e-12 * max(1.0, abs(s))]
            for i in due:
                self.items[i].apply(_Target(model, state))
            if due:
                solver.restart_estimate()
            if t_next >= t_stop:
                return
