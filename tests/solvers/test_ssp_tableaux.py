"""The third-order SSP methods and their embedded error estimates, from the stage tables
the loops run (``continuum.solvers.loops.STAGES``) by exact rational arithmetic: the
Butcher weights satisfy the third-order conditions, the embedded solutions the
second-order ones and not the third, so each estimate is a genuine O(h^3) local error;
every stage is a forward-Euler step of ``h / SSP_COEFFICIENT`` combined convexly."""

from fractions import Fraction

import pytest

from continuum.solvers import loops

HALF, THIRD, SIXTH = Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)


def _exact(x):
    return Fraction(x).limit_denominator(1000)


def _run_table(method):
    """Run ``STAGES[method]`` on weight vectors: each buffer ``(u, ua, ub, uc)`` as its
    weights on the stage derivatives ``k_1 .. k_s`` (``u`` is all zeros). Returns the
    stage inputs (the Butcher rows), the stage times of the table and the buffers after
    the last stage."""
    table = loops.STAGES[method]
    n = table.shape[0]
    sub = 1 / _exact(loops.SSP_COEFFICIENT[method])
    buffers = [[Fraction(0)] * n for _ in range(4)]
    rows, times = [], []
    for i, (x, base, out, alpha, c) in enumerate(table):
        alpha = _exact(alpha)
        assert 0 <= alpha < 1  # a convex combination with a forward-Euler step
        stage_input = list(buffers[int(x)])
        rows.append(stage_input)
        times.append(_exact(c))
        euler = list(stage_input)
        euler[i] += sub
        b = buffers[int(base)]
        buffers[int(out)] = [alpha * p + (1 - alpha) * q for p, q in zip(b, euler, strict=True)]
    return rows, times, buffers


def _conditions(weights, rows):
    """``(sum b, sum b c, sum b c^2, sum b A c)``: 1, 1/2, 1/3, 1/6 for order 3."""
    c = [sum(row) for row in rows]
    return (
        sum(weights),
        sum(w * ci for w, ci in zip(weights, c, strict=True)),
        sum(w * ci**2 for w, ci in zip(weights, c, strict=True)),
        sum(
            w * sum(aij * cj for aij, cj in zip(row, c, strict=True))
            for w, row in zip(weights, rows, strict=True)
        ),
    )


@pytest.mark.parametrize("method", [loops.SSPRK43, loops.SSPRK93])
def test_third_order_with_stage_times_as_tabulated(method):
    rows, times, buffers = _run_table(method)
    assert times == [sum(row) for row in rows]  # the times the loop evaluates stages at
    assert _conditions(buffers[1], rows) == (1, HALF, THIRD, SIXTH)  # the result, in ua


def test_ssprk43_embedded_estimate_is_second_order():
    rows, _, _ = _run_table(loops.SSPRK43)
    assert loops.SSP_COEFFICIENT[loops.SSPRK43] == 2
    embedded = [2 * w for w in rows[3]]  # 2 u3 - u: the u parts cancel to 1
    conditions = _conditions(embedded, rows)
    assert conditions[:2] == (1, HALF)
    assert (conditions[2] - THIRD, conditions[3] - SIXTH) == (Fraction(1, 12), -Fraction(1, 12))


def test_ssprk93_embedded_estimate_is_second_order_with_non_negative_weights():
    rows, _, buffers = _run_table(loops.SSPRK93)
    assert loops.SSP_COEFFICIENT[loops.SSPRK93] == 6
    y6, y8 = buffers[2], buffers[3]  # where the table leaves them (ub, uc)
    assert y6 == rows[6] and y8 == rows[8]  # the inputs of stages 7 and 9
    embedded = [(-4 * a + 6 * b) / 3 for a, b in zip(y6, y8, strict=True)]  # u/3 + ...
    assert min(embedded) >= 0
    conditions = _conditions(embedded, rows)
    assert conditions[:2] == (1, HALF)
    # third-order defects about 3.5 times smaller than SSP-RK(4,3)'s (module doc)
    assert (conditions[2] - THIRD, conditions[3] - SIXTH) == (-Fraction(11, 324), -Fraction(1, 324))
