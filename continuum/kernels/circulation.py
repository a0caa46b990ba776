"""Blood and lymph compartments of circulating tumour cells (MODEL.md, Stage 2)."""

from __future__ import annotations

import math
from typing import NamedTuple

from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.internal import internal

# Offsets of the circulation block in a model's scalar vector (see ``CIRCULATION_SCALARS``):
(
    BLOOD,
    LYMPH,
    BORN,
    DIED,
    CLEARED,
    EXTRAVASATED,
    NODE_ARRESTED,
    FIRST_PASS,
    REMOVED,
    KILLED_IMMUNE,
) = range(10)
N_CIRCULATION = 10


class TumourFluxes(NamedTuple):
    """What the tumour feeds into the circulation block [cells/day]."""

    blood: float
    """``J_B``, cells entering blood."""
    lymph: float
    """``J_L``, cells entering lymph."""
    birth: float
    death: float
    treated: float
    """Tumour cells a therapy kills."""


class CirculationRates(NamedTuple):
    """Rate constants of the circulation block [1/day] and the first-pass fraction."""

    k_clear: float
    k_ext: float
    k_ln: float
    k_lb: float
    first_pass: float
    therapy: float
    k_nk: float
    """Killing of CTCs in blood by natural-killer cells [1/day]."""


@internal(fastmath=FASTMATH)
def circulation_rates(scalars, start, tumour, rates, dscalars):
    """Rates of the circulation block at ``scalars[start:]`` (cells, cells/day), fed by
    ``tumour`` (:class:`TumourFluxes`) under ``rates`` (:class:`CirculationRates`).

    .. math::

        dL/dt = J_L - (k_{LN} + k_{LB} + r) L, \\qquad
        dB/dt = (1 - f) J_B + k_{LB} L - (k_{clear} + k_{NK} + k_{ext} + r) B

    A fraction ``f`` = ``first_pass`` of the cells entering blood from the tumour arrests
    in the first capillary bed downstream (lungs, or liver for portal drainage) before it
    circulates. The cumulative budget: ``born`` integrates ``birth``, ``died`` integrates
    ``death`` (both cells/day, from the tumour), ``cleared`` integrates ``k_clear B``,
    ``killed_immune`` integrates ``k_NK B`` (CTCs killed by natural-killer cells),
    ``extravasated`` integrates ``k_ext B`` (cells leaving blood for the organs),
    ``node_arrested`` integrates ``k_LN L`` (arrest in the regional lymph node) and
    ``first_pass`` integrates ``f J_B``. ``r`` = ``therapy`` is the extra death rate of
    a systemic therapy [1/day]; ``removed`` integrates ``r (B + L)`` plus ``treated``, the
    tumour cells the therapy kills [cells/day]. Then ``tumour cells + B + L + cleared +
    killed_immune + extravasated + node_arrested + first_pass + died + removed - born`` is
    constant.
    """
    flux_blood, flux_lymph = tumour.blood, tumour.lymph
    k_clear, k_ext, k_ln, k_lb = rates.k_clear, rates.k_ext, rates.k_ln, rates.k_lb
    first_pass, therapy, k_nk = rates.first_pass, rates.therapy, rates.k_nk
    blood = scalars[start + BLOOD]
    lymph = scalars[start + LYMPH]
    arrested = first_pass * flux_blood
    dscalars[start + BLOOD] = (
        flux_blood - arrested + k_lb * lymph - (k_clear + k_nk + k_ext + therapy) * blood
    )
    dscalars[start + LYMPH] = flux_lymph - (k_ln + k_lb + therapy) * lymph
    dscalars[start + BORN] = tumour.birth
    dscalars[start + DIED] = tumour.death
    dscalars[start + CLEARED] = k_clear * blood
    dscalars[start + KILLED_IMMUNE] = k_nk * blood
    dscalars[start + EXTRAVASATED] = k_ext * blood
    dscalars[start + NODE_ARRESTED] = k_ln * lymph
    dscalars[start + FIRST_PASS] = arrested
    dscalars[start + REMOVED] = tumour.treated + therapy * (blood + lymph)


