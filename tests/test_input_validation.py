"""One validated path from input to the kernels (issue 15, items 3, 5 and 6).

Every malformed input (through the API, a scenario file or ``--set`` overrides) is refused
with a ``ValueError`` (a ``ScenarioError`` for scenarios) naming the parameter, the value
and what is allowed, before any file exists; never a TypeError, OverflowError,
AttributeError or MemoryError, and no work is done first.
"""

import math

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import continuum as ct
import continuum.validation
from continuum.models import FisherKPP, Heat, Invasion, LumpedPrimary

FISHER = """
[grid]
shape = [8, 8]
spacing = 0.1
[model]
name = "FisherKPP"
parameters = { growth_rate = 0.012 }
[initial]
u = { shape = "disk", radius = 0.2, value = 0.5 }
[[interventions]]
kind = "radiotherapy"
times = [5.0]
target = { radius = 0.3, centre = [0.4, 0.4] }
[run]
t_end = 10.0
save_every = 1.0
"""

INVASION = """
[grid]
shape = [8, 8]
spacing = 0.05
[model]
name = "Invasion"
[vessels]
blood = { fraction = 0.03, seed = 1 }
[run]
t_end = 10.0
"""

LUMPED = """
[model]
name = "LumpedPrimary"
growth = { law = "gompertz", a = 0.004, K = 1e12 }
parameters = { mu = 1e-5 }
[initial]
tumor_cells = 1e6
[circulation]
first_pass = { site = "lung", fraction = 0.5 }
[[sites]]
name = "lung"
[cascade]
horizon = 100.0
[run]
t_end = 100.0
save_every = 10.0
"""

MEMORY = 64 * 2**30  # the machine the memory checks assume [bytes]


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 64 GiB of memory, whatever the test runs on."""
    monkeypatch.setattr(continuum.validation, "physical_memory", lambda: MEMORY)


def refused(build, *fragments, error=ValueError):
    """Call ``build``; it must raise ``error`` whose message holds every fragment."""
    with pytest.raises(error) as caught:
        build()
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def scenario(text, tmp_path=None, **overrides):
    folder = "." if tmp_path is None else tmp_path
    return ct.Scenario.from_text(text, "s.toml", folder, overrides)


# -- item 3: a state that does not fit the model --------------------------------------
def lumped_cascade(sites=("lung",), **options):
    primary = LumpedPrimary(mu=1e-5)
    sites = [ct.SecondarySite(name) for name in sites]
    return ct.Cascade(primary, ct.Circulation(), sites, horizon=100.0, **options)


def test_a_heat_state_is_refused_by_fisher_kpp(tmp_path):
    grid = ct.Grid((8, 8), 0.1)
    output = tmp_path / "run.h5"
    state = Heat().initial_state(grid, u=0.5)
    refused(
        lambda: ct.simulate(FisherKPP(), state, 1.0, output=output),
        "FisherKPP model has ['removed'], which the state lacks",
    )
    assert not output.exists()


def test_a_cascade_state_with_other_cohorts_or_sites_is_refused(tmp_path):
    output = tmp_path / "run.h5"
    model = lumped_cascade()
    other_cohorts = lumped_cascade(cohort_days=0.5).initial_state(tumor_cells=1e6)
    refused(
        lambda: ct.simulate(model, other_cohorts, 10.0, output=output),
        "scalar 'sites/lung/cohort_colonies' has shape (200,)",
        "the Cascade model has shape (128,)",
        "cohort_days",
    )
    other_sites = lumped_cascade(("liver",)).initial_state(tumor_cells=1e6)
    refused(
        lambda: ct.simulate(model, other_sites, 10.0, output=output),
        "'sites/lung/arrived'",
        "which the state lacks",
        "'sites/liver/arrived'",
    )
    assert not output.exists()


def test_wrong_sizes_and_values_in_a_state_are_refused(tmp_path):
    grid = ct.Grid((8, 8), 0.1)
    model = FisherKPP()
    output = tmp_path / "run.h5"

    def run(state):
        return lambda: ct.simulate(model, state, 1.0, output=output)

    state = model.initial_state(grid, u=0.5)
    state.scalars = np.zeros(3)
    refused(run(state), "state.scalars: got float64 of shape (3,); expected float64 of shape (1,)")
    state = model.initial_state(grid, u=0.5)
    state.scalar_layout = {"removed": (0, (2,))}
    refused(run(state), "scalar 'removed' has shape (2,) at offset 0")
    state = model.initial_state(grid, u=0.5)
    state.data = np.zeros((1, 4, 4))
    refused(run(state), "state.data: got float64 of shape (1, 4, 4)")
    state = model.initial_state(grid, u=0.5)
    state.data[0, 2, 2] = np.nan
    refused(run(state), "field 'u' contains NaN or Inf")
    state = model.initial_state(grid, u=0.5)
    state.scalars[0] = np.inf
    refused(run(state), "scalar 'removed' contains NaN or Inf")
    negative = ct.State(grid, ("u",), -0.5 * np.ones((1, 8, 8)), model.scalar_layout())
    refused(run(negative), "field 'u' goes down to -0.5; it is a density and must be >= 0")
    refused(run("not a state"), "state: got str")
    assert not output.exists()


def test_round_off_below_zero_in_a_state_is_accepted():
    """A run's own state may read -8e-23 in a density field; it is not an input error."""
    grid = ct.Grid((4, 4), 0.1)
    model = Invasion()
    state = model.initial_state(grid)
    state.data[2, 0, 0] = -7.8e-23
    continuum.state.check_state_fits(model, state)


