"""Run files: streaming HDF5 writer, lazy reader, checkpoints."""

from continuum.io.reader import RunFile, RunFileError, open_run

__all__ = ["RunFile", "RunFileError", "open_run"]
