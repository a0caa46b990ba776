"""Array helpers for compiled code that compile quickly."""

from __future__ import annotations

from numba.core.errors import TypingError
from numba.extending import overload


def copy_into(dst, src):
    """``dst[...] = src`` for C-contiguous arrays of one size, as a flat loop (the slice
    assignment compiles Numba's shape-mismatch message formatting, about 2 s per
    process); a size mismatch raises ``ValueError``. Refused at compile time for arrays
    not typed C-contiguous, whose ``ravel`` would be a copy (compiled code only)."""
    raise NotImplementedError("only callable from compiled code")


@overload(copy_into)
def _copy_into(dst, src):
    if dst.layout != "C" or src.layout != "C":
        raise TypingError(f"copy_into needs C-contiguous arrays, got {dst} and {src}")

    def impl(dst, src):
        d = dst.ravel()
        s = src.ravel()
        if d.shape[0] != s.shape[0]:
            raise ValueError("copy_into: the arrays differ in size")
        for i in range(d.shape[0]):
            d[i] = s[i]

    return impl
