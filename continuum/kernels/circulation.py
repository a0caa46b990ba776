"""Blood and lymph compartments of circulating tumour cells (MODEL.md, Stage 2)."""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH

# Offsets of the circulation block in a model's scalar vector (see ``CIRCULATION_SCALARS``):
BLOOD, LYMPH, BORN, DIED, CLEARED, EXTRAVASATED, NODE_ARRESTED, FIRST_PASS = range(8)


@njit(cache=True, fastmath=FASTMATH)
def circulation_rates(
    scalars,
    start,
    flux_blood,
    flux_lymph,
    birth,
    death,
    k_clear,
    k_ext,
    k_ln,
    k_lb,
    first_pass,
    dscalars,
):
    """Rates of the circulation block at ``scalars[start:]`` (cells, cells/day).

    .. math::

        dL/dt = J_L - (k_{LN} + k_{LB}) L, \\qquad
        dB/dt = (1 - f) J_B + k_{LB} L - (k_{clear} + k_{ext}) B

    A fraction ``f`` = ``first_pass`` of the cells entering blood from the tumour arrests
    in the first capillary bed downstream (lungs, or liver for portal drainage) before it
    circulates. The cumulative budget: ``born`` integrates ``birth``, ``died`` integrates
    ``death`` (both cells/day, from the tumour), ``cleared`` integrates ``k_clear B``,
    ``extravasated`` integrates ``k_ext B`` (cells leaving blood for the organs),
    ``node_arrested`` integrates ``k_LN L`` (arrest in the regional lymph node) and
    ``first_pass`` integrates ``f J_B``. Then ``tumour cells + B + L + cleared +
    extravasated + node_arrested + first_pass + died - born`` is constant.
    """
    blood = scalars[start + BLOOD]
    lymph = scalars[start + LYMPH]
    arrested = first_pass * flux_blood
    dscalars[start + BLOOD] = flux_blood - arrested + k_lb * lymph - (k_clear + k_ext) * blood
    dscalars[start + LYMPH] = flux_lymph - (k_ln + k_lb) * lymph
    dscalars[start + BORN] = birth
    dscalars[start + DIED] = death
    dscalars[start + CLEARED] = k_clear * blood
    dscalars[start + EXTRAVASATED] = k_ext * blood
    dscalars[start + NODE_ARRESTED] = k_ln * lymph
    dscalars[start + FIRST_PASS] = arrested
