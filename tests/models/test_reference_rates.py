"""Every field model's compiled right-hand side against its independent NumPy reference.

``model.reference_rate`` (and, for ``Invasion`` and ``ImmuneInvasion``,
``reference_exports`` and ``reference_scalar_rate``) are written from the equations in
the model's docstring with the NumPy operators of ``continuum.reference``; they share no
code with the kernels. The compiled side is read off the fused stage kernel itself
(``tests.helpers.compiled_rhs``).

Random fields (seeded), every parameter non-zero, random vessel maps (with empty and
all-vessel cells), 1D/2D/3D, with and without a mask, no-flux, periodic, mixed
(per-axis Dirichlet/no-flux/periodic) and all-Dirichlet boundaries, and for the invasion
models both therapy rates.

Tolerance: ``1e-9`` times the largest |rate| of each field (and of each export and scalar
rate). Measured over the 144 cases of the other models (seed 20261126): at most 5.5e-16
of the largest rate for the fields, 3.9e-16 for the exports and 1.4e-16 of the largest
scalar rate; masked-out cells are exactly zero; over ImmuneInvasion's 24 (each case
seeded 20261126) 4.2e-16, 4.0e-16 and 4.3e-16. 1e-9 is the issue's bound, not a
measured margin: what it checks is that no term is missing or altered, and every such
error tried changes a rate by 1e-3 or more of its scale.
"""

import numpy as np
import pytest

import continuum as ct
from continuum.models.invasion import PARAMETERS as INVASION_PARAMETERS
from tests.helpers import compiled_rhs

RTOL = 1e-9
SHAPES = {1: (13,), 2: (7, 8), 3: (4, 5, 6)}
SPACING = (0.11, 0.07, 0.13)  # mm
MODELS = [
    "Heat",
    "FisherKPP",
    "Taxis",
    "AndersonChaplain",
    "AcidMediated",
    "Invasion",
    "ImmuneInvasion",
]
INVASIONS = ("Invasion", "ImmuneInvasion")
THERAPY = (0.37, 0.21)  # 1/day, on tissue cells and on circulating cells


def _parameters(name, rng):
    """A non-zero, random-ish value for every parameter of model ``name``."""
    cls = getattr(ct.models, name)
    if name not in INVASIONS:
        return {p.name: float(rng.uniform(0.2, 2.0)) for p in cls.PARAMETERS}
    # Invasion's table first, in its own order (the draws of the Invasion cases unchanged)
    table = [*INVASION_PARAMETERS.values()]
    table += [p for p in cls.PARAMETERS if p.name not in INVASION_PARAMETERS]
    values = {}
    for p in table:
        values[p.name] = p.default * rng.uniform(0.5, 2.0) if p.default else rng.uniform(0.1, 1)
    # responses that vary over o in [0, 1]; lymphatics open at the margin, shut inside;
    # a non-integer Hill exponent; the first-pass arrest is a fraction
    values.update(
        o_H=rng.uniform(0.2, 0.5),
        o_N=rng.uniform(0.05, 0.2),
        K_P=rng.uniform(0.05, 0.3),
        hill=rng.uniform(1.5, 4.5),
        lymph_collapse=rng.uniform(0.4, 0.8),
        first_pass=rng.uniform(0.1, 0.9),
    )
    return {k: float(v) for k, v in values.items()}


def _bc(name, field_names, ndim, variant):
    """Boundary conditions of every field: all no-flux, all periodic, per-axis mixed, or
    Dirichlet everywhere.

    Mixed: ``x`` Dirichlet below and no-flux above, ``y`` periodic, ``z`` Dirichlet on
    both sides. Dirichlet: a different value on every side of every axis and per field (so
    that a swapped side or axis shows). ``Invasion``'s cell fields (which refuse Dirichlet)
    are no-flux wherever the others are Dirichlet.
    """
    if variant in ("noflux", "periodic"):
        return variant
    axes = ct.Grid((1,) * ndim).axis_names
    bc = {}
    for f, field in enumerate(field_names):
        if name in INVASIONS and field in ("epithelial", "mesenchymal"):
            spec = {"x": "noflux", "y": "periodic" if variant == "mixed" else "noflux"}
            spec["z"] = "noflux"
        elif variant == "mixed":
            both = ct.Dirichlet(0.9 - 0.1 * f)
            spec = {"x": (ct.Dirichlet(0.3 + 0.1 * f), "noflux"), "y": "periodic", "z": both}
        else:
            values = 0.05 * f + np.array([[0.2, 0.5], [0.7, 0.1], [0.35, 0.9]])
            spec = {
                a: tuple(ct.Dirichlet(float(v)) for v in values[i]) for i, a in enumerate("xyz")
            }
        bc[field] = {a: spec[a] for a in axes}
    return bc


