"""Manufactured solutions for the whole ``Invasion`` system, every term on.

Five smooth exact fields and exact blood and lymph levels; the sources come from the
equations of the ``Invasion`` docstring written out in SymPy (``tests/mms.py``), the solver
runs the production kernels plus those sources. Checked: the observed order in space
(diffusion, limited haptotaxis, Krogh supply, Hill responses, open lymphatics, Dirichlet
and no-flux sides, a non-convex mask) and in time (3 for ``explicit``, 1 for ``imex``,
whose oxygen and enzyme take the multigrid-solved backward-Euler step).
"""

import pytest
import sympy as sp

import continuum as ct
from continuum.models import Invasion
from tests.helpers import observed_orders
from tests.mms import COORDS, TIME, Case, Family, divergence_of, grid_for, l_shape, laplacian

PARAMETERS = {
    "K_cell": 1e5,
    "D_e": 0.01,
    "D_m": 0.02,
    "chi": 0.03,
    "rho_e": 1.0,
    "rho_m": 0.8,
    "K_P": 0.3,
    "k_emt": 0.4,
    "h_max": 1.5,
    "o_H": 0.5,
    "k_met": 0.3,
    "delta_max": 0.6,
    "o_N": 0.3,
    "hill": 2.5,
    "eta": 1.2,
    "r_f": 0.5,
    "D_p": 0.05,
    "alpha_m": 0.7,
    "alpha_e": 0.2,
    "lambda_p": 0.9,
    "D_o": 0.1,
    "sigma": 4.0,
    "r_cap": 0.05,
    "kappa": 2.0,
    "mu_B": 0.3,
    "mu_Be": 0.1,
    "mu_L": 0.4,
    "lymph_collapse": 2.0,
    "k_clear": 3.0,
    "k_ext": 0.5,
    "k_LN": 1.0,
    "k_LB": 0.7,
    "first_pass": 0.2,
}
THERAPY_TISSUE, THERAPY_CIRCULATING = 0.05, 0.3
T_END = 0.25  # day


def invasion_rhs(fields, vessels, ndim, p, therapy=(0.0, 0.0)):
    """The ``Invasion`` equations (its docstring) as SymPy expressions."""
    e, m, f, q, o = (fields[n] for n in Invasion.field_names)
    v_b, v_l = vessels
    n = p["hill"]
    proliferation = o / (o + p["K_P"])
    hypoxia = 1 + p["h_max"] / (1 + (o / p["o_H"]) ** n)
    necrosis = p["delta_max"] / (1 + (o / p["o_N"]) ** n)
    krogh = (1 - v_b) / 4 + sp.log(1 / v_b) / (2 * (1 - v_b)) - sp.Rational(1, 2)
    supply = p["sigma"] * v_b / (1 + p["sigma"] * p["r_cap"] ** 2 * krogh / (2 * p["D_o"]))
    open_lymph = 1 - (e + m) / p["lymph_collapse"]
    room = 1 - e - m
    r = therapy[0]
    return {
        "epithelial": p["D_e"] * laplacian(e, ndim)
        + p["rho_e"] * proliferation * e * room
        - p["k_emt"] * hypoxia * e
        + p["k_met"] * m
        - necrosis * e
        - p["mu_Be"] * v_b * e
        - r * e,
        "mesenchymal": p["D_m"] * laplacian(m, ndim)
        - p["chi"] * divergence_of(m, f, ndim)
        + p["rho_m"] * proliferation * m * room
        + p["k_emt"] * hypoxia * e
        - p["k_met"] * m
        - necrosis * m
        - (p["mu_B"] * v_b + p["mu_L"] * open_lymph * v_l) * m
        - r * m,
        "ecm": -p["eta"] * q * f + p["r_f"] * f * (1 - f - e - m),
        "mmp": p["D_p"] * laplacian(q, ndim)
        + p["alpha_m"] * m
        + p["alpha_e"] * e
        - p["lambda_p"] * q,
        "oxygen": p["D_o"] * laplacian(o, ndim) + supply * (1 - o) - p["kappa"] * (e + m) * o,
    }


