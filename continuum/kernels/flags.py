"""Compiler flags shared by every kernel.

No fast-math flags. Numba optimises a freshly compiled parallel kernel and one loaded from
its on-disk cache differently (numba issue #10617); with reassociation or FMA contraction
allowed, the two then round differently, and a run resumed in another process would not
reproduce the uninterrupted run bit for bit. Strict IEEE arithmetic makes every compilation
path give the same bits; NaN and Inf also stay visible to the blow-up check.
"""

FASTMATH = False