def test_a_scenario_run_refuses_a_state_of_another_model(tmp_path):
    run = scenario(FISHER)
    run.state = Heat().initial_state(run.state.grid, u=0.5)
    output = tmp_path / "run.h5"
    refused(lambda: run.run(output=output), "which the state lacks")
    assert not output.exists()


# -- item 5: inf and nan, odd file entries, huge allocations ----------------------------
@pytest.mark.parametrize(
    ("key", "value", "fragments"),
    [
        ("grid.shape", [math.inf, 8], ("grid: shape: got inf; a whole number >= 1",)),
        ("grid.shape", [8, math.nan], ("shape: got nan; a whole number >= 1",)),
        ("grid.origin", math.nan, ("origin: got nan; a finite number [mm]",)),
        ("grid.spacing", math.inf, ("spacing: got inf; a finite number [mm]",)),
        ("run.t_end", math.inf, ("run.t_end: got inf; a finite number",)),
        ("run.save_every", math.nan, ("run.save_every: got nan; a finite number",)),
        ("run.dt", -math.inf, ("run.dt: got -inf",)),
        ("initial.u.radius", math.inf, ("initial.u.radius: got inf",)),
    ],
)
def test_inf_and_nan_in_a_scenario_name_the_key(tmp_path, key, value, fragments):
    refused(lambda: scenario(FISHER, **{key: value}), *fragments, error=ct.ScenarioError)
    assert list(tmp_path.iterdir()) == []


def test_inf_and_nan_through_the_api_name_the_parameter(tmp_path):
    grid = ct.Grid((8, 8), 0.1)
    model = FisherKPP()
    state = model.initial_state(grid, u=0.5)
    output = tmp_path / "run.h5"
    refused(lambda: ct.Grid((math.inf, 4)), "shape: got inf; a whole number >= 1 is required")
    refused(lambda: ct.Grid(4, origin=math.nan), "origin: got nan; a finite number [mm]")
    for t_end in (math.inf, math.nan):
        refused(
            lambda t_end=t_end: ct.simulate(model, state, t_end, output=output),
            f"t_end: got {t_end}; a finite number [day] is required",
        )
    refused(
        lambda: ct.simulate(model, state, 1.0, save_every=math.inf, output=output),
        "save_every: got inf",
    )
    refused(
        lambda: ct.simulate(model, state, 1.0, t_start=math.nan, output=output),
        "t_start: got nan",
    )
    refused(
        lambda: ct.simulate(model, state, 1.0, max_steps=math.inf, output=output),
        "max_steps: got inf; a whole number >= 1",
    )
    refused(
        lambda: ct.vessels.random_capillaries(grid, 0.03, seed=math.inf),
        "seed: got inf; a whole number >= 0",
    )
    assert not output.exists()