def invasion_case(ndim, masked):
    """Exact fields: no-flux cells and matrix; enzyme Dirichlet 0 on the x sides and oxygen
    Dirichlet 1 everywhere on a box, both no-flux on the masked L-shape."""
    x = COORDS[:ndim]
    taus = sp.symbols("tau_e tau_m tau_f tau_p tau_o", real=True)
    tau_e, tau_m, tau_f, tau_p, tau_o = taus
    factors = tuple(
        zip(
            taus,
            (
                1 + sp.sin(3 * TIME) / 2,
                sp.exp(-TIME / 2),
                1 + TIME,
                1 + sp.cos(2 * TIME) / 2,
                1 + sp.sin(TIME) / 2,
            ),
            strict=True,
        )
    )
    product_cos = sp.Mul(*(sp.cos(sp.pi * c) for c in x))
    tail_cos = sp.Mul(*(sp.cos(sp.pi * c) for c in x[1:]))
    exact = {
        "epithelial": sp.Rational(3, 10) + tau_e * product_cos / 10,
        "mesenchymal": sp.Rational(15, 100) + tau_m * sp.cos(2 * sp.pi * x[0]) * tail_cos / 20,
        "ecm": sp.Rational(6, 10) + tau_f * sum(sp.cos(sp.pi * c) for c in x) / (5 * ndim),
    }
    if masked:
        exact["mmp"] = sp.Rational(3, 10) + tau_p * product_cos / 10
        exact["oxygen"] = (
            sp.Rational(7, 10) + tau_o * sp.Mul(*(sp.cos(2 * sp.pi * c) for c in x)) / 5
        )
    else:
        exact["mmp"] = tau_p * sp.sin(sp.pi * x[0]) * (sp.Rational(3, 2) + tail_cos / 2) / 5
        exact["oxygen"] = 1 - 2 * tau_o * sp.Mul(*(sp.sin(sp.pi * c) for c in x)) / 5
    v_b = sp.Rational(1, 4) + sp.Mul(*(sp.cos(sp.pi * c / 2 + sp.Rational(3, 10)) for c in x)) / 10
    v_l = sp.Rational(1, 10) + sum(sp.sin(2 * c + 1) for c in x) / (20 * ndim)
    p = PARAMETERS
    therapy = (THERAPY_TISSUE, THERAPY_CIRCULATING)
    e, m = exact["epithelial"], exact["mesenchymal"]
    blood = 1000 * (1 + 3 * sp.sin(2 * TIME) / 10)
    lymph = 400 * (1 + sp.cos(3 * TIME) / 5)
    r = THERAPY_CIRCULATING
    return Case(
        Invasion,
        ndim,
        exact,
        invasion_rhs(exact, (v_b, v_l), ndim, p, therapy),
        maps={"blood_vessels": v_b, "lymph_vessels": v_l},
        scalars={"blood_ctc": blood, "lymph_ctc": lymph},
        scalar_rhs={
            "blood_ctc": (
                p["k_LB"] * lymph - (p["k_clear"] + p["k_ext"] + r) * blood,
                0,
                (1 - p["first_pass"]) * p["K_cell"],
            ),
            "lymph_ctc": (-(p["k_LN"] + p["k_LB"] + r) * lymph, 1, p["K_cell"]),
        },
        export_density={
            0: v_b * (p["mu_B"] * m + p["mu_Be"] * e),
            1: p["mu_L"] * (1 - (e + m) / p["lymph_collapse"]) * v_l * m,
        },
        time_factors=factors,
    )


BOX_BC = {
    "mmp": {"x": ct.Dirichlet(0.0)},
    "oxygen": ct.Dirichlet(1.0),
}


