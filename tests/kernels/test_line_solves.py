"""The LOD line solves against dense solves of the same systems, assembled independently.

``line_solve_axis`` solves ``(omega + diag_add - lam T_axis - lam X_axis) y = scale x`` on
every grid line along one axis, lines in batches of ``LANES`` (the Thomas recurrence
vectorised across lines). Here each line's system is built in NumPy from the rules of the
module doc: harmonic face means of the cell coefficients ``d map max(0, a + b u_g) mask``,
a Dirichlet ghost half a cell out (``2 lam D_c``, the boundary value on the right-hand side
when ``with_bc``), a wrap-around face on periodic axes (two faces between the same two
cells when the axis has two), and the upwind taxis matrix ``X`` with its minmod ratios
frozen at ``u``; then ``numpy.linalg.solve``. Grids have lengths that leave a partial
batch, odd lengths, a masked region and axes of two cells.
"""

import numpy as np
import pytest
from numba import njit

from continuum.boundary import DIRICHLET, NOFLUX, PERIODIC
from continuum.kernels.implicit import LANES, LineSystem, line_scratch, line_solve_axis
from continuum.kernels.problem import Problem

D = 0.7  # mm^2/day
LAM = 3.0  # dt / h^2 [day/mm^2]
CHI = 0.9  # mm^2/day
OMEGA, SCALE = 1.3, 0.8


@njit
def _solve(x, u, f, axis, d, problem, system, scratch):
    line_solve_axis(x, u, f, axis, d, problem, system, scratch)


def _minmod(a, b):
    if a > 0 and b > 0:
        return min(a, b)
    if a < 0 and b < 0:
        return max(a, b)
    return 0.0


def _ratio(value, reconstructed):
    return reconstructed / value if value > 0 else 1.0


def reference(x, u, axis, maps, mask, kind, value, diag_add, taxis, with_bc):
    """The solution of every line's dense system (module doc) for field 0, whose
    coefficient is ``D maps[0] max(0, 0.5 + 2 u[1])`` (times the mask)."""
    coef = D * maps[0] * np.maximum(0.0, 0.5 + 2.0 * u[1]) * mask
    n = x.shape[axis]
    out = np.empty_like(x)
    lines = np.moveaxis(np.arange(x.size).reshape(x.shape), axis, -1).reshape(-1, n)
    periodic = kind[axis, 0] == PERIODIC
    for cells in lines:
        c = coef.ravel()[cells]
        a = OMEGA * np.eye(n) + np.diag(diag_add.ravel()[cells])
        b = SCALE * x.ravel()[cells]
        faces = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if periodic else [])
        for lo, hi in faces:
            s = c[lo] + c[hi]
            w = LAM * (2 * c[lo] * c[hi] / s if s > 0 else 0.0)
            a[lo, lo] += w
            a[hi, hi] += w
            a[lo, hi] -= w
            a[hi, lo] -= w
        for side, end in ((0, 0), (1, n - 1)):
            if kind[axis, side] == DIRICHLET:
                a[end, end] += 2 * LAM * c[end]
                if with_bc:
                    b[end] += 2 * LAM * c[end] * value[axis, side]
        if taxis:
            field = u[0].ravel()[cells]
            attractant = u[1].ravel()[cells]
            inside = mask.ravel()[cells]
            for lo, hi in faces:
                if inside[lo] * inside[hi] == 0:
                    continue
                before = (lo - 1) % n if periodic else max(lo - 1, 0)
                after = (lo + 2) % n if periodic else min(lo + 2, n - 1)
                um, ul, ur, up = field[before], field[lo], field[hi], field[after]
                nu = LAM * CHI * (attractant[hi] - attractant[lo])
                if nu >= 0:
                    w = nu * _ratio(ul, ul + 0.5 * _minmod(ul - um, ur - ul))
                    a[lo, lo] += w
                    a[hi, lo] -= w
                else:
                    w = -nu * _ratio(ur, ur - 0.5 * _minmod(ur - ul, up - ur))
                    a[hi, hi] += w
                    a[lo, hi] -= w
        out.ravel()[cells] = np.linalg.solve(a, b)
    return out


BOUNDARIES = {
    "noflux": (NOFLUX, NOFLUX),
    "dirichlet": (DIRICHLET, DIRICHLET),
    "mixed": (DIRICHLET, NOFLUX),
    "periodic": (PERIODIC, PERIODIC),
}


@pytest.mark.parametrize("shape3", [(1, 21, 2 * LANES + 5), (5, 2, 19), (3, 7, 2), (1, 1, 23)])
@pytest.mark.parametrize("boundaries", list(BOUNDARIES))
@pytest.mark.parametrize("variant", ["plain", "masked-taxis", "increment"])
def test_line_solves_match_dense_solves(shape3, boundaries, variant):
    """Every axis of each grid, against :func:`reference`: agreement to 1e-12 of the
    solution's size (the systems are diagonally dominant; measured up to 8.7e-16)."""
    rng = np.random.default_rng(sum(shape3) + len(boundaries) + len(variant))
    u = rng.random((2, *shape3))
    u[0, ..., ::3] = 0.0  # zero densities: the taxis ratios' special case
    maps = 0.5 + rng.random((1, *shape3))
    mask = (rng.random(shape3) > 0.2).astype(float) if variant == "masked-taxis" else None
    x = rng.random(shape3)
    kind = np.array([BOUNDARIES[boundaries]] * 3, dtype=np.int64)
    value = rng.random((3, 2))
    diag_add = rng.random(shape3) if variant == "increment" else np.zeros((0, 0, 0))
    taxis = np.array([[0.0, 1.0, CHI]]) if variant == "masked-taxis" else None
    with_bc = variant != "increment"
    inv_h = np.ones(3)
    problem = Problem(
        maps,
        np.zeros(1),
        np.zeros(2),
        np.array([[0, 1, 0.5, 2.0], [-1, -1, 0.0, 0.0]]),
        np.stack([kind, kind]),
        np.stack([value, value]),
        inv_h,
        inv_h,
        np.zeros((0, 3)),
        np.zeros((0, 0, 0)) if mask is None else mask,
    )
    system = LineSystem(LAM, OMEGA, diag_add, SCALE, with_bc, taxis)
    scratch = line_scratch(shape3)
    for axis in range(3):
        if shape3[axis] == 1:
            continue
        solved = x.copy()
        _solve(solved, u, 0, axis, D, problem, system, scratch)
        expected = reference(
            x,
            u,
            axis,
            maps,
            np.ones(shape3) if mask is None else mask,
            kind,
            value,
            diag_add if diag_add.size else np.zeros(shape3),
            taxis is not None,
            with_bc,
        )
        error = np.abs(solved - expected).max() / np.abs(expected).max()
        assert error < 1e-12, (axis, error)
