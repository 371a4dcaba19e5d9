"""The seed's ``ParallelContinuumImager(config, cluster).run()``.

The seed grids row partitions of the visibilities on its workers and sums them. pclean's row
partitioning of continuum imaging (issue 16) is not built yet: this runs pclean's continuum path,
the whole ``mfs`` plane as one engine task on one worker of the cluster, using that worker's
``threads_per_worker`` threads (docs/migrating.md says what differs).
"""
from __future__ import annotations

from .cube_parallel import _full_config, _ImagerOnCluster


class ParallelContinuumImager(_ImagerOnCluster):
    """Image one continuum (``specmode='mfs'``) plane on a started ``DaskClusterManager``."""

    def run(self) -> dict:
        from .. import PcleanValueError
        from ..distributed.driver import run_distributed

        full = _full_config(self.config)
        if full.get("specmode") not in ("mfs", "cont"):
            raise PcleanValueError(
                f"ParallelContinuumImager images specmode='mfs'; specmode="
                f"{full.get('specmode')!r} is a cube: use ParallelCubeImager")
        return run_distributed(full, cluster=self.cluster.manager)
