"""Effectors at a site against the tumour-immune ODE of Kuznetsov, Makalkin, Taylor &
Perelson (Bull Math Biol 1994;56:295-321), which the site model follows:

    dE/dt = s + p E T/(g + T) - m E T - d E,     dT/dt = a T (1 - b T) - n E T,

one colony of ``T`` cells (logistic growth ``a``, ``K = 1/b``) at a site with effectors
``E``. Fixed points from SciPy, the kernel's Jacobian from its own right-hand side, a
trajectory against DOP853, and the three outcomes of immunoediting with parameter sets
derived from the fixed-point analysis.
"""

import math

import numpy as np
import pytest
from numpy.polynomial import polynomial
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, root

import continuum as ct
from continuum.kernels import colonies, colony_ode
from continuum.models.sites import KUZNETSOV_1994, KUZNETSOV_1994_GROWTH

K = KUZNETSOV_1994
NAMES = ("source", "recruitment", "recruitment_half", "exhaustion", "death", "kill")
S, P, G, M, D, N = (K[name] for name in NAMES)
A, B = KUZNETSOV_1994_GROWTH["a"], 1.0 / KUZNETSOV_1994_GROWTH["K"]


def kuznetsov(t, y, s=S, p=P):
    e, tumour = y
    return [
        s + p * e * tumour / (G + tumour) - M * e * tumour - D * e,
        A * tumour * (1.0 - B * tumour) - N * e * tumour,
    ]


def equilibria(s=S, p=P):
    """Positive fixed points ``(E, T)`` of the model: on ``dT/dt = 0``, ``E = (a/n)(1 -
    bT)``, so ``dE/dt = 0`` is a cubic in ``T``; each root refined by a 2-D root solve."""
    inner = polynomial.polysub([0.0, p], polynomial.polymul([D, M], [G, 1.0]))
    cubic = polynomial.polyadd([s * G, s], A / N * polynomial.polymul([1.0, -B], inner))
    points = []
    for t in np.roots(cubic[::-1]):
        if abs(t.imag) < 1e-6 * abs(t) and 0.0 < t.real < 1.0 / B:
            guess = [A / N * (1.0 - B * t.real), t.real]
            solved = root(lambda y: kuznetsov(0.0, y, s, p), guess, tol=1e-14)
            assert solved.success
            points.append(tuple(solved.x))
    return sorted(points, key=lambda point: point[1])


def jacobian(e, tumour, s=S, p=P):
    """The published model's Jacobian at ``(E, T)`` (analytic)."""
    return np.array(
        [
            [p * tumour / (G + tumour) - M * tumour - D, e * (p * G / (G + tumour) ** 2 - M)],
            [-N * tumour, A - 2.0 * A * B * tumour - N * e],
        ]
    )


def site(**immunity):
    return ct.SecondarySite(
        "spleen",
        capacity=math.inf,
        growth=KUZNETSOV_1994_GROWTH,
        immunity={**KUZNETSOV_1994, **immunity},
    )


def one_colony(row, effectors, cells):
    """A site block (2 cohorts) holding one colony of ``cells`` in the closed cohort 0."""
    block = np.zeros(colonies.block_size(2))
    base = len(colonies.SITE_SCALARS)
    block[base] = 1.0
    block[base + 2] = math.log(cells)
    block[base + 4] = 0.0
    block[colonies.BURDEN] = cells
    block[colonies.EFFECTORS] = effectors
    return block


def advance(block, row, t0, t1):
    colony_ode.site_ode_step(block, row, 2, 1, t0, t1, 0.0, 0.0, 1.0, 0.0)


