"""Manufactured solutions for ``AndersonChaplain`` and ``AcidMediated``.

The equations of each model's docstring in SymPy, every parameter non-zero; sources from
``tests/mms.py``. Checked: the observed order in space (haptotaxis with the limited upwind
flux, the acid-mediated model's density-dependent diffusion with harmonic face means,
no-flux and Dirichlet sides, an L-shaped mask) and in time (3 explicit, 1 IMEX).
"""

import numpy as np
import pytest
import sympy as sp

import continuum as ct
from continuum.models import AcidMediated, AndersonChaplain
from tests.helpers import compiled_rhs, observed_orders
from tests.mms import COORDS, TIME, Case, Family, divergence_of, grid_for, l_shape, laplacian

AC_PARAMETERS = {"d_n": 0.02, "gamma": 0.05, "eta": 1.5, "d_m": 0.04, "alpha": 0.6, "beta": 0.4}
ACID_PARAMETERS = {"delta_1": 1.3, "rho_2": 0.8, "Delta_2": 0.05, "delta_3": 2.0}
CASES = [(1, False), (2, False), (2, True), (3, False), (3, True)]


def _factors(*expressions):
    symbols = sp.symbols(f"tau0:{len(expressions)}", real=True)
    return symbols, tuple(zip(symbols, expressions, strict=True))


def anderson_chaplain_case(ndim, masked):
    """``n`` and ``f`` no-flux; the enzyme Dirichlet 0.2 on a box, no-flux on the L-shape."""
    x = COORDS[:ndim]
    (t0, t1, t2), factors = _factors(
        1 + sp.sin(2 * TIME) / 2, sp.exp(-TIME), 1 + sp.cos(3 * TIME) / 3
    )
    cos_all = sp.Mul(*(sp.cos(sp.pi * c) for c in x))
    n = sp.Rational(1, 2) + t0 * cos_all / 4
    f = sp.Rational(1, 2) + t1 * sum(sp.cos(sp.pi * c) for c in x) / (4 * ndim)
    if masked:
        m = sp.Rational(3, 10) + t2 * sp.Mul(*(sp.cos(2 * sp.pi * c) for c in x)) / 10
    else:
        m = sp.Rational(1, 5) + t2 * sp.Mul(*(sp.sin(sp.pi * c) for c in x)) / 5
    p = AC_PARAMETERS
    rhs = {
        "n": p["d_n"] * laplacian(n, ndim) - p["gamma"] * divergence_of(n, f, ndim),
        "f": -p["eta"] * m * f,
        "m": p["d_m"] * laplacian(m, ndim) + p["alpha"] * n - p["beta"] * m,
    }
    return Case(AndersonChaplain, ndim, {"n": n, "f": f, "m": m}, rhs, time_factors=factors)


def acid_case(ndim, masked):
    """Normal tissue and tumour no-flux; acid Dirichlet 0.5 on a box, no-flux on the
    L-shape. ``1 - normal`` stays in [0.2, 0.6], away from the tumour's zero motility."""
    x = COORDS[:ndim]
    (t0, t1, t2), factors = _factors(
        1 + sp.sin(2 * TIME) / 2, sp.exp(-TIME), 1 + sp.cos(3 * TIME) / 3
    )
    normal = sp.Rational(3, 5) + t0 * sp.Mul(*(sp.cos(sp.pi * c) for c in x)) / 10
    tumor = sp.Rational(2, 5) + t1 * sum(sp.cos(sp.pi * c) for c in x) / (5 * ndim)
    if masked:
        acid = sp.Rational(1, 2) + t2 * sp.Mul(*(sp.cos(sp.pi * c) for c in x)) / 5
    else:
        acid = sp.Rational(1, 2) + t2 * sp.Mul(*(sp.sin(sp.pi * c) for c in x)) / 5
    p = ACID_PARAMETERS
    rhs = {
        "normal": normal * (1 - normal) - p["delta_1"] * acid * normal,
        "tumor": p["rho_2"] * tumor * (1 - tumor)
        + divergence_of(p["Delta_2"] * (1 - normal), tumor, ndim),
        "acid": p["delta_3"] * (tumor - acid) + laplacian(acid, ndim),
    }
    exact = {"normal": normal, "tumor": tumor, "acid": acid}
    return Case(AcidMediated, ndim, exact, rhs, time_factors=factors)


