"""Fitting the growth laws of the lumped primary to tumour-volume data.

``ct.calibrate(times, volumes, law)`` fits one individual, or a population pooled into
one parameter set when ``times`` and ``volumes`` are dicts keyed by individual (or
``individual=True`` for one fit each). Volumes in mm^3, times in days; the growth laws are
those of :class:`~continuum.models.LumpedPrimary`, solved in closed form from the volume
``v0`` at ``t = 0`` (fixed, by default 1 mm^3: injected tumours start near 1e6 cells,
Benzekry et al. 2014; or fitted with ``v0=None``). Least squares on log volumes by
default (errors proportional to the volume, as caliper errors are); parameters are
fitted on a log scale (``gamma`` as it is), and their confidence intervals come from the
Jacobian at the optimum (Student's t with ``n - p`` degrees of freedom on the log scale,
so they stay positive)::

    data = ct.calibration.tumor_growth_data("lung")      # {mouse: (days, mm^3)}
    fit = ct.calibrate(*ct.calibration.split(data), law="gompertz")
    fit.values, fit.interval(0.95), fit.residuals, fit.to_lumped()
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import integrate, optimize, stats

from continuum.units import CELLS_PER_MM3
from continuum.validation import check_choice, check_positive

# Fitted parameters of each law: (name, unit in mm^3 and days, log scale?)
LAWS = {
    "exponential": (("a", "1/day", True),),
    "logistic": (("a", "1/day", True), ("K", "mm^3", True)),
    "gompertz": (("a", "1/day", True), ("K", "mm^3", True)),
    "bertalanffy": (
        ("a", "mm^(3(1-gamma))/day", True),
        ("b", "1/day", True),
        ("gamma", "1", False),
    ),
    "power": (("a", "mm^(3(1-gamma))/day", True), ("gamma", "1", False)),
    "exponential_linear": (("a", "1/day", True), ("a1", "mm^3/day", True)),
    "hahnfeldt": (
        ("a", "1/day", True),
        ("b", "1/day", True),
        ("d", "1/(day mm^2)", True),
        ("K0", "mm^3", True),
    ),
}


def volume(law: str, params: dict, t, v0: float = 1.0) -> np.ndarray:
    """The law's volume [mm^3] at times ``t`` [day] from ``v0`` at ``t = 0``.

    In closed form: exponential ``v0 e^{a t}``; logistic ``K v0 / (v0 + (K - v0)
    e^{-a t})``; Gompertz ``K (v0/K)^{e^{-a t}}``; power law ``(v0^{1-g} + (1-g) a
    t)^{1/(1-g)}``; von Bertalanffy ``(a/b + (v0^{1-g} - a/b) e^{-(1-g) b t})^{1/(1-g)}``;
    exponential-linear (Benzekry et al. 2014) ``v0 e^{a t}`` until the rate reaches ``a1``
    at ``tau = ln(a1 / (a v0)) / a``, then ``a1`` mm^3/day. Hahnfeldt's law has none: see
    :func:`hahnfeldt_volume`.
    """
    check_choice("law", law, tuple(LAWS))
    t = np.asarray(t, dtype=float)
    p = params
    if law == "hahnfeldt":
        return hahnfeldt_volume(p, t, v0)
    if law == "exponential":
        return v0 * np.exp(p["a"] * t)
    if law == "logistic":
        return p["K"] * v0 / (v0 + (p["K"] - v0) * np.exp(-p["a"] * t))
    if law == "gompertz":
        return p["K"] * np.exp(np.log(v0 / p["K"]) * np.exp(-p["a"] * t))
    if law in ("power", "bertalanffy"):
        k = 1.0 - p["gamma"]
        if law == "power":
            y = v0**k + k * p["a"] * t
        else:
            limit = p["a"] / p["b"]
            y = limit + (v0**k - limit) * np.exp(-k * p["b"] * t)
        return np.maximum(y, 0.0) ** (1.0 / k)
    a, a1 = p["a"], p["a1"]  # exponential-linear
    tau = max(np.log(a1 / (a * v0)) / a, 0.0)
    switch = v0 * np.exp(a * tau)
    return np.where(t <= tau, v0 * np.exp(a * t), switch + a1 * (t - tau))


def hahnfeldt_volume(params: dict, t, v0: float = 1.0) -> np.ndarray:
    r"""Volume [mm^3] at times ``t`` >= 0 [day] under Hahnfeldt's law (Hahnfeldt et al.,
    Cancer Res 1999;59:4770-4775), untreated, from ``V = v0`` and ``K = K0`` at ``t = 0``:

    .. math:: dV/dt = a V \ln(K/V), \qquad dK/dt = b V - d K V^{2/3}

    ``a``, ``b`` [1/day], ``d`` [1/(day mm^2)], ``K0`` [mm^3] in ``params``. No closed form:
    one DOP853 integration (rtol 1e-10, atol 1e-12 of the larger of ``v0`` and ``K0``)
    through the sorted distinct times.
    """
    t = np.asarray(t, dtype=float)
    if np.any(t < 0):
        raise ValueError("t: Hahnfeldt's volume is integrated forward from t = 0; got t < 0")
    times, where = np.unique(t, return_inverse=True)
    a, b, d, capacity = params["a"], params["b"], params["d"], params["K0"]

    def rates(_, y):
        v, k = y
        return [a * v * np.log(k / v), b * v - d * k * v ** (2.0 / 3.0)]

    end = times[-1] if times.size else 0.0
    if end == 0.0:
        return np.full(t.shape, float(v0))
    solution = integrate.solve_ivp(
        rates,
        (0.0, end),
        [v0, capacity],
        method="DOP853",
        t_eval=times,
        rtol=1e-10,
        atol=1e-12 * max(v0, capacity),
    )
    if not solution.success:
        raise ArithmeticError(f"Hahnfeldt's volume: the integration failed ({solution.message})")
    return solution.y[0][where].reshape(t.shape)


@dataclass
class Fit:
    """A fitted growth law: ``values`` (mm^3 and days), their ``stderr`` on the fitting
    scale, ``residuals`` (log or linear, by ``scale``), ``rss`` and the data."""

    law: str
    values: dict
    v0: float
    scale: str
    residuals: np.ndarray
    covariance: np.ndarray
    names: tuple
    log_scale: tuple
    times: np.ndarray
    volumes: np.ndarray
    units: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.residuals.size)

    @property
    def rss(self) -> float:
        return float(np.sum(self.residuals**2))

    @property
    def sigma(self) -> float:
        """Residual standard deviation (log units when ``scale == "log"``)."""
        return float(np.sqrt(self.rss / max(self.n - len(self.names), 1)))

    def interval(self, level: float = 0.95) -> dict:
        """``{name: (low, high)}``: the confidence interval of each fitted parameter."""
        quantile = stats.t.ppf(0.5 + level / 2.0, max(self.n - len(self.names), 1))
        intervals = {}
        for i, (name, logged) in enumerate(zip(self.names, self.log_scale, strict=True)):
            centre = np.log(self.values[name]) if logged else self.values[name]
            half = quantile * np.sqrt(self.covariance[i, i])
            low, high = centre - half, centre + half
            with np.errstate(over="ignore"):  # a parameter at its bound: unbounded above
                intervals[name] = (np.exp(low), np.exp(high)) if logged else (low, high)
        return intervals

    def predict(self, t) -> np.ndarray:
        """The fitted volume [mm^3] at times ``t`` [day]."""
        values = {k: v for k, v in self.values.items() if k != "v0"}
        return volume(self.law, values, t, self.v0)

    def to_lumped(self, cells_per_mm3: float = CELLS_PER_MM3, **parameters):
        """A :class:`~continuum.models.LumpedPrimary` growing by the fitted law, in cells
        (``cells_per_mm3`` converts volumes); its initial size is ``v0 * cells_per_mm3``."""
        from continuum.models.lumped import LumpedPrimary

        if self.law == "hahnfeldt":
            # the kernel's inhibition acts through (P / CELLS_PER_MM3)^(2/3) [mm^2]
            ratio = CELLS_PER_MM3 / cells_per_mm3
            growth = {
                "law": "hahnfeldt",
                "a": self.values["a"],
                "stimulation": self.values["b"],
                "inhibition": self.values["d"] * ratio ** (2.0 / 3.0),
                "K": self.values["K0"] * cells_per_mm3,
            }
            return LumpedPrimary(growth=growth, **parameters)
        growth = {"law": self.law}
        gamma = self.values.get("gamma", 1.0)
        for name in ("a", "K", "b", "a1"):
            if name not in self.values:
                continue
            value = self.values[name]
            if name == "K" or name == "a1":
                value *= cells_per_mm3
            elif name == "a" and self.law in ("power", "bertalanffy"):
                value *= cells_per_mm3 ** (1.0 - gamma)
            growth[name] = value
        if "gamma" in self.values:
            growth["gamma"] = gamma
        return LumpedPrimary(growth=growth, **parameters)

    def summary(self) -> str:
        low_high = self.interval()
        rows = [f"{self.law}: n = {self.n}, residual sd {self.sigma:.3g} ({self.scale})"]
        for name in self.names:
            low, high = low_high[name]
            unit = self.units.get(name, "")
            rows.append(
                f"  {name:<6} {self.values[name]:.4g} {unit}  (95 %: {low:.4g} to {high:.4g})"
            )
        return "\n".join(rows)


def calibrate(
    times,
    volumes=None,
    law: str = "gompertz",
    *,
    v0: float | None = 1.0,
    scale: str = "log",
    guess: dict | None = None,
    bounds: dict | None = None,
    individual: bool = False,
):
    """Fit ``law`` to tumour volumes [mm^3] measured at ``times`` [day].

    ``times`` and ``volumes``: arrays (one individual), or dicts of arrays keyed by
    individual, pooled into one fit (or fitted one by one with ``individual=True``, which
    returns ``{id: Fit}``); or ``times`` alone as ``{id: (times, volumes)}``, as
    :func:`tumor_growth_data` gives. ``v0``: the volume at ``t = 0`` [mm^3], or ``None`` to fit it.
    ``scale``: ``"log"`` (residuals ``ln v_model - ln v_data``) or ``"linear"``.
    ``guess`` and ``bounds`` (``{name: (low, high)}``) override the defaults per parameter.
    """
    check_choice("law", law, tuple(LAWS))
    check_choice("scale", scale, ("log", "linear"))
    if volumes is None and isinstance(times, dict):
        times, volumes = split(times)
    if isinstance(times, dict) != isinstance(volumes, dict):
        raise ValueError("times, volumes: give two arrays, or two dicts keyed by individual")
    if isinstance(times, dict):
        if set(times) != set(volumes):
            raise ValueError("times, volumes: the dicts must have the same individuals")
        if individual:
            return {
                key: calibrate(
                    times[key], volumes[key], law, v0=v0, scale=scale, guess=guess, bounds=bounds
                )
                for key in times
            }
        t = np.concatenate([np.asarray(times[k], dtype=float) for k in times])
        v = np.concatenate([np.asarray(volumes[k], dtype=float) for k in times])
    else:
        t, v = np.asarray(times, dtype=float), np.asarray(volumes, dtype=float)
    _check_data(t, v)
    return _fit(law, t, v, v0, scale, guess, bounds)


def _fit(law: str, t, v, v0, scale: str, guess, bounds) -> Fit:
    """The least-squares fit of :func:`calibrate` to checked data ``t`` [day], ``v``
    [mm^3]: parameters on a log scale where the law's table says so, within bounds."""
    spec = list(LAWS[law])
    if v0 is None:
        spec.append(("v0", "mm^3", True))
    else:
        v0 = check_positive("v0", v0, "mm^3")
    names = tuple(s[0] for s in spec)
    logged = tuple(s[2] for s in spec)
    start = {**_default_guess(law, t, v), "v0": float(v[np.argmin(t)]) * 0.5, **(guess or {})}
    limits = {**_default_bounds(law), "v0": (1e-6, float(v.max())), **(bounds or {})}
    unknown = set(guess or {}) | set(bounds or {})
    unknown -= set(names)
    if unknown:
        raise ValueError(
            f"guess, bounds: unknown parameter(s) {sorted(unknown)}; {law} has {list(names)}"
        )

    def unpack(x):
        values = {
            n: float(np.exp(xi) if lg else xi) for n, xi, lg in zip(names, x, logged, strict=True)
        }
        return values, values.get("v0", v0)

    def residuals(x):
        values, initial = unpack(x)
        model = volume(law, values, t, initial)
        if scale == "log":
            return np.log(np.maximum(model, 1e-300)) - np.log(v)
        return model - v

    def pack(values):
        return np.array([np.log(x) if lg else x for x, lg in zip(values, logged, strict=True)])

    x0 = pack([start[n] for n in names])
    low = pack([limits[n][0] for n in names])
    high = pack([limits[n][1] for n in names])
    x0 = np.clip(x0, low + 1e-9 * (high - low), high - 1e-9 * (high - low))
    solution = optimize.least_squares(residuals, x0, bounds=(low, high), x_scale="jac")
    values, initial = unpack(solution.x)
    jac = solution.jac
    dof = max(t.size - len(names), 1)
    sigma2 = float(np.sum(solution.fun**2)) / dof
    covariance = sigma2 * np.linalg.pinv(jac.T @ jac)
    return Fit(
        law=law,
        values=values,
        v0=float(initial),
        scale=scale,
        residuals=solution.fun,
        covariance=covariance,
        names=names,
        log_scale=logged,
        times=t,
        volumes=v,
        units={s[0]: s[1] for s in spec},
    )


