"""Models written as equations (``ct.models.PDE``) against the built-in models they restate,
their generated NumPy references, a compartment budget, run files and bad equations."""

from __future__ import annotations

import numpy as np
import pytest

import continuum as ct
from continuum.models.equations import EquationError
from tests.helpers import compiled_rhs

FISHER = {"u": "D*laplace(u) + rho*u*(1 - u)"}
ANDERSON_CHAPLAIN = {
    "n": "d_n*laplace(n) - div(gamma*n*grad(f))",
    "f": "-eta*m*f",
    "m": "d_m*laplace(m) + alpha*n - beta*m",
}
AC_PARAMETERS = {"d_n": 0.001, "gamma": 0.005, "eta": 10.0, "d_m": 0.001, "alpha": 0.1, "beta": 0.0}


def pde_fisher(**parameters):
    return ct.models.PDE(FISHER, parameters={"D": 0.13, "rho": 0.012, **parameters})


def pde_anderson_chaplain(**parameters):
    return ct.models.PDE(ANDERSON_CHAPLAIN, parameters={**AC_PARAMETERS, **parameters})


def bump(grid, width=4.0):
    x = np.meshgrid(*grid.coords, indexing="ij")
    centre = [o + e / 3 for o, e in zip(grid.origin, grid.extent, strict=True)]
    return np.exp(-sum((c - c0) ** 2 for c, c0 in zip(x, centre, strict=True)) / width)


@pytest.mark.parametrize("method", ["explicit", "imex"])
def test_fisher_kpp_from_equations_is_the_built_in_model(method):
    """Same fused kernel path: the generated reaction prints ``rho*u*(1 - u)``, as the
    built-in kernel computes it, so the two runs agree bit for bit (measured 0.0)."""
    grid = ct.Grid((24, 20), 0.5)
    u0 = bump(grid, 8.0)
    bc = {"u": {"x": ct.Dirichlet(0.2)}}
    runs = []
    for model in (
        ct.models.PDE(FISHER, {"D": 0.13, "rho": 0.012}, bc=bc),
        ct.models.FisherKPP(bc=bc),
    ):
        state = model.initial_state(grid, u=u0)
        runs.append(ct.simulate(model, state, 30.0, save_every=10.0, method=method))
    np.testing.assert_array_equal(runs[0].state.data, runs[1].state.data)
    assert runs[0].solver_stats["steps"] == runs[1].solver_stats["steps"]


def test_generated_reference_matches_the_compiled_rate():
    """The NumPy reference generated from the same expressions agrees with the compiled
    stage (measured 1.2e-16 of the largest rate), on a masked grid with every term on."""
    mask = np.ones((13, 11), dtype=bool)
    mask[8:, 7:] = False
    grid = ct.Grid((13, 11), (0.05, 0.04), mask=mask)
    model = pde_anderson_chaplain(beta=0.3, gamma=0.05)
    rng = np.random.default_rng(1)
    state = model.initial_state(grid, n=rng.random(grid.shape), f=rng.random(grid.shape))
    state.field("m")[...] = rng.random(grid.shape) * mask
    rate, _, _ = compiled_rhs(model, state)
    reference = model.reference_rate(state)
    scale = np.abs(reference).max()
    assert np.abs(rate - reference).max() <= 1e-12 * scale


def test_anderson_chaplain_from_equations_matches_the_built_in_model():
    """Taxis written as a divergence goes to the same limited upwind operator: the runs
    agree to round-off (measured 2.1e-14 after 2 time units: sympy orders the products
    differently), conserve n (1.7e-14) and stay nonnegative."""
    grid = ct.Grid((40, 40), 1 / 40)
    reference = ct.models.AndersonChaplain(gamma=0.05)
    model = pde_anderson_chaplain(gamma=0.05)
    start = reference.initial_state(grid)
    runs = [
        ct.simulate(
            m,
            m.initial_state(grid, **dict(zip("nfm", start.data, strict=True))),
            2.0,
            save_every=1.0,
            method="explicit",
        )
        for m in (model, reference)
    ]
    np.testing.assert_allclose(runs[0].state.data, runs[1].state.data, rtol=0, atol=1e-12)
    assert runs[0].state.data.min() >= 0.0
    # conservation of n under no-flux boundaries (round-off)
    total = [r.series("total_n") for r in runs]
    np.testing.assert_allclose(total[0], total[0][0], rtol=1e-12)


