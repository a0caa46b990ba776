"""Pointwise kernels of the Stage-1 invasion model and its intravasation into blood and lymph.

Fields: 0 epithelial ``e``, 1 mesenchymal ``m``, 2 ecm ``f``, 3 mmp ``p``, 4 oxygen ``o``
(fractions); maps: 0 blood vessels ``v_B``, 1 lymph vessels ``v_L`` (densities in [0, 1])
and, last, the oxygen supply ``S(v_B)`` [1/day] (:func:`oxygen_supply`, once per run;
``Invasion.solver_maps``).
Exports (per unit volume, in fractions/day): 0 into blood, 1 into lymph, 2 births,
3 deaths, 4 killed by systemic therapy. Scalars: the circulation block of
``continuum.kernels.circulation``. The parameter vector is ``PARAMETER_ORDER`` followed
by the two therapy rates [1/day] a treatment schedule sets: on tissue cells
(``THERAPY_CELLS``) and on circulating cells (``THERAPY_CIRCULATING``).
"""

from __future__ import annotations

import math

from numba import njit

from continuum.kernels.circulation import (
    CirculationRates,
    TumourFluxes,
    circulation_rates,
    relax_circulation,
)
from continuum.kernels.flags import FASTMATH

EPITHELIAL, MESENCHYMAL, ECM, MMP, OXYGEN = range(5)
BLOOD_MAP, LYMPH_MAP = 0, 1

PARAMETER_ORDER = (
    "K_cell",
    "D_e",
    "D_m",
    "chi",
    "rho_e",
    "rho_m",
    "K_P",
    "k_emt",
    "h_max",
    "o_H",
    "k_met",
    "delta_max",
    "o_N",
    "hill",
    "eta",
    "r_f",
    "D_p",
    "alpha_m",
    "alpha_e",
    "lambda_p",
    "D_o",
    "sigma",
    "r_cap",
    "kappa",
    "mu_B",
    "mu_Be",
    "mu_L",
    "lymph_collapse",
    "k_clear",
    "k_ext",
    "k_LN",
    "k_LB",
    "k_nk",
    "first_pass",
)
_I = {name: i for i, name in enumerate(PARAMETER_ORDER)}
K_CELL, RHO_E, RHO_M, K_P = _I["K_cell"], _I["rho_e"], _I["rho_m"], _I["K_P"]
K_EMT, H_MAX, O_H, K_MET = _I["k_emt"], _I["h_max"], _I["o_H"], _I["k_met"]
DELTA_MAX, O_N, HILL = _I["delta_max"], _I["o_N"], _I["hill"]
ETA, R_F, ALPHA_M, ALPHA_E, LAMBDA_P = (
    _I["eta"],
    _I["r_f"],
    _I["alpha_m"],
    _I["alpha_e"],
    _I["lambda_p"],
)
SIGMA, R_CAP, KAPPA = _I["sigma"], _I["r_cap"], _I["kappa"]
MU_B, MU_BE, MU_L, LYMPH_COLLAPSE = _I["mu_B"], _I["mu_Be"], _I["mu_L"], _I["lymph_collapse"]
D_O = _I["D_o"]
K_CLEAR, K_EXT, K_LN, K_LB = _I["k_clear"], _I["k_ext"], _I["k_LN"], _I["k_LB"]
K_NK = _I["k_nk"]
FIRST_PASS = _I["first_pass"]
THERAPY_CELLS, THERAPY_CIRCULATING = len(PARAMETER_ORDER), len(PARAMETER_ORDER) + 1


@njit(cache=True, fastmath=FASTMATH, inline="always")
def hill_power(x, n):
    """``x ** n`` for ``x >= 0``: by repeated multiplication when ``n`` is a whole number
    from 1 to 8 (the default Hill exponent is 4; ``pow`` took 4 % of a 256² invasion step),
    by ``pow`` otherwise."""
    if 1.0 <= n <= 8.0 and n == math.floor(n):
        result = x
        for _ in range(int(n) - 1):
            result *= x
        return result
    return x**n


@njit(cache=True, fastmath=FASTMATH, inline="always")
def oxygen_responses(o, params, necrosis_scale):
    """``P(o) = o/(o+K_P)``, ``H(o) = 1 + h_max/(1+(o/o_H)^n)``, ``delta_N(o)``.

    ``o`` is taken as ``max(o, 0)``; ``P = 0`` where ``o + K_P = 0``. One power per cell:
    ``(o/o_N)^n = (o/o_H)^n c`` with ``necrosis_scale = c = (o_H/o_N)^n``
    (:func:`necrosis_scale`, once per row).
    """
    o = max(o, 0.0)
    proliferation = o / max(o + params[K_P], 1e-300)
    hypoxic = hill_power(o / params[O_H], params[HILL])
    necrotic = hypoxic * necrosis_scale if hypoxic > 0.0 else 0.0
    hypoxia = 1.0 + params[H_MAX] / (1.0 + hypoxic)
    necrosis = params[DELTA_MAX] / (1.0 + necrotic)
    return proliferation, hypoxia, necrosis


