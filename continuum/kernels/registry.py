"""Compile-time dispatch from a model's kernel name to its pointwise kernels.

The stepping kernels are module-level ``@njit(cache=True)`` functions that take the model's
kernel name as a *literal* string (``numba.literally``). The overloads below resolve the
name to the model's own ``reaction_row`` and ``scalar_rate`` functions while Numba types the
caller, so every model gets a fully fused, inlinable stepper, and each specialisation is
cached on disk under a key that survives new processes. (Passing jitted functions as
arguments or closing over them defeats Numba's on-disk cache: the key would contain a
memory address.)

A model's kernels, registered with :func:`register`:

``reaction_point(u, maps, i0, i1, k, f, scalars, params, t)``
    Returns the pointwise rate of field ``f`` in cell ``(i0, i1, k)``. It is inlined into
    the stencil loop of the fused stage update, so simple reactions cost no extra pass
    over memory; declare it ``@njit(inline="always")``. That loop runs without Numba's
    reference counting (``diffusion.update_row``): the kernel may read arrays and take
    views of them, but not create arrays.
``reaction_row(u, maps, i0, i1, scalars, params, t, rate, exports)``
    Adds the pointwise (reaction) rates of grid row ``u[:, i0, i1, :]`` to ``rate``
    (shape ``(n_fields, n2)``) and adds to ``exports[e]`` the row sum of each export
    density (what leaves the fields for a compartment, per unit volume and time).
``scalar_rate(scalars, exports, params, t, dscalars)``
    Writes the time derivative of the scalar vector, given the export totals integrated
    over the grid (``sum * cell_volume``).
``stiff_rate(u, maps, i0, i1, k, f, params, t)`` (optional)
    Returns ``R >= 0``, the rate of the stiff linear loss ``-R u_f`` contained in the
    reactions of field ``f`` (``R`` must not depend on ``u_f`` itself). The explicit
    methods ignore it; for the fields a model lists in ``Model.stiff_fields`` the IMEX
    method takes a full backward-Euler step, diffusion and ``-R u_f`` implicit, solved to
    tolerance (oxygen uptake, for example, relaxes in minutes while cells change over
    days). Declare it only for fields outside the cell budget: the solve is exact only to
    its tolerance.
``scalar_relax(s_in, s_out, exports, params, t, dt)`` (optional)
    Overwrites in ``s_out`` (the forward-Euler step of ``scalar_rate`` from ``s_in``) the
    scalars that decay fast and linearly (circulating cells leave blood within hours) by
    their exact solution over ``dt`` with the inflow held at its start value. The IMEX
    method calls it after every scalar step, so its long steps stay stable; its step
    control watches the fields only.

``fingerprint`` is a hash of the kernel and solver sources. It is passed as a literal to
the cached entry points, so that editing any kernel invalidates every cached stepper that
inlines it (Numba by itself only watches the file of the function being cached).
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections import namedtuple
from contextlib import suppress
from pathlib import Path
from typing import NamedTuple

from numba import njit, typeof
from numba.core import types
from numba.core.dispatcher import Dispatcher
from numba.extending import overload
from numba.np.ufunc.parallel import _launch_threads

from continuum.kernels.internal import CompiledOnlyDispatcher


class Kernels(NamedTuple):
    """What is registered under a kernel name."""

    point: object
    row: object
    scalars: object
    row_terms: bool
    stiff: object
    relax: object
    fields: bool
    """The model has fields (a lumped one has none: its loops skip the stencil)."""
    taxis: bool = True
    """The loops compile the stencil's taxis code (see :func:`variant`)."""
    stiff_solve: bool = True
    """The IMEX loop compiles the stiff backward-Euler solver (see :func:`variant`)."""
    general_diffusion: bool = True
    """The stage pass compiles variable-coefficient and masked diffusion (see
    :func:`variant`)."""
    explicit_diffusion: bool = True
    """The stage pass compiles diffusion at all (see :func:`variant`)."""
    rate_rows: bool = True
    """The stage pass compiles rows of rates and the mask (``stage.RATE_ROWS``; see
    :func:`variant`)."""


