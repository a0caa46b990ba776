"""Compiled time loops: each call advances the state from ``t`` to ``t_stop`` in Numba.

Python is entered only between output times, and the loops release the GIL, so a
background thread (the run-file writer) works while they run. Each loop returns
``(t, dt_next, steps, rejected, status)``; ``status`` is one of the ``STATUS_*`` codes.

Methods
-------
Forward Euler (``EULER``), first order, fixed step:
    :math:`u^{n+1} = u^n + \\Delta t\\, L(u^n)`. Where the problem allows it
    (``pair.pairable``), ``advance_euler_pairs`` takes two steps per pass over memory
    (``continuum.kernels.pair``), with the same result bit for bit.
SSP-RK(4,3) (``SSPRK43``), third order, four stages of ``h/2`` (Kraaijevanger 1991;
    Spiteri & Ruuth 2002), strong-stability coefficient 2:
    :math:`u^{(1)} = u^n + \\tfrac{h}{2} L(u^n)`,
    :math:`u^{(2)} = u^{(1)} + \\tfrac{h}{2} L(u^{(1)})`,
    :math:`u^{(3)} = \\tfrac23 u^n + \\tfrac13 (u^{(2)} + \\tfrac{h}{2} L(u^{(2)}))`,
    :math:`u^{n+1} = u^{(3)} + \\tfrac{h}{2} L(u^{(3)})`.
    Each stage is a forward-Euler step of ``h/2`` (or a convex combination with one), so
    the step keeps densities non-negative up to twice the forward-Euler limit: per
    right-hand side evaluation it advances 1.5 times as far as SSP-RK(3,3) at that limit.
    The embedded second-order solution is :math:`2u^{(3)} - u^n` (weights 1/3, 1/3, 1/3,
    0), so the local error estimate is :math:`u^{n+1} - 2u^{(3)} + u^n`. Adaptive steps
    keep that below ``atol + rtol |u|`` and below the positivity limit of diffusion and
    taxis.
SSP-RK(9,3) (``SSPRK93``), third order, nine stages of ``h/6`` (Ketcheson 2008, SIAM J.
    Sci. Comput. 30, 2113, doi:10.1137/07070485X: the SSP-RK(n^2,3) family, n = 3),
    strong-stability coefficient 6:
    :math:`Y_1 = u^n + \\tfrac{h}{6} L(u^n)`,
    :math:`Y_{i} = Y_{i-1} + \\tfrac{h}{6} L(Y_{i-1})` for i = 2..5 and 7..9,
    :math:`Y_6 = \\tfrac35 Y_1 + \\tfrac25 (Y_5 + \\tfrac{h}{6} L(Y_5))`,
    :math:`u^{n+1} = Y_9`. Per right-hand side evaluation it advances 2/3 of the
    forward-Euler limit (SSP-RK(4,3): 1/2). The embedded solution
    :math:`(u^n - 4Y_6 + 6Y_8)/3` is second order with non-negative weights, so the
    estimate :math:`|Y_9 - (u^n - 4Y_6 + 6Y_8)/3|` is O(h^3) like SSP-RK(4,3)'s; it is
    about 3.5 times smaller at equal ``h`` (third-order defects 11/324 and 1/324 against
    1/12 and 1/12), so at equal tolerance SSP-RK(9,3) takes steps about
    :math:`3.5^{1/3} \\approx 1.5` times longer.
Adaptive third-order steps choose between the two after every accepted step: SSP-RK(4,3)
    while the error sets the step, SSP-RK(9,3) while positivity does. SSP-RK(9,3) costs
    9/4 as much per step and may go 3 times as far, so it pays once the step it can take
    exceeds 9/4 of SSP-RK(4,3)'s limit: the loop switches to it when SSP-RK(4,3)'s error
    would allow ``SWITCH_UP`` = 1.5 times its positivity limit (SSP-RK(9,3)'s error then
    allows about 1.5 x 1.5 = 9/4), and back when SSP-RK(9,3)'s next step falls below
    ``SWITCH_DOWN`` = 3/4 of its own limit (9/4 of SSP-RK(4,3)'s). Each call starts with
    SSP-RK(9,3) if the step it is given is beyond SSP-RK(4,3)'s diffusion limit, else
    with SSP-RK(4,3), which hands a step over to SSP-RK(9,3) when its first stage finds
    the step beyond its limit (taxis) but within SSP-RK(9,3)'s: the choice depends on
    ``dt`` and the state alone, so a resumed run repeats it.
IMEX Euler with LOD diffusion (``advance_imex``), first order: explicit Euler for
    reactions and taxis, then backward-Euler line solves of each implicit field along each
    axis (see ``continuum.kernels.implicit``); the model's stiff fields (oxygen) take a
    full backward-Euler step instead, diffusion and stiff decay together, solved to
    tolerance (``solve_backward_euler``).
IMEX Richardson (``advance_imex2``), second order: with ``E_h`` one IMEX Euler step of
    ``h`` in which taxis joins the line solves (upwind, limiter ratios and attractant
    frozen at the sweep's start; ``continuum.kernels.implicit``), so no explicit taxis
    limit holds the step,
    :math:`u^{n+1} = 2 E_{h/2}(E_{h/2}(u^n)) - E_h(u^n)`;
    where that is negative while the two half steps are not, the two-half-steps value is
    kept (first order there, never negative). The local error estimate is
    :math:`|E_{h/2}(E_{h/2}(u^n)) - E_h(u^n)|` (the error of the two half steps, scalars
    included); adaptive steps keep it below ``atol + rtol |u|``.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import njit
from numba.extending import overload

from continuum.compile_ahead import Job
from continuum.kernels import implicit as implicit_kernels
from continuum.kernels import multigrid, registry
from continuum.kernels.arrays import copy_into
from continuum.kernels.implicit import (
    LineSystem,
    StiffBuffers,
    StiffStep,
    implicit_diffusion_axis,
    moves,
    solve_backward_euler,
)
from continuum.kernels.internal import CompiledOnlyDispatcher, internal
from continuum.kernels.pair import euler_pair_pass
from continuum.kernels.problem import Stage
from continuum.kernels.simple import no_reaction_point, no_reaction_row, no_scalar_rate
from continuum.kernels.stage import (
    STAT_ERROR,
    STAT_NONFINITE,
    STAT_TAXIS_RATE,
    column_max,
    pointwise_reaction_stage_pass,
    pointwise_stage_pass,
    reaction_stage_pass,
    ssprk93_error_rows,
    stage_pass,
    sum_rows,
)

EULER, SSPRK43, SSPRK93 = 0, 1, 2
SSP_COEFFICIENT = (1.0, 2.0, 6.0)
"""By method: how many times the forward-Euler positivity limit its step may take
(SSP-RK(4,3): four Euler stages of ``h/2``, SSP-RK(9,3): nine of ``h/6``, combined
convexly); every stage is a forward-Euler step of ``h / SSP_COEFFICIENT[method]``."""
TWO_THIRDS = 2.0 / 3.0  # with 1 - TWO_THIRDS the weights of a stage sum to 1 exactly
THREE_FIFTHS = 0.6  # likewise with 1 - THREE_FIFTHS
# The stages of each method as rows ``(input, base, output, alpha, c)``: indices into the
# buffers ``(u, ua, ub, uc)`` of :class:`States`, the weight ``alpha`` of the base
# (``beta = 1 - alpha``) and the stage's time ``t + c h``. The new state ends in ``ua``.
STAGES = (
    np.array([[0, 0, 1, 0.0, 0.0]]),
    np.array(
        [[0, 0, 2, 0.0, 0.0], [2, 0, 1, 0.0, 0.5], [1, 0, 2, TWO_THIRDS, 1.0], [2, 0, 1, 0.0, 0.5]]
    ),
    # Y1..Y9 in ua, ub, uc, ub, uc, ub, ua, uc, ua: Y1 (base of stage 6), Y6 and Y8 (the
    # error estimate's) stay where the later stages do not write.
    np.array(
        [
            [0, 0, 1, 0.0, 0.0],
            [1, 0, 2, 0.0, 1 / 6],
            [2, 0, 3, 0.0, 2 / 6],
            [3, 0, 2, 0.0, 3 / 6],
            [2, 0, 3, 0.0, 4 / 6],
            [3, 1, 2, THREE_FIFTHS, 5 / 6],
            [2, 0, 1, 0.0, 3 / 6],
            [1, 0, 3, 0.0, 4 / 6],
            [3, 0, 1, 0.0, 5 / 6],
        ]
    ),
)
SWITCH_UP = 1.5
"""SSP-RK(4,3) -> SSP-RK(9,3) when the error would allow this many positivity limits."""
SWITCH_DOWN = 0.75
"""SSP-RK(9,3) -> SSP-RK(4,3) when its next step is below this fraction of its limit."""
STATUS_OK, STATUS_NONFINITE, STATUS_UNSTABLE, STATUS_MAX_STEPS, STATUS_DT_UNDERFLOW = 0, 1, 2, 3, 4
STATUS_SOLVER = 5
# What a step of ``_explicit_step`` ended in besides ``STATUS_OK`` and ``STATUS_NONFINITE``:
# the first stage already broke the positivity limit (the other stages were not taken).
TOO_FAST = -1
MAX_SOLVER_ITERATIONS = 400
SLACK = 1e-12  # relative slack of the step-size comparisons


class States(NamedTuple):
    """The state ``(u, s)`` and the stage buffers of a loop (each ``u*`` shaped
    ``(n_fields, n0, n1, n2)``, each ``s*`` ``(n_scalars,)``); the loops swap ``u`` and
    ``ua`` on every accepted step and copy the result back into the caller's ``u`` at the
    end. IMEX does not use ``ub``, ``sb``, ``uc``, ``sc``, forward Euler and SSP-RK(4,3)
    not ``uc``, ``sc`` (give empty arrays)."""

    u: np.ndarray
    s: np.ndarray
    ua: np.ndarray
    sa: np.ndarray
    ub: np.ndarray
    sb: np.ndarray
    uc: np.ndarray
    sc: np.ndarray


class Control(NamedTuple):
    """Step-size control of a loop."""

    method: int
    """``EULER`` or ``SSPRK43`` (adaptive: switching to ``SSPRK93`` where positivity
    holds the step, module doc; IMEX: unused)."""
    adaptive: bool
    """Adapt dt to the error and positivity limits; else a fixed dt that breaks a limit
    stops the loop with ``STATUS_UNSTABLE``."""
    dt_min: float
    """[day], a smaller step stops the loop with ``STATUS_DT_UNDERFLOW``."""
    max_steps: int
    """Accepted plus rejected steps allowed in this call."""
    explicit_rate: float
    """``2 sum_a max(D) / h_a^2`` [1/day] of the explicitly diffused fields."""
    rtol: float
    atol: float


class Implicit(NamedTuple):
    """What the IMEX loop adds: the implicit fields, their work arrays and the step
    control's memory."""

    diffusivity: np.ndarray
    """(n_fields,) [mm^2/day]; > 0 for the fields diffused implicitly."""
    stiff: np.ndarray
    """(n_fields,) bool, the fields that take a full backward-Euler step."""
    line_scratch: np.ndarray
    """``implicit.line_scratch``."""
    stiff_work: tuple
    """``implicit.backward_euler_work``."""
    stiff_stats: np.ndarray
    """(rows, 2) per-row residual statistics."""
    rates: np.ndarray
    """(2, *u.shape): the previous and the new mean rates of the fields."""
    history: np.ndarray
    """(2,) 1 once ``rates[history[1]]`` is valid; which slot holds the previous rate."""
    taxis: np.ndarray | None
    """(n_taxis, 3) taxis rows ``(field, attractant, chi)`` solved in the line solves of
    the non-stiff fields (``advance_imex2``); ``None`` when taxis is explicit or absent
    (the line solves then compile no taxis code)."""


