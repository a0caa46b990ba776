"""Numba kernels: pure functions on arrays, no model knowledge."""