@njit(cache=True, fastmath=FASTMATH, inline="always")
def necrosis_scale(params):
    """``(o_H / o_N)^n``: the necrotic response's power from the hypoxic one's."""
    return (params[O_H] / params[O_N]) ** params[HILL]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def krogh_shape(v):
    """Dimensionless tissue resistance ``G(v)`` of a Krogh cylinder of vessel fraction ``v``.

    A capillary of radius ``a`` at ``o = 1`` feeds the coaxial tissue cylinder
    ``a < r < R`` (``v = a^2/R^2``, no flux at ``R``) that consumes uniformly at ``M``
    [1/day]; solving ``D_o (r o')'/r = M`` gives the tissue's mean oxygen
    ``1 - M a^2 G(v) / (2 D_o v)`` with

    .. math::

        G(v) = \\frac{1 - v}{4} + \\frac{\\ln(1/v)}{2 (1 - v)} - \\frac{1}{2},

    which falls from ``ln(1/v)/2 - 1/4`` (``v -> 0``) to ``0`` (``v = 1``, a cell that is
    all vessel). ``log1p(v - 1)`` keeps ``ln v / (1 - v)`` exact near ``v = 1``.
    """
    if v >= 1.0:
        return 0.0
    return 0.25 * (1.0 - v) - 0.5 * math.log1p(v - 1.0) / (1.0 - v) - 0.5


@njit(cache=True, fastmath=FASTMATH, inline="always")
def oxygen_exchange(v, params):
    """Oxygen supply coefficient ``S(v_B)`` [1/day] of a cell of blood-vessel fraction ``v``.

    Two resistances in series per unit tissue volume: the vessel's own exchange
    (perfusion and wall, ``1/(sigma v)``) and the diffusion through the tissue around a
    sub-cell capillary of radius ``a = r_cap`` (Krogh cylinder, ``a^2 G(v)/(2 D_o v)``,
    :func:`krogh_shape`):

    .. math::

        S(v) = \\frac{\\sigma v}{1 + \\sigma a^2 G(v) / (2 D_o)}.

    The supply of a cell then no longer depends on how its capillaries are spread over it:
    a capillary in a small cell (large ``v``) meets little tissue resistance, the same
    capillary counted as a small fraction of a large cell meets the resistance of the
    tissue it feeds. ``S = sigma v`` when ``r_cap = 0`` or ``v = 1``; ``S = 0`` for
    ``v = 0``, and for ``D_o = 0`` unless ``v = 1``.
    """
    wall = params[SIGMA] * v
    if wall <= 0.0:
        return 0.0
    tissue = params[SIGMA] * params[R_CAP] ** 2 * krogh_shape(v)
    if tissue <= 0.0:
        return wall
    return 2.0 * params[D_O] * wall / (2.0 * params[D_O] + tissue)


@njit(cache=True, fastmath=FASTMATH)
def oxygen_supply(v, params, out):
    """``out`` = :func:`oxygen_exchange` of every cell of the blood-vessel map ``v``."""
    n0, n1, n2 = v.shape
    for i0 in range(n0):
        for i1 in range(n1):
            for k in range(n2):
                out[i0, i1, k] = oxygen_exchange(v[i0, i1, k], params)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def supply(maps, i0, i1, k):
    """The oxygen supply ``S(v_B)`` [1/day] of a cell: the last map."""
    return maps[maps.shape[0] - 1, i0, i1, k]


@njit(cache=True, fastmath=FASTMATH, inline="always")
def open_lymphatics(cells, params):
    """Fraction of lymph vessels that drain where the tumour-cell fraction is ``cells``.

    ``F = max(0, 1 - (e + m)/c_L)`` with ``c_L = lymph_collapse``: solid stress from the
    proliferating cells compresses lymphatics shut inside a tumour, which drains only
    through the functional lymphatics at its margin (Padera et al., Science 2002).
    ``lymph_collapse = 0`` closes every lymph vessel (no lymphatic entry).
    """
    threshold = params[LYMPH_COLLAPSE]
    if threshold <= 0.0:
        return 0.0
    return max(0.0, 1.0 - cells / threshold)