@internal()
def scalar_stage(kind, fingerprint, s_in, s_base, s_out, stage, params, work):
    """Scalar analogue of ``stage_pass``: ``s_out = alpha s_base + beta (s_in + dt f)``,
    ``f`` the model's ``scalar_rate`` at ``stage.t`` given the export totals of the last
    field stage (``work.exports`` summed times ``work.cell_volume``).

    Takes the kernel fingerprint too, so that its disk cache follows the model's kernels.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    sum_rows(work.exports, work.cell_volume, work.totals)
    registry.scalar_rate(kind, s_in, work.totals, params, stage.t, work.ds)
    alpha, beta, dt, ds = stage.alpha, stage.beta, stage.dt, work.ds
    for i in range(s_out.shape[0]):
        s_out[i] = beta * (s_in[i] + dt * ds[i]) + alpha * s_base[i]


def field_stage(kind, fingerprint, u_in, u_base, u_out, scalars, stage, problem, work):
    """The stage pass of ``kind`` when the model has fields: ``stage_pass``, or its copy
    without diffusion (``reaction_stage_pass``, when no field diffuses explicitly), and
    either without rows of rates and mask (``pointwise_*``, a ``/pointwise`` kernel
    name); nothing for a scalar-only (lumped) model, whose per-row statistics and exports
    then stay zero. Chosen while Numba types the caller, so a lumped model never compiles
    the stencil (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


_STAGE_PASSES = {
    (True, True): stage_pass,
    (False, True): reaction_stage_pass,
    (True, False): pointwise_stage_pass,
    (False, False): pointwise_reaction_stage_pass,
}
"""The stage passes by (explicit diffusion, rows of rates) of a kernel name."""


@overload(field_stage, prefer_literal=True)
def _field_stage(kind, fingerprint, u_in, u_base, u_out, scalars, stage, problem, work):
    name = kind.literal_value
    if not registry.has_fields(name):
        return lambda kind, fingerprint, u_in, u_base, u_out, scalars, stage, problem, work: None
    kernel = _STAGE_PASSES[registry.has_explicit_diffusion(name), registry.has_rate_rows(name)]

    def impl(kind, fingerprint, u_in, u_base, u_out, scalars, stage, problem, work):
        kernel(kind, fingerprint, u_in, u_base, u_out, scalars, stage, problem, work)

    return impl


def field_error93(kind, u, y6, y8, y9, rtol, atol, row_stats):
    """The largest SSP-RK(9,3) error ratio of the fields (``stage.ssprk93_error_rows``);
    0 for a scalar-only model, which then compiles no such pass (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


@overload(field_error93, prefer_literal=True)
def _field_error93(kind, u, y6, y8, y9, rtol, atol, row_stats):
    if not registry.has_fields(kind.literal_value):
        return lambda kind, u, y6, y8, y9, rtol, atol, row_stats: 0.0

    def impl(kind, u, y6, y8, y9, rtol, atol, row_stats):
        ssprk93_error_rows(u, y6, y8, y9, rtol, atol, row_stats)
        return column_max(row_stats, STAT_ERROR)

    return impl


@internal()
def _nonfinite(row_stats, scalars):
    if column_max(row_stats, STAT_NONFINITE) != 0.0:
        return True
    for x in scalars:
        if not np.isfinite(x):
            return True
    return False


@internal()
def _remaining(t, t_stop):
    return t_stop - t > SLACK * max(1.0, abs(t_stop))


@njit(cache=True, inline="always")
def clip_step(dt, t, t_stop):
    """The step [day] from ``t`` towards ``t_stop``: ``dt``, or what is left when that is
    less, or would leave a sliver of at most ``SLACK`` relative."""
    h = min(dt, t_stop - t)
    if t_stop - t - h <= SLACK * max(1.0, abs(t_stop)):
        h = t_stop - t
    return h


@njit(cache=True, inline="always")
def positivity_limit(rate):
    """``0.9 / rate`` [day]: the explicit step that keeps densities non-negative with a
    margin, for the explicit rate ``rate`` [1/day] (infinite for 0)."""
    return 0.9 / rate if rate > 0 else np.inf


@njit(cache=True, inline="always")
def step_factor(err, power):
    """Factor of the next step after an error ratio ``err`` of an estimate that scales as
    ``h^power``: ``0.9 err^(-1/power)``, kept in ``[0.2, 5]`` (5 for ``err = 0``)."""
    if err == 0.0:
        return 5.0
    if power == 2:
        return min(5.0, max(0.2, 0.9 / np.sqrt(err)))
    return min(5.0, max(0.2, 0.9 * err ** (-1.0 / power)))


@njit(cache=True, inline="always")
def grown_step(h, dt, proposal, limit):
    """The next dt [day] after an accepted step ``h`` taken when ``dt`` was asked for: the
    controller's ``proposal``, but a step clipped at an output time does not shrink dt;
    at most ``limit``."""
    dt = max(dt, proposal) if h < dt else proposal
    return min(dt, limit)


@njit(cache=True, inline="always")
def underflow(dt, control):
    """``STATUS_DT_UNDERFLOW`` if a rejected step leaves ``dt`` below ``dt_min``."""
    return STATUS_DT_UNDERFLOW if dt < control.dt_min else STATUS_OK


@njit(cache=True, inline="always")
def swap(st):
    """The states with the new solution (``ua``, ``sa``) as the current one."""
    return States(st.ua, st.sa, st.u, st.s, st.ub, st.sb, st.uc, st.sc)


@njit(cache=True, inline="always")
def restore(st, swapped, status):
    """Leave the solution in the caller's ``u``, ``s``: after an odd number of swaps it
    lies in the caller's ``ua``, ``sa`` (``st.u``, ``st.s``). With ``STATUS_NONFINITE``
    the step that went wrong (``st.ua``, ``st.sa``) is handed back instead."""
    if status == STATUS_NONFINITE:
        st, swapped = swap(st), not swapped
    if swapped:
        copy_into(st.ua, st.u)
        copy_into(st.sa, st.s)


@internal()
def _explicit_step(kind, fingerprint, st, h, t, method, control, problem, work):
    """One step of ``h`` days of ``method`` (``EULER``, ``SSPRK43`` or ``SSPRK93``) from
    ``(st.u, st.s)`` at ``t`` into ``(st.ua, st.sa)``, through the buffers of its
    ``STAGES`` table.

    Returns ``(rate, err, outcome)``: the explicit rate ``explicit_rate + taxis rate``
    [1/day] over the stages taken, the error ratio of the embedded second-order
    solution (scalars included; 0 for Euler) and ``STATUS_OK``, ``STATUS_NONFINITE``, or
    ``TOO_FAST`` when the first stage broke the positivity limit (no more stages taken).
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    fields = (st.u, st.ua, st.ub, st.uc)
    scalars = (st.s, st.sa, st.sb, st.sc)
    params, rtol, atol = problem.params, control.rtol, control.atol
    row_stats = work.row_stats
    table = STAGES[0] if method == EULER else STAGES[1] if method == SSPRK43 else STAGES[2]
    sub = h / SSP_COEFFICIENT[method]
    n_stages = table.shape[0]
    taxis_rate = 0.0
    for i in range(n_stages):
        x, base, out = int(table[i, 0]), int(table[i, 1]), int(table[i, 2])
        alpha = table[i, 3]
        with_error = method == SSPRK43 and i == n_stages - 1
        stage = Stage(alpha, 1.0 - alpha, sub, t + table[i, 4] * h, with_error, rtol, atol)
        field_stage(
            kind,
            fingerprint,
            fields[x],
            fields[base],
            fields[out],
            scalars[x],
            stage,
            problem,
            work,
        )
        scalar_stage(
            kind, fingerprint, scalars[x], scalars[base], scalars[out], stage, params, work
        )
        taxis_rate = max(taxis_rate, column_max(row_stats, STAT_TAXIS_RATE))
        if i == 0 or i == n_stages - 1:
            if _nonfinite(row_stats, scalars[out]):
                return control.explicit_rate + taxis_rate, 0.0, STATUS_NONFINITE
        if i == 0 and sub * (control.explicit_rate + taxis_rate) > 1.0 + SLACK:
            return control.explicit_rate + taxis_rate, 0.0, TOO_FAST
    rate = control.explicit_rate + taxis_rate
    s, sa, sb, sc = st.s, st.sa, st.sb, st.sc
    if method == EULER:
        return rate, 0.0, STATUS_OK
    err = 0.0
    if method == SSPRK43:  # u_new - 2 u3 + u: measured in the last stage's pass
        err = column_max(row_stats, STAT_ERROR)
        for i in range(s.shape[0]):
            e = abs(sa[i] - 2.0 * sb[i] + s[i]) / (atol + rtol * max(abs(sa[i]), abs(s[i])))
            err = max(err, e)
        return rate, err, STATUS_OK
    # |Y9 - (u - 4 Y6 + 6 Y8) / 3|, with Y6 in ub, Y8 in uc, Y9 in ua
    err = field_error93(kind, st.u, st.ub, st.uc, st.ua, rtol, atol, row_stats)
    for i in range(s.shape[0]):
        e = abs(sa[i] - (s[i] - 4.0 * sb[i] + 6.0 * sc[i]) / 3.0)
        err = max(err, e / (atol + rtol * max(abs(sa[i]), abs(s[i]))))
    return rate, err, STATUS_OK


@njit(cache=True, inline="always")
def _first_method(method, dt, control):
    """The method a call starts with: ``SSPRK93`` for an adaptive third-order call whose
    first step is beyond SSP-RK(4,3)'s diffusion limit, else ``method`` (module doc)."""
    if method == SSPRK43 and control.adaptive:
        if dt * control.explicit_rate > SSP_COEFFICIENT[SSPRK43] * (1.0 + SLACK):
            return SSPRK93
    return method


@njit(cache=True, inline="always")
def _next_method(method, proposal, limit):
    """After an accepted adaptive step: the method for the next, given the error
    controller's ``proposal`` [day] and the positivity ``limit`` [day] of ``method``."""
    if method == SSPRK43 and proposal > SWITCH_UP * limit:
        return SSPRK93
    if method == SSPRK93 and proposal < SWITCH_DOWN * limit:
        return SSPRK43
    return method


@njit(cache=True, nogil=True)
def advance_explicit(kind, fingerprint, st, t, t_stop, dt, control, problem, work):
    """Advance with forward Euler or the adaptive third-order pair from ``t`` to
    ``t_stop`` [day] (module doc).

    ``st`` are the :class:`States`, ``dt`` the step [day] to try first, ``control`` the
    :class:`Control` (its ``explicit_rate`` = ``2 sum_a max(D) / h_a^2`` [1/day]: forward
    Euler preserves positivity for ``dt * (explicit_rate + taxis_rate) <= 1``, the
    third-order methods for ``SSP_COEFFICIENT`` times that), ``problem`` the
    :class:`~continuum.kernels.problem.Problem` and ``work`` the
    :class:`~continuum.kernels.problem.StageWork`. Returns ``(t, dt_next, steps,
    rejected, status)``.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    swapped = False
    steps = 0
    rejected = 0
    status = STATUS_OK
    method = _first_method(control.method, dt, control)
    while _remaining(t, t_stop):
        if steps + rejected >= control.max_steps:
            status = STATUS_MAX_STEPS
            break
        h = clip_step(dt, t, t_stop)
        rate, err, outcome = _explicit_step(
            kind, fingerprint, st, h, t, method, control, problem, work
        )
        if outcome == STATUS_NONFINITE:
            status = STATUS_NONFINITE
            break
        coefficient = SSP_COEFFICIENT[method]
        too_fast = h * rate > coefficient * (1.0 + SLACK)
        if not control.adaptive and too_fast:
            status = STATUS_UNSTABLE
            break
        limit = coefficient * positivity_limit(rate)
        if control.adaptive and outcome == TOO_FAST:
            wider = SSP_COEFFICIENT[SSPRK93] * positivity_limit(rate)
            if method == SSPRK43 and h <= wider:  # a step SSP-RK(9,3) may take: keep it
                method = SSPRK93
            else:
                dt = limit
            rejected += 1
            status = underflow(dt, control)
            if status != STATUS_OK:
                break
            continue
        if control.adaptive and method != EULER:
            factor = step_factor(err, 3)
            if err > 1.0 or too_fast:
                dt = min(h * factor, limit)
                rejected += 1
                status = underflow(dt, control)
                if status != STATUS_OK:
                    break
                continue
            proposal = h * factor
            following = _next_method(method, proposal, limit)
            if following != method:
                limit *= SSP_COEFFICIENT[following] / coefficient
                method = following
            dt = grown_step(h, dt, min(proposal, limit), limit)
        st, swapped = swap(st), not swapped
        t += h
        steps += 1
    restore(st, swapped, status)
    return t, dt, steps, rejected, status


@njit(cache=True, nogil=True)
def advance_euler_pairs(kind, fingerprint, st, t, t_stop, dt, control, problem, work):
    """Forward Euler with the fixed step ``dt`` [day] from ``t`` to ``t_stop``, two steps
    per pass over memory where it can (``continuum.kernels.pair``, for a problem
    ``pair.pairable`` accepts): a pair when two more steps are left to take and to the
    step budget, a single step of the same pass otherwise and after a pair that met a
    non-finite value (which it then reports as a single step would). The result, the
    step count and the status are those of :func:`advance_explicit` with ``EULER``, bit
    for bit; ``st.sb`` holds the scalars between the two steps of a pair. Returns
    ``(t, dt_next, steps, rejected, status)``."""
    numba.literally(kind)
    numba.literally(fingerprint)
    swapped = False
    steps = 0
    status = STATUS_OK
    params, rtol, atol, rate = problem.params, control.rtol, control.atol, control.explicit_rate
    while _remaining(t, t_stop):
        if steps >= control.max_steps:
            status = STATUS_MAX_STEPS
            break
        h = clip_step(dt, t, t_stop)
        t_second = t + h
        two = steps + 2 <= control.max_steps and _remaining(t_second, t_stop)
        h_second = clip_step(dt, t_second, t_stop) if two else h
        two = two and max(h, h_second) * rate <= 1.0 + SLACK
        first = Stage(0.0, 1.0, h, t, False, rtol, atol)
        if two:
            second = Stage(0.0, 1.0, h_second, t_second, False, rtol, atol)
            scalar_stage(kind, fingerprint, st.s, st.s, st.sb, first, params, work)
            scalar_stage(kind, fingerprint, st.sb, st.sb, st.sa, second, params, work)
            euler_pair_pass(
                kind, fingerprint, st.u, st.ua, st.s, st.sb, first, second, problem, work, two
            )
            if not (_nonfinite(work.row_stats, st.sb) or _nonfinite(work.row_stats, st.sa)):
                st, swapped = swap(st), not swapped
                t = t_second + h_second
                steps += 2
                continue
            two = False  # the single step below finds where it went wrong
        scalar_stage(kind, fingerprint, st.s, st.s, st.sa, first, params, work)
        euler_pair_pass(
            kind, fingerprint, st.u, st.ua, st.s, st.s, first, first, problem, work, two
        )
        if _nonfinite(work.row_stats, st.sa):
            status = STATUS_NONFINITE
            break
        if h * rate > 1.0 + SLACK:
            status = STATUS_UNSTABLE
            break
        st, swapped = swap(st), not swapped
        t += h
        steps += 1
    restore(st, swapped, status)
    return t, dt, steps, 0, status


@internal(parallel=True)
def _first_order_error(new, old, rate_prev, rate_new, h, have_prev, rtol, atol, row_stats):
    """Local error estimate of a first-order step, and the new mean rate.

    With the mean rates ``r_n = (u^{n+1} - u^n) / h_n``, the local error of a first-order
    step is about ``h_n^2 |u''| / 2 ~ h_n |r_n - r_{n-1}| / 2`` (divided difference).
    ``r_n`` is written to ``rate_new``; returns the max of the error / tolerance.
    """
    n_fields, n0, n1, n2 = new.shape
    for r in numba.prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        value = 0.0
        for f in range(n_fields):
            for k in range(n2):
                a = new[f, i0, i1, k]
                b = old[f, i0, i1, k]
                rate = (a - b) / h
                if have_prev:
                    e = 0.5 * h * abs(rate - rate_prev[f, i0, i1, k])
                    value = max(value, e / (atol + rtol * max(abs(a), abs(b))))
                rate_new[f, i0, i1, k] = rate
        row_stats[r, STAT_ERROR] = value
    return column_max(row_stats, STAT_ERROR)


def _stiff_solve(kind, fingerprint, u_old, out, f, step, problem, buffers):
    """``solve_backward_euler`` for a kernel name with stiff fields (``registry.variant``);
    for one without, not compiled: it returns -1 (no convergence) (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


@overload(_stiff_solve, prefer_literal=True)
def _stiff_solve_impl(kind, fingerprint, u_old, out, f, step, problem, buffers):
    if not registry.has_stiff(kind.literal_value):
        return lambda kind, fingerprint, u_old, out, f, step, problem, buffers: -1

    def impl(kind, fingerprint, u_old, out, f, step, problem, buffers):
        return solve_backward_euler(kind, fingerprint, u_old, out, f, step, problem, buffers)

    return impl


@njit(cache=True, inline="always")
def _implicit_solves(kind, fingerprint, st, h, t, control, problem, implicit):
    """The implicit part of an IMEX step on ``st.ua`` (the explicit predictor): a full
    backward-Euler solve for each stiff field, LOD line solves along each axis for each
    other field with ``implicit.diffusivity > 0`` or a row in ``implicit.taxis``. A stiff
    solve starts from the previous step's mean rate when the adaptive error estimator
    holds one (``implicit.rates``). Returns the first stiff field whose solve did not
    converge, or -1. Inlined into :func:`_imex_euler`."""
    rates = implicit.rates[int(implicit.history[1])]
    extrapolate = implicit.history[0] != 0.0 and rates.shape == st.u.shape
    for f in range(st.u.shape[0]):
        d = implicit.diffusivity[f]
        moved = moves(implicit.taxis, f)
        if implicit.stiff[f]:
            start_rate = rates[f] if extrapolate else rates[0, :0]
            step = StiffStep(h, t, d, control.rtol, control.atol, MAX_SOLVER_ITERATIONS, start_rate)
            buffers = StiffBuffers(implicit.line_scratch, implicit.stiff_work, implicit.stiff_stats)
            iterations = _stiff_solve(kind, fingerprint, st.u, st.ua, f, step, problem, buffers)
            if iterations < 0:
                return f
        elif d != 0.0 or moved:
            for axis in range(3):
                lam = h * problem.inv_h[axis] * problem.inv_h[axis]
                implicit_diffusion_axis(
                    st.ua, f, axis, d, lam, problem, implicit.line_scratch, implicit.taxis
                )
    return -1


@njit(cache=True, inline="always")
def _imex_error(st, h, control, implicit, row_stats):
    """``(err, factor)`` of an IMEX step: the error ratio of :func:`_first_order_error`
    (whose new mean rate goes to the free slot of ``implicit.rates``) and the factor of the
    next step (1 while the estimator has no previous rate)."""
    current = int(implicit.history[1])
    have_prev = implicit.history[0] != 0.0
    rates = implicit.rates
    err = _first_order_error(
        st.ua,
        st.u,
        rates[current],
        rates[1 - current],
        h,
        have_prev,
        control.rtol,
        control.atol,
        row_stats,
    )
    return err, step_factor(err, 2) if have_prev else 1.0


@njit(cache=True, inline="always")
def _imex_euler(kind, fingerprint, st, h, t, control, problem, work, implicit):
    """One IMEX Euler step of ``h`` days from ``(st.u, st.s)`` at ``t`` into
    ``(st.ua, st.sa)``: the explicit stage (reactions, explicit diffusion and taxis, the
    scalars with their exact relaxation), then :func:`_implicit_solves`.

    Returns ``(limit, outcome)``: the positivity limit [day] of the explicit terms and
    ``STATUS_OK``, ``TOO_FAST`` (``h`` broke that limit; nothing solved),
    ``STATUS_SOLVER`` or ``STATUS_NONFINITE``.

    Inlined (Numba IR) into the IMEX loops, as are :func:`_implicit_solves` and the stiff
    solver's pass-through levels: Numba links a callee's machine code into every caller
    and optimises it again there, so each level of calls costs the code below it once
    more (about 10 s of the first 32² invasion cascade's compilation). The literal
    ``kind`` and ``fingerprint`` are the loops'.
    """
    stage = Stage(0.0, 1.0, h, t, False, control.rtol, control.atol)
    field_stage(kind, fingerprint, st.u, st.u, st.ua, st.s, stage, problem, work)
    scalar_stage(kind, fingerprint, st.s, st.s, st.sa, stage, problem.params, work)
    registry.scalar_relax(kind, st.s, st.sa, work.totals, problem.params, t, h)
    explicit_rate = control.explicit_rate + column_max(work.row_stats, STAT_TAXIS_RATE)
    limit = positivity_limit(explicit_rate)
    if h * explicit_rate > 1.0 + SLACK:
        return limit, TOO_FAST
    if _implicit_solves(kind, fingerprint, st, h, t, control, problem, implicit) >= 0:
        return limit, STATUS_SOLVER
    if _nonfinite(work.row_stats, st.sa):
        return limit, STATUS_NONFINITE
    return limit, STATUS_OK


@njit(cache=True, inline="always")
def _failed_imex_step(outcome, limit, dt, control):
    """``(dt, status, retry)`` after an IMEX Euler step whose ``outcome`` is not
    ``STATUS_OK``: with ``TOO_FAST`` an adaptive run retries at the positivity ``limit``
    (``STATUS_DT_UNDERFLOW`` if that is below ``dt_min``) and a fixed-step one stops
    (``STATUS_UNSTABLE``); a failed solve or a non-finite value stops the run."""
    if outcome != TOO_FAST:
        return dt, outcome, False
    if not control.adaptive:
        return dt, STATUS_UNSTABLE, False
    return limit, underflow(limit, control), True


@njit(cache=True, nogil=True)
def advance_imex(kind, fingerprint, st, t, t_stop, dt, control, problem, work, implicit):
    """IMEX Euler: explicit reactions and taxis, LOD backward-Euler diffusion.

    ``problem`` has the *explicit* diffusivities (zero for the fields with
    ``implicit.diffusivity > 0``, which diffuse implicitly; see :class:`Implicit`). With
    ``control.adaptive``, the step keeps the local error estimate of
    ``_first_order_error`` within ``atol + rtol |u|`` and the explicit terms within their
    positivity limit. ``implicit.rates[implicit.history[1]]`` (the previous mean rate of
    the fields; the other slot takes the new one) and ``implicit.history[0]`` (1 once it
    is valid) carry the estimator's memory from call to call.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    swapped = False
    steps = 0
    rejected = 0
    status = STATUS_OK
    while _remaining(t, t_stop):
        if steps + rejected >= control.max_steps:
            status = STATUS_MAX_STEPS
            break
        h = clip_step(dt, t, t_stop)
        limit, outcome = _imex_euler(kind, fingerprint, st, h, t, control, problem, work, implicit)
        if outcome != STATUS_OK:
            dt, status, retry = _failed_imex_step(outcome, limit, dt, control)
            rejected += retry
            if retry and status == STATUS_OK:
                continue
            break
        if control.adaptive:
            err, factor = _imex_error(st, h, control, implicit, work.row_stats)
            if err > 1.0:
                dt = h * factor
                rejected += 1
                status = underflow(dt, control)
                if status != STATUS_OK:
                    break
                continue
            implicit.history[0] = 1.0
            implicit.history[1] = 1 - implicit.history[1]
            dt = grown_step(h, dt, h * factor, limit)
        st, swapped = swap(st), not swapped
        t += h
        steps += 1
    restore(st, swapped, status)
    return t, dt, steps, rejected, status


SHARED_KIND = "continuum.solvers.loops/shared-kernels"
"""A kernel name with no reactions: the IMEX loops' shared kernels compile for it exactly
as for any model (:func:`imex_shared_kernels`)."""
registry.register(SHARED_KIND, no_reaction_point, no_reaction_row, no_scalar_rate, False)

SHARED = frozenset(
    value
    for module in (implicit_kernels, multigrid)
    for value in vars(module).values()
    if isinstance(value, CompiledOnlyDispatcher)
)
"""The kernels of the implicit solves, which compile alike for every model (the model's
own, such as ``implicit.stiff_rates``, take its literal kernel name)."""


@internal()
def _imex_shared(kind, fingerprint, st, h, t, control, problem, implicit):
    """The implicit solves of an IMEX Euler step as the IMEX loops compile them, for
    ``SHARED_KIND`` (compiled, never run)."""
    numba.literally(kind)
    numba.literally(fingerprint)
    _implicit_solves(kind, fingerprint, st, h, t, control, problem, implicit)


def imex_shared_kernels(args) -> list[Job]:
    """What the IMEX loop called with ``args`` compiles alike for every model, for a
    helper process (``continuum.compile_ahead``): the loop's implicit solves, compiled for
    :data:`SHARED_KIND` with the argument types of ``args`` (the stiff solver included
    where the loop's kernel name has it). That compiles every kernel of :data:`SHARED`
    the loop needs with the loop's own argument types. Before it, the line solves of
    ``implicit_diffusion_axis`` for the types it gives them: typing the driver first
    would delay them by about 0.4 s, and a loop without stiff fields needs them first
    (``tests/test_compile_ahead.py`` checks the prediction)."""
    kind, fingerprint, st, _, _, _, control, problem, _, implicit = args[:10]
    typeof = numba.typeof
    jobs = []
    if np.any((implicit.diffusivity != 0.0) & ~implicit.stiff) or implicit.taxis is not None:
        system = LineSystem(0.0, 1.0, np.empty((0, 0, 0)), 1.0, True, implicit.taxis)
        line = (typeof(st.ua[0]), typeof(st.ua), numba.int64, numba.int64, numba.float64)
        line += (typeof(problem), typeof(system), typeof(implicit.line_scratch))
        jobs.append(Job(implicit_kernels.line_solve_axis, line))
    reference = registry.variant(
        SHARED_KIND, False, registry.has_stiff(kind), general=False, diffusion=False
    )
    signature = (numba.types.literal(reference), numba.types.literal(fingerprint))
    signature += (typeof(st), numba.float64, numba.float64, typeof(control))
    signature += (typeof(problem), typeof(implicit))
    return [*jobs, Job(_imex_shared, signature, SHARED)]


def first_order_error_kernels(args) -> list[Job]:
    """The error estimate of :func:`advance_imex` called with ``args``, for the types
    :func:`_imex_error` gives it: the run compiles it while its helper compiles the
    implicit solves, where it would otherwise wait for the helper's line solves first
    and then compile it (``tests/test_compile_ahead.py`` checks the prediction)."""
    st, control, work, implicit = args[2], args[6], args[8], args[9]
    typeof = numba.typeof
    rates = typeof(implicit.rates[0])
    signature = (typeof(st.ua), typeof(st.u), rates, rates, numba.float64, numba.boolean)
    signature += (typeof(control.rtol), typeof(control.atol), typeof(work.row_stats))
    return [Job(_first_order_error, signature)]


@njit(cache=True, parallel=True)
def _extrapolate(full, half, old, rtol, atol, row_stats):
    """``full = 2 half - full`` (Richardson), or ``half`` where that is negative and
    ``half`` is not (arrays (n_fields, n0, n1, n2)). Returns the max over cells of
    ``|half - full| / (atol + rtol max(|half|, |old|))``, ``full`` as given."""
    n_fields, n0, n1, n2 = full.shape
    for r in numba.prange(n0 * n1):
        i0 = r // n1
        i1 = r - i0 * n1
        value = 0.0
        for f in range(n_fields):
            for k in range(n2):
                a = full[f, i0, i1, k]
                b = half[f, i0, i1, k]
                scale = atol + rtol * max(abs(b), abs(old[f, i0, i1, k]))
                value = max(value, abs(b - a) / scale)
                e = 2.0 * b - a
                full[f, i0, i1, k] = b if e < 0.0 and b >= 0.0 else e
        row_stats[r, STAT_ERROR] = value
    return column_max(row_stats, STAT_ERROR)


@njit(cache=True, nogil=True)
def advance_imex2(kind, fingerprint, st, t, t_stop, dt, control, problem, work, implicit, half):
    """IMEX Richardson: second order from three IMEX Euler steps (module doc).

    ``st`` are the :class:`States` (``st.ub``, ``st.sb`` hold the first half step),
    ``half`` the :class:`States` whose ``ua``, ``sa`` take the second half step (its
    other members unused), ``problem`` has the explicit diffusivities and no taxis,
    ``implicit.taxis`` the taxis rows solved in the line solves. With
    ``control.adaptive``, the step keeps the estimate below ``atol + rtol |u|`` (factor
    ``0.9 err^(-1/2)``) and the explicit diffusion within its positivity limit.
    Returns ``(t, dt_next, steps, rejected, status)``.
    """
    numba.literally(kind)
    numba.literally(fingerprint)
    swapped = False
    steps = 0
    rejected = 0
    status = STATUS_OK
    while _remaining(t, t_stop):
        if steps + rejected >= control.max_steps:
            status = STATUS_MAX_STEPS
            break
        h = clip_step(dt, t, t_stop)
        full = States(st.u, st.s, st.ua, st.sa, st.ub, st.sb, st.uc, st.sc)
        first = States(st.u, st.s, st.ub, st.sb, st.ub, st.sb, st.uc, st.sc)
        second = States(st.ub, st.sb, half.ua, half.sa, st.ub, st.sb, st.uc, st.sc)
        limit, outcome = _imex_euler(
            kind, fingerprint, full, h, t, control, problem, work, implicit
        )
        failed = full
        if outcome == STATUS_OK:
            failed = first
            _, outcome = _imex_euler(
                kind, fingerprint, first, 0.5 * h, t, control, problem, work, implicit
            )
        if outcome == STATUS_OK:
            failed = second
            _, outcome = _imex_euler(
                kind, fingerprint, second, 0.5 * h, t + 0.5 * h, control, problem, work, implicit
            )
        if outcome == STATUS_NONFINITE:  # hand back the Euler step that went wrong
            copy_into(st.ua, failed.ua)
            copy_into(st.sa, failed.sa)
        if outcome != STATUS_OK:
            dt, status, retry = _failed_imex_step(outcome, limit, dt, control)
            rejected += retry
            if retry and status == STATUS_OK:
                continue
            break
        err = _extrapolate(st.ua, half.ua, st.u, control.rtol, control.atol, work.row_stats)
        for i in range(st.s.shape[0]):
            a, b = st.sa[i], half.sa[i]
            scale = control.atol + control.rtol * max(abs(b), abs(st.s[i]))
            err = max(err, abs(b - a) / scale)
            e = 2.0 * b - a
            st.sa[i] = b if e < 0.0 and b >= 0.0 else e
        if control.adaptive:
            factor = step_factor(err, 2)
            if err > 1.0:
                dt = h * factor
                rejected += 1
                status = underflow(dt, control)
                if status != STATUS_OK:
                    break
                continue
            dt = grown_step(h, dt, h * factor, limit)
        st, swapped = swap(st), not swapped
        t += h
        steps += 1
    restore(st, swapped, status)
    return t, dt, steps, rejected, status
