"""``internal``: the decorator of kernels that only other compiled code calls.

Numba builds two wrappers around every function it compiles as a dispatcher: a CPython
wrapper (so that Python can call it) and a C wrapper (so that it can be passed as a
first-class function). For a kernel only the solvers' compiled loops call, both are
generated, optimised and turned into machine code for nothing, and so is their copy in
every caller that links the kernel. Without them a first run compiles 5-10 % faster
(``benchmarks/README.md``, "Kernels without wrappers").

A function without a CPython wrapper must not be called from Python (Numba would jump to
a missing entry point); :class:`CompiledOnlyDispatcher` raises a ``TypeError`` instead,
and ``registry.entry_point`` refuses it too. Kernels that tests or users call from Python
keep ``@njit``.
"""

from __future__ import annotations

from numba.core.registry import CPUDispatcher

from continuum import compile_ahead


class CompiledOnlyDispatcher(CPUDispatcher):
    """A Numba dispatcher without CPython and C wrappers; calling it from Python raises."""

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f"{self.py_func.__module__}.{self.py_func.__qualname__} is called from "
            "compiled code only (it is compiled without a Python entry point)"
        )

    def compile(self, sig):
        """Compile ``sig``, or load it from the disk cache once a helper process that
        compiles it has put it there (``continuum.compile_ahead``)."""
        compile_ahead.wait_for(self, sig)
        entry = super().compile(sig)
        compile_ahead.compiled(self)
        return entry


def internal(**options):
    """``njit(cache=True, **options)`` without CPython and C wrappers (module doc)."""

    def decorate(func):
        targetoptions = {
            **options,
            "nopython": True,
            "no_cpython_wrapper": True,
            "no_cfunc_wrapper": True,
        }
        dispatcher = CompiledOnlyDispatcher(py_func=func, locals={}, targetoptions=targetoptions)
        dispatcher.enable_caching()
        return dispatcher

    return decorate
