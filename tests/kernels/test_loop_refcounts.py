"""No reference counting inside the cell loops of the stencil's row kernels.

Numba increments and decrements an array's reference count (an atomic operation) each
time the array, or a view of it, is handed to a function it inlines, unless its pruning
pass can pair the two across the control flow. In a cell loop with branches (limiters,
boundary cases, masks) it cannot: the taxis row paid about 20 atomic operations per cell
(39 us per 256-cell row instead of 3) and the masked diffusion row 282 ns per cell
instead of 35. These tests compile the row kernels again without the disk cache, read
the x86-64 assembly and fail if an innermost loop that does floating-point arithmetic
calls ``NRT_incref`` or ``NRT_decref``.
"""

import platform
import re

import numpy as np
import pytest
from numba import float64, int64, njit, typeof

import continuum as ct
from continuum.kernels import diffusion, fv, taxis
from continuum.kernels.flags import FASTMATH
from continuum.solvers.base import make_solver

pytestmark = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="reads x86-64 assembly"
)

LABEL = re.compile(r"^(\.LBB\d+_\d+):")
JUMP = re.compile(r"^\s+j\w+\s+(\.LBB\d+_\d+)")
REFCOUNT_LOAD = re.compile(r"movabsq\s+\$(NRT_incref|NRT_decref),\s+(%\w+)")
ARITHMETIC = re.compile(r"\bv(mul|add|sub|div)[sp]d\b")


def refcount_calls_in_inner_loops(asm: str) -> list[int]:
    """Per innermost loop with floating-point arithmetic (a backward jump's range of
    lines that contains no other such range): the calls to the reference-count
    functions in it (direct, or through a register that holds one of them)."""
    lines = asm.splitlines()
    registers = {m.group(2) for m in REFCOUNT_LOAD.finditer(asm)}
    position = {m.group(1): i for i, line in enumerate(lines) if (m := LABEL.match(line))}
    loops = []
    for i, line in enumerate(lines):
        jump = JUMP.match(line)
        if jump and position.get(jump.group(1), i) < i:
            loops.append((position[jump.group(1)], i))
    counts = []
    for start, end in loops:
        if any(start <= a and b <= end and (a, b) != (start, end) for a, b in loops):
            continue
        body = lines[start : end + 1]
        if not any(ARITHMETIC.search(line) for line in body):
            continue
        calls = 0
        for line in body:
            if "callq" in line and (
                "NRT_" in line or any(line.rstrip().endswith("*" + r) for r in registers)
            ):
                calls += 1
        counts.append(calls)
    return counts


def _row_signature(model, state, with_field_index: bool):
    """Argument types of a row kernel on ``state``'s explicit ``Problem``:
    ``(u, f, i0, i1, d, problem, rate_row)`` or, without ``f`` and ``d``, the taxis
    row's ``(u, j, i0, i1, problem, rate_row)``."""
    solver = make_solver("explicit", model, state)
    problem = solver.problem(solver.diffusivity)
    u, row = typeof(solver.states().u), typeof(np.zeros(3))
    if with_field_index:
        return (u, int64, int64, int64, float64, typeof(problem), row)
    return (u, int64, int64, int64, typeof(problem), row)


def _fresh_assembly(function, signature) -> str:
    """The assembly of ``function`` (a dispatcher's Python function) for ``signature``,
    compiled by a dispatcher without the disk cache (cached code cannot be inspected)."""
    fresh = njit(fastmath=FASTMATH)(function)
    fresh.compile(signature)
    return fresh.inspect_asm(signature)


@njit(fastmath=FASTMATH, inline="always")
def _coefficient_with_arrays(u, law, f, d, maps, mask, has_mask, i0, i1, k):
    """``diffusion.coefficient`` as it was before: the array reads inside its branches."""
    value = d
    m = int(law[f, 0])
    if m >= 0:
        value *= maps[m, i0, i1, k]
    g = int(law[f, 1])
    if g >= 0:
        value *= max(0.0, law[f, 2] + law[f, 3] * u[g, i0, i1, k])
    if has_mask:
        value *= mask[i0, i1, k]
    return value


@njit(fastmath=FASTMATH)
def _row_with_array_helper(u, f, i0, i1, d, problem, rate_row):
    """The masked diffusion row as it was before: an inlined helper that takes the
    arrays, called per cell and per neighbour."""
    law, maps, mask, inv_h2 = problem.diffusivity_law, problem.maps, problem.mask, problem.inv_h2
    bc_kind, bc_val = problem.bc_kind, problem.bc_val
    has_mask = mask.size > 0
    shape = (u.shape[1], u.shape[2], u.shape[3])
    for k in range(shape[2]):
        idx = (i0, i1, k)
        uc = u[f, i0, i1, k]
        dc = _coefficient_with_arrays(u, law, f, d, maps, mask, has_mask, i0, i1, k)
        if dc == 0.0:
            continue
        total = 0.0
        for axis in range(3):
            n = shape[axis]
            i = idx[axis]
            for side in range(2):
                face = fv.boundary_face(bc_kind[f, axis, side], side, i, n)
                if face == fv.NOFLUX:
                    continue
                if face == fv.DIRICHLET:
                    total += fv.dirichlet_flux(dc, bc_val[f, axis, side], uc, inv_h2[axis])
                    continue
                a, b, c = fv.cell(axis, i0, i1, k, fv.neighbour(i, side, n))
                dn = _coefficient_with_arrays(u, law, f, d, maps, mask, has_mask, a, b, c)
                total += fv.face_flux(fv.harmonic(dc, dn), u[f, a, b, c], uc, inv_h2[axis])
        rate_row[k] += total


def _masked_fisher():
    mask = np.ones((12, 10), bool)
    mask[:, :3] = False
    grid = ct.Grid((12, 10), 0.05, mask=mask)
    model = ct.models.FisherKPP(diffusivity=0.13, growth_rate=0.012)
    return model, model.initial_state(grid, u=np.full((12, 10), 0.3))


def test_the_counter_sees_refcounting_in_a_loop():
    """The check itself, on the masked diffusion row as it was before the fix."""
    signature = _row_signature(*_masked_fisher(), with_field_index=True)
    asm = _fresh_assembly(_row_with_array_helper.py_func, signature)
    assert max(refcount_calls_in_inner_loops(asm)) >= 4


def test_taxis_row_has_no_refcounting_per_cell():
    model = ct.models.AndersonChaplain()
    state = model.initial_state(ct.Grid((12, 10), 0.1))
    signature = _row_signature(model, state, with_field_index=False)
    counts = refcount_calls_in_inner_loops(_fresh_assembly(taxis.add_taxis_row.py_func, signature))
    assert counts and max(counts) == 0, counts


def test_masked_diffusion_row_has_no_refcounting_per_cell():
    signature = _row_signature(*_masked_fisher(), with_field_index=True)
    function = diffusion.add_diffusion_row_general.py_func
    counts = refcount_calls_in_inner_loops(_fresh_assembly(function, signature))
    assert counts and max(counts) == 0, counts
