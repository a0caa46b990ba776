"""Equations written as text, read into SymPy and sorted into the terms the kernels take.

A field's equation is a sum of

- **diffusion** ``c*laplace(u)`` or ``c*div(g*grad(u))`` of the field ``u`` itself, ``c`` made
  of parameters and ``g`` a product of at most one static map and one factor
  ``a + b*w`` linear in one field ``w`` (the kernels' variable coefficient
  ``D m(x) max(0, a + b w)``);
- **taxis** ``-div(chi*u*grad(a))`` up the gradient of another field ``a``, ``chi`` made of
  parameters (sent to the positivity-preserving limited upwind operator);
- **reactions**: any expression in fields, maps, compartments (scalars), parameters and time
  ``t``, with the functions of :data:`FUNCTIONS`.

Compartments (scalars) have rates in scalars, exports, parameters and ``t``; an export is
the integral over the tissue of a pointwise density (cells entering a vessel, say).

Text is read by Python's own parser and only the grammar above is accepted (names, numbers,
``+ - * / **``, calls of the known functions and operators): a scenario file cannot run
code. Every mistake is reported with the equation and the term, before any compilation.
"""

from __future__ import annotations

import ast
import keyword
import operator
from dataclasses import dataclass, field

import sympy as sp

# Functions an equation may call, by the name it uses.
FUNCTIONS = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tanh": sp.tanh,
    "abs": sp.Abs,
    "min": sp.Min,
    "max": sp.Max,
}
CONSTANTS = {"pi": sp.pi}
TIME = sp.Symbol("t", real=True)
RESERVED = {"t", "laplace", "div", "grad", "math", "np", *FUNCTIONS, *CONSTANTS}

_laplace = sp.Function("laplace")
_div = sp.Function("div")
_grad = sp.Function("grad")
OPERATORS = {"laplace": _laplace, "div": _div, "grad": _grad}

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
_BINARY |= {ast.Div: operator.truediv, ast.Pow: operator.pow}


class EquationError(ValueError):
    """An equation that cannot be read or that the kernels cannot discretise."""


def check_name(kind: str, name) -> str:
    """``name`` if it can name a field, map, scalar, export or parameter."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise EquationError(f"{kind} name {name!r}: a Python identifier is required")
    if name.startswith("_") or name in RESERVED:
        raise EquationError(
            f"{kind} name {name!r} is reserved (names may not start with '_' nor be one of "
            f"{sorted(RESERVED)})"
        )
    return name


def parse(text, where: str, symbols: dict[str, sp.Symbol]) -> sp.Expr:
    """The SymPy expression of ``text``; names must be in ``symbols`` (or ``t``, ``pi``),
    calls in :data:`FUNCTIONS` or ``laplace``/``div``/``grad``."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return sp.Float(text) if isinstance(text, float) else sp.Integer(text)
    if not isinstance(text, str):
        raise EquationError(f"{where}: got {text!r}; an expression as text is required")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise EquationError(f"{where}: cannot read {text!r} ({error.msg})") from None
    return _build(tree.body, text, where, symbols)


def _build(node, text, where, symbols):
    def fail(message):
        return EquationError(f"{where}: {message} in {text!r}")

    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise fail(f"the constant {node.value!r} is not a number")
        return sp.Integer(node.value) if isinstance(node.value, int) else sp.Float(node.value)
    if isinstance(node, ast.Name):
        if node.id in symbols:
            return symbols[node.id]
        if node.id == "t":
            return TIME
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise fail(f"unknown name {node.id!r} (known: {', '.join(sorted(symbols))}, t, pi)")
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.BitXor):
            raise fail("'^' is not a power; write '**'")
        if type(node.op) not in _BINARY:
            raise fail(f"the operator {type(node.op).__name__} is not allowed")
        left = _build(node.left, text, where, symbols)
        right = _build(node.right, text, where, symbols)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _build(node.operand, text, where, symbols)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        name = node.func.id
        if name not in OPERATORS and name not in FUNCTIONS:
            raise fail(
                f"unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))}, "
                "laplace, div, grad)"
            )
        args = [_build(a, text, where, symbols) for a in node.args]
        if name in OPERATORS:
            if len(args) != 1:
                raise fail(f"{name}() takes one argument")
            return OPERATORS[name](args[0])
        if name in FUNCTIONS:
            return FUNCTIONS[name](*args)
        raise fail(
            f"unknown function {name!r} (known: {', '.join(sorted(FUNCTIONS))}, laplace, div, grad)"
        )
    raise fail(f"'{ast.unparse(node)}' is not an expression of the allowed form")


