"""Time stepping: compiled loops and the solver classes around them."""

from continuum.solvers.base import METHODS, SimulationError, Solver, make_solver

__all__ = ["METHODS", "SimulationError", "Solver", "make_solver"]