def test_strong_taxis_stays_positive():
    """gamma 100x the default: the limited upwind taxis keeps n >= 0 (the step is held
    to its positivity limit)."""
    grid = ct.Grid((30, 30), 1 / 30)
    model = pde_anderson_chaplain(gamma=0.5)
    state = model.initial_state(grid, **ct.models.AndersonChaplain().default_fields(grid))
    result = ct.simulate(model, state, 1.0, save_every=0.5)
    assert result.state.data[0].min() >= 0.0


BUDGET = dict(
    equations={"u": "D*laplace(u) + rho*u*(1 - u) - mu*v*u"},
    parameters={"D": 0.01, "rho": 0.5, "mu": 2.0, "k": 3.0},
    maps={"v": lambda grid: bump(grid, 0.05)},
    exports={"J": "mu*v*u"},
    scalars={"B": "J - k*B", "cleared": "k*B", "born": "born_rate"},
)


def test_compartments_keep_the_books():
    """Cells leaving the tissue through the export ``J = int mu v u`` enter the compartment
    ``B``, which is cleared into ``cleared``: tissue + B + cleared - born stays at its start
    (births booked by a second export) to 1e-13 of the total (measured 4.4e-15); the
    compiled export totals equal the NumPy reference's (4.4e-16)."""
    spec = dict(BUDGET)
    spec["exports"] = {**BUDGET["exports"], "born_rate": "rho*u*(1 - u)"}
    spec["scalars"] = {**BUDGET["scalars"], "born": "born_rate"}
    model = ct.models.PDE(**spec)
    grid = ct.Grid((20, 16), 0.05)
    state = model.initial_state(grid, u=0.5 * bump(grid, 0.1))
    result = ct.simulate(model, state, 2.0, save_every=0.5, method="explicit")
    tissue = result.series("total_u")
    books = tissue + result.series("B") + result.series("cleared") - result.series("born")
    np.testing.assert_allclose(books, books[0], rtol=1e-13)
    assert result.series("B")[-1] > 0 and result.series("cleared")[-1] > 0
    exported = model.reference_exports(result.state)
    _, totals, _ = compiled_rhs(model, result.state)
    np.testing.assert_allclose(totals, exported, rtol=1e-12)


def test_a_run_file_gives_the_model_back_and_resumes_bit_for_bit(tmp_path):
    grid = ct.Grid((16, 12), 0.5)
    model = pde_fisher(rho=0.05)
    state = model.initial_state(grid, u=bump(grid))
    whole = ct.simulate(model, state, 20.0, save_every=5.0)
    path = tmp_path / "pde.h5"
    ct.simulate(model, state, 10.0, save_every=5.0, output=path)
    with ct.open_run(path) as run:
        assert isinstance(run.model, ct.models.PDE)
        assert run.model.text["equations"] == FISHER
        assert run.model.kernel_name == model.kernel_name
    with ct.resume(path, 20.0) as run:
        np.testing.assert_array_equal(run.field("u", 20.0), whole.field("u", 20.0))


