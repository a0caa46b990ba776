"""Run files: streaming HDF5 writer, lazy reader, checkpoints; files for ParaView."""

from continuum.io.reader import RunFile, RunFileError, open_run
from continuum.io.vtkhdf import export_vtkhdf
from continuum.io.xdmf import write_xdmf

__all__ = ["RunFile", "RunFileError", "export_vtkhdf", "open_run", "write_xdmf"]
