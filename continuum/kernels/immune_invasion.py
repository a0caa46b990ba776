"""Pointwise kernels of the invasion model with immune effector cells and a chemokine.

Fields: those of ``continuum.kernels.invasion`` (0 epithelial ``e``, 1 mesenchymal ``m``,
2 ecm ``f``, 3 mmp ``p``, 4 oxygen ``o``), then 5 immune ``I`` (effector cells, fraction
of ``K_cell``) and 6 chemokine ``c`` (relative units). Maps, exports and scalars are the
invasion model's. The parameter vector is the invasion model's (its ``PARAMETER_ORDER``
and the two therapy rates, at the same positions) followed by ``IMMUNE_ORDER``.
"""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.invasion import (
    BLOOD_MAP,
    EPITHELIAL,
    MESENCHYMAL,
    THERAPY_CIRCULATING,
    invasion_row,
    invasion_stiff_rate,
)

IMMUNE, CHEMOKINE = 5, 6
DEATHS = 3  # the invasion model's export of cells that die in the tissue

IMMUNE_ORDER = (
    "k_I",
    "D_I",
    "chi_I",
    "s_I",
    "rho_I",
    "eta_I",
    "mu_I",
    "delta_I",
    "D_c",
    "alpha_c",
    "lambda_c",
)
_J = {name: THERAPY_CIRCULATING + 1 + i for i, name in enumerate(IMMUNE_ORDER)}
K_I, S_I, RHO_I, ETA_I = _J["k_I"], _J["s_I"], _J["rho_I"], _J["eta_I"]
MU_I, DELTA_I = _J["mu_I"], _J["delta_I"]
ALPHA_C, LAMBDA_C = _J["alpha_c"], _J["lambda_c"]


@njit(cache=True, fastmath=FASTMATH)
def immune_invasion_row(u, maps, i0, i1, scalars, params, t, rate, exports):
    """The invasion reactions (:func:`continuum.kernels.invasion.invasion_row`) plus

    .. math::

        R_e &\\mathrel{+}= -k_I I e, \\qquad R_m \\mathrel{+}= -k_I I m \\\\
        R_I &= s_I v_B + \\rho_I I \\frac{e + m}{\\eta_I + e + m} - \\mu_I I (e + m)
               - \\delta_I I \\\\
        R_c &= \\alpha_c (e + m) - \\lambda_c c

    [fractions/day]. The cells the effectors kill, ``k_I I (e + m)``, are added to the
    deaths export (3). The recruitment term is 0 where ``eta_I + e + m = 0``.
    """
    invasion_row(u, maps, i0, i1, scalars, params, t, rate, exports)
    for k in range(u.shape[3]):
        e = u[EPITHELIAL, i0, i1, k]
        m = u[MESENCHYMAL, i0, i1, k]
        immune = u[IMMUNE, i0, i1, k]
        c = u[CHEMOKINE, i0, i1, k]
        cells = e + m
        kill_e = params[K_I] * immune * e
        kill_m = params[K_I] * immune * m
        rate[EPITHELIAL, k] -= kill_e
        rate[MESENCHYMAL, k] -= kill_m
        stimulated = params[RHO_I] * immune * cells / max(params[ETA_I] + cells, 1e-300)
        rate[IMMUNE, k] += (
            params[S_I] * maps[BLOOD_MAP, i0, i1, k]
            + stimulated
            - params[MU_I] * immune * cells
            - params[DELTA_I] * immune
        )
        rate[CHEMOKINE, k] += params[ALPHA_C] * cells - params[LAMBDA_C] * c
        exports[DEATHS] += kill_e + kill_m


@njit(cache=True, fastmath=FASTMATH, inline="always")
def immune_invasion_stiff_rate(u, maps, i0, i1, k, f, params, t):
    """The invasion model's stiff loss rates [1/day] (oxygen, enzyme) and the chemokine's
    decay ``lambda_c``: it diffuses far per step, so the IMEX method takes it implicitly."""
    invasion = invasion_stiff_rate(u, maps, i0, i1, k, f, params, t)
    return invasion + (f == CHEMOKINE) * params[LAMBDA_C]