@njit(cache=True, fastmath=FASTMATH)
def invasion_row(u, maps, i0, i1, scalars, params, t, rate, exports):
    """Reactions of one grid row (MODEL.md, Stage 1) and their exports.

    .. math::

        R_e &= \\rho_e P e (1-e-m) - k_{EMT} H e + k_{MET} m - \\delta_N e - \\mu_{Be} v_B e \\\\
        R_m &= \\rho_m P m (1-e-m) + k_{EMT} H e - k_{MET} m - \\delta_N m
               - (\\mu_B v_B + \\mu_L F v_L) m - r m \\\\
        R_f &= -\\eta p f + r_f f (1 - f - e - m) \\\\
        R_p &= \\alpha_m m + \\alpha_e e - \\lambda_p p \\\\
        R_o &= S(v_B) (1 - o) - \\kappa (e + m) o

    with ``S(v_B)`` the Krogh-limited supply of :func:`oxygen_exchange` (the last map),
    ``F(e + m)`` the open lymphatics of :func:`open_lymphatics`, and ``- r e`` in ``R_e``
    too: ``r`` is the therapy rate on tissue cells. Births are the positive part of the
    logistic growth, deaths its negative part (growth beyond capacity) plus necrosis;
    intravasation goes to blood and lymph, the therapy's kills to ``removed``.
    """
    therapy = params[THERAPY_CELLS]
    scale = necrosis_scale(params)
    for k in range(u.shape[3]):
        e = u[EPITHELIAL, i0, i1, k]
        m = u[MESENCHYMAL, i0, i1, k]
        f = u[ECM, i0, i1, k]
        p = u[MMP, i0, i1, k]
        o = u[OXYGEN, i0, i1, k]
        v_b = maps[BLOOD_MAP, i0, i1, k]
        v_l = maps[LYMPH_MAP, i0, i1, k]
        proliferation, hypoxia, necrosis = oxygen_responses(o, params, scale)
        room = 1.0 - e - m
        growth_e = params[RHO_E] * proliferation * e * room
        growth_m = params[RHO_M] * proliferation * m * room
        emt = params[K_EMT] * hypoxia * e
        met = params[K_MET] * m
        into_blood_e = params[MU_BE] * v_b * e
        into_blood_m = params[MU_B] * v_b * m
        into_lymph = params[MU_L] * open_lymphatics(e + m, params) * v_l * m
        rate[EPITHELIAL, k] += growth_e - emt + met - (necrosis + therapy) * e - into_blood_e
        rate[MESENCHYMAL, k] += (
            growth_m + emt - met - (necrosis + therapy) * m - into_blood_m - into_lymph
        )
        rate[ECM, k] += -params[ETA] * p * f + params[R_F] * f * (1.0 - f - e - m)
        rate[MMP, k] += params[ALPHA_M] * m + params[ALPHA_E] * e - params[LAMBDA_P] * p
        rate[OXYGEN, k] += supply(maps, i0, i1, k) * (1.0 - o) - params[KAPPA] * (e + m) * o
        growth = growth_e + growth_m
        exports[0] += into_blood_e + into_blood_m
        exports[1] += into_lymph
        exports[2] += max(growth, 0.0)
        exports[3] += max(-growth, 0.0) + necrosis * (e + m)
        exports[4] += therapy * (e + m)


@njit(cache=True, fastmath=FASTMATH, inline="always")
def invasion_stiff_rate(u, maps, i0, i1, k, f, params, t):
    """Linear loss rates [1/day]: oxygen ``S(v_B) + kappa (e + m)``, enzyme ``lambda_p``.

    Both fields relax fast (oxygen in minutes) and diffuse far per time step; the IMEX
    method takes them with a full backward-Euler step.
    """
    if f == MMP:
        return params[LAMBDA_P]
    if f != OXYGEN:
        return 0.0
    cells = u[EPITHELIAL, i0, i1, k] + u[MESENCHYMAL, i0, i1, k]
    return supply(maps, i0, i1, k) + params[KAPPA] * cells


@njit(cache=True, fastmath=FASTMATH)
def invasion_scalar_rate(scalars, exports, params, t, dscalars):
    """Circulation fed by the integrated exports (fractions x mm^3/day) times ``K_cell``."""
    cells = params[K_CELL]
    tumour = TumourFluxes(
        cells * exports[0],
        cells * exports[1],
        cells * exports[2],
        cells * exports[3],
        cells * exports[4],
    )
    rates = CirculationRates(
        params[K_CLEAR],
        params[K_EXT],
        params[K_LN],
        params[K_LB],
        params[FIRST_PASS],
        params[THERAPY_CIRCULATING],
        params[K_NK],
    )
    circulation_rates(scalars, 0, tumour, rates, dscalars)


@njit(cache=True, fastmath=FASTMATH)
def invasion_scalar_relax(s_in, s_out, exports, params, t, dt):
    """Blood and lymph exactly over the IMEX step (they relax within hours, far faster
    than the step), fed by the exports at its start."""
    cells = params[K_CELL]
    rates = (
        params[K_CLEAR],
        params[K_EXT],
        params[K_LN],
        params[K_LB],
        params[THERAPY_CIRCULATING],
        params[K_NK],
    )
    relax_circulation(
        s_in, s_out, 0, cells * exports[0], cells * exports[1], rates, params[FIRST_PASS], dt
    )
