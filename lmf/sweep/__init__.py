"""Sweeps: the paper's grids, resumable, on a laptop or a SLURM cluster.

``build_grid(name, profile, seeds)`` lists the configs; ``ensure(grid, launcher=...)`` trains
what is missing and returns the finished runs; ``status(grid)`` counts done/running/missing.
"""

from lmf.sweep.ensure import ensure, status
from lmf.sweep.grids import GRIDS, build_grid, settings_of
from lmf.sweep.launchers import LAUNCHERS

__all__ = ["GRIDS", "LAUNCHERS", "build_grid", "ensure", "settings_of", "status"]