@dataclass(frozen=True)
class Diffusion:
    """Diffusion ``coefficient * div(m(x) max(0, a + b w) grad u)`` of one field.

    ``coefficient`` is an expression in parameters [mm^2/day]; ``map`` the name of a static
    map or ``None``; ``law`` ``(w, a, b)`` (``w`` a field name, ``a``/``b`` expressions in
    parameters) or ``None``.
    """

    coefficient: sp.Expr
    map: str | None = None
    law: tuple | None = None


@dataclass
class Equations:
    """A model's equations sorted into transport, reactions and compartments."""

    fields: tuple[str, ...]
    maps: tuple[str, ...]
    scalars: tuple[str, ...]
    exports: tuple[str, ...]
    parameters: tuple[str, ...]
    symbols: dict[str, sp.Symbol]
    diffusion: dict[str, Diffusion] = field(default_factory=dict)
    taxis: list[tuple[str, str, sp.Expr]] = field(default_factory=list)
    reactions: dict[str, sp.Expr] = field(default_factory=dict)
    scalar_rates: dict[str, sp.Expr] = field(default_factory=dict)
    export_densities: dict[str, sp.Expr] = field(default_factory=dict)
    stiff: dict[str, sp.Expr] = field(default_factory=dict)


def read_equations(
    equations: dict,
    parameters,
    maps=(),
    scalars: dict | None = None,
    exports: dict | None = None,
    stiff=(),
) -> Equations:
    """Read and sort a model's equations (see the module docstring).

    Parameters
    ----------
    equations : field name -> right-hand side of ``d(field)/dt`` (text).
    parameters : parameter names.
    maps : names of static maps (functions of position).
    scalars : compartment name -> right-hand side of its ``d/dt`` (text).
    exports : export name -> density whose integral over the tissue it is (text).
    stiff : fields whose reactions contain a fast linear loss ``-R u`` solved implicitly by
        the IMEX method (``R >= 0`` must not depend on the field itself nor on scalars).
    """
    if not isinstance(equations, dict) or not equations:
        raise EquationError("equations: a table field name -> right-hand side is required")
    scalars = dict(scalars or {})
    exports = dict(exports or {})
    groups = {
        "field": tuple(equations),
        "map": tuple(maps),
        "scalar": tuple(scalars),
        "export": tuple(exports),
        "parameter": tuple(parameters),
    }
    symbols = {}
    for kind, names in groups.items():
        for name in names:
            check_name(kind, name)
            if name in symbols:
                raise EquationError(f"{kind} name {name!r} is used twice")
            symbols[name] = sp.Symbol(name, real=True)
    eq = Equations(*groups.values(), symbols=symbols)
    for name, text in equations.items():
        _sort_field(eq, name, parse(text, f"equation of {name}", symbols))
    for name, text in scalars.items():
        expr = parse(text, f"rate of scalar {name}", symbols)
        _allow(expr, f"rate of scalar {name}", (*eq.scalars, *eq.exports, *eq.parameters))
        eq.scalar_rates[name] = expr
    for name, text in exports.items():
        expr = parse(text, f"export {name}", symbols)
        _allow(expr, f"export {name}", (*eq.fields, *eq.maps, *eq.scalars, *eq.parameters))
        eq.export_densities[name] = expr
    for name in stiff:
        eq.stiff[name] = _stiff_rate(eq, name)
    return eq


def _allow(expr, where, names) -> None:
    """Refuse operators in ``expr`` and symbols other than ``names`` and ``t``."""
    if expr.atoms(sp.core.function.AppliedUndef):
        raise EquationError(f"{where}: laplace/div/grad belong in field equations only")
    extra = {str(s) for s in expr.free_symbols} - set(names) - {"t"}
    if extra:
        raise EquationError(
            f"{where}: may not use {sorted(extra)} (allowed: {', '.join(names)}, t)"
        )


