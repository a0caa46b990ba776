"""Organ blood-flow fractions used to share circulating cells among organs.

Fractions of cardiac output (PBPK organ-flow tables, as listed with their sources in
``data/organs.csv``; a test checks that the two agree). The lungs receive the whole venous
return, and the regional lymph node is fed by lymph, not by arterial blood.
"""

from __future__ import annotations

BLOOD_FLOW_FRACTION = {
    "lung": 1.0,
    "liver": 0.255,
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
    "lymph_node": 0.0,
}


def blood_flow_fraction(organ: str) -> float:
    """Fraction of cardiac output reaching ``organ``; a clear error for unknown organs."""
    try:
        return BLOOD_FLOW_FRACTION[organ]
    except KeyError:
        known = ", ".join(sorted(BLOOD_FLOW_FRACTION))
        raise ValueError(
            f"organ: got {organ!r}; known organs are {known} (or give flow=... explicitly)"
        ) from None
