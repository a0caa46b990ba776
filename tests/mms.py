"""Method of manufactured solutions for the compiled models: a test-only source hook.

A manufactured case picks smooth exact fields ``u*(x, t)`` (and exact compartment levels
``B*(t)``), writes the model's equations ``du/dt = N(u)`` symbolically from its docstring,
and derives the source ``s = du*/dt - N(u*)`` with SymPy. The solver then integrates
``du/dt = N(u) + s`` with the production kernels: the source enters through a kernel
registered under a name of its own (``registry.register``) whose row kernel calls the
model's own row kernel and adds ``s`` at the cell centres, whose coordinates ride along as
extra static maps. Nothing in the package changes; the error against ``u*`` measures the
whole discretisation: diffusion, limited taxis, reactions, boundaries, masks, the implicit
solves and the compartments.

The compartments are driven by the exports integrated over the grid. Their source is
added to those totals (``exports[j] += x_j(t)``) so that the same production scalar
kernels (and the IMEX method's exact relaxation) see it; ``x_j`` uses the exact integral of
the export density over the domain, computed by Gauss-Legendre quadrature of its
polynomial coefficients in the exact fields' time factors.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from numba import njit

from continuum.grid import Grid
from continuum.kernels import registry
from continuum.solvers.base import make_solver

COORDS = sp.symbols("x y z", real=True)
TIME = sp.Symbol("t", real=True)


def laplacian(u, ndim):
    return sum(sp.diff(u, COORDS[a], 2) for a in range(ndim))


def divergence_of(flux_density, potential, ndim):
    """``div(flux_density * grad(potential))``."""
    return sum(
        sp.diff(flux_density * sp.diff(potential, COORDS[a]), COORDS[a]) for a in range(ndim)
    )


def _branch_lines(index, exprs, indent):
    """Lines computing ``out[i] = exprs[i]`` (after common-subexpression elimination)."""
    replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols(f"w{index}_"))
    lines = [f"{indent}{symbol} = {sp.pycode(expr)}" for symbol, expr in replacements]
    lines += [f"{indent}out[{i}] = {sp.pycode(expr)}" for i, expr in enumerate(reduced)]
    return lines


def _compile(name, args, branches):
    """A jitted ``name(*args, which, out)`` writing ``branches[which]`` into ``out``, and
    its Python source."""
    lines = [f"def {name}({', '.join(str(a) for a in args)}, which, out):"]
    for index, exprs in enumerate(branches):
        lines.append(f"    {'if' if index == 0 else 'elif'} which == {index}:")
        lines += _branch_lines(index, exprs, " " * 8)
    source = "\n".join(lines) + "\n"
    namespace = {"math": math}
    exec(source, namespace)
    return njit(namespace[name]), source


@dataclass
class Case:
    """A manufactured case for one model class.

    exact : field name -> SymPy expression in ``COORDS[:ndim]`` and ``TIME``.
    rhs : field name -> the model's right-hand side evaluated on the exact fields.
    maps : static map name -> expression in the coordinates (vessel densities ...).
    scalars : scalar name -> exact level (expression in ``TIME``).
    scalar_rhs : scalar name -> its right-hand side without the export source, evaluated
        on the exact levels, as ``(rate_without_exports, export_index, gain)``: the
        production kernel's rate is ``rate_without_exports + gain * totals[export_index]``.
    export_density : export index -> density (per unit volume) evaluated on the exact
        fields; its exact domain integral is what the kernel's totals approximate.
    """

    model_cls: type
    ndim: int
    exact: dict
    rhs: dict
    maps: dict = field(default_factory=dict)
    scalars: dict = field(default_factory=dict)
    scalar_rhs: dict = field(default_factory=dict)
    export_density: dict = field(default_factory=dict)
    time_factors: tuple = ()

    def field_sources(self):
        """``du*/dt - N(u*)`` per field, with the time factors substituted."""
        factors = dict(self.time_factors)
        return [
            sp.diff(self.exact[n].subs(factors), TIME) - self.rhs[n].subs(factors)
            for n in self.model_cls.field_names
        ]


def _domain_integral(expr, ndim, boxes, order=24):
    """``int expr dV`` over the union of ``boxes`` (lists of (lo, hi) per axis) by
    tensor Gauss-Legendre quadrature (exact to round-off for the smooth trigonometric
    products used here)."""
    nodes, weights = np.polynomial.legendre.leggauss(order)
    function = sp.lambdify(COORDS[:ndim], expr, modules="numpy")
    total = 0.0
    for box in boxes:
        points, w = [], []
        for lo, hi in box:
            points.append(lo + (hi - lo) * (nodes + 1) / 2)
            w.append(weights * (hi - lo) / 2)
        mesh = np.meshgrid(*points, indexing="ij")
        wmesh = np.prod(np.meshgrid(*w, indexing="ij"), axis=0)
        values = np.broadcast_to(function(*mesh), wmesh.shape)
        total += float(np.sum(values * wmesh))
    return total


def _export_integral(density, factors, ndim, boxes):
    """The exact integral of ``density`` over the domain as an expression in ``TIME``:
    ``density`` is a polynomial in the exact fields' time factors ``factors`` (pairs
    ``(symbol, expression in TIME)``), whose coefficients are integrated numerically."""
    symbols = [s for s, _ in factors]
    poly = sp.Poly(sp.expand(density), *symbols)
    result = 0
    for monomial, coefficient in poly.terms():
        value = _domain_integral(coefficient, ndim, boxes)
        term = sp.Float(value)
        for symbol, power in zip(symbols, monomial, strict=True):
            term *= symbol**power
        result += term
    return result.subs(dict(factors))


class Family:
    """Manufactured cases of one model class, compiled into one kernel.

    Every case's sources go into one pair of jitted functions that branch on the case
    index, carried as the last entry of the kernel parameter vector, so a whole family
    costs one compilation of each time loop. ``members`` are ``(case, boxes,
    model_kwargs)``: ``boxes`` is the case's domain as a union of boxes (for the exact
    export integrals), ``model_kwargs`` go to the model class. ``param_overrides`` set
    entries of the kernel parameter vector (therapy rates).
    """

    def __init__(self, model_cls, members, param_overrides=None):
        self.model_cls = model_cls
        n_exports = max(len(model_cls.export_names), 1)
        field_branches, export_branches = [], []
        for case, boxes, _ in members:
            field_branches.append(case.field_sources())
            sources = [sp.Integer(0)] * n_exports
            for name, (rate, index, gain) in case.scalar_rhs.items():
                integral = _export_integral(
                    case.export_density[index], case.time_factors, case.ndim, boxes
                )
                missing = sp.diff(case.scalars[name], TIME) - rate - gain * integral
                sources[index] = missing / gain
            export_branches.append(sources)
        self.field_source, field_text = _compile("field_source", (*COORDS, TIME), field_branches)
        self.export_source, export_text = _compile("export_source", (TIME,), export_branches)
        digest = hashlib.sha256((field_text + export_text).encode()).hexdigest()[:12]
        self.kernel_name = f"mms_{model_cls.kernel_name}_{digest}"
        self._register(len(model_cls.map_names), n_exports)
        self.members = [
            Manufactured(self, i, case, model_kwargs, param_overrides)
            for i, (case, _, model_kwargs) in enumerate(members)
        ]

    def _register(self, coordinate_offset, n_exports):
        kernels = registry._KERNELS[self.model_cls.kernel_name]
        point, row, scalar_rate = kernels.point, kernels.row, kernels.scalars
        stiff_rate, scalar_relax = kernels.stiff, kernels.relax
        field_source = self.field_source
        export_source = self.export_source
        n_fields = len(self.model_cls.field_names)
        c = coordinate_offset

        @njit
        def source_row(u, maps, i0, i1, scalars, params, t, rate, exports):
            row(u, maps, i0, i1, scalars, params, t, rate, exports)
            which = int(params[params.shape[0] - 1])
            values = np.empty(n_fields)
            for k in range(u.shape[3]):
                x, y, z = maps[c, i0, i1, k], maps[c + 1, i0, i1, k], maps[c + 2, i0, i1, k]
                field_source(x, y, z, t, which, values)
                for f in range(n_fields):
                    rate[f, k] += values[f]

        @njit
        def with_sources(exports, params, t):
            extra = np.zeros(n_exports)
            export_source(t, int(params[params.shape[0] - 1]), extra)
            total = exports.copy()
            for j in range(exports.shape[0]):
                total[j] += extra[j]
            return total

        @njit
        def source_scalar_rate(scalars, exports, params, t, dscalars):
            scalar_rate(scalars, with_sources(exports, params, t), params, t, dscalars)

        @njit
        def source_scalar_relax(s_in, s_out, exports, params, t, dt):
            scalar_relax(s_in, s_out, with_sources(exports, params, t), params, t, dt)

        registry.register(
            self.kernel_name,
            point,
            source_row,
            source_scalar_rate,
            row_terms=True,
            stiff_rate=stiff_rate,
            scalar_relax=source_scalar_relax,
        )


def l_shape(ndim, n):
    """``[0, 2]^d`` without the corner ``[1, 2]^d`` (in 1D: ``[0, 1]`` of ``[0, 2]``) as a
    masked grid of ``2n`` cells per axis, and its boxes (the exact integrals' domain).
    Its re-entrant faces lie on integer coordinates, where ``cos(k pi x)`` has no slope."""
    centres = np.meshgrid(*((np.arange(2 * n) + 0.5) / n,) * ndim, indexing="ij")
    mask = ~np.all(np.stack([c > 1 for c in centres]), axis=0)
    boxes = []
    for a in range(ndim):  # the slab with axis a in [0, 1] and the earlier axes in [1, 2]
        boxes.append([(1.0, 2.0)] * a + [(0.0, 1.0)] + [(0.0, 2.0)] * (ndim - a - 1))
    return Grid((2 * n,) * ndim, 1.0 / n, mask=mask), boxes


def grid_for(ndim, masked, n):
    """The unit box with ``n`` cells per axis, or the L-shape of :func:`l_shape`."""
    if masked:
        return l_shape(ndim, n)[0]
    return Grid((n,) * ndim, 1.0 / n)


class Manufactured:
    """One case of a :class:`Family`: builds the model with the sources, runs it from
    the exact state and measures its errors."""

    def __init__(self, family, which, case, model_kwargs, param_overrides):
        self.case = case
        factors = dict(case.time_factors)
        self.exact = {n: e.subs(factors) for n, e in case.exact.items()}
        self.scalar_exact = dict(case.scalars)
        self.map_exprs = case.maps
        self.model_kwargs = model_kwargs or {}
        base = case.model_cls
        coordinate_offset = len(base.map_names)
        overrides = dict(param_overrides or {})

        class Model(base):
            kernel_name = family.kernel_name

            def static_maps(self, grid):
                maps = np.zeros((coordinate_offset + 3, *grid.shape3))
                if coordinate_offset:
                    maps[:coordinate_offset] = base.static_maps(self, grid)
                centres = np.meshgrid(*grid.coords, indexing="ij")
                for a in range(grid.ndim):
                    maps[coordinate_offset + a] = centres[a].reshape(grid.shape3)
                return maps

            def param_vector(self):
                vector = base.param_vector(self)
                for index, value in overrides.items():
                    vector[index] = value
                return np.append(vector, float(which))

        Model.__name__ = Model.__qualname__ = f"Manufactured{base.__name__}"
        self.model_cls = Model

    # -- running ------------------------------------------------------------------------
    def fields_at(self, grid: Grid, t: float) -> dict[str, np.ndarray]:
        centres = np.meshgrid(*grid.coords, indexing="ij")
        out = {}
        for name, expr in self.exact.items():
            function = sp.lambdify((*COORDS[: grid.ndim], TIME), expr, modules="numpy")
            out[name] = np.broadcast_to(function(*centres, t), grid.shape).astype(float)
        return out

    def maps_on(self, grid: Grid) -> dict[str, np.ndarray]:
        centres = np.meshgrid(*grid.coords, indexing="ij")
        out = {}
        for name, expr in self.map_exprs.items():
            function = sp.lambdify(COORDS[: grid.ndim], expr, modules="numpy")
            out[name] = np.broadcast_to(function(*centres), grid.shape).astype(float).copy()
        return out

    def scalars_at(self, t: float) -> dict[str, float]:
        return {n: float(e.subs(TIME, t)) for n, e in self.scalar_exact.items()}

    def solve(self, grid, method, t_end, dt=None, **solver_kwargs):
        """Integrate from the exact state at 0 to ``t_end``; return the state."""
        model = self.model_cls(**self.maps_on(grid), **self.model_kwargs)
        state = model.initial_state(grid, **self.fields_at(grid, 0.0), **self.scalars_at(0.0))
        solver = make_solver(method, model, state, dt=dt, **solver_kwargs)
        solver.advance(t_end)
        return state

    def errors(self, grid, state, t):
        """RMS error of each field over the active cells, and the relative error of each
        exact scalar."""
        exact = self.fields_at(grid, t)
        active = np.ones(grid.shape, bool) if grid.mask is None else grid.mask
        out = {}
        for name in self.case.model_cls.field_names:
            diff = (state[name] - exact[name])[active]
            out[name] = float(np.sqrt(np.mean(diff**2)))
        for name, value in self.scalars_at(t).items():
            out[name] = abs(float(state[name]) - value) / abs(value)
        return out

    def explicit_errors(self, grid, t_end, max_diffusivity):
        """:meth:`errors` after ``t_end`` with SSP-RK(4,3) steps at half the forward-Euler
        diffusion limit (so the time error, ``O(dt^3) = O(h^6)``, stays far below the
        spatial one)."""
        limit = 1.0 / (2 * max_diffusivity * sum(1 / h**2 for h in grid.spacing))
        steps = int(np.ceil(t_end / (0.5 * limit)))
        state = self.solve(grid, "explicit", t_end, dt=t_end / steps)
        return self.errors(grid, state, t_end)

    def step_differences(self, grid, method, t_end, step_counts, **solver_kwargs):
        """RMS differences over the active cells (and of the scalars) between runs with
        successive numbers of fixed steps: their ratios give the observed order in time
        with the spatial error cancelled."""
        names = (*self.case.model_cls.field_names, *self.scalar_exact)
        runs = []
        for steps in step_counts:
            state = self.solve(grid, method, t_end, dt=t_end / steps, **solver_kwargs)
            runs.append({name: np.asarray(state[name], dtype=float) for name in names})
        active = np.ones(grid.shape, bool) if grid.mask is None else grid.mask
        differences = {}
        for name in names:
            where = active if runs[0][name].ndim else ...
            differences[name] = [
                float(np.sqrt(np.mean((a[name] - b[name])[where] ** 2)))
                for a, b in itertools.pairwise(runs)
            ]
        return differences