@internal(fastmath=FASTMATH)
def _profile(total, start_rate, end_rate, h):
    """``(q0, q1, q2)`` of the inflow ``q0 + q1 s + q2 s^2`` on ``[0, h]`` with integral
    ``total`` and end values ``start_rate``, ``end_rate``; constant ``total / h`` if that
    curve would turn negative."""
    q0 = start_rate
    # q0 h + q1 h^2/2 + q2 h^3/3 = total and q0 + q1 h + q2 h^2 = end_rate
    q2 = (3.0 * (start_rate + end_rate) * h - 6.0 * total) / (h * h * h)
    q1 = (end_rate - start_rate) / h - q2 * h
    low = min(start_rate, end_rate)
    if q2 > 0.0:  # the minimum of a convex curve may lie inside the step
        vertex = -q1 / (2.0 * q2)
        if 0.0 < vertex < h:
            low = min(low, q0 + q1 * vertex + q2 * vertex * vertex)
    if low < 0.0:
        return total / h, 0.0, 0.0
    return q0, q1, q2


@internal(fastmath=FASTMATH)
def _weights(rate, h):
    """``(e^{-rate h}, I0, I1, I2)`` with ``Ik = int_0^h e^{-rate (h - s)} s^k ds``."""
    z = rate * h
    if z < 1e-2:  # Taylor series in z (the recurrences below lose digits for small z)
        decay = math.exp(-z)
        i0 = h * (1.0 - z / 2.0 + z * z / 6.0 - z**3 / 24.0 + z**4 / 120.0 - z**5 / 720.0)
        i1 = h * h * (0.5 - z / 6.0 + z * z / 24.0 - z**3 / 120.0 + z**4 / 720.0)
        i2 = h**3 * (1.0 / 3.0 - z / 12.0 + z * z / 60.0 - z**3 / 360.0 + z**4 / 2520.0)
        return decay, i0, i1, i2
    decay = math.exp(-z)
    i0 = -math.expm1(-z) / rate
    i1 = (h - i0) / rate
    i2 = (h * h - 2.0 * i1) / rate
    return decay, i0, i1, i2


@internal(fastmath=FASTMATH)
def _relax(level, q0, q1, q2, extra, extra_rate, rate, h):
    """``x(h)`` for ``x' = q0 + q1 s + q2 s^2 + extra e^{-extra_rate s} - rate x``."""
    decay, i0, i1, i2 = _weights(rate, h)
    end = decay * level + q0 * i0 + q1 * i1 + q2 * i2
    if extra != 0.0:  # int_0^h e^{-rate (h - s)} e^{-extra_rate s} ds
        gap = (rate - extra_rate) * h
        weight = h if abs(gap) < 1e-12 else -math.expm1(-gap) / (rate - extra_rate)
        end += extra * math.exp(-extra_rate * h) * weight
    return end


@internal(fastmath=FASTMATH)
def advance_circulation(scalars, start, shed, rates, h, params6, first_pass):
    """Advance the circulation block at ``scalars[start:]`` exactly over ``h`` days.

    ``shed`` = (cells into blood, into lymph) from the tumour during the step, at rates
    ``rates`` = (blood at the start, at the end, lymph at the start, at the end)
    [cells/day], taken quadratic in time; ``params6`` = ``(k_clear, k_ext, k_LN, k_LB,
    therapy, k_NK)`` [1/day], ``therapy`` an extra death rate in both compartments and
    ``k_NK`` the natural-killer cells' killing in blood.
    The lymph's closed-form solution ``L(s) = A + B s + C s^2 + D e^{-(k_LN + k_LB) s}``
    drains into blood, whose solution is closed-form too. What leaves each compartment
    comes from its mass balance (``integral of x = (x(0) + inflow - x(h)) / rate``), so the
    budget of :func:`circulation_rates` holds to round-off.
    """
    k_clear, k_ext, k_ln, k_lb = params6[0], params6[1], params6[2], params6[3]
    therapy, k_nk = params6[4], params6[5]
    lymph_rate = k_ln + k_lb + therapy
    blood_rate = k_clear + k_nk + k_ext + therapy
    lymph0 = scalars[start + LYMPH]
    blood0 = scalars[start + BLOOD]
    q0, q1, q2 = _profile(shed[1], rates[2], rates[3], h)
    lymph = _relax(lymph0, q0, q1, q2, 0.0, 0.0, lymph_rate, h)
    if lymph_rate * h < 1e-8:
        lymph_integral = lymph0 * h + q0 * h * h / 2.0 + q1 * h**3 / 6.0 + q2 * h**4 / 12.0
        lymph = lymph0 + shed[1] - lymph_rate * lymph_integral
    else:
        lymph_integral = (lymph0 + shed[1] - lymph) / lymph_rate
    drained = k_lb * lymph_integral
    arrested = first_pass * shed[0]
    kept = 1.0 - first_pass
    b0, b1, b2 = _profile(shed[0] - arrested, kept * rates[0], kept * rates[1], h)
    extra = 0.0
    if k_lb > 0.0 and lymph_rate * h >= 1e-6:
        # the lymph's particular solution A + B s + C s^2 plus D e^{-lymph_rate s}
        c = q2 / lymph_rate
        b = (q1 - 2.0 * c) / lymph_rate
        a = (q0 - b) / lymph_rate
        b0 += k_lb * a
        b1 += k_lb * b
        b2 += k_lb * c
        extra = k_lb * (lymph0 - a)
    elif k_lb > 0.0:  # slow lymph: its drainage taken evenly over the step
        b0 += drained / h
    blood = _relax(blood0, b0, b1, b2, extra, lymph_rate, blood_rate, h)
    inflow = shed[0] - arrested + drained
    if blood_rate * h < 1e-8:
        blood_integral = blood0 * h + inflow * h / 2.0
        blood = blood0 + inflow - blood_rate * blood_integral
    else:
        blood_integral = (blood0 + inflow - blood) / blood_rate
    scalars[start + LYMPH] = lymph
    scalars[start + BLOOD] = blood
    scalars[start + NODE_ARRESTED] += k_ln * lymph_integral
    scalars[start + FIRST_PASS] += arrested
    scalars[start + CLEARED] += k_clear * blood_integral
    scalars[start + KILLED_IMMUNE] += k_nk * blood_integral
    scalars[start + EXTRAVASATED] += k_ext * blood_integral
    scalars[start + REMOVED] += therapy * (blood_integral + lymph_integral)