@pytest.mark.parametrize(
    ("equations", "parameters", "message"),
    [
        ({"u": "D*laplace(u) + r*u"}, {"D": 1.0}, "unknown name 'r'"),
        ({"u": "D*laplace(u) + rho*u*w"}, {"D": 1.0, "rho": 1.0}, "unknown name 'w'"),
        ({"u": "D*laplace(u) + rho*u^2"}, {"D": 1.0, "rho": 1.0}, r"'\^' is not a power"),
        ({"u": "D*laplace(u) + foo(u)"}, {"D": 1.0}, "unknown function 'foo'"),
        ({"u": "u*laplace(u)"}, {}, "must be made of parameters"),
        ({"u": "laplace(u)**2"}, {}, "must be made of parameters"),
        ({"u": "-D*laplace(u)"}, {"D": 1.0}, "must be >= 0"),
        ({"u": "1", "a": "-chi*u*laplace(a)"}, {"chi": 1.0}, r"taxis is -div\(chi\*u"),
        ({"u": "-chi*laplace(a)", "a": "0"}, {"chi": 1.0}, "cross-diffusion or taxis"),
        ({"u": "-chi*grad(u)*grad(a)", "a": "0"}, {"chi": 1.0}, r"grad\(\) only inside div"),
        ({"u": "-div(chi*grad(a))", "a": "0"}, {"chi": 1.0}, "not conservative taxis"),
        ({"u": "-div(chi*a*grad(a))", "a": "0"}, {"chi": 1.0}, "not conservative taxis"),
        ({"u": "-div(chi*u*u*grad(a))", "a": "0"}, {"chi": 1.0}, "not conservative taxis"),
        ({"u": "__import__('os')"}, {}, "unknown function '__import__'"),
        ({"u": "u.real"}, {}, "not an expression of the allowed form"),
        ({"t": "1"}, {}, "reserved"),
        ({"u": "D*laplace(u)"}, {"D": float("nan")}, "finite"),
        ({}, {}, "equations: a table"),
    ],
)
def test_bad_equations_are_refused_before_any_compilation(equations, parameters, message):
    with pytest.raises((EquationError, ValueError), match=message):
        ct.models.PDE(equations, parameters=parameters)


def test_bad_compartments_exports_and_stiff_fields_are_refused():
    with pytest.raises(EquationError, match="does not vanish"):
        ct.models.PDE({"u": "-u"}, exports={"J": "1 + u"}, scalars={"B": "J"})
    with pytest.raises(EquationError, match="rate of scalar B: may not use"):
        ct.models.PDE({"u": "-u"}, scalars={"B": "u"})
    with pytest.raises(EquationError, match="not linear in u"):
        ct.models.PDE({"u": "-u**2"}, stiff=["u"])
    with pytest.raises(EquationError, match="not a field"):
        ct.models.PDE({"u": "-u"}, stiff=["v"])
    with pytest.raises(ValueError, match="cell_fields: unknown field"):
        ct.models.PDE({"u": "-u"}, cell_fields=["n"])
    with pytest.raises(ValueError, match=r"maps.v: got an array of shape \(3,\)"):
        model = ct.models.PDE({"u": "-v*u"}, maps={"v": np.ones(3)})
        model.static_maps(ct.Grid((4, 4), 1.0))


SCENARIO = """
[model]
equations = { u = "D*laplace(u) + rho*u*(1 - u)" }
parameters = { D = 0.13, rho = 0.05 }
units = { D = "mm^2/day", rho = "1/day" }

[grid]
shape = [16, 12]
spacing = 0.5

[initial]
u = { shape = "disk", radius = 1.5 }

[run]
t_end = 10.0
save_every = 5.0
"""


def test_a_scenario_file_writes_the_equations(tmp_path):
    """``[model] equations`` gives the same model as the API (same kernels, same run)."""
    (tmp_path / "pde.toml").write_text(SCENARIO)
    scenario = ct.load_scenario(tmp_path / "pde.toml")
    assert scenario.model.kernel_name == pde_fisher(rho=0.05).kernel_name
    result = scenario.run(output=tmp_path / "pde.h5")
    with ct.open_run(tmp_path / "pde.h5") as run:
        assert run.model.units["D"] == "mm^2/day"
        np.testing.assert_array_equal(run.field("u", 10.0), result.state.data[0])
    bad = SCENARIO.replace("rho*u*(1 - u)", "rho*u*(1 - w)")
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(ct.ScenarioError, match="model: equation of u: unknown name 'w'"):
        ct.load_scenario(tmp_path / "bad.toml")
    maps = SCENARIO.replace('u = "D*laplace(u)', 'u = "-k*v*u + D*laplace(u)').replace(
        "rho = 0.05 }", 'rho = 0.05, k = 1.0 }\nmaps = { v = { shape = "disk", radius = 2.0 } }'
    )
    (tmp_path / "maps.toml").write_text(maps)
    with_map = ct.load_scenario(tmp_path / "maps.toml").run()
    assert with_map.series("total_u")[-1] < result.series("total_u")[-1]