def _check_data(t, v):
    if t.shape != v.shape or t.ndim != 1 or t.size < 3:
        raise ValueError(
            f"times, volumes: got shapes {t.shape} and {v.shape}; two 1D arrays of the same "
            "length, at least 3 measurements"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))) or np.any(v <= 0):
        raise ValueError("volumes: every volume must be finite and > 0 [mm^3]")


def _default_guess(law, t, v):
    order = np.argsort(t)
    slope = np.polyfit(t[order], np.log(v[order]), 1)[0] if np.ptp(t) > 0 else 0.1
    rate = max(slope, 1e-3)
    top = float(v.max())
    return {
        "exponential": {"a": rate},
        "logistic": {"a": 2.0 * rate, "K": 3.0 * top},
        "gompertz": {"a": 0.1, "K": 10.0 * top},
        "bertalanffy": {"a": rate * 2.0, "b": rate / 2.0, "gamma": 2.0 / 3.0},
        "power": {"a": rate * 2.0, "gamma": 0.7},
        "exponential_linear": {"a": 2.0 * rate, "a1": top / max(np.ptp(t), 1.0)},
        "hahnfeldt": {"a": 0.192, "b": 5.85, "d": 0.00873, "K0": top},
    }[law]


def _default_bounds(law):
    return {
        "a": (1e-6, 1e3),
        "K": (1e-3, 1e9),
        "b": (1e-8, 1e2),
        "a1": (1e-6, 1e7),
        "gamma": (0.01, 0.99),
        "d": (1e-8, 1e1),
        "K0": (1e-3, 1e9),
    }


