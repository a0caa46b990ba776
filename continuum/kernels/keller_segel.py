"""Pointwise kernel of the Keller-Segel chemotaxis model with logistic growth."""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH
from continuum.kernels.registry import parameter_index

P = parameter_index(("D_n", "chi", "r", "D_c", "alpha", "beta"))
CELLS, SIGNAL = 0, 1


@njit(cache=True, fastmath=FASTMATH, inline="always")
def keller_segel_point(u, maps, i0, i1, k, f, scalars, params, t):
    """Growth ``r n (1 - n)`` of the cells, secretion and decay ``alpha n - beta c`` of the
    chemoattractant (branch-free, as IR-inlined kernels must be)."""
    n, c = u[CELLS, i0, i1, k], u[SIGNAL, i0, i1, k]
    growth = params[P.r] * n * (1.0 - n)
    signal = params[P.alpha] * n - params[P.beta] * c
    return (f == CELLS) * growth + (f == SIGNAL) * signal
