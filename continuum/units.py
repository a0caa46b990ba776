"""Physical settings shared by every part of continuum (units: mm, day, cells).

``PO2_AT_VASCULAR_LEVEL_MMHG`` is the one oxygen scale of the library: the oxygen fields
are fractions of the level in well-vascularised tissue, ``o = 1`` at 40 mmHg, the median
pO2 of normal tissues (McKeown SR, "Defining normoxia, physoxia and hypoxia in tumours -
implications for treatment response", Br J Radiol 2014;87:20130676; Vaupel P, Kallinowski
F, Okunieff P, Cancer Res 1989;49:6449-6465). The oxygen thresholds of the invasion model
and the oxygen effect of radiotherapy read oxygen through it.

``CELLS_PER_MM3`` is the one tumour-cell density of the library: the carrying capacity
``K_cell`` of the tissue fields, the conversion between cells and volume of lumped tumours
and colonies, and the sizes (detection, T stages) quoted in mm. Every cell count that
stands for a volume scales with it.

Source: Del Monte U, "Does the cell number 10^9 still really fit one gram of tumor
tissue?", Cell Cycle 2009;8(3):505-506, who concludes that a solid tumour holds about
1e8 cells/cm^3 (1e5 cells/mm^3; the rule of thumb 1e9 cells/cm^3 counts packed cells
without stroma, vessels and necrosis).
"""

from __future__ import annotations

import math

CELLS_PER_MM3 = 1e5  # cells/mm^3 (Del Monte, Cell Cycle 2009: ~1e8 cells/cm^3)
PO2_AT_VASCULAR_LEVEL_MMHG = 40.0  # mmHg at o = 1 (normal tissue, McKeown 2014)


def sphere_cells(diameter_mm: float, cells_per_mm3: float = CELLS_PER_MM3) -> float:
    """Cells in a spherical tumour of ``diameter_mm`` [mm]: ``pi d^3 / 6 * density``."""
    return math.pi * diameter_mm**3 / 6.0 * cells_per_mm3


def sphere_diameter(cells: float, cells_per_mm3: float = CELLS_PER_MM3) -> float:
    """Diameter [mm] of a spherical tumour of ``cells`` cells."""
    return (6.0 * cells / (math.pi * cells_per_mm3)) ** (1.0 / 3.0)


# Blood volume of the reference adult [mL] (ICRP Publication 89, 2002: 5.3 L in men,
# 3.9 L in women; 5 L is the round figure CTC studies use) and the volume of blood a
# CellSearch assay examines [mL].
BLOOD_VOLUME_ML = 5000.0
CTC_SAMPLE_ML = 7.5


def ctc_per_sample(blood_cells: float) -> float:
    """Circulating tumour cells expected in one 7.5 mL sample, from all ``blood_cells``."""
    return blood_cells * CTC_SAMPLE_ML / BLOOD_VOLUME_ML