def read_growth_data(path) -> dict:
    """``{individual: (times [day], observations)}`` from a tab-separated file with
    columns ``ID``, ``Time``, ``Observation`` (the format of ``data/tumor_growth``)."""
    rows: dict = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            rows.setdefault(row["ID"], []).append((float(row["Time"]), float(row["Observation"])))
    return {
        key: (np.array([r[0] for r in values]), np.array([r[1] for r in values]))
        for key, values in rows.items()
    }


def tumor_growth_data(name: str = "lung") -> dict:
    """The mouse tumour-volume curves shipped in ``data/tumor_growth`` (``"lung"``: Lewis
    lung carcinoma, ``"breast"``: MDA-MB-231; mm^3; Benzekry et al., PLoS Comput Biol
    2014), as ``{mouse: (days, mm^3)}``."""
    check_choice("name", name, ("lung", "breast"))
    filename = f"{name}_vol_data.tsv"
    source_tree = Path(__file__).resolve().parents[1] / "data" / "tumor_growth" / filename
    if source_tree.is_file():
        return read_growth_data(source_tree)
    from importlib.resources import files

    return read_growth_data(Path(str(files("continuum.datasets") / filename)))


def split(data: dict) -> tuple[dict, dict]:
    """``{id: (t, v)}`` -> ``({id: t}, {id: v})``, the form :func:`calibrate` takes."""
    return {k: t for k, (t, _) in data.items()}, {k: v for k, (_, v) in data.items()}