_KERNELS: dict[str, Kernels] = {}


@njit(cache=True, inline="always")
def _no_stiff_rate(u, maps, i0, i1, k, f, params, t):
    return 0.0


@njit(cache=True, inline="always")
def _no_scalar_relax(s_in, s_out, exports, params, t, dt):
    pass


def register(
    name: str,
    reaction_point,
    reaction_row,
    scalar_rate,
    row_terms: bool,
    stiff_rate=None,
    scalar_relax=None,
    fields: bool = True,
) -> None:
    """Register a model's jitted pointwise kernels under ``name``.

    ``row_terms`` says whether ``reaction_row`` does anything; when it does not (and there
    is no taxis and no variable-coefficient diffusion), the stage update skips the row
    buffer entirely. ``stiff_rate`` and ``scalar_relax`` default to no stiff terms.
    ``fields`` is false for a scalar-only (lumped) model: its loops never compile the
    stencil.
    """
    stiff_rate = _no_stiff_rate if stiff_rate is None else stiff_rate
    scalar_relax = _no_scalar_relax if scalar_relax is None else scalar_relax
    _KERNELS[name] = Kernels(
        reaction_point,
        reaction_row,
        scalar_rate,
        bool(row_terms),
        stiff_rate,
        scalar_relax,
        bool(fields),
    )


def variant(
    name: str,
    taxis: bool,
    stiff: bool = False,
    general: bool = True,
    diffusion: bool = True,
    masked: bool = True,
) -> str:
    """The kernel name a solver passes to its loops: ``name``, or an alias of the same
    kernels (``name`` + ``/no-taxis``, ``/no-stiff``, ``/constant-diffusion``,
    ``/no-explicit-diffusion`` and/or ``/pointwise``) whose loops compile no taxis code
    (when the problem has no taxis terms), no stiff backward-Euler solver (when no field
    is stiff), no variable-coefficient and masked diffusion (when every diffusing field
    has a constant coefficient and the grid no mask), no diffusion in the stage pass at
    all (when no field diffuses explicitly, as under IMEX by default) or no rows of rates
    and no mask in the stage pass (when there is no taxis, no variable-coefficient
    diffusion, no row terms of the model and no mask, ``masked`` false): seconds of cold
    start saved. ``diffusion=False`` implies ``general=False``."""
    rows = bool(taxis) or bool(general) or bool(masked) or _KERNELS[name].row_terms
    flags = (bool(taxis), bool(stiff), bool(general) and bool(diffusion), bool(diffusion), rows)
    if all(flags):
        return name
    suffixes = (
        "/no-taxis",
        "/no-stiff",
        "/constant-diffusion",
        "/no-explicit-diffusion",
        "/pointwise",
    )
    alias = name + "".join(s for s, on in zip(suffixes, flags, strict=True) if not on)
    if alias not in _KERNELS:
        _KERNELS[alias] = _KERNELS[name]._replace(
            taxis=flags[0],
            stiff_solve=flags[1],
            general_diffusion=flags[2],
            explicit_diffusion=flags[3],
            rate_rows=flags[4],
        )
    return alias


def has_fields(name: str) -> bool:
    """Whether the model registered under ``name`` has fields (Python, at typing time)."""
    return _KERNELS[name].fields


def has_taxis(name: str) -> bool:
    """Whether the loops of kernel name ``name`` compile taxis (Python, at typing time)."""
    return _KERNELS[name].taxis


def has_stiff(name: str) -> bool:
    """Whether the loops of kernel name ``name`` compile the stiff solver (at typing time)."""
    return _KERNELS[name].stiff_solve


def has_general_diffusion(name: str) -> bool:
    """Whether the stage pass of kernel name ``name`` compiles variable-coefficient and
    masked diffusion (Python, at typing time)."""
    return _KERNELS[name].general_diffusion


def has_explicit_diffusion(name: str) -> bool:
    """Whether the stage pass of kernel name ``name`` compiles diffusion (Python, at
    typing time)."""
    return _KERNELS[name].explicit_diffusion


