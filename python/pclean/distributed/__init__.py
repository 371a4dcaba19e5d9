"""Distributed imaging with Dask: a local cluster, SLURM (dask-jobqueue) or an existing scheduler.

`run_distributed(config)` is what `pclean.pclean(..., parallel=True)` and
`pclean image --parallel` call; `python -m pclean.distributed --config FILE` runs it from a shell.
See docs/distributed.md.
"""
from .cluster import DaskClusterManager, WorkerTimeoutError
from .driver import BlockTooLargeError, run_distributed
from .options import PARALLEL_KEYS, ParallelConfigError, ParallelOptions, split_config

__all__ = [
    "BlockTooLargeError", "DaskClusterManager", "PARALLEL_KEYS", "ParallelConfigError",
    "ParallelOptions", "WorkerTimeoutError", "run_distributed", "split_config",
]
