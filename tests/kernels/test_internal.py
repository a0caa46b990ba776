"""Kernels compiled for compiled callers only (``continuum.kernels.internal``)."""

import numpy as np
import pytest

from continuum.kernels import stage
from continuum.kernels.registry import entry_point


def test_calling_a_compiled_only_kernel_from_python_raises_instead_of_crashing():
    row_stats = np.zeros((4, stage.N_STATS))
    with pytest.raises(TypeError, match=r"continuum\.kernels\.stage\.column_max is called from"):
        stage.column_max(row_stats, 0)
    with pytest.raises(TypeError, match="compiled code only"):
        entry_point(stage.column_max, (row_stats, 0), literal=())


def test_a_compiled_only_kernel_runs_inside_compiled_code():
    from numba import njit

    @njit
    def largest_error(row_stats):
        return stage.column_max(row_stats, stage.STAT_ERROR)

    row_stats = np.zeros((4, stage.N_STATS))
    row_stats[2, stage.STAT_ERROR] = 3.5
    assert largest_error(row_stats) == 3.5
    row_stats[1, stage.STAT_ERROR] = np.nan
    assert np.isnan(largest_error(row_stats))