def test_a_vessel_seed_must_be_a_whole_number(tmp_path):
    for seed in (math.inf, 2.5, -1, "1", True):
        refused(
            lambda seed=seed: scenario(INVASION, **{"vessels.blood.seed": seed}),
            f"vessels.blood.seed: got {seed!r}; a whole number >= 0 is required",
            error=ct.ScenarioError,
        )


def test_odd_initial_file_entries_name_the_key(tmp_path):
    with h5py.File(tmp_path / "run.h5", "w") as handle:
        handle.create_dataset("fields/u", data=np.zeros((2, 8, 8)))
    np.save(tmp_path / "complex.npy", np.ones((8, 8), dtype=complex))
    np.save(tmp_path / "words.npy", np.full((8, 8), "a"))
    cases = [
        ({"file": 5}, "initial.u.file: got 5; a file name (a string) is required"),
        ({"file": ""}, "initial.u.file: got ''; a file name"),
        ({"file": "run.h5", "dataset": "fields"}, "'fields' in "),
        ({"file": "run.h5", "dataset": 5}, "initial.u.dataset: got 5"),
        ({"file": "run.h5", "dataset": "fields/u", "frame": "x"}, "initial.u.frame: got 'x'"),
        ({"file": "run.h5", "dataset": "fields/u", "frame": 7}, "initial.u.file: cannot read"),
        ({"file": "complex.npy"}, "holds complex128 values; real numbers are required"),
        ({"file": "words.npy"}, "holds <U1 values; real numbers are required"),
        ({"shape": "disk", "radius": 0.2, "centre": ["a", 0.4]}, "initial.u.centre[0]: got 'a'"),
        ({"shape": "disk", "radius": 0.2, "centre": "middle"}, "initial.u.centre: got 'middle'"),
        ({"shape": "disk", "radius": 0.2, "value": "0.5"}, "initial.u.value: got '0.5'"),
    ]
    for entry, fragment in cases:
        refused(
            lambda entry=entry: scenario(FISHER, tmp_path, **{"initial.u": entry}),
            fragment,
            error=ct.ScenarioError,
        )
    refused(
        lambda: scenario(INVASION, tmp_path, **{"vessels.blood": {"file": 5}}),
        "vessels.blood.file: got 5",
        error=ct.ScenarioError,
    )


def test_a_group_as_dataset_is_named(tmp_path):
    with h5py.File(tmp_path / "run.h5", "w") as handle:
        handle.create_dataset("fields/u", data=np.zeros((8, 8)))
    refused(
        lambda: scenario(
            FISHER, tmp_path, **{"initial.u": {"file": "run.h5", "dataset": "fields"}}
        ),
        "initial.u.dataset: 'fields' in",
        "is a group, not a dataset",
        error=ct.ScenarioError,
    )


def test_huge_allocations_name_the_figure_before_any_file(tmp_path, small_machine):
    output = tmp_path / "run.h5"
    refused(
        lambda: ct.Grid((10**6, 10**6)),
        "shape: one field on 1e+12 cells (1000000, 1000000) needs about 7451 GiB of memory",
        "this machine has 64 GiB",
    )
    refused(
        lambda: ct.Cascade(LumpedPrimary(), sites=[ct.SecondarySite("lung")], cohort_days=1e-6),
        "cohort_days: 3.65e+09 cohorts over 3650 days for 1 site(s) needs about 163.2 GiB",
        "this machine has 64 GiB",
    )
    grid = ct.Grid((16, 16), 0.1)
    model = FisherKPP()
    state = model.initial_state(grid, u=0.5)
    refused(
        lambda: ct.simulate(model, state, 1e4, save_every=1e-9, output=output),
        "save_every: 1e+13 frames (every 1e-09 day from 0 to 10000 day) needs about",
        "this machine has 64 GiB",
    )
    assert not output.exists()
    refused(
        lambda: Invasion().initial_state(ct.Grid((2000, 2000, 500))),
        "initial_state: a state of fields (5, 2000, 2000, 500) and 10 scalars needs about "
        "74.51 GiB",
    )


