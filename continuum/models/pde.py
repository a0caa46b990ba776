"""A model written as equations: ``ct.models.PDE({...})``."""

from __future__ import annotations

import numpy as np
import sympy as sp

from continuum.grid import Grid
from continuum.kernels import generated
from continuum.models.base import Model, Parameter, Transport
from continuum.models.equations import EquationError, read_equations
from continuum.validation import check_finite_array, check_real


class PDE(Model):
    """A reaction-diffusion-taxis model given by its equations, compiled like the built-ins.

    Each field's right-hand side is text in the fields, static maps, compartments
    (scalars), parameters and time ``t`` [day], with (see ``continuum.models.equations``)

    - ``D*laplace(u)`` or ``D*div(g*grad(u))``: diffusion of ``u`` [mm^2/day], ``g`` at most
      a map times one factor ``a + b*w``;
    - ``-div(chi*u*grad(a))``: taxis of ``u`` up the field ``a``, discretised by the
      positivity-preserving limited upwind operator of the built-in models;
    - anything else pointwise: reactions, e.g. ``rho*u*(1 - u)``.

    For example the Fisher-KPP equation ``∂u/∂t = D ∇²u + ρ u (1 − u)``::

        model = ct.models.PDE(
            {"u": "D*laplace(u) + rho*u*(1 - u)"},
            parameters={"D": 0.13, "rho": 0.012},
            units={"D": "mm^2/day", "rho": "1/day"},
        )

    The equations are turned into the same fused Numba kernels as the built-in models
    (written to a module in the user's cache folder, named by their hash, and cached on
    disk by Numba), and into a NumPy :meth:`reference_rate` from the same expressions.

    Parameters
    ----------
    equations : dict
        Field name -> right-hand side of its time derivative [field unit/day].
    parameters : dict
        Parameter name -> value (any real number).
    units : dict, optional
        Name (parameter or field) -> unit, stored in run files (default ``"1"``).
    maps : dict, optional
        Static map name -> a number, an array of the grid's shape, or a function of the
        ``Grid`` returning one (vessel densities, relative diffusivities).
    scalars : dict, optional
        Compartment name -> right-hand side of its time derivative, in scalars, exports,
        parameters and ``t``.
    exports : dict, optional
        Export name -> a pointwise density whose integral over the tissue
        [field unit x mm^3/day] the compartments' rates may use (e.g. cells entering
        vessels, ``mu*v*u``). It must vanish where every field does (outside the tissue
        mask the fields are zero).
    stiff : sequence of str, optional
        Fields whose reaction is ``A - R*u`` with a fast ``R >= 0`` free of ``u`` and of
        the scalars: the IMEX method solves their diffusion and ``-R u`` implicitly.
    cell_fields : sequence of str, optional
        Fields that are tumour cells (what analysis measures and treatments kill).
    nonnegative : sequence of str, optional
        Fields refused below zero in initial states (default: every field).
    bc : boundary conditions (default no-flux).
    """

    def __init__(
        self,
        equations,
        parameters=None,
        units=None,
        maps=None,
        scalars=None,
        exports=None,
        stiff=(),
        cell_fields=(),
        nonnegative=None,
        bc=None,
    ):
        parameters = dict(parameters or {})
        maps = dict(maps or {})
        self.eq = read_equations(equations, parameters, maps, scalars, exports, tuple(stiff))
        self.text = {
            "equations": dict(equations),
            "scalars": dict(scalars or {}),
            "exports": dict(exports or {}),
        }
        self.field_names = self.eq.fields
        self.scalar_names = self.eq.scalars
        self.export_names = self.eq.exports
        self.map_names = self.eq.maps
        self.stiff_fields = tuple(stiff)
        self.cell_fields = self._names("cell_fields", cell_fields)
        given = self.field_names if nonnegative is None else nonnegative
        self.nonnegative_fields = self._names("nonnegative", given)
        self.units = self._units(units or {})
        self.field_units = {f: self.units[f] for f in self.field_names if f in self.units}
        self.PARAMETERS = tuple(
            Parameter(name, check_real(name, value), self.units.get(name, "1"), name, "real")
            for name, value in parameters.items()
        )
        super().__init__(bc=bc, **parameters)
        self.maps = {name: self._map_value(name, value) for name, value in maps.items()}
        self._check_export_densities()
        self.kernel_name = generated.load_kernels(
            "pde", self.kernel_source(), *self._kernel_shape()
        )
        self.transport()  # refuse a negative diffusivity before any work

    # -- construction checks -----------------------------------------------------------
    def _names(self, what, names) -> tuple[str, ...]:
        names = (names,) if isinstance(names, str) else tuple(names)
        unknown = set(names) - set(self.field_names)
        if unknown:
            raise ValueError(
                f"{what}: unknown field(s) {sorted(unknown)}; fields are {list(self.field_names)}"
            )
        return names

    def _units(self, units: dict) -> dict:
        known = {*self.field_names, *self.eq.parameters, *self.scalar_names}
        unknown = set(units) - known
        if unknown:
            raise ValueError(f"units: unknown name(s) {sorted(unknown)}; known are {sorted(known)}")
        return {name: str(unit) for name, unit in units.items()}

    def _map_value(self, name, value):
        if callable(value) or (isinstance(value, int | float) and not isinstance(value, bool)):
            return value
        return check_finite_array(f"maps.{name}", value)

    def _check_export_densities(self) -> None:
        zero = {self.eq.symbols[f]: 0 for f in self.field_names}
        for name, density in self.eq.export_densities.items():
            if sp.simplify(density.subs(zero)) != 0:
                raise EquationError(
                    f"export {name}: {density} does not vanish where the fields do; an export "
                    "is a flux out of the fields (e.g. mu*v*u)"
                )

    def _kernel_shape(self):
        return len(self.export_names), bool(self.stiff_fields)

    def kernel_source(self) -> str:
        """The Python source of the generated kernels (``continuum.kernels.generated``)."""
        eq = self.eq
        names = {
            "fields": eq.fields,
            "maps": eq.maps,
            "scalars": eq.scalars,
            "exports": eq.exports,
            "parameters": eq.parameters,
        }
        return generated.kernel_source(
            names,
            [eq.reactions[f] for f in eq.fields],
            [eq.export_densities[e] for e in eq.exports],
            [eq.scalar_rates[s] for s in eq.scalars],
            [eq.stiff.get(f, sp.Integer(0)) for f in eq.fields],
        )

    # -- hooks for the solvers --------------------------------------------------------
    def _value(self, expr) -> float:
        """A parameter expression evaluated with this model's parameter values."""
        values = {self.eq.symbols[p]: v for p, v in self.parameters.items()}
        return float(sp.N(expr.subs(values)))

    def transport(self) -> Transport:
        """Diffusivities [mm^2/day], their maps and field laws, and taxis rows
        ``(field, attractant, chi)`` [mm^2/day], from the equations."""
        n = len(self.field_names)
        index = {name: i for i, name in enumerate(self.field_names)}
        diffusivity = np.zeros(n)
        diffusivity_map = np.full(n, -1, dtype=np.int64)
        law = np.tile([-1.0, 0.0, 0.0], (n, 1))
        for name, term in self.eq.diffusion.items():
            f = index[name]
            diffusivity[f] = self._value(term.coefficient)
            if not diffusivity[f] >= 0:
                raise ValueError(
                    f"diffusion of {name}: the coefficient {term.coefficient} is "
                    f"{diffusivity[f]:g} with these parameters; it must be >= 0 [mm^2/day]"
                )
            if term.map is not None:
                diffusivity_map[f] = self.map_names.index(term.map)
            if term.law is not None:
                w, a, b = term.law
                law[f] = (index[w], self._value(a), self._value(b))
        taxis = np.array(
            [[index[f], index[a], self._value(chi)] for f, a, chi in self.eq.taxis]
        ).reshape(-1, 3)
        return Transport(diffusivity, diffusivity_map, taxis, law)

    def static_maps(self, grid: Grid) -> np.ndarray:
        """The maps ``(n_maps, *grid.shape3)``; numbers fill the grid, functions get it."""
        maps = np.zeros((len(self.map_names), *grid.shape3))
        for i, name in enumerate(self.map_names):
            value = self.maps[name]
            if callable(value):
                value = check_finite_array(f"maps.{name}", value(grid))
            if np.ndim(value) and np.shape(value) != grid.shape:
                raise ValueError(
                    f"maps.{name}: got an array of shape {np.shape(value)}; the grid's shape "
                    f"{grid.shape} or a number is required"
                )
            maps[i] = np.broadcast_to(value, grid.shape).reshape(grid.shape3)
        return maps

    # -- reference ----------------------------------------------------------------------
    def _numpy(self, expr, state, t):
        """``expr`` evaluated by NumPy on the state's fields and maps."""
        names = [*self.field_names, *self.map_names, *self.scalar_names, *self.eq.parameters]
        symbols = [self.eq.symbols[n] for n in names] + [sp.Symbol("t", real=True)]
        function = sp.lambdify(symbols, expr, modules="numpy")
        grid = state.grid
        maps = self.static_maps(grid).reshape(-1, *grid.shape)
        scalars = [state.scalar(s) for s in self.scalar_names]
        values = [*state.data, *maps, *scalars, *self.parameters.values(), t]
        return np.broadcast_to(function(*values), grid.shape)

    def reference_rate(self, state, t=0.0):
        """NumPy right-hand side of the equations, shape ``(n_fields, *grid.shape)``:
        diffusion by finite volumes (``continuum.reference.diffusion``, harmonic face
        means), taxis by limited upwinding (``continuum.reference.taxis``), reactions
        evaluated from the same SymPy expressions; zero outside the mask."""
        from continuum.reference import diffusion, taxis, tissue

        grid = state.grid
        inside = tissue(grid)
        kind, value = self.boundary_arrays(grid)
        transport = self.transport()
        maps = self.static_maps(grid).reshape(-1, *grid.shape)
        rate = np.zeros_like(state.data)
        for f, name in enumerate(self.field_names):
            rate[f] = self._numpy(self.eq.reactions[name], state, t)
            if transport.diffusivity[f] > 0:
                coefficient = transport.diffusivity[f] * inside
                m, w, a, b = transport.law()[f]
                if m >= 0:
                    coefficient = coefficient * maps[int(m)]
                if w >= 0:
                    coefficient = coefficient * np.maximum(0.0, a + b * state.data[int(w)])
                rate[f] += diffusion(state.data[f], grid, kind[f], value[f], coefficient)
        for f, a, chi in transport.taxis:
            f, a = int(f), int(a)
            rate[f] += taxis(state.data[f], state.data[a], chi, grid, kind[f], grid.mask)
        return rate * inside

    def reference_exports(self, state, t=0.0):
        """NumPy integrals of the export densities over the tissue [field unit x mm^3]."""
        from continuum.reference import tissue

        inside = tissue(state.grid)
        return np.array(
            [
                np.sum(self._numpy(self.eq.export_densities[e], state, t) * inside)
                * state.grid.cell_volume
                for e in self.export_names
            ]
        )

    def reference_scalar_rate(self, state, t=0.0):
        """NumPy rates of the scalars, from the exports of :meth:`reference_exports`."""
        names = [*self.scalar_names, *self.export_names, *self.eq.parameters]
        symbols = [self.eq.symbols[n] for n in names] + [sp.Symbol("t", real=True)]
        values = [
            *(state.scalar(s) for s in self.scalar_names),
            *self.reference_exports(state, t),
            *self.parameters.values(),
            t,
        ]
        return np.array(
            [
                float(sp.lambdify(symbols, self.eq.scalar_rates[s])(*values))
                for s in self.scalar_names
            ]
        )

    # -- run files ----------------------------------------------------------------------
    def to_spec(self, grid: Grid) -> dict:
        spec = super().to_spec(grid)
        spec.update(self.text)
        spec["stiff"] = list(self.stiff_fields)
        spec["cell_fields"] = list(self.cell_fields)
        spec["nonnegative"] = list(self.nonnegative_fields)
        spec["field_units"] = dict(self.field_units)
        spec["maps"] = list(self.map_names)
        return spec

    @classmethod
    def _from_spec(cls, spec: dict, maps: dict) -> PDE:
        units = {**spec.get("units", {}), **spec.get("field_units", {})}
        return cls(
            spec["equations"],
            spec["parameters"],
            units=units,
            maps={name: maps[name] for name in spec.get("maps", [])},
            scalars=spec.get("scalars"),
            exports=spec.get("exports"),
            stiff=spec.get("stiff", ()),
            cell_fields=spec.get("cell_fields", ()),
            nonnegative=spec.get("nonnegative"),
            bc=spec.get("bc"),
        )

    def __repr__(self):
        equations = ", ".join(f"d{f}/dt = {t}" for f, t in self.text["equations"].items())
        return f"PDE({equations}; {', '.join(f'{k}={v:g}' for k, v in self.parameters.items())})"
