"""Pictures and movies of runs: fields drawn with x across and y up, snapshots of one field
on one colour scale, one colour per site in every panel, and movies with one frame per
saved frame that change from frame to frame (issue 19, parts 4 and 5)."""

import itertools

import numpy as np
import pytest

import continuum as ct

plt = pytest.importorskip("matplotlib.pyplot")
Image = pytest.importorskip("PIL.Image")

from continuum import plotting  # noqa: E402  (needs matplotlib)

TWO_SITES = """
[model]
name = "LumpedPrimary"
growth = { law = "gompertz", a = 0.01, K = 1e12 }
parameters = { mu = 36.0, alpha = 0.3333, lymph_fraction = 0.3 }
[initial]
tumor_cells = 1e6
[[sites]]
name = "lymph_node"
organ = "lymph_node"
[[sites]]
name = "lung"
[cascade]
horizon = 400.0
[run]
t_end = 200.0
save_every = 10.0
"""


def blob(grid, x, y, width=0.25, height=0.8):
    """A Gaussian blob of tumour cells centred at (x, y) [mm]."""
    xs, ys = np.meshgrid(*grid.coords, indexing="ij")
    return height * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / width**2)


@pytest.fixture(scope="module")
def growing(tmp_path_factory):
    """A 2D Fisher-KPP run on 24 x 16 cells (x longer than y), written to a file: six
    frames of a blob that spreads and grows."""
    path = tmp_path_factory.mktemp("growing") / "growing.h5"
    model = ct.models.FisherKPP(diffusivity=0.01, growth_rate=0.5)
    grid = ct.Grid((24, 16), 0.1)
    state = model.initial_state(grid, u=blob(grid, 0.8, 0.8, height=0.2))
    ct.simulate(model, state, 5.0, save_every=1.0, output=path, method="explicit")
    return path


@pytest.fixture(scope="module")
def cascade(tmp_path_factory):
    """A lumped cascade with a lymph-node and a lung site, in memory."""
    path = tmp_path_factory.mktemp("cascade") / "two_sites.toml"
    path.write_text(TWO_SITES)
    return ct.load_scenario(path).run(progress=False)


def gif_frames(path) -> list[np.ndarray]:
    with Image.open(path) as movie:
        frames = []
        for i in range(movie.n_frames):
            movie.seek(i)
            frames.append(np.asarray(movie.convert("RGB"), dtype=int))
    return frames


def test_movie_has_one_frame_per_saved_frame_and_changes(growing, tmp_path):
    with ct.open_run(growing) as run:
        path = plotting.movie(run, tmp_path / "growing.gif", fps=4)
        frames = gif_frames(path)
        assert len(frames) == run.frames == 6
    for before, after in itertools.pairwise(frames):
        assert np.abs(after - before).sum() > 0  # the field (and the clock) moved


def test_movie_of_a_result_in_memory_and_of_a_1d_run(tmp_path):
    model = ct.models.FisherKPP(diffusivity=0.01, growth_rate=0.5)
    grid = ct.Grid((32,), 0.1)
    u = np.where(grid.coords[0] < 0.5, 0.9, 0.0)
    result = ct.simulate(
        model, model.initial_state(grid, u=u), 2.0, save_every=0.5, method="explicit"
    )
    frames = gif_frames(plotting.movie(result, tmp_path / "front.gif", field="u"))
    assert len(frames) == len(result.times) == 5
    assert all(np.abs(b - a).sum() > 0 for a, b in itertools.pairwise(frames))


def test_movie_is_refused_before_any_drawing(growing, tmp_path):
    with ct.open_run(growing) as run:
        with pytest.raises(ValueError, match=r"path: got .*\.avi'; a movie is a \.gif"):
            plotting.movie(run, tmp_path / "growing.avi")
        with pytest.raises(ValueError, match="field: got 'v'; fields are"):
            plotting.movie(run, tmp_path / "growing.gif", field="v")
        with pytest.raises(ValueError, match="fps: got 0"):
            plotting.movie(run, tmp_path / "growing.gif", fps=0)
        from matplotlib import animation

        if animation.writers.is_available("ffmpeg"):
            path = plotting.movie(run, tmp_path / "growing.mp4")
            assert path.stat().st_size > 1000
        else:
            with pytest.raises(ValueError, match="needs the ffmpeg program"):
                plotting.movie(run, tmp_path / "growing.mp4")
    assert not (tmp_path / "growing.gif").exists() and not (tmp_path / "growing.avi").exists()


def brightness(fig, ax, x, y) -> float:
    """The drawn brightness (0 to 3) at data point (x, y) [mm] of ``ax``."""
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255.0
    column, row = ax.transData.transform((x, y))
    return float(pixels[round(pixels.shape[0] - row), round(column)].sum())