# name: (class, case builder, parameters, box boundary conditions, largest diffusivity,
# run time)
MODELS = {
    "anderson_chaplain": (
        AndersonChaplain,
        anderson_chaplain_case,
        AC_PARAMETERS,
        {"m": ct.Dirichlet(0.2)},
        AC_PARAMETERS["d_m"],
        0.25,
    ),
    "acid_mediated": (
        AcidMediated,
        acid_case,
        ACID_PARAMETERS,
        {"acid": ct.Dirichlet(0.5)},
        1.0,
        0.05,  # acid diffuses at 1: a short run keeps the explicit steps few
    ),
}
_FAMILIES = {}


def manufactured(model, ndim, masked):
    """The case's member of the model's family (all cases compiled once)."""
    if model not in _FAMILIES:
        cls, build, parameters, box_bc, _, _ = MODELS[model]
        members = []
        for d, m in CASES:
            boxes = l_shape(d, 1)[1] if m else [[(0.0, 1.0)] * d]
            members.append((build(d, m), boxes, {**parameters, "bc": None if m else box_bc}))
        _FAMILIES[model] = Family(cls, members)
    return _FAMILIES[model].members[CASES.index((ndim, masked))]


# Observed orders measured (RMS over the active cells): haptotactic cells n 1.83-1.99,
# every other field 1.94-2.03.
SPACE_CASES = [
    (1, False, (16, 32, 64)),
    (2, False, (8, 16, 32)),
    (2, True, (8, 16, 32)),
    (3, False, (6, 12, 24)),
    (3, True, (4, 8, 16)),
]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(("ndim", "masked", "sizes"), SPACE_CASES)
def test_explicit_converges_at_second_order_in_space(model, ndim, masked, sizes):
    case = manufactured(model, ndim, masked)
    diffusivity, t_end = MODELS[model][4:]
    runs = [case.explicit_errors(grid_for(ndim, masked, n), t_end, diffusivity) for n in sizes]
    for name in runs[0]:
        errors = [r[name] for r in runs]
        orders = observed_orders(errors)
        floor = 1.8 if (model, name) == ("anderson_chaplain", "n") else 1.9  # taxis: 1.8
        assert orders.min() >= floor, (name, errors, orders)
        assert orders.max() <= 2.2, (name, errors, orders)


@pytest.mark.parametrize("model", MODELS)
def test_explicit_is_third_order_and_imex_first_order_in_time(model):
    case = manufactured(model, 2, True)
    grid = grid_for(2, True, 8)
    t_end = MODELS[model][5]
    explicit = case.step_differences(grid, "explicit", t_end, (16, 32, 64, 128))
    for name, values in explicit.items():
        assert 2.85 <= observed_orders(values)[-1] <= 3.15, (name, values)
    imex = case.step_differences(grid, "imex", t_end, (16, 32, 64, 128), rtol=1e-10, atol=1e-13)
    for name, values in imex.items():
        assert 0.9 <= observed_orders(values)[-1] <= 1.1, (name, values)


def test_truncation_error_at_the_exact_state_falls_at_second_order():
    """The hook itself: at the exact state the compiled rate (model plus source) is
    ``du*/dt`` up to the truncation error, which falls as ``h^2`` (measured orders 1.83
    and 1.97 for the cells (taxis), 2.0 for the enzyme; the matrix has no spatial
    operator and is exact to 1e-16)."""
    case = manufactured("anderson_chaplain", 1, False)
    model = case.model_cls(**case.model_kwargs)
    errors = {name: [] for name in AndersonChaplain.field_names}
    for n in (16, 32, 64):
        grid = grid_for(1, False, n)
        state = model.initial_state(grid, **case.fields_at(grid, 0.3))
        rate, _, _ = compiled_rhs(model, state, 0.3)
        for i, name in enumerate(AndersonChaplain.field_names):
            derivative = sp.lambdify((COORDS[0], TIME), sp.diff(case.exact[name], TIME))
            expected = np.broadcast_to(derivative(grid.coords[0], 0.3), grid.shape)
            errors[name].append(float(np.max(np.abs(rate[i] - expected))))
    assert max(errors["f"]) < 1e-14
    for name in ("n", "m"):
        assert observed_orders(errors[name]).min() >= 1.8, (name, errors[name])
