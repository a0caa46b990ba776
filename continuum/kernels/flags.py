"""Compiler flags shared by every kernel.

Only fast-math flags that keep NaN and Inf visible (no ``nnan``/``ninf``), so that the run
loop can detect a blow-up: fused multiply-add contraction, reassociation (lets reductions
vectorise; results stay deterministic for a given build) and no signed zeros.
"""

FASTMATH = {"contract", "nsz", "reassoc"}