CASES = [(ndim, masked) for ndim in (1, 2, 3) for masked in (False, True)]
_FAMILY = []


def manufactured(ndim, masked):
    """The case's member of one family holding all six (compiled once)."""
    if not _FAMILY:
        members = []
        for d, m in CASES:
            boxes = l_shape(d, 1)[1] if m else [[(0.0, 1.0)] * d]
            kwargs = {**PARAMETERS, "bc": None if m else BOX_BC}
            members.append((invasion_case(d, m), boxes, kwargs))
        slots = Invasion.therapy_slots
        overrides = {slots[0]: THERAPY_TISSUE, slots[1]: THERAPY_CIRCULATING}
        _FAMILY.append(Family(Invasion, members, param_overrides=overrides))
    return _FAMILY[0].members[CASES.index((ndim, masked))]


def explicit_errors(ndim, masked, n):
    """Errors after ``T_END`` with SSP-RK(4,3) steps at half the forward-Euler diffusion
    limit of oxygen."""
    return manufactured(ndim, masked).explicit_errors(
        grid_for(ndim, masked, n), T_END, PARAMETERS["D_o"]
    )


# Observed orders measured (RMS over the active cells; cells per mm n as listed):
# every field and both compartments 1.95-2.05, except the haptotactic (limited upwind)
# mesenchymal field 1.93-1.98 (lowest: 3D L-shape n = 4 -> 8, 1.92; epithelial there 1.91).
SPACE_CASES = [
    (1, False, (16, 32, 64)),
    (1, True, (16, 32, 64)),
    (2, False, (8, 16, 32)),
    (2, True, (8, 16, 32)),
    (3, False, (6, 12, 24)),
    (3, True, (4, 8, 16)),
]
# The issue's floors: 1.9 where diffusion sets the error, 1.8 for the limited taxis.
SPACE_FLOOR = {"mesenchymal": 1.8}


@pytest.mark.parametrize(("ndim", "masked", "sizes"), SPACE_CASES)
def test_explicit_converges_at_second_order_in_space(ndim, masked, sizes):
    runs = [explicit_errors(ndim, masked, n) for n in sizes]
    for name in runs[0]:
        errors = [r[name] for r in runs]
        orders = observed_orders(errors)
        assert orders.min() >= SPACE_FLOOR.get(name, 1.9), (name, errors, orders)
        assert orders.max() <= 2.2, (name, errors, orders)  # measured at most 2.07


def step_differences(ndim, masked, n, method, step_counts, **solver_kwargs):
    return manufactured(ndim, masked).step_differences(
        grid_for(ndim, masked, n), method, T_END, step_counts, **solver_kwargs
    )


# Measured: explicit (SSP-RK3) 3.00-3.01 on the last halving (oxygen 3.04-3.07);
# IMEX 0.96-1.01 on the last halving (16 -> 128 steps).
@pytest.mark.parametrize(("ndim", "masked", "n"), [(1, False, 16), (2, True, 8)])
def test_explicit_is_third_order_in_time(ndim, masked, n):
    differences = step_differences(ndim, masked, n, "explicit", (16, 32, 64, 128))
    for name, values in differences.items():
        order = observed_orders(values)[-1]
        assert 2.85 <= order <= 3.15, (name, values)


@pytest.mark.parametrize(("ndim", "masked", "n"), [(2, False, 8), (3, True, 4)])
def test_imex_is_first_order_in_time(ndim, masked, n):
    """Oxygen and enzyme take the multigrid-solved backward-Euler step (solved far below
    the differences measured), the cells the LOD line solves, blood and lymph the exact
    relaxation."""
    differences = step_differences(
        ndim, masked, n, "imex", (16, 32, 64, 128), rtol=1e-10, atol=1e-13
    )
    for name, values in differences.items():
        order = observed_orders(values)[-1]
        assert 0.9 <= order <= 1.1, (name, values)
