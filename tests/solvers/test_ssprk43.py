"""The coefficients of SSP-RK(4,3) and of its embedded error estimate, from the recipe in
``continuum.solvers.loops`` by exact rational arithmetic: the Butcher weights satisfy
the third-order conditions, the embedded weights (``2 u3 - u``) the second-order ones and
not the third, so the estimate ``u_new - 2 u3 + u`` is a genuine O(h^3) local error."""

from fractions import Fraction

from continuum.solvers import loops

HALF = Fraction(1, 2)  # every stage is a forward-Euler step of h/2


def _euler(y, j):
    """``y + (h/2) k_j``, with ``y`` as its weights on the stage derivatives ``k``."""
    out = list(y)
    out[j] += HALF
    return out


def _tableau():
    """The stage inputs ``Y_1 .. Y_4`` and the result as weights on ``k_1 .. k_4``:
    ``Y2 = Y1 + h/2 k1``, ``Y3 = Y2 + h/2 k2``, ``Y4 = 2/3 Y1 + 1/3 (Y3 + h/2 k3)``,
    ``u_new = Y4 + h/2 k4``."""
    y1 = [Fraction(0)] * 4
    y2 = _euler(y1, 0)
    y3 = _euler(y2, 1)
    y4 = [Fraction(2, 3) * a + Fraction(1, 3) * b for a, b in zip(y1, _euler(y3, 2), strict=True)]
    return [y1, y2, y3, y4], _euler(y4, 3)


def _conditions(weights, a, c):
    """``(sum b, sum b c, sum b c^2, sum b A c)``: 1, 1/2, 1/3, 1/6 for order 3."""
    return (
        sum(weights),
        sum(w * ci for w, ci in zip(weights, c, strict=True)),
        sum(w * ci**2 for w, ci in zip(weights, c, strict=True)),
        sum(
            w * sum(aij * cj for aij, cj in zip(ai, c, strict=True))
            for w, ai in zip(weights, a, strict=True)
        ),
    )


def test_third_order_and_an_embedded_second_order_solution():
    y, b = _tableau()
    c = [sum(row) for row in y]
    assert c == [0, HALF, 1, HALF]  # the times the loop evaluates the stages at
    assert loops.SSP_COEFFICIENT[loops.SSPRK43] == 1 / HALF
    assert _conditions(b, y, c) == (1, HALF, Fraction(1, 3), Fraction(1, 6))
    embedded = [2 * w for w in y[3]]  # 2 u3 - u: the u parts cancel to 1
    conditions = _conditions(embedded, y, c)
    assert conditions[:2] == (1, HALF)
    assert conditions[2:] != (Fraction(1, 3), Fraction(1, 6))  # second order only
