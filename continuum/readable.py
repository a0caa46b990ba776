"""Numbers and names as a person reads them, for the console and ``repr``.

Cell counts below one cell are written ``< 1`` (a model's 1.37e-146 circulating cells are
no cells), expected numbers (means over patients, which may be fractions) keep their
fraction down to a thousandth, and site names are written with spaces.
"""

from __future__ import annotations

import math

SMALLEST_EXPECTATION = 1e-3  # expected numbers below it are written "< 0.001"


def number(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant figures, with a plain exponent: ``4.19e5``."""
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def count(value: float) -> str:
    """A count of cells: ``0``, ``< 1`` below one cell, whole numbers to 99,999, then
    three significant figures (``4.19e5``)."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0.0:
        return "0"
    if 0.0 < value < 1.0:
        return "< 1"
    if value < 1e5:
        return f"{value:,.0f}"
    return number(value)


def expected(value: float) -> str:
    """An expected number (a mean over patients, often a fraction): three significant
    figures, ``< 0.001`` below a thousandth, ``0`` for none."""
    value = float(value)
    if value == 0.0:
        return "0"
    if 0.0 < value < SMALLEST_EXPECTATION:
        return f"< {SMALLEST_EXPECTATION:g}"
    return number(value)


def days(t: float) -> str:
    """A time in days: ``1 day``, ``12 days``, ``3.25 days`` (up to two decimals)."""
    text = f"{float(t):.2f}".rstrip("0").rstrip(".")
    return f"{text} day" if text == "1" else f"{text} days"


def site_name(name: str) -> str:
    """A site's name as words: ``lymph_node`` -> ``lymph node``."""
    return name.replace("_", " ")


def names(items, most: int = 6) -> str:
    """Up to ``most`` names joined by commas, then how many more: ``a, b, c and 4 more``."""
    items = [str(item) for item in items]
    if not items:
        return "none"
    if len(items) <= most:
        return ", ".join(items)
    return f"{', '.join(items[:most])} and {len(items) - most} more"


def grid_size(grid) -> str:
    """A grid's cells and size: ``24 x 24 cells of 0.1 mm (2.4 x 2.4 mm)``."""
    spacing = set(grid.spacing)
    of = (
        f"{number(spacing.pop())} mm"
        if len(spacing) == 1
        else (" x ".join(number(h) for h in grid.spacing) + " mm")
    )
    extent = " x ".join(number(e) for e in grid.extent)
    return f"{' x '.join(map(str, grid.shape))} cells of {of} ({extent} mm)"


def run_contents(model_name: str, grid, times, field_names, series_names, sites) -> str:
    """What a run holds, in a line: ``FisherKPP on 24 x 24 cells of 0.1 mm (2.4 x 2.4 mm),
    t = 0 to 5 day in 6 frames; fields u; 4 series``."""
    times = list(times)
    span = f"t = {times[0]:g} to {times[-1]:g} day" if times else "no frames yet"
    frames = f" in {len(times)} frames" if times else ""
    tissue = f" on {grid_size(grid)}" if field_names else ""
    text = f"{model_name}{tissue}, {span}{frames}"
    if field_names:
        text += f"; fields {names(field_names)}"
    if sites:
        text += f"; sites {names(site_name(site) for site in sites)}"
    return text + f"; {len(series_names)} series"