def has_rate_rows(name: str) -> bool:
    """Whether the stage pass of kernel name ``name`` compiles rows of rates and the
    mask (Python, at typing time)."""
    return _KERNELS[name].rate_rows


def row_terms(name: str) -> bool:
    """Whether the ``reaction_row`` of the model registered under ``name`` does anything
    (Python; ``has_row_terms`` is its compiled twin)."""
    return _KERNELS[name].row_terms


def parameter_index(names):
    """Named positions of a kernel parameter vector: ``P = parameter_index(("D", "rho"))``
    gives ``P.D == 0``, ``P.rho == 1``. Numba freezes the tuple as a constant, so kernels
    read ``params[P.rho]`` at no cost; a model declaring ``KernelSet(parameters=P)`` is
    checked at class creation to list its ``PARAMETERS`` in this order."""
    return namedtuple("ParameterIndex", names)(*range(len(names)))


def _compute_fingerprint() -> int:
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder in ("kernels", "solvers"):
        for path in sorted((package / folder).glob("*.py")):
            digest.update(path.read_bytes())
    return int.from_bytes(digest.digest()[:6], "little")


FINGERPRINT = _compute_fingerprint()
_STAMP = "continuum-kernels.fingerprint"


def refresh_disk_cache() -> None:
    """Forget the on-disk compiled code of every kernel when the kernel sources changed.

    Numba keys a function's disk cache on its own file only: ``invasion_scalar_rate``
    would keep serving the ``circulation_rates`` of ``circulation.py`` it was compiled
    with after that file changed. The entry points take ``FINGERPRINT`` as a literal;
    every other cached function of ``continuum.kernels`` and ``continuum.solvers`` has its
    cache index cleared here, once per change of the sources, recorded in a stamp file
    beside the cache.
    """
    modules = []
    for package in ("continuum.kernels", "continuum.solvers"):
        root = importlib.import_module(package)
        for info in pkgutil.iter_modules(root.__path__, f"{package}."):
            modules.append(importlib.import_module(info.name))
    stamp = Path(_no_stiff_rate._cache.cache_path) / _STAMP
    try:
        if stamp.read_text() == str(FINGERPRINT):
            return
    except OSError:
        pass
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Dispatcher) and value._cache is not None:
                value._cache.flush()
    with suppress(OSError):  # a read-only cache folder: Numba does not save there either
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(str(FINGERPRINT))


def entry_signature(args, literal=(0, 1)) -> tuple:
    """The Numba argument types of ``args`` for :func:`entry_point`: those at the
    positions ``literal`` as literals."""
    return tuple(types.literal(a) if i in literal else typeof(a) for i, a in enumerate(args))


def entry_point(dispatcher, args, literal=(0, 1)):
    """Compiled entry point of ``dispatcher`` for ``args``, those at the positions
    ``literal`` (default: the kernel name and fingerprint) typed as literals.

    Calling a ``numba.literally`` function from Python re-dispatches through an exception
    on every call (milliseconds); resolving the specialisation once and calling its entry
    point directly costs microseconds. Reads the on-disk cache when it can.
    """
    if isinstance(dispatcher, CompiledOnlyDispatcher):
        dispatcher(*args)  # raises: it has no Python entry point
    signature = entry_signature(args, literal)
    try:
        entry = dispatcher.compile(signature)
    except Exception:
        if isinstance(args[0], str) and args[0] in _KERNELS:
            check_point_kernel(args[0])
        raise
    # A specialisation loaded from the disk cache and called directly skips the dispatcher
    # path that starts Numba's thread pool; its parallel kernels need the pool running.
    _launch_threads()
    return entry


_POINT_ARGS = (
    types.float64[:, :, :, ::1],  # u
    types.float64[:, :, :, ::1],  # maps
    *(types.int64,) * 4,  # i0, i1, k, f
    types.float64[::1],  # scalars
    types.float64[::1],  # params
    types.float64,  # t
)