def test_huge_allocations_in_a_scenario(tmp_path, small_machine):
    for text, key, value, fragment in [
        (FISHER, "grid.shape", [10**6, 10**6], "grid: shape: one field on 1e+12 cells"),
        (FISHER, "run.save_every", 1e-9, "run: save_every: 1e+10 frames"),
        (LUMPED, "cascade.cohort_days", 1e-9, "cascade: cohort_days: 1e+11 cohorts"),
    ]:
        refused(
            lambda text=text, key=key, value=value: scenario(text, **{key: value}),
            fragment,
            "GiB of memory; this machine has 64 GiB",
            error=ct.ScenarioError,
        )
    assert list(tmp_path.iterdir()) == []


# -- item 6: strict types -------------------------------------------------------------
def test_no_bool_or_string_is_a_number():
    for value in ("0.012", True, False, None, 1j, [0.012]):
        refused(
            lambda value=value: FisherKPP(growth_rate=value),
            f"growth_rate: got {value!r}; a real number [1/day] is required",
        )
    for value in ("0.012", True):
        refused(
            lambda value=value: scenario(FISHER, **{"model.parameters.growth_rate": value}),
            f"growth_rate: got {value!r}; a real number",
            error=ct.ScenarioError,
        )
    assert FisherKPP(growth_rate=np.float32(0.5)).parameters["growth_rate"] == 0.5
    assert FisherKPP(growth_rate=1).parameters["growth_rate"] == 1.0


def test_grid_shapes_are_whole_numbers():
    for shape in (2.5, True, (8, 2.5), (8, False), "8", (8, "8"), [], (1, 2, 3, 4), (0, 4)):
        refused(lambda shape=shape: ct.Grid(shape), "shape: got")
    assert ct.Grid((8.0, np.int64(4))).shape == (8, 4)
    assert ct.Grid(np.array([3, 5])).shape == (3, 5)
    for shape in ([8, 2.5], [8, True]):
        refused(
            lambda shape=shape: scenario(FISHER, **{"grid.shape": shape}),
            "grid: shape: got",
            error=ct.ScenarioError,
        )


def test_complex_and_text_arrays_are_refused():
    grid = ct.Grid((4, 4), 0.1)
    complex_field = np.full((4, 4), 0.5 + 0.1j)
    refused(
        lambda: FisherKPP().initial_state(grid, u=complex_field),
        "u: got an array of complex128 values; real numbers are required",
    )
    refused(lambda: FisherKPP().initial_state(grid, u="0.5"), "u: got '0.5'; a number or an array")
    refused(lambda: FisherKPP().initial_state(grid, u=True), "u: got True")
    refused(
        lambda: ct.State(grid, ("u",), complex_field[None]),
        "data: got an array of complex128 values",
    )
    refused(lambda: Invasion(blood_vessels=complex_field), "blood_vessels: got an array of complex")
    refused(lambda: ct.vessels.from_array(grid, complex_field), "vessels: got an array of complex")
    refused(lambda: Invasion(lymph_vessels="0.1"), "lymph_vessels: got an array of <U3 values")


def test_negative_densities_are_refused_where_fields_are_densities():
    grid = ct.Grid((4, 4), 0.1)
    refused(
        lambda: FisherKPP().initial_state(grid, u=-0.1),
        "u: got values down to -0.1; a density must be >= 0",
    )
    field = np.full((4, 4), 0.5)
    field[1, 2] = -0.48
    refused(lambda: Invasion().initial_state(grid, epithelial=field), "epithelial: got values down")
    refused(lambda: Invasion().initial_state(grid, oxygen=-1.0), "oxygen: got values down to -1")
    for model, name in [
        (ct.models.AndersonChaplain(), "f"),
        (ct.models.AcidMediated(), "acid"),
        (ct.models.Taxis(), "n"),
    ]:
        refused(lambda m=model, n=name: m.initial_state(grid, **{n: -0.1}), f"{name}: got values")
    refused(
        lambda: scenario(FISHER, **{"initial.u": -0.5}),
        "initial: u: got values down to -0.5",
        error=ct.ScenarioError,
    )
    refused(
        lambda: scenario(LUMPED, **{"initial.tumor_cells": -1.0}),
        "tumor_cells: got -1.0; it must be >= 0",
        error=ct.ScenarioError,
    )
    # a temperature (Heat) and a taxis attractant may be negative
    Heat().initial_state(grid, u=-1.0)
    ct.models.Taxis().initial_state(grid, a=-1.0)


