"""Numba kernels: pure functions on arrays, no model knowledge.

The solvers' internal kernels (stage pass, row updates, taxis, line solves, multigrid,
circulation and colony steps) are compiled for compiled callers only
(:mod:`continuum.kernels.internal`): calling one from Python raises ``TypeError``. Call
them from an ``@njit`` function of your own, as ``tests/helpers.py`` does.
"""
