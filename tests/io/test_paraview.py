"""ParaView and VTK open run files the right way round: real readers, probed at known points.

Each check runs ``vtk_probe.py`` in a fresh process with a real reader (the ``vtk`` wheel's
``vtkXdmfReader``; ParaView's ``pvpython`` with both XDMF readers where ParaView is
installed) and asserts that the process printed nothing (HDF5, XDMF and VTK errors all go to
its output), that the time steps are the run's times, and that at cell centres of known
``(x, y, z)`` the reader finds exactly the stored values.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import continuum as ct
from continuum.cli import main
from continuum.io import export_vtkhdf

PROBE = Path(__file__).with_name("vtk_probe.py")
PVPYTHON = shutil.which("pvpython")
# (interpreter, reader): the vtk wheel's XDMF reader; ParaView's two, where installed.
READERS = [
    pytest.param(sys.executable, "xdmf", id="vtk-xdmf"),
    *(
        pytest.param(
            PVPYTHON,
            reader,
            id=f"paraview-{reader}",
            marks=pytest.mark.skipif(PVPYTHON is None, reason="ParaView (pvpython) not installed"),
        )
        for reader in ("xdmf", "xdmf3")
    ),
]


def read_with(interpreter, reader, path, points, tmp_path) -> dict:
    """Probe ``path`` with a real reader in a fresh process; nothing may be printed."""
    points_file = tmp_path / "points.json"
    points_file.write_text(json.dumps(points))
    out = tmp_path / "probed.json"
    done = subprocess.run(
        [interpreter, str(PROBE), reader, str(path), str(points_file), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path.parent,  # not the file's folder: relative paths must resolve anyway
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "" and done.stderr == "", (done.stdout + done.stderr)[-3000:]
    return json.loads(out.read_text())


def cell_points(grid, cells) -> list[list[float]]:
    """Centres [mm] of ``cells`` (index tuples) as VTK points: z = 0 in 2D, y = z = 0 in 1D."""
    centres = grid.coords
    return [
        [float(centres[a][i]) for a, i in enumerate(cell)] + [0.0] * (3 - grid.ndim)
        for cell in cells
    ]


def some_cells(grid, rng, count=10) -> list[tuple[int, ...]]:
    """``count`` distinct cells: the two extreme corners and random others (a masked
    grid's upper corner is outside the tissue)."""
    flat = rng.choice(grid.size, size=count - 2, replace=False)
    cells = [(0,) * grid.ndim, tuple(n - 1 for n in grid.shape)]
    return cells + [tuple(int(i) for i in np.unravel_index(k, grid.shape)) for k in flat]


def expected_bounds(grid, flat=False) -> list[float]:
    """VTK's bounds of a grid [mm]: XDMF makes a 2D run one cell (its thickness) deep and
    a 1D run one cell (a square of its cross-section) wide, centred on 0; VTKHDF (``flat``)
    keeps them flat at 0."""
    bounds = []
    for o, h, n in zip(grid.origin, grid.spacing, grid.shape, strict=True):
        bounds += [o, o + n * h]
    depth = 0.0 if flat else grid.thickness if grid.ndim == 2 else np.sqrt(grid.cross_section)
    return bounds + [-depth / 2, depth / 2] * (3 - grid.ndim)


TISSUE_2D = np.ones((7, 5), bool)
TISSUE_2D[5:, 3:] = False  # a masked 2D grid: the mask is shown too
GRIDS = {
    3: ct.Grid((6, 5, 4), (0.1, 0.2, 0.3), origin=(-1.0, 2.5, 0.7)),
    2: ct.Grid((7, 5), (0.1, 0.25), origin=(0.3, -0.2), thickness=0.4, mask=TISSUE_2D),
    1: ct.Grid((9,), 0.15, origin=2.0, cross_section=0.09),
}


def shown_arrays(grid, u) -> dict:
    """What a reader should show of a FisherKPP run: ``u`` per frame, the mask (0/1)."""
    arrays = {"u": u}
    if grid.mask is not None:
        arrays["mask"] = np.broadcast_to(grid.mask.astype(float), u.shape)
    return arrays


@pytest.fixture(scope="module")
def fisher_runs(tmp_path_factory):
    """Anisotropic FisherKPP runs (1D, 2D, 3D) with distinct random values in every cell."""
    rng = np.random.default_rng(19)
    folder = tmp_path_factory.mktemp("fisher")
    model = ct.models.FisherKPP(diffusivity=0.01, growth_rate=0.8)
    paths = {}
    for ndim, grid in GRIDS.items():
        paths[ndim] = folder / f"run{ndim}d.h5"
        state = model.initial_state(grid, u=rng.random(grid.shape))
        ct.simulate(model, state, 0.5, save_every=0.25, output=paths[ndim])
    return paths


@pytest.mark.parametrize(("interpreter", "reader"), READERS)
@pytest.mark.parametrize("ndim", [3, 2, 1])
def test_xdmf_readers_find_the_stored_values_at_their_coordinates(
    ndim, interpreter, reader, fisher_runs, tmp_path, rng
):
    path = fisher_runs[ndim]
    grid = GRIDS[ndim]
    cells = some_cells(grid, rng)
    outside = [[grid.origin[0] - grid.spacing[0] / 2, *cell_points(grid, cells[:1])[0][1:]]]
    probed = read_with(
        interpreter,
        reader,
        path.with_suffix(".xdmf"),
        [cell_points(grid, cells) + outside],
        tmp_path,
    )
    with ct.open_run(path) as run:
        times = run.times
        u = run.field("u")
    assert probed["times"] == times.tolist()
    assert len(times) == 3 and len(set(times)) == 3
    for k, step in enumerate(probed["steps"]):
        assert len(step["blocks"]) == 1
        found = step["blocks"][0]
        assert found["class"] in ("vtkImageData", "vtkUniformGrid")
        assert found["cells"] == grid.size
        np.testing.assert_allclose(found["bounds"], expected_bounds(grid), rtol=0, atol=1e-12)
        assert found["valid"] == [1] * len(cells) + [0]
        expected = shown_arrays(grid, u)
        assert set(found["arrays"]) == set(expected)
        for name, values in expected.items():
            assert found["arrays"][name][: len(cells)] == [values[k][c] for c in cells]  # exactly
    assert not np.array_equal(u[0], u[-1])  # the frames differ, so time steps are checked


@pytest.fixture(scope="module")
def cascade_run(tmp_path_factory):
    """A cascade with a 2D Invasion primary and a 3D spatial lung, both anisotropic and
    off the origin, each with its own vessel maps."""
    tissue = ct.Grid((6, 5), (0.05, 0.04), origin=(1.0, 2.0))
    lung_grid = ct.Grid((5, 4, 3), (0.06, 0.03, 0.05), origin=(-1.0, 0.5, 0.2))
    primary = ct.models.Invasion(
        blood_vessels=ct.vessels.random_capillaries(tissue, 0.3, seed=1, radius=0.03),
        mu_B=5.0,
        k_emt=0.2,
    )
    lung_model = ct.models.Invasion(
        blood_vessels=ct.vessels.random_capillaries(lung_grid, 0.3, seed=3, radius=0.03)
    )
    lung = ct.SecondarySite("lung", grid=lung_grid, model=lung_model, survival=0.8)
    liver = ct.SecondarySite("liver", growth={"law": "gompertz", "a": 0.05, "K": 1e9})
    model = ct.Cascade(
        primary, ct.Circulation(first_pass=("lung", 0.5)), [lung, liver], horizon=4.0
    )
    path = tmp_path_factory.mktemp("cascade") / "run.h5"
    ct.simulate(model, model.initial_state(tissue), 4.0, save_every=2.0, output=path)
    return path


@pytest.mark.parametrize(("interpreter", "reader"), READERS)
def test_xdmf_shows_a_cascade_primary_and_spatial_site_with_their_maps(
    interpreter, reader, cascade_run, tmp_path, rng
):
    with ct.open_run(cascade_run) as run:
        times = run.times
        lung = run.model.sites[0]
        grids = {"tissue": run.grid, "site lung": lung.grid}
        cells = {name: some_cells(grid, rng) for name, grid in grids.items()}
        fields = {
            "tissue": {n: run.field(n) for n in run.field_names},
            "site lung": {
                n: np.stack([run.site_field("lung", n, t) for t in times])
                for n in lung.model.field_names
            },
        }
        maps = {
            "tissue": {n: run.static_map(n) for n in run.map_names},
            "site lung": dict(
                zip(lung.model.map_names, lung.model.static_maps(lung.grid), strict=True)
            ),
        }
    points = [cell_points(grids[name], cells[name]) for name in grids]
    probed = read_with(interpreter, reader, cascade_run.with_suffix(".xdmf"), points, tmp_path)
    assert probed["times"] == times.tolist()
    assert set(maps["tissue"]) == {"blood_vessels", "lymph_vessels"}
    assert set(fields["site lung"]) == {"epithelial", "mesenchymal", "ecm", "mmp", "oxygen"}
    for k, step in enumerate(probed["steps"]):
        # ParaView's XDMF3 reader gives no block names; its blocks come in the same order
        expected_names = [None, None] if reader == "xdmf3" else list(grids)
        assert step["names"] == expected_names
        for name, found in zip(grids, step["blocks"], strict=True):
            np.testing.assert_allclose(
                found["bounds"], expected_bounds(grids[name]), rtol=0, atol=1e-12
            )
            assert found["valid"] == [1] * len(cells[name])
            assert set(found["arrays"]) == set(fields[name]) | set(maps[name])
            for field, values in fields[name].items():
                assert found["arrays"][field] == [values[k][c] for c in cells[name]], field
            for field, values in maps[name].items():
                expected = [values.reshape(grids[name].shape)[c] for c in cells[name]]
                assert found["arrays"][field] == expected, field
    site = fields["site lung"]["epithelial"]
    assert site[-1].max() > 0 and not np.array_equal(site[0], site[-1])  # seeded, growing


@pytest.mark.parametrize("ndim", [3, 2, 1])
def test_vtkhdf_export_from_the_command_line_reads_back_in_vtk(ndim, fisher_runs, tmp_path, rng):
    path = fisher_runs[ndim]
    grid = GRIDS[ndim]
    out = tmp_path / "exported.vtkhdf"
    assert main(["export", str(path), "--vtkhdf", "-o", str(out)]) == 0
    cells = some_cells(grid, rng)
    outside = [[grid.origin[0] - grid.spacing[0] / 2, *cell_points(grid, cells[:1])[0][1:]]]
    probed = read_with(
        sys.executable, "vtkhdf", out, [cell_points(grid, cells) + outside], tmp_path
    )
    with ct.open_run(path) as run:
        times = run.times
        u = run.field("u")
    assert probed["times"] == times.tolist()
    for k, step in enumerate(probed["steps"]):
        (found,) = step["blocks"]
        assert found["class"] == "vtkImageData"
        assert found["cells"] == grid.size
        np.testing.assert_allclose(
            found["bounds"], expected_bounds(grid, flat=True), rtol=0, atol=1e-12
        )
        assert found["valid"] == [1] * len(cells) + [0]
        expected = shown_arrays(grid, u)
        assert set(found["arrays"]) == set(expected)
        for name, values in expected.items():
            assert found["arrays"][name][: len(cells)] == [values[k][c] for c in cells]


def test_vtkhdf_export_of_a_cascade_writes_a_file_per_grid(cascade_run, tmp_path, rng):
    written = export_vtkhdf(cascade_run, tmp_path / "c.vtkhdf")
    assert written == [tmp_path / "c.vtkhdf", tmp_path / "c.lung.vtkhdf"]
    with ct.open_run(cascade_run) as run:
        times = run.times
        lung = run.model.sites[0]
        blocks = [
            (
                run.grid,
                {n: run.field(n) for n in run.field_names},
                {n: run.static_map(n) for n in run.map_names},
            ),
            (
                lung.grid,
                {
                    n: np.stack([run.site_field("lung", n, t) for t in times])
                    for n in lung.model.field_names
                },
                dict(zip(lung.model.map_names, lung.model.static_maps(lung.grid), strict=True)),
            ),
        ]
    for file, (grid, fields, static) in zip(written, blocks, strict=True):
        cells = some_cells(grid, rng)
        probed = read_with(sys.executable, "vtkhdf", file, [cell_points(grid, cells)], tmp_path)
        assert probed["times"] == times.tolist()
        for k, step in enumerate(probed["steps"]):
            (found,) = step["blocks"]
            np.testing.assert_allclose(
                found["bounds"], expected_bounds(grid, flat=True), rtol=0, atol=1e-12
            )
            assert set(found["arrays"]) == set(fields) | set(static)
            for name, values in fields.items():
                assert found["arrays"][name] == [values[k][c] for c in cells], name
            for name, values in static.items():
                stored = values.reshape(grid.shape)
                assert found["arrays"][name] == [stored[c] for c in cells], name


def test_export_refuses_bad_input_before_writing(fisher_runs, tmp_path):
    path = fisher_runs[2]
    with pytest.raises(ValueError, match=r"out: got '.*run\.vti'; .* ends in \.vtkhdf"):
        export_vtkhdf(path, tmp_path / "run.vti")
    with pytest.raises(ValueError, match=r"out: the folder '.*missing' does not exist"):
        export_vtkhdf(path, tmp_path / "missing" / "run.vtkhdf")
    lumped = ct.models.Iwata(horizon=100.0)
    lumped_path = tmp_path / "lumped.h5"
    ct.simulate(lumped, lumped.initial_state(), 100.0, save_every=50.0, output=lumped_path)
    assert not lumped_path.with_suffix(".xdmf").exists()  # nothing on a grid: no sidecar
    with pytest.raises(ValueError, match="holds no array on a grid"):
        export_vtkhdf(lumped_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lumped.h5"]


def test_export_command_rewrites_the_sidecar_and_refuses_bad_options(fisher_runs, tmp_path, capsys):
    path = tmp_path / "run.h5"
    path.write_bytes(fisher_runs[2].read_bytes())  # a killed run has no sidecar
    assert main(["export", str(path), "--xdmf"]) == 0
    assert capsys.readouterr().out.split() == [str(path.with_suffix(".xdmf"))]
    assert (tmp_path / "run.xdmf.h5").is_file()
    refused = {
        ("--xdmf", "-o", "x.xdmf"): "-o: got 'x.xdmf'; the XDMF sidecar is always written",
        ("--vtkhdf", "-o", "x.vti"): "-o: got 'x.vti'; a VTKHDF file's name ends in .vtkhdf",
        ("--vtkhdf", "-o", str(tmp_path / "no" / "x.vtkhdf")): "the folder .* does not exist",
    }
    for options, message in refused.items():
        assert main(["export", str(path), *options]) == 2
        assert re.search(message, capsys.readouterr().err)
    assert main(["export", str(tmp_path / "missing.h5"), "--vtkhdf"]) == 2
    assert "run file" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5", "run.xdmf", "run.xdmf.h5"]


def test_a_sidecar_that_cannot_be_written_is_a_warning(tmp_path, monkeypatch):
    """The run file is complete without its sidecar: a full disk while writing it is a
    warning that says how to write it later, and the run file reads back whole."""
    from continuum.io import xdmf

    def full_disk(path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xdmf, "write_xdmf", full_disk)
    grid = ct.Grid((8, 6), 0.1)
    model = ct.models.FisherKPP(diffusivity=0.01, growth_rate=0.5)
    path = tmp_path / "run.h5"
    with pytest.warns(RuntimeWarning, match="is complete, but its XDMF sidecar") as caught:
        ct.simulate(model, model.initial_state(grid), 0.1, save_every=0.05, output=path)
    assert "--xdmf" in str(caught[0].message) and caught[0].filename == __file__
    with ct.open_run(path) as run:
        assert run.frames == 3
    assert not path.with_suffix(".xdmf").exists()