def test_treatments_sites_and_circulation_take_numbers_strictly():
    cases = [
        (lambda: ct.Resection(t="5"), "resection t: got '5'; a real number [day]"),
        (lambda: ct.Resection(t=5.0, margin=True), "resection margin: got True"),
        (lambda: ct.Radiotherapy(start=1.0, fractions=True), "radiotherapy fractions: got True"),
        (lambda: ct.Radiotherapy(start=1.0, fractions=2.5), "radiotherapy fractions: got 2.5"),
        (lambda: ct.Radiotherapy(times=5.0), "radiotherapy times: got 5.0; a list of times"),
        (lambda: ct.Radiotherapy(times=["1"]), "radiotherapy times[0]: got '1'"),
        (
            lambda: ct.Radiotherapy(times=[1.0], target={"radius": 0.1, "centre": ["a", 0.0]}),
            "radiotherapy target centre[0]: got 'a'",
        ),
        (
            lambda: ct.Radiotherapy(times=[1.0], target=np.full((4, 4), 0.5)),
            "radiotherapy target: an array of true/false (or 0/1) per cell",
        ),
        (lambda: ct.SystemicTherapy(start=0.0, end=1.0, rate=True), "systemic rate: got True"),
        (lambda: ct.SecondarySite("lung", survival="0.3"), "survival: got '0.3'"),
        (lambda: ct.SecondarySite("lung", affinity=math.nan), "affinity: got nan"),
        (lambda: ct.Circulation(clusters=5), "clusters: got 5; a table of parameters"),
        (lambda: ct.Circulation(first_pass=(5, 0.5)), "first_pass: got site 5"),
        (lambda: ct.Circulation(lymph_node=5), "lymph_node: got 5"),
        (lambda: ct.Circulation(k_clear="10"), "k_clear: got '10'"),
        (lambda: LumpedPrimary(growth={"law": "gompertz", "a": "0.01"}), "a: got '0.01'"),
        (lambda: LumpedPrimary(growth=5), "growth: got 5; allowed values are"),
    ]
    for build, fragment in cases:
        refused(build, fragment)
    target = ct.Radiotherapy(times=[1.0], target=np.ones((4, 4))).target
    assert target.dtype == bool and target.all()


def test_origin_and_spacing_must_be_finite():
    for origin in (math.nan, math.inf, (0.0, math.nan), "0"):
        refused(lambda origin=origin: ct.Grid((4, 4), origin=origin), "origin: got")
    for spacing in (math.inf, 0.0, -0.1, (0.1, math.nan), True):
        refused(lambda spacing=spacing: ct.Grid((4, 4), spacing=spacing), "spacing: got")
    refused(lambda: ct.Grid(4, thickness=math.inf, cross_section=1.0), "thickness: got inf")


# -- a corpus of generated bad input ----------------------------------------------------
NOT_NUMBERS = st.one_of(
    st.text(max_size=5),
    st.booleans(),
    st.lists(st.text(max_size=2), min_size=2, max_size=2),
    st.dictionaries(st.sampled_from(["a", "file"]), st.integers(), max_size=1),
)
NOT_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
NEGATIVE = st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False)
HUGE = st.sampled_from([1e300, 10**18, 2**63 - 1])
TINY = st.sampled_from([1e-300, 5e-324, 1e-12])

