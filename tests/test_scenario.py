"""Scenario files: building a run from TOML, and every problem reported at once."""

import textwrap
from pathlib import Path

import numpy as np
import pytest

import continuum as ct

LUMPED = """
title = "lumped patient"
[model]
name = "LumpedPrimary"
growth = { law = "gompertz", a = 0.004, K = 1e12 }
parameters = { mu = 1e-5, lymph_fraction = 0.3 }
[initial]
tumor_cells = 1e6
[circulation]
first_pass = { site = "lung", fraction = 0.5 }
[[sites]]
name = "lung"
[[sites]]
name = "liver"
affinity = 2.0
seeding = { m = 5.3e-8, alpha = 0.6667 }
[cascade]
horizon = 365.0
[run]
t_end = 365.0
save_every = 30.0
output = "lumped.h5"
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_lumped_cascade_scenario_runs_and_is_stored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = ct.load_scenario(write(tmp_path, "patient.toml", LUMPED))
    assert isinstance(scenario.model, ct.Cascade)
    assert [s.name for s in scenario.model.sites] == ["lung", "liver"]
    assert scenario.model.sites[1].affinity == 2.0
    assert scenario.state.scalar("tumor_cells") == 1e6
    result = scenario.run()
    assert result.series("sites/liver/arrived")[-1] > 0
    with ct.open_run(tmp_path / "lumped.h5") as run:
        assert run.attrs["scenario"] == textwrap.dedent(LUMPED)
        assert run.times[-1] == 365.0


def test_a_spatial_scenario_builds_its_fields_and_vessels(tmp_path):
    np.save(tmp_path / "matrix.npy", np.full((24, 20), 0.7))
    text = """
    [grid]
    shape = [24, 20]
    spacing = 0.05
    [model]
    name = "Invasion"
    parameters = { k_emt = 0.05 }
    [initial]
    epithelial = { shape = "disk", radius = 0.3, value = 0.9 }
    ecm = { file = "matrix.npy" }
    oxygen = 1.0
    [vessels]
    blood = { fraction = 0.05, seed = 3 }
    lymph = 0.01
    [run]
    t_end = 2.0
    method = "imex"
    """
    scenario = ct.load_scenario(write(tmp_path, "tissue.toml", text))
    grid = scenario.state.grid
    x, y = np.meshgrid(*grid.coords, indexing="ij")
    inside = np.hypot(x - 0.6, y - 0.5) <= 0.3
    np.testing.assert_array_equal(scenario.state["epithelial"], np.where(inside, 0.9, 0.0))
    np.testing.assert_array_equal(scenario.state["ecm"], 0.7)
    maps = scenario.model.static_maps(grid).reshape((2, *grid.shape))
    expected = ct.vessels.random_capillaries(grid, 0.05, seed=3)
    np.testing.assert_array_equal(maps[0], expected)
    np.testing.assert_array_equal(maps[1], 0.01)
    result = scenario.run(output=tmp_path / "tissue.h5")
    assert result.series("tumor_cells")[-1] > 0
    # a run's last frame as the next scenario's initial field
    follow = text.replace(
        'epithelial = { shape = "disk", radius = 0.3, value = 0.9 }',
        'epithelial = { file = "tissue.h5", dataset = "fields/epithelial" }',
    )
    again = ct.load_scenario(write(tmp_path, "again.toml", follow))
    np.testing.assert_array_equal(again.state["epithelial"], result.field("epithelial")[-1])
    wrong = follow.replace('"fields/epithelial"', '"fields/epithelia"')
    with pytest.raises(ct.ScenarioError, match=r"initial\.epithelial\.file: cannot read"):
        ct.load_scenario(write(tmp_path, "wrong.toml", wrong))


def test_every_problem_is_reported_at_once_before_any_file(tmp_path):
    text = """
    titel = "x"
    [grid]
    shape = [32, 32]
    spacing = 0.05
    [model]
    name = "Invasion"
    parameters = { k_emtt = 0.1, mu_B = -1.0 }
    [initial]
    epithelial = { shape = "disk", radius = -0.5 }
    oxygen = { file = "nope.npy" }
    [vessels]
    blood = { fraction = 2.0 }
    [[sites]]
    name = "lung"
    survival = 1.5
    [[sites]]
    name = "lunng"
    [run]
    t_end = 30
    method = "implicit"
    output = "never.h5"
    """
    with pytest.raises(ct.ScenarioError) as caught:
        ct.load_scenario(write(tmp_path, "bad.toml", text))
    problems = caught.value.problems
    expected = [
        "unknown key 'titel'; did you mean 'title'?",
        "unknown key 'k_emtt'; did you mean 'k_emt'?",
        "mu_B: got -1.0",
        "radius: got -0.5; it must be > 0",
        "nope.npy",
        "fraction: got 2.0; it must lie in [0, 1]",
        "survival: got 1.5",
        "organ: got 'lunng'",
        "run.method: got 'implicit'",
    ]
    for fragment in expected:
        assert any(fragment in p for p in problems), fragment
    assert len(problems) == len(expected)
    assert str(caught.value).startswith(f"{tmp_path / 'bad.toml'}: 9 problems")
    assert not (tmp_path / "never.h5").exists()


def test_shapes_that_do_not_fit_and_missing_entries(tmp_path):
    np.save(tmp_path / "small.npy", np.zeros((5, 5)))
    text = """
    [grid]
    shape = [8, 8]
    [model]
    name = "FisherKPP"
    [initial]
    u = { file = "small.npy" }
    [run]
    save_every = 1.0
    """
    with pytest.raises(ct.ScenarioError) as caught:
        ct.load_scenario(write(tmp_path, "s.toml", text))
    problems = caught.value.problems
    assert any("shape (5, 5) does not fit the grid (8, 8)" in p for p in problems)
    assert any("run: missing required entry 't_end'" in p for p in problems)
    with pytest.raises(ct.ScenarioError, match="model: missing required entry 'name'"):
        ct.Scenario.from_text("[run]\nt_end = 1.0\n")
    with pytest.raises(ct.ScenarioError, match="not valid TOML"):
        ct.Scenario.from_text("[run\n")


def test_a_bad_grid_is_reported_beside_an_unknown_model():
    text = (
        '[grid]\nshape = [8, 8]\nspacing = -0.5\n[model]\nname = "FisherKP"\n[run]\nt_end = 1.0\n'
    )
    with pytest.raises(ct.ScenarioError) as caught:
        ct.Scenario.from_text(text)
    problems = caught.value.problems
    assert len(problems) == 2
    assert "did you mean 'FisherKPP'" in problems[0]
    assert "spacing: got -0.5" in problems[1]


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    "name",
    [
        "breast_patient",
        "breast_invasion",
        "colorectal",
        "glioma",
        "glioma_treated",
        "lumped_patient",
        "defences",
    ],
)
def test_each_example_scenario_runs_and_reopens(name, tmp_path):
    scenario = ct.load_scenario(EXAMPLES / f"{name}.toml")
    t_end = 10.0 if name == "lumped_patient" else 1.0
    scenario.run(output=tmp_path / f"{name}.h5", t_end=t_end, progress=False)
    with ct.open_run(tmp_path / f"{name}.h5") as run:
        assert run.times[-1] == t_end
        assert run.attrs["scenario"] == (EXAMPLES / f"{name}.toml").read_text()
        if isinstance(run.model, ct.Cascade):
            assert run.series("tumor_cells")[-1] > 0


TREATED = (
    LUMPED
    + """
