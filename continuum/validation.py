"""Checks that turn bad input into a ``ValueError`` naming the parameter, value and rule."""

from __future__ import annotations

import math


def _number(name, value, unit):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: got {value!r}; a real number{_unit(unit)} is required") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}: got {value!r}; a finite number{_unit(unit)} is required")
    return number


def _unit(unit):
    return f" [{unit}]" if unit else ""


def check_positive(name, value, unit=""):
    """Return ``value`` as float, or raise unless it is finite and > 0."""
    number = _number(name, value, unit)
    if number <= 0:
        raise ValueError(f"{name}: got {value!r}; it must be > 0{_unit(unit)}")
    return number


def check_nonnegative(name, value, unit=""):
    """Return ``value`` as float, or raise unless it is finite and >= 0."""
    number = _number(name, value, unit)
    if number < 0:
        raise ValueError(f"{name}: got {value!r}; it must be >= 0{_unit(unit)}")
    return number


def check_fraction(name, value):
    """Return ``value`` as float, or raise unless 0 <= value <= 1."""
    number = _number(name, value, "")
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name}: got {value!r}; it must lie in [0, 1]")
    return number


def check_choice(name, value, allowed):
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name}: got {value!r}; allowed values are {choices}")
    return value
