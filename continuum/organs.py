"""Organs: blood-flow fractions that share circulating cells, and masses that bound colonies.

Fractions of cardiac output and organ masses (listed with their sources in
``data/organs.csv``; a test checks that the two agree). The arterial fractions of the
systemic organs sum to one, ``other`` being the rest of the body; the liver counts its
hepatic artery only (portal blood has passed the capillaries of the gut, spleen, pancreas
and stomach first, which arrest what it carried). The lungs receive the whole venous
return: every circulating cell passes them once per circuit, so their weight is 1 beside
the systemic organs' 1 in all. The regional lymph node is fed by lymph, not by arterial
blood.
"""

from __future__ import annotations

from continuum.units import CELLS_PER_MM3

BLOOD_FLOW_FRACTION = {
    "lung": 1.0,
    "liver": 0.065,
    "kidney": 0.19,
    "muscle": 0.17,
    "brain": 0.12,
    "bone": 0.05,
    "skin": 0.05,
    "adipose": 0.05,
    "heart": 0.04,
    "gut": 0.14,
    "spleen": 0.03,
    "pancreas": 0.01,
    "stomach": 0.01,
    "other": 0.075,
    "lymph_node": 0.0,
}
# Organ masses [g] of the reference adult (ICRP Publication 89, 2002); the regional lymph
# node basin is an assumption (a tenth of the body's lymph nodes).
ORGAN_MASS = {
    "lung": 1200.0,
    "liver": 1800.0,
    "kidney": 310.0,
    "muscle": 29000.0,
    "brain": 1450.0,
    "bone": 10500.0,
    "skin": 3300.0,
    "adipose": 18200.0,
    "heart": 330.0,
    "gut": 1200.0,
    "spleen": 150.0,
    "pancreas": 140.0,
    "stomach": 150.0,
    "other": 5000.0,
    "lymph_node": 25.0,
}
MM3_PER_GRAM = 1e3  # tissue density ~1 g/cm^3


def blood_flow_fraction(organ: str) -> float:
    """Fraction of cardiac output reaching ``organ``; a clear error for unknown organs."""
    return _lookup(BLOOD_FLOW_FRACTION, organ, "or give flow=... explicitly")


def organ_capacity(organ: str) -> float:
    """Tumour cells that fill ``organ``: its mass times ``CELLS_PER_MM3`` [cells]."""
    mass = _lookup(ORGAN_MASS, organ, "or give capacity=... explicitly")
    return mass * MM3_PER_GRAM * CELLS_PER_MM3


def _lookup(table: dict, organ: str, hint: str) -> float:
    try:
        return table[organ]
    except KeyError:
        known = ", ".join(sorted(table))
        raise ValueError(f"organ: got {organ!r}; known organs are {known} ({hint})") from None
