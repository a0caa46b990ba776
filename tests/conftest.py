import numpy as np
import pytest

np.seterr(all="raise", under="ignore")


@pytest.fixture
def rng():
    """Seeded NumPy generator (the kernels themselves draw no random numbers)."""
    return np.random.default_rng(20261126)
