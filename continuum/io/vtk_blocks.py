"""What of a run file ParaView and VTK show: one block per tissue grid.

A run's own grid is the block ``"tissue"`` (its fields, static maps and mask); each spatial
secondary site of a cascade is a block ``"site <name>"`` on the site's own grid (its tissue
fields and vessel maps). The XDMF sidecar and the VTKHDF export both write these blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

from continuum.grid import Grid
from continuum.io.reader import RunFile


@dataclass(frozen=True)
class Block:
    """One tissue grid of a run and the arrays on it.

    Attributes
    ----------
    name : ``"tissue"`` or ``"site <name>"``.
    group : where the block's arrays go in an output file (``tissue``, ``sites/<name>``).
    grid : the grid; values are cell-centred, ``grid.origin`` [mm] is the lower corner.
    fields : array name -> run-file dataset ``(time, *grid.shape)`` (one value per frame).
    static : array name -> run-file dataset ``grid.shape`` (static maps, the mask).
    """

    name: str
    group: str
    grid: Grid
    fields: dict[str, str]
    static: dict[str, str]


def vtk_blocks(run: RunFile) -> list[Block]:
    """The blocks of ``run`` that hold at least one array on a grid."""
    from continuum.models.cascade import Cascade

    static = {name: f"maps/{name}" for name in run.map_names}
    if run.grid.mask is not None:
        static["mask"] = "mask"
    blocks = [
        Block("tissue", "tissue", run.grid, {n: f"fields/{n}" for n in run.field_names}, static)
    ]
    model = run.model
    if isinstance(model, Cascade):
        for site in model.sites:
            if site.grid is None:
                continue
            group = f"sites/{site.name}"
            blocks.append(
                Block(
                    f"site {site.name}",
                    group,
                    site.grid,
                    {n: f"{group}/{n}" for n in site.model.field_names},
                    {n: f"{group}/maps/{n}" for n in site.model.map_names},
                )
            )
    return [block for block in blocks if block.fields or block.static]