def test_a_field_is_drawn_with_x_across_and_y_up(tmp_path):
    """A blob at x = 1.9 mm, y = 0.5 mm on a 24 x 16 grid is drawn there, not at the
    transposed place, and the axes are named x [mm] (across) and y [mm] (up)."""
    model = ct.models.FisherKPP(diffusivity=0.0, growth_rate=0.0)
    grid = ct.Grid((24, 16), 0.1)
    state = model.initial_state(grid, u=blob(grid, 1.9, 0.5, width=0.15))
    result = ct.simulate(model, state, 0.1, save_every=0.1, method="explicit")
    fig, ax = plt.subplots(figsize=(5, 4))
    plotting.plot_field(result, "u", ax=ax)
    image = ax.get_images()[0]
    assert image.get_array().shape == (16, 24)  # rows are y, columns x
    assert ax.get_xlabel() == "x [mm]" and ax.get_ylabel() == "y [mm]"
    assert ax.get_xlim() == pytest.approx((0.0, 2.4)) and ax.get_ylim() == pytest.approx((0, 1.6))
    assert brightness(fig, ax, 1.9, 0.5) > 2.0  # magma's top is pale yellow
    assert brightness(fig, ax, 0.5, 1.4) < 0.3  # the transposed place is dark
    plt.close(fig)


def test_a_3d_field_shows_its_mid_plane_in_z(tmp_path):
    model = ct.models.FisherKPP(diffusivity=0.0, growth_rate=0.0)
    grid = ct.Grid((6, 4, 8), 0.25)
    u = np.zeros(grid.shape)
    u[:, :, 4] = 1.0  # only the mid-plane k = 4 (z = 1.125 mm) holds cells
    result = ct.simulate(model, model.initial_state(grid, u=u), 0.1, method="explicit")
    ax = plotting.plot_field(result, "u")
    assert "z = 1.12 mm (mid-plane)" in ax.get_title()
    assert np.all(ax.get_images()[0].get_array() == 1.0)
    plt.close(ax.figure)


def test_snapshots_of_a_field_share_one_colour_scale(growing):
    with ct.open_run(growing) as run:
        fig, axes = plt.subplots(1, 3)
        times = (run.times[0], run.times[2], run.times[-1])
        plotting.plot_snapshots(run, axes, times, "u")
        highest = max(float(run.field("u", t).max()) for t in times)
        assert float(run.field("u", times[0]).max()) < 0.75 * highest  # the blob grows
    limits = [image.get_clim() for ax in axes for image in ax.get_images()]
    assert limits == [(0.0, pytest.approx(highest))] * 3
    colour_bars = [ax for ax in fig.axes if ax not in axes]
    assert len(colour_bars) == 1
    assert "fraction of the carrying capacity" in colour_bars[0].get_ylabel()
    plt.close(fig)


def test_a_site_has_one_colour_and_marker_in_every_panel(cascade):
    styles = plotting.site_styles(cascade)
    assert styles == {"lymph_node": ("#E69F00", "o"), "lung": ("#0072B2", "s")}
    fig, axes = plt.subplots(1, 3)
    plotting.plot_cascade(cascade, axes[0])
    plotting.plot_dormancy(cascade, axes[1])
    plotting.plot_size_distribution(cascade, ax=axes[2])
    seen = {"lymph node": set(), "lung": set()}
    starts = {"lymph node": set(), "lung": set()}
    for ax in axes:
        for line in ax.get_lines():
            site = line.get_label().split(":")[0]
            if site in seen:
                seen[site].add((line.get_color(), line.get_marker()))
                starts[site].add(line.get_markevery()[0])
    assert seen == {"lymph node": {("#E69F00", "o")}, "lung": {("#0072B2", "s")}}
    # the markers of two curves lying on each other fall at different places
    assert starts["lymph node"].isdisjoint(starts["lung"])
    plt.close(fig)


def test_sites_beyond_the_common_ones_take_the_colours_and_markers_left():
    from types import SimpleNamespace

    sites = [SimpleNamespace(name=name) for name in ("lung", "spleen", "kidney")]
    styles = plotting.site_styles(SimpleNamespace(model=SimpleNamespace(sites=sites)))
    assert styles["lung"] == ("#0072B2", "s")
    assert styles["spleen"] == (plotting.OTHER_COLOURS[0], plotting.OTHER_MARKERS[0])
    assert styles["kidney"] == (plotting.OTHER_COLOURS[1], plotting.OTHER_MARKERS[1])


def test_summary_of_a_cascade_is_a_real_picture(cascade, tmp_path):
    path = plotting.plot_summary(cascade, tmp_path / "summary.png", title="two sites")
    image = plt.imread(path)
    colours = np.unique((image[..., :3] * 255).astype(int).reshape(-1, 3), axis=0)
    assert path.stat().st_size > 20_000 and len(colours) > 50