# (scenario, key, the values it refuses)
RULES = [
    (FISHER, "grid.shape", st.one_of(NOT_NUMBERS, NOT_FINITE, HUGE, st.just([8, 2.5]))),
    (FISHER, "grid.spacing", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE, st.just(0.0))),
    (FISHER, "grid.origin", st.one_of(NOT_NUMBERS, NOT_FINITE)),
    (FISHER, "model.parameters.growth_rate", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (FISHER, "model.parameters.diffusivity", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (FISHER, "model.name", st.one_of(NOT_NUMBERS, NOT_FINITE, st.integers())),
    (FISHER, "initial.u", st.one_of(st.booleans(), NOT_FINITE, NEGATIVE, st.text(max_size=3))),
    (FISHER, "initial.u.radius", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (FISHER, "initial.u.value", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (FISHER, "initial.u.centre", st.one_of(NOT_NUMBERS, NOT_FINITE, st.just([math.nan, 0.0]))),
    (FISHER, "interventions.0.times", st.one_of(NOT_NUMBERS, NOT_FINITE, st.just([math.inf]))),
    (FISHER, "interventions.0.target", st.one_of(NOT_NUMBERS, NOT_FINITE)),
    (FISHER, "interventions.0.dose", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (FISHER, "run.t_end", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE, st.just(0.0))),
    (FISHER, "run.save_every", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE, TINY)),
    (FISHER, "run.dt", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (FISHER, "run.method", st.one_of(NOT_NUMBERS, NOT_FINITE)),
    (INVASION, "vessels.blood.seed", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (INVASION, "vessels.blood.fraction", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (INVASION, "vessels.blood", st.one_of(st.text(max_size=3), NOT_FINITE, NEGATIVE)),
    (LUMPED, "initial.tumor_cells", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (LUMPED, "model.growth", st.one_of(NOT_NUMBERS, NOT_FINITE)),
    (LUMPED, "model.growth.a", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (LUMPED, "cascade.cohort_days", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE, TINY)),
    (LUMPED, "cascade.horizon", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (LUMPED, "circulation.k_clear", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    (LUMPED, "circulation.first_pass", st.one_of(NOT_NUMBERS, NOT_FINITE)),
    (LUMPED, "circulation.clusters", st.one_of(st.text(), st.booleans(), NOT_FINITE)),
    (LUMPED, "sites.0.survival", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE, st.just(1.5))),
    (LUMPED, "sites.0.growth", st.one_of(st.booleans(), NOT_FINITE, st.just({"law": 5}))),
]


@st.composite
def bad_entries(draw):
    text, key, values = draw(st.sampled_from(RULES))
    return text, key, draw(values)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entry=bad_entries())
def test_generated_bad_scenarios_are_refused_before_any_file(tmp_path, small_machine, entry):
    text, key, value = entry
    with pytest.raises(ct.ScenarioError) as caught:
        scenario(text, tmp_path, **{key: value})
    assert caught.value.problems
    assert not any(tmp_path.iterdir())


API_RULES = [
    ("growth_rate", lambda v: FisherKPP(growth_rate=v), st.one_of(NOT_NUMBERS, NOT_FINITE)),
    ("k_emt", lambda v: Invasion(k_emt=v), st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    ("shape", lambda v: ct.Grid((4, v)), st.one_of(NOT_NUMBERS, NOT_FINITE, HUGE, NEGATIVE)),
    ("origin", lambda v: ct.Grid(4, origin=v), st.one_of(NOT_NUMBERS, NOT_FINITE)),
    ("cohort_days", lambda v: lumped_cascade(cohort_days=v), st.one_of(NOT_NUMBERS, TINY)),
    ("t", lambda v: ct.Resection(t=v), st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    ("seed", lambda v: ct.vessels.random_capillaries(ct.Grid(4), 0.1, seed=v), NOT_NUMBERS),
]


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_generated_bad_values_through_the_api(data):
    name, build, values = data.draw(st.sampled_from(API_RULES))
    value = data.draw(values)
    with pytest.raises(ValueError, match=name):
        build(value)


SIMULATE_RULES = [
    ("t_end", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE, HUGE.map(lambda v: -v))),
    ("save_every", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE, TINY)),
    ("checkpoint_every", st.one_of(NOT_NUMBERS, NOT_FINITE, NEGATIVE)),
    ("t_start", st.one_of(NOT_NUMBERS, NOT_FINITE)),
    ("method", st.one_of(NOT_NUMBERS, NOT_FINITE)),
    ("compression", st.one_of(st.booleans(), st.integers(), NOT_FINITE)),
]


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_generated_bad_run_settings_are_refused_before_any_file(tmp_path, small_machine, data):
    name, values = data.draw(st.sampled_from(SIMULATE_RULES))
    value = data.draw(values)
    model = FisherKPP()
    state = model.initial_state(ct.Grid((4, 4), 0.1), u=0.5)
    options = {"t_end": 1.0, name: value}
    output = tmp_path / "run.h5"
    with pytest.raises(ValueError, match=name):
        ct.simulate(model, state, output=output, **options)
    assert not output.exists()
