"""Compile-time reporting (``CompileWatch``) and ``continuum warm-up``'s input checks."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

import continuum as ct
from continuum.cli import main
from continuum.compilation import CompileWatch
from continuum.warmup import TARGETS, warm_up


def test_compile_watch_counts_outermost_compilations_once():
    @njit
    def inner(x):
        return x + 1.0

    @njit
    def outer(x):
        return inner(x) * 2.0

    calls = []
    with CompileWatch(lambda: calls.append("began"), calls.append) as watch:
        assert outer(1.0) == 4.0
        assert outer(2.0) == 6.0  # compiled already: no event
    assert calls[0] == "began" and len(calls) == 2  # inner compiled inside outer
    assert calls[1] == pytest.approx(watch.seconds) and watch.seconds > 0.0
    outer(np.float32(1.0))  # after the block: not counted
    assert len(calls) == 2


def test_a_run_reports_its_compile_seconds():
    model = ct.models.LumpedPrimary()
    state = model.initial_state(ct.Grid((1,), 1.0))
    stats = ct.simulate(model, state, 1.0, save_every=1.0).solver_stats
    assert stats["compile_seconds"] >= 0.0 and stats["method"] == "explicit"


def test_warm_up_refuses_unknown_targets_and_job_counts(capsys):
    with pytest.raises(ValueError, match="warm-up: got 'fisher'; the targets are default-run"):
        warm_up(["fisher"])
    with pytest.raises(ValueError, match="jobs: got 0; a whole number >= 1"):
        warm_up(["fisher-explicit"], jobs=0)
    assert main(["warm-up", "nothing"]) == 2
    assert "the targets are " + ", ".join(TARGETS) in capsys.readouterr().err


def test_variable_diffusion_is_compiled_only_for_problems_that_have_it():
    """The stage pass of a constant-coefficient problem on an unmasked grid compiles no
    variable-coefficient rows (``/constant-diffusion``); a diffusion law or a mask does."""
    from continuum.solvers.base import make_solver

    grid = ct.Grid((12, 10), 0.05)

    def kind(model, grid, method="explicit"):
        return make_solver(method, model, model.initial_state(grid)).kind

    assert kind(ct.models.FisherKPP(), grid).endswith("/constant-diffusion/pointwise")
    # IMEX diffuses every field implicitly: the stage pass compiles no diffusion at all
    assert kind(ct.models.FisherKPP(), grid, "imex").endswith(
        "/constant-diffusion/no-explicit-diffusion/pointwise"
    )
    masked = ct.Grid((12, 10), 0.05, mask=np.ones((12, 10), bool))
    assert "/constant-diffusion" not in kind(ct.models.FisherKPP(), masked)
    # a mask keeps the rows of rates (the mask) under IMEX too
    assert not kind(ct.models.FisherKPP(), masked, "imex").endswith("/pointwise")
    law = ct.models.PDE(
        {"u": "D*div(g*grad(u)) + u*(1 - u)"}, parameters={"D": 0.1}, maps={"g": 0.5}
    )
    assert "/constant-diffusion" not in kind(law, grid)
    assert not kind(ct.models.AndersonChaplain(), grid).endswith("/pointwise")  # taxis
    assert not kind(ct.models.Invasion(), grid, "imex").endswith("/pointwise")


def test_a_stage_without_explicit_diffusion_compiles_no_stencil_and_keeps_the_bits():
    """IMEX diffuses every field implicitly by default: the stage pass compiles the
    reactions only (``/no-explicit-diffusion``), with the same result as the full stage
    pass at zero explicit diffusivity; a field kept explicit keeps the stencil."""
    from continuum.kernels import registry
    from continuum.solvers.base import IMEXSolver

    grid = ct.Grid((9, 7), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.1, growth_rate=2.0)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    u0 = np.exp(-((x - 0.2) ** 2 + (y - 0.15) ** 2) / 0.01)
    lean = IMEXSolver(model, model.initial_state(grid, u=u0.copy()))
    full = IMEXSolver(model, model.initial_state(grid, u=u0.copy()))
    assert "/no-explicit-diffusion" in lean.kind
    full.kind = registry.variant(model.kernel_name, False, False, False, diffusion=True)
    lean.advance(0.5)
    full.advance(0.5)
    assert lean.steps == full.steps > 3
    np.testing.assert_array_equal(lean.u, full.u)
    kept = IMEXSolver(model, model.initial_state(grid, u=u0.copy()), implicit=[])
    assert "/no-explicit-diffusion" not in kept.kind


@pytest.mark.parametrize("method", ["explicit", "imex"])
def test_a_pointwise_stage_compiles_no_rows_of_rates_and_keeps_the_bits(method):
    """Without taxis, variable-coefficient diffusion, row terms or a mask the stage pass
    is a copy whose rows of rates and mask Numba prunes (``/pointwise``): the same steps
    and bits as the full stage pass, adaptive steps with their error estimate included."""
    from continuum.kernels import registry
    from continuum.solvers.base import make_solver

    grid = ct.Grid((9, 7), 0.05)
    model = ct.models.FisherKPP(diffusivity=0.1, growth_rate=2.0)
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    u0 = np.exp(-((x - 0.2) ** 2 + (y - 0.15) ** 2) / 0.01)
    lean = make_solver(method, model, model.initial_state(grid, u=u0.copy()))
    full = make_solver(method, model, model.initial_state(grid, u=u0.copy()))
    assert lean.kind.endswith("/pointwise")
    diffusion = method == "explicit"  # IMEX diffuses implicitly
    full.kind = registry.variant(model.kernel_name, False, False, False, diffusion, masked=True)
    assert full.kind == lean.kind.removesuffix("/pointwise")
    assert registry.has_rate_rows(full.kind) and not registry.has_rate_rows(lean.kind)
    lean.advance(0.5)
    full.advance(0.5)
    assert lean.steps == full.steps > 3
    np.testing.assert_array_equal(lean.u, full.u)
