"""The run-file layout: names, version and chunking shared by the writer and the reader.

Format ``continuum-run``, version 3 (documented in ``docs/run-file-format.md``); every
dataset is chunked and carries HDF5's Fletcher-32 checksum filter::

    run.h5
    ├─ attrs   format, format_version, continuum_version, created, model, spec (JSON),
    │          solver (JSON), grid (JSON), seed, time_units="day", length_units="mm",
    │          frames (number of complete frames), checkpoint (name of the valid slot)
    ├─ x, y, z         cell centres [mm], dimension scales
    ├─ time            (frames,) [day], dimension scale, unlimited
    ├─ mask            (grid) uint8, only for masked grids
    ├─ fields/<name>   (time, *grid) float64, chunked <= 1 MiB, compressed
    ├─ series/<name>   (time,) float64
    ├─ sites/<site>/   a cascade's sites: series (time,) such as colonies, detectable,
    │                  burden, dormant; cohort_colonies, cohort_log_size and
    │                  cohort_edge_log_size (time, cohort); size_distribution (time,
    │                  size); axes cohort [day], size [cells]; time linked in
    └─ checkpoint_a, checkpoint_b   two slots: state, scalars, solver history; attrs t, dt,
                                    steps, rejected, frame; the root attribute ``checkpoint``
                                    names the last one written completely
"""

from __future__ import annotations

import numpy as np

FORMAT = "continuum-run"
# 2: cohorts of colonies carry log sizes (cell-level death moves them) instead of birth
# times; version-1 files still open. 3: every dataset carries a Fletcher-32 checksum;
# version-2 files (without) still open.
FORMAT_VERSION = 3
CHECKPOINT_SLOTS = ("checkpoint_a", "checkpoint_b")
MAX_CHUNK_BYTES = 1 << 20
COMPRESSIONS = ("gzip", "lzf", None)
GZIP_LEVEL = 1  # of the byte planes that compress (the writer stores the others)


def frame_chunks(shape: tuple[int, ...], itemsize: int = 8) -> tuple[int, ...]:
    """Chunk shape for a ``(time, *shape)`` dataset: one frame, split to <= 1 MiB.

    Leading spatial axes are halved until the chunk fits, so a chunk stays a contiguous
    block of whole rows where possible (fast to write, and to read slices of).
    """
    chunk = list(shape)
    axis = 0
    while int(np.prod(chunk)) * itemsize > MAX_CHUNK_BYTES:
        if chunk[axis] > 1:
            chunk[axis] = (chunk[axis] + 1) // 2
        else:
            axis += 1
    return (1, *chunk)


# Every dataset carries HDF5's Fletcher-32 checksum filter (per chunk), so a flipped bit
# is found on read instead of being read as a number. It needs chunked storage.
CHECKSUM = {"fletcher32": True}


def compression_options(compression) -> dict:
    """h5py dataset options for a compression choice (validated by the caller), with the
    checksum filter."""
    if compression == "gzip":
        return {"compression": "gzip", "compression_opts": GZIP_LEVEL, "shuffle": True, **CHECKSUM}
    if compression == "lzf":
        return {"compression": "lzf", "shuffle": True, **CHECKSUM}
    return dict(CHECKSUM)


def series_path(name: str) -> str:
    """Where series ``name`` lives: ``sites/<site>/...`` at the root, others in ``series/``."""
    return name if name.startswith("sites/") else f"series/{name}"


def is_lock_error(error: OSError) -> bool:
    """Whether opening a file failed on HDF5's lock (another process holds it open)."""
    return "unable to lock file" in str(error).lower() or isinstance(error, BlockingIOError)