def _sort_field(eq: Equations, name: str, expr: sp.Expr) -> None:
    """Split the equation of field ``name`` into diffusion, taxis and the reaction."""
    where = f"equation of {name}"
    applied = sorted(expr.atoms(sp.core.function.AppliedUndef), key=str)
    outer = [a for a in applied if not any(a != b and b.has(a) for b in applied)]
    dummies = {a: sp.Dummy() for a in outer}
    linear = expr.subs(dummies)
    reaction = linear.subs({d: 0 for d in dummies.values()})
    for term, dummy in dummies.items():
        if term.func == _grad:
            raise EquationError(f"{where}: grad() only inside div(... * grad(field))")
        coefficient = sp.simplify(sp.diff(linear, dummy))
        if coefficient.has(*dummies.values()) or coefficient.free_symbols - set(
            eq.symbols[p] for p in eq.parameters
        ):
            raise EquationError(
                f"{where}: the factor of {term} must be made of parameters and numbers; "
                f"got {coefficient} (a variable coefficient goes inside: div(g*grad(u)); "
                "taxis is -div(chi*u*grad(a)))"
            )
        _transport_term(eq, name, term, coefficient, where)
    _allow(reaction, where, (*eq.fields, *eq.maps, *eq.scalars, *eq.parameters))
    eq.reactions[name] = reaction


def _transport_term(eq: Equations, name, term, coefficient, where) -> None:
    """Book ``coefficient * term`` (``laplace(.)`` or ``div(.)``) as diffusion or taxis."""
    own = eq.symbols[name]
    (argument,) = term.args
    if term.func == _laplace:
        if argument != own:
            raise EquationError(
                f"{where}: laplace({argument}) is cross-diffusion or taxis written by hand; "
                f"only laplace({name}) is diffusion, and taxis is -div(chi*{name}*grad(a))"
            )
        return _add_diffusion(eq, name, Diffusion(coefficient), where)
    grads = [g for g in argument.atoms(sp.core.function.AppliedUndef) if g.func == _grad]
    if len(grads) != 1 or grads[0].args[0] not in [eq.symbols[f] for f in eq.fields]:
        raise EquationError(f"{where}: {term} must be div(g * grad(field)) with one grad")
    (gradient,) = grads
    inner = argument / gradient
    if inner.has(gradient) or inner.atoms(sp.core.function.AppliedUndef):
        raise EquationError(f"{where}: {term} must be div(g * grad(field)) with one grad")
    target = gradient.args[0]
    if target == own:
        return _add_diffusion(eq, name, _variable_diffusion(eq, coefficient, inner, where), where)
    chi = sp.cancel(-coefficient * inner / own)
    if chi.has(own) or chi.free_symbols - {eq.symbols[p] for p in eq.parameters}:
        raise EquationError(
            f"{where}: {term} is not conservative taxis; write -div(chi*{name}*grad({target}))"
            f" with chi made of parameters"
        )
    eq.taxis.append((name, str(target), chi))


def _variable_diffusion(eq: Equations, coefficient, inner, where) -> Diffusion:
    """``coefficient * inner`` as ``c * map * (a + b w)``."""
    factors = sp.Mul.make_args(inner)
    constant, chosen_map, law = coefficient, None, None
    for factor in factors:
        symbols = {str(s) for s in factor.free_symbols}
        if not symbols - set(eq.parameters):
            constant *= factor
        elif factor.is_Symbol and str(factor) in eq.maps and chosen_map is None:
            chosen_map = str(factor)
        elif law is None and len(fields := symbols & set(eq.fields)) == 1:
            (w,) = fields
            w_symbol = eq.symbols[w]
            poly = sp.Poly(factor, w_symbol)
            if poly.degree() != 1 or symbols - {w} - set(eq.parameters):
                break
            b, a = poly.all_coeffs()
            law = (w, a, b)
        else:
            break
    else:
        return Diffusion(constant, chosen_map, law)
    raise EquationError(
        f"{where}: the diffusivity {coefficient * inner} must be parameters x at most one "
        "map x at most one factor (a + b*field)"
    )


def _add_diffusion(eq: Equations, name, diffusion: Diffusion, where) -> None:
    if name in eq.diffusion:
        raise EquationError(f"{where}: diffusion of {name} written twice; write it once")
    eq.diffusion[name] = diffusion


def _stiff_rate(eq: Equations, name) -> sp.Expr:
    """``R`` of the reaction of ``name`` written ``A - R * name`` (``A``, ``R`` free of it)."""
    if name not in eq.fields:
        raise EquationError(f"stiff: {name!r} is not a field (fields: {', '.join(eq.fields)})")
    own = eq.symbols[name]
    reaction = sp.expand(eq.reactions[name])
    rate = -sp.diff(reaction, own)
    if rate.has(own):
        raise EquationError(
            f"stiff: the reaction of {name} is not linear in {name}; an implicit loss "
            f"-R*{name} needs R free of {name}"
        )
    scalar_symbols = {eq.symbols[s] for s in eq.scalars}
    if rate.free_symbols & scalar_symbols:
        raise EquationError(f"stiff: the loss rate of {name} may not depend on scalars")
    return sp.simplify(rate)
