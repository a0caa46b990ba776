"""Finite-volume building blocks shared by the explicit, implicit and multigrid kernels.

Every grid is seen as 3D, ``u[field, i0, i1, k]`` (leading axes of length 1 for 1D and 2D
grids). Cell ``c`` and its neighbour ``c +- 1`` along axis ``a`` (cell width ``h_a``
[mm]) exchange the conservative face flux

.. math::

    F_{c+1/2} = w_{c+1/2}\\,\\frac{u_{c+1} - u_c}{h_a^2}, \\qquad
    w_{c+1/2} = \\frac{2 D_c D_{c+1}}{D_c + D_{c+1}}

(rate per unit volume [u/day], ``D`` [mm^2/day] the cells' diffusion coefficients, ``w``
their harmonic mean: zero when either cell is outside the tissue). Boundary faces follow
the per-field, per-side condition codes below: no-flux carries nothing; Dirichlet ``g``
takes the ghost value ``2 g - u_c`` half a cell beyond the face, i.e. the flux
``2 D_c (g - u_c) / h_a^2``; periodic wraps around to the cell at the other end.
"""

from __future__ import annotations

from numba import njit

from continuum.kernels.flags import FASTMATH

# Boundary-condition codes of ``bc_kind[field, axis, side]`` (``continuum.boundary``).
NOFLUX, DIRICHLET, PERIODIC = 0, 1, 2
# What :func:`boundary_face` says of an interior (or periodic, wrapped) face.
INTERIOR = -1


@njit(cache=True, fastmath=FASTMATH, inline="always")
def harmonic(a, b):
    """Harmonic mean ``2 a b / (a + b)`` of two face coefficients (0 if both are 0)."""
    s = a + b
    return 2.0 * a * b / s if s > 0.0 else 0.0


@njit(cache=True, fastmath=FASTMATH, inline="always")
def cell(axis, i0, i1, k, j):
    """Index ``(i0, i1, k)`` of the cell ``j`` along ``axis`` on the line through
    ``(i0, i1, k)``."""
    if axis == 0:
        return j, i1, k
    if axis == 1:
        return i0, j, k
    return i0, i1, j


@njit(cache=True, fastmath=FASTMATH, inline="always")
def boundary_face(kind, side, i, n):
    """Condition code of the face on ``side`` (0 lower, 1 upper) of cell ``i`` of ``n``
    along an axis whose condition there is ``kind``: ``NOFLUX`` or ``DIRICHLET`` on a
    boundary face, ``INTERIOR`` between two cells (periodic boundaries included)."""
    at_edge = (i == 0) if side == 0 else (i == n - 1)
    if at_edge and (kind == NOFLUX or kind == DIRICHLET):
        return kind
    return INTERIOR


@njit(cache=True, fastmath=FASTMATH, inline="always")
def neighbour(i, side, n):
    """Index of the neighbour of cell ``i`` across the face on ``side`` (periodic wrap)."""
    return (i + 2 * side - 1) % n


@njit(cache=True, fastmath=FASTMATH, inline="always")
def face_flux(w, u_nb, u_c, inv_h2):
    """Face flux ``w (u_nb - u_c) / h^2`` into cell ``c`` [u/day]."""
    return w * (u_nb - u_c) * inv_h2


@njit(cache=True, fastmath=FASTMATH, inline="always")
def dirichlet_flux(d, g, u_c, inv_h2):
    """Flux ``2 d (g - u_c) / h^2`` into cell ``c`` through a Dirichlet face (ghost value
    ``2 g - u_c``) [u/day]."""
    return 2.0 * d * (g - u_c) * inv_h2


@njit(cache=True, fastmath=FASTMATH, inline="always")
def ghost_rule(kind, value, at_edge, n, i, step):
    """Affine rule for a neighbour value: ``u_nb = a * u[index] + b * u_c + g``.

    Returns ``(index, a, b, g)`` for the neighbour of cell ``i`` at ``i + step`` along an
    axis of length ``n`` whose boundary on that side has condition ``kind`` and value
    ``value``: the cell itself, its periodic image, the Dirichlet ghost ``2 g - u_c`` or
    the no-flux mirror ``u_c``.
    """
    if not at_edge:
        return i + step, 1.0, 0.0, 0.0
    if kind == PERIODIC:
        return (i + step) % n, 1.0, 0.0, 0.0
    if kind == DIRICHLET:
        return i, 0.0, -1.0, 2.0 * value
    return i, 0.0, 1.0, 0.0