@internal(fastmath=FASTMATH)
def relax_circulation(s_in, s_out, start, flux_blood, flux_lymph, params6, first_pass, h):
    """Blood and lymph of the block at ``start`` taken exactly over ``h`` days from
    ``s_in`` into ``s_out``, with the inflows [cells/day] held constant (see
    :func:`advance_circulation`); ``born``, ``died`` and the tumour's share of
    ``removed`` in ``s_out`` are kept."""
    for i in (BLOOD, LYMPH, CLEARED, EXTRAVASATED, NODE_ARRESTED, FIRST_PASS, KILLED_IMMUNE):
        s_out[start + i] = s_in[start + i]
    therapy = params6[4]
    # the forward-Euler step booked r (B + L) h of the circulation into removed
    s_out[start + REMOVED] -= therapy * h * (s_in[start + BLOOD] + s_in[start + LYMPH])
    shed = (flux_blood * h, flux_lymph * h)
    rates = (flux_blood, flux_blood, flux_lymph, flux_lymph)
    advance_circulation(s_out, start, shed, rates, h, params6, first_pass)


@njit(cache=True, fastmath=FASTMATH)
def advance_clusters(
    cluster, amount, rate0, rate1, h, first_pass, k_cluster, k_ext, therapy, k_immune
):
    """Advance the clusters' blood compartment ``cluster`` = (cells in clusters, cleared,
    extravasated, arrested on the first pass, killed by therapy, killed by natural-killer
    cells) exactly over ``h`` days.

    .. math:: dC/dt = (1 - f) J_C(t) - (k_{cluster} + k_{imm} + k_{ext} + r) C

    ``amount`` cells in clusters enter the blood during the step, at ``rate0`` and
    ``rate1`` [cells/day] at its ends (taken quadratic, as the single cells' inflow); the
    fraction ``f`` arrests in the first capillary bed. ``k_imm`` = ``k_immune`` [1/day]
    is the natural-killer cells' killing of clustered cells, ``(1 - nk_shielding) k_NK``
    (see ``continuum.models.sites.Circulation``). Returns the cells that extravasated
    and that arrested on the first pass in the step.
    """
    rate = k_cluster + k_immune + k_ext + therapy
    kept = 1.0 - first_pass
    q0, q1, q2 = _profile(kept * amount, kept * rate0, kept * rate1, h)
    start = cluster[0]
    end = _relax(start, q0, q1, q2, 0.0, 0.0, rate, h)
    inflow = kept * amount
    if rate * h < 1e-8:
        integral = start * h + inflow * h / 2.0
        end = start + inflow - rate * integral
    else:
        integral = (start + inflow - end) / rate
    arrested = first_pass * amount
    extravasated = k_ext * integral
    cluster[0] = end
    cluster[1] += k_cluster * integral
    cluster[2] += extravasated
    cluster[3] += arrested
    cluster[4] += therapy * integral
    cluster[5] += k_immune * integral
    return extravasated, arrested
