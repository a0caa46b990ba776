"""HDF5's Fletcher-32 checksum, for chunks the writer compresses and stores itself.

The filter (``H5Zfletcher32.c``, ``H5checksum.c``) appends to a chunk's bytes, after the
other filters, the 32-bit Fletcher checksum of its 16-bit big-endian words (an odd last
byte counts as the high byte of a word), with both sums folded back to 16 bits every 360
words, stored little-endian.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_LOW = np.uint32(0xFFFF)
_SHIFT = np.uint32(16)
_BYTE = np.uint32(8)


@njit(cache=True, nogil=True)
def fletcher32(data):
    """Fletcher-32 of the bytes ``data`` (a ``uint8`` array), as HDF5 computes it."""
    words = data.shape[0] // 2
    sum1 = np.uint32(0)
    sum2 = np.uint32(0)
    i = 0
    while words:
        block = min(words, 360)
        words -= block
        for _ in range(block):
            sum1 += (np.uint32(data[i]) << _BYTE) | np.uint32(data[i + 1])
            sum2 += sum1
            i += 2
        sum1 = (sum1 & _LOW) + (sum1 >> _SHIFT)
        sum2 = (sum2 & _LOW) + (sum2 >> _SHIFT)
    if data.shape[0] % 2:
        sum1 += np.uint32(data[i]) << _BYTE
        sum2 += sum1
        sum1 = (sum1 & _LOW) + (sum1 >> _SHIFT)
        sum2 = (sum2 & _LOW) + (sum2 >> _SHIFT)
    sum1 = (sum1 & _LOW) + (sum1 >> _SHIFT)
    sum2 = (sum2 & _LOW) + (sum2 >> _SHIFT)
    return (sum2 << _SHIFT) | sum1


def with_checksum(chunk: bytes) -> bytes:
    """``chunk`` followed by its Fletcher-32 checksum, as the HDF5 filter stores it."""
    value = int(fletcher32(np.frombuffer(chunk, dtype=np.uint8)))
    return chunk + value.to_bytes(4, "little")
