"""Compiler flags shared by every kernel.

Only value-safe fast-math flags: fused multiply-add contraction, reciprocal approximation of
division by constants is *not* enabled, and NaN/Inf stay visible (no ``nnan``/``ninf``), so
that the run loop can detect a blow-up.
"""

FASTMATH = {"contract", "nsz"}
