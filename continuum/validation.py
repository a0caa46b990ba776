"""Checks that turn bad input into a ``ValueError`` naming the parameter, value and rule.

Every number a user gives (model parameters, grids, run settings, treatments, sites,
scenario entries) passes through these checks, which take types strictly: a number is an
``int``, a ``float`` or a NumPy real scalar; a bool, a string, a complex number or
``None`` is refused, never converted (``"0.012"`` and ``True`` are not numbers). Whole
numbers (grid shapes, seeds, counts) must be integral: 2.5 and ``True`` are refused.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

GIB = 2.0**30


def _unit(unit):
    return f" [{unit}]" if unit else ""


def is_real(value) -> bool:
    """Whether ``value`` is a real number: an int, a float or a NumPy real scalar (0-d
    array), not a bool."""
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iuf"
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def check_real(name, value, unit=""):
    """Return ``value`` as float, or raise unless it is a finite real number."""
    if not is_real(value):
        raise ValueError(f"{name}: got {value!r}; a real number{_unit(unit)} is required")
    try:
        number = float(value)
    except OverflowError:  # an int beyond the float range
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{name}: got {value!r}; a finite number{_unit(unit)} is required")
    return number


def check_positive(name, value, unit=""):
    """Return ``value`` as float, or raise unless it is finite and > 0."""
    number = check_real(name, value, unit)
    if number <= 0:
        raise ValueError(f"{name}: got {value!r}; it must be > 0{_unit(unit)}")
    return number


def check_nonnegative(name, value, unit=""):
    """Return ``value`` as float, or raise unless it is finite and >= 0."""
    number = check_real(name, value, unit)
    if number < 0:
        raise ValueError(f"{name}: got {value!r}; it must be >= 0{_unit(unit)}")
    return number


def check_fraction(name, value):
    """Return ``value`` as float, or raise unless 0 <= value <= 1."""
    number = check_real(name, value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name}: got {value!r}; it must lie in [0, 1]")
    return number


def check_integer(name, value, minimum=None):
    """Return ``value`` as int, or raise unless it is a whole number (an int, or a float
    with an integral value) of at least ``minimum``."""
    rule = "a whole number" + ("" if minimum is None else f" >= {minimum}")
    if isinstance(value, numbers.Integral) and is_real(value):
        number = int(value)
    elif is_real(value) and math.isfinite(value) and float(value).is_integer():
        number = int(value)
    else:
        raise ValueError(f"{name}: got {value!r}; {rule} is required")
    if minimum is not None and number < minimum:
        raise ValueError(f"{name}: got {value!r}; {rule} is required")
    return number


def check_choice(name, value, allowed):
    """Return ``value``, or raise unless it is one of ``allowed``."""
    if not any(isinstance(value, type(a)) and value == a for a in allowed):
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name}: got {value!r}; allowed values are {choices}")
    return value


def real_array(name, values) -> np.ndarray:
    """``values`` as a float64 array (the same array when it already is one), or raise
    unless it holds real numbers only (no bools, strings, objects or complex numbers)."""
    array = np.asarray(values)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name}: got an array of {array.dtype} values; real numbers are required")
    return array.astype(np.float64, copy=False)


def check_finite_array(name, values, nonnegative=False) -> np.ndarray:
    """:func:`real_array`, also refusing NaN and Inf (and negative values when
    ``nonnegative``)."""
    array = real_array(name, values)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: the values contain NaN or Inf; finite numbers are required")
    if nonnegative and array.size and array.min() < 0:
        raise ValueError(
            f"{name}: got values down to {array.min():g}; a density must be >= 0 everywhere"
        )
    return array


def physical_memory() -> int | None:
    """This machine's memory [bytes], or ``None`` where the system does not tell."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(name, what: str, nbytes: float) -> None:
    """Raise when ``what`` (named after the input ``name`` that sets it) needs more than
    this machine's memory, before anything is allocated."""
    total = physical_memory()
    if total is not None and nbytes > total:
        raise ValueError(
            f"{name}: {what} needs about {nbytes / GIB:.4g} GiB of memory; this machine "
            f"has {total / GIB:.4g} GiB"
        )