[[interventions]]
kind = "resection"
t = 200.0
residual = 0.01
[[interventions]]
kind = "systemic"
start = 210.0
end = 300.0
rate = 0.05
"""
)


def test_interventions_from_a_scenario_match_the_api(tmp_path):
    scenario = ct.Scenario.from_text(TREATED)
    assert [item.kind for item in scenario.interventions] == ["resection", "systemic"]
    from_file = scenario.run(output=tmp_path / "treated.h5")
    plan = [
        ct.Resection(t=200.0, residual=0.01),
        ct.SystemicTherapy(start=210.0, end=300.0, rate=0.05),
    ]
    direct = ct.simulate(scenario.model, scenario.state, 365.0, save_every=30.0, interventions=plan)
    np.testing.assert_array_equal(from_file.series("removed"), direct.series("removed"))
    assert from_file.series("removed")[-1] > 0.98 * direct.series("tumor_cells").max()


def test_every_intervention_problem_is_reported_at_once():
    bad = (
        LUMPED
        + """
[[interventions]]
kind = "resecton"
[[interventions]]
kind = "radiotherapy"
doze = 2.0
times = [100.0]
[[interventions]]
kind = "systemic"
start = 50.0
end = 40.0
rate = 0.1
"""
    )
    with pytest.raises(ct.ScenarioError) as error:
        ct.Scenario.from_text(bad)
    message = str(error.value)
    assert "3 problems" in message
    assert "did you mean 'resection'" in message
    assert "did you mean 'dose'" in message
    assert "systemic end: got 40.0" in message


SPATIAL_SITE = (
    LUMPED.replace('name = "liver"\naffinity = 2.0', 'name = "liver"')
    .replace("seeding = { m = 5.3e-8, alpha = 0.6667 }\n", "")
    .replace(
        '[[sites]]\nname = "liver"\n',
        """[[sites]]
