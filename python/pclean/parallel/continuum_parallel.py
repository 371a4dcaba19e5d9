"""The seed's ``ParallelContinuumImager(config, cluster).run()``.

The seed grids row partitions of the visibilities on its workers and sums them; so does this,
through pclean's Dask driver (``run_distributed``, docs/distributed.md "Continuum: row
partitions"): one row partition per worker of the cluster (the seed's ``cluster.nworkers``), or
``row_partitions`` when the config sets it. Every gridding pass (weighting density, PSF, each major
cycle's residual) runs as one task per partition; this process sums the partials, normalises,
runs the minor cycle and sends the model back. Unlike the seed, the weighting density is summed
over all partitions before any partition weights its rows, so the products do not depend on the
number of workers. mfs and mtmfs (its Taylor terms are more partial images) run in row
partitions; a run the engine cannot partition by rows (a mosaic, awproject, for now) runs as one
engine task on one worker. The seed's per-partition tasks on the same partitions are
``pclean.utils.partition.partition_continuum`` and ``pclean.parallel.worker_tasks``.
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
