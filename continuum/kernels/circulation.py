"""Blood and lymph compartments of circulating tumour cells (MODEL.md, Stage 2)."""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH

# Offsets of the circulation block in a model's scalar vector (see ``CIRCULATION_SCALARS``):
BLOOD, LYMPH, BORN, DIED, CLEARED, EXTRAVASATED = range(6)


@njit(cache=True, fastmath=FASTMATH)
def circulation_rates(
    scalars, start, flux_blood, flux_lymph, birth, death, k_clear, k_ext, k_ln, k_lb, dscalars
):
    """Rates of the circulation block at ``scalars[start:]`` (cells, cells/day).

    .. math::

        dL/dt = J_L - (k_{LN} + k_{LB}) L, \\qquad
        dB/dt = J_B + k_{LB} L - (k_{clear} + k_{ext}) B

    and the cumulative budget: ``born`` integrates ``birth``, ``died`` integrates ``death``
    (both cells/day, from the tumour), ``cleared`` integrates ``k_clear B`` and
    ``extravasated`` integrates ``k_ext B + k_LN L`` (cells leaving the circulation into
    organs or the regional lymph node). Then ``tumour cells + B + L + cleared +
    extravasated + died - born`` is constant.
    """
    blood = scalars[start + BLOOD]
    lymph = scalars[start + LYMPH]
    dscalars[start + BLOOD] = flux_blood + k_lb * lymph - (k_clear + k_ext) * blood
    dscalars[start + LYMPH] = flux_lymph - (k_ln + k_lb) * lymph
    dscalars[start + BORN] = birth
    dscalars[start + DIED] = death
    dscalars[start + CLEARED] = k_clear * blood
    dscalars[start + EXTRAVASATED] = k_ext * blood + k_ln * lymph
