"""Fit four growth laws to the Lewis lung carcinoma volumes (20 mice, Benzekry et al.,
PLoS Comput Biol 2014) and compare them: parameters with 95 % intervals, residuals in log
volume, and a picture of the data against the fits (``fit_lung.png``).

    python examples/fit_lung.py [-o fit_lung.png]
"""

import argparse

import numpy as np

import continuum as ct
from continuum.plotting import plot_fits, save_plot

LAWS = ("gompertz", "logistic", "power", "exponential_linear")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default="fit_lung.png")
    args = parser.parse_args()
    data = ct.calibration.tumor_growth_data("lung")
    times, volumes = ct.calibration.split(data)
    fits = {}
    for law in LAWS:
        fit = ct.calibrate(times, volumes, law)  # pooled over the mice, v0 = 1 mm^3
        fits[law] = fit
        print(fit.summary())
        quartiles = np.percentile(fit.residuals, [25, 50, 75])
        print(f"  log residuals: quartiles {np.round(quartiles, 3)}, rss {fit.rss:.3g}")
        each = ct.calibrate(times, volumes, law, individual=True)
        sigmas = [f.sigma for f in each.values()]
        print(f"  one fit per mouse: median residual sd {np.median(sigmas):.3g}")
    title = "Lewis lung carcinoma, 20 mice: pooled fits"
    save_plot(args.output, plot_fits, data, fits, figsize=(7, 5), title=title)
    print(f"picture: {args.output}")


if __name__ == "__main__":
    main()