def check_point_kernel(name: str) -> None:
    """Raise ``TypeError`` naming the ``reaction_point`` of kernel name ``name`` when it
    compiles with Numba's reference counting but not without: it creates arrays, which
    the stencil loop cannot (``diffusion.update_row`` runs without reference counting).
    Called when a stepper fails to compile, to say why."""

    def call(kind, u, maps, i0, i1, k, f, scalars, params, t):
        return reaction_point(kind, u, maps, i0, i1, k, f, scalars, params, t)

    signature = (types.literal(name), *_POINT_ARGS)
    try:
        njit(_nrt=False)(call).compile(signature)
        return
    except Exception:
        try:
            njit(call).compile(signature)
        except Exception:
            return  # fails either way: Numba's own error says why
    point = _KERNELS[name].point
    what = getattr(point, "__name__", repr(point))
    raise TypeError(
        f"reaction_point {what!r} of kernel {name!r} creates an array: the stencil loop "
        "runs it once per cell without Numba's reference counting, so it may read arrays "
        "and take views of them but not allocate (compute with scalars)"
    ) from None


def _lookup(kind):
    if not isinstance(kind, types.StringLiteral):
        raise TypeError(f"kernel name must be a literal string, got {kind}")
    try:
        return _KERNELS[kind.literal_value]
    except KeyError:
        raise TypeError(f"no kernels registered under {kind.literal_value!r}") from None


def reaction_point(kind, u, maps, i0, i1, k, f, scalars, params, t):
    """Dispatch to the registered model's ``reaction_point`` (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


def reaction_row(kind, u, maps, i0, i1, scalars, params, t, rate, exports):
    """Dispatch to the registered model's ``reaction_row`` (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


def has_row_terms(kind):
    """Whether the registered model's ``reaction_row`` does anything (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


def scalar_rate(kind, scalars, exports, params, t, dscalars):
    """Dispatch to the registered model's ``scalar_rate`` (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


def stiff_rate(kind, u, maps, i0, i1, k, f, params, t):
    """Dispatch to the registered model's ``stiff_rate`` (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


def scalar_relax(kind, s_in, s_out, exports, params, t, dt):
    """Dispatch to the registered model's ``scalar_relax`` (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


@overload(scalar_relax, prefer_literal=True)
def _scalar_relax(kind, s_in, s_out, exports, params, t, dt):
    fn = _lookup(kind).relax

    def impl(kind, s_in, s_out, exports, params, t, dt):
        fn(s_in, s_out, exports, params, t, dt)

    return impl


@overload(stiff_rate, prefer_literal=True, inline="always")
def _stiff_rate(kind, u, maps, i0, i1, k, f, params, t):
    fn = _lookup(kind).stiff

    def impl(kind, u, maps, i0, i1, k, f, params, t):
        return fn(u, maps, i0, i1, k, f, params, t)

    return impl


@overload(reaction_point, prefer_literal=True, inline="always")
def _reaction_point(kind, u, maps, i0, i1, k, f, scalars, params, t):
    fn = _lookup(kind).point

    def impl(kind, u, maps, i0, i1, k, f, scalars, params, t):
        return fn(u, maps, i0, i1, k, f, scalars, params, t)

    return impl


@overload(reaction_row, prefer_literal=True)
def _reaction_row(kind, u, maps, i0, i1, scalars, params, t, rate, exports):
    fn = _lookup(kind).row

    def impl(kind, u, maps, i0, i1, scalars, params, t, rate, exports):
        fn(u, maps, i0, i1, scalars, params, t, rate, exports)

    return impl


@overload(has_row_terms, prefer_literal=True, inline="always")
def _has_row_terms(kind):
    value = _lookup(kind).row_terms

    def impl(kind):
        return value

    return impl


@overload(scalar_rate, prefer_literal=True)
def _scalar_rate(kind, scalars, exports, params, t, dscalars):
    fn = _lookup(kind).scalars

    def impl(kind, scalars, exports, params, t, dscalars):
        fn(scalars, exports, params, t, dscalars)

    return impl