def test_parameters_are_the_published_dimensionless_values():
    """Kuznetsov et al. scale cells by 1e6 and time by 1/(n 1e6): the dimensional set
    must give their sigma, rho, eta, mu, delta, alpha, beta to the rounding of the
    printed values (3-4 digits on either side: d = 0.0412 alone is rounded by 1.2e-3)."""
    scale = N * 1e6
    derived = {
        "sigma": S / (scale * 1e6),
        "rho": P / scale,
        "eta": G / 1e6,
        "mu": M / N,
        "delta": D / scale,
        "alpha": A / scale,
        "beta": B * 1e6,
    }
    published = {
        "sigma": 0.1181,
        "rho": 1.131,
        "eta": 20.19,
        "mu": 0.00311,
        "delta": 0.3743,
        "alpha": 1.636,
        "beta": 0.002,
    }
    for name, printed in published.items():
        assert derived[name] == pytest.approx(float(printed), rel=2e-3), name


def test_fixed_points_and_their_stability_match_the_published_model():
    """Three positive equilibria (Kuznetsov et al.: a stable focus, the dormant state; a
    saddle; a stable node, the escaped tumour): the kernel's right-hand side vanishes
    at each, and the eigenvalues of its Jacobian (finite differences in ``(E, ln T)``,
    similar to the ``(E, T)`` Jacobian) equal the analytic ones."""
    points = equilibria()
    assert len(points) == 3
    row = site().parameter_row()
    counts = np.ones(1)
    signs = []
    for e, tumour in points:
        y = np.zeros(colony_ode.HEAD + 4 + 2 + 3)
        y[colony_ode.Y_E] = e
        y[colony_ode.HEAD] = math.log(tumour)
        rates = np.empty_like(y)
        colony_ode.colonies_rate(y, row, counts, 1, 0.0, 0.0, rates)
        assert abs(rates[colony_ode.Y_E]) < 1e-9 * S
        assert abs(rates[colony_ode.HEAD]) < 1e-12
        numeric = np.empty((2, 2))
        for j, (index, step) in enumerate(((colony_ode.Y_E, 1e-4 * e), (colony_ode.HEAD, 1e-6))):
            up, down = y.copy(), y.copy()
            up[index] += step
            down[index] -= step
            high, low = np.empty_like(y), np.empty_like(y)
            colony_ode.colonies_rate(up, row, counts, 1, 0.0, 0.0, high)
            colony_ode.colonies_rate(down, row, counts, 1, 0.0, 0.0, low)
            for i, out in enumerate((colony_ode.Y_E, colony_ode.HEAD)):
                numeric[i, j] = (high[out] - low[out]) / (2.0 * step)
        ours = np.sort_complex(np.linalg.eigvals(numeric))
        exact = np.sort_complex(np.linalg.eigvals(jacobian(e, tumour)))
        np.testing.assert_allclose(ours, exact, rtol=1e-6, atol=1e-9)
        signs.append(tuple(np.sign(exact.real)))
    assert signs == [(-1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)]
    # the published picture: dormancy near 8.19e6 cells, the saddle near 2.68e8
    assert points[0][1] == pytest.approx(8.186e6, rel=1e-3)
    assert points[1][1] == pytest.approx(2.680e8, rel=1e-3)


def test_trajectory_matches_dop853():
    """From the tumour-free effector level and a 1e6-cell colony, 300 days in 15-day
    stretches: effectors and colony size within 1e-7 of DOP853 (rtol 1e-12)."""
    row = site().parameter_row()
    e0, t0 = S / D, 1e6
    block = one_colony(row, e0, t0)
    times = np.arange(0.0, 301.0, 15.0)
    reference = solve_ivp(
        kuznetsov,
        (0.0, 300.0),
        [e0, t0],
        method="DOP853",
        rtol=1e-12,
        atol=1e-6,
        t_eval=times,
    )
    worst = 0.0
    for j in range(1, times.size):
        advance(block, row, times[j - 1], times[j])
        size = math.exp(block[len(colonies.SITE_SCALARS) + 2])
        worst = max(
            worst,
            abs(size / reference.y[1, j] - 1.0),
            abs(block[colonies.EFFECTORS] / reference.y[0, j] - 1.0),
        )
        assert block[colonies.BURDEN] == pytest.approx(size, rel=1e-14)
    assert worst < 1e-9  # measured 1.1e-10


