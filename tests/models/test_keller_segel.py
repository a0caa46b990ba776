"""Keller-Segel: linear growth rates of the chemotactic instability against the dispersion
relation, and the model written as equations against the built-in one."""

from __future__ import annotations

import numpy as np
import pytest

import continuum as ct
from tests.helpers import compiled_rhs

PERIODIC = {"n": ct.Periodic(), "c": ct.Periodic()}


def discrete_growth_rate(p, k, h):
    """Larger eigenvalue of the linearisation about ``n = 1, c = alpha/beta`` for the mode
    ``cos(k x)``, with ``k^2`` replaced by the 3-point Laplacian's symbol
    ``(2/h sin(k h/2))^2`` (about uniform ``n`` the limited taxis flux is ``chi grad_h c``
    to first order). Returns the rate and the eigenvector ``(n, c)``."""
    q = (2.0 / h * np.sin(k * h / 2.0)) ** 2
    jacobian = np.array(
        [[-p["D_n"] * q - p["r"], p["chi"] * q], [p["alpha"], -p["D_c"] * q - p["beta"]]]
    )
    values, vectors = np.linalg.eig(jacobian)
    i = int(np.argmax(values.real))
    return values[i].real, vectors[:, i].real


@pytest.mark.parametrize(("chi", "expected_sign"), [(0.2, 1.0), (0.03, -1.0)])
def test_modes_grow_at_the_rate_of_the_dispersion_relation(chi, expected_sign):
    """Above ``chi alpha > (sqrt(D_n beta) + sqrt(r D_c))^2`` (0.065 here) the mode of
    wavelength 0.25 mm grows, below it decays, at the rate of the discrete dispersion
    relation (measured 0.81329277 vs 0.81329279 /day above, -0.83162274 vs -0.83162251
    below: relative 3e-8 and 2.8e-7; the continuous relation's 0.81256 is 1e-3 away)."""
    parameters = {"D_n": 1e-3, "chi": chi, "r": 0.5, "D_c": 0.1, "alpha": 1.0, "beta": 1.0}
    model = ct.models.KellerSegel(**parameters, bc=PERIODIC)
    grid = ct.Grid(200, 1.0 / 200)
    k = 2 * np.pi / 0.25
    rate, (vn, vc) = discrete_growth_rate(parameters, k, grid.spacing[0])
    assert np.sign(rate) == expected_sign
    wave = np.cos(k * grid.coords[0])
    epsilon = 1e-6 / max(abs(vn), abs(vc))
    state = model.initial_state(grid, n=1 + epsilon * vn * wave, c=1 + epsilon * vc * wave)
    result = ct.simulate(
        model, state, 3.0, save_every=1.5, method="explicit", rtol=1e-7, atol=1e-14
    )

    def amplitude(t):
        return 2 * np.mean((result.field("n", t) - 1) * wave)

    measured = np.log(amplitude(3.0) / amplitude(1.5)) / 1.5
    assert measured == pytest.approx(rate, rel=1e-6)


KELLER_SEGEL = {
    "n": "D_n*laplace(n) - div(chi*n*grad(c)) + r*n*(1 - n)",
    "c": "D_c*laplace(c) + alpha*n - beta*c",
}


def test_written_as_equations_it_is_the_built_in_model():
    """The same equations as text give the same compiled rate (measured: identical) and
    the built-in model's NumPy reference agrees with its compiled rate (2.9e-16 of the
    largest)."""
    built_in = ct.models.KellerSegel(chi=0.2)
    written = ct.models.PDE(KELLER_SEGEL, parameters=dict(built_in.parameters))
    grid = ct.Grid((14, 12), 0.05)
    rng = np.random.default_rng(3)
    fields = {"n": rng.random(grid.shape), "c": rng.random(grid.shape)}
    rates = [compiled_rhs(m, m.initial_state(grid, **fields))[0] for m in (built_in, written)]
    reference = built_in.reference_rate(built_in.initial_state(grid, **fields))
    scale = np.abs(reference).max()
    assert np.abs(rates[0] - rates[1]).max() <= 1e-12 * scale
    assert np.abs(rates[0] - reference).max() <= 1e-12 * scale