def _vessels(shape, rng):
    """Densities in [0, 1] with empty cells and one cell all vessel."""
    v = rng.random(shape) * (rng.random(shape) > 0.2)
    v.flat[0] = 1.0
    return v


def _case(name, ndim, masked, variant, rng):
    shape = SHAPES[ndim]
    mask = None
    if masked:
        mask = rng.random(shape) > 0.25
        mask.flat[-1] = True
    grid = ct.Grid(
        shape,
        SPACING[:ndim],
        origin=0.3,
        mask=mask,
        cross_section=0.7,
        thickness=1.3,
    )
    cls = getattr(ct.models, name)
    params = _parameters(name, rng)
    bc = _bc(name, cls.field_names, ndim, variant)
    if name in INVASIONS:
        model = cls(
            blood_vessels=_vessels(shape, rng), lymph_vessels=_vessels(shape, rng), bc=bc, **params
        )
    else:
        model = cls(bc=bc, **params)
    fields = {}
    for field in model.field_names:
        values = rng.random(shape)
        if name in INVASIONS and field in ("epithelial", "mesenchymal"):
            values *= 0.6  # e + m on both sides of 1 (crowding) and of lymph_collapse
        if field == "oxygen":
            values[rng.random(shape) < 0.15] = 0.0  # anoxic cells
        fields[field] = values
    scalars = {s: float(rng.uniform(10.0, 1000.0)) for s in model.scalar_names}
    state = model.initial_state(grid, **fields, **scalars)
    return model, state


def _treated(model, rates):
    """Let the compiled side see the therapy rates ``rates`` (the model's therapy slots)."""
    vector = model.param_vector()
    vector[list(model.therapy_slots)] = rates
    model.param_vector = lambda: vector.copy()


def _assert_close_per_field(compiled, reference):
    n = len(compiled)
    error = np.abs(compiled - reference).reshape(n, -1).max(axis=1)
    scale = np.abs(reference).reshape(n, -1).max(axis=1)
    assert np.all(error <= RTOL * scale), (error, scale, error / np.maximum(scale, 1e-300))


@pytest.mark.parametrize("variant", ["noflux", "periodic", "mixed", "dirichlet"])
@pytest.mark.parametrize("masked", [False, True], ids=["whole", "masked"])
@pytest.mark.parametrize("ndim", [1, 2, 3], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("name", MODELS)
def test_compiled_rhs_matches_numpy_reference(name, ndim, masked, variant, rng):
    model, state = _case(name, ndim, masked, variant, rng)
    therapy = (0.0, 0.0)
    if model.therapy_slots is not None:
        therapy = THERAPY
        _treated(model, therapy)
    rate, exports, scalar_rate = compiled_rhs(model, state, t=0.25)
    if model.therapy_slots is not None:
        reference = model.reference_rate(state, t=0.25, therapy=therapy)
    else:
        reference = model.reference_rate(state, t=0.25)
    assert np.abs(reference[0]).max() > 0
    _assert_close_per_field(rate, reference)
    if masked:
        assert np.all(rate[:, ~state.grid.mask] == 0.0)
    if name not in INVASIONS:
        # no exports and no scalar kernel: nothing leaves the fields
        assert np.all(exports == 0.0) and np.all(scalar_rate == 0.0)
        return
    ref_exports = model.reference_exports(state, t=0.25, therapy=therapy)
    assert np.all(ref_exports > 0)  # blood, lymph, births, deaths and kills all on
    np.testing.assert_allclose(exports, ref_exports, rtol=RTOL, atol=0)
    ref_scalars = model.reference_scalar_rate(state, t=0.25, therapy=therapy)
    np.testing.assert_allclose(
        scalar_rate, ref_scalars, rtol=RTOL, atol=RTOL * np.abs(ref_scalars).max()
    )
    # the recorded series agree with the exports (cells/day)
    series = model.derived_series(state)
    cells = model.parameters["K_cell"]
    np.testing.assert_allclose(series["flux_blood"], cells * ref_exports[0], rtol=RTOL)
    np.testing.assert_allclose(series["flux_lymph"], cells * ref_exports[1], rtol=RTOL)


def test_invasion_every_term_is_exercised(rng):
    """The random case switches every branch of the Invasion reactions on somewhere: growth
    and crowding, open and shut lymphatics, anoxic cells, empty and all-vessel cells."""
    model, state = _case("Invasion", 2, True, "mixed", rng)
    e, m, _, _, o = state.data
    inside = state.grid.mask
    cells = (e + m)[inside]
    assert (cells > 1).any() and (cells < 1).any()
    collapse = model.parameters["lymph_collapse"]
    assert (cells > collapse).any() and (cells < collapse).any()
    assert (o[inside] == 0).any() and (o[inside] > model.parameters["o_H"]).any()
    v_b = model.static_maps(state.grid)[0]
    assert (v_b == 0).any() and (v_b == 1).any()