name = "liver"
grid = { shape = [16, 12], spacing = 0.05 }
tissue = { parameters = { rho_e = 0.1 }, vessels = { blood = { fraction = 0.1, seed = 4 } } }
""",
    )
    .replace('output = "lumped.h5"', 'output = "lumped.h5"\nmethod = "imex"')
)


def test_a_spatial_site_from_a_scenario(tmp_path):
    scenario = ct.Scenario.from_text(SPATIAL_SITE)
    liver = scenario.model.sites[1]
    assert liver.grid.shape == (16, 12) and liver.model.parameters["rho_e"] == 0.1
    result = scenario.run(output=tmp_path / "spatial.h5", t_end=60.0)
    assert result.series("sites/liver/founded")[-1] > 0
    assert result.site_field("liver", "epithelial", 60.0).shape == (16, 12)
    bad = SPATIAL_SITE.replace("rho_e = 0.1", "rho_ee = 0.1").replace(
        "fraction = 0.1,", "fraction = -1,"
    )
    with pytest.raises(ct.ScenarioError) as error:
        ct.Scenario.from_text(bad)
    message = str(error.value)
    assert "2 problems" in message and "did you mean 'rho_e'" in message
    assert "sites[1] ('liver').tissue.vessels.blood" in message


# -- review of issue 16: ignored growth-law parameters, binary scenario files ----------------
@pytest.mark.parametrize(
    ("key", "value", "law", "name", "uses"),
    [
        ("model.growth.b", 1.0, "gompertz", "b", "a, K"),
        ("model.parameters.gamma", 0.7, "gompertz", "gamma", "a, K"),
        ("model.growth.K", 1e10, "exponential", "K", "a"),
    ],
)
def test_a_growth_parameter_the_law_ignores_is_refused(key, value, law, name, uses):
    """``--set model.growth.b=1`` on a Gompertz primary changed nothing, silently."""
    text = LUMPED.replace('law = "gompertz"', f'law = "{law}"')
    if law == "exponential":
        text = text.replace(", K = 1e12", "")
    with pytest.raises(ct.ScenarioError) as error:
        ct.Scenario.from_text(text, "patient", overrides={key: value})
    expected = f"{key}: the {law} growth law has no parameter {name!r} (it uses {uses})"
    assert error.value.problems == [f"{expected}; setting it would change nothing"]


def test_a_growth_parameter_the_law_reads_is_taken():
    text = LUMPED.replace('law = "gompertz", a = 0.004, K = 1e12', 'law = "bertalanffy", a = 0.004')
    scenario = ct.Scenario.from_text(text, "patient", overrides={"model.growth.b": 0.01})
    assert scenario.model.primary.parameters["b"] == 0.01


def test_cli_refuses_an_ignored_growth_parameter(tmp_path, capsys):
    from continuum.cli import main

    path = write(tmp_path, "patient.toml", LUMPED)
    status = main(["run", str(path), "--set", "model.growth.b=1", "-o", str(tmp_path / "r.h5")])
    err = capsys.readouterr().err
    assert status == 2 and "model.growth.b: the gompertz growth law has no parameter 'b'" in err
    assert not (tmp_path / "r.h5").exists()


def test_a_binary_scenario_file_is_a_scenario_error(tmp_path):
    path = tmp_path / "patient.toml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(ct.ScenarioError, match=r"patient\.toml.*is not a TOML text file"):
        ct.load_scenario(path)


def test_defences_example_wakes_colonies_when_the_primary_or_immunotherapy_goes():
    """examples/defences.toml: colonies held by the primary's inhibitors grow to detection
    only once the primary is removed, and only after the immunotherapy window (day 40-70)
    when it follows the resection."""

    def detected(**overrides):
        scenario = ct.Scenario.from_toml(EXAMPLES / "defences.toml", overrides=overrides)
        res = ct.simulate(
            scenario.model,
            scenario.state,
            120.0,
            save_every=1.0,
            interventions=scenario.interventions,
        )
        return ct.analysis.time_to_detection(res)["lung"]

    treated = detected()  # 79.1 days
    assert 70.0 < treated < 100.0
    untreated = detected(
        **{"interventions.1.kill_boost": 0.0, "interventions.1.exhaustion_block": 0.0}
    )
    assert 40.0 < untreated < 55.0  # 48.2 days: released by the resection at day 40
    assert detected(**{"interventions.0.t": 119.0}) is None  # held while the primary stays


def test_defence_keys_are_checked_like_the_rest():
    text = LUMPED.replace(
        'name = "liver"',
        'name = "liver"\nimmunity = { kil = 1e-7 }\n'
        'growth = { law = "gompertz", a = 0.01, K = 1e9, systemic = 0.5 }',
    )
    text += '[[interventions]]\nkind = "immunotherapy"\nstart = 10.0\nend = 5.0\n'
    text += '[[interventions]]\nkind = "antiangiogenc"\nstart = 1.0\nend = 2.0\nrate = 1.0\n'
    with pytest.raises(ct.ScenarioError) as error:
        ct.Scenario.from_text(text)
    message = str(error.value)
    assert "immunity of site 'liver': unknown parameter(s) ['kil']" in message
    assert "immunotherapy end: got 5.0; it must be > start = 10 day" in message
    assert "did you mean 'antiangiogenic'?" in message
    with pytest.raises(ct.ScenarioError, match="applies to the 'hahnfeldt' law only"):
        ct.Scenario.from_text(
            LUMPED.replace(
                'name = "liver"',
                'name = "liver"\ngrowth = { law = "gompertz", a = 0.01, K = 1e9, systemic = 0.5 }',
            )
        )
    with pytest.raises(ct.ScenarioError, match="immunotherapy acts on effector cells"):
        ct.Scenario.from_text(
            LUMPED + '[[interventions]]\nkind = "immunotherapy"\nstart = 1.0\nend = 2.0\n'
        ).run(progress=False)


def test_every_scenario_key_says_its_unit_and_meaning():
    """The scenario-file reference is generated from these tables (docs/_ext)."""
    from dataclasses import fields

    from continuum.interventions import KINDS
    from continuum.scenario import keys

    tables = [getattr(keys, name) for name in dir(keys) if name.endswith(("_KEYS", "SECTIONS"))]
    assert len(tables) == 17  # with the image tables: mask, field, vessel map
    for table in tables:
        for name, key in table.items():
            assert isinstance(key, keys.Key) and key.meaning, name
    for kind, cls in KINDS.items():
        for f in fields(cls):
            if f.name != "kind":
                assert f.metadata["meaning"] and "unit" in f.metadata, (kind, f.name)


def test_example_scenarios_are_found_by_name():
    path = ct.scenario.example_path("lumped_patient")
    assert path.name == "lumped_patient.toml" and path.is_file()
    assert ct.load_scenario(path).title.startswith("lumped breast patient")
    with pytest.raises(ValueError, match=r"example scenario: got 'lumped'; the examples are \["):
        ct.scenario.example_path("lumped")