def _run(row, effectors, cells, days, stretch=30.0):
    block = one_colony(row, effectors, cells)
    sizes = []
    for t in np.arange(0.0, days, stretch):
        advance(block, row, t, t + stretch)
        sizes.append(block[colonies.BURDEN])
    return block, np.array(sizes)


def _budget(block, cells):
    """Cells in and out of a site with one colony and no arrivals (conserved)."""
    return (
        block[colonies.BURDEN]
        + block[colonies.COLONY_DIED]
        + block[colonies.IMMUNE_KILLED]
        + block[colonies.EXTINCT]
        + block[colonies.REMOVED]
        - block[colonies.COLONY_BORN]
        - cells
    )


def test_equilibrium_immune_mediated_dormancy():
    """Published set, a colony below the saddle: it is held near the dormant focus for
    years (never above 3x it after the first year) and converges to it at the rate of
    its eigenvalues' real part (-0.0055 /day: e^{-16} after 3000 days)."""
    (e_star, t_star), *_ = equilibria()
    row = site().parameter_row()
    block, sizes = _run(row, S / D, 1e6, 3000.0)
    assert sizes[12:].max() < 3.0 * t_star
    assert block[colonies.BURDEN] == pytest.approx(t_star, rel=1e-4)
    assert block[colonies.EFFECTORS] == pytest.approx(e_star, rel=1e-4)
    assert abs(_budget(block, 1e6)) < 1e-10 * 1e7


def _saddle_node_recruitment():
    """The recruitment ``p`` below which the dormant focus and the saddle merge and
    vanish (a saddle-node bifurcation): bisection on the count of equilibria."""
    return brentq(lambda p: len(equilibria(p=p)) - 2.0, 0.05, P, xtol=1e-10)


def test_escape_when_recruitment_declines():
    """Effector recruitment falls to 90 % of its saddle-node value: the dormant state no
    longer exists, and a colony held there escapes to the large equilibrium of the new
    parameters."""
    p_sn = _saddle_node_recruitment()
    assert 0.05 < p_sn < P
    weak = 0.9 * p_sn
    points = equilibria(p=weak)
    assert len(points) == 1  # only the escaped tumour is left
    (e_star, t_star), *_ = equilibria()
    row = site(recruitment=weak).parameter_row()
    block, sizes = _run(row, e_star, t_star, 4000.0)
    assert block[colonies.BURDEN] == pytest.approx(points[0][1], rel=1e-3)
    assert sizes.max() > 30.0 * t_star


def test_elimination_when_the_tumour_free_state_is_the_only_attractor():
    """Effector supply raised to 1.5 x a d / n: the tumour-free state is stable (n s/d >
    a) and no positive equilibrium remains, so the colony is eliminated: lost below one
    cell, every cell booked as killed."""
    strong = 1.5 * A * D / N
    assert N * strong / D > A
    assert equilibria(s=strong) == []
    row = site(source=strong, effectors=strong / D).parameter_row()
    block, _ = _run(row, strong / D, 1e6, 2000.0)
    counts = block[len(colonies.SITE_SCALARS) : len(colonies.SITE_SCALARS) + 2]
    assert counts.sum() == 0.0 and block[colonies.BURDEN] == 0.0
    assert block[colonies.IMMUNE_KILLED] > 0.99 * 1e6
    assert abs(_budget(block, 1e6)) < 1e-10 * 1e6


def test_parameter_table_states_the_published_set():
    """data/parameters.csv holds the Kuznetsov set with its source and species."""
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data" / "parameters.csv"
    with open(path, newline="") as handle:
        rows = {r["name"]: r for r in csv.DictReader(handle) if r["model"] == "Kuznetsov1994"}
    for name, value in {**KUZNETSOV_1994, "a": A, "K": KUZNETSOV_1994_GROWTH["K"]}.items():
        if name == "shielding":
            continue  # ours, not the paper's: its own row (model Immunity)
        assert float(rows[name]["value"]) == value, name
        assert "mouse" in rows[name]["source"], name
